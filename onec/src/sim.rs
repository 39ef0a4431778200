//! A simulator of a small 1C:Enterprise base (feature `sim`): the standard OData interface and HTTP
//! services of one publication, on loopback.
//!
//! What it models (reference §7, §10):
//!
//! * `/<publication>/odata/standard.odata/…` with HTTP Basic auth (401 with a `Basic` challenge),
//!   Cyrillic, percent-encoded entity sets of a trade configuration (counterparties, contracts, items,
//!   price types, bank accounts, price lists, orders, invoices, sales, bank payments, the price
//!   register), GUID keys (`guid'…'`) and register keys (`Field=value,…`).
//! * JSON with `$format=json` or `Accept: application/json` (Atom otherwise), the service document and an
//!   EDMX `$metadata` generated from the schema.
//! * `$filter` parsed properly (`eq ne gt ge lt le and or not`, `substringof`/`startswith`/`endswith`,
//!   `'…'` with doubled quotes, `guid'…'`, `datetime'…'`, numbers, booleans, `null`), string comparisons
//!   ignoring case as 1C's queries do; `$select`, `$expand` (one level, by `…_Key` references),
//!   `$orderby`, `$top`, `$skip`, `$inlinecount=allpages` (`odata.count` as a string, as OData v3 writes
//!   it), `/$count`, navigation links (`…@navigationLinkUrl`).
//! * Writes like 1C: `POST` → 201 with the stored entity (`Ref_Key`, `Code`/`Number`, `DataVersion`
//!   filled), `PATCH` (a tabular section in the body replaces the section), `DELETE`, unknown properties
//!   and mistyped values refused, tabular-section rows only inside their document (error 13 on the row
//!   set), rows without `LineNumber` answered with the internal error `-1`, as a real base does.
//! * Posting: `…/Post?PostingModeOperational=…` and `…/Unpost`. Operational posting of a back-dated
//!   document fails, documents marked for deletion cannot be posted, posting can be refused per set (as
//!   missing rights do), and posting a price list writes the price register (unposting removes it).
//! * A clock (each write one second later by default) and change tracking: a field of a set that every
//!   write stamps, for delta sync (`ДатаИзменения` in many configurations).
//! * `/<publication>/hs/<root>/…`: HTTP services the test registers.
//! * Faults: core's [`Faults`] queue for any request, and [`WriteFault`]s for the next write (an answer
//!   lost after the write was applied, or before; the internal error).
//!
//! Error codes: 13 and -1 are documented; the others this simulator answers are assumed and listed in
//! one place, [`codes`].

mod expr;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};
use switchboard_core::secret::ct_eq;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_status};

use crate::entity::Kind;
use crate::filter::DATETIME_FORMAT;
use crate::guid::Guid;
use crate::model::onec_date;

use expr::{Expr, matches, order_json, parse, parse_key};

/// The `odata.error` codes and texts this simulator answers.
///
/// [?] Only `13` and `-1` (and their texts) are documented (reference §7.2, forum bodies). The rest are
/// assumptions: the status follows OData practice and the texts are plausible. Kept here, in one place.
pub mod codes {
    /// Creating tabular-section rows on their own set (documented; the first letter is a Latin C in
    /// 1C's own text, kept as it is).
    pub const TABULAR_ROWS: (u16, &str, &str) =
        (400, "13", "Cоздание строк табличной части напрямую не поддерживается");
    /// The internal error (documented).
    pub const INTERNAL: (u16, &str, &str) = (
        500,
        "-1",
        "Произошла внутренняя ошибка OData сервиса. Дополнительные сведения можно найти в технологическом журнале.",
    );
    /// [?] No entity with this key (code seen in a public test fixture).
    pub const NOT_FOUND: (u16, &str, &str) = (404, "9", "Экземпляр сущности не найден");
    /// [?] The URL names no published entity set or operation.
    pub const BAD_SEGMENT: (u16, &str, &str) = (400, "6", "Неправильный сегмент URL");
    /// [?] A query option could not be parsed or names an unknown field.
    pub const BAD_QUERY: (u16, &str, &str) = (400, "14", "Ошибка разбора параметра запроса");
    /// [?] The body has an unknown property or a value of the wrong type.
    pub const BAD_VALUE: (u16, &str, &str) = (400, "15", "Неверное значение свойства");
    /// [?] A write to a register subordinate to a recorder.
    pub const READ_ONLY: (u16, &str, &str) = (400, "16", "Запись в набор, подчиненный регистратору, не поддерживается");
}

/// What happens to the next write (`POST`, `PATCH`, `DELETE`, posting) of the OData interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteFault {
    /// The write is applied, but its answer comes only after this long (past the client's timeout, the
    /// client cannot know it landed).
    ApplyThenDelay(Duration),
    /// The write is not applied, and the answer (the internal error) comes only after this long.
    DelayWithoutApplying(Duration),
    /// The write is not applied; 1C answers 500 with code `-1`.
    InternalError,
}

/// The simulator's publication and infobase user.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The infobase user.
    pub user: String,
    /// Its password.
    pub password: String,
    /// The publication path (without slashes).
    pub publication: String,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            user: "odata.user".to_owned(),
            password: "sim-password".to_owned(),
            publication: "base".to_owned(),
        }
    }
}

/// A call to a simulated HTTP service.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HsCall {
    /// The HTTP method.
    pub method: String,
    /// The path after the service root, decoded, without a leading `/` (`orders/ЗК-1/status`).
    pub path: String,
    /// The query parameters, decoded.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HsCall {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A simulated HTTP service's answer (JSON).
#[derive(Debug, Clone)]
pub struct HsAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Value,
}

impl HsAnswer {
    /// An answer with this status and JSON body.
    pub fn json(status: u16, body: Value) -> HsAnswer {
        HsAnswer { status, body }
    }
}

/// A simulated HTTP service: the handler of one root URL.
pub type HsHandler = Arc<dyn Fn(&HsCall) -> HsAnswer + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Guid,
    Num,
    Bool,
    Date,
}

impl Ty {
    fn default_value(self) -> Value {
        match self {
            Ty::Str => json!(""),
            Ty::Guid => json!(Guid::NIL.to_string()),
            Ty::Num => json!(0),
            Ty::Bool => json!(false),
            Ty::Date => json!(onec_date::EMPTY),
        }
    }

    fn edm(self) -> &'static str {
        match self {
            Ty::Str => "Edm.String",
            Ty::Guid => "Edm.Guid",
            Ty::Num => "Edm.Double",
            Ty::Bool => "Edm.Boolean",
            Ty::Date => "Edm.DateTime",
        }
    }

    /// The value as stored, or `None` when it is not of this type.
    fn check(self, v: &Value) -> Option<Value> {
        match (self, v) {
            (Ty::Str, Value::String(_)) | (Ty::Num, Value::Number(_)) | (Ty::Bool, Value::Bool(_)) => Some(v.clone()),
            (Ty::Guid, Value::String(s)) => Guid::parse(s).ok().map(|g| json!(g.to_string())),
            (Ty::Date, Value::String(s)) if s == onec_date::EMPTY => Some(v.clone()),
            (Ty::Date, Value::String(s)) => onec_date::parse(s).map(|t| json!(t.format(DATETIME_FORMAT).to_string())),
            _ => None,
        }
    }
}

type Fields = Vec<(String, Ty)>;

/// A set of the schema: name, kind, own fields, tabular sections, read-only.
type SetDef = (&'static str, Kind, Fields, Vec<(String, Fields)>, bool);

/// Rows and the field names they may have.
type Rows = (Vec<Map<String, Value>>, Vec<String>);

#[derive(Debug)]
struct SetState {
    kind: Kind,
    fields: Fields,
    sections: Vec<(String, Fields)>,
    records: Vec<Map<String, Value>>,
    counter: u64,
    read_only: bool,
}

impl SetState {
    fn field_type(&self, name: &str) -> Option<Ty> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    }

    fn section(&self, name: &str) -> Option<&Fields> {
        self.sections.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }
}

fn std_fields(kind: Kind) -> Fields {
    let list: &[(&str, Ty)] = match kind {
        Kind::Catalog => &[
            ("Ref_Key", Ty::Guid),
            ("DataVersion", Ty::Str),
            ("DeletionMark", Ty::Bool),
            ("Code", Ty::Str),
            ("Description", Ty::Str),
            ("Parent_Key", Ty::Guid),
            ("IsFolder", Ty::Bool),
            ("Predefined", Ty::Bool),
            ("PredefinedDataName", Ty::Str),
        ],
        Kind::Document => &[
            ("Ref_Key", Ty::Guid),
            ("DataVersion", Ty::Str),
            ("DeletionMark", Ty::Bool),
            ("Number", Ty::Str),
            ("Date", Ty::Date),
            ("Posted", Ty::Bool),
        ],
        _ => &[
            ("Period", Ty::Date),
            ("Recorder", Ty::Str),
            ("Recorder_Type", Ty::Str),
            ("LineNumber", Ty::Str),
            ("Active", Ty::Bool),
        ],
    };
    list.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect()
}

fn fields(list: &[(&str, Ty)]) -> Fields {
    list.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect()
}

const PRICE_LIST: &str = "Document_УстановкаЦенНоменклатуры";
const PRICE_REGISTER: &str = "InformationRegister_ЦеныНоменклатуры";

/// The configuration: the objects of a small trade base (names as in БП 3.0 / УТ 11).
fn schema() -> Vec<(String, SetState)> {
    use Ty::*;
    let rows = fields(&[
        ("Номенклатура_Key", Guid),
        ("Количество", Num),
        ("Цена", Num),
        ("Сумма", Num),
        ("СтавкаНДС", Str),
        ("СуммаНДС", Num),
    ]);
    let mut services = rows.clone();
    services.push(("Содержание".into(), Str));
    let sales_header = fields(&[
        ("Организация_Key", Guid),
        ("Контрагент_Key", Guid),
        ("ДоговорКонтрагента_Key", Guid),
        ("СуммаДокумента", Num),
        ("Комментарий", Str),
    ]);
    let payment_header = fields(&[
        ("ВидОперации", Str),
        ("Организация_Key", Guid),
        ("СчетОрганизации_Key", Guid),
        ("Контрагент_Key", Guid),
        ("СуммаДокумента", Num),
        ("НазначениеПлатежа", Str),
        ("НомерВходящегоДокумента", Str),
        ("ДатаВходящегоДокумента", Date),
        ("Комментарий", Str),
    ]);
    let breakdown = fields(&[
        ("ДоговорКонтрагента_Key", Guid),
        ("СуммаПлатежа", Num),
        ("СтавкаНДС", Str),
        ("СуммаНДС", Num),
    ]);
    let mut order_header = sales_header.clone();
    order_header.push(("Статус".into(), Str));
    let defs: Vec<SetDef> = vec![
        (
            "Catalog_Организации",
            Kind::Catalog,
            fields(&[("НаименованиеПолное", Str), ("ИНН", Str), ("КПП", Str)]),
            vec![],
            false,
        ),
        (
            "Catalog_Валюты",
            Kind::Catalog,
            fields(&[("НаименованиеПолное", Str)]),
            vec![],
            false,
        ),
        ("Catalog_ТипыЦенНоменклатуры", Kind::Catalog, vec![], vec![], false),
        (
            "Catalog_БанковскиеСчета",
            Kind::Catalog,
            fields(&[("Owner_Key", Guid), ("НомерСчета", Str)]),
            vec![],
            false,
        ),
        (
            "Catalog_Контрагенты",
            Kind::Catalog,
            fields(&[
                ("НаименованиеПолное", Str),
                ("ИНН", Str),
                ("КПП", Str),
                ("ЮридическоеФизическоеЛицо", Str),
                ("Комментарий", Str),
            ]),
            vec![],
            false,
        ),
        (
            "Catalog_ДоговорыКонтрагентов",
            Kind::Catalog,
            fields(&[
                ("Owner_Key", Guid),
                ("Организация_Key", Guid),
                ("ВидДоговора", Str),
                ("Номер", Str),
                ("Дата", Date),
                ("ВалютаВзаиморасчетов_Key", Guid),
                ("Комментарий", Str),
            ]),
            vec![],
            false,
        ),
        (
            "Catalog_Номенклатура",
            Kind::Catalog,
            fields(&[
                ("НаименованиеПолное", Str),
                ("Артикул", Str),
                ("ЕдиницаИзмерения_Key", Guid),
                ("Услуга", Bool),
                ("СтавкаНДС", Str),
                ("Комментарий", Str),
            ]),
            vec![],
            false,
        ),
        (
            PRICE_LIST,
            Kind::Document,
            fields(&[("ТипЦен_Key", Guid), ("Комментарий", Str)]),
            vec![("Товары".into(), fields(&[("Номенклатура_Key", Guid), ("Цена", Num)]))],
            false,
        ),
        (
            PRICE_REGISTER,
            Kind::InformationRegister,
            fields(&[("Номенклатура_Key", Guid), ("ТипЦен_Key", Guid), ("Цена", Num)]),
            vec![],
            true,
        ),
        (
            "Document_ЗаказКлиента",
            Kind::Document,
            order_header,
            vec![("Товары".into(), rows.clone()), ("Услуги".into(), services.clone())],
            false,
        ),
        (
            "Document_СчетНаОплатуПокупателю",
            Kind::Document,
            sales_header.clone(),
            vec![("Товары".into(), rows.clone()), ("Услуги".into(), services.clone())],
            false,
        ),
        (
            "Document_РеализацияТоваровУслуг",
            Kind::Document,
            sales_header,
            vec![("Товары".into(), rows), ("Услуги".into(), services)],
            false,
        ),
        (
            "Document_ПоступлениеНаРасчетныйСчет",
            Kind::Document,
            payment_header.clone(),
            vec![("РасшифровкаПлатежа".into(), breakdown.clone())],
            false,
        ),
        (
            "Document_СписаниеСРасчетногоСчета",
            Kind::Document,
            payment_header,
            vec![("РасшифровкаПлатежа".into(), breakdown)],
            false,
        ),
    ];
    defs.into_iter()
        .map(|(name, kind, own, sections, read_only)| {
            let mut all = std_fields(kind);
            all.extend(own);
            (
                name.to_owned(),
                SetState {
                    kind,
                    fields: all,
                    sections,
                    records: Vec::new(),
                    counter: 0,
                    read_only,
                },
            )
        })
        .collect()
}

/// The set a reference attribute points to, for navigation links and `$expand`.
fn ref_target(set: &str, field: &str) -> Option<String> {
    let t = match field {
        "Контрагент_Key" => "Catalog_Контрагенты",
        "Организация_Key" => "Catalog_Организации",
        "ДоговорКонтрагента_Key" => "Catalog_ДоговорыКонтрагентов",
        "Номенклатура_Key" => "Catalog_Номенклатура",
        "ТипЦен_Key" => "Catalog_ТипыЦенНоменклатуры",
        "СчетОрганизации_Key" => "Catalog_БанковскиеСчета",
        "ВалютаВзаиморасчетов_Key" => "Catalog_Валюты",
        "Owner_Key" if set == "Catalog_ДоговорыКонтрагентов" => "Catalog_Контрагенты",
        "Owner_Key" if set == "Catalog_БанковскиеСчета" => "Catalog_Организации",
        "Parent_Key" => set,
        _ => return None,
    };
    Some(t.to_owned())
}

/// A refusal, turned into an answer at the end (kept small: answers are large values).
#[derive(Debug)]
enum Fail {
    /// An `odata.error` body.
    OData {
        status: u16,
        code: &'static str,
        text: String,
    },
    /// A plain-text answer (what the web server says before 1C is involved).
    Plain { status: u16, text: &'static str },
}

impl Fail {
    fn response(self) -> ResponseTemplate {
        match self {
            Fail::OData { status, code, text } => json_status(
                status,
                &json!({"odata.error": {"code": code, "message": {"lang": "ru", "value": text}}}),
            ),
            Fail::Plain { status, text } => ResponseTemplate::new(status).set_body_string(text),
        }
    }
}

type Reply = Result<ResponseTemplate, Fail>;

fn odata_error(code: (u16, &'static str, &'static str)) -> Fail {
    odata_error_text(code, code.2)
}

fn odata_error_text(code: (u16, &'static str, &'static str), text: &str) -> Fail {
    Fail::OData {
        status: code.0,
        code: code.1,
        text: text.to_owned(),
    }
}

struct State {
    opts: SimOptions,
    base_url: String,
    sets: BTreeMap<String, SetState>,
    clock: NaiveDateTime,
    step: chrono::Duration,
    guid_seq: u64,
    version_seq: u64,
    write_faults: VecDeque<WriteFault>,
    tracked: HashMap<String, String>,
    refuse_posting: HashSet<String>,
    services: HashMap<String, HsHandler>,
    writes: usize,
    data_load_writes: usize,
    organization: Guid,
    bank_account: Guid,
    price_type: Guid,
    currency: Guid,
}

fn start_clock() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 3, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .unwrap_or_default()
}

impl State {
    fn new(opts: SimOptions) -> State {
        let mut st = State {
            opts,
            base_url: String::new(),
            sets: schema().into_iter().collect(),
            clock: start_clock(),
            step: chrono::Duration::seconds(1),
            guid_seq: 0,
            version_seq: 0,
            write_faults: VecDeque::new(),
            tracked: HashMap::new(),
            refuse_posting: HashSet::new(),
            services: HashMap::new(),
            writes: 0,
            data_load_writes: 0,
            organization: Guid::NIL,
            bank_account: Guid::NIL,
            price_type: Guid::NIL,
            currency: Guid::NIL,
        };
        st.organization = st.seed_internal(
            "Catalog_Организации",
            json!({"Description": "ООО «Свитчборд»", "НаименованиеПолное": "Общество с ограниченной ответственностью «Свитчборд»",
                   "ИНН": "7701234567", "КПП": "770101001"}),
        );
        st.currency = st.seed_internal(
            "Catalog_Валюты",
            json!({"Code": "643", "Description": "руб.", "НаименованиеПолное": "Российский рубль"}),
        );
        st.price_type = st.seed_internal("Catalog_ТипыЦенНоменклатуры", json!({"Description": "Розничная"}));
        let org = st.organization.to_string();
        st.bank_account = st.seed_internal(
            "Catalog_БанковскиеСчета",
            json!({"Description": "Основной счет", "Owner_Key": org, "НомерСчета": "40702810900000000001"}),
        );
        st
    }

    fn seed_internal(&mut self, set: &str, body: Value) -> Guid {
        let Value::Object(body) = body else {
            return Guid::NIL;
        };
        match self.insert(set, body) {
            Ok(rec) => rec
                .get("Ref_Key")
                .and_then(Value::as_str)
                .and_then(|s| Guid::parse(s).ok())
                .unwrap_or(Guid::NIL),
            Err(_) => Guid::NIL,
        }
    }

    fn new_guid(&mut self) -> Guid {
        self.guid_seq += 1;
        // Shaped like 1C's time-based GUIDs (version 1, the same node for the whole base).
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&(0x5a00_0000u32.wrapping_add(self.guid_seq as u32)).to_be_bytes());
        b[4..6].copy_from_slice(&0x9f3au16.to_be_bytes());
        b[6..8].copy_from_slice(&0x11eeu16.to_be_bytes());
        b[8..10].copy_from_slice(&0x8b5cu16.to_be_bytes());
        b[10..].copy_from_slice(&[0x00, 0x50, 0x56, 0x9a, 0x1c, 0x2d]);
        Guid::from_bytes(b)
    }

    fn new_version(&mut self) -> String {
        self.version_seq += 1;
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&(self.version_seq as u32).to_be_bytes());
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    fn tick(&mut self) -> NaiveDateTime {
        let now = self.clock;
        self.clock += self.step;
        now
    }

    fn now_string(&self) -> String {
        self.clock.format(DATETIME_FORMAT).to_string()
    }

    // ---- request routing ----------------------------------------------------------------------

    fn handle(&mut self, req: &Request) -> Routed {
        let Ok(path) = percent_encoding::percent_decode_str(req.url.path()).decode_utf8() else {
            return Routed::Done(odata_error(codes::BAD_SEGMENT).response());
        };
        let path = path.into_owned();
        let prefix = format!("/{}", self.opts.publication);
        let Some(rest) = path.strip_prefix(&prefix) else {
            return Routed::Done(ResponseTemplate::new(404).set_body_string("Not Found"));
        };
        if !self.authorized(req) {
            return Routed::Done(
                ResponseTemplate::new(401)
                    .insert_header("www-authenticate", "Basic realm=\"1C:Enterprise\"")
                    .set_body_string(""),
            );
        }
        if let Some(hs) = rest.strip_prefix("/hs/") {
            return self.http_service(req, hs);
        }
        if let Some(od) = rest.strip_prefix("/odata/standard.odata") {
            return Routed::Done(self.odata(req, od).unwrap_or_else(Fail::response));
        }
        Routed::Done(ResponseTemplate::new(404).set_body_string("Not Found"))
    }

    fn authorized(&self, req: &Request) -> bool {
        let Some(h) = req.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some(b64) = h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic ")) else {
            return false;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
            return false;
        };
        let Ok(text) = String::from_utf8(raw) else {
            return false;
        };
        let Some((user, pass)) = text.split_once(':') else {
            return false;
        };
        user == self.opts.user && ct_eq(pass.as_bytes(), self.opts.password.as_bytes())
    }

    fn http_service(&self, req: &Request, rest: &str) -> Routed {
        let (root, path) = rest.split_once('/').unwrap_or((rest, ""));
        let Some(handler) = self.services.get(root).cloned() else {
            return Routed::Done(ResponseTemplate::new(404).set_body_string("Not Found"));
        };
        let call = HsCall {
            method: req.method.to_string(),
            path: path.to_owned(),
            query: req
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            body: req.body.clone(),
        };
        Routed::Service(handler, call)
    }

    fn odata(&mut self, req: &Request, rest: &str) -> Reply {
        let rest = rest.trim_start_matches('/');
        let params: HashMap<String, String> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let method = req.method.as_str().to_ascii_uppercase();
        let wants_json = params
            .get("$format")
            .is_some_and(|f| f == "json" || f.starts_with("application/json"))
            || req
                .headers
                .get("accept")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("application/json"));
        if rest.is_empty() {
            return Ok(self.service_document(wants_json));
        }
        if rest == "$metadata" {
            return Ok(ResponseTemplate::new(200).set_body_raw(self.edmx(), "application/xml"));
        }
        let (set, key, action) = split_resource(rest).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        if method == "GET" && !wants_json {
            return Ok(ResponseTemplate::new(200).set_body_raw(
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{set}</title></feed>"),
                "application/atom+xml",
            ));
        }
        let is_write = matches!(method.as_str(), "POST" | "PATCH" | "MERGE" | "PUT" | "DELETE");
        let fault = if is_write { self.write_faults.pop_front() } else { None };
        match fault {
            Some(WriteFault::InternalError) => return Err(odata_error(codes::INTERNAL)),
            Some(WriteFault::DelayWithoutApplying(d)) => {
                return Ok(odata_error(codes::INTERNAL).response().set_delay(d));
            }
            _ => {}
        }
        let key = match key {
            Some(k) => Some(parse_key(&k).map_err(|e| odata_error_text(codes::BAD_SEGMENT, &e))?),
            None => None,
        };
        let result = match (method.as_str(), key, action.as_deref()) {
            ("GET", None, None) => self.list(&set, &params),
            ("GET", None, Some("$count")) => self.count(&set, &params),
            ("GET", Some(k), None) => self.get_one(&set, &k, &params),
            ("POST", None, None) => self.create(&set, &req.body),
            ("PATCH" | "MERGE", Some(k), None) => self.patch(&set, &k, &req.body),
            ("DELETE", Some(k), None) => self.delete(&set, &k),
            ("POST", Some(k), Some("Post")) => {
                let operational = params
                    .get("PostingModeOperational")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                self.post(&set, &k, operational)
            }
            ("POST", Some(k), Some("Unpost")) => self.unpost(&set, &k),
            (_, _, Some(_)) => Err(odata_error(codes::BAD_SEGMENT)),
            _ => Err(Fail::Plain {
                status: 405,
                text: "Method Not Allowed",
            }),
        };
        if is_write && result.is_ok() {
            self.writes += 1;
            if req
                .headers
                .get("1C_OData_DataLoadMode")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            {
                self.data_load_writes += 1;
            }
        }
        match fault {
            Some(WriteFault::ApplyThenDelay(d)) => Ok(result.unwrap_or_else(Fail::response).set_delay(d)),
            _ => result,
        }
    }

    fn service_document(&self, json: bool) -> ResponseTemplate {
        if !json {
            return ResponseTemplate::new(200).set_body_raw(
                "<service xmlns=\"http://www.w3.org/2007/app\"><workspace/></service>",
                "application/atomsvc+xml",
            );
        }
        let value: Vec<Value> = self.sets.keys().map(|n| json!({"name": n, "url": n})).collect();
        json_status(
            200,
            &json!({"odata.metadata": format!("{}/$metadata", self.odata_root()), "value": value}),
        )
    }

    fn odata_root(&self) -> String {
        format!("{}/{}/odata/standard.odata", self.base_url, self.opts.publication)
    }

    fn edmx(&self) -> String {
        let mut types = String::new();
        let mut sets = String::new();
        let mut entity_type = |name: &str, key: &[&str], fields: &Fields| {
            types.push_str(&format!("<EntityType Name=\"{name}\"><Key>"));
            for k in key {
                types.push_str(&format!("<PropertyRef Name=\"{k}\"/>"));
            }
            types.push_str("</Key>");
            for (f, t) in fields {
                types.push_str(&format!("<Property Name=\"{f}\" Type=\"{}\"/>", t.edm()));
            }
            types.push_str("</EntityType>");
            sets.push_str(&format!(
                "<EntitySet Name=\"{name}\" EntityType=\"StandardODATA.{name}\"/>"
            ));
        };
        for (name, s) in &self.sets {
            let key: &[&str] = if s.kind.has_ref_key() {
                &["Ref_Key"]
            } else {
                &["Recorder", "LineNumber"]
            };
            entity_type(name, key, &s.fields);
            for (section, cols) in &s.sections {
                let mut all = vec![("Ref_Key".to_owned(), Ty::Guid), ("LineNumber".to_owned(), Ty::Str)];
                all.extend(cols.iter().cloned());
                entity_type(&format!("{name}_{section}"), &["Ref_Key", "LineNumber"], &all);
            }
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><edmx:Edmx xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\" Version=\"1.0\">\
             <edmx:DataServices xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" m:DataServiceVersion=\"3.0\">\
             <Schema xmlns=\"http://schemas.microsoft.com/ado/2009/11/edm\" Namespace=\"StandardODATA\">{types}\
             <EntityContainer Name=\"EnterpriseV8\" m:IsDefaultEntityContainer=\"true\">{sets}</EntityContainer></Schema>\
             </edmx:DataServices></edmx:Edmx>"
        )
    }

    // ---- reads ----------------------------------------------------------------------------------

    /// The rows a set shows: its records, or for a tabular-section set every row of every document.
    fn rows_of(&self, set: &str) -> Result<Rows, Fail> {
        if let Some(s) = self.sets.get(set) {
            let mut names: Vec<String> = s.fields.iter().map(|(n, _)| n.clone()).collect();
            names.extend(s.sections.iter().map(|(n, _)| n.clone()));
            return Ok((s.records.clone(), names));
        }
        let (owner, section) = self.split_section(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        let s = self.sets.get(&owner).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        let cols = s.section(&section).cloned().unwrap_or_default();
        let mut names = vec!["Ref_Key".to_owned(), "LineNumber".to_owned()];
        names.extend(cols.iter().map(|(n, _)| n.clone()));
        let rows = s
            .records
            .iter()
            .flat_map(|r| match r.get(&section) {
                Some(Value::Array(rows)) => rows.iter().filter_map(|r| r.as_object().cloned()).collect(),
                _ => Vec::new(),
            })
            .collect();
        Ok((rows, names))
    }

    /// `Document_X_Section` → (`Document_X`, `Section`) when that section exists.
    fn split_section(&self, set: &str) -> Option<(String, String)> {
        self.sets.iter().find_map(|(name, s)| {
            let section = set.strip_prefix(name.as_str())?.strip_prefix('_')?;
            s.section(section).map(|_| (name.clone(), section.to_owned()))
        })
    }

    fn filtered(&self, set: &str, params: &HashMap<String, String>) -> Result<Vec<Map<String, Value>>, Fail> {
        let (rows, names) = self.rows_of(set)?;
        let Some(f) = params.get("$filter") else {
            return Ok(rows);
        };
        let e = parse(f).map_err(|e| odata_error_text(codes::BAD_QUERY, &e))?;
        check_fields(&e, &names).map_err(|e| odata_error_text(codes::BAD_QUERY, &e))?;
        let mut out = Vec::new();
        for r in rows {
            if matches(&e, &r).map_err(|e| odata_error_text(codes::BAD_QUERY, &e))? {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn list(&self, set: &str, params: &HashMap<String, String>) -> Reply {
        let mut rows = self.filtered(set, params)?;
        if let Some(ob) = params.get("$orderby") {
            let mut keys = Vec::new();
            for part in ob.split(',') {
                let mut words = part.split_whitespace();
                let (Some(f), dir) = (words.next(), words.next()) else {
                    return Err(odata_error(codes::BAD_QUERY));
                };
                let desc = match dir {
                    None | Some("asc") => false,
                    Some("desc") => true,
                    Some(_) => return Err(odata_error(codes::BAD_QUERY)),
                };
                keys.push((f.to_owned(), desc));
            }
            rows.sort_by(|a, b| {
                for (f, desc) in &keys {
                    let o = order_json(a.get(f), b.get(f));
                    let o = if *desc { o.reverse() } else { o };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        let count = rows.len();
        let num = |k: &str| -> Result<Option<usize>, Fail> {
            match params.get(k) {
                None => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|_| odata_error(codes::BAD_QUERY)),
            }
        };
        let skip = num("$skip")?.unwrap_or(0);
        let top = num("$top")?;
        let page: Vec<Map<String, Value>> = rows.into_iter().skip(skip).take(top.unwrap_or(usize::MAX)).collect();
        let mut value = Vec::with_capacity(page.len());
        for r in page {
            value.push(self.render(set, r, params)?);
        }
        let mut body = Map::new();
        body.insert(
            "odata.metadata".into(),
            json!(format!("{}/$metadata#{set}", self.odata_root())),
        );
        if let Some(ic) = params.get("$inlinecount") {
            match ic.as_str() {
                "allpages" => {
                    body.insert("odata.count".into(), json!(count.to_string()));
                }
                "none" => {}
                _ => return Err(odata_error(codes::BAD_QUERY)),
            }
        }
        body.insert("value".into(), Value::Array(value));
        Ok(json_status(200, &Value::Object(body)))
    }

    fn count(&self, set: &str, params: &HashMap<String, String>) -> Reply {
        let n = self.filtered(set, params)?.len();
        Ok(ResponseTemplate::new(200).set_body_raw(n.to_string(), "text/plain"))
    }

    fn find_index(&self, set: &str, key: &Expr) -> Result<usize, Fail> {
        let s = self.sets.get(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        for (i, r) in s.records.iter().enumerate() {
            match matches(key, r) {
                Ok(true) => return Ok(i),
                Ok(false) => {}
                Err(e) => return Err(odata_error_text(codes::BAD_SEGMENT, &e)),
            }
        }
        Err(odata_error(codes::NOT_FOUND))
    }

    fn get_one(&self, set: &str, key: &Expr, params: &HashMap<String, String>) -> Reply {
        let i = self.find_index(set, key)?;
        let rec = self
            .sets
            .get(set)
            .and_then(|s| s.records.get(i))
            .cloned()
            .unwrap_or_default();
        let v = self.render(set, rec, params)?;
        Ok(json_status(200, &self.element(set, v)))
    }

    fn element(&self, set: &str, mut v: Value) -> Value {
        if let Value::Object(m) = &mut v {
            m.insert(
                "odata.metadata".into(),
                json!(format!("{}/$metadata#{set}/@Element", self.odata_root())),
            );
        }
        v
    }

    /// An entity as the interface shows it: navigation links, `$expand`, `$select`.
    fn render(&self, set: &str, mut rec: Map<String, Value>, params: &HashMap<String, String>) -> Result<Value, Fail> {
        let self_link = rec
            .get("Ref_Key")
            .and_then(Value::as_str)
            .map(|g| format!("{set}(guid'{g}')"));
        let nav: Vec<(String, String)> = rec
            .keys()
            .filter(|k| k.as_str() != "Ref_Key")
            .filter_map(|k| {
                let name = k.strip_suffix("_Key")?;
                ref_target(set, k).map(|_| (name.to_owned(), k.clone()))
            })
            .collect();
        let mut expanded = Vec::new();
        if let Some(ex) = params.get("$expand") {
            for name in ex.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let key_field = format!("{name}_Key");
                let target = ref_target(set, &key_field).ok_or_else(|| odata_error(codes::BAD_QUERY))?;
                let target_ref = rec
                    .get(&key_field)
                    .and_then(Value::as_str)
                    .and_then(|s| Guid::parse(s).ok());
                let obj = target_ref
                    .and_then(|g| {
                        self.sets
                            .get(&target)?
                            .records
                            .iter()
                            .find(|r| r.get("Ref_Key").and_then(Value::as_str) == Some(g.to_string().as_str()))
                    })
                    .cloned()
                    .map(Value::Object)
                    .unwrap_or(Value::Null);
                expanded.push((name.to_owned(), obj));
            }
        }
        if let Some(link) = &self_link {
            for (name, _) in &nav {
                rec.insert(format!("{name}@navigationLinkUrl"), json!(format!("{link}/{name}")));
            }
        }
        if let Some(sel) = params.get("$select") {
            let wanted: Vec<&str> = sel.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            for w in &wanted {
                if !rec.contains_key(*w) {
                    return Err(odata_error_text(
                        codes::BAD_QUERY,
                        &format!("{} {w}", codes::BAD_QUERY.2),
                    ));
                }
            }
            rec.retain(|k, _| wanted.contains(&k.as_str()));
        }
        for (name, obj) in expanded {
            rec.insert(name, obj);
        }
        Ok(Value::Object(rec))
    }

    // ---- writes ---------------------------------------------------------------------------------

    fn create(&mut self, set: &str, body: &[u8]) -> Reply {
        if !self.sets.contains_key(set) {
            return Err(if self.split_section(set).is_some() {
                odata_error(codes::TABULAR_ROWS)
            } else {
                odata_error(codes::BAD_SEGMENT)
            });
        }
        if self.sets.get(set).is_some_and(|s| s.read_only) {
            return Err(odata_error(codes::READ_ONLY));
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return Err(odata_error(codes::INTERNAL));
        };
        let rec = self.insert(set, body)?;
        let location = rec
            .get("Ref_Key")
            .and_then(Value::as_str)
            .map(|g| format!("{}/{set}(guid'{g}')", self.odata_root()))
            .unwrap_or_default();
        let v = self.render(set, rec, &HashMap::new())?;
        Ok(json_status(201, &self.element(set, v)).insert_header("location", location.as_str()))
    }

    /// Validates and stores a new entity; returns it as stored.
    fn insert(&mut self, set: &str, body: Map<String, Value>) -> Result<Map<String, Value>, Fail> {
        let requested = match body.get("Ref_Key") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(|s| Guid::parse(s).ok())
                    .ok_or_else(|| odata_error_text(codes::BAD_VALUE, &format!("{} Ref_Key", codes::BAD_VALUE.2)))?,
            ),
        };
        let guid = match requested.and_then(Guid::non_nil) {
            Some(g) => {
                if self.exists(set, g) {
                    return Err(odata_error(codes::INTERNAL));
                }
                g
            }
            None => self.new_guid(),
        };
        let version = self.new_version();
        let now = self.tick();
        let s = self.sets.get_mut(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        let mut rec = Map::new();
        for (f, t) in &s.fields {
            rec.insert(f.clone(), t.default_value());
        }
        for (name, _) in &s.sections {
            rec.insert(name.clone(), json!([]));
        }
        apply(s, &mut rec, body, guid)?;
        s.counter += 1;
        let kind = s.kind;
        let n = s.counter;
        rec.insert("Ref_Key".into(), json!(guid.to_string()));
        rec.insert("DataVersion".into(), json!(version));
        match kind {
            Kind::Catalog if rec.get("Code").and_then(Value::as_str).is_none_or(str::is_empty) => {
                rec.insert("Code".into(), json!(format!("00-{n:06}")));
            }
            Kind::Document => {
                if rec.get("Number").and_then(Value::as_str).is_none_or(str::is_empty) {
                    rec.insert("Number".into(), json!(format!("0000-{n:06}")));
                }
                if rec
                    .get("Date")
                    .and_then(Value::as_str)
                    .is_none_or(|d| d == onec_date::EMPTY)
                {
                    rec.insert("Date".into(), json!(now.format(DATETIME_FORMAT).to_string()));
                }
                rec.insert("Posted".into(), json!(false));
            }
            _ => {}
        }
        if let Some(f) = self.tracked.get(set) {
            rec.insert(f.clone(), json!(now.format(DATETIME_FORMAT).to_string()));
        }
        let s = self.sets.get_mut(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        s.records.push(rec.clone());
        Ok(rec)
    }

    fn exists(&self, set: &str, g: Guid) -> bool {
        let g = g.to_string();
        self.sets.get(set).is_some_and(|s| {
            s.records
                .iter()
                .any(|r| r.get("Ref_Key").and_then(Value::as_str) == Some(g.as_str()))
        })
    }

    /// Bumps `DataVersion` and the tracked change field of record `i`.
    fn touch(&mut self, set: &str, i: usize) {
        let version = self.new_version();
        let now = self.tick().format(DATETIME_FORMAT).to_string();
        let tracked = self.tracked.get(set).cloned();
        if let Some(rec) = self.sets.get_mut(set).and_then(|s| s.records.get_mut(i)) {
            rec.insert("DataVersion".into(), json!(version));
            if let Some(f) = tracked {
                rec.insert(f, json!(now));
            }
        }
    }

    fn patch(&mut self, set: &str, key: &Expr, body: &[u8]) -> Reply {
        if self.split_section(set).is_some() {
            return Err(odata_error(codes::TABULAR_ROWS));
        }
        let i = self.find_index(set, key)?;
        if self.sets.get(set).is_some_and(|s| s.read_only) {
            return Err(odata_error(codes::READ_ONLY));
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return Err(odata_error(codes::INTERNAL));
        };
        let s = self.sets.get_mut(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        let mut rec = s.records.get(i).cloned().unwrap_or_default();
        let guid = rec
            .get("Ref_Key")
            .and_then(Value::as_str)
            .and_then(|g| Guid::parse(g).ok())
            .unwrap_or(Guid::NIL);
        if let Some(r) = body.get("Ref_Key")
            && r.as_str().and_then(|s| Guid::parse(s).ok()) != Some(guid)
        {
            return Err(odata_error_text(codes::BAD_VALUE, "Ref_Key cannot change"));
        }
        apply(s, &mut rec, body, guid)?;
        if let Some(slot) = s.records.get_mut(i) {
            *slot = rec;
        }
        self.touch(set, i);
        let rec = self
            .sets
            .get(set)
            .and_then(|s| s.records.get(i))
            .cloned()
            .unwrap_or_default();
        let v = self.render(set, rec, &HashMap::new())?;
        Ok(json_status(200, &self.element(set, v)))
    }

    fn delete(&mut self, set: &str, key: &Expr) -> Reply {
        let i = self.find_index(set, key)?;
        let s = self.sets.get_mut(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        if s.read_only {
            return Err(odata_error(codes::READ_ONLY));
        }
        let rec = s.records.remove(i);
        if set == PRICE_LIST
            && let Some(g) = rec.get("Ref_Key").and_then(Value::as_str)
        {
            self.clear_movements(g);
        }
        Ok(ResponseTemplate::new(204))
    }

    fn post(&mut self, set: &str, key: &Expr, operational: bool) -> Reply {
        let i = self.find_index(set, key)?;
        let s = self.sets.get(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        if s.kind != Kind::Document {
            return Err(odata_error(codes::BAD_SEGMENT));
        }
        let rec = s.records.get(i).cloned().unwrap_or_default();
        if rec.get("DeletionMark").and_then(Value::as_bool) == Some(true) || self.refuse_posting.contains(set) {
            return Err(odata_error(codes::INTERNAL));
        }
        let date = rec.get("Date").and_then(Value::as_str).and_then(onec_date::parse);
        if operational && date.is_some_and(|d| d.date() < self.clock.date()) {
            // 1C refuses operational posting of a document dated before today.
            return Err(odata_error(codes::INTERNAL));
        }
        if let Some(slot) = self.sets.get_mut(set).and_then(|s| s.records.get_mut(i)) {
            slot.insert("Posted".into(), json!(true));
        }
        self.touch(set, i);
        if set == PRICE_LIST {
            self.write_prices(&rec);
        }
        Ok(ResponseTemplate::new(200))
    }

    fn unpost(&mut self, set: &str, key: &Expr) -> Reply {
        let i = self.find_index(set, key)?;
        if self.sets.get(set).is_some_and(|s| s.kind != Kind::Document) {
            return Err(odata_error(codes::BAD_SEGMENT));
        }
        let mut guid = None;
        if let Some(slot) = self.sets.get_mut(set).and_then(|s| s.records.get_mut(i)) {
            slot.insert("Posted".into(), json!(false));
            guid = slot.get("Ref_Key").and_then(Value::as_str).map(str::to_owned);
        }
        self.touch(set, i);
        if set == PRICE_LIST
            && let Some(g) = guid
        {
            self.clear_movements(&g);
        }
        Ok(ResponseTemplate::new(200))
    }

    /// Posting a price list: its rows become records of the price register, recorded by it.
    fn write_prices(&mut self, doc: &Map<String, Value>) {
        let Some(g) = doc.get("Ref_Key").and_then(Value::as_str).map(str::to_owned) else {
            return;
        };
        self.clear_movements(&g);
        let period = doc.get("Date").cloned().unwrap_or(json!(onec_date::EMPTY));
        let price_type = doc.get("ТипЦен_Key").cloned().unwrap_or(json!(Guid::NIL.to_string()));
        let rows = match doc.get("Товары") {
            Some(Value::Array(rows)) => rows.clone(),
            _ => Vec::new(),
        };
        if let Some(reg) = self.sets.get_mut(PRICE_REGISTER) {
            for row in rows {
                reg.records.push(
                    json!({
                        "Period": period, "Recorder": g, "Recorder_Type": format!("StandardODATA.{PRICE_LIST}"),
                        "LineNumber": row.get("LineNumber").cloned().unwrap_or(json!("1")), "Active": true,
                        "Номенклатура_Key": row.get("Номенклатура_Key").cloned().unwrap_or(json!(Guid::NIL.to_string())),
                        "ТипЦен_Key": price_type, "Цена": row.get("Цена").cloned().unwrap_or(json!(0)),
                    })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                );
            }
        }
    }

    fn clear_movements(&mut self, recorder: &str) {
        if let Some(reg) = self.sets.get_mut(PRICE_REGISTER) {
            reg.records
                .retain(|r| r.get("Recorder").and_then(Value::as_str) != Some(recorder));
        }
    }
}

/// Applies a body's properties to a record: known fields type-checked, tabular sections replaced
/// (every row needs its `LineNumber`), read-only properties ignored, unknown ones refused.
fn apply(s: &SetState, rec: &mut Map<String, Value>, body: Map<String, Value>, owner: Guid) -> Result<(), Fail> {
    let bad = |what: &str| odata_error_text(codes::BAD_VALUE, &format!("{} {what}", codes::BAD_VALUE.2));
    for (k, v) in body {
        if matches!(
            k.as_str(),
            "Ref_Key" | "DataVersion" | "Posted" | "Predefined" | "PredefinedDataName"
        ) {
            continue; // 1C sets these itself
        }
        if let Some(cols) = s.section(&k) {
            let Value::Array(rows) = v else {
                return Err(bad(&k));
            };
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let Value::Object(row) = row else {
                    return Err(bad(&k));
                };
                // A row without LineNumber: 1C fails inside and says only "internal error".
                let line = match row.get("LineNumber") {
                    Some(Value::String(s)) if s.trim().parse::<u32>().is_ok() => s.trim().to_owned(),
                    Some(Value::Number(n)) if n.as_u64().is_some() => n.to_string(),
                    _ => return Err(odata_error(codes::INTERNAL)),
                };
                let mut stored = Map::new();
                stored.insert("Ref_Key".into(), json!(owner.to_string()));
                stored.insert("LineNumber".into(), json!(line));
                for (c, t) in cols {
                    stored.insert(c.clone(), t.default_value());
                }
                for (c, cv) in row {
                    if matches!(c.as_str(), "LineNumber" | "Ref_Key") {
                        continue;
                    }
                    let t = cols
                        .iter()
                        .find(|(n, _)| *n == c)
                        .map(|(_, t)| *t)
                        .ok_or_else(|| bad(&format!("{k}.{c}")))?;
                    stored.insert(c.clone(), t.check(&cv).ok_or_else(|| bad(&format!("{k}.{c}")))?);
                }
                out.push(Value::Object(stored));
            }
            rec.insert(k, Value::Array(out));
            continue;
        }
        let t = s.field_type(&k).ok_or_else(|| bad(&k))?;
        rec.insert(k.clone(), t.check(&v).ok_or_else(|| bad(&k))?);
    }
    Ok(())
}

/// Checks that every field an expression names exists in the set.
fn check_fields(e: &Expr, names: &[String]) -> Result<(), String> {
    match e {
        Expr::Field(f) if f.contains('/') => Err(format!("navigation paths ({f}) are not simulated")),
        Expr::Field(f) if !names.iter().any(|n| n == f) => Err(format!("{} {f}", codes::BAD_QUERY.2)),
        Expr::Field(_) | Expr::Lit(_) => Ok(()),
        Expr::Cmp(a, _, b) | Expr::And(a, b) | Expr::Or(a, b) => {
            check_fields(a, names)?;
            check_fields(b, names)
        }
        Expr::Not(a) => check_fields(a, names),
        Expr::Call(_, args) => args.iter().try_for_each(|a| check_fields(a, names)),
    }
}

/// `Set`, `Set(key)`, `Set(key)/Action`, `Set/$count` → (set, key text, action).
fn split_resource(rest: &str) -> Option<(String, Option<String>, Option<String>)> {
    let rest = rest.trim_end_matches('/');
    match rest.find(['(', '/']) {
        None => Some((rest.to_owned(), None, None)),
        Some(i) if rest[i..].starts_with('/') => {
            let action = &rest[i + 1..];
            (!action.contains('/')).then(|| (rest[..i].to_owned(), None, Some(action.to_owned())))
        }
        Some(i) => {
            let set = &rest[..i];
            // the matching ')', skipping quoted literals
            let mut in_quote = false;
            let mut end = None;
            for (j, c) in rest[i + 1..].char_indices() {
                match c {
                    '\'' => in_quote = !in_quote,
                    ')' if !in_quote => {
                        end = Some(i + 1 + j);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end?;
            let key = &rest[i + 1..end];
            let after = &rest[end + 1..];
            let action = match after.strip_prefix('/') {
                Some(a) if !a.is_empty() && !a.contains('/') => Some(a.to_owned()),
                Some(_) => return None,
                None if after.is_empty() => None,
                None => return None,
            };
            Some((set.to_owned(), Some(key.to_owned()), action))
        }
    }
}

/// A simulated 1C base. See the [module docs](self).
#[derive(Clone)]
pub struct Simulator {
    server: Arc<SimServer>,
    state: Arc<Mutex<State>>,
    opts: SimOptions,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.server.uri())
            .field("publication", &self.opts.publication)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts on a free loopback port with the default user and publication.
    pub async fn start() -> Simulator {
        Self::start_with(SimOptions::default()).await
    }

    /// Starts on a free loopback port with these options.
    pub async fn start_with(opts: SimOptions) -> Simulator {
        let state = Arc::new(Mutex::new(State::new(opts.clone())));
        let server = SimServer::start(handler(state.clone())).await;
        Self::finish(server, state, opts)
    }

    /// Starts on `127.0.0.1:port` (for `switchboard sim onec --port P`).
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let opts = SimOptions::default();
        let state = Arc::new(Mutex::new(State::new(opts.clone())));
        let server = SimServer::start_on_port(port, handler(state.clone())).await?;
        Ok(Self::finish(server, state, opts))
    }

    fn finish(server: SimServer, state: Arc<Mutex<State>>, opts: SimOptions) -> Simulator {
        if let Ok(mut st) = state.lock() {
            st.base_url = server.uri();
        }
        Simulator {
            server: Arc::new(server),
            state,
            opts,
        }
    }

    /// The server's base URL, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The publication's URL, `http://127.0.0.1:PORT/base`.
    pub fn base_url(&self) -> String {
        format!("{}/{}", self.server.uri(), self.opts.publication)
    }

    /// The OData root, `…/base/odata/standard.odata`.
    pub fn odata_url(&self) -> String {
        format!("{}/odata/standard.odata", self.base_url())
    }

    /// An `onec://` DSN with valid credentials for this simulator.
    pub fn dsn(&self) -> String {
        self.dsn_with(&self.opts.user, &self.opts.password)
    }

    /// An `onec://` DSN for this simulator with other credentials (for authentication tests).
    pub fn dsn_with(&self, user: &str, password: &str) -> String {
        let enc = |s: &str| crate::query::encode_value(s);
        let addr = self.server.address();
        format!(
            "onec://{}:{}@{}:{}/{}",
            enc(user),
            enc(password),
            addr.ip(),
            addr.port(),
            self.opts.publication
        )
    }

    /// The infobase user the simulator accepts.
    pub fn user(&self) -> &str {
        &self.opts.user
    }

    /// The HTTP-level fault queue (any request).
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every request received so far.
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        self.state.lock().ok().map(|mut st| f(&mut st))
    }

    /// Queues a fault for the next write of the OData interface.
    pub fn fault_next_write(&self, fault: WriteFault) {
        self.with(|st| st.write_faults.push_back(fault));
    }

    /// The seeded organisation (`Catalog_Организации`).
    pub fn organization(&self) -> Guid {
        self.with(|st| st.organization).unwrap_or_default()
    }

    /// The organisation's seeded bank account (`Catalog_БанковскиеСчета`).
    pub fn bank_account(&self) -> Guid {
        self.with(|st| st.bank_account).unwrap_or_default()
    }

    /// The seeded retail price type (`Catalog_ТипыЦенНоменклатуры`).
    pub fn price_type(&self) -> Guid {
        self.with(|st| st.price_type).unwrap_or_default()
    }

    /// The seeded currency, the rouble (`Catalog_Валюты`).
    pub fn currency(&self) -> Guid {
        self.with(|st| st.currency).unwrap_or_default()
    }

    /// Stores an entity as a 1C user would (defaults, code or number, the clock), without counting it
    /// as a write of the interface. An error names what 1C would refuse.
    pub fn seed(&self, set: &str, entity: Value) -> Result<Guid, String> {
        let Value::Object(body) = entity else {
            return Err("an entity is a JSON object".to_owned());
        };
        self.with(|st| {
            if st.sets.get(set).is_none_or(|s| s.read_only) {
                return Err(format!("{set} is not a writable set of the simulator"));
            }
            st.insert(set, body)
                .map_err(|_| format!("1C would refuse this {set} entity (unknown property or wrong type)"))
                .and_then(|rec| {
                    rec.get("Ref_Key")
                        .and_then(Value::as_str)
                        .and_then(|s| Guid::parse(s).ok())
                        .ok_or_else(|| "no Ref_Key".to_owned())
                })
        })
        .unwrap_or_else(|| Err("the simulator state is poisoned".to_owned()))
    }

    /// Every entity of a set, as stored.
    pub fn records(&self, set: &str) -> Vec<Value> {
        self.with(|st| {
            st.sets
                .get(set)
                .map(|s| s.records.iter().cloned().map(Value::Object).collect())
                .unwrap_or_default()
        })
        .unwrap_or_default()
    }

    /// One entity by `Ref_Key`.
    pub fn record(&self, set: &str, key: Guid) -> Option<Value> {
        let k = key.to_string();
        self.records(set)
            .into_iter()
            .find(|r| r.get("Ref_Key").and_then(Value::as_str) == Some(k.as_str()))
    }

    /// How many entities a set holds.
    pub fn count(&self, set: &str) -> usize {
        self.with(|st| st.sets.get(set).map_or(0, |s| s.records.len()))
            .unwrap_or(0)
    }

    /// Successful writes (creates, updates, deletions, posting) through the interface so far: a re-run
    /// of a sync that changes nothing leaves it as it was.
    pub fn writes(&self) -> usize {
        self.with(|st| st.writes).unwrap_or(0)
    }

    /// Successful writes that came with `1C_OData_DataLoadMode: true`.
    pub fn data_load_writes(&self) -> usize {
        self.with(|st| st.data_load_writes).unwrap_or(0)
    }

    /// Changes a field as a 1C user would (bumping `DataVersion` and the tracked change field).
    /// `false` when there is no such entity or field.
    pub fn set_field(&self, set: &str, key: Guid, field: &str, value: Value) -> bool {
        let k = key.to_string();
        self.with(|st| {
            let Some(s) = st.sets.get_mut(set) else {
                return false;
            };
            let Some(t) = s.field_type(field) else {
                return false;
            };
            let Some(v) = t.check(&value) else {
                return false;
            };
            let Some(i) = s
                .records
                .iter()
                .position(|r| r.get("Ref_Key").and_then(Value::as_str) == Some(k.as_str()))
            else {
                return false;
            };
            if let Some(r) = s.records.get_mut(i) {
                r.insert(field.to_owned(), v);
            }
            st.touch(set, i);
            true
        })
        .unwrap_or(false)
    }

    /// Adds a custom attribute to a set (a customer's configuration); existing entities get its empty
    /// value. `kind` is `"string"`, `"guid"`, `"number"`, `"bool"` or `"date"`.
    pub fn add_field(&self, set: &str, field: &str, kind: &str) -> bool {
        let t = match kind {
            "string" => Ty::Str,
            "guid" => Ty::Guid,
            "number" => Ty::Num,
            "bool" => Ty::Bool,
            "date" => Ty::Date,
            _ => return false,
        };
        self.with(|st| {
            let Some(s) = st.sets.get_mut(set) else {
                return false;
            };
            if s.field_type(field).is_none() {
                s.fields.push((field.to_owned(), t));
                for r in &mut s.records {
                    r.insert(field.to_owned(), t.default_value());
                }
            }
            true
        })
        .unwrap_or(false)
    }

    /// Makes every write of `set` stamp `field` with the clock (adding the field when the set lacks
    /// it), as configurations that support delta sync do.
    pub fn track_changes(&self, set: &str, field: &str) -> bool {
        if !self.add_field(set, field, "date") {
            return false;
        }
        self.with(|st| st.tracked.insert(set.to_owned(), field.to_owned()));
        true
    }

    /// The simulator's clock (the base's local time).
    pub fn now(&self) -> NaiveDateTime {
        self.with(|st| st.clock).unwrap_or_default()
    }

    /// Sets the clock.
    pub fn set_now(&self, t: NaiveDateTime) {
        self.with(|st| st.clock = t);
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.with(|st| st.clock += chrono::Duration::from_std(by).unwrap_or_default());
    }

    /// How far each write moves the clock (one second by default; zero makes writes share a time).
    pub fn set_clock_step(&self, step: Duration) {
        self.with(|st| st.step = chrono::Duration::from_std(step).unwrap_or_default());
    }

    /// The clock as 1C writes it.
    pub fn now_string(&self) -> String {
        self.with(|st| st.now_string()).unwrap_or_default()
    }

    /// Makes posting documents of `set` fail with the internal error, as when the infobase user lacks
    /// the right to post.
    pub fn refuse_posting(&self, set: &str, refuse: bool) {
        self.with(|st| {
            if refuse {
                st.refuse_posting.insert(set.to_owned());
            } else {
                st.refuse_posting.remove(set);
            }
        });
    }

    /// Registers an HTTP service at `/hs/<root>/…`.
    pub fn http_service(&self, root: &str, handler: impl Fn(&HsCall) -> HsAnswer + Send + Sync + 'static) {
        let h: HsHandler = Arc::new(handler);
        self.with(|st| st.services.insert(root.to_owned(), h));
    }
}

/// Where a request went: answered, or to an HTTP service, which runs after the state is unlocked (so
/// a test's service can use the simulator's helpers).
enum Routed {
    Done(ResponseTemplate),
    Service(HsHandler, HsCall),
}

fn handler(state: Arc<Mutex<State>>) -> switchboard_core::testkit::Handler {
    Arc::new(move |req: &Request| {
        let routed = match state.lock() {
            Ok(mut st) => st.handle(req),
            Err(_) => return ResponseTemplate::new(500).set_body_string("simulator state poisoned"),
        };
        match routed {
            Routed::Done(r) => r,
            Routed::Service(h, call) => {
                let answer = h(&call);
                ResponseTemplate::new(answer.status)
                    .set_body_raw(answer.body.to_string(), "application/json; charset=utf-8")
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_split() {
        assert_eq!(split_resource("Catalog_X"), Some(("Catalog_X".into(), None, None)));
        assert_eq!(
            split_resource("Catalog_X(guid'1')/Post"),
            Some(("Catalog_X".into(), Some("guid'1'".into()), Some("Post".into())))
        );
        assert_eq!(
            split_resource("R(Code='a)b',N=1)"),
            Some(("R".into(), Some("Code='a)b',N=1".into()), None))
        );
        assert_eq!(
            split_resource("Catalog_X/$count"),
            Some(("Catalog_X".into(), None, Some("$count".into())))
        );
        assert_eq!(split_resource("Catalog_X(guid'1'"), None);
        assert_eq!(split_resource("Catalog_X(guid'1')x"), None);
        assert_eq!(split_resource("Catalog_X/a/b"), None);
    }

    #[test]
    fn seeded_base() {
        let st = State::new(SimOptions::default());
        assert_eq!(st.sets["Catalog_Организации"].records.len(), 1);
        assert!(!st.organization.is_nil());
        assert!(!st.bank_account.is_nil());
        assert_ne!(st.organization, st.bank_account);
        assert_eq!(st.writes, 0);
    }
}

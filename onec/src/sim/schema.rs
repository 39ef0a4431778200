//! The simulated configuration: the entity sets of a small trade base, their fields and types, and the
//! sets reference attributes point to.

use serde_json::{Map, Value, json};

use crate::entity::Kind;
use crate::filter::DATETIME_FORMAT;
use crate::guid::Guid;
use crate::model::onec_date;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    Str,
    Guid,
    Num,
    Bool,
    Date,
}

impl Ty {
    pub(super) fn default_value(self) -> Value {
        match self {
            Ty::Str => json!(""),
            Ty::Guid => json!(Guid::NIL.to_string()),
            Ty::Num => json!(0),
            Ty::Bool => json!(false),
            Ty::Date => json!(onec_date::EMPTY),
        }
    }

    pub(super) fn edm(self) -> &'static str {
        match self {
            Ty::Str => "Edm.String",
            Ty::Guid => "Edm.Guid",
            Ty::Num => "Edm.Double",
            Ty::Bool => "Edm.Boolean",
            Ty::Date => "Edm.DateTime",
        }
    }

    /// The value as stored, or `None` when it is not of this type.
    pub(super) fn check(self, v: &Value) -> Option<Value> {
        match (self, v) {
            (Ty::Str, Value::String(_)) | (Ty::Num, Value::Number(_)) | (Ty::Bool, Value::Bool(_)) => Some(v.clone()),
            (Ty::Guid, Value::String(s)) => Guid::parse(s).ok().map(|g| json!(g.to_string())),
            (Ty::Date, Value::String(s)) if s == onec_date::EMPTY => Some(v.clone()),
            (Ty::Date, Value::String(s)) => onec_date::parse(s).map(|t| json!(t.format(DATETIME_FORMAT).to_string())),
            _ => None,
        }
    }
}

pub(super) type Fields = Vec<(String, Ty)>;

/// A set of the schema: name, kind, own fields, tabular sections, read-only.
pub(super) type SetDef = (&'static str, Kind, Fields, Vec<(String, Fields)>, bool);

/// Rows and the field names they may have.
pub(super) type Rows = (Vec<Map<String, Value>>, Vec<String>);

#[derive(Debug)]
pub(super) struct SetState {
    pub(super) kind: Kind,
    pub(super) fields: Fields,
    pub(super) sections: Vec<(String, Fields)>,
    pub(super) records: Vec<Map<String, Value>>,
    pub(super) counter: u64,
    pub(super) read_only: bool,
}

impl SetState {
    pub(super) fn field_type(&self, name: &str) -> Option<Ty> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    }

    pub(super) fn section(&self, name: &str) -> Option<&Fields> {
        self.sections.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }
}

pub(super) fn std_fields(kind: Kind) -> Fields {
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

pub(super) fn fields(list: &[(&str, Ty)]) -> Fields {
    list.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect()
}

pub(super) const PRICE_LIST: &str = "Document_УстановкаЦенНоменклатуры";
pub(super) const PRICE_REGISTER: &str = "InformationRegister_ЦеныНоменклатуры";

/// The configuration: the objects of a small trade base (names as in БП 3.0 / УТ 11).
pub(super) fn schema() -> Vec<(String, SetState)> {
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
pub(super) fn ref_target(set: &str, field: &str) -> Option<String> {
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

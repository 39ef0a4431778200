//! The simulated base's state: the sets and their records, the clock, the id and version counters,
//! queued write faults, and how a refusal becomes an answer.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};
use switchboard_core::simulated::SimRecord;
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::schema::{SetState, schema};
use super::{HsHandler, SimBase, WriteFault};
use crate::filter::DATETIME_FORMAT;
use crate::guid::Guid;

/// A refusal, turned into an answer at the end (kept small: answers are large values).
#[derive(Debug)]
pub(super) enum Fail {
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
    pub(super) fn response(self) -> ResponseTemplate {
        match self {
            Fail::OData { status, code, text } => json_status(
                status,
                &json!({"odata.error": {"code": code, "message": {"lang": "ru", "value": text}}}),
            ),
            Fail::Plain { status, text } => ResponseTemplate::new(status).set_body_string(text),
        }
    }
}

pub(super) type Reply = Result<ResponseTemplate, Fail>;

pub(super) fn odata_error(code: (u16, &'static str, &'static str)) -> Fail {
    odata_error_text(code, code.2)
}

pub(super) fn odata_error_text(code: (u16, &'static str, &'static str), text: &str) -> Fail {
    Fail::OData {
        status: code.0,
        code: code.1,
        text: text.to_owned(),
    }
}

/// The whole base and the simulator's own bookkeeping.
pub(super) struct State {
    pub(super) opts: SimBase,
    pub(super) base_url: String,
    pub(super) sets: BTreeMap<String, SetState>,
    pub(super) clock: NaiveDateTime,
    pub(super) step: chrono::Duration,
    pub(super) guid_seq: u64,
    pub(super) version_seq: u64,
    pub(super) write_faults: VecDeque<WriteFault>,
    pub(super) tracked: HashMap<String, String>,
    pub(super) refuse_posting: HashSet<String>,
    pub(super) services: HashMap<String, HsHandler>,
    pub(super) writes: usize,
    pub(super) data_load_writes: usize,
    pub(super) organization: Guid,
    pub(super) bank_account: Guid,
    pub(super) price_type: Guid,
    pub(super) currency: Guid,
    /// Every entity created through the interface, in order: its set and `Ref_Key`.
    pub(super) created: Vec<(String, Guid)>,
}

pub(super) fn start_clock() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 3, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .unwrap_or_default()
}

impl State {
    pub(super) fn new(opts: SimBase) -> State {
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
            created: Vec::new(),
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

    pub(super) fn seed_internal(&mut self, set: &str, body: Value) -> Guid {
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

    pub(super) fn new_guid(&mut self) -> Guid {
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

    pub(super) fn new_version(&mut self) -> String {
        self.version_seq += 1;
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&(self.version_seq as u32).to_be_bytes());
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    pub(super) fn tick(&mut self) -> NaiveDateTime {
        let now = self.clock;
        self.clock += self.step;
        now
    }

    pub(super) fn now_string(&self) -> String {
        self.clock.format(DATETIME_FORMAT).to_string()
    }

    /// [`Simulated::sent`](switchboard_core::simulated::Simulated::sent): every entity created through
    /// the interface, with its state now.
    pub(super) fn sent(&self) -> Vec<SimRecord> {
        self.created
            .iter()
            .map(|(set, key)| {
                let k = key.to_string();
                let rec = self.sets.get(set).and_then(|s| {
                    s.records
                        .iter()
                        .find(|r| r.get("Ref_Key").and_then(Value::as_str) == Some(&k))
                });
                let Some(rec) = rec else {
                    return SimRecord::new(&k, set, "", "deleted");
                };
                let text = ["Number", "Code", "Description"]
                    .iter()
                    .filter_map(|f| rec.get(*f).and_then(Value::as_str))
                    .find(|v| !v.is_empty())
                    .unwrap_or_default();
                let flag = |f: &str| rec.get(f).and_then(Value::as_bool) == Some(true);
                let status = if flag("DeletionMark") {
                    "marked for deletion"
                } else if flag("Posted") {
                    "posted"
                } else {
                    "written"
                };
                SimRecord::new(&k, set, text, status)
            })
            .collect()
    }
}

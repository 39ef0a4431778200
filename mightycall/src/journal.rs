//! Reading journal entries one by one, so that one entry of an unexpected shape costs that entry and
//! not the page.
//!
//! **Two shapes of one field.** Journal entries seen in third-party integrations write
//! `businessNumber` and `client` either as a bare string (`"+18444131701"`) or as an object
//! (`{"number": "+18444131701", …}`, `{"address": "+15551234567", …}`); the journal's schema is not
//! published (MightyCall's v4 reference is not public). Both shapes are read into [`JournalParty`].
//!
//! **Entries that still cannot be read** (an `id` that is an object, `businessNumber` as an array…)
//! are kept as [`UndecodableEntry`]: the raw JSON as MightyCall sent it, the entry's id when it has a
//! readable one, and a reason that names the field and its JSON kind — never its value, which may be a
//! phone number. A page answers its readable entries and its undecodable ones side by side
//! ([`JournalPage::undecodable`](crate::model::JournalPage::undecodable),
//! [`HistoryPage::undecodable`](crate::history::HistoryPage::undecodable)); the host decides what to do
//! with the latter (store them for a person, alert), and the sync goes on.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{JournalRequest, mask};

/// A party of a journal entry (`businessNumber`, `client`) in either shape MightyCall writes. It
/// serialises back in the shape it came in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum JournalParty {
    /// The bare form: `"+18444131701"`.
    Text(String),
    /// The object form: `{"number": "+1…", "name": "Main line"}`, `{"address": "+1…"}`.
    Object(PartyObject),
}

/// The object form of a [`JournalParty`].
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PartyObject {
    /// `number` (the business-number form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// `phoneNumber` (as in the business-number listing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// `address` (the client form: a phone number, or another address for other channels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A display name, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl JournalParty {
    /// The number (or address): the bare string, or the object's `number`, `phoneNumber` or
    /// `address`, whichever comes first and is not empty.
    pub fn number(&self) -> Option<&str> {
        match self {
            JournalParty::Text(s) => Some(s.as_str()).filter(|s| !s.trim().is_empty()),
            JournalParty::Object(o) => [&o.number, &o.phone_number, &o.address]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .find(|s| !s.trim().is_empty()),
        }
    }

    /// The display name of the object form.
    pub fn name(&self) -> Option<&str> {
        match self {
            JournalParty::Text(_) => None,
            JournalParty::Object(o) => o.name.as_deref(),
        }
    }
}

impl fmt::Debug for JournalParty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = match self {
            JournalParty::Text(_) => "Text",
            JournalParty::Object(_) => "Object",
        };
        f.debug_struct("JournalParty")
            .field("shape", &shape)
            .field("number", &self.number().map(mask))
            .finish_non_exhaustive()
    }
}

/// A journal entry that could not be read, kept as MightyCall sent it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UndecodableEntry {
    /// The entry's `id`, when it is a string or a number.
    pub id: Option<String>,
    /// Which field could not be read and what JSON kind it was (never the value).
    pub reason: String,
    /// The entry as it came.
    pub raw: Value,
}

impl fmt::Debug for UndecodableEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The raw entry holds phone numbers and message text: only its keys are shown.
        let keys: Vec<&String> = self.raw.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        f.debug_struct("UndecodableEntry")
            .field("id", &self.id)
            .field("reason", &self.reason)
            .field("raw_keys", &keys)
            .finish()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads one entry, or says why it cannot be read.
pub(crate) fn decode_entry(raw: Value) -> Result<JournalRequest, UndecodableEntry> {
    match serde_json::from_value::<JournalRequest>(raw.clone()) {
        Ok(r) => Ok(r),
        Err(_) => {
            let id = raw.get("id").and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            Err(UndecodableEntry {
                id,
                reason: diagnose(&raw),
                raw,
            })
        }
    }
}

/// Names the field that keeps `raw` from reading as a [`JournalRequest`], and its JSON kind, by
/// reading each field on its own (serde's own message would quote the value).
fn diagnose(raw: &Value) -> String {
    let Some(o) = raw.as_object() else {
        return format!("the entry is {}, not an object", kind(raw));
    };
    match o.get("id") {
        None | Some(Value::Null) => return "the entry has no `id`".to_owned(),
        Some(Value::String(_) | Value::Number(_)) => {}
        Some(v) => return format!("`id` is {}, not a string or a number", kind(v)),
    }
    for (k, v) in o {
        if k == "id" {
            continue;
        }
        let mut probe = Map::new();
        probe.insert("id".to_owned(), Value::String(String::new()));
        probe.insert(k.clone(), v.clone());
        if serde_json::from_value::<JournalRequest>(Value::Object(probe)).is_err() {
            return format!("`{k}` is {}, which is not a shape this client reads", kind(v));
        }
    }
    "the entry does not read as a journal entry".to_owned()
}

/// Splits a page's `requests` into the entries that read and those that do not.
pub(crate) fn decode_entries(raw: Vec<Value>) -> (Vec<JournalRequest>, Vec<UndecodableEntry>) {
    let mut good = Vec::with_capacity(raw.len());
    let mut bad = Vec::new();
    for v in raw {
        match decode_entry(v) {
            Ok(r) => good.push(r),
            Err(u) => bad.push(u),
        }
    }
    (good, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_shapes_read_and_serialise_back_as_they_came() {
        for (v, number, name) in [
            (json!("+18444131701"), Some("+18444131701"), None),
            (
                json!({"number": "+18444131701", "name": "Main line"}),
                Some("+18444131701"),
                Some("Main line"),
            ),
            (json!({"address": "+15551234567"}), Some("+15551234567"), None),
            (
                json!({"phoneNumber": "+15551234567", "x": 1}),
                Some("+15551234567"),
                None,
            ),
            (
                json!({"number": "", "address": "+15551234567"}),
                Some("+15551234567"),
                None,
            ),
            (json!({"label": "no number"}), None, None),
        ] {
            let p: JournalParty = serde_json::from_value(v.clone()).unwrap();
            assert_eq!((p.number(), p.name()), (number, name), "{v}");
            assert_eq!(serde_json::to_value(&p).unwrap(), v);
        }
        for bad in [json!(["+1"]), json!(true), json!(18444131701u64), json!({"number": 1})] {
            assert!(serde_json::from_value::<JournalParty>(bad.clone()).is_err(), "{bad}");
        }
        let p: JournalParty = serde_json::from_value(json!({"address": "+15551234567"})).unwrap();
        assert!(!format!("{p:?}").contains("5551234567"));
    }

    #[test]
    fn the_reason_names_the_field_never_the_value() {
        for (raw, needle) in [
            (
                json!({"id": "a", "businessNumber": ["+15551234567"]}),
                "`businessNumber` is an array",
            ),
            (
                json!({"id": "a", "client": {"address": 15551234567u64}}),
                "`client` is an object",
            ),
            (json!({"id": {"x": 1}}), "`id` is an object"),
            (json!({"type": "Call"}), "no `id`"),
            (json!("+15551234567"), "a string, not an object"),
            (json!({"id": "a", "from": 15551234567u64}), "`from` is a number"),
        ] {
            let u = decode_entry(raw.clone()).unwrap_err();
            assert!(u.reason.contains(needle), "{raw}: {}", u.reason);
            assert!(!u.reason.contains("5551234567"), "{}", u.reason);
            assert!(!format!("{u:?}").contains("5551234567"));
            assert_eq!(u.raw, raw);
        }
        assert_eq!(
            decode_entry(json!({"id": 7, "from": []})).unwrap_err().id.as_deref(),
            Some("7")
        );
    }
}

//! The JSON types Mitto's request bodies must have, checked before the values are looked at.
//!
//! The legacy `/sms` and `/smsbulk` parameters and their types are Mitto's own: the vendor-written
//! Power Platform connector (`microsoft/PowerPlatformConnectors`, `certified-connectors/Mitto`,
//! `SmsRequest`/`SmsBulkRequest`) and the SMS API reference (docs.mitto.ch, "SMS/Bulk SMS API
//! Reference"): `from`, `to`, `text`, `type`, `reference`, `udh` (hex), `callback` strings; `test`,
//! `flash` booleans; `validity` and `pid` 32-bit integers (`pid` is the GSM protocol identifier, one
//! byte). A body with a parameter of another type, or a parameter the API does not have, is refused
//! with `400`, as an ASP.NET API refuses a body it cannot bind (Mitto's timestamps, seven fractional
//! digits, are .NET's). Unsure: the body of that refusal is not documented; the simulator answers an
//! RFC 7807 validation problem (`application/problem+json`, `title`, `status`, `errors`), the shape such
//! an API produces.
//!
//! The messaging API's shapes come from working third-party code only, so the simulator checks the
//! types of the fields it knows (`trafficAccountId`, `destination`/`destinations`, `sms.text`,
//! `sms.sender` strings, `sms` an object) and lets other fields through.

use serde_json::{Map, Value, json};
use switchboard_core::testkit::wiremock::ResponseTemplate;

/// What a field must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    /// A string.
    Text,
    /// A string of hex digits.
    Hex,
    /// A boolean.
    Bool,
    /// An integer in this range.
    Int(i64, i64),
    /// A JSON array of strings, or one string of comma-separated values (`/smsbulk`'s `to`: the
    /// vendor connector sends the array, the reference text describes the list; both are taken).
    TextList,
    /// An array of strings.
    TextArray,
    /// An object.
    Object,
}

/// The parameters of one body.
pub(super) type Schema = &'static [(&'static str, Ty)];

/// Validity in minutes: a positive 32-bit integer.
const VALIDITY: Ty = Ty::Int(1, i32::MAX as i64);
/// The protocol identifier: one byte.
const PID: Ty = Ty::Int(0, 255);

/// `POST /sms`.
pub(super) const SMS: Schema = &[
    ("from", Ty::Text),
    ("to", Ty::Text),
    ("text", Ty::Text),
    ("type", Ty::Text),
    ("test", Ty::Bool),
    ("reference", Ty::Text),
    ("udh", Ty::Hex),
    ("validity", VALIDITY),
    ("pid", PID),
    ("flash", Ty::Bool),
    ("callback", Ty::Text),
];

/// `POST /smsbulk`.
pub(super) const SMS_BULK: Schema = &[
    ("from", Ty::Text),
    ("to", Ty::TextList),
    ("text", Ty::Text),
    ("type", Ty::Text),
    ("test", Ty::Bool),
    ("reference", Ty::Text),
    ("udh", Ty::Hex),
    ("validity", VALIDITY),
    ("pid", PID),
    ("flash", Ty::Bool),
    ("callback", Ty::Text),
];

/// `POST /sms/converted`.
pub(super) const CONVERTED: Schema = &[("messageId", Ty::Text)];

/// `POST /usage/bycountry`.
pub(super) const USAGE: Schema = &[
    ("startDate", Ty::Text),
    ("endDate", Ty::Text),
    ("accountName", Ty::Text),
];

/// `POST /api/v1.1/Messages/send` (known fields only; others pass).
pub(super) const MESSAGING_SEND: Schema = &[
    ("trafficAccountId", Ty::Text),
    ("destination", Ty::Text),
    ("sms", Ty::Object),
];

/// `POST /api/v1.1/Messages/sendbulk` (known fields only; others pass).
pub(super) const MESSAGING_BULK: Schema = &[
    ("trafficAccountId", Ty::Text),
    ("destinations", Ty::TextArray),
    ("sms", Ty::Object),
];

/// The `sms` object of the messaging API.
pub(super) const MESSAGING_SMS: Schema = &[("text", Ty::Text), ("sender", Ty::Text)];

impl Ty {
    fn accepts(self, v: &Value) -> bool {
        let strings = |a: &Vec<Value>| a.iter().all(Value::is_string);
        match self {
            Ty::Text => v.is_string(),
            Ty::Hex => v
                .as_str()
                .is_some_and(|s| s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit())),
            Ty::Bool => v.is_boolean(),
            Ty::Int(lo, hi) => v.as_i64().is_some_and(|n| (lo..=hi).contains(&n)),
            Ty::TextList => v.is_string() || v.as_array().is_some_and(strings),
            Ty::TextArray => v.as_array().is_some_and(strings),
            Ty::Object => v.is_object(),
        }
    }

    /// What the refusal says, in the words .NET's JSON binder uses.
    fn complaint(self, v: &Value) -> &'static str {
        match self {
            Ty::Int(..) if v.is_i64() || v.is_u64() => "The value is out of the allowed range.",
            Ty::Int(..) => "The JSON value could not be converted to System.Int32.",
            Ty::Bool => "The JSON value could not be converted to System.Boolean.",
            Ty::Hex if v.is_string() => "The value must be an even number of hexadecimal digits.",
            Ty::TextList | Ty::TextArray => "The JSON value could not be converted to System.String[].",
            Ty::Object => "The JSON value could not be converted to an object.",
            Ty::Text | Ty::Hex => "The JSON value could not be converted to System.String.",
        }
    }
}

/// The first field of `body` that breaks `schema`, with what is wrong with it. With `strict`, a field
/// the schema does not name is refused too. `null` reads as absent.
pub(super) fn violation(schema: Schema, body: &Map<String, Value>, strict: bool) -> Option<(String, &'static str)> {
    for (key, v) in body {
        match schema.iter().find(|(k, _)| k == key) {
            _ if v.is_null() => {}
            Some((_, ty)) if !ty.accepts(v) => return Some((key.clone(), ty.complaint(v))),
            Some(_) => {}
            None if strict => return Some((key.clone(), "The field is not a parameter of this API.")),
            None => {}
        }
    }
    None
}

/// The 400 for a body that breaks its schema.
pub(super) fn problem(field: &str, complaint: &str) -> ResponseTemplate {
    let body = json!({
        "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": { field: [complaint] },
    });
    ResponseTemplate::new(400).set_body_raw(body.to_string(), "application/problem+json; charset=utf-8")
}

/// The refusal to answer when `body` breaks `schema`; `None` when it does not.
pub(super) fn refusal(schema: Schema, body: &Value, strict: bool) -> Option<ResponseTemplate> {
    let Some(o) = body.as_object() else {
        return Some(problem("$", "The JSON value could not be converted to an object."));
    };
    violation(schema, o, strict).map(|(field, complaint)| problem(&field, complaint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(schema: Schema, v: Value, strict: bool) -> Option<String> {
        violation(schema, v.as_object().unwrap(), strict).map(|(f, _)| f)
    }

    #[test]
    fn types_ranges_and_unknown_fields() {
        let ok = json!({"from": "Acme", "to": "41751231234", "text": "hi", "validity": 60, "pid": 0,
            "test": false, "udh": "050003CC0201", "reference": null});
        assert_eq!(first(SMS, ok, true), None);
        for (bad, field) in [
            (json!({"validity": "60"}), "validity"),
            (json!({"validity": 0}), "validity"),
            (json!({"validity": 4_294_967_295u64}), "validity"),
            (json!({"pid": 256}), "pid"),
            (json!({"test": "true"}), "test"),
            (json!({"udh": "05000"}), "udh"),
            (json!({"to": 41751231234u64}), "to"),
            (json!({"priority": 1}), "priority"),
        ] {
            assert_eq!(first(SMS, bad, true).as_deref(), Some(field));
        }
        assert_eq!(first(SMS_BULK, json!({"to": ["41", "42"]}), true), None);
        assert_eq!(first(SMS_BULK, json!({"to": "41,42"}), true), None);
        assert_eq!(first(SMS_BULK, json!({"to": [41]}), true).as_deref(), Some("to"));
        assert_eq!(first(MESSAGING_SEND, json!({"extra": 1}), false), None);
    }
}

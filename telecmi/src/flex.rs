//! Tolerant readers for TeleCMI's loosely typed JSON.
//!
//! TeleCMI writes the same field differently from one payload to the next (doc.telecmi.com webhook
//! pages, e.g. "Incoming answered", "Outgoing answered", "Live outgoing answered"):
//! numbers as JSON numbers or strings (`from`, `to`, `virtual_number`, `appid`), booleans as `true` or
//! `"true"` (`record`, `click_to_call`), JSON objects as JSON-encoded strings (`custom`,
//! `extra_params`), and one key under two names (`appid`/`app_id`, `cmiuuid`/`cmiuid`). Serde's derive
//! would reject half of those, and `#[serde(alias)]` fails outright when a payload carries both
//! spellings, so payloads are read as a JSON map and each field is taken through one of these
//! functions. None of them fails: a value of an unexpected shape reads as absent and stays in the raw
//! record.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The first present, non-null value among `keys` (so `&["appid", "app_id"]` reads either spelling).
pub(crate) fn first<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().filter_map(|k| map.get(*k)).find(|v| !v.is_null())
}

/// A value as text: strings trimmed, numbers in their plain decimal form, booleans as `true`/`false`.
/// Empty strings, objects and arrays read as absent.
pub(crate) fn string(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    match first(map, keys)? {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_owned())
        }
        Value::Number(n) => Some(number_text(n)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A JSON number as text without an exponent or a trailing `.0`, so that `440000000001` stays that
/// and is never `4.40000000001e11` (phone numbers arrive as JSON numbers).
fn number_text(n: &serde_json::Number) -> String {
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    match n.as_f64() {
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e18 => format!("{f:.0}"),
        _ => n.to_string(),
    }
}

/// A non-negative integer from a number (fractions truncated) or a numeric string.
pub(crate) fn u64_of(map: &Map<String, Value>, keys: &[&str]) -> Option<u64> {
    match first(map, keys)? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1.8e19)
                .map(|f| f as u64)
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1.8e19)
                    .map(|f| f as u64)
            })
        }
        _ => None,
    }
}

/// A boolean from `true`/`false`, `"true"`/`"false"` (any case), `"1"`/`"0"`, `"yes"`/`"no"` or 1/0.
pub(crate) fn bool_of(map: &Map<String, Value>, keys: &[&str]) -> Option<bool> {
    match first(map, keys)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_u64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A timestamp. TeleCMI sends milliseconds since the Unix epoch (UTC), as a number or a string.
///
/// Unsure: nothing documents seconds, but a value below 10^11 cannot be a millisecond time after 1973,
/// so such values are read as seconds rather than as a date in January 1970.
pub(crate) fn time_of(map: &Map<String, Value>, keys: &[&str]) -> Option<DateTime<Utc>> {
    let n = u64_of(map, keys)?;
    let ms = if n < 100_000_000_000 { n.checked_mul(1000)? } else { n };
    DateTime::from_timestamp_millis(i64::try_from(ms).ok()?)
}

/// A field that should hold JSON but may hold it encoded as a string (`custom`, `extra_params`), or
/// as a plain string that is not JSON at all (the legacy `custom: "Custom Parameter"`).
///
/// Objects and arrays are returned as they are; a string is decoded when it holds a JSON object or
/// array (twice at most, for payloads that were encoded twice), and otherwise kept as a string.
pub(crate) fn json_of(map: &Map<String, Value>, keys: &[&str]) -> Option<Value> {
    let v = first(map, keys)?;
    Some(decode_embedded(v.clone()))
}

fn decode_embedded(v: Value) -> Value {
    let mut cur = v;
    for _ in 0..2 {
        let Value::String(s) = &cur else { break };
        let t = s.trim();
        let looks_json = t.starts_with('{') || t.starts_with('[') || t.starts_with('"');
        if !looks_json {
            break;
        }
        match serde_json::from_str::<Value>(t) {
            Ok(inner @ (Value::Object(_) | Value::Array(_) | Value::String(_))) => cur = inner,
            _ => break,
        }
    }
    cur
}

/// Masks the middle of a number-like string for logs: `9192*****00`. Non-digit text (a user id such as
/// `101_1111112`, `anonymous`) is shown as it is, since it is not a phone number.
pub(crate) fn mask_number(s: &str) -> String {
    let digits = s.trim_start_matches('+');
    if digits.len() < 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_owned();
    }
    let keep_head = 4.min(digits.len() / 3);
    let keep_tail = 2;
    let hidden = digits.len() - keep_head - keep_tail;
    let plus = if s.starts_with('+') { "+" } else { "" };
    format!(
        "{plus}{}{}{}",
        &digits[..keep_head],
        "*".repeat(hidden),
        &digits[digits.len() - keep_tail..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn numbers_and_strings_read_alike() {
        let a = m(json!({"to": 440000000001u64, "from": "440000000002", "x": 4.4e11, "e": "", "o": {}}));
        assert_eq!(string(&a, &["to"]).as_deref(), Some("440000000001"));
        assert_eq!(string(&a, &["from"]).as_deref(), Some("440000000002"));
        assert_eq!(string(&a, &["x"]).as_deref(), Some("440000000000"));
        assert_eq!(string(&a, &["e"]), None);
        assert_eq!(string(&a, &["o"]), None);
        assert_eq!(string(&a, &["missing", "to"]).as_deref(), Some("440000000001"));
    }

    #[test]
    fn either_spelling() {
        let a = m(json!({"app_id": 7, "appid": null}));
        assert_eq!(u64_of(&a, &["appid", "app_id"]), Some(7));
        let b = m(json!({"appid": "8", "app_id": 7}));
        assert_eq!(u64_of(&b, &["appid", "app_id"]), Some(8));
    }

    #[test]
    fn booleans() {
        let a = m(json!({"a": true, "b": "true", "c": "FALSE", "d": 1, "e": "maybe", "f": 2}));
        assert_eq!(bool_of(&a, &["a"]), Some(true));
        assert_eq!(bool_of(&a, &["b"]), Some(true));
        assert_eq!(bool_of(&a, &["c"]), Some(false));
        assert_eq!(bool_of(&a, &["d"]), Some(true));
        assert_eq!(bool_of(&a, &["e"]), None);
        assert_eq!(bool_of(&a, &["f"]), None);
    }

    #[test]
    fn embedded_json() {
        let a = m(json!({
            "s": "{\"crm\":\"true\"}",
            "o": {"crm": true},
            "p": "Custom Parameter",
            "twice": "\"{\\\"a\\\":1}\"",
            "bad": "{not json",
        }));
        assert_eq!(json_of(&a, &["s"]), Some(json!({"crm": "true"})));
        assert_eq!(json_of(&a, &["o"]), Some(json!({"crm": true})));
        assert_eq!(json_of(&a, &["p"]), Some(json!("Custom Parameter")));
        assert_eq!(json_of(&a, &["twice"]), Some(json!({"a": 1})));
        assert_eq!(json_of(&a, &["bad"]), Some(json!("{not json")));
    }

    #[test]
    fn times() {
        let a = m(json!({"ms": 1634720920615u64, "s": "1634720920", "neg": -5, "huge": u64::MAX}));
        assert_eq!(time_of(&a, &["ms"]).unwrap().timestamp_millis(), 1634720920615);
        assert_eq!(time_of(&a, &["s"]).unwrap().timestamp(), 1634720920);
        assert_eq!(time_of(&a, &["neg"]), None);
        assert_eq!(time_of(&a, &["huge"]), None);
    }

    #[test]
    fn masking() {
        assert_eq!(mask_number("919200000000"), "9192******00");
        assert_eq!(mask_number("+440000000001"), "+4400******01");
        assert_eq!(mask_number("101_1111112"), "101_1111112");
        assert_eq!(mask_number("12345"), "12345");
        assert!(!mask_number("919212345678").contains("123456"));
    }
}

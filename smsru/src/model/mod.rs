//! SMS.ru requests and `json=1` replies, as the wire has them: the send ([`send`]) and the other
//! methods' replies (here).
//!
//! Every reply carries `status` (`"OK"` / `"ERROR"`), `status_code` and sometimes `status_text`;
//! [`parse_error`](crate::error::parse_error) turns a top-level `ERROR` into an
//! [`Error`](switchboard_core::Error), so the typed replies below are the `OK` ones. Per-number results
//! stay in the reply (one bad number does not fail the others). Fields nobody documented are kept in
//! `extra`. Amounts are kept as the decimal text SMS.ru wrote ([`Amount`]), never as floats.
//!
//! SMS.ru's backend is PHP, and PHP's `json_encode` writes an empty map as `[]`; the maps below accept
//! that.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{DeliveryStatus, PhoneNumber};

use crate::error::{delivery_status, mask};

pub mod send;

pub use send::{MAX_RECIPIENTS_PER_REQUEST, Recipients, SendRequest, SendResponse, SmsResult};

/// A money amount exactly as SMS.ru wrote it (a JSON number or a string, by method and era).
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Amount(String);

impl Amount {
    /// An amount from its decimal text.
    pub fn new(text: impl Into<String>) -> Self {
        Amount(text.into())
    }

    /// The decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The amount in kopecks (hundredths), when it is a plain decimal with at most two significant
    /// fractional digits (`"4122.56"` → 412256, `"10.5"` → 1050, `"-3"` → -300).
    pub fn to_minor_units(&self) -> Option<i64> {
        let s = self.0.trim();
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if frac.len() > 2 && frac[2..].bytes().any(|b| b != b'0') {
            return None;
        }
        let whole: i64 = int.parse().ok()?;
        let mut cents = 0i64;
        for (i, b) in frac.bytes().take(2).enumerate() {
            cents += i64::from(b - b'0') * if i == 0 { 10 } else { 1 };
        }
        let v = whole.checked_mul(100)?.checked_add(cents)?;
        Some(if neg { -v } else { v })
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({})", self.0)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => Ok(Amount(n.to_string())),
            Value::String(s) => Ok(Amount(s)),
            other => Err(de::Error::custom(format!(
                "an amount must be a number or a string, not {other}"
            ))),
        }
    }
}

/// `status_code` as a number, or a numeric string.
pub(crate) fn de_code<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i32, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| de::Error::custom("status_code is not an integer")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| de::Error::custom("status_code is not an integer")),
        _ => Err(de::Error::custom("status_code is not an integer")),
    }
}

/// A map, or PHP's `[]` for an empty one.
pub(crate) fn de_map<'de, D, T>(d: D) -> std::result::Result<BTreeMap<String, T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| serde_json::from_value(v).map(|t| (k, t)).map_err(de::Error::custom))
            .collect(),
        Value::Array(a) if a.is_empty() => Ok(BTreeMap::new()),
        Value::Null => Ok(BTreeMap::new()),
        _ => Err(de::Error::custom("expected an object keyed by number or id")),
    }
}

/// A list of strings, or PHP's `{}`/`null` for an empty one.
fn de_list<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(a) => a
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(de::Error::custom(format!("expected a string, not {other}"))),
            })
            .collect(),
        Value::Object(m) => m
            .into_iter()
            .map(|(_, v)| match v {
                Value::String(s) => Ok(s),
                other => Err(de::Error::custom(format!("expected a string, not {other}"))),
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        _ => Err(de::Error::custom("expected a list")),
    }
}

/// The fields every reply has.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Envelope {
    /// `"OK"` or `"ERROR"`.
    pub status: String,
    /// The request's code (`100` = done).
    #[serde(deserialize_with = "de_code")]
    pub status_code: i32,
    /// SMS.ru's words, when it gave any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
}

impl Envelope {
    /// Whether SMS.ru says the request (or this number) went through.
    pub fn is_ok(&self) -> bool {
        self.status.eq_ignore_ascii_case("OK")
    }
}

/// Finds the entry of a number in a map keyed by number, however SMS.ru wrote the key (`7925…`,
/// `+7925…`, with spaces).
pub(crate) fn find_number<'a, T>(map: &'a BTreeMap<String, T>, number: &PhoneNumber) -> Option<&'a T> {
    if let Some(v) = map.get(number.digits()) {
        return Some(v);
    }
    map.iter()
        .find(|(k, _)| k.chars().filter(char::is_ascii_digit).eq(number.digits().chars()))
        .map(|(_, v)| v)
}

/// Debug for maps keyed by phone number: the keys are masked.
pub(crate) struct MaskedKeys<'a, T>(&'a BTreeMap<String, T>);

impl<T: fmt::Debug> fmt::Debug for MaskedKeys<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(k, v)| (mask(k), v))).finish()
    }
}

/// The state of one message, from `sms/status`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct SmsStatus {
    /// `"OK"` when the message was found.
    pub status: String,
    /// The message-state code (`103` = delivered; `-1` = not found).
    #[serde(deserialize_with = "de_code")]
    pub status_code: i32,
    /// SMS.ru's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    /// What the message cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Amount>,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SmsStatus {
    /// The normalised state.
    pub fn delivery_status(&self) -> DeliveryStatus {
        delivery_status(self.status_code)
    }

    /// Whether SMS.ru knows the message.
    pub fn is_found(&self) -> bool {
        self.status.eq_ignore_ascii_case("OK") && self.status_code != -1
    }
}

/// The reply to `sms/status`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct StatusResponse {
    /// The request's status.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// One state per message id.
    #[serde(default, deserialize_with = "de_map")]
    pub sms: BTreeMap<String, SmsStatus>,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The price of one number, from `sms/cost`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct SmsCost {
    /// `"OK"` or `"ERROR"`.
    pub status: String,
    /// `100`, or why the number cannot be sent to.
    #[serde(deserialize_with = "de_code")]
    pub status_code: i32,
    /// SMS.ru's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    /// The price for this number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Amount>,
    /// How many SMS parts the text takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<u32>,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The reply to `sms/cost`.
///
/// `total_cost` and `total_sms` are what SDKs read; the official excerpt was cut off before them, so
/// they are optional (the published example of <https://sms.ru/api/cost> does not show them).
#[derive(Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct CostResponse {
    /// The request's status.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// One price per number.
    #[serde(default, deserialize_with = "de_map")]
    pub sms: BTreeMap<String, SmsCost>,
    /// The total price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_cost: Option<Amount>,
    /// The total number of SMS parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_sms: Option<u32>,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CostResponse {
    /// The price entry of one number.
    pub fn cost_for(&self, number: &PhoneNumber) -> Option<&SmsCost> {
        find_number(&self.sms, number)
    }
}

impl fmt::Debug for CostResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CostResponse")
            .field("envelope", &self.envelope)
            .field("sms", &MaskedKeys(&self.sms))
            .field("total_cost", &self.total_cost)
            .field("total_sms", &self.total_sms)
            .finish_non_exhaustive()
    }
}

/// The reply to `my/balance`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct BalanceResponse {
    /// The request's status.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The balance, in roubles.
    pub balance: Amount,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The reply to `my/limit` (daily number limit) and `my/free` (free messages to yourself).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct UsageResponse {
    /// The request's status.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// `my/limit`: how many numbers a day the account may send to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_limit: Option<u64>,
    /// `my/free`: how many free messages a day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_free: Option<u64>,
    /// How much of it was used today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_today: Option<u64>,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The reply to `my/senders`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct SendersResponse {
    /// The request's status.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The approved sender names.
    #[serde(default, deserialize_with = "de_list")]
    pub senders: Vec<String>,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The reply to `callback/add`, `callback/del` and `callback/get`: the registered callback URLs.
///
/// Callback URLs carry the webhook secret, so `Debug` shows only how many there are.
#[derive(Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct CallbacksResponse {
    /// The request's status.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The registered URLs.
    #[serde(default, deserialize_with = "de_list")]
    pub callback: Vec<String>,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for CallbacksResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbacksResponse")
            .field("envelope", &self.envelope)
            .field("callbacks", &self.callback.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> PhoneNumber {
        s.parse().unwrap()
    }

    #[test]
    fn amounts_are_exact() {
        for (text, minor) in [
            ("4122.56", Some(412_256)),
            ("10.5", Some(1050)),
            ("10.50", Some(1050)),
            ("0", Some(0)),
            ("-3", Some(-300)),
            ("0.500", Some(50)),
            ("0.505", None),
            ("1e3", None),
            ("", None),
            (".5", None),
        ] {
            assert_eq!(Amount::new(text).to_minor_units(), minor, "{text}");
        }
        let a: Amount = serde_json::from_str("4122.56").unwrap();
        assert_eq!(a.as_str(), "4122.56");
        let a: Amount = serde_json::from_str("\"10.50\"").unwrap();
        assert_eq!(a.to_minor_units(), Some(1050));
        assert!(serde_json::from_str::<Amount>("true").is_err());
    }

    #[test]
    fn php_empty_maps_and_string_codes() {
        let r: send::SendResponse = serde_json::from_str(r#"{"status":"OK","status_code":"100","sms":[]}"#).unwrap();
        assert!(r.sms.is_empty());
        assert_eq!(r.envelope.status_code, 100);
        let c: CallbacksResponse =
            serde_json::from_str(r#"{"status":"OK","status_code":100,"callback":{"0":"https://h/x"}}"#).unwrap();
        assert_eq!(c.callback, vec!["https://h/x"]);
        assert!(serde_json::from_str::<send::SendResponse>(r#"{"status":"OK","status_code":1.5}"#).is_err());
        assert!(serde_json::from_str::<send::SendResponse>(r#"{"status":"OK","status_code":100,"sms":"x"}"#).is_err());
    }

    #[test]
    fn keys_with_plus_match() {
        let r: CostResponse = serde_json::from_str(
            r#"{"status":"OK","status_code":100,"sms":{" +79255070602 ":{"status":"OK","status_code":100,"cost":"0.50","sms":1}},"total_cost":0.5}"#,
        )
        .unwrap();
        let c = r.cost_for(&n("+79255070602")).unwrap();
        assert_eq!(c.cost.as_ref().unwrap().to_minor_units(), Some(50));
        assert_eq!(r.total_cost.unwrap().to_minor_units(), Some(50));
    }
}

//! Mitto's answers read as switchboard [`Error`]s: [`parse_error`] is the one place that does it, for
//! both APIs.
//!
//! | answer | kind | dispatch | why |
//! |---|---|---|---|
//! | HTTP 401 or 403 (both APIs: "Invalid or no API Key specified", a foreign traffic account) | `Auth` | `NotSent` | the key, the source IP or the account was refused before anything was acted on |
//! | legacy `responseCode` 1 (any HTTP status) | `Unavailable` | `MaybeSent` | an internal error that does not say whether the SMS left |
//! | legacy `responseCode` 2–8 (any HTTP status) | `InvalidInput` | `Sent` | Mitto's final word on the request (see below) |
//! | legacy `responseCode` not in the table | `Rejected` | `Sent` | |
//! | any other non-2xx | by the HTTP status (core's `status_kind`) | by the status: 429 and 503 `NotSent`, 500/502/504 `MaybeSent`, the rest `Sent` | |
//! | 2xx with `responseCode` 0 or none | — (a success) | | |
//!
//! * The legacy API answers `responseCode` (0 = sent) and `responseText`; the table is
//!   [`ResponseCode`] (docs.mitto.ch, "SMS/Bulk SMS API Reference"). Whether a non-zero code comes with
//!   HTTP 200 or 400 is not documented (the generated OpenAPI spec only says `400: Bad Request`), so the
//!   code is read from the body whatever the status. Codes 2–8 are refusals, but an answer of the
//!   provider is not proof that nothing of a request went out (a bulk request that failed half-way),
//!   so no refusal read from an answer tells a host it may send again: they are `Sent`, and their
//!   kinds are not temporary, so nothing retries them.
//! * The messaging API documents 400 and 403 without a body shape; third-party code reads `message`
//!   or `error`. The text is taken from `message`, `error` (a string, or an object with `message`),
//!   `title` or `detail`, in that order, and the code from `code` or `errorCode`.
//! * Every error keeps Mitto's code and text and the HTTP status.

use switchboard_core::http::Reply;
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;

/// The legacy API's `responseCode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseCode {
    /// 0: the SMS was sent.
    Sent,
    /// 1: internal error at Mitto.
    InternalError,
    /// 2: `type` is not GSM, Unicode or Binary.
    InvalidType,
    /// 3: the text is empty.
    EmptyMessage,
    /// 4: the text cannot be written in the chosen encoding.
    InvalidTextForEncoding,
    /// 5: the sender is empty.
    EmptySender,
    /// 6: the sender breaks the rules (alphanumeric 3–11, numeric 3–14).
    InvalidSender,
    /// 7: the receiver is empty.
    EmptyReceiver,
    /// 8: the receiver is not an E.164 number of digits.
    InvalidReceiver,
    /// A code the table does not list.
    Other(i64),
}

impl ResponseCode {
    /// The code for a number.
    pub fn from_code(code: i64) -> ResponseCode {
        match code {
            0 => ResponseCode::Sent,
            1 => ResponseCode::InternalError,
            2 => ResponseCode::InvalidType,
            3 => ResponseCode::EmptyMessage,
            4 => ResponseCode::InvalidTextForEncoding,
            5 => ResponseCode::EmptySender,
            6 => ResponseCode::InvalidSender,
            7 => ResponseCode::EmptyReceiver,
            8 => ResponseCode::InvalidReceiver,
            other => ResponseCode::Other(other),
        }
    }

    /// The number.
    pub fn code(self) -> i64 {
        match self {
            ResponseCode::Sent => 0,
            ResponseCode::InternalError => 1,
            ResponseCode::InvalidType => 2,
            ResponseCode::EmptyMessage => 3,
            ResponseCode::InvalidTextForEncoding => 4,
            ResponseCode::EmptySender => 5,
            ResponseCode::InvalidSender => 6,
            ResponseCode::EmptyReceiver => 7,
            ResponseCode::InvalidReceiver => 8,
            ResponseCode::Other(c) => c,
        }
    }

    /// What the code means, in words a caller can act on.
    pub fn describe(self) -> &'static str {
        match self {
            ResponseCode::Sent => "the SMS was sent",
            ResponseCode::InternalError => "Mitto had an internal error; the SMS may or may not have gone out",
            ResponseCode::InvalidType => "Mitto refused the message type (it must be GSM, Unicode or Binary)",
            ResponseCode::EmptyMessage => "Mitto refused an empty message",
            ResponseCode::InvalidTextForEncoding => "the text holds characters the chosen encoding cannot carry",
            ResponseCode::EmptySender => "Mitto refused an empty sender",
            ResponseCode::InvalidSender => {
                "Mitto refused the sender (alphanumeric 3 to 11 characters, numeric 3 to 14 digits)"
            }
            ResponseCode::EmptyReceiver => "Mitto refused an empty receiver",
            ResponseCode::InvalidReceiver => "Mitto refused the receiver (it must be E.164 digits)",
            ResponseCode::Other(_) => "Mitto refused the message with a code it does not document",
        }
    }

    /// The kind and dispatch fact of the failure.
    ///
    /// Codes 2–8 are validation refusals, Mitto's final word on the request: `Sent` (Mitto answered),
    /// never `NotSent`. The answer may come with HTTP 200, and an answer of the provider is not proof
    /// that nothing of a request went out (a bulk request that failed half-way, say), so no refusal read
    /// from an answer tells a host it may send again; the kinds are not temporary, so nothing retries
    /// them anyway. Code 1 does not say whether the message left, so it is `MaybeSent`.
    pub fn kind_and_dispatch(self) -> (ErrorKind, Dispatch) {
        match self {
            ResponseCode::Sent => (ErrorKind::Rejected, Dispatch::Sent),
            ResponseCode::InternalError => (ErrorKind::Unavailable, Dispatch::MaybeSent),
            ResponseCode::InvalidType
            | ResponseCode::EmptyMessage
            | ResponseCode::InvalidTextForEncoding
            | ResponseCode::EmptySender
            | ResponseCode::InvalidSender
            | ResponseCode::EmptyReceiver
            | ResponseCode::InvalidReceiver => (ErrorKind::InvalidInput, Dispatch::Sent),
            ResponseCode::Other(_) => (ErrorKind::Rejected, Dispatch::Sent),
        }
    }
}

/// The error `reply` stands for, or `None` when it is a success. See the [module docs](self).
pub fn parse_error(reply: &Reply) -> Option<Error> {
    let status = reply.status.as_u16();
    let body: Option<serde_json::Value> = serde_json::from_slice(&reply.body).ok();
    if matches!(status, 401 | 403) {
        return Some(with_envelope(refused_key(reply), body.as_ref()));
    }
    if let Some(code) = body.as_ref().and_then(response_code)
        && code != 0
    {
        let text = body
            .as_ref()
            .and_then(|b| b.get("responseText"))
            .and_then(serde_json::Value::as_str);
        return Some(legacy_refusal(code, text, status));
    }
    if reply.is_success() {
        return None;
    }
    Some(with_envelope(reply.status_error().with_provider(SCHEME), body.as_ref()))
}

/// The legacy `responseCode`, a number or its digits as text.
fn response_code(body: &serde_json::Value) -> Option<i64> {
    match body.get("responseCode")? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The error of a non-zero legacy `responseCode`.
fn legacy_refusal(code: i64, text: Option<&str>, http_status: u16) -> Error {
    let rc = ResponseCode::from_code(code);
    let (kind, dispatch) = rc.kind_and_dispatch();
    let mut e = Error::new(kind, rc.describe())
        .with_dispatch(dispatch)
        .with_provider(SCHEME)
        .with_provider_code(code)
        .with_http_status(http_status);
    if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
        e = e.with_provider_text(t);
    }
    e
}

/// HTTP 401/403: the key is missing or wrong, the source IP is not whitelisted, or the traffic account
/// belongs to another key.
fn refused_key(reply: &Reply) -> Error {
    let mut e = Error::new(
        ErrorKind::Auth,
        "Mitto refused the API key (check X-Mitto-API-Key, and that this host's IP is whitelisted by Mitto)",
    )
    .with_dispatch(Dispatch::NotSent)
    .with_provider(SCHEME)
    .with_http_status(reply.status.as_u16());
    if !reply.body.is_empty() {
        e = e.with_provider_text(reply.excerpt());
    }
    e
}

/// Puts the messaging API's own words (text and code), when the body has them, on `e`.
fn with_envelope(mut e: Error, body: Option<&serde_json::Value>) -> Error {
    let Some(v) = body.filter(|v| v.is_object()) else {
        return e;
    };
    let text = ["message", "error", "title", "detail"]
        .iter()
        .find_map(|k| match v.get(*k) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(serde_json::Value::Object(o)) => o.get("message").and_then(|m| m.as_str()).map(str::to_owned),
            _ => None,
        });
    if let Some(t) = text {
        e = e.with_provider_text(t);
    }
    if let Some(code) = v.get("code").or_else(|| v.get("errorCode")).filter(|c| !c.is_null()) {
        e = e.with_provider_code(code.as_str().map(str::to_owned).unwrap_or_else(|| code.to_string()));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::of(status, Bytes::from(body.to_owned()))
    }

    #[test]
    fn both_apis_answers_read_through_one_mapper() {
        assert!(parse_error(&reply(200, r#"{"id":"a","responseCode":0}"#)).is_none());
        assert!(parse_error(&reply(200, r#"{"messages":[]}"#)).is_none());
        let e = parse_error(&reply(200, r#"{"responseCode":"6","responseText":"Invalid sender"}"#)).unwrap();
        assert_eq!((e.kind(), e.provider_code()), (ErrorKind::InvalidInput, Some("6")));
        let e = parse_error(&reply(401, "Invalid or no API Key specified")).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
        assert_eq!(e.provider_text(), Some("Invalid or no API Key specified"));
        let e = parse_error(&reply(403, r#"{"message":"not yours"}"#)).unwrap();
        assert_eq!((e.kind(), e.provider_text()), (ErrorKind::Auth, Some("not yours")));
        let e = parse_error(&reply(400, r#"{"error":{"message":"bad"},"errorCode":17}"#)).unwrap();
        assert_eq!(
            (e.kind(), e.provider_text(), e.provider_code()),
            (ErrorKind::InvalidInput, Some("bad"), Some("17"))
        );
        let e = parse_error(&reply(503, "")).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::NotSent));
        assert_eq!(e.provider(), Some("mitto"));
    }

    #[test]
    fn every_documented_code_maps() {
        let expected = [
            (1, ErrorKind::Unavailable, Dispatch::MaybeSent),
            (2, ErrorKind::InvalidInput, Dispatch::Sent),
            (3, ErrorKind::InvalidInput, Dispatch::Sent),
            (4, ErrorKind::InvalidInput, Dispatch::Sent),
            (5, ErrorKind::InvalidInput, Dispatch::Sent),
            (6, ErrorKind::InvalidInput, Dispatch::Sent),
            (7, ErrorKind::InvalidInput, Dispatch::Sent),
            (8, ErrorKind::InvalidInput, Dispatch::Sent),
            (99, ErrorKind::Rejected, Dispatch::Sent),
        ];
        for (code, kind, dispatch) in expected {
            let body = format!(r#"{{"responseCode":{code},"responseText":"text"}}"#);
            let e = parse_error(&reply(400, &body)).unwrap();
            assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{code}");
            assert_eq!(e.provider_code(), Some(code.to_string().as_str()));
            assert_eq!(e.provider(), Some("mitto"));
            assert_eq!(ResponseCode::from_code(code).code(), code);
        }
    }
}

//! Mitto's error answers, mapped to switchboard's [`Error`].
//!
//! * The legacy API answers with a `responseCode` (0 = sent) and `responseText`. The table is
//!   [`ResponseCode`]. Whether a non-zero code comes with HTTP 200 or 400 is not documented (the
//!   generated OpenAPI spec only says `400: Bad Request`), so the client reads the code from the body
//!   whatever the status is. Every code Mitto answers is `Sent` or `MaybeSent`: an answer is never
//!   read as "nothing went out".
//! * A missing or wrong API key is HTTP 401 "Invalid or no API Key specified" on both APIs. Nothing was
//!   acted on, so it is `Auth` + `NotSent`.
//! * The messaging API documents 400 and 403 without a body shape; third-party code reads `message` or
//!   `error`, which is what the client looks for.

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

/// The error for a non-zero legacy `responseCode`.
pub fn response_code_error(code: i64, text: Option<&str>, http_status: u16) -> Error {
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

/// The error for HTTP 401/403: the key is missing, wrong, or the source IP is not whitelisted.
pub(crate) fn auth_error(reply: &Reply) -> Error {
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

/// The error for a failed messaging-API answer. The body shape is not documented; `message`, `error`
/// (a string or an object with `message`), `title` and `detail` are read, in that order.
pub(crate) fn messaging_error(reply: &Reply) -> Error {
    let mut e = if matches!(reply.status.as_u16(), 401 | 403) {
        auth_error(reply)
    } else {
        reply.status_error().with_provider(SCHEME)
    };
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&reply.body) {
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
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let e = response_code_error(code, Some("text"), 400);
            assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{code}");
            assert_eq!(e.provider_code(), Some(code.to_string().as_str()));
            assert_eq!(e.provider(), Some("mitto"));
            assert_eq!(ResponseCode::from_code(code).code(), code);
        }
    }
}

//! 1C's error answers mapped to switchboard [`Error`]s: [`parse_error`] for the standard OData
//! interface, [`parse_service_error`] for HTTP services.
//!
//! 1C answers a failed OData request with an HTTP error status and
//! `{"odata.error":{"code":"…","message":{"lang":"ru","value":"…"}}}`; the code is a string. 1C does not
//! publish a list of the codes. Two are known from 1C's own texts and are in [`KNOWN_CODES`]; every
//! other code keeps its number and text, and its kind and dispatch fact come from the HTTP status:
//!
//! | answer | kind | dispatch |
//! |---|---|---|
//! | `odata.error` code `13` (tabular-section rows created on their own) | `Unsupported` | by status (400: `Sent`) |
//! | `odata.error` code `-1` (internal error; details in 1C's technology log) | by status (500: `Unavailable`) | by status (500: `MaybeSent`) |
//! | any other `odata.error`, or no envelope | by status | by status |
//! | 401 | `Auth` | `NotSent` |
//! | 403 | `Auth` | `NotSent` |
//! | 404 | `NotFound` | `Sent` |
//! | 408, 429, 503 | `Timeout`, `RateLimited`, `Unavailable` | `NotSent` |
//! | 500, 502, 504 | `Unavailable` | `MaybeSent` |
//!
//! "By status" is core's [`status_kind`]. A 500 may come after 1C wrote the object, so a create that
//! got one is `MaybeSent` and is never repeated blind (see `crate::sync`).
//!
//! The message is Russian and often unhelpful (`-1` says only "see the technology log"), so each known
//! code carries an English line saying what usually causes it.

use serde::Deserialize;
use switchboard_core::http::{Reply, status_kind};
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;

/// What 1C put in `odata.error`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ODataError {
    /// 1C's code, a string (`"-1"`, `"13"`).
    pub code: String,
    /// The message.
    pub message: ODataMessage,
}

/// The message of an [`ODataError`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ODataMessage {
    /// Its language (`ru`).
    #[serde(default)]
    pub lang: String,
    /// Its text.
    #[serde(default)]
    pub value: String,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "odata.error")]
    error: ODataError,
}

/// A documented error code: what it means and what to do.
#[derive(Debug, Clone, Copy)]
pub struct KnownCode {
    /// 1C's code.
    pub code: &'static str,
    /// The kind it maps to; `None` keeps the kind of the HTTP status.
    pub kind: Option<ErrorKind>,
    /// What it usually means.
    pub meaning: &'static str,
}

/// The codes whose meaning is known from 1C's own error texts. 1C does not publish the full list.
pub const KNOWN_CODES: &[KnownCode] = &[
    KnownCode {
        code: "13",
        kind: Some(ErrorKind::Unsupported),
        meaning: "1C does not create tabular-section rows directly; send the rows inside their document, \
                  each with LineNumber",
    },
    KnownCode {
        code: "-1",
        kind: None,
        meaning: "1C reported an internal OData error; 1C's technology log has the details (common causes: \
                  the infobase user lacks rights to write or post, rows without LineNumber, a malformed body)",
    },
];

/// The entry of [`KNOWN_CODES`] for a code.
pub fn known_code(code: &str) -> Option<&'static KnownCode> {
    KNOWN_CODES.iter().find(|k| k.code == code)
}

/// Reads the `odata.error` of an answer, if the body is one.
pub fn parse_odata_error(body: &[u8]) -> Option<ODataError> {
    // Some publications put a UTF-8 BOM in front of JSON.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice::<Envelope>(body).ok().map(|e| e.error)
}

/// The error a reply of the OData interface stands for, or `None` for a 2xx answer (see the table in
/// the [module docs](self)).
pub fn parse_error(reply: &Reply) -> Option<Error> {
    if reply.is_success() {
        return None;
    }
    let status = reply.status.as_u16();
    let Some(odata) = parse_odata_error(&reply.body) else {
        let e = reply.status_error();
        let e = match status {
            401 => e.with_message("1C refused the user name or password (HTTP 401)"),
            403 => e.with_message("the 1C infobase user may not use the OData interface (HTTP 403)"),
            404 => e.with_message(
                "not found: the publication path is wrong, the object is not in the OData composition \
                 (УстановитьСоставСтандартногоИнтерфейсаOData), or the entity does not exist",
            ),
            _ => e,
        };
        return Some(e.with_provider(SCHEME));
    };
    let (status_kind, dispatch) = status_kind(reply.status);
    let known = known_code(&odata.code);
    let kind = known.and_then(|k| k.kind).unwrap_or(status_kind);
    let message = match known {
        Some(k) => k.meaning.to_owned(),
        None => match status {
            404 => "1C has no such entity".to_owned(),
            401 | 403 => "1C refused the infobase user".to_owned(),
            _ => format!("1C refused the request (HTTP {status})"),
        },
    };
    let mut e = Error::new(kind, message)
        .with_dispatch(dispatch)
        .with_provider(SCHEME)
        .with_provider_code(&odata.code)
        .with_http_status(status);
    if !odata.message.value.is_empty() {
        e = e.with_provider_text(&odata.message.value);
    }
    if let Some(after) = switchboard_core::http::retry_after(&reply.headers) {
        e = e.with_retry_after(after);
    }
    Some(e)
}

/// The error a reply of an HTTP service stands for, or `None` for a 2xx answer. A service's contract is
/// whatever its 1C developer wrote, so only the HTTP status is read (core's [`status_kind`]); the body's
/// start is kept as the provider's text.
pub fn parse_service_error(reply: &Reply) -> Option<Error> {
    (!reply.is_success()).then(|| reply.status_error().with_provider(SCHEME))
}

/// Marks an error as this provider's, keeping everything else.
pub(crate) fn ours(e: Error) -> Error {
    if e.provider().is_some() {
        e
    } else {
        e.with_provider(SCHEME)
    }
}

/// An error for an answer that was 2xx but not what the operation returns.
pub(crate) fn unexpected(what: &str, reply: &Reply) -> Error {
    Error::decode(format!("1C answered {what} with HTTP {}", reply.status.as_u16()))
        .with_dispatch(Dispatch::Sent)
        .with_provider(SCHEME)
        .with_http_status(reply.status.as_u16())
        .with_provider_text(reply.excerpt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::of(status, Bytes::from(body.to_owned()))
    }

    fn err(reply: Reply) -> Error {
        parse_error(&reply).expect("an error answer")
    }

    #[test]
    fn a_2xx_is_no_error() {
        assert!(parse_error(&reply(200, r#"{"value":[]}"#)).is_none());
        assert!(parse_error(&reply(201, "")).is_none());
        assert!(parse_service_error(&reply(204, "")).is_none());
    }

    #[test]
    fn service_errors_go_by_status_and_keep_the_body() {
        let e = parse_service_error(&reply(422, r#"{"error":"ИНН неверен"}"#)).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::Sent));
        assert!(e.provider_text().unwrap().contains("ИНН неверен"));
        assert_eq!(e.provider(), Some("onec"));
        let e = parse_service_error(&reply(500, r#"{"odata.error":{"code":"13"}}"#)).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
        assert_eq!(e.provider_code(), None, "a service's body is not read as OData");
    }

    #[test]
    fn documented_codes() {
        let e = err(reply(
            400,
            r#"{"odata.error":{"code":"13","message":{"lang":"ru","value":"Cоздание строк табличной части напрямую не поддерживается"}}}"#,
        ));
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(e.dispatch(), Dispatch::Sent);
        assert_eq!(e.provider_code(), Some("13"));
        assert!(e.provider_text().unwrap().contains("табличной"));
        assert_eq!(e.provider(), Some("onec"));

        let e = err(reply(
            500,
            "\u{feff}{\"odata.error\":{\"code\":\"-1\",\"message\":{\"lang\":\"ru\",\"value\":\"Произошла внутренняя ошибка\"}}}",
        ));
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
        assert_eq!(e.provider_code(), Some("-1"));
        assert!(e.to_string().contains("technology log"));
    }

    #[test]
    fn unknown_codes_and_non_json() {
        let e = err(reply(
            404,
            r#"{"odata.error":{"code":"9","message":{"lang":"ru","value":"x"}}}"#,
        ));
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.provider_code(), Some("9"));
        let e = err(reply(401, ""));
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(e.to_string().contains("user name or password"));
        let e = err(reply(502, "<html>Bad gateway</html>"));
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
        let e = err(reply(400, r#"{"odata.error":{"code":5}}"#));
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}

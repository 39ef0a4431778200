//! 1C's `odata.error` answers mapped to switchboard [`Error`]s.
//!
//! 1C answers a failed OData request with an HTTP error status and
//! `{"odata.error":{"code":"…","message":{"lang":"ru","value":"…"}}}`. The code is a string. Only two
//! codes are documented in public material (reference §7.2); both are in [`KNOWN_CODES`]. Every other
//! code keeps its number and text, and its kind comes from the HTTP status.
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

/// The codes public material documents (reference §7.2). The full list is not published.
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

/// The error for a non-2xx answer of the OData interface.
pub fn from_reply(reply: &Reply) -> Error {
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
        return e.with_provider(SCHEME);
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
    e
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
    use http::{HeaderMap, StatusCode};

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn documented_codes() {
        let e = from_reply(&reply(
            400,
            r#"{"odata.error":{"code":"13","message":{"lang":"ru","value":"Cоздание строк табличной части напрямую не поддерживается"}}}"#,
        ));
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert_eq!(e.dispatch(), Dispatch::Sent);
        assert_eq!(e.provider_code(), Some("13"));
        assert!(e.provider_text().unwrap().contains("табличной"));
        assert_eq!(e.provider(), Some("onec"));

        let e = from_reply(&reply(
            500,
            "\u{feff}{\"odata.error\":{\"code\":\"-1\",\"message\":{\"lang\":\"ru\",\"value\":\"Произошла внутренняя ошибка\"}}}",
        ));
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
        assert_eq!(e.provider_code(), Some("-1"));
        assert!(e.to_string().contains("technology log"));
    }

    #[test]
    fn unknown_codes_and_non_json() {
        let e = from_reply(&reply(
            404,
            r#"{"odata.error":{"code":"9","message":{"lang":"ru","value":"x"}}}"#,
        ));
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.provider_code(), Some("9"));
        let e = from_reply(&reply(401, ""));
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(e.to_string().contains("user name or password"));
        let e = from_reply(&reply(502, "<html>Bad gateway</html>"));
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
        let e = from_reply(&reply(400, r#"{"odata.error":{"code":5}}"#));
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}

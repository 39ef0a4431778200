//! MightyCall's error answers, mapped to switchboard's [`Error`].
//!
//! * The token endpoint answers OAuth errors, `{"error":"invalid_client","error_description":…}`. The
//!   HTTP status of a bad key is not established (400 by OAuth, a 500 seen by one dashboard), so the
//!   `error` word decides, whatever the status: `invalid_client` means the API key or User key is wrong
//!   (or the User key is not switched on) and is `Auth`; `invalid_grant` means a refresh token was
//!   refused.
//! * An API call answered 401 was not acted on: `Auth` + `NotSent`. (The client refreshes the token and
//!   repeats such a call once before giving up.)
//! * Other failures carry the response envelope's message when there is one (`{"isSuccess":false,
//!   "error":{…}}`, `{"message":…}`; the envelope is not documented), over the HTTP status's meaning.

use serde_json::Value;
use switchboard_core::http::Reply;
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;

/// The OAuth `error` word of a refused client (wrong API key or User key).
pub const INVALID_CLIENT: &str = "invalid_client";
/// The OAuth `error` word of a refused refresh token.
pub const INVALID_GRANT: &str = "invalid_grant";

/// The error for a failed `/auth/token` answer.
pub(crate) fn token_error(reply: &Reply) -> Error {
    let body: Option<Value> = serde_json::from_slice(&reply.body).ok();
    let word = body
        .as_ref()
        .and_then(|b| b.get("error"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let description = body
        .as_ref()
        .and_then(|b| b.get("error_description"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let status = reply.status.as_u16();
    let mut e = match word.as_deref() {
        Some(INVALID_CLIENT) => Error::new(
            ErrorKind::Auth,
            "MightyCall refused the API key or User key (invalid_client): check both, and that the User key \
             is switched on under Integrations → API",
        ),
        Some(INVALID_GRANT) => Error::new(ErrorKind::Auth, "MightyCall refused the refresh token (invalid_grant)"),
        Some("unauthorized_client") | Some("access_denied") => {
            Error::new(ErrorKind::Auth, "MightyCall does not let these credentials use the API")
        }
        Some("unsupported_grant_type") | Some("invalid_request") | Some("invalid_scope") => {
            Error::new(ErrorKind::Config, "MightyCall refused the token request as malformed")
        }
        _ if matches!(status, 401 | 403) => Error::new(ErrorKind::Auth, "MightyCall refused the credentials"),
        _ => reply.status_error().with_message("MightyCall's token endpoint failed"),
    };
    e = e.with_provider(SCHEME).with_http_status(status);
    if let Some(w) = word {
        e = e.with_provider_code(w);
    }
    match description {
        Some(d) => e.with_provider_text(d),
        None if e.provider_text().is_none() && !reply.body.is_empty() => e.with_provider_text(reply.excerpt()),
        None => e,
    }
}

/// The error for a failed API answer (not the token endpoint).
pub(crate) fn api_error(reply: &Reply) -> Error {
    let mut e = if reply.status.as_u16() == 401 {
        Error::new(ErrorKind::Auth, "MightyCall refused the access token")
            .with_dispatch(Dispatch::NotSent)
            .with_http_status(401)
    } else {
        reply.status_error()
    };
    e = e.with_provider(SCHEME);
    if let Some((code, text)) = envelope_error(&reply.body) {
        if let Some(c) = code {
            e = e.with_provider_code(c);
        }
        if let Some(t) = text {
            e = e.with_provider_text(t);
        }
    }
    e
}

/// The error of an answer that is 2xx but says `"isSuccess": false`.
pub(crate) fn unsuccessful(reply: &Reply) -> Error {
    let mut e = Error::new(ErrorKind::Rejected, "MightyCall answered isSuccess: false")
        .with_provider(SCHEME)
        .with_http_status(reply.status.as_u16());
    if let Some((code, text)) = envelope_error(&reply.body) {
        if let Some(c) = code {
            e = e.with_provider_code(c);
        }
        if let Some(t) = text {
            e = e.with_provider_text(t);
        }
    }
    e
}

/// Reads `(code, message)` from the error envelopes seen: `{"error":{"code","message"}}`,
/// `{"error":"…"}`, `{"message":"…"}`, `{"errors":[…]}`.
fn envelope_error(body: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let (code, text) = match v.get("error") {
        Some(Value::Object(o)) => (
            o.get("code").and_then(as_text),
            o.get("message").or(o.get("description")).and_then(as_text),
        ),
        Some(Value::String(s)) => (None, Some(s.clone())),
        _ => (
            v.get("code").and_then(as_text),
            v.get("message")
                .or(v.get("title"))
                .and_then(as_text)
                .or_else(|| v.get("errors").map(|e| e.to_string())),
        ),
    };
    (code.is_some() || text.is_some()).then_some((code, text))
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
    fn invalid_client_is_auth_whatever_the_status() {
        for status in [400, 401, 500] {
            let e = token_error(&reply(status, r#"{"error":"invalid_client"}"#));
            assert_eq!(e.kind(), ErrorKind::Auth, "{status}");
            assert_eq!(e.provider_code(), Some("invalid_client"));
        }
        let e = token_error(&reply(
            400,
            r#"{"error":"invalid_grant","error_description":"expired"}"#,
        ));
        assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("invalid_grant")));
        assert_eq!(e.provider_text(), Some("expired"));
        let e = token_error(&reply(503, "down"));
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::NotSent));
    }

    #[test]
    fn api_errors_read_the_envelope() {
        let e = api_error(&reply(
            400,
            r#"{"isSuccess":false,"error":{"code":"InvalidNumber","message":"bad to"}}"#,
        ));
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            (e.provider_code(), e.provider_text()),
            (Some("InvalidNumber"), Some("bad to"))
        );
        let e = api_error(&reply(401, ""));
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
        let e = api_error(&reply(404, r#"{"message":"no such request"}"#));
        assert_eq!(
            (e.kind(), e.provider_text()),
            (ErrorKind::NotFound, Some("no such request"))
        );
    }
}

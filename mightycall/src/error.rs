//! MightyCall's answers read as switchboard [`Error`]s: [`parse_error`] is the one place that does it,
//! for the token endpoint and the API alike.
//!
//! | answer | kind | dispatch | why |
//! |---|---|---|---|
//! | OAuth `error` `invalid_client` (any HTTP status) | `Auth` | `Sent`¹ | the API key or User key is wrong, or the User key is not switched on |
//! | OAuth `error` `invalid_grant` | `Auth` | `Sent`¹ | a refresh token was refused (the client then authenticates with the keys) |
//! | OAuth `error` `unauthorized_client`, `access_denied` | `Auth` | `Sent`¹ | these credentials may not use the API |
//! | OAuth `error` `unsupported_grant_type`, `invalid_request`, `invalid_scope` | `Config` | `NotSent` | the token request is malformed |
//! | HTTP 401 | `Auth` | `NotSent` | the access token (or key) was refused before anything was acted on; the pipeline refreshes the token and repeats the call once |
//! | any other non-2xx | by the HTTP status (core's `status_kind`) | by the status | with the envelope's code and message, when there is one |
//! | 2xx with `"isSuccess": false` | `Rejected` | `Sent` | MightyCall answered and refused |
//! | any other 2xx | — (a success) | | |
//!
//! ¹ A failed token request never lets the call it was for leave, so the client marks whatever the
//! token endpoint answered `NotSent` for that call.
//!
//! * The token endpoint answers OAuth errors, `{"error":"invalid_client","error_description":…}`. The
//!   HTTP status of a bad key is not established (400 by OAuth, a 500 seen by one dashboard), so the
//!   `error` word decides, whatever the status.
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

/// The OAuth error words of the token endpoint (RFC 6749, section 5.2).
const OAUTH_WORDS: &[&str] = &[
    INVALID_CLIENT,
    INVALID_GRANT,
    "unauthorized_client",
    "access_denied",
    "unsupported_grant_type",
    "invalid_request",
    "invalid_scope",
];

/// The error `reply` stands for, or `None` when it is a success. See the [module docs](self).
pub fn parse_error(reply: &Reply) -> Option<Error> {
    let body: Option<Value> = serde_json::from_slice(&reply.body).ok();
    if reply.is_success() {
        let refused = body.as_ref().and_then(|b| b.get("isSuccess")).and_then(Value::as_bool) == Some(false);
        return refused.then(|| unsuccessful(reply));
    }
    let word = body
        .as_ref()
        .and_then(|b| b.get("error"))
        .and_then(Value::as_str)
        .filter(|w| OAUTH_WORDS.contains(w));
    Some(match word {
        Some(w) => oauth_refusal(reply, w, body.as_ref()),
        None => refusal(reply),
    })
}

/// An OAuth refusal of the token endpoint.
fn oauth_refusal(reply: &Reply, word: &str, body: Option<&Value>) -> Error {
    let e = match word {
        INVALID_CLIENT => Error::new(
            ErrorKind::Auth,
            "MightyCall refused the API key or User key (invalid_client): check both, and that the User key \
             is switched on under Integrations → API",
        ),
        INVALID_GRANT => Error::new(ErrorKind::Auth, "MightyCall refused the refresh token (invalid_grant)"),
        "unauthorized_client" | "access_denied" => {
            Error::new(ErrorKind::Auth, "MightyCall does not let these credentials use the API")
        }
        _ => Error::new(ErrorKind::Config, "MightyCall refused the token request as malformed"),
    };
    let e = e
        .with_provider(SCHEME)
        .with_http_status(reply.status.as_u16())
        .with_provider_code(word);
    match body.and_then(|b| b.get("error_description")).and_then(Value::as_str) {
        Some(d) => e.with_provider_text(d),
        None if !reply.body.is_empty() => e.with_provider_text(reply.excerpt()),
        None => e,
    }
}

/// A refusal of an API call (or a token request without an OAuth word).
fn refusal(reply: &Reply) -> Error {
    let mut e = if reply.status.as_u16() == 401 {
        Error::new(
            ErrorKind::Auth,
            "MightyCall refused the credentials (the access token or the API key)",
        )
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

    fn reply(status: u16, body: &str) -> Reply {
        Reply::of(status, Bytes::from(body.to_owned()))
    }

    #[test]
    fn invalid_client_is_auth_whatever_the_status() {
        for status in [400, 401, 500] {
            let e = parse_error(&reply(status, r#"{"error":"invalid_client"}"#)).unwrap();
            assert_eq!(e.kind(), ErrorKind::Auth, "{status}");
            assert_eq!(e.provider_code(), Some("invalid_client"));
        }
        let e = parse_error(&reply(
            400,
            r#"{"error":"invalid_grant","error_description":"expired"}"#,
        ))
        .unwrap();
        assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("invalid_grant")));
        assert_eq!(e.provider_text(), Some("expired"));
        let e = parse_error(&reply(503, "down")).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::NotSent));
    }

    #[test]
    fn api_errors_read_the_envelope() {
        let e = parse_error(&reply(
            400,
            r#"{"isSuccess":false,"error":{"code":"InvalidNumber","message":"bad to"}}"#,
        ))
        .unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            (e.provider_code(), e.provider_text()),
            (Some("InvalidNumber"), Some("bad to"))
        );
        let e = parse_error(&reply(401, "")).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
        let e = parse_error(&reply(404, r#"{"message":"no such request"}"#)).unwrap();
        assert_eq!(
            (e.kind(), e.provider_text()),
            (ErrorKind::NotFound, Some("no such request"))
        );
        let e = parse_error(&reply(400, r#"{"error":"not an oauth word"}"#)).unwrap();
        assert_eq!(
            (e.kind(), e.provider_text()),
            (ErrorKind::InvalidInput, Some("not an oauth word"))
        );
    }

    #[test]
    fn a_2xx_is_a_success_unless_it_says_is_success_false() {
        assert!(parse_error(&reply(200, r#"{"isSuccess":true,"data":{"id":"1"}}"#)).is_none());
        assert!(
            parse_error(&reply(200, "not json")).is_none(),
            "the pipeline's decode says Decode + Sent"
        );
        let e = parse_error(&reply(
            200,
            r#"{"isSuccess":false,"error":{"code":"X","message":"no"}}"#,
        ))
        .unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Rejected, Dispatch::Sent));
        assert_eq!((e.provider_code(), e.provider_text()), (Some("X"), Some("no")));
    }
}

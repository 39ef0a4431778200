//! FCM's error codes → switchboard [`Error`]s, and what a host should do about each:
//! [`parse_error`] for `messages:send`, [`parse_token_error`] for Google's OAuth token endpoint.
//!
//! | FCM `errorCode` | HTTP | kind | dispatch | the host should |
//! |---|---|---|---|---|
//! | `UNREGISTERED` | 404 | `NotFound` | `NotSent` | delete the token ([`is_unregistered`]) |
//! | `SENDER_ID_MISMATCH` | 403 | `Rejected` | `NotSent` | delete the token: it belongs to another project |
//! | `INVALID_ARGUMENT` | 400 | `InvalidInput` | `NotSent` | fix the message; a `message.token` field violation means the token is malformed |
//! | `QUOTA_EXCEEDED` | 429 | `RateLimited` | `NotSent` | back off, honouring `Retry-After` |
//! | `UNAVAILABLE` | 503 | `Unavailable` | `NotSent` | retry honouring `Retry-After` |
//! | `INTERNAL` | 500 | `Unavailable` | `MaybeSent` | retry only if a duplicate push is acceptable |
//! | `THIRD_PARTY_AUTH_ERROR` | 401 | `Auth` | `NotSent` | fix the APNs certificate / web push key in the Firebase project |
//! | `UNSPECIFIED_ERROR`, others | — | by HTTP status | by HTTP status | — |
//!
//! Without an FCM code the canonical `status` decides (`UNAUTHENTICATED`, `PERMISSION_DENIED`…). The
//! provider code is the FCM `errorCode` when there is one, else the canonical status. The whole
//! decoded error is the source ([`ApiError`], reach it with [`ApiError::of`]). A 2xx is never an
//! error here, whatever its body: whether it names the message is the client's question.
//!
//! The token endpoint answers OAuth errors (RFC 6749 §5.2):
//!
//! | OAuth `error` | kind |
//! |---|---|
//! | `invalid_grant`, `invalid_client`, `unauthorized_client`, `access_denied` | `Auth` |
//! | `invalid_scope`, `unsupported_grant_type`, `invalid_request` | `Config` |
//! | `temporarily_unavailable`, `server_error` | `Unavailable` |
//! | others | by HTTP status |

use std::fmt;

use switchboard_core::http::{Reply, retry_after};
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;
use crate::model::{ErrorEnvelope, OAuthError};

/// Google's error, decoded: the source of every FCM API [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub http_status: u16,
    /// The canonical status (`NOT_FOUND`).
    pub status: String,
    /// The FCM error code (`UNREGISTERED`), when there is one.
    pub fcm_code: Option<String>,
    /// Google's message.
    pub message: String,
    /// `(field, description)` of every field violation.
    pub field_violations: Vec<(String, String)>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.http_status, self.status)?;
        if let Some(c) = &self.fcm_code {
            write!(f, " / {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// The decoded FCM error behind an [`Error`], if it came from FCM's API.
    pub fn of(e: &Error) -> Option<&ApiError> {
        std::error::Error::source(e)?.downcast_ref::<ApiError>()
    }
}

/// Whether FCM said the registration token is no longer valid (`UNREGISTERED`): the app was
/// uninstalled or the token expired. The host should delete the token and stop sending to it.
pub fn is_unregistered(e: &Error) -> bool {
    e.provider() == Some(SCHEME) && e.provider_code() == Some("UNREGISTERED")
}

/// Whether the token should be deleted: `UNREGISTERED`, `SENDER_ID_MISMATCH`, or `INVALID_ARGUMENT`
/// that FCM pinned on `message.token` (a malformed token). Any other `INVALID_ARGUMENT` is a fault of
/// the message, not of the token, and deleting the token for it would lose a good device.
pub fn is_invalid_token(e: &Error) -> bool {
    if e.provider() != Some(SCHEME) {
        return false;
    }
    match e.provider_code() {
        Some("UNREGISTERED" | "SENDER_ID_MISMATCH") => true,
        Some("INVALID_ARGUMENT") => ApiError::of(e).is_some_and(|a| {
            a.field_violations.iter().any(|(f, _)| f == "message.token")
                || a.message.contains("not a valid FCM registration token")
        }),
        _ => false,
    }
}

/// The error a `messages:send` answer stands for: `None` for a 2xx, otherwise the mapping in the
/// [module docs](self), with the kind, the dispatch fact and `Retry-After`.
pub fn parse_error(reply: &Reply) -> Option<Error> {
    if reply.is_success() {
        return None;
    }
    let Ok(env) = reply.json::<ErrorEnvelope>() else {
        return Some(reply.status_error().with_provider(SCHEME).with_message(format!(
            "FCM answered HTTP {} without its error envelope",
            reply.status.as_u16()
        )));
    };
    let body = env.error;
    let api = ApiError {
        http_status: reply.status.as_u16(),
        status: body.status.clone(),
        fcm_code: body.fcm_error_code().map(str::to_owned),
        message: body.message.clone(),
        field_violations: body.field_violations(),
    };
    let (kind, dispatch, what): (ErrorKind, Dispatch, String) = match api.fcm_code.as_deref() {
        Some("UNREGISTERED") => (
            ErrorKind::NotFound,
            Dispatch::NotSent,
            "the registration token is no longer valid (app uninstalled or token expired): delete it".into(),
        ),
        Some("SENDER_ID_MISMATCH") => (
            ErrorKind::Rejected,
            Dispatch::NotSent,
            "the registration token belongs to another Firebase project: delete it".into(),
        ),
        Some("INVALID_ARGUMENT") => (ErrorKind::InvalidInput, Dispatch::NotSent, invalid_text(&api)),
        Some("QUOTA_EXCEEDED") => (
            ErrorKind::RateLimited,
            Dispatch::NotSent,
            "a sending quota is exceeded (project, device or topic)".into(),
        ),
        Some("UNAVAILABLE") => (ErrorKind::Unavailable, Dispatch::NotSent, "FCM is overloaded".into()),
        Some("INTERNAL") => (
            ErrorKind::Unavailable,
            Dispatch::MaybeSent,
            "FCM had an internal error; the message may have been delivered".into(),
        ),
        Some("THIRD_PARTY_AUTH_ERROR") => (
            ErrorKind::Auth,
            Dispatch::NotSent,
            "Apple or the web push service refused the Firebase project's credentials (APNs certificate or VAPID key)"
                .into(),
        ),
        _ => by_status(&api, reply),
    };
    let mut e = Error::new(kind, what)
        .with_dispatch(dispatch)
        .with_provider(SCHEME)
        .with_provider_code(api.fcm_code.clone().unwrap_or_else(|| api.status.clone()))
        .with_http_status(reply.status.as_u16());
    if !api.message.is_empty() {
        e = e.with_provider_text(&api.message);
    }
    if let Some(after) = retry_after(&reply.headers) {
        e = e.with_retry_after(after);
    }
    Some(e.with_source(api))
}

/// The error a token endpoint answer stands for: `None` for a 2xx, otherwise the OAuth error mapped
/// as the [module docs](self) say. Always `NotSent` for the message the token was for: no message
/// goes out without a token.
pub fn parse_token_error(reply: &Reply) -> Option<Error> {
    if reply.is_success() {
        return None;
    }
    let base = reply.status_error().with_provider(SCHEME);
    let Ok(e) = reply.json::<OAuthError>() else {
        return Some(base.with_message("the OAuth token endpoint refused the assertion"));
    };
    let kind = match e.error.as_str() {
        "invalid_grant" | "invalid_client" | "unauthorized_client" | "access_denied" => ErrorKind::Auth,
        "invalid_scope" | "unsupported_grant_type" | "invalid_request" => ErrorKind::Config,
        "temporarily_unavailable" | "server_error" => ErrorKind::Unavailable,
        _ => base.kind(),
    };
    let text = e.error_description.clone().unwrap_or_else(|| e.error.clone());
    let hint = match kind {
        ErrorKind::Auth => "check the service-account key (revoked or deleted?) and the server's clock",
        ErrorKind::Config => "the token request is malformed for this service account",
        _ => "the OAuth token endpoint failed",
    };
    Some(
        Error::new(
            kind,
            format!("Google refused the service-account assertion ({}): {hint}", e.error),
        )
        .with_dispatch(base.dispatch())
        .with_provider(SCHEME)
        .with_provider_code(&e.error)
        .with_provider_text(text)
        .with_http_status(reply.status.as_u16()),
    )
}

fn invalid_text(api: &ApiError) -> String {
    match api.field_violations.first() {
        Some((field, desc)) => format!("FCM refused the message: {field}: {desc}"),
        None => "FCM refused the message as invalid".into(),
    }
}

/// No FCM code: the canonical status, then the HTTP status.
fn by_status(api: &ApiError, reply: &Reply) -> (ErrorKind, Dispatch, String) {
    match api.status.as_str() {
        "UNAUTHENTICATED" => (
            ErrorKind::Auth,
            Dispatch::NotSent,
            "FCM refused the access token".into(),
        ),
        "PERMISSION_DENIED" => (
            ErrorKind::Auth,
            Dispatch::NotSent,
            "the service account may not send for this project (role, scope or project id)".into(),
        ),
        "INVALID_ARGUMENT" => (ErrorKind::InvalidInput, Dispatch::NotSent, invalid_text(api)),
        "NOT_FOUND" => (
            ErrorKind::NotFound,
            Dispatch::NotSent,
            "FCM does not know the project or resource".into(),
        ),
        "RESOURCE_EXHAUSTED" => (
            ErrorKind::RateLimited,
            Dispatch::NotSent,
            "a sending quota is exceeded".into(),
        ),
        "UNAVAILABLE" => (ErrorKind::Unavailable, Dispatch::NotSent, "FCM is unavailable".into()),
        _ => {
            let (k, d) = switchboard_core::http::status_kind(reply.status);
            // A refusal (4xx other than timeouts) is final and was not acted on.
            let d = if reply.status.is_client_error() && d == Dispatch::Sent {
                Dispatch::NotSent
            } else {
                d
            };
            (
                k,
                d,
                format!(
                    "FCM answered {}",
                    if api.status.is_empty() { "an error" } else { &api.status }
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};

    fn reply(status: u16, canonical: &str, code: Option<&str>, retry: Option<&str>) -> Reply {
        let mut details = vec![];
        if let Some(c) = code {
            details
                .push(serde_json::json!({"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":c}));
        }
        let body = serde_json::json!({"error":{"code":status,"message":"m","status":canonical,"details":details}});
        let mut headers = HeaderMap::new();
        if let Some(r) = retry {
            headers.insert("retry-after", r.parse().unwrap());
        }
        Reply::new(
            StatusCode::from_u16(status).unwrap(),
            headers,
            Bytes::from(body.to_string()),
        )
    }

    #[test]
    fn every_documented_code_maps() {
        let cases = [
            (
                400,
                "INVALID_ARGUMENT",
                "INVALID_ARGUMENT",
                ErrorKind::InvalidInput,
                Dispatch::NotSent,
            ),
            (404, "NOT_FOUND", "UNREGISTERED", ErrorKind::NotFound, Dispatch::NotSent),
            (
                403,
                "PERMISSION_DENIED",
                "SENDER_ID_MISMATCH",
                ErrorKind::Rejected,
                Dispatch::NotSent,
            ),
            (
                429,
                "RESOURCE_EXHAUSTED",
                "QUOTA_EXCEEDED",
                ErrorKind::RateLimited,
                Dispatch::NotSent,
            ),
            (
                503,
                "UNAVAILABLE",
                "UNAVAILABLE",
                ErrorKind::Unavailable,
                Dispatch::NotSent,
            ),
            (500, "INTERNAL", "INTERNAL", ErrorKind::Unavailable, Dispatch::MaybeSent),
            (
                401,
                "UNAUTHENTICATED",
                "THIRD_PARTY_AUTH_ERROR",
                ErrorKind::Auth,
                Dispatch::NotSent,
            ),
        ];
        for (http, canonical, code, kind, dispatch) in cases {
            let e = parse_error(&reply(http, canonical, Some(code), None)).unwrap();
            assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{code}");
            assert_eq!(e.provider_code(), Some(code));
            assert_eq!(e.provider(), Some("fcm"));
            assert_eq!(ApiError::of(&e).unwrap().http_status, http);
        }
        let e = parse_error(&reply(404, "NOT_FOUND", Some("UNREGISTERED"), None)).unwrap();
        assert!(is_unregistered(&e) && is_invalid_token(&e));
        let e = parse_error(&reply(400, "INVALID_ARGUMENT", Some("INVALID_ARGUMENT"), None)).unwrap();
        assert!(!is_unregistered(&e) && !is_invalid_token(&e));
    }

    #[test]
    fn retry_after_is_kept() {
        let e = parse_error(&reply(429, "RESOURCE_EXHAUSTED", Some("QUOTA_EXCEEDED"), Some("30"))).unwrap();
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(30)));
        assert!(e.is_safe_to_retry(false));
    }

    #[test]
    fn no_fcm_code_uses_the_canonical_status_and_garbage_is_safe() {
        let e = parse_error(&reply(401, "UNAUTHENTICATED", None, None)).unwrap();
        assert_eq!(
            (e.kind(), e.provider_code()),
            (ErrorKind::Auth, Some("UNAUTHENTICATED"))
        );
        let garbage = Reply::new(
            StatusCode::BAD_GATEWAY,
            HeaderMap::new(),
            Bytes::from_static(b"<html>502</html>"),
        );
        let e = parse_error(&garbage).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    }

    #[test]
    fn a_2xx_is_never_an_error_and_token_errors_map() {
        let ok = Reply::of(200, r#"{"error":{"code":400,"status":"INVALID_ARGUMENT"}}"#);
        assert!(parse_error(&ok).is_none() && parse_token_error(&ok).is_none());
        for (error, kind) in [
            ("invalid_grant", ErrorKind::Auth),
            ("invalid_scope", ErrorKind::Config),
            ("server_error", ErrorKind::Unavailable),
        ] {
            let r = Reply::of(
                400,
                serde_json::json!({"error": error, "error_description": "d"}).to_string(),
            );
            let e = parse_token_error(&r).unwrap();
            assert_eq!(
                (e.kind(), e.provider_code(), e.provider_text()),
                (kind, Some(error), Some("d"))
            );
        }
    }
}

//! FCM's error codes → switchboard [`Error`]s, and what a host should do about each.
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
//! decoded error is the source ([`ApiError`], reach it with [`api_error`]).

use std::fmt;

use switchboard_core::http::{Reply, retry_after};
use switchboard_core::{Dispatch, Error, ErrorKind};

use super::SCHEME;
use super::model::ErrorEnvelope;

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

/// The decoded FCM error behind an [`Error`], if it came from FCM's API.
pub fn api_error(e: &Error) -> Option<&ApiError> {
    std::error::Error::source(e)?.downcast_ref::<ApiError>()
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
        Some("INVALID_ARGUMENT") => api_error(e).is_some_and(|a| {
            a.field_violations.iter().any(|(f, _)| f == "message.token")
                || a.message.contains("not a valid FCM registration token")
        }),
        _ => false,
    }
}

/// The error for a non-2xx answer of `messages:send`.
pub fn from_reply(reply: &Reply) -> Error {
    let Ok(env) = reply.json::<ErrorEnvelope>() else {
        return reply.status_error().with_provider(SCHEME).with_message(format!(
            "FCM answered HTTP {} without its error envelope",
            reply.status.as_u16()
        ));
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
    e.with_source(api)
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
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: Bytes::from(body.to_string()),
        }
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
            let e = from_reply(&reply(http, canonical, Some(code), None));
            assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{code}");
            assert_eq!(e.provider_code(), Some(code));
            assert_eq!(e.provider(), Some("fcm"));
            assert_eq!(api_error(&e).unwrap().http_status, http);
        }
        let e = from_reply(&reply(404, "NOT_FOUND", Some("UNREGISTERED"), None));
        assert!(is_unregistered(&e) && is_invalid_token(&e));
        let e = from_reply(&reply(400, "INVALID_ARGUMENT", Some("INVALID_ARGUMENT"), None));
        assert!(!is_unregistered(&e) && !is_invalid_token(&e));
    }

    #[test]
    fn retry_after_is_kept() {
        let e = from_reply(&reply(429, "RESOURCE_EXHAUSTED", Some("QUOTA_EXCEEDED"), Some("30")));
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(30)));
        assert!(e.is_safe_to_retry(false));
    }

    #[test]
    fn no_fcm_code_uses_the_canonical_status_and_garbage_is_safe() {
        let e = from_reply(&reply(401, "UNAUTHENTICATED", None, None));
        assert_eq!(
            (e.kind(), e.provider_code()),
            (ErrorKind::Auth, Some("UNAUTHENTICATED"))
        );
        let garbage = Reply {
            status: StatusCode::BAD_GATEWAY,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"<html>502</html>"),
        };
        let e = from_reply(&garbage);
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    }
}

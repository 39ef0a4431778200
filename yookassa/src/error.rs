//! YooKassa's error codes → switchboard [`Error`]s.
//!
//! | HTTP | code | kind | dispatch | why |
//! |---|---|---|---|---|
//! | 400 | `invalid_request` | InvalidInput | Sent | also "Idempotence key duplicated" (same key, other body) |
//! | 400 | `not_supported` | Unsupported | Sent | the shop cannot do this |
//! | 401 | `invalid_credentials` | Auth | NotSent | refused before acting |
//! | 403 | `forbidden` | Rejected | NotSent | the key is right, the shop is not allowed this operation |
//! | 404 | `not_found` | NotFound | Sent | |
//! | 429 | `too_many_requests` | RateLimited | NotSent | refused before acting |
//! | 500 | `internal_server_error` | Unavailable | MaybeSent | "no definite answer": repeat with the same key |
//!
//! | 202 | `processing` | Unavailable | MaybeSent | accepted, not finished: repeat with the same key after `retry_after` |
//!
//! Anything else falls back to core's mapping of the HTTP status.
//!
//! The HTTP 202 `{"type":"processing","retry_after":…}` is how YooKassa's API reference ("Processing
//! of requests", yookassa.ru/developers/using-api/interaction-format) says a request is still being
//! worked on: it is read as Unavailable + MaybeSent with its `retry_after` (milliseconds), so the call
//! is repeated with the same key, which answers the result once there is one.

use switchboard_core::http::{Reply, retry_after};
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;
use crate::model::ErrorBody;

/// The error an answer stands for, or `None` for a success to decode: every non-2xx answer, and the
/// 2xx "still processing" answer. See the [module docs](self) for the table.
pub fn parse_error(reply: &Reply) -> Option<Error> {
    if reply.is_success() {
        processing(reply)
    } else {
        Some(refusal(reply))
    }
}

/// The kind and dispatch fact of a YooKassa error code, or `None` for a code not in the table.
pub fn code_kind(code: &str) -> Option<(ErrorKind, Dispatch)> {
    Some(match code {
        "invalid_request" => (ErrorKind::InvalidInput, Dispatch::Sent),
        "not_supported" => (ErrorKind::Unsupported, Dispatch::Sent),
        "invalid_credentials" => (ErrorKind::Auth, Dispatch::NotSent),
        "forbidden" => (ErrorKind::Rejected, Dispatch::NotSent),
        "not_found" => (ErrorKind::NotFound, Dispatch::Sent),
        "too_many_requests" => (ErrorKind::RateLimited, Dispatch::NotSent),
        "internal_server_error" => (ErrorKind::Unavailable, Dispatch::MaybeSent),
        _ => return None,
    })
}

/// The error a non-2xx answer stands for.
fn refusal(reply: &Reply) -> Error {
    let body: Option<ErrorBody> = serde_json::from_slice(&reply.body).ok();
    let Some(body) = body.filter(|b| b.code.is_some()) else {
        return reply.status_error().with_provider(SCHEME);
    };
    let code = body.code.clone().unwrap_or_default();
    let (kind, dispatch) = code_kind(&code).unwrap_or_else(|| switchboard_core::http::status_kind(reply.status));
    let what = match kind {
        ErrorKind::Unavailable => "YooKassa has no definite answer (HTTP 500); the operation may have happened",
        ErrorKind::Auth => "YooKassa refused the shop id or secret key",
        ErrorKind::RateLimited => "YooKassa says too many requests",
        ErrorKind::NotFound => "YooKassa has no such object",
        ErrorKind::Rejected => "YooKassa does not allow this shop to do that",
        ErrorKind::Unsupported => "YooKassa does not support this for the shop",
        _ => "YooKassa refused the request",
    };
    let mut text = body.description.clone().unwrap_or_default();
    if let Some(p) = &body.parameter {
        text = format!("{text} (parameter {p})");
    }
    let mut e = Error::new(kind, what)
        .with_dispatch(dispatch)
        .with_provider(SCHEME)
        .with_provider_code(code)
        .with_http_status(reply.status.as_u16());
    if !text.trim().is_empty() {
        e = e.with_provider_text(text);
    }
    if let Some(after) = retry_after(&reply.headers) {
        e = e.with_retry_after(after);
    }
    e
}

/// YooKassa's "still processing" answer (HTTP 202 with `"type":"processing"`) as a retryable error;
/// `None` for any other answer.
fn processing(reply: &Reply) -> Option<Error> {
    if reply.status.as_u16() != 202 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&reply.body).ok()?;
    if v.get("type").and_then(|t| t.as_str()) != Some("processing") {
        return None;
    }
    let mut e = Error::new(
        ErrorKind::Unavailable,
        "YooKassa is still processing the request; repeat it with the same key",
    )
    .with_dispatch(Dispatch::MaybeSent)
    .with_provider(SCHEME)
    .with_provider_code("processing")
    .with_http_status(202);
    if let Some(ms) = v.get("retry_after").and_then(|r| r.as_u64()) {
        e = e.with_retry_after(std::time::Duration::from_millis(ms));
    }
    if let Some(d) = v.get("description").and_then(|d| d.as_str()) {
        e = e.with_provider_text(d);
    }
    Some(e)
}

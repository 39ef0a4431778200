//! Stripe's errors → switchboard [`Error`]s (docs.stripe.com/api/errors).
//!
//! | HTTP | type / code | kind | dispatch |
//! |---|---|---|---|
//! | 400 | `invalid_request_error`, `idempotency_error` | InvalidInput | Sent |
//! | 401 | (no valid key) | Auth | NotSent |
//! | 402 | `card_error` (`card_declined`, decline code kept) | Rejected | Sent |
//! | 403 | (key lacks permission) | Auth | NotSent |
//! | 404 | `resource_missing` | NotFound | Sent |
//! | 409 | `idempotency_key_in_use` (a concurrent request with the key) | Unavailable | Sent |
//! | 424 | external dependency failed | Unavailable | MaybeSent |
//! | 429 | `rate_limit`, `lock_timeout` | RateLimited | NotSent |
//! | 500, 502, 504 | `api_error` | Unavailable | MaybeSent |
//! | 503 | | Unavailable | NotSent |
//!
//! The provider code is the decline code when there is one, else the error code, else the type.
//!
//! `Stripe-Should-Retry` (docs.stripe.com/error-low-level, "Idempotency" and "Retries") is Stripe's
//! own word on repeating: `false` comes with a 500 it saved under the idempotency key, which a repeat
//! would only replay, so such an answer is final ([`should_retry`]; the client does not retry it).

use switchboard_core::http::{Reply, retry_after, status_kind};
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;
use crate::model::ErrorEnvelope;

/// The error an answer stands for, or `None` for a success (2xx) to decode. See the
/// [module docs](self) for the table.
pub fn parse_error(reply: &Reply) -> Option<Error> {
    (!reply.is_success()).then(|| refusal(reply))
}

/// What Stripe's `Stripe-Should-Retry` header said, when it said anything.
pub fn should_retry(reply: &Reply) -> Option<bool> {
    match reply.headers.get("stripe-should-retry")?.to_str().ok()?.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The kind and dispatch fact of an HTTP status as Stripe uses it.
pub fn stripe_status_kind(status: u16, error_type: &str) -> (ErrorKind, Dispatch) {
    match status {
        // Credentials refused: nothing was done.
        401 | 403 => (ErrorKind::Auth, Dispatch::NotSent),
        402 => (ErrorKind::Rejected, Dispatch::Sent),
        // A concurrent request holds the key: the operation is under way; repeating with the same key
        // later answers its result.
        409 => (ErrorKind::Unavailable, Dispatch::Sent),
        424 => (ErrorKind::Unavailable, Dispatch::MaybeSent),
        400 if error_type == "idempotency_error" => (ErrorKind::InvalidInput, Dispatch::Sent),
        s => http::StatusCode::from_u16(s)
            .map(status_kind)
            .unwrap_or((ErrorKind::Unavailable, Dispatch::MaybeSent)),
    }
}

/// The error a non-2xx answer stands for.
fn refusal(reply: &Reply) -> Error {
    let env: Option<ErrorEnvelope> = serde_json::from_slice(&reply.body).ok();
    let Some(env) = env else {
        return reply.status_error().with_provider(SCHEME);
    };
    let e = env.error;
    let (kind, dispatch) = stripe_status_kind(reply.status.as_u16(), &e.kind);
    let what = match (kind, e.kind.as_str()) {
        (_, "card_error") => "Stripe: the card was declined",
        (_, "idempotency_error") => "Stripe refused the idempotency key (used before with other parameters)",
        (ErrorKind::Auth, _) => "Stripe refused the API key",
        (ErrorKind::NotFound, _) => "Stripe has no such object",
        (ErrorKind::RateLimited, _) => "Stripe says too many requests",
        (ErrorKind::Unavailable, _) if reply.status.as_u16() == 409 => {
            "Stripe is still processing another request with this idempotency key"
        }
        (ErrorKind::Unavailable, _) => "Stripe failed to answer (server error); the operation may have happened",
        _ => "Stripe refused the request",
    };
    let code = e
        .decline_code
        .clone()
        .or_else(|| e.code.clone())
        .unwrap_or_else(|| e.kind.clone());
    let mut text = e.message.clone().unwrap_or_default();
    if let Some(p) = &e.param {
        text = format!("{text} (param {p})");
    }
    let mut err = Error::new(kind, what)
        .with_dispatch(dispatch)
        .with_provider(SCHEME)
        .with_http_status(reply.status.as_u16());
    if !code.is_empty() {
        err = err.with_provider_code(code);
    }
    if !text.trim().is_empty() {
        err = err.with_provider_text(text);
    }
    if let Some(after) = retry_after(&reply.headers) {
        err = err.with_retry_after(after);
    }
    err
}

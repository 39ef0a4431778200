//! The one error type every handler returns, and the JSON body a client gets for it:
//! `{"error": {"code": "invalid_input", "message": "latitude: 91.2 is outside -90..=90"}}`.
//!
//! Status codes tell a client what to do next: `400`/`422` fix the request, `404` wrong id, `409` it
//! clashes with what is stored, `429` slow down (with `Retry-After`), `502`/`503` the provider or an
//! integration is down and the same request can be repeated later, `500` our fault.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchboard::{Dispatch, ErrorKind};

/// A handler's failure: the status, a stable machine-readable code and a sentence for a person.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code (`invalid_input`, `not_found`, `integration_off`…).
    pub code: &'static str,
    /// What went wrong and what to do, with no secrets or full phone numbers in it.
    pub message: String,
    /// Seconds to wait, for `429`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// `400`: the request is wrong; `field` names what.
    pub fn invalid(field: &str, what: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", format!("{field}: {what}"))
    }

    /// `404`.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// `409`.
    pub fn conflict(what: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", what)
    }

    /// `429` with `Retry-After`.
    pub fn rate_limited(what: impl Into<String>, retry_after_secs: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", what)
        }
    }

    /// `503`: the integration is not configured; says which variable turns it on.
    pub fn integration_off(name: &str, var: &str) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "integration_off",
            format!("{name} is not configured: set {var} to a DSN or sim:SCHEME (or CRM_TEST_MODE=1)"),
        )
    }

    /// `500` for our own failures (the database); the cause is logged, the client gets no internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it was logged, and the same request can be repeated",
        )
    }
}

/// A provider's error, by what it means for the client. A request that may have reached the provider
/// says so: repeating it is safe only because every send and payment here carries an idempotency key.
impl From<switchboard::Error> for ApiError {
    fn from(e: switchboard::Error) -> Self {
        let (status, code) = match e.kind() {
            ErrorKind::InvalidInput => (StatusCode::BAD_REQUEST, "invalid_input"),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorKind::NeedsDecision => (StatusCode::CONFLICT, "needs_decision"),
            ErrorKind::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ErrorKind::Rejected => (StatusCode::UNPROCESSABLE_ENTITY, "rejected"),
            ErrorKind::Unsupported => (StatusCode::NOT_IMPLEMENTED, "unsupported"),
            ErrorKind::Config => (StatusCode::SERVICE_UNAVAILABLE, "integration_config"),
            ErrorKind::Auth => (StatusCode::BAD_GATEWAY, "provider_auth"),
            ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Transport | ErrorKind::Decode => {
                (StatusCode::BAD_GATEWAY, "provider_unavailable")
            }
            _ => (StatusCode::BAD_GATEWAY, "provider_error"),
        };
        let mut message = e.to_string();
        if e.dispatch() != Dispatch::NotSent {
            message.push_str(" (the provider may have acted on it; repeat with the same key, never a new one)");
        }
        ApiError {
            retry_after: e.retry_after().map(|d| d.as_secs()),
            ..ApiError::new(status, code, message)
        }
    }
}

impl From<switchboard::store::sqlx::Error> for ApiError {
    fn from(e: switchboard::store::sqlx::Error) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, ApiError>;

/// `Json<T>` whose refusal is an [`ApiError`] (`400 invalid_body` with serde's reason and position)
/// instead of axum's plain-text answer, so every client error has the same JSON shape.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                rejection.body_text(),
            )),
        }
    }
}

/// `Query<T>` with the same JSON refusal as [`JsonBody`].
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(QueryParams(v)),
            Err(rejection) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                rejection.body_text(),
            )),
        }
    }
}

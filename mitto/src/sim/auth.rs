//! Mitto's authentication: the `X-Mitto-API-Key` header on both APIs, and nothing else (a bearer token
//! is refused as a missing key is). A refusal is HTTP 401 "Invalid or no API Key specified": plain text
//! on the legacy API, a JSON `message` on the messaging API.

use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::state::State;

/// What Mitto says to a missing or wrong key.
pub(super) const REFUSAL: &str = "Invalid or no API Key specified";

/// Whether the request carries the account's key.
pub(super) fn authorised(st: &State, req: &Request) -> bool {
    req.headers
        .get("x-mitto-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| k == st.api_key)
}

/// The legacy API's refusal.
pub(super) fn legacy_refusal() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_raw(REFUSAL, "text/plain; charset=utf-8")
}

/// The messaging API's refusal.
pub(super) fn messaging_refusal() -> ResponseTemplate {
    json_status(401, &serde_json::json!({ "message": REFUSAL }))
}

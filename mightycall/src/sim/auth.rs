//! MightyCall's authentication: `POST /v4/auth/token` (form-encoded, `x-api-key`), and the bearer
//! token plus the key on every other call (HTTP 401 otherwise).
//!
//! From MightyCall's "Authentication via API" support page (support.mightycall.com): a
//! `client_credentials` grant with `client_id` = API key and `client_secret` = User key, and a
//! `refresh_token` grant with `grant_type` and `refresh_token` only; the refresh token rotates; a wrong
//! key is `{"error":"invalid_client"}` (HTTP 400 by default, see `Simulator::set_invalid_client_status`).

use std::collections::HashMap;

use serde_json::json;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{json_response, json_status};

use super::state::State;

/// Whether the request carries the key and a token the simulator issued that has not expired.
pub(super) fn authorised(st: &State, req: &Request) -> bool {
    if st.always_unauthorized {
        return false;
    }
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let key_ok = header("x-api-key").is_some_and(|k| k == st.api_key);
    let token = header("authorization")
        .and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer ")))
        .unwrap_or("");
    key_ok && st.access.get(token).is_some_and(|t| st.now < t.expires_at)
}

/// The token endpoint.
pub(super) fn token(st: &mut State, req: &Request) -> ResponseTemplate {
    // The documented request is form-encoded (`Content-Type: application/x-www-form-urlencoded`); an
    // OAuth server refuses anything else as `invalid_request`.
    let form_encoded = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| {
            c.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        st.stats.refused += 1;
        return json_status(
            400,
            &json!({"error": "invalid_request", "error_description": "The request must be form-encoded"}),
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body).into_owned().collect();
    let key_ok = req
        .headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| k == st.api_key);
    let invalid_client = |st: &mut State| {
        st.stats.refused += 1;
        json_status(
            st.invalid_client_status,
            &json!({"error": "invalid_client", "error_description": "The client credentials are invalid"}),
        )
    };
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {
            let id_ok = form.get("client_id").is_some_and(|c| *c == st.api_key);
            let secret_ok = form.get("client_secret").is_some_and(|c| *c == st.user_key);
            if !(key_ok && id_ok && secret_ok) {
                return invalid_client(st);
            }
            st.stats.client_credentials += 1;
            json_response(&st.issue())
        }
        Some("refresh_token") => {
            if !key_ok {
                return invalid_client(st);
            }
            // MightyCall's refresh takes `grant_type` and `refresh_token` only, "other params removed"
            // (support.mightycall.com, "Authentication via API"): a refresh that still carries the
            // client credentials is refused.
            if form.keys().any(|k| k != "grant_type" && k != "refresh_token") {
                st.stats.refused += 1;
                return json_status(
                    400,
                    &json!({"error": "invalid_request",
                            "error_description": "A refresh_token grant takes only grant_type and refresh_token"}),
                );
            }
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            if !st.refresh.remove(&presented) {
                st.stats.refused += 1;
                return json_status(
                    400,
                    &json!({"error": "invalid_grant", "error_description": "The refresh token is invalid or expired"}),
                );
            }
            st.stats.refresh += 1;
            json_response(&st.issue())
        }
        _ => {
            st.stats.refused += 1;
            json_status(400, &json!({"error": "unsupported_grant_type"}))
        }
    }
}

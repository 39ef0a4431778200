//! Who may call: HTTP Basic auth with the account's SID and auth token, compared in constant time
//! (Twilio answers 401 with code 20003 otherwise).

use base64::Engine;
use switchboard_core::secret::ct_eq;
use switchboard_core::testkit::wiremock::Request;

use super::state::State;

/// Whether the Basic credentials are the account's.
pub(super) fn authenticated(st: &State, req: &Request) -> bool {
    let Some(v) = req.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(b64) = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")) else {
        return false;
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(raw) else {
        return false;
    };
    match text.split_once(':') {
        Some((u, p)) => ct_eq(u.as_bytes(), st.account_sid.as_bytes()) && ct_eq(p.as_bytes(), st.auth_token.as_bytes()),
        None => false,
    }
}

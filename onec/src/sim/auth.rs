//! HTTP Basic as a 1C web publication checks it: the infobase user and its password, compared in
//! constant time; anything else is 401 with a `Basic` challenge.

use base64::Engine;
use switchboard_core::secret::ct_eq;
use switchboard_core::testkit::wiremock::Request;

use super::SimBase;

/// Whether the request carries the infobase user's credentials.
pub(super) fn authorized(base: &SimBase, req: &Request) -> bool {
    let Some(h) = req.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(b64) = h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic ")) else {
        return false;
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(raw) else {
        return false;
    };
    let Some((user, pass)) = text.split_once(':') else {
        return false;
    };
    user == base.user && ct_eq(pass.as_bytes(), base.password.as_bytes())
}

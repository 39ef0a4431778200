//! How the simulator checks credentials: HTTP Basic `shopId:secretKey` on every `/v3/` call, as
//! YooKassa does ("Authentication", yookassa.ru/developers/using-api/interaction-format).

use http::HeaderMap;
use switchboard_payments::simkit::basic_credentials;

use super::objects::{Answer, error};

/// YooKassa's `401 invalid_credentials` when the request does not carry the shop's id and key.
pub(super) fn refusal(headers: &HeaderMap, shop_id: &str, secret_key: &str) -> Option<Answer> {
    let authed = basic_credentials(headers).is_some_and(|(u, p)| u == shop_id && p == secret_key);
    (!authed).then(|| {
        error(
            401,
            Some("invalid_credentials"),
            "Login or password is wrong, or the Authorization header is missing",
            Some("Authorization"),
        )
    })
}

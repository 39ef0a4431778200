//! How the simulator checks credentials, as Stripe does ("Authentication", docs.stripe.com/api):
//! the secret key as a Bearer token, or as the user name of Basic auth; `401` otherwise, with the
//! key's start and end only in the message.

use switchboard_payments::simkit::{basic_credentials, bearer};

use super::params::{Answer, err};
use super::state::State;

pub(super) fn auth_error(st: &State, headers: &http::HeaderMap) -> Option<Answer> {
    let presented = bearer(headers).or_else(|| basic_credentials(headers).map(|(u, _)| u));
    match presented {
        None => Some(err(
            401,
            "invalid_request_error",
            None,
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            None,
        )),
        Some(k) if k == st.secret_key => None,
        Some(k) => {
            let tail: String = k.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            Some(err(
                401,
                "invalid_request_error",
                None,
                &format!(
                    "Invalid API Key provided: {}****{tail}",
                    k.chars().take(8).collect::<String>()
                ),
                None,
            ))
        }
    }
}

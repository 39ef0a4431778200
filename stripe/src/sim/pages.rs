//! The simulated site behind the API: the hosted Checkout page, the 3-D Secure page behind
//! `next_action`, and receipts. Each does what the customer would do there.

use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::state::State;

/// A page of the simulated site (the hosted Checkout page, 3-D Secure, receipts), when `path` is one.
pub(super) fn page(st: &mut State, path: &str) -> Option<ResponseTemplate> {
    // The hosted Checkout page: the customer pays with a test card and goes to success_url.
    if let Some(id) = path.strip_prefix("/c/pay/") {
        let success = st.sessions.iter().find(|s| s.id == id).map(|s| s.success_url.clone());
        st.current_request = None;
        st.request_version = st.account_version.clone();
        let (status, _) = st.pay_session(id, "pm_card_visa");
        return Some(match (status, success) {
            (200, Some(url)) => {
                ResponseTemplate::new(303).insert_header("location", url.replace("{CHECKOUT_SESSION_ID}", id).as_str())
            }
            _ => ResponseTemplate::new(200).set_body_string("This Checkout Session is no longer available."),
        });
    }
    // The 3-D Secure page behind `next_action`: the customer authenticates and goes to return_url.
    if let Some(id) = path.strip_prefix("/3ds/") {
        let ret = st.intent(id).and_then(|p| p.return_url.clone());
        let secret = st.intent(id).map(|p| p.client_secret.clone()).unwrap_or_default();
        st.current_request = None;
        st.request_version = st.account_version.clone();
        let (status, _) = st.authenticate(id);
        return Some(match (status, ret) {
            (200 | 402, Some(url)) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let outcome = if status == 200 { "succeeded" } else { "failed" };
                let to = format!(
                    "{url}{sep}payment_intent={id}&payment_intent_client_secret={secret}&redirect_status={outcome}"
                );
                ResponseTemplate::new(302).insert_header("location", to.as_str())
            }
            (200 | 402, None) => ResponseTemplate::new(200).set_body_string("Authentication complete."),
            _ => ResponseTemplate::new(200).set_body_string("There is nothing to authenticate."),
        });
    }
    if path.starts_with("/receipts/") {
        return Some(ResponseTemplate::new(200).set_body_string("Receipt (Stripe simulator)"));
    }
    None
}

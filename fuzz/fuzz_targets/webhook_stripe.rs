#![no_main]
//! Stripe: `SignatureHeader::parse`, `SignatureVerifier::verify_at` / `verify_payload` /
//! `construct_event`, `parse_event`, and the gateway's `handle_webhook` (which normalises the event's
//! object into payments and refunds). With the SIGN flag the harness signs the body with the known
//! endpoint secret at the current time, so everything behind the signature check is reached.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use switchboard_core::SecretString;
use switchboard_fuzz::{Input, SECRET, SIGN, assert_no_secret};
use switchboard_payments::PaymentGateway;
use switchboard_stripe::webhook::{SIGNATURE_HEADER, SignatureHeader, SignatureVerifier, parse_event, signature_header};
use switchboard_stripe::{StripeConfig, StripeGateway};

fn gateway() -> &'static (tokio::runtime::Runtime, StripeGateway) {
    static G: OnceLock<(tokio::runtime::Runtime, StripeGateway)> = OnceLock::new();
    G.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let config = StripeConfig::builder()
            .secret_key("sk_test_fuzz")
            .endpoint("http://127.0.0.1:9")
            .webhook_secret(SECRET)
            .build()
            .unwrap();
        let gw = rt.block_on(async { StripeGateway::new(config) }).unwrap();
        (rt, gw)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut request = input.request();
    if input.has(SIGN) {
        request = request.with_header(SIGNATURE_HEADER, &signature_header(&[SECRET], now, input.body));
    }
    for (n, v) in &input.headers {
        let _ = SignatureHeader::parse(v);
        let _ = SignatureHeader::parse(n);
    }
    let verifier = SignatureVerifier::new(vec![SecretString::from(SECRET.to_owned())]).unwrap();
    for at in [now, i64::MIN, i64::MAX, 0] {
        if let Err(e) = verifier.verify_at(&request, at) {
            assert_no_secret(&input, &e);
        }
    }
    for (_, v) in &input.headers {
        let _ = verifier.verify_payload(v, input.body, now);
    }
    match verifier.construct_event(&request) {
        Ok(event) => {
            let _ = format!("{event:?}");
        }
        Err(e) => assert_no_secret(&input, &e),
    }
    let _ = parse_event(input.body);
    let (rt, gw) = gateway();
    if let Err(e) = rt.block_on(gw.handle_webhook(&request)) {
        assert_no_secret(&input, &e);
    }
});

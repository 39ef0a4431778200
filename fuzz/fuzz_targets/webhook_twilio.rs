#![no_main]
//! Twilio webhooks: `TwilioWebhook` (`verify`: X-Twilio-Signature, bodySHA256; `decode`), `events`,
//! and the URL helpers. With the SIGN flag the harness signs the request with the known auth token, as
//! Twilio would (form parameters, or with VARIANT a JSON body and its `bodySHA256`), so the
//! decoder behind the signature check is reached.

use libfuzzer_sys::fuzz_target;
use switchboard_core::webhook::sha256_hex;
use switchboard_core::{SecretString, Webhook};
use switchboard_fuzz::{Input, SECRET, SIGN, VARIANT, assert_no_secret};
use switchboard_twilio::TwilioWebhook;
use switchboard_twilio::webhook::{
    BODY_HASH_PARAM, SIGNATURE_HEADER, is_valid_signature, public_url, signature, url_variants,
};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let token = SecretString::from(SECRET.to_owned());
    let mut url = format!("https://hook.example.com/twilio?{}", input.query);
    if input.has(VARIANT) {
        url.push_str(&format!("&{BODY_HASH_PARAM}={}", sha256_hex(input.body)));
    }
    let mut request = input.request_at(url.clone());
    if input.has(SIGN) {
        let body_hash = request.query_param(BODY_HASH_PARAM);
        let params = match (&body_hash, &request.method) {
            (None, &http::Method::POST) => request.form_pairs().unwrap_or_default(),
            _ => Vec::new(),
        };
        let sig = signature(&token, &public_url(&request.url, None), &params);
        assert!(is_valid_signature(&token, &request.url, &params, &sig));
        request = request.with_header(SIGNATURE_HEADER, &sig);
    }
    let _ = url_variants(&url);
    let _ = public_url(&url, Some("https://public.example"));
    let _ = url_variants(&input.query);
    let _ = public_url(&input.query, Some("https://public.example/"));
    for origin in [None, Some("https://hook.example.com")] {
        let webhook = TwilioWebhook::new(token.clone(), origin.map(str::to_owned));
        if let Err(e) = webhook.verify(&request) {
            assert_no_secret(&input, &e);
        }
        match webhook.verify(&request).and_then(|()| webhook.decode(&request)) {
            Ok(events) => assert!(!events.is_empty()),
            Err(e) => assert_no_secret(&input, &e),
        }
    }
    if let Ok(pairs) = request.form_pairs() {
        let _ = TwilioWebhook::events(&pairs);
    }
    let _ = TwilioWebhook::events(&request.query_pairs());
});

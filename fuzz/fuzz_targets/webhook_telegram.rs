#![no_main]
//! Telegram updates: `verify` (secret-token header), `parse_update`, `verified_update`, `events`.

use libfuzzer_sys::fuzz_target;
use switchboard_core::{SecretString, Webhook};
use switchboard_fuzz::{Input, SECRET, SECRET_OK, assert_no_secret};
use switchboard_telegram::webhook::{SECRET_HEADER, TelegramWebhook};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let mut request = input.request();
    if input.has(SECRET_OK) {
        request = request.with_header(SECRET_HEADER, SECRET);
    }
    let hook = TelegramWebhook::new(Some(SecretString::from(SECRET.to_owned())));
    if let Err(e) = hook.verify(&request) {
        assert_no_secret(&input, &e);
    }
    match hook.verified_update(&request) {
        Ok(update) => {
            let evs = TelegramWebhook::events(&update);
            assert_eq!(evs.len(), 1);
            let _ = (update.kind(), update.new_message());
        }
        Err(e) => assert_no_secret(&input, &e),
    }
    if let Ok(update) = TelegramWebhook::parse_update(&request) {
        let _ = TelegramWebhook::events(&update);
    }
});

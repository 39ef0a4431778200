#![no_main]
//! Telegram updates: `verify` (secret-token header), `decode`, `handle`, `events`.

use libfuzzer_sys::fuzz_target;
use switchboard_core::SecretString;
use switchboard_fuzz::{Input, SECRET, SECRET_OK, assert_no_secret};
use switchboard_telegram::webhook::{SECRET_HEADER, decode, events, handle, verify};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let mut request = input.request();
    if input.has(SECRET_OK) {
        request = request.with_header(SECRET_HEADER, SECRET);
    }
    let secret = SecretString::from(SECRET.to_owned());
    if let Err(e) = verify(&request, Some(&secret)) {
        assert_no_secret(&input, &e);
    }
    match handle(&request, Some(&secret)) {
        Ok(update) => {
            let evs = events(&update);
            assert_eq!(evs.len(), 1);
            let _ = (update.kind(), update.new_message());
        }
        Err(e) => assert_no_secret(&input, &e),
    }
    if let Ok(update) = decode(&request) {
        let _ = events(&update);
    }
});

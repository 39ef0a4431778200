#![no_main]
//! SMS.ru callbacks: `verify`, `parse`, `events`, `handle`.

use libfuzzer_sys::fuzz_target;
use switchboard_core::SecretString;
use switchboard_fuzz::{Input, PARAM, SECRET, assert_no_secret};
use switchboard_smsru::webhook::{events, handle, parse, verify};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let request = input.request();
    let secret = SecretString::from(SECRET.to_owned());
    if let Err(e) = verify(&request, Some(&secret), PARAM) {
        assert_no_secret(&input, &e);
    }
    if let Err(e) = handle(&request, Some(&secret), PARAM) {
        assert_no_secret(&input, &e);
    }
    if let Ok(records) = parse(&request) {
        assert!(!records.is_empty());
        assert!(records.windows(2).all(|w| w[0].index <= w[1].index));
        for r in &records {
            let _ = (r.sms_status(), r.timestamp());
        }
        assert_eq!(events(&records).len(), records.len());
    }
});

#![no_main]
//! TeleCMI pushes: `TeleCmiWebhook::verify` / `notifications` / `decode`, `decode_payloads`, and every
//! accessor of the decoded `CallNotification`s.

use libfuzzer_sys::fuzz_target;
use switchboard_core::Webhook;
use switchboard_fuzz::{Input, PARAM, SECRET, assert_no_secret};
use switchboard_telecmi::webhook::{CallNotification, TeleCmiWebhook, decode_payloads};

fn touch(n: &CallNotification) {
    let _ = (n.call_key(), n.correlation(), n.state(), n.call_event(), n.to_event());
    let _ = format!("{n:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let request = input.request();
    let handler = TeleCmiWebhook::new(SECRET).with_param(PARAM);
    if let Err(e) = handler.verify(&request) {
        assert_no_secret(&input, &e);
    }
    if handler.verify(&request).is_ok() {
        match handler.notifications(&request) {
            Ok(notes) => notes.iter().for_each(touch),
            Err(e) => assert_no_secret(&input, &e),
        }
        if let Err(e) = handler.decode(&request) {
            assert_no_secret(&input, &e);
        }
    }
    if let Ok(values) = decode_payloads(&request, PARAM) {
        assert!(!values.is_empty());
        for v in values {
            touch(&CallNotification::from_value(v));
        }
    }
});

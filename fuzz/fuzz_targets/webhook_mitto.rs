#![no_main]
//! Mitto delivery reports: `MittoWebhook`'s `verify`, `decode` and `reports`, and each report's
//! `to_status_report`.

use libfuzzer_sys::fuzz_target;
use switchboard_core::{SecretString, Webhook};
use switchboard_fuzz::{Input, PARAM, SECRET, assert_no_secret};
use switchboard_mitto::webhook::MittoWebhook;

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let request = input.request();
    let hook = MittoWebhook::new(Some(SecretString::from(SECRET.to_owned())), PARAM);
    match hook.verify(&request) {
        Err(e) => assert_no_secret(&input, &e),
        Ok(()) => match hook.decode(&request) {
            Ok(events) => {
                for e in events {
                    let _ = format!("{e:?}");
                }
            }
            Err(e) => assert_no_secret(&input, &e),
        },
    }
    match hook.reports(&request) {
        Ok(reports) => {
            for r in reports {
                let _ = format!("{r:?}");
                let _ = r.to_status_report();
            }
        }
        Err(e) => assert_no_secret(&input, &e),
    }
});

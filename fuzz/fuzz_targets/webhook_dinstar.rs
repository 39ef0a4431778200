#![no_main]
//! Dinstar push: `DinstarWebhook::verify`, `decode` (no verification: every body reaches the
//! decoder), `push` with and without an expected `sn`, then `Push::events` and `unresolved_keys` on
//! whatever decoded.

use chrono::FixedOffset;
use libfuzzer_sys::fuzz_target;
use switchboard_core::{SecretString, Webhook};
use switchboard_dinstar::NumberFormat;
use switchboard_dinstar::webhook::DinstarWebhook;
use switchboard_fuzz::{Input, PARAM, SECRET, VARIANT, assert_no_secret};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let request = input.request();
    let mut webhook = DinstarWebhook::new(Some(SecretString::from(SECRET.to_owned())), PARAM);
    if input.has(VARIANT) {
        webhook = webhook.expect_sn("S");
    }
    if let Err(e) = webhook.verify(&request) {
        assert_no_secret(&input, &e);
    }
    if let Err(e) = webhook.decode(&request) {
        assert_no_secret(&input, &e);
    }
    let push = match webhook.push(&request) {
        Ok(p) => p,
        Err(e) => {
            assert_no_secret(&input, &e);
            return;
        }
    };
    let _ = push.unresolved_keys();
    for e in &push.events {
        let _ = e.kind();
    }
    let formats = [
        NumberFormat::International,
        NumberFormat::E164,
        NumberFormat::National {
            country_code: 355,
            trunk_prefix: "0".to_owned(),
        },
    ];
    let offset =
        FixedOffset::east_opt(i32::from(input.flags) * 900 - 12 * 3600).unwrap_or(FixedOffset::east_opt(0).unwrap());
    for f in &formats {
        let _ = push.events(offset, f, |k| Some(k.1.unwrap_or(7)));
        let _ = push.events(offset, f, |_| None);
    }
});

#![no_main]
//! Dinstar push: `verify_push`, `decode_push`, `parse_push`, then `Push::events` and
//! `unresolved_keys` on whatever decoded.

use chrono::FixedOffset;
use libfuzzer_sys::fuzz_target;
use switchboard_core::SecretString;
use switchboard_dinstar::NumberFormat;
use switchboard_dinstar::webhook::{decode_push, parse_push, verify_push};
use switchboard_fuzz::{Input, PARAM, SECRET, VARIANT, assert_no_secret};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let request = input.request();
    let secret = SecretString::from(SECRET.to_owned());
    if let Err(e) = verify_push(&request, Some(&secret), PARAM) {
        assert_no_secret(&input, &e);
    }
    let expected = input.has(VARIANT).then_some("S");
    let push = match parse_push(&request, Some(&secret), PARAM, expected) {
        Ok(p) => p,
        Err(e) => {
            assert_no_secret(&input, &e);
            match decode_push(&request) {
                Ok(p) => p,
                Err(_) => return,
            }
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

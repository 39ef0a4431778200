#![no_main]
//! YooKassa notifications: `NotificationVerifier::check` (POST, IP allow-list, body) with the
//! published list and without one, and `parse_notification`. The re-fetch step needs the network and
//! is not fuzzed.

use libfuzzer_sys::fuzz_target;
use switchboard_core::webhook::IpAllowList;
use switchboard_fuzz::{Input, assert_no_secret};
use switchboard_payments::yookassa::webhook::{NotificationVerifier, parse_notification};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let request = input.request();
    for verifier in [NotificationVerifier::published(), NotificationVerifier::new(None)] {
        match verifier.check(&request) {
            Ok(n) => {
                assert_eq!(n.kind, "notification");
                assert!(n.object.is_object());
            }
            Err(e) => assert_no_secret(&input, &e),
        }
    }
    if let Ok(n) = parse_notification(&request) {
        let _ = format!("{n:?}");
    }
    // The allow-list parser on the fuzz query, one entry per comma.
    if let Ok(list) = IpAllowList::parse(input.query.split(',')) {
        let _ = list.verify(&request);
    }
});

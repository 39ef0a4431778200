#![no_main]
//! Mitto delivery reports: `verify`, `decode`, `handle`, and each report's `to_status_report`.

use libfuzzer_sys::fuzz_target;
use switchboard_core::SecretString;
use switchboard_fuzz::{Input, PARAM, SECRET, assert_no_secret};
use switchboard_mitto::webhook::{decode, handle, verify};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let request = input.request();
    let secret = SecretString::from(SECRET.to_owned());
    if let Err(e) = verify(&request, Some(&secret), PARAM) {
        assert_no_secret(&input, &e);
    }
    match handle(&request, Some(&secret), PARAM) {
        Ok(events) => {
            for e in events {
                let _ = format!("{e:?}");
            }
        }
        Err(e) => assert_no_secret(&input, &e),
    }
    match decode(&request, PARAM) {
        Ok(reports) => {
            for r in reports {
                let _ = format!("{r:?}");
                let _ = r.to_status_report();
            }
        }
        Err(e) => assert_no_secret(&input, &e),
    }
});

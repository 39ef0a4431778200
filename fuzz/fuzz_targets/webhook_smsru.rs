#![no_main]
//! SMS.ru callbacks: `SmsRuWebhook` (`verify`, `decode`), `CallbackRecord::parse` and `event`.

use libfuzzer_sys::fuzz_target;
use switchboard_core::{SecretString, Webhook};
use switchboard_fuzz::{Input, PARAM, SECRET, assert_no_secret};
use switchboard_smsru::{CallbackRecord, SmsRuWebhook};

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let request = input.request();
    let webhook = SmsRuWebhook::new(Some(SecretString::from(SECRET.to_owned())), PARAM);
    if let Err(e) = webhook.verify(&request) {
        assert_no_secret(&input, &e);
    }
    if let Err(e) = webhook.verify(&request).and_then(|()| webhook.decode(&request)) {
        assert_no_secret(&input, &e);
    }
    if let Ok(records) = CallbackRecord::parse(&request) {
        assert!(!records.is_empty());
        assert!(records.windows(2).all(|w| w[0].index <= w[1].index));
        for r in &records {
            let _ = (r.sms_status(), r.timestamp());
        }
        assert_eq!(records.iter().map(CallbackRecord::event).count(), records.len());
    }
});

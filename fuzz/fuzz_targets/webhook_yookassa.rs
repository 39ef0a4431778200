#![no_main]
//! YooKassa notifications: `YooKassaWebhook::check` (POST, IP allow-list, body) with the published
//! list and without one, and `parse_notification`. The re-fetch step needs the network and is not
//! fuzzed.

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use switchboard_core::webhook::IpAllowList;
use switchboard_fuzz::{Input, assert_no_secret};
use switchboard_yookassa::webhook::parse_notification;
use switchboard_yookassa::{YooKassaClient, YooKassaConfig, YooKassaWebhook};

/// Notification checkers with the published allow-list and with the IP check off.
fn webhooks() -> &'static [YooKassaWebhook; 2] {
    static W: OnceLock<(tokio::runtime::Runtime, [YooKassaWebhook; 2])> = OnceLock::new();
    &W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let config = YooKassaConfig::builder()
            .shop_id("100500")
            .secret_key("test_fuzz")
            .endpoint("http://127.0.0.1:9");
        let webhook = |c: YooKassaConfig| YooKassaWebhook::new(YooKassaClient::new(c).unwrap()).unwrap();
        let both = rt.block_on(async {
            [
                webhook(config.clone().build().unwrap()),
                webhook(config.skip_notification_ip_check().build().unwrap()),
            ]
        });
        (rt, both)
    })
    .1
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else { return };
    let request = input.request();
    for webhook in webhooks() {
        match webhook.check(&request) {
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

//! Long polling that neither loses nor repeats an update, and the simulator's request forms.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{SIM_BOT_USERNAME, SIM_CHAT_ID, SIM_TOKEN, Simulator};
use crate::{TelegramClient, UpdatePoller};
use serde_json::{Value, json};
use switchboard_core::MemoryCursorStore;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::Fault;

use crate::tests::client;

#[tokio::test]
async fn polling_neither_loses_nor_repeats_updates() {
    let sim = Simulator::start().await;
    let store = Arc::new(MemoryCursorStore::new());
    let poller = |c: TelegramClient| {
        UpdatePoller::new(c)
            .timeout(Duration::ZERO)
            .cursor(store.clone(), "tg-offset")
    };
    let mut a = poller(client(&sim));
    for t in ["1", "2", "3"] {
        sim.user_sends(SIM_CHAT_ID, t).await;
    }
    let texts = |b: &[crate::Update]| -> Vec<String> {
        b.iter()
            .map(|u| u.message.as_ref().unwrap().text.clone().unwrap())
            .collect()
    };
    assert_eq!(texts(&a.next_batch().await.unwrap()), ["1", "2", "3"]);

    // The process dies before handling them: a new poller gets them again (not lost).
    drop(a);
    let mut b = poller(client(&sim));
    assert_eq!(texts(&b.next_batch().await.unwrap()), ["1", "2", "3"]);
    // Handled; the next call acknowledges them and they never come back.
    sim.user_sends(SIM_CHAT_ID, "4").await;
    assert_eq!(texts(&b.next_batch().await.unwrap()), ["4"]);
    assert_eq!(sim.pending_updates(), 1);

    // A failed call keeps the offset: the same update comes again, nothing is skipped.
    sim.user_sends(SIM_CHAT_ID, "5").await;
    sim.faults().push(Fault::Status(502));
    assert!(b.next_batch().await.is_err());
    assert_eq!(texts(&b.next_batch().await.unwrap()), ["5"]);
    assert!(b.next_batch().await.unwrap().is_empty());

    // A restart resumes after what was handled.
    sim.user_sends(SIM_CHAT_ID, "6").await;
    drop(b);
    let mut c = poller(client(&sim));
    assert_eq!(texts(&c.next_batch().await.unwrap()), ["6"]);
    assert!(c.offset().is_some());
}

#[tokio::test]
async fn the_simulator_speaks_query_form_and_json_like_the_bot_api() {
    let sim = Simulator::start().await;
    let http = reqwest::Client::new();
    let base = format!("{}/bot{SIM_TOKEN}", sim.uri());
    let me: Value = http
        .get(format!("{base}/GETME"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["result"]["username"], SIM_BOT_USERNAME);
    let q: Value = http
        .get(format!("{base}/sendMessage?chat_id={SIM_CHAT_ID}&text=query%20text"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["result"]["text"], "query text");
    let f: Value = http
        .post(format!("{base}/sendmessage"))
        .form(&[
            ("chat_id", SIM_CHAT_ID.to_string()),
            ("text", "<i>form</i>".into()),
            ("parse_mode", "HTML".into()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        f["result"]["entities"],
        json!([{"type": "italic", "offset": 0, "length": 4}])
    );
    let r = http
        .post(format!("{}/botnonsense/getMe", sim.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let wh: Value = http
        .post(format!("{base}/setWebhook"))
        .form(&[
            ("url", "https://bot.example.com/hook"),
            ("allowed_updates", "[\"message\",\"callback_query\"]"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        wh,
        json!({"ok": true, "result": true, "description": "Webhook was set"})
    );
}

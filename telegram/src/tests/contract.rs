//! The Bot API's published contract against the client and the simulator: what a 2xx the client cannot
//! use means, and the `sendMessage` refusals the simulator shares with the Bot API.

use std::time::Duration;

use crate::sim::{SIM_CHAT_ID, SIM_TOKEN, Simulator};
use crate::{SendMessage, TelegramClient, TelegramTransport};
use serde_json::{Value, json};
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, ErrorKind, Message, RetryPolicy, Transport};

async fn raw_send(sim: &Simulator, token: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/bot{token}/sendMessage", sim.uri()))
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_2xx_the_client_cannot_use_is_never_not_sent() {
    let sim = Simulator::start().await;
    let mut cfg = sim.config();
    cfg.retry = RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false);
    let bot = TelegramTransport::new(cfg).unwrap();
    let msg = Message::chat("", "Order #72 has shipped");
    let cases = [
        (r#"{"ok":true}"#, ErrorKind::Decode),
        (r#"{"ok":true,"result":true}"#, ErrorKind::Decode),
        (r#"{"ok":true,"result":{"chat":{"id":100200300}}}"#, ErrorKind::Decode),
        (
            r#"{"ok":true,"result":{"message_id":"7","chat":{"id":100200300}}}"#,
            ErrorKind::Decode,
        ),
        (
            r#"{"ok":"true","result":{"message_id":7,"chat":{"id":100200300}}}"#,
            ErrorKind::Decode,
        ),
        (r#""ok""#, ErrorKind::Decode),
        // A refusal in the body of a success: the status and the body disagree.
        (
            r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
            ErrorKind::NotFound,
        ),
        (r#"{"ok":false}"#, ErrorKind::Rejected),
    ];
    for (body, kind) in cases {
        let before = sim.requests().await.len();
        sim.faults().push(Fault::StatusJson(200, body.to_owned()));
        let e = bot.send(&msg).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, Dispatch::MaybeSent), "{body}");
        assert_eq!(e.provider(), Some("telegram"));
        assert_eq!(sim.requests().await.len(), before + 1, "not repeated: {body}");
    }
    // The same refusal with its own HTTP status is a refusal: nothing was sent.
    sim.faults().push(Fault::StatusJson(
        400,
        r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#.to_owned(),
    ));
    let e = bot.send(&msg).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::NotFound, Dispatch::NotSent));
}

#[tokio::test]
async fn the_simulator_refuses_what_the_bot_api_refuses() {
    let sim = Simulator::start().await;
    let chat = json!(SIM_CHAT_ID);
    let body = |extra: Value| {
        let mut b = json!({"chat_id": chat, "text": "hi"});
        if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        b
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("no chat_id", json!({"text": "hi"}), "Bad Request: chat_id is empty"),
        (
            "a keyboard that is not one",
            body(json!({"reply_markup": {"buttons": [["a"]]}})),
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            "an inline keyboard that is not rows of buttons",
            body(json!({"reply_markup": {"inline_keyboard": "Yes|No"}})),
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            "a keyboard in text that is not JSON",
            body(json!({"reply_markup": "yes please"})),
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            "callback_data over 64 bytes",
            body(json!({"reply_markup": {"inline_keyboard": [[{"text": "Pay", "callback_data": "x".repeat(65)}]]}})),
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            "entities without offsets",
            body(json!({"entities": [{"type": "bold", "length": 2}]})),
            "Bad Request: can't parse entities JSON object",
        ),
        (
            "link preview options that are not an object",
            body(json!({"link_preview_options": "off"})),
            "Bad Request: can't parse link preview options JSON object",
        ),
        (
            "reply parameters without a message id",
            body(json!({"reply_parameters": {"chat_id": SIM_CHAT_ID}})),
            "Bad Request: can't parse reply parameters JSON object",
        ),
        (
            "a reply to a message that does not exist",
            body(json!({"reply_parameters": {"message_id": 999}})),
            "Bad Request: message to be replied not found",
        ),
        (
            "a thread outside a forum",
            body(json!({"message_thread_id": 5})),
            "Bad Request: message thread not found",
        ),
    ];
    for (what, b, description) in &cases {
        let (status, v) = raw_send(&sim, SIM_TOKEN, b).await;
        assert_eq!(
            (
                status,
                v["ok"].as_bool(),
                v["error_code"].as_u64(),
                v["description"].as_str()
            ),
            (400, Some(false), Some(400), Some(*description)),
            "{what}"
        );
    }
    assert!(sim.sent().is_empty(), "no refused call sent anything");

    // Credentials: a wrong token is 401, none at all 404.
    let (status, v) = raw_send(&sim, "7000000001:wrong", &body(json!({}))).await;
    assert_eq!((status, v["description"].as_str()), (401, Some("Unauthorized")));
    let (status, _) = raw_send(&sim, "", &body(json!({}))).await;
    assert_eq!(status, 404);

    // What the Bot API takes: keyboards of every kind, a reply to a message that exists (or a missing
    // one when allowed), a thread in a forum, numbers as text, parameters it does not know.
    sim.add_forum(-1_001_234, "Support");
    let first = raw_send(&sim, SIM_TOKEN, &body(json!({}))).await.1["result"]["message_id"].clone();
    let accepted = [
        body(json!({"reply_markup": {"inline_keyboard": [[{"text": "Pay", "callback_data": "pay:72"}]]}})),
        body(json!({"reply_markup": "{\"keyboard\":[[\"Yes\",{\"text\":\"No\"}]]}"})),
        body(json!({"reply_markup": {"remove_keyboard": true}})),
        body(
            json!({"entities": [{"type": "bold", "offset": 0, "length": 2}], "link_preview_options": {"is_disabled": true}}),
        ),
        body(json!({"reply_parameters": {"message_id": first}})),
        body(json!({"reply_parameters": {"message_id": 999, "allow_sending_without_reply": true}})),
        json!({"chat_id": -1_001_234, "text": "in a topic", "message_thread_id": 5}),
        json!({"chat_id": SIM_CHAT_ID, "text": 72}),
        body(json!({"not_a_parameter": "ignored"})),
    ];
    for b in &accepted {
        let (status, v) = raw_send(&sim, SIM_TOKEN, b).await;
        assert_eq!((status, v["ok"].as_bool()), (200, Some(true)), "{b}: {v}");
    }
    assert_eq!(sim.sent().last().map(|m| m.text.as_str()), Some("hi"));
    assert!(sim.sent().iter().any(|m| m.text == "72"));

    // A keyboard the client builds is one the Bot API takes.
    let c = TelegramClient::new(sim.config()).unwrap();
    c.send_message(
        &SendMessage::new(SIM_CHAT_ID, "Pay now?")
            .reply_markup(json!({"inline_keyboard": [[{"text": "Pay", "callback_data": "pay:72"}]]})),
    )
    .await
    .unwrap();
}

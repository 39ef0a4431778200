//! The Telegram bot: linking, commands, once-only answers, broadcasts.

use serde_json::{Value, json};
use switchboard::core::simulated::Simulated;
use switchboard::telegram::TelegramTransport;
use switchboard::telegram::sim::Simulator;

use crate::common::Crm;

/// A service whose bot runs on `sim`, with the simulator's webhook set to the service.
async fn start(sim: &Simulator) -> Crm {
    let crm = Crm::start(&[("CRM_TELEGRAM", sim.dsn().as_str())]).await;
    let bot = TelegramTransport::from_dsn_str(&sim.dsn()).unwrap();
    assert!(
        bot.client()
            .set_webhook_url(&crm.url("/webhooks/telegram"))
            .await
            .unwrap()
    );
    crm
}

/// The user in `chat` writes `text`; answers the bot's reply (waits for the outbox to send it).
async fn say(sim: &Simulator, chat: i64, text: &str) -> String {
    let before = sim.sent_to(chat).len();
    sim.user_sends(chat, text).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let sent = sim.sent_to(chat);
        if sent.len() > before {
            assert_eq!(sent.len(), before + 1, "one reply per message");
            return sent[before].text.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no reply to {text:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn created(crm: &Crm, path: &str, body: Value) -> Value {
    let (s, v) = crm.post(path, body).await;
    assert_eq!(s, 201, "{path}: {v}");
    v
}

async fn code_for(crm: &Crm, user: &Value) -> String {
    let v = created(crm, "/api/telegram/link", json!({"user_id": user["id"]})).await;
    v["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_linked_dispatcher_gets_each_commands_answer_and_others_are_refused_politely() {
    let sim = Simulator::start().await;
    let crm = start(&sim).await;
    let dina = created(&crm, "/api/users", json!({"name": "Dina", "role": "dispatcher"})).await;
    let ivan_user = created(&crm, "/api/users", json!({"name": "Ivan", "role": "driver"})).await;
    let ivan = created(
        &crm,
        "/api/drivers",
        json!({"name": "Ivan Petrov", "user_id": ivan_user["id"]}),
    )
    .await;
    created(
        &crm,
        "/api/drivers",
        json!({"name": "Oleg Sidorov", "status": "off_duty"}),
    )
    .await;
    let done = created(
        &crm,
        "/api/applications",
        json!({"pickup": "Moscow", "dropoff": "Tver", "price_minor": 1_500_050, "driver_id": ivan["id"]}),
    )
    .await;
    crm.patch(&format!("/api/applications/{}", done["id"]), json!({"status": "done"}))
        .await;
    created(
        &crm,
        "/api/applications",
        json!({"pickup": "A", "dropoff": "B", "price_minor": 700}),
    )
    .await;

    // A chat nobody linked.
    assert!(say(&sim, 111, "/today").await.contains("not linked"));
    // Linking: the code works once.
    let code = code_for(&crm, &dina).await;
    assert_eq!(
        say(&sim, 222, &format!("/start {code}")).await,
        "Linked to Dina (dispatcher). Send /help for the commands."
    );
    assert!(
        say(&sim, 333, &format!("/start {code}"))
            .await
            .contains("unknown, used or expired")
    );
    assert!(
        say(&sim, 333, "/start NOSUCHCODE")
            .await
            .contains("unknown, used or expired")
    );

    let status = say(&sim, 222, &format!("/status {}", done["id"])).await;
    assert!(
        status.starts_with(&format!("Application {}: done", done["id"])),
        "{status}"
    );
    assert!(
        status.contains("Moscow -> Tver") && status.contains("Ivan Petrov") && status.contains("15000.50"),
        "{status}"
    );
    assert_eq!(say(&sim, 222, "/status 999").await, "No application 999.");
    let today = say(&sim, 222, "/today").await;
    assert!(
        today.contains("2 applications") && today.contains("done: 1") && today.contains("new: 1"),
        "{today}"
    );
    let drivers = say(&sim, 222, "/drivers").await;
    assert!(
        drivers.contains("Ivan Petrov: active") && drivers.contains("Oleg Sidorov: off_duty"),
        "{drivers}"
    );
    let earnings = say(&sim, 222, "/earnings").await;
    assert!(
        earnings.contains("Today: 15000.50") && earnings.contains("This week: 15000.50"),
        "{earnings}"
    );
    let alerts = say(&sim, 222, "/alerts").await;
    assert!(
        alerts.contains("0 may have been sent") && alerts.contains("Failed SMS: 0"),
        "{alerts}"
    );
    assert!(say(&sim, 222, "/dance").await.starts_with("Commands:"));
    assert!(say(&sim, 222, "hello").await.starts_with("Commands:"));

    // A linked driver may not use the dispatchers' commands.
    let driver_code = code_for(&crm, &ivan_user).await;
    assert!(
        say(&sim, 444, &format!("/start {driver_code}"))
            .await
            .contains("(driver)")
    );
    assert!(say(&sim, 444, "/earnings").await.contains("for dispatchers and admins"));
}

#[tokio::test]
async fn a_redelivered_update_is_answered_once_and_a_forged_one_is_refused() {
    let sim = Simulator::start().await;
    let crm = start(&sim).await;
    say(&sim, 222, "/today").await;
    let jobs = |c: switchboard::store::outbox::Counts| c.queued + c.running + c.accepted + c.dead + c.maybe_sent;
    let before = jobs(crm.running.state.outbox.counts().await.unwrap());
    let delivered = sim.pushed().last().cloned().unwrap();
    let again = crm
        .http
        .post(crm.url("/webhooks/telegram"))
        .headers(delivered.headers.clone())
        .body(delivered.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 200, "acknowledged, so Telegram stops");
    assert_eq!(
        jobs(crm.running.state.outbox.counts().await.unwrap()),
        before,
        "no second reply queued"
    );

    let forged = crm
        .http
        .post(crm.url("/webhooks/telegram"))
        .header("content-type", "application/json")
        .header("X-Telegram-Bot-Api-Secret-Token", "guess")
        .body(r#"{"update_id": 999999, "message": {"message_id": 1, "date": 1700000000, "chat": {"id": 222, "type": "private"}, "text": "/alerts"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    assert_eq!(
        jobs(crm.running.state.outbox.counts().await.unwrap()),
        before,
        "nothing queued for a forgery"
    );
    assert_eq!(sim.sent_to(222).len(), 1);
}

#[tokio::test]
async fn a_broadcast_reaches_the_linked_chats_of_a_role_or_of_users() {
    let sim = Simulator::start().await;
    let crm = start(&sim).await;
    let dina = created(&crm, "/api/users", json!({"name": "Dina", "role": "dispatcher"})).await;
    let petr = created(&crm, "/api/users", json!({"name": "Petr", "role": "dispatcher"})).await;
    let code = code_for(&crm, &dina).await;
    say(&sim, 222, &format!("/start {code}")).await;

    let key = [("Idempotency-Key", "storm-1")];
    let body = json!({"role": "dispatcher", "text": "Storm warning on M11"});
    let (s, answer) = crm.post_with("/api/telegram/send", &key, body.clone()).await;
    assert_eq!(s, 202, "{answer}");
    assert_eq!(
        (&answer["chats"], &answer["users_without_chat"]),
        (&json!(1), &json!(1)),
        "{answer}"
    );
    let (s, repeated) = crm.post_with("/api/telegram/send", &key, body).await;
    assert_eq!((s, &repeated["broadcast_id"]), (200, &answer["broadcast_id"]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while sim.sent_to(222).len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let sent = sim.sent_to(222);
    assert_eq!(sent.len(), 2, "the link reply and one broadcast");
    assert_eq!(sent[1].text, "Storm warning on M11");

    let (s, answer) = crm
        .post(
            "/api/telegram/send",
            json!({"user_ids": [dina["id"], petr["id"]], "text": "hi"}),
        )
        .await;
    assert_eq!(
        (s, &answer["chats"], &answer["users_without_chat"]),
        (202, &json!(1), &json!(1))
    );
    let (s, e) = crm.post("/api/telegram/send", json!({"text": "to whom?"})).await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = crm.post("/api/telegram/link", json!({"user_id": 999})).await;
    assert_eq!(s, 422, "{e}");
}

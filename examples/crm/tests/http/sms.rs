//! SMS: queued with its row, sent once, followed to delivery by the provider's reports.

use serde_json::{Value, json};
use switchboard::core::testkit::Fault;

use crate::common::Crm;

const PHONE: &str = "+7 925 507-06-02";

fn status_is(s: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["status"] == s
}

async fn application(crm: &Crm) -> Value {
    let (s, a) = crm
        .post(
            "/api/applications",
            json!({"pickup": "Moscow", "dropoff": "Tver", "price_minor": 100}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    a
}

/// Sends, waits for `sent`, advances the simulator until its report makes the row `delivered`.
async fn sent_then_delivered(crm: &Crm) {
    let sim = crm.sim(&crm.running.state.integrations.sms);
    let app = application(crm).await;
    let (s, row) = crm
        .post(
            "/api/sms",
            json!({"phone": PHONE, "text": "Your truck arrives at 10:00", "application_id": app["id"]}),
        )
        .await;
    assert_eq!(s, 202, "{row}");
    assert_eq!(row["status"], "queued");
    assert_eq!(row["phone"], "+79255070602");
    assert_eq!(
        (row["segments"].as_i64(), row["encoding"].as_str()),
        (Some(1), Some("GSM-7"))
    );
    assert_eq!(row["message_key"], format!("sms-{}", row["id"]));
    let path = format!("/api/sms/{}", row["id"]);
    let sent = crm.wait_for(&path, status_is("sent")).await;
    assert_eq!(sent["status"], "sent", "{sent}");
    assert_eq!(sent["provider"], sim.provider());
    let provider_id = sent["provider_message_id"].as_str().unwrap().to_owned();
    let records = sim.sent();
    assert_eq!(records.len(), 1, "the simulator received it once");
    assert_eq!(records[0].id, provider_id);
    assert_eq!(records[0].text, "Your truck arrives at 10:00");
    assert!(records[0].to.contains("79255070602"), "{:?}", records[0]);
    for _ in 0..4 {
        sim.advance().await;
    }
    assert!(!sim.pushed().is_empty(), "the simulator posted delivery reports");
    let delivered = crm.wait_for(&path, status_is("delivered")).await;
    assert_eq!(delivered["status"], "delivered", "{delivered}");
    assert!(delivered["delivered_at"].is_string());
    let (_, list) = crm.get(&format!("/api/sms?application_id={}", app["id"])).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(sim.sent().len(), 1, "still sent once");
}

#[tokio::test]
async fn an_sms_through_smsru_is_sent_once_and_delivered() {
    let crm = Crm::start(&[]).await;
    sent_then_delivered(&crm).await;
}

#[tokio::test]
async fn an_sms_through_twilio_is_sent_once_and_delivered() {
    let crm = Crm::start(&[("CRM_SMS", "sim:twilio")]).await;
    sent_then_delivered(&crm).await;
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_sends_once() {
    let crm = Crm::start(&[]).await;
    let sim = crm.sim(&crm.running.state.integrations.sms);
    let body = json!({"phone": PHONE, "text": "Код: 4711"});
    let key = [("Idempotency-Key", "order-72-code")];
    let (s1, first) = crm.post_with("/api/sms", &key, body.clone()).await;
    let (s2, again) = crm.post_with("/api/sms", &key, body).await;
    assert_eq!((s1, s2), (202, 200), "{first} {again}");
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["encoding"], "UCS-2");
    let sent = crm
        .wait_for(&format!("/api/sms/{}", first["id"]), status_is("sent"))
        .await;
    assert_eq!(sent["status"], "sent", "{sent}");
    // The same key for another text is a client bug, not a retry.
    let (s, e) = crm
        .post_with("/api/sms", &key, json!({"phone": PHONE, "text": "другой"}))
        .await;
    assert_eq!(s, 409, "{e}");
    let (s, after_sent) = crm
        .post_with("/api/sms", &key, json!({"phone": PHONE, "text": "Код: 4711"}))
        .await;
    assert_eq!((s, &after_sent["status"]), (200, &json!("sent")));
    let (_, all) = crm.get("/api/sms").await;
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
    assert_eq!(sim.sent().len(), 1);
}

#[tokio::test]
async fn a_provider_refusal_ends_failed_with_the_reason() {
    let crm = Crm::start(&[]).await;
    let sim = crm.sim(&crm.running.state.integrations.sms);
    sim.fail_next(Fault::StatusJson(
        200,
        r#"{"status":"OK","status_code":100,"sms":{"79255070602":{"status":"ERROR","status_code":207,"status_text":"no route to this number"}}}"#
            .to_owned(),
    ));
    let (s, row) = crm.post("/api/sms", json!({"phone": PHONE, "text": "hello"})).await;
    assert_eq!(s, 202, "{row}");
    let failed = crm
        .wait_for(&format!("/api/sms/{}", row["id"]), status_is("failed"))
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(failed["error"].as_str().unwrap().contains("207"), "{failed}");
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn a_forged_delivery_report_changes_nothing() {
    let crm = Crm::start(&[]).await;
    let (_, row) = crm.post("/api/sms", json!({"phone": PHONE, "text": "hello"})).await;
    let path = format!("/api/sms/{}", row["id"]);
    let sent = crm.wait_for(&path, status_is("sent")).await;
    let id = sent["provider_message_id"].as_str().unwrap();
    // SMS.ru's callback shape, without the secret token the URL was registered with.
    let body = format!("data%5B0%5D=sms_status%0A{id}%0A103%0A1700000000");
    let (s, _) = crm
        .post_raw(
            "/webhooks/sms?token=wrong",
            "application/x-www-form-urlencoded",
            body.clone(),
        )
        .await;
    assert_eq!(s, 401);
    let (s, _) = crm
        .post_raw("/webhooks/sms", "application/x-www-form-urlencoded", body)
        .await;
    assert_eq!(s, 401);
    let (_, after) = crm.get(&path).await;
    assert_eq!(after["status"], "sent", "{after}");
}

#[tokio::test]
async fn bad_sms_requests_get_a_4xx_and_nothing_is_stored() {
    let crm = Crm::start(&[]).await;
    let (s, e) = crm.post("/api/sms", json!({"phone": "12", "text": "x"})).await;
    assert_eq!(s, 400, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().starts_with("phone:"), "{e}");
    let (s, e) = crm.post("/api/sms", json!({"phone": PHONE, "text": "  "})).await;
    assert!(
        s == 400 && e["error"]["message"].as_str().unwrap().starts_with("text:"),
        "{e}"
    );
    let (s, e) = crm
        .post("/api/sms", json!({"phone": PHONE, "text": "я".repeat(500)}))
        .await;
    assert!(
        s == 400 && e["error"]["message"].as_str().unwrap().contains("parts"),
        "{e}"
    );
    let (s, e) = crm
        .post("/api/sms", json!({"phone": PHONE, "text": "x", "application_id": 999}))
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("unknown_reference")),
        "{e}"
    );
    let (s, e) = crm
        .post_with(
            "/api/sms",
            &[("Idempotency-Key", "")],
            json!({"phone": PHONE, "text": "x"}),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    let (_, all) = crm.get("/api/sms").await;
    assert_eq!(all, json!([]));
    assert_eq!(crm.running.state.outbox.counts().await.unwrap().queued, 0);
    let (s, _) = crm.get("/api/sms/1").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn sms_answers_503_when_the_integration_is_off() {
    let crm = Crm::start(&[("CRM_SMS", "off")]).await;
    let (s, e) = crm.post("/api/sms", json!({"phone": PHONE, "text": "x"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (503, Some("integration_off")), "{e}");
}

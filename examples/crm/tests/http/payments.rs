//! Payments on the YooKassa and Stripe simulators: create, pay, webhooks, refunds, idempotency.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard::core::simulated::Simulated;

use crate::common::Crm;

fn sim(crm: &Crm) -> &dyn Simulated {
    crm.running
        .state
        .integrations
        .payments
        .as_ref()
        .unwrap()
        .simulator
        .as_deref()
        .unwrap()
}

async fn create(crm: &Crm, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut r = crm.http.post(crm.url("/api/payments")).json(body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn order(currency: &str) -> Value {
    json!({"amount_minor": 100_000, "currency": currency, "description": "Order 72",
           "customer_email": "buyer@example.com", "return_url": "https://crm.example/paid"})
}

async fn events(crm: &Crm) -> i64 {
    switchboard::store::sqlx::query_scalar("SELECT COUNT(*) FROM payment_events")
        .fetch_one(crm.running.state.pool())
        .await
        .unwrap()
}

/// Waits (a moment at a time, 5 s at most) until the payment's stored status is `status`.
async fn until_status(crm: &Crm, id: i64, status: &str) {
    for _ in 0..250 {
        let s: String = switchboard::store::sqlx::query_scalar("SELECT status FROM payments WHERE id = ?1")
            .bind(id)
            .fetch_one(crm.running.state.pool())
            .await
            .unwrap();
        if s == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("payment {id} never became {status}");
}

/// Posts a webhook request the simulator pushed, again.
async fn redeliver(crm: &Crm, w: &switchboard::WebhookRequest) -> u16 {
    let mut r = crm.http.post(crm.url("/webhooks/payments")).body(w.body.clone());
    for (k, v) in &w.headers {
        r = r.header(k, v);
    }
    r.send().await.unwrap().status().as_u16()
}

async fn pay_refund_and_check_webhooks(crm: &Crm, currency: &str) {
    let (s, p) = create(crm, Some("order-72"), &order(currency)).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["status"], "pending");
    assert!(p["confirmation_url"].as_str().unwrap().starts_with("http"), "{p}");
    let id = p["id"].as_i64().unwrap();

    // Refused while unpaid.
    assert_eq!(
        crm.post(&format!("/api/payments/{id}/refunds"), json!({"amount_minor": 1}))
            .await
            .0,
        409
    );

    sim(crm).advance().await; // the customer pays; the simulator notifies the CRM
    until_status(crm, id, "succeeded").await;
    let recorded = events(crm).await;
    assert!(recorded >= 1);

    // A redelivered notification is acknowledged and changes nothing.
    let pushed = sim(crm).pushed();
    assert_eq!(redeliver(crm, pushed.last().unwrap()).await, 200);
    assert_eq!(events(crm).await, recorded, "recorded once");

    let path = format!("/api/payments/{id}/refunds");
    let (s, r) = crm.post(&path, json!({"amount_minor": 30_000})).await;
    assert_eq!((s, &r["remaining_minor"]), (201, &json!(70_000)), "{r}");
    let (s, r) = crm.post(&path, json!({"amount_minor": 50_000})).await;
    assert_eq!((s, &r["remaining_minor"]), (201, &json!(20_000)), "{r}");
    let (s, e) = crm.post(&path, json!({"amount_minor": 20_001})).await;
    assert_eq!(s, 409, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("20000"), "{e}");
    let (s, e) = crm.post(&path, json!({"amount_minor": 0})).await;
    assert_eq!(s, 400, "{e}");

    let (s, read) = crm.get(&format!("/api/payments/{id}")).await;
    assert_eq!(s, 200, "{read}");
    assert_eq!(read["status"], "succeeded");
    assert_eq!(read["refunded_minor"], 80_000, "refreshed from the provider");
    let refunds: i64 =
        switchboard::store::sqlx::query_scalar("SELECT COUNT(*) FROM payment_refunds WHERE payment_id = ?1")
            .bind(id)
            .fetch_one(crm.running.state.pool())
            .await
            .unwrap();
    assert_eq!(refunds, 2, "the refused refund left no row");
}

#[tokio::test]
async fn yookassa_payment_is_paid_by_webhook_refunded_in_parts_and_not_over_refunded() {
    let crm = Crm::start(&[]).await;
    pay_refund_and_check_webhooks(&crm, "RUB").await;
}

#[tokio::test]
async fn stripe_payment_is_paid_by_webhook_refunded_in_parts_and_not_over_refunded() {
    let crm = Crm::start(&[("CRM_PAYMENTS", "sim:stripe")]).await;
    pay_refund_and_check_webhooks(&crm, "USD").await;
}

#[tokio::test]
async fn a_retried_create_with_the_same_key_creates_one_payment() {
    let crm = Crm::start(&[]).await;
    let (s1, a) = create(&crm, Some("retry-1"), &order("RUB")).await;
    let (s2, b) = create(&crm, Some("retry-1"), &order("RUB")).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["provider_payment_id"], b["provider_payment_id"]);
    assert_eq!(sim(&crm).sent().len(), 1, "one payment at the provider");
    // The same key for a different payment is refused; no key is a new payment.
    let mut other = order("RUB");
    other["amount_minor"] = json!(5);
    assert_eq!(create(&crm, Some("retry-1"), &other).await.0, 409);
    assert_eq!(create(&crm, None, &order("RUB")).await.0, 201);
    assert_eq!(sim(&crm).sent().len(), 2);
}

#[tokio::test]
async fn a_create_that_failed_after_the_row_was_written_is_repeated_with_the_same_provider_key() {
    let crm = Crm::start(&[]).await;
    // YooKassa carries the payment out, then answers 500 for every attempt of the first call.
    sim(&crm).fail_next(switchboard::core::testkit::Fault::AfterHandling(Box::new(
        switchboard::core::testkit::Fault::Status(500),
    )));
    sim(&crm).fail_next(switchboard::core::testkit::Fault::Status(500));
    sim(&crm).fail_next(switchboard::core::testkit::Fault::Status(500));
    sim(&crm).fail_next(switchboard::core::testkit::Fault::Status(500));
    let (s, e) = create(&crm, Some("crashy"), &order("RUB")).await;
    assert!(s >= 500, "{s} {e}");
    let (s, p) = create(&crm, Some("crashy"), &order("RUB")).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(sim(&crm).sent().len(), 1, "the repeat got the first payment back");
}

/// POSTs a refund with an `Idempotency-Key`.
async fn refund_with_key(crm: &Crm, id: i64, key: &str, amount: i64) -> (u16, Value) {
    let r = crm
        .http
        .post(crm.url(&format!("/api/payments/{id}/refunds")))
        .header("Idempotency-Key", key)
        .json(&json!({ "amount_minor": amount }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_retried_refund_with_the_same_key_refunds_once() {
    let crm = Crm::start(&[]).await;
    let (_, p) = create(&crm, Some("refund-retry"), &order("RUB")).await;
    let id = p["id"].as_i64().unwrap();
    sim(&crm).advance().await;
    until_status(&crm, id, "succeeded").await;
    let before = sim(&crm).sent().len();

    // The provider refunds, and every answer to the first POST is lost (the gateway's own recovery
    // lookups included).
    sim(&crm).fail_next(switchboard::core::testkit::Fault::AfterHandling(Box::new(
        switchboard::core::testkit::Fault::Status(500),
    )));
    sim(&crm)
        .faults()
        .push_n(switchboard::core::testkit::Fault::Status(500), 20);
    let (s, e) = refund_with_key(&crm, id, "refund-1", 40_000).await;
    assert!(s >= 500, "{s} {e}");
    sim(&crm).faults().clear();
    // The client repeats: the provider is asked again under the same key and answers the first refund.
    let (s, r) = refund_with_key(&crm, id, "refund-1", 40_000).await;
    assert_eq!((s, &r["remaining_minor"]), (201, &json!(60_000)), "{r}");
    let (s, again) = refund_with_key(&crm, id, "refund-1", 40_000).await;
    assert_eq!((s, &again["refund"]["id"]), (200, &r["refund"]["id"]), "{again}");
    assert_eq!(again["remaining_minor"], 60_000);
    // The same key for another amount is refused; a new key is a new refund.
    assert_eq!(refund_with_key(&crm, id, "refund-1", 1).await.0, 409);
    assert_eq!(refund_with_key(&crm, id, "refund-2", 10_000).await.0, 201);

    let (_, read) = crm.get(&format!("/api/payments/{id}")).await;
    assert_eq!(
        read["refunded_minor"], 50_000,
        "the provider refunded 40 000 once, then 10 000: {read}"
    );
    let refunds: i64 =
        switchboard::store::sqlx::query_scalar("SELECT COUNT(*) FROM payment_refunds WHERE payment_id = ?1")
            .bind(id)
            .fetch_one(crm.running.state.pool())
            .await
            .unwrap();
    assert_eq!(refunds, 2);
    assert!(sim(&crm).sent().len() >= before);
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_stored() {
    let crm = Crm::start(&[]).await;
    for (field, value) in [
        ("amount_minor", json!(0)),
        ("customer_email", json!("not-an-email")),
        ("return_url", json!("ftp://crm.example/")),
        ("return_url", json!("https://")),
        ("description", json!("x".repeat(129))),
        ("currency", json!("XXX1")),
    ] {
        let mut body = order("RUB");
        body[field] = value;
        let (s, e) = create(&crm, None, &body).await;
        assert_eq!(s, 400, "{field}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().starts_with(field), "{e}");
    }
    let n: i64 = switchboard::store::sqlx::query_scalar("SELECT COUNT(*) FROM payments")
        .fetch_one(crm.running.state.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert!(sim(&crm).sent().is_empty());
    assert_eq!(crm.get("/api/payments/5").await.0, 404);
}

#[tokio::test]
async fn forged_webhooks_are_refused_and_not_recorded() {
    // YooKassa: a notification about a payment the shop does not have.
    let crm = Crm::start(&[]).await;
    let forged = json!({"type": "notification", "event": "payment.succeeded",
        "object": {"id": "2f000000-000f-5000-8000-000000000000", "status": "succeeded"}});
    let (s, _) = crm.post("/webhooks/payments", forged).await;
    assert_eq!(s, 401);
    assert_eq!(events(&crm).await, 0);

    // Stripe: a bad signature.
    let crm = Crm::start(&[("CRM_PAYMENTS", "sim:stripe")]).await;
    let r = crm
        .http
        .post(crm.url("/webhooks/payments"))
        .header("stripe-signature", "t=1,v1=00")
        .body(r#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(events(&crm).await, 0);
}

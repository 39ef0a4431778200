//! The YooKassa simulator and client against YooKassa's OpenAPI specification: objects with every
//! required field, and the requests YooKassa refuses.

use crate::sim::Simulator;
use serde_json::{Value, json};
use switchboard_core::simulated::Simulated;
use switchboard_payments::{CreatePayment, CreateRefund, PaymentGateway};

use super::{gateway, rub};

#[track_caller]
fn has_all(what: &str, v: &Value, fields: &[&str]) {
    let o = v.as_object().unwrap_or_else(|| panic!("{what} is not an object: {v}"));
    let missing: Vec<&&str> = fields.iter().filter(|f| !o.contains_key(**f)).collect();
    assert!(missing.is_empty(), "{what} lacks {missing:?}: {v}");
}

#[tokio::test]
async fn payments_and_refunds_have_every_required_field() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw
        .create_payment(
            &CreatePayment::new(rub("100"))
                .return_url("https://shop.example/r")
                .metadata("order_id", "72"),
        )
        .await
        .unwrap();
    // Required in YooKassa's OpenAPI specification, schema Payment.
    let required = [
        "id",
        "status",
        "amount",
        "created_at",
        "paid",
        "test",
        "refundable",
        "recipient",
    ];
    let pending = sim.payment(&p.id).unwrap();
    has_all("pending payment", &pending, &required);
    has_all("recipient", &pending["recipient"], &["account_id", "gateway_id"]);
    has_all("confirmation", &pending["confirmation"], &["type", "confirmation_url"]);
    sim.pay(&p.id).unwrap();
    let paid = sim.payment(&p.id).unwrap();
    has_all("paid payment", &paid, &required);
    has_all(
        "payment_method",
        &paid["payment_method"],
        &["type", "id", "saved", "status"],
    );
    has_all(
        "card",
        &paid["payment_method"]["card"],
        &["last4", "expiry_year", "expiry_month", "card_type"],
    );
    has_all(
        "authorization_details",
        &paid["authorization_details"],
        &["rrn", "auth_code", "three_d_secure"],
    );
    assert!(paid.get("confirmation").is_none(), "no confirmation once paid");

    let r = gw
        .refund(&CreateRefund::partial(&p.id, rub("30")).metadata("ticket", "T-1"))
        .await
        .unwrap();
    let refund = sim.refund(&r.id).unwrap();
    has_all(
        "refund",
        &refund,
        &["id", "payment_id", "amount", "status", "created_at"],
    );
    assert_eq!(refund["metadata"], json!({"ticket": "T-1"}), "refunds carry metadata");
    has_all(
        "refund_authorization_details",
        &refund["refund_authorization_details"],
        &["rrn"],
    );
}

#[tokio::test]
async fn metadata_values_may_be_null() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let body = json!({"amount": {"value": "10.00", "currency": "RUB"},
                      "confirmation": {"type": "redirect", "return_url": "https://shop.example/r"},
                      "metadata": {"order_id": "72", "coupon": null}});
    let (status, v) = post(&sim, "/v3/payments", "k-null", &body.to_string(), "application/json").await;
    assert_eq!(status, 200, "{v}");
    let p = gw.get_payment(v["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(p.metadata.get("order_id").map(String::as_str), Some("72"));
    assert!(
        !p.metadata.contains_key("coupon"),
        "a null value is no value, not \"null\""
    );
    // And a null metadata object reads as empty.
    sim.alter_next_lookup(json!({"metadata": null}));
    assert!(gw.get_payment(&p.id).await.unwrap().metadata.is_empty());
}

/// What is refused, the path, key, body and content type sent, the status, code and parameter expected.
type Case<'a> = (
    &'a str,
    &'a str,
    &'a str,
    String,
    &'a str,
    u16,
    Option<&'a str>,
    Option<&'a str>,
);

async fn post(sim: &Simulator, path: &str, key: &str, body: &str, content_type: &str) -> (u16, Value) {
    let http = reqwest::Client::new();
    let mut rb = http
        .post(format!("{}{path}", sim.uri()))
        .basic_auth(Simulator::SHOP_ID, Some(Simulator::SECRET_KEY))
        .header("content-type", content_type)
        .body(body.to_owned());
    if !key.is_empty() {
        rb = rb.header("idempotence-key", key);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_simulator_refuses_what_yookassa_refuses() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let paid = gw
        .create_payment(&CreatePayment::new(rub("100")).payment_method(Simulator::SAVED_CARD))
        .await
        .unwrap();
    let held = gw
        .create_payment(
            &CreatePayment::new(rub("100"))
                .payment_method(Simulator::SAVED_CARD)
                .manual_capture(),
        )
        .await
        .unwrap();
    let created = sim.stats().payments_created;
    let ok = |extra: Value| {
        let mut b = json!({"amount": {"value": "10.00", "currency": "RUB"},
                           "confirmation": {"type": "redirect", "return_url": "https://shop.example/r"}});
        if let (Some(m), Value::Object(x)) = (b.as_object_mut(), extra) {
            m.extend(x);
        }
        b.to_string()
    };
    let capture = format!("/v3/payments/{}/capture", held.id);
    let cancel = format!("/v3/payments/{}/cancel", held.id);
    let long_key = "k".repeat(65);
    let json_ct = "application/json";
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("no Idempotence-Key", "/v3/payments", "", ok(json!({})), json_ct, 400, Some("invalid_request"), Some("Idempotence-Key")),
        ("key too long", "/v3/payments", &long_key, ok(json!({})), json_ct, 400, Some("invalid_request"), Some("Idempotence-Key")),
        ("key with a space", "/v3/payments", "a b", ok(json!({})), json_ct, 400, Some("invalid_request"), Some("Idempotence-Key")),
        ("not JSON", "/v3/payments", "k1", ok(json!({})), "application/x-www-form-urlencoded", 415, None, None),
        ("malformed JSON", "/v3/payments", "k2", "{\"amount\":".into(), json_ct, 400, Some("invalid_request"), None), ("unknown field", "/v3/payments", "k3", ok(json!({"colour": "red"})), json_ct, 400, Some("invalid_request"), Some("colour")), ("amount as a number", "/v3/payments", "k4", ok(json!({"amount": {"value": 10, "currency": "RUB"}})), json_ct, 400, Some("invalid_request"), Some("amount.value")), ("zero amount", "/v3/payments", "k5", ok(json!({"amount": {"value": "0.00", "currency": "RUB"}})), json_ct, 400, Some("invalid_request"), Some("amount.value")), ("negative amount", "/v3/payments", "k6", ok(json!({"amount": {"value": "-1.00", "currency": "RUB"}})), json_ct, 400, Some("invalid_request"), Some("amount.value")), ("too many decimals", "/v3/payments", "k7", ok(json!({"amount": {"value": "1.001", "currency": "RUB"}})), json_ct, 400, Some("invalid_request"), Some("amount.value")), ("a currency YooKassa does not take", "/v3/payments", "k8", ok(json!({"amount": {"value": "1.00", "currency": "CNY"}})), json_ct, 400, Some("invalid_request"), Some("amount.currency")), ("no amount", "/v3/payments", "k9", json!({"confirmation": {"type": "embedded"}}).to_string(), json_ct, 400, Some("invalid_request"), Some("amount")), ("long description", "/v3/payments", "k10", ok(json!({"description": "x".repeat(129)})), json_ct, 400, Some("invalid_request"), Some("description")), ("capture not a boolean", "/v3/payments", "k11", ok(json!({"capture": "yes"})), json_ct, 400, Some("invalid_request"), Some("capture")), ("too much metadata", "/v3/payments", "k12", ok(json!({"metadata": (0..17).map(|i| (format!("k{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()})), json_ct, 400, Some("invalid_request"), Some("metadata")), ("metadata number", "/v3/payments", "k13", ok(json!({"metadata": {"n": 7}})), json_ct, 400, Some("invalid_request"), Some("metadata")), ("unknown confirmation", "/v3/payments", "k14", ok(json!({"confirmation": {"type": "teleport"}})), json_ct, 400, Some("invalid_request"), Some("confirmation.type")), ("redirect without return_url", "/v3/payments", "k15", ok(json!({"confirmation": {"type": "redirect"}})), json_ct, 400, Some("invalid_request"), Some("confirmation.return_url")), ("bad locale", "/v3/payments", "k16", ok(json!({"confirmation": {"type": "embedded", "locale": "de_DE"}})), json_ct, 400, Some("invalid_request"), Some("confirmation.locale")), ("two payment method sources", "/v3/payments", "k17", ok(json!({"payment_method_id": Simulator::SAVED_CARD, "payment_token": "t"})), json_ct, 400, Some("invalid_request"), Some("payment_method_id")), ("bad client_ip", "/v3/payments", "k18", ok(json!({"client_ip": "somewhere"})), json_ct, 400, Some("invalid_request"), Some("client_ip")), ("capture with an unknown field", &capture, "k19", json!({"colour": "red"}).to_string(), json_ct, 400, Some("invalid_request"), Some("colour")), ("capture over the amount", &capture, "k20", json!({"amount": {"value": "100.01", "currency": "RUB"}}).to_string(), json_ct, 400, Some("invalid_request"), Some("amount.value")), ("cancel with a field", &cancel, "k21", json!({"reason": "bored"}).to_string(), json_ct, 400, Some("invalid_request"), Some("reason")), ("refund without payment_id", "/v3/refunds", "k22", json!({"amount": {"value": "1.00", "currency": "RUB"}}).to_string(), json_ct, 400, Some("invalid_request"), Some("payment_id")), ("refund long description", "/v3/refunds", "k23", json!({"payment_id": paid.id, "amount": {"value": "1.00", "currency": "RUB"}, "description": "x".repeat(251)}).to_string(), json_ct, 400, Some("invalid_request"), Some("description")), ("refund over what is left", "/v3/refunds", "k24", json!({"payment_id": paid.id, "amount": {"value": "100.01", "currency": "RUB"}}).to_string(), json_ct, 400, Some("invalid_request"), Some("amount.value")),
    ];
    for (what, path, key, body, ct, status, code, param) in cases {
        let (got, v) = post(&sim, path, key, &body, ct).await;
        assert_eq!(got, status, "{what}: {v}");
        assert_eq!(v["type"], json!("error"), "{what}: {v}");
        assert_eq!(v["code"].as_str(), code, "{what}: {v}");
        assert_eq!(v["parameter"].as_str(), param, "{what}: {v}");
    }
    assert_eq!(sim.stats().payments_created, created, "nothing refused was created");
    assert_eq!(
        (
            sim.stats().captures,
            sim.stats().cancellations,
            sim.stats().refunds_created
        ),
        (0, 0, 0)
    );

    // A known path with another method is 405.
    let http = reqwest::Client::new();
    let got = http
        .get(format!("{}{capture}", sim.uri()))
        .basic_auth(Simulator::SHOP_ID, Some(Simulator::SECRET_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 405);
    // The crate's own requests pass every check.
    gw.capture_payment(&held.id, Some(rub("60")), None).await.unwrap();
    gw.refund(
        &CreateRefund::full(&paid.id)
            .description("returned")
            .metadata("why", "size"),
    )
    .await
    .unwrap();
}

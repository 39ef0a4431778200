//! Signed webhooks: verified, deduplicated, during secret rotation, and refused when they must be.

use std::time::Duration;

use crate::sim::Simulator;
use crate::webhook::signature_header;
use crate::{StripeConfig, StripeGateway};
use serde_json::json;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{ErrorKind, WebhookRequest};
use switchboard_payments::{CreatePayment, CreateRefund, PaymentGateway, PaymentStatus, WebhookObject, WebhookOutcome};

use super::{card, gateway, usd};

#[tokio::test]
async fn signed_webhooks_from_the_simulator_are_verified_and_deduplicated() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_webhook_url(format!("{}/stripe", sink.uri()));
    let gw = gateway(&sim);
    let p = gw.create_payment(&card("20")).await.unwrap();
    gw.refund(&CreateRefund::partial(&p.id, usd("5"))).await.unwrap();
    // payment_intent.created, charge.succeeded, payment_intent.succeeded, refund.created, charge.refunded
    let got = sink.wait_for(5, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 5);
    let mut types = Vec::new();
    for req in &got {
        assert!(req.header("stripe-signature").unwrap().starts_with("t="));
        match gw.handle_webhook(req).await.unwrap() {
            WebhookOutcome::Event(e) => {
                assert!(e.event_id.starts_with("evt_"));
                assert!(
                    !e.raw.to_string().contains("_secret_"),
                    "raw bodies lose the client secret"
                );
                match (&e.event_type[..], &e.object) {
                    ("payment_intent.succeeded", WebhookObject::Payment(p)) => {
                        assert_eq!(p.status, PaymentStatus::Succeeded)
                    }
                    ("refund.created", WebhookObject::Refund(r)) => assert_eq!(r.amount, usd("5")),
                    ("charge.refunded" | "charge.succeeded", WebhookObject::Other { kind, .. }) => {
                        assert_eq!(kind, "charge")
                    }
                    ("payment_intent.created", WebhookObject::Payment(_)) => {}
                    (t, o) => panic!("{t} {o:?}"),
                }
                types.push(e.event_type.clone());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        types,
        [
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "refund.created",
            "charge.refunded"
        ]
    );
    // Delivered again: duplicates.
    for req in &got {
        assert!(gw.handle_webhook(req).await.unwrap().is_duplicate());
    }
    // The event can be fetched back from the API.
    let first: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    let ev = gw.client().retrieve_event(first["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(ev.kind, "payment_intent.created");
    assert!(ev.extra["request"]["idempotency_key"].is_string());
}

#[tokio::test]
async fn webhooks_during_secret_rotation() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_webhook_url(sink.uri());
    sim.rotate_webhook_secret("whsec_rotated_new_secret");
    gateway(&sim)
        .create_payment(&CreatePayment::new(usd("1")))
        .await
        .unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    let header = got[0].header("stripe-signature").unwrap().to_owned();
    assert_eq!(header.matches("v1=").count(), 2);
    // A host that knows only the old secret, only the new one, or both: all accept.
    for secrets in [
        vec![Simulator::WEBHOOK_SECRET],
        vec!["whsec_rotated_new_secret"],
        vec![Simulator::WEBHOOK_SECRET, "whsec_rotated_new_secret"],
    ] {
        let mut c = StripeConfig::builder()
            .secret_key(Simulator::SECRET_KEY)
            .endpoint(sim.uri());
        for s in secrets {
            c = c.webhook_secret(s);
        }
        assert!(
            !StripeGateway::new(c.build().unwrap())
                .unwrap()
                .handle_webhook(&got[0])
                .await
                .unwrap()
                .is_duplicate()
        );
    }
    // After the rotation ends, the old secret no longer verifies new webhooks.
    sim.retire_old_webhook_secrets();
    gateway(&sim)
        .create_payment(&CreatePayment::new(usd("2")))
        .await
        .unwrap();
    let got = sink.wait_for(2, Duration::from_secs(5)).await;
    let old_only = StripeGateway::new(
        StripeConfig::builder()
            .secret_key(Simulator::SECRET_KEY)
            .endpoint(sim.uri())
            .webhook_secret(Simulator::WEBHOOK_SECRET)
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        old_only.handle_webhook(&got[1]).await.unwrap_err().kind(),
        ErrorKind::Auth
    );
}

#[tokio::test]
async fn webhook_refusals() {
    let sim = Simulator::start().await;
    let body = json!({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "data": {"object": {"object": "payment_intent"}}}).to_string();
    let now = chrono::Utc::now().timestamp();
    let post = |h: Option<String>, b: &str| {
        let r = WebhookRequest::post("https://shop.example/stripe", b.to_owned());
        match h {
            Some(h) => r.with_header("Stripe-Signature", &h),
            None => r,
        }
    };
    // Without a configured secret, every webhook is refused as a configuration error.
    let no_secret = StripeGateway::new(
        StripeConfig::builder()
            .secret_key(Simulator::SECRET_KEY)
            .endpoint(sim.uri())
            .build()
            .unwrap(),
    )
    .unwrap();
    let signed = signature_header(&[Simulator::WEBHOOK_SECRET], now, body.as_bytes());
    assert_eq!(
        no_secret
            .handle_webhook(&post(Some(signed.clone()), &body))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
    let gw = gateway(&sim);
    // Unsigned, wrong secret, too old.
    assert_eq!(
        gw.handle_webhook(&post(None, &body)).await.unwrap_err().kind(),
        ErrorKind::Auth
    );
    let wrong = signature_header(&["whsec_wrong"], now, body.as_bytes());
    assert_eq!(
        gw.handle_webhook(&post(Some(wrong), &body)).await.unwrap_err().kind(),
        ErrorKind::Auth
    );
    let old = signature_header(&[Simulator::WEBHOOK_SECRET], now - 301, body.as_bytes());
    assert_eq!(
        gw.handle_webhook(&post(Some(old), &body)).await.unwrap_err().kind(),
        ErrorKind::Auth
    );
    // Signed but malformed: an input error, not a panic.
    let payment_intent_missing_fields = signed;
    assert_eq!(
        gw.handle_webhook(&post(Some(payment_intent_missing_fields), &body))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    for garbage in [
        "",
        "{",
        "[]",
        "null",
        r#"{"id":"evt_2"}"#,
        r#"{"id":"evt_3","type":"x","data":{}}"#,
    ] {
        let h = signature_header(&[Simulator::WEBHOOK_SECRET], now, garbage.as_bytes());
        assert_eq!(
            gw.handle_webhook(&post(Some(h), garbage)).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{garbage}"
        );
    }
}

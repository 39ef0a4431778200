//! The payment providers' webhooks (Stripe's signature, YooKassa's address allow-list and re-fetch):
//! refused when unverified, and never claimed in the event store by a refused request.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::WebhookSink;
use switchboard::payments::gateway::PaymentWebhooks;
use switchboard::payments::{self, CreatePayment, Currency, Money, PaymentGateway};
use switchboard::{ErrorKind, Event, MemoryJournal, Messenger, WebhookRequest};

use super::{HOOK, assert_accepted, assert_refused, messenger_with_source, refusal};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn stripe_source(dsn: &str) -> (Messenger, Arc<MemoryJournal>) {
    let gw = payments::gateway(&switchboard::connect(dsn).unwrap()).unwrap();
    messenger_with_source("stripe", Arc::new(PaymentWebhooks(gw)))
}

#[tokio::test]
async fn stripe_signature_refusals() {
    use switchboard::stripe::webhook::{SIGNATURE_HEADER, compute_signature, signature_header};
    const OLD: &str = "whsec_rotatedOutSecret000";
    const NEW: &str = "whsec_currentSecret111";
    const SK: &str = "sk_test_refusalsKey000";
    // Both secrets configured, as during a rotation.
    let (m, j) = stripe_source(&format!("stripe://{SK}@127.0.0.1:9?webhook_secret={OLD},{NEW}"));
    let body = json!({"id": "evt_refusals_1", "object": "event", "type": "customer.created", "created": 1,
        "data": {"object": {"id": "cus_1", "object": "customer"}}})
    .to_string();
    let now = unix_now();
    let req = |header: Option<String>, body: &str| {
        let r = WebhookRequest::post(format!("{HOOK}/stripe"), body.to_owned())
            .with_header("content-type", "application/json");
        match header {
            Some(h) => r.with_header(SIGNATURE_HEADER, &h),
            None => r,
        }
    };
    let signed = |secret: &str, t: i64| Some(signature_header(&[secret], t, body.as_bytes()));
    let table = vec![
        refusal(
            "no header",
            req(None, &body),
            ErrorKind::Auth,
            "no Stripe-Signature header",
        ),
        refusal(
            "empty header",
            req(Some(String::new()), &body),
            ErrorKind::Auth,
            "malformed",
        ),
        refusal(
            "no timestamp",
            req(Some("v1=abcd".into()), &body),
            ErrorKind::Auth,
            "no valid timestamp",
        ),
        refusal(
            "bad timestamp",
            req(Some("t=soon,v1=abcd".into()), &body),
            ErrorKind::Auth,
            "no valid timestamp",
        ),
        refusal(
            "no v1",
            req(Some(format!("t={now},v0=abcd")), &body),
            ErrorKind::Auth,
            "no signature with the v1",
        ),
        refusal(
            "wrong secret",
            req(signed("whsec_wrong", now), &body),
            ErrorKind::Auth,
            "no Stripe-Signature signature matches",
        ),
        refusal(
            "altered body",
            req(signed(NEW, now), &body.replace("cus_1", "cus_2")),
            ErrorKind::Auth,
            "matches",
        ),
        refusal(
            "too old (replay)",
            req(signed(NEW, now - 301 - 5), &body),
            ErrorKind::Auth,
            "tolerated",
        ),
        refusal(
            "two headers",
            req(signed(NEW, now), &body).with_header(SIGNATURE_HEADER, &signed(NEW, now).unwrap()),
            ErrorKind::Auth,
            "more than one",
        ),
        refusal(
            "signed garbage",
            req(
                Some(format!("t={now},v1={}", compute_signature(NEW, now, b"{not json"))),
                "{not json",
            ),
            ErrorKind::InvalidInput,
            "not a Stripe event",
        ),
    ];
    assert_refused(&m, &j, "stripe", &[OLD, NEW, SK], table).await;
    // Rotation: a signature by either configured secret is accepted; a fresh event, not a duplicate,
    // so no refused request was claimed.
    let ev = assert_accepted(&m, "stripe", &req(signed(OLD, now), &body)).await;
    assert!(
        matches!(&ev[0], Event::Payment(p) if p.event_id.as_deref() == Some("evt_refusals_1")),
        "{ev:?}"
    );
    let other = body.replace("evt_refusals_1", "evt_refusals_2");
    let r = req(Some(signature_header(&[NEW], now - 290, other.as_bytes())), &other);
    assert_accepted(&m, "stripe", &r).await;
    // Stripe signs with every secret during rotation: several v1 values, one of them ours.
    let third = body.replace("evt_refusals_1", "evt_refusals_3");
    let r = req(
        Some(signature_header(&["whsec_unknown", NEW], now, third.as_bytes())),
        &third,
    );
    assert_accepted(&m, "stripe", &r).await;
    // A timestamp ahead of our clock, even beyond the tolerance, is accepted, as by Stripe's own
    // libraries (switchboard-stripe documents and tests this): only the secret's holder can sign one,
    // so refusing it would only drop genuine events on a host whose clock runs behind.
    let ahead = body.replace("evt_refusals_1", "evt_refusals_4");
    let r = req(Some(signature_header(&[NEW], now + 301 + 5, ahead.as_bytes())), &ahead);
    assert_accepted(&m, "stripe", &r).await;
    // A redelivery of a verified event is acknowledged and yields nothing.
    assert!(
        m.handle_webhook("stripe", &req(signed(OLD, now), &body))
            .await
            .unwrap()
            .events
            .is_empty()
    );

    // No secret, or an empty one: refuses to run.
    for dsn in [
        format!("stripe://{SK}@127.0.0.1:9"),
        format!("stripe://{SK}@127.0.0.1:9?webhook_secret="),
    ] {
        match switchboard::connect(&dsn) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::Config, "{e}"),
            Ok(conn) => {
                let gw = payments::gateway(&conn).unwrap();
                let (m, _) = messenger_with_source("stripe", Arc::new(PaymentWebhooks(gw)));
                let e = m
                    .handle_webhook("stripe", &req(signed(NEW, now), &body))
                    .await
                    .unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Config, "{e}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------- yookassa

#[tokio::test]
async fn yookassa_ip_and_refetch_refusals() {
    let sim = switchboard::yookassa::sim::Simulator::start().await;
    let gw: Arc<dyn PaymentGateway> = payments::gateway(&switchboard::connect(&sim.dsn()).unwrap()).unwrap();
    // The simulator pushes nowhere we listen; the sink only keeps its own notifications out of the way.
    let sink = WebhookSink::start().await;
    sim.set_webhook_url(format!("{}/yookassa", sink.uri()));
    let (m, j) = messenger_with_source("yookassa", Arc::new(PaymentWebhooks(gw.clone())));
    // A payment that waits for the customer: its real state is `pending`.
    let p = gw
        .create_payment(
            &CreatePayment::new(Money::parse("10.00", Currency::RUB).unwrap()).return_url("https://shop.example/r"),
        )
        .await
        .unwrap();
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    let note = |event: &str, id: &str, status: &str| {
        WebhookRequest::post(
            format!("{HOOK}/yookassa"),
            json!({"type": "notification", "event": event,
                   "object": {"id": id, "status": status, "paid": true,
                              "amount": {"value": "10.00", "currency": "RUB"}}})
            .to_string(),
        )
        .with_header("content-type", "application/json")
    };
    let secret_key = switchboard::yookassa::sim::Simulator::SECRET_KEY;
    let table = vec![
        refusal(
            "not on the allow-list",
            note("payment.succeeded", &p.id, "succeeded").with_remote_addr("203.0.113.7".parse().unwrap()),
            ErrorKind::Auth,
            "not on the allow-list",
        ),
        refusal(
            "no peer address",
            note("payment.succeeded", &p.id, "succeeded"),
            ErrorKind::Auth,
            "no peer address",
        ),
        refusal(
            "unknown object (forged)",
            note("payment.succeeded", "2f000000-000f-5000-9000-000000000000", "succeeded").with_remote_addr(loopback),
            ErrorKind::Auth,
            "does not have",
        ),
        refusal(
            "malformed body",
            WebhookRequest::post(format!("{HOOK}/yookassa"), "{\"type\":").with_remote_addr(loopback),
            ErrorKind::InvalidInput,
            "not the JSON expected",
        ),
        refusal(
            "not a notification",
            WebhookRequest::post(
                format!("{HOOK}/yookassa"),
                r#"{"type":"payment","event":"x","object":{}}"#,
            )
            .with_remote_addr(loopback),
            ErrorKind::InvalidInput,
            "not 'notification'",
        ),
    ];
    assert_refused(&m, &j, "yookassa", &[secret_key], table).await;

    // A forged "succeeded" for a real, pending payment from an allowed address: the re-fetched state
    // wins, the claim is only recorded as what was claimed.
    let ev = assert_accepted(
        &m,
        "yookassa",
        &note("payment.succeeded", &p.id, "succeeded").with_remote_addr(loopback),
    )
    .await;
    match &ev[0] {
        Event::Payment(pe) => {
            assert_eq!(pe.object_id, p.id);
            assert_eq!(pe.status, "pending", "{pe:?}");
            assert_ne!(pe.event_type, "payment.succeeded", "{pe:?}");
        }
        other => panic!("{other:?}"),
    }
}

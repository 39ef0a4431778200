//! Registration: a `stripe://` DSN connects through the registry to a payment gateway (found with
//! `switchboard_payments::gateway`) and a webhook source, and the simulator is driven through the
//! shared `Simulated` vocabulary.

use std::time::Duration;

use crate::sim::Simulator;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{Connection, ErrorKind, Registry};
use switchboard_payments::simkit::conformance::{
    connection_and_webhooks, core_payment_events, factory, take_and_refund,
};
use switchboard_payments::{CreatePayment, Currency, Money, PaymentStatus, WebhookObject, WebhookOutcome};

use super::usd;

fn connect(dsn: &str) -> switchboard_core::Result<Connection> {
    let mut registry = Registry::new();
    crate::register(&mut registry);
    registry.connect(dsn)
}

#[tokio::test]
async fn register_and_connect_give_a_gateway_and_a_webhook_source() {
    let sim = Simulator::start().await;
    let conn = connect(&sim.dsn()).unwrap();
    let event = connection_and_webhooks(&conn, &sim, "stripe").await;
    assert_eq!(event.event_type, "payment_intent.succeeded");
}

#[tokio::test]
async fn every_trigger_pushes_a_signed_event_the_gateway_verifies() {
    let sim = Simulator::start().await;
    let gw = switchboard_payments::gateway(&connect(&sim.dsn()).unwrap()).unwrap();
    let sink = WebhookSink::start().await;
    let expected = [
        (
            "payment.succeeded",
            "payment_intent.succeeded",
            PaymentStatus::Succeeded,
        ),
        (
            "payment.waiting_for_capture",
            "payment_intent.amount_capturable_updated",
            PaymentStatus::WaitingForCapture,
        ),
        ("payment.canceled", "payment_intent.canceled", PaymentStatus::Canceled),
        (
            "payment.failed",
            "payment_intent.payment_failed",
            PaymentStatus::Pending,
        ),
    ];
    assert_eq!(sim.triggers().len(), expected.len() + 2);
    for (trigger, stripe_event, status) in expected {
        let request = sim.trigger(trigger, &sink.uri()).await.unwrap();
        match gw.handle_webhook(&request).await.unwrap() {
            WebhookOutcome::Event(e) => {
                assert_eq!(e.event_type, stripe_event);
                match &e.object {
                    WebhookObject::Payment(p) => assert_eq!(p.status, status, "{trigger}"),
                    other => panic!("{trigger}: {other:?}"),
                }
            }
            other => panic!("{trigger}: {other:?}"),
        }
    }
    for (trigger, stripe_event, raw_status) in [
        ("refund.succeeded", "refund.created", "succeeded"),
        ("refund.failed", "refund.failed", "failed"),
    ] {
        let request = sim.trigger(trigger, &sink.uri()).await.unwrap();
        match gw.handle_webhook(&request).await.unwrap() {
            WebhookOutcome::Event(e) => {
                assert_eq!(e.event_type, stripe_event);
                match &e.object {
                    WebhookObject::Refund(r) => assert_eq!(r.raw_status, raw_status, "{trigger}"),
                    other => panic!("{trigger}: {other:?}"),
                }
            }
            other => panic!("{trigger}: {other:?}"),
        }
    }
    let e = sim.trigger("payout.paid", &sink.uri()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("refund.succeeded"), "{e}");
    // A gateway that knows another secret refuses what the simulator signed.
    let other = sim.trigger("payment.succeeded", &sink.uri()).await.unwrap();
    let dsn = sim.dsn().replace(Simulator::WEBHOOK_SECRET, "whsec_someone_else");
    let stranger = switchboard_payments::gateway(&connect(&dsn).unwrap()).unwrap();
    assert_eq!(
        stranger.handle_webhook(&other).await.unwrap_err().kind(),
        ErrorKind::Auth
    );
}

#[tokio::test]
async fn simulated_drives_a_payment_from_created_to_paid() {
    let sim = Simulator::start_with(SimOptions::default()).await.unwrap();
    let sink = WebhookSink::start().await;
    sim.set_webhook_url(sink.uri());
    let gw = switchboard_payments::gateway(&connect(&sim.dsn()).unwrap()).unwrap();
    // A Checkout Session and a PaymentIntent for the browser: both wait for their customer.
    let checkout = gw
        .create_payment(
            &CreatePayment::new(usd("19.99"))
                .description("T-shirt")
                .return_url("https://shop.example/thanks"),
        )
        .await
        .unwrap();
    let browser = gw.create_payment(&CreatePayment::new(usd("5.00"))).await.unwrap();
    let sent = sim.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        (sent[0].id.as_str(), sent[0].to.as_str()),
        (checkout.id.as_str(), "19.99 USD")
    );
    assert_eq!((sent[0].text.as_str(), sent[0].status.as_str()), ("T-shirt", "open"));
    assert_eq!(
        (sent[1].id.as_str(), sent[1].status.as_str()),
        (browser.id.as_str(), "requires_payment_method")
    );

    sim.advance().await;
    for id in [&checkout.id, &browser.id] {
        let paid = gw.get_payment(id).await.unwrap();
        assert_eq!(paid.status, PaymentStatus::Succeeded, "{id}");
        assert!(paid.is_paid());
    }
    let statuses: Vec<String> = sim.sent().into_iter().map(|r| r.status).collect();
    assert_eq!(statuses, ["complete", "succeeded"]);
    // Everything pushed reached the sink, in order.
    let pushed = sim.pushed();
    assert!(!pushed.is_empty());
    let got = sink.wait_for(pushed.len(), Duration::from_secs(5)).await;
    assert!(pushed.iter().zip(&got).all(|(p, g)| p.body == g.body));
}

#[tokio::test]
async fn the_factory_starts_a_simulator_that_pushes_where_it_is_told() {
    factory(&crate::StripeProvider, connect, CreatePayment::new(usd("10"))).await;
}

#[tokio::test]
async fn stripe_through_the_trait() {
    let sim = Simulator::start().await;
    let gw = switchboard_payments::gateway(&connect(&sim.dsn()).unwrap()).unwrap();
    take_and_refund(gw, Currency::EUR, |id| sim.pay(id).unwrap()).await;
    assert_eq!(sim.stats().payments_created, 1);
    assert_eq!(sim.stats().refunds_created, 2);
}

#[tokio::test]
async fn webhooks_become_core_payment_events() {
    let ss = Simulator::start().await;
    let sink = WebhookSink::start().await;
    ss.set_webhook_url(format!("{}/stripe", sink.uri()));
    let s = switchboard_payments::gateway(&connect(&ss.dsn()).unwrap()).unwrap();
    let sp = s
        .create_payment(&CreatePayment::new(Money::parse("10", Currency::USD).unwrap()).payment_method("pm_card_visa"))
        .await
        .unwrap();
    // Stripe: payment_intent.created, charge.succeeded, payment_intent.succeeded.
    let got = sink.wait_for(3, Duration::from_secs(5)).await;
    let seen = core_payment_events(s.as_ref(), &got).await;
    assert!(
        seen.contains(&("payment_intent.succeeded".into(), sp.id.clone(), "succeeded".into())),
        "{seen:?}"
    );
}

#[test]
fn unknown_schemes_are_config_errors() {
    let e = connect("paypal://x:y@default").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("stripe"), "{e}");
}

//! Registration: a `yookassa://` DSN connects through the registry to a payment gateway (found with
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
use switchboard_payments::{CreatePayment, Currency, Money, PaymentStatus, WebhookOutcome};

use super::redirect;

fn connect(dsn: &str) -> switchboard_core::Result<Connection> {
    let mut registry = Registry::new();
    crate::register(&mut registry);
    registry.connect(dsn)
}

#[tokio::test]
async fn register_and_connect_give_a_gateway_and_a_webhook_source() {
    let sim = Simulator::start().await;
    let conn = connect(&sim.dsn()).unwrap();
    let event = connection_and_webhooks(&conn, &sim, "yookassa").await;
    assert_eq!(event.event_type, "payment.succeeded");
}

#[tokio::test]
async fn every_trigger_pushes_a_notification_the_gateway_confirms() {
    let sim = Simulator::start().await;
    let gw = switchboard_payments::gateway(&connect(&sim.dsn()).unwrap()).unwrap();
    let sink = WebhookSink::start().await;
    for event in sim.triggers() {
        let request = sim.trigger(event, &sink.uri()).await.unwrap();
        assert!(request.header("authorization").is_none(), "YooKassa signs nothing");
        match gw.handle_webhook(&request).await.unwrap() {
            WebhookOutcome::Event(e) => {
                assert_eq!(&e.event_type, event);
                assert_eq!(e.claimed_event_type, None, "the re-fetched state is the one pushed");
            }
            other => panic!("{event}: {other:?}"),
        }
    }
    let e = sim.trigger("payout.succeeded", &sink.uri()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("refund.succeeded"), "{e}");
}

#[tokio::test]
async fn simulated_drives_a_payment_from_created_to_paid() {
    let sim = Simulator::start_with(SimOptions::default()).await.unwrap();
    let sink = WebhookSink::start().await;
    sim.set_webhook_url(sink.uri());
    let gw = switchboard_payments::gateway(&connect(&sim.dsn()).unwrap()).unwrap();
    let p = gw.create_payment(&redirect("1000.00")).await.unwrap();
    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].id.as_str(), sent[0].to.as_str()),
        (p.id.as_str(), "1000.00 RUB")
    );
    assert_eq!(
        (sent[0].text.as_str(), sent[0].status.as_str()),
        ("Order 72", "pending")
    );

    sim.advance().await;
    let paid = gw.get_payment(&p.id).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Succeeded);
    assert!(paid.is_paid());
    assert_eq!(sim.sent()[0].status, "succeeded");
    let pushed = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(pushed.len(), 1);
    assert_eq!(sim.pushed()[0].body, pushed[0].body);
    // Nothing pending is left: advancing again changes nothing.
    sim.advance().await;
    assert_eq!(sim.sent()[0].status, "succeeded");
}

#[tokio::test]
async fn the_factory_starts_a_simulator_that_pushes_where_it_is_told() {
    factory(
        &crate::YooKassaProvider,
        connect,
        CreatePayment::new(Money::parse("10", Currency::RUB).unwrap()).return_url("https://s.example/"),
    )
    .await;
}

#[tokio::test]
async fn yookassa_through_the_trait() {
    let sim = Simulator::start().await;
    let gw = switchboard_payments::gateway(&connect(&sim.dsn()).unwrap()).unwrap();
    take_and_refund(gw, Currency::RUB, |id| sim.pay(id).unwrap()).await;
    assert_eq!(sim.stats().payments_created, 1);
    assert_eq!(sim.stats().refunds_created, 2);
}

#[tokio::test]
async fn webhooks_become_core_payment_events() {
    let ys = Simulator::start().await;
    let sink = WebhookSink::start().await;
    ys.set_webhook_url(format!("{}/yookassa", sink.uri()));
    let y = switchboard_payments::gateway(&connect(&ys.dsn()).unwrap()).unwrap();
    let yp = y
        .create_payment(
            &CreatePayment::new(Money::parse("10", Currency::RUB).unwrap()).payment_method(Simulator::SAVED_CARD),
        )
        .await
        .unwrap();
    // YooKassa: payment.succeeded.
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    let seen = core_payment_events(y.as_ref(), &got).await;
    assert!(
        seen.contains(&("payment.succeeded".into(), yp.id.clone(), "succeeded".into())),
        "{seen:?}"
    );
}

#[test]
fn unknown_schemes_are_config_errors() {
    let e = connect("paypal://x:y@default").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("yookassa"), "{e}");
}

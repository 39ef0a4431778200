//! Both providers through `dyn PaymentGateway`, built from DSNs: the same code takes and refunds a
//! payment on either.

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::testkit::WebhookSink;
use switchboard_core::{Dsn, ErrorKind, Event};
use switchboard_payments::{
    CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, PaymentGateway, PaymentStatus, WebhookOutcome,
    from_dsn, stripe, yookassa,
};

/// Takes a two-stage payment of 1000.00, captures 800.00, refunds 300.00 then the rest, through the trait.
async fn take_and_refund(gw: Arc<dyn PaymentGateway>, currency: Currency, pay: impl Fn(&str)) {
    let m = |s: &str| Money::parse(s, currency).unwrap();
    let order = IdempotencyKey::new(format!("order-{}", gw.provider())).unwrap();
    let p = gw
        .create_payment(
            &CreatePayment::new(m("1000.00"))
                .return_url("https://shop.example/return")
                .description("Order 72")
                .metadata("order_id", "72")
                .manual_capture()
                .idempotency_key(order.clone()),
        )
        .await
        .unwrap();
    assert_eq!(p.status, PaymentStatus::Pending, "{}", gw.provider());
    assert!(p.confirmation_url.is_some());
    // The same creation again (a retry after a crash): the same payment.
    let again = gw
        .create_payment(
            &CreatePayment::new(m("1000.00"))
                .return_url("https://shop.example/return")
                .description("Order 72")
                .metadata("order_id", "72")
                .manual_capture()
                .idempotency_key(order.clone()),
        )
        .await
        .unwrap();
    assert_eq!(again.id, p.id);

    pay(&p.id);
    let held = gw.get_payment(&p.id).await.unwrap();
    assert_eq!(held.status, PaymentStatus::WaitingForCapture, "{}", gw.provider());
    let captured = gw
        .capture_payment(&p.id, Some(m("800")), Some(order.derive("capture").unwrap()))
        .await
        .unwrap();
    assert_eq!(captured.status, PaymentStatus::Succeeded);
    assert_eq!(captured.captured, Some(m("800")));
    let r1 = gw
        .refund(&CreateRefund::partial(&p.id, m("300")).idempotency_key(order.derive("refund-1").unwrap()))
        .await
        .unwrap();
    assert_eq!(r1.amount, m("300"));
    let r2 = gw
        .refund(&CreateRefund::full(&p.id).idempotency_key(order.derive("refund-2").unwrap()))
        .await
        .unwrap();
    assert_eq!(r2.amount, m("500"));
    // Repeating refund-1 with its key answers the same refund; nothing more is refunded.
    let r1_again = gw
        .refund(&CreateRefund::partial(&p.id, m("300")).idempotency_key(order.derive("refund-1").unwrap()))
        .await
        .unwrap();
    assert_eq!(r1_again.id, r1.id);
    assert_eq!(gw.list_refunds(&p.id).await.unwrap().len(), 2);
    assert_eq!(gw.get_payment(&p.id).await.unwrap().metadata["order_id"], "72");
}

#[tokio::test]
async fn yookassa_through_the_trait() {
    let sim = yookassa::Simulator::start().await;
    let gw = from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    take_and_refund(gw, Currency::RUB, |id| sim.pay(id).unwrap()).await;
    assert_eq!(sim.stats().payments_created, 1);
    assert_eq!(sim.stats().refunds_created, 2);
}

#[tokio::test]
async fn stripe_through_the_trait() {
    let sim = stripe::Simulator::start().await;
    let gw = from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    take_and_refund(gw, Currency::EUR, |id| sim.pay(id).unwrap()).await;
    assert_eq!(sim.stats().payments_created, 1);
    assert_eq!(sim.stats().refunds_created, 2);
}

#[tokio::test]
async fn webhooks_become_core_payment_events() {
    let ys = yookassa::Simulator::start().await;
    let ss = stripe::Simulator::start().await;
    let sink = WebhookSink::start().await;
    ys.set_webhook_url(format!("{}/yookassa", sink.uri()));
    ss.set_webhook_url(format!("{}/stripe", sink.uri()));
    let y = from_dsn(&Dsn::parse(&ys.dsn()).unwrap()).unwrap();
    let s = from_dsn(&Dsn::parse(&ss.dsn()).unwrap()).unwrap();
    let yp = y
        .create_payment(
            &CreatePayment::new(Money::parse("10", Currency::RUB).unwrap())
                .payment_method(yookassa::Simulator::SAVED_CARD),
        )
        .await
        .unwrap();
    let sp = s
        .create_payment(&CreatePayment::new(Money::parse("10", Currency::USD).unwrap()).payment_method("pm_card_visa"))
        .await
        .unwrap();
    // YooKassa: payment.succeeded; Stripe: payment_intent.created, charge.succeeded,
    // payment_intent.succeeded.
    let got = sink.wait_for(4, Duration::from_secs(5)).await;
    let mut seen = Vec::new();
    for req in got {
        let gw = if req.url.contains("/yookassa") { &y } else { &s };
        if let WebhookOutcome::Event(e) = gw.handle_webhook(&req).await.unwrap() {
            match e.to_event().unwrap() {
                Event::Payment(pe) => seen.push((pe.event_type, pe.object_id, pe.status)),
                other => panic!("{other:?}"),
            }
        }
    }
    assert!(
        seen.contains(&("payment.succeeded".into(), yp.id.clone(), "succeeded".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("payment_intent.succeeded".into(), sp.id.clone(), "succeeded".into())),
        "{seen:?}"
    );
}

#[test]
fn unknown_schemes_are_config_errors() {
    let e = from_dsn(&Dsn::parse("paypal://x:y@default").unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("yookassa, stripe"), "{e}");
}

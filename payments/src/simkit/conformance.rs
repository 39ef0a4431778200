//! What every payment provider must do the same way, checked against its simulator: provider crates
//! call these from their tests (they panic, as assertions do, when the gateway falls short).

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::registry::Provider;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{Connection, Dispatch, Error, ErrorKind, Event, PaymentEvent, Result, WebhookRequest};

use crate::{
    CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, PaymentGateway, PaymentStatus, WebhookOutcome,
};

/// What `gw` makes of `requests` (webhooks its simulator pushed), as core payment events: `(event
/// type, object id, status)` of each new event, duplicates left out. Every request must verify.
pub async fn core_payment_events(
    gw: &dyn PaymentGateway,
    requests: &[WebhookRequest],
) -> Vec<(String, String, String)> {
    let mut seen = Vec::new();
    for req in requests {
        if let WebhookOutcome::Event(e) = gw.handle_webhook(req).await.unwrap() {
            match e.to_event().unwrap() {
                Event::Payment(pe) => seen.push((pe.event_type, pe.object_id, pe.status)),
                other => panic!("{other:?}"),
            }
        }
    }
    seen
}

/// Checks what a provider's connection (made by the registry from `sim`'s DSN) hands out: no
/// transport, the gateway (found with [`gateway`](crate::gateway())) and the webhook source, both
/// named `provider`; and that a `payment.succeeded` the simulator triggers goes through the source as
/// exactly one core payment event whose payment the gateway reports paid, and its redelivery as
/// none. Answers the event, for the provider's own checks.
pub async fn connection_and_webhooks(conn: &Connection, sim: &dyn Simulated, provider: &str) -> PaymentEvent {
    assert_eq!(conn.provider(), provider);
    assert!(conn.as_transport().is_none(), "a payment provider carries no messages");
    let gw = crate::gateway(conn).expect("the gateway is the connection's service");
    assert_eq!(gw.provider(), provider);
    let source = conn
        .webhook_source()
        .expect("the gateway's webhooks are the webhook source");
    assert_eq!(source.provider(), provider);

    let sink = WebhookSink::start().await;
    let pushed = sim
        .trigger("payment.succeeded", &format!("{}/{provider}", sink.uri()))
        .await
        .unwrap();
    assert_eq!(sink.wait_for(1, Duration::from_secs(5)).await.len(), 1);
    let handled = source.handle_webhook(&pushed).await.unwrap();
    assert!(handled.answer.is_success());
    let event = match handled.events.as_slice() {
        [Event::Payment(e)] => e.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(event.status, "succeeded");
    assert_eq!(
        gw.get_payment(&event.object_id).await.unwrap().status,
        PaymentStatus::Succeeded
    );
    assert!(
        source.handle_webhook(&pushed).await.unwrap().events.is_empty(),
        "a redelivery is no event"
    );
    assert_eq!(sim.pushed().len(), 1);
    event
}

/// Checks a provider's simulator factory: it starts a simulator that pushes where it is told, whose
/// `advance` pays `payment` (created through `connect(dsn)`, as the customer would), and whose
/// `dsn_with_bad_credentials` is refused with `Auth` before anything happens.
pub async fn factory(provider: &dyn Provider, connect: impl Fn(&str) -> Result<Connection>, payment: CreatePayment) {
    let sink = WebhookSink::start().await;
    let started = provider
        .simulator()
        .expect("the provider has a simulator")
        .start(SimOptions::default().webhook_url(sink.uri()))
        .await
        .unwrap();
    assert_eq!(started.provider(), provider.name());
    let gw = crate::gateway(&connect(&started.dsn()).unwrap()).unwrap();
    let p = gw.create_payment(&payment).await.unwrap();
    started.advance().await;
    assert_eq!(gw.get_payment(&p.id).await.unwrap().status, PaymentStatus::Succeeded);
    assert!(!sink.wait_for(1, Duration::from_secs(5)).await.is_empty());
    let bad = crate::gateway(&connect(&started.dsn_with_bad_credentials().unwrap()).unwrap()).unwrap();
    assert_eq!(bad.get_payment(&p.id).await.unwrap_err().kind(), ErrorKind::Auth);
}

/// Takes a two-stage payment of 1000.00 `currency` through the trait alone, has the customer pay it
/// (`pay`, the simulator's driver), captures 800.00, refunds 300.00 then the rest, and checks that a
/// creation or a refund repeated with its key answers the first result instead of acting again.
pub async fn take_and_refund(gw: Arc<dyn PaymentGateway>, currency: Currency, pay: impl Fn(&str)) {
    let m = |s: &str| Money::parse(s, currency).unwrap();
    let order = IdempotencyKey::new(format!("order-{}", gw.provider())).unwrap();
    let create = || {
        CreatePayment::new(m("1000.00"))
            .return_url("https://shop.example/return")
            .description("Order 72")
            .metadata("order_id", "72")
            .manual_capture()
            .idempotency_key(order.clone())
    };
    let p = gw.create_payment(&create()).await.unwrap();
    assert_eq!(p.status, PaymentStatus::Pending, "{}", gw.provider());
    assert!(p.confirmation_url.is_some());
    // The same creation again (a retry after a crash): the same payment.
    let again = gw.create_payment(&create()).await.unwrap();
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

/// Checks an error from an operation the provider carried out (it answered 2xx) but whose answer could
/// not be used: `Decode`, dispatch `Sent`, never "not sent", says not to do it again, and names `id`,
/// the object to look up.
#[track_caller]
pub fn assert_acted(e: &Error, id: &str) {
    let text = e.to_string();
    assert_eq!(e.dispatch(), Dispatch::Sent, "{text}");
    assert_eq!(e.kind(), ErrorKind::Decode, "{text}");
    assert!(!text.contains("not sent"), "{text}");
    assert!(text.contains("do not do it again"), "{text}");
    assert!(text.contains(id), "the error names the object to look up: {text}");
}

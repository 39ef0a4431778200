//! What every payment provider must do the same way, checked against its simulator: provider crates
//! call these from their tests (they panic, as assertions do, when the gateway falls short).

use std::sync::Arc;

use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::{CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, PaymentGateway, PaymentStatus};

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

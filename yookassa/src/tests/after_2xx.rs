//! After YooKassa answered 2xx, nothing is "not sent": every failure to use the answer is `Sent`,
//! says the change happened, and names what to look up instead of doing it again. A failure of a
//! lookup made before the POST is `NotSent`: the POST never left.
//!
//! The simulator carries each operation out and then answers a shape the client cannot use, through
//! `alter_next_answer`.

use crate::sim::Simulator;
use serde_json::json;
use switchboard_core::{Dispatch, ErrorKind};
use switchboard_payments::simkit::conformance::assert_acted;
use switchboard_payments::{CreatePayment, CreateRefund, PaymentGateway};

use super::{gateway, key, rub};

#[tokio::test]
async fn yookassa_unusable_answers_after_every_post_are_sent_and_name_the_object() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let saved = |amount: &str| CreatePayment::new(rub(amount)).payment_method(Simulator::SAVED_CARD);
    // An amount with more decimals than the rouble has (normalising fails), and a status that is not
    // a string (decoding fails).
    for (round, garble) in [
        json!({"amount": {"value": "10.005", "currency": "RUB"}}),
        json!({"status": 7}),
    ]
    .into_iter()
    .enumerate()
    {
        let order = format!("order-{round}");
        sim.alter_next_answer(garble.clone());
        let before = sim.stats().payments_created;
        let e = gw
            .create_payment(
                &CreatePayment::new(rub("10"))
                    .return_url("https://shop.example/r")
                    .idempotency_key(key(&order)),
            )
            .await
            .unwrap_err();
        assert_eq!(sim.stats().payments_created, before + 1, "the payment was created");
        let text = e.to_string();
        assert_eq!(e.dispatch(), Dispatch::Sent, "{text}");
        assert!(text.contains("do not do it again") && text.contains(&order), "{text}");

        let held = gw.create_payment(&saved("10").manual_capture()).await.unwrap();
        sim.alter_next_answer(garble.clone());
        assert_acted(&gw.capture_payment(&held.id, None, None).await.unwrap_err(), &held.id);
        assert_eq!(sim.payment(&held.id).unwrap()["status"], "succeeded");

        let held = gw.create_payment(&saved("10").manual_capture()).await.unwrap();
        sim.alter_next_answer(garble.clone());
        assert_acted(&gw.cancel_payment(&held.id, None).await.unwrap_err(), &held.id);
        assert_eq!(sim.payment(&held.id).unwrap()["status"], "canceled");

        let paid = gw.create_payment(&saved("10")).await.unwrap();
        sim.alter_next_answer(garble.clone());
        let before = sim.stats().refunds_created;
        let e = gw.refund(&CreateRefund::partial(&paid.id, rub("3"))).await.unwrap_err();
        assert_eq!(sim.stats().refunds_created, before + 1);
        assert_eq!(e.dispatch(), Dispatch::Sent, "{e}");
        assert!(e.to_string().contains("do not do it again"), "{e}");

        sim.alter_next_lookup(garble);
        let e = gw.get_payment(&paid.id).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent), "{e}");
    }
}

#[tokio::test]
async fn a_failed_lookup_before_the_post_is_not_sent() {
    // A full refund reads what is left first.
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw
        .create_payment(&CreatePayment::new(rub("10")).payment_method(Simulator::SAVED_CARD))
        .await
        .unwrap();
    sim.alter_next_lookup(json!({"amount": {"value": "10.001", "currency": "RUB"}}));
    let e = gw.refund(&CreateRefund::full(&p.id)).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent, "{e}");
    assert_eq!(sim.stats().refunds_created, 0);
}

#[tokio::test]
async fn an_answer_too_large_to_read_after_a_post_says_it_happened() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw
        .create_payment(&CreatePayment::new(rub("10")).payment_method(Simulator::SAVED_CARD))
        .await
        .unwrap();
    // Past the client's body cap (4 MiB): the answer cannot be read at all.
    sim.alter_next_answer(json!({"padding": "x".repeat(4 * 1024 * 1024 + 1)}));
    let e = gw
        .refund(&CreateRefund::partial(&p.id, rub("1")).idempotency_key(key("refund-big")))
        .await
        .unwrap_err();
    assert_eq!(sim.stats().refunds_created, 1, "the refund happened");
    let text = e.to_string();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent), "{text}");
    assert!(
        text.contains("do not do it again") && text.contains("refund-big"),
        "{text}"
    );
}

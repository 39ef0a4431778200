//! After a provider answered 2xx, nothing is "not sent": every failure to use the answer is `Sent`,
//! says the change happened, and names what to look up instead of doing it again. A failure of a
//! lookup made before the POST is `NotSent`: the POST never left.
//!
//! The simulators carry each operation out and then answer a shape Stripe's or YooKassa's API allows
//! (`currency: null`, `metadata: null`) or one the client cannot use, through `alter_next_answer`.

use std::time::Duration;

use serde_json::json;
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, Error, ErrorKind, RetryPolicy};
use switchboard_payments::{
    CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, PaymentGateway, PaymentStatus,
};
use switchboard_payments::{stripe, yookassa};

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false)
}

fn stripe_gw(sim: &stripe::Simulator) -> stripe::Gateway {
    stripe::Gateway::new(sim.config().retry(fast())).unwrap()
}

fn yookassa_gw(sim: &yookassa::Simulator) -> yookassa::Gateway {
    yookassa::Gateway::new(sim.config().retry(fast())).unwrap()
}

fn usd(s: &str) -> Money {
    Money::parse(s, Currency::USD).unwrap()
}

fn rub(s: &str) -> Money {
    Money::parse(s, Currency::RUB).unwrap()
}

fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::new(s).unwrap()
}

/// The error says the change happened, is `Sent`, names `id` to look up and never says "not sent".
#[track_caller]
fn acted(e: &Error, id: &str) {
    let text = e.to_string();
    assert_eq!(e.dispatch(), Dispatch::Sent, "{text}");
    assert_eq!(e.kind(), ErrorKind::Decode, "{text}");
    assert!(!text.contains("not sent"), "{text}");
    assert!(text.contains("do not do it again"), "{text}");
    assert!(text.contains(id), "the error names the object to look up: {text}");
}

#[tokio::test]
async fn stripe_checkout_answered_with_currency_null_is_created_not_refused() {
    let sim = stripe::Simulator::start().await;
    let gw = stripe_gw(&sim);
    // Stripe's reference has a Checkout Session's currency and amount_total nullable.
    sim.alter_next_answer(json!({"currency": null, "amount_total": null, "metadata": null}));
    let p = gw
        .create_payment(
            &CreatePayment::new(usd("19.99"))
                .return_url("https://shop.example/thanks")
                .idempotency_key(key("order-1")),
        )
        .await
        .unwrap();
    assert_eq!(p.amount, usd("19.99"), "the amount asked for stands in");
    assert_eq!(p.status, PaymentStatus::Pending);
    assert!(p.metadata.is_empty());
    assert_eq!(sim.stats().payments_created, 1);
    // With nothing to take the amount from, a lookup is a Decode error, and Sent.
    sim.alter_next_lookup(json!({"currency": null, "amount_total": null}));
    let e = gw.get_payment(&p.id).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent), "{e}");
    assert!(e.to_string().contains(&p.id), "{e}");
}

#[tokio::test]
async fn stripe_unusable_answers_after_every_post_are_sent_and_name_the_object() {
    let sim = stripe::Simulator::start().await;
    let gw = stripe_gw(&sim);
    let card = |amount: &str| CreatePayment::new(usd(amount)).payment_method("pm_card_visa");
    // A value this crate cannot represent (normalising fails) and a type that does not decode at all.
    for (round, (garble, session_garble)) in [
        (json!({"currency": "xts"}), json!({"currency": "xts"})),
        (json!({"amount": "lots"}), json!({"amount_total": "lots"})),
    ]
    .into_iter()
    .enumerate()
    {
        let refund_key = format!("refund-{round}");
        sim.alter_next_answer(garble.clone());
        let e = gw.create_payment(&card("10")).await.unwrap_err();
        let pi = sim.events().last().unwrap()["data"]["object"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        acted(&e, &pi);

        sim.alter_next_answer(session_garble.clone());
        let e = gw
            .create_payment(&CreatePayment::new(usd("10")).return_url("https://shop.example/r"))
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("cs_test_"), "{text}");
        assert_eq!(e.dispatch(), Dispatch::Sent, "{text}");

        let held = gw.create_payment(&card("10").manual_capture()).await.unwrap();
        sim.alter_next_answer(garble.clone());
        acted(&gw.capture_payment(&held.id, None, None).await.unwrap_err(), &held.id);
        assert_eq!(
            sim.payment_intent(&held.id).unwrap()["status"],
            "succeeded",
            "the capture happened"
        );

        let held = gw.create_payment(&card("10").manual_capture()).await.unwrap();
        sim.alter_next_answer(garble.clone());
        acted(&gw.cancel_payment(&held.id, None).await.unwrap_err(), &held.id);
        assert_eq!(sim.payment_intent(&held.id).unwrap()["status"], "canceled");

        let open = gw
            .create_payment(&CreatePayment::new(usd("10")).return_url("https://shop.example/r"))
            .await
            .unwrap();
        sim.alter_next_answer(session_garble.clone());
        acted(&gw.cancel_payment(&open.id, None).await.unwrap_err(), &open.id);
        assert_eq!(sim.session(&open.id).unwrap()["status"], "expired");

        let paid = gw.create_payment(&card("10")).await.unwrap();
        let before = sim.stats().refunds_created;
        sim.alter_next_answer(garble.clone());
        let e = gw
            .refund(&CreateRefund::full(&paid.id).idempotency_key(key(&refund_key)))
            .await
            .unwrap_err();
        assert_eq!(sim.stats().refunds_created, before + 1, "the refund happened");
        let re = sim
            .events()
            .iter()
            .rev()
            .find(|e| e["type"] == "refund.created")
            .unwrap()["data"]["object"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        acted(&e, &re);
        assert!(e.to_string().contains(&refund_key), "{e}");
    }
}

#[tokio::test]
async fn stripe_metadata_null_on_a_refund_parses() {
    let sim = stripe::Simulator::start().await;
    let gw = stripe_gw(&sim);
    let p = gw
        .create_payment(&CreatePayment::new(usd("10")).payment_method("pm_card_visa"))
        .await
        .unwrap();
    sim.alter_next_answer(json!({"metadata": null}));
    let r = gw.refund(&CreateRefund::full(&p.id)).await.unwrap();
    assert_eq!(r.amount, usd("10"));
    sim.alter_next_lookup(json!({"metadata": null}));
    let wire = gw.client().retrieve_refund(&r.id).await.unwrap();
    assert!(wire.metadata.is_empty());
}

#[tokio::test]
async fn yookassa_unusable_answers_after_every_post_are_sent_and_name_the_object() {
    let sim = yookassa::Simulator::start().await;
    let gw = yookassa_gw(&sim);
    let saved = |amount: &str| CreatePayment::new(rub(amount)).payment_method(yookassa::Simulator::SAVED_CARD);
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
        acted(&gw.capture_payment(&held.id, None, None).await.unwrap_err(), &held.id);
        assert_eq!(sim.payment(&held.id).unwrap()["status"], "succeeded");

        let held = gw.create_payment(&saved("10").manual_capture()).await.unwrap();
        sim.alter_next_answer(garble.clone());
        acted(&gw.cancel_payment(&held.id, None).await.unwrap_err(), &held.id);
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
    // Stripe: a partial refund reads the payment's currency first.
    let sim = stripe::Simulator::start().await;
    let gw = stripe_gw(&sim);
    let p = gw
        .create_payment(&CreatePayment::new(usd("10")).payment_method("pm_card_visa"))
        .await
        .unwrap();
    sim.faults().push(Fault::MalformedJson);
    let e = gw.refund(&CreateRefund::partial(&p.id, usd("1"))).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent, "{e}");
    assert_eq!(sim.stats().refunds_created, 0);
    // And a capture reads it too.
    let held = gw
        .create_payment(
            &CreatePayment::new(usd("10"))
                .payment_method("pm_card_visa")
                .manual_capture(),
        )
        .await
        .unwrap();
    sim.faults().push(Fault::MalformedJson);
    let e = gw.capture_payment(&held.id, Some(usd("5")), None).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent, "{e}");
    assert_eq!(sim.stats().captures, 0);

    // YooKassa: a full refund reads what is left first.
    let sim = yookassa::Simulator::start().await;
    let gw = yookassa_gw(&sim);
    let p = gw
        .create_payment(&CreatePayment::new(rub("10")).payment_method(yookassa::Simulator::SAVED_CARD))
        .await
        .unwrap();
    sim.alter_next_lookup(json!({"amount": {"value": "10.001", "currency": "RUB"}}));
    let e = gw.refund(&CreateRefund::full(&p.id)).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent, "{e}");
    assert_eq!(sim.stats().refunds_created, 0);
}

#[tokio::test]
async fn an_answer_too_large_to_read_after_a_post_says_it_happened() {
    let sim = yookassa::Simulator::start().await;
    let gw = yookassa_gw(&sim);
    let p = gw
        .create_payment(&CreatePayment::new(rub("10")).payment_method(yookassa::Simulator::SAVED_CARD))
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

//! After Stripe answered 2xx, nothing is "not sent": every failure to use the answer is `Sent`, says
//! the change happened, and names what to look up instead of doing it again. A failure of a lookup
//! made before the POST is `NotSent`: the POST never left.
//!
//! The simulator carries each operation out and then answers a shape Stripe's API allows
//! (`currency: null`, `metadata: null`) or one the client cannot use, through `alter_next_answer`.

use crate::sim::Simulator;
use serde_json::json;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, ErrorKind};
use switchboard_payments::simkit::conformance::assert_acted;
use switchboard_payments::{CreatePayment, CreateRefund, PaymentGateway, PaymentStatus};

use super::{gateway, key, usd};

#[tokio::test]
async fn stripe_checkout_answered_with_currency_null_is_created_not_refused() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
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
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
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
        assert_acted(&e, &pi);

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
        assert_acted(&gw.capture_payment(&held.id, None, None).await.unwrap_err(), &held.id);
        assert_eq!(
            sim.payment_intent(&held.id).unwrap()["status"],
            "succeeded",
            "the capture happened"
        );

        let held = gw.create_payment(&card("10").manual_capture()).await.unwrap();
        sim.alter_next_answer(garble.clone());
        assert_acted(&gw.cancel_payment(&held.id, None).await.unwrap_err(), &held.id);
        assert_eq!(sim.payment_intent(&held.id).unwrap()["status"], "canceled");

        let open = gw
            .create_payment(&CreatePayment::new(usd("10")).return_url("https://shop.example/r"))
            .await
            .unwrap();
        sim.alter_next_answer(session_garble.clone());
        assert_acted(&gw.cancel_payment(&open.id, None).await.unwrap_err(), &open.id);
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
        assert_acted(&e, &re);
        assert!(e.to_string().contains(&refund_key), "{e}");
    }
}

#[tokio::test]
async fn stripe_metadata_null_on_a_refund_parses() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
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
async fn a_failed_lookup_before_the_post_is_not_sent() {
    // Stripe: a partial refund reads the payment's currency first.
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
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
}

#[tokio::test]
async fn an_answer_too_large_to_read_after_a_post_says_it_happened() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw
        .create_payment(&CreatePayment::new(usd("10")).payment_method("pm_card_visa"))
        .await
        .unwrap();
    // Past the client's body cap (4 MiB): the answer cannot be read at all.
    sim.alter_next_answer(json!({"padding": "x".repeat(4 * 1024 * 1024 + 1)}));
    let e = gw
        .refund(&CreateRefund::full(&p.id).idempotency_key(key("refund-big")))
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

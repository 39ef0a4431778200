//! Payments and refunds through the gateway: lifecycles, idempotency keys, retries, faults.

use std::time::Duration;

use crate::model::{Amount, CreateRefundRequest, ListQuery};
use crate::sim::Simulator;
use crate::{YooKassaConfig, YooKassaGateway};
use serde_json::json;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind, RetryPolicy};
use switchboard_payments::{CreatePayment, CreateRefund, PaymentGateway, PaymentStatus, RefundStatus};

use super::{client, config, fast, gateway, key, redirect, rub, wire_request};

#[tokio::test]
async fn redirect_payment_lifecycle_with_automatic_capture() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&redirect("1000.00")).await.unwrap();
    assert_eq!(p.status, PaymentStatus::Pending);
    assert_eq!(p.raw_status, "pending");
    assert_eq!(p.amount, rub("1000"));
    assert_eq!(p.metadata.get("order_id").map(String::as_str), Some("72"));
    let url = p.confirmation_url.clone().expect("a redirect confirmation");
    assert!(url.starts_with(&sim.uri()), "{url}");
    assert!(p.created_at.is_some());

    // The customer follows the confirmation URL and is sent back to return_url.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 302);
    assert_eq!(page.headers()["location"], "https://shop.example/return");

    let p = gw.get_payment(&p.id).await.unwrap();
    assert_eq!(p.status, PaymentStatus::Succeeded);
    assert_eq!(p.captured, Some(rub("1000")));
    assert!(p.is_paid());
    assert_eq!(p.raw["paid"], json!(true));
    assert_eq!(p.raw["income_amount"]["value"], json!("965.00"));
    assert!(p.raw.get("recipient").is_some(), "unknown fields are kept");
}

#[tokio::test]
async fn two_stage_payment_partial_capture_then_partial_and_full_refunds() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&redirect("1000.00").manual_capture()).await.unwrap();
    sim.pay(&p.id).unwrap();
    let held = gw.get_payment(&p.id).await.unwrap();
    assert_eq!(held.status, PaymentStatus::WaitingForCapture);
    assert!(held.raw["expires_at"].is_string());

    // Capture more than held: refused, nothing changes.
    let e = gw.capture_payment(&p.id, Some(rub("1000.01")), None).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::Sent));
    assert_eq!(e.provider_code(), Some("invalid_request"));
    assert!(e.provider_text().unwrap().contains("amount.value"), "{e}");

    let captured = gw.capture_payment(&p.id, Some(rub("600.50")), None).await.unwrap();
    assert_eq!(captured.status, PaymentStatus::Succeeded);
    assert_eq!(captured.amount, rub("600.50"));
    assert_eq!(captured.captured, Some(rub("600.50")));

    let r1 = gw.refund(&CreateRefund::partial(&p.id, rub("100.25"))).await.unwrap();
    assert_eq!(r1.status, RefundStatus::Succeeded);
    assert_eq!(r1.amount, rub("100.25"));
    assert_eq!(r1.payment_id, p.id);
    // Too much: refused.
    let e = gw
        .refund(&CreateRefund::partial(&p.id, rub("500.26")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // Full: what is left.
    let r2 = gw
        .refund(&CreateRefund::full(&p.id).description("return"))
        .await
        .unwrap();
    assert_eq!(r2.amount, rub("500.25"));
    let after = gw.get_payment(&p.id).await.unwrap();
    assert_eq!(after.refunded, Some(rub("600.50")));
    assert_eq!(after.raw["refundable"], json!(false));
    // Nothing left.
    let e = gw.refund(&CreateRefund::full(&p.id)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);

    let list = gw.list_refunds(&p.id).await.unwrap();
    let mut ids: Vec<_> = list.iter().map(|r| r.id.clone()).collect();
    ids.sort();
    let mut want = vec![r1.id.clone(), r2.id.clone()];
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(gw.get_refund(&r1.id).await.unwrap().amount, rub("100.25"));
    assert_eq!(sim.stats().refunds_created, 2);
}

#[tokio::test]
async fn list_refunds_follows_cursors() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let p = c.create_payment(&wire_request("100.00"), &key("o-1")).await.unwrap();
    sim.pay(&p.id).unwrap();
    for i in 0..5 {
        c.create_refund(
            &CreateRefundRequest::new(&p.id, Amount::from_money(rub("1"))),
            &key(&format!("r-{i}")),
        )
        .await
        .unwrap();
    }
    let page = c
        .list_refunds(&ListQuery::default().payment_id(&p.id).limit(2))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.next_cursor.is_some());
    // The gateway walks every page (its page size is 100, so check the raw paging above and the total here).
    assert_eq!(gateway(&sim).list_refunds(&p.id).await.unwrap().len(), 5);
}

#[tokio::test]
async fn cancel_only_a_held_payment() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&redirect("10").manual_capture()).await.unwrap();
    let e = gw.cancel_payment(&p.id, None).await.unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::InvalidInput,
        "pending cannot be canceled by the merchant"
    );
    sim.pay(&p.id).unwrap();
    let c = gw.cancel_payment(&p.id, None).await.unwrap();
    assert_eq!(c.status, PaymentStatus::Canceled);
    assert_eq!(c.raw["cancellation_details"]["party"], json!("merchant"));
    assert!(!c.is_paid());
}

#[tokio::test]
async fn saved_payment_method_charges_without_the_customer() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw
        .create_payment(&CreatePayment::new(rub("99.99")).payment_method(Simulator::SAVED_CARD))
        .await
        .unwrap();
    assert_eq!(p.status, PaymentStatus::Succeeded);
    let e = gw
        .create_payment(&CreatePayment::new(rub("1")).payment_method("not-saved"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.provider_text().unwrap().contains("payment_method_id"));
}

#[tokio::test]
async fn embedded_confirmation_without_return_url() {
    let sim = Simulator::start().await;
    let p = gateway(&sim)
        .create_payment(&CreatePayment::new(rub("5")))
        .await
        .unwrap();
    assert_eq!(p.raw["confirmation"]["type"], json!("embedded"));
    assert!(p.raw["confirmation"]["confirmation_token"].is_string());
    assert!(p.confirmation_url.is_none());
}

#[tokio::test]
async fn decline_and_expiry_cancel_with_details() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let a = gw.create_payment(&redirect("10")).await.unwrap();
    sim.decline(&a.id).unwrap();
    let a = gw.get_payment(&a.id).await.unwrap();
    assert_eq!(a.status, PaymentStatus::Canceled);
    assert_eq!(a.raw["cancellation_details"]["reason"], json!("insufficient_funds"));
    let b = gw.create_payment(&redirect("10")).await.unwrap();
    sim.expire(&b.id).unwrap();
    assert_eq!(
        gw.get_payment(&b.id).await.unwrap().raw["cancellation_details"]["reason"],
        json!("expired_on_confirmation")
    );
    assert!(sim.pay(&b.id).is_err());
}

#[tokio::test]
async fn same_key_same_body_replays_the_first_answer() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let k = key("order-72");
    let a = c.create_payment(&wire_request("1000.00"), &k).await.unwrap();
    let b = c.create_payment(&wire_request("1000.00"), &k).await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(sim.stats().payments_created, 1);
    assert_eq!(sim.stats().replays, 1);
    // Every POST carried the header.
    for r in sim.requests().await.iter().filter(|r| r.method.as_str() == "POST") {
        assert_eq!(r.headers["idempotence-key"], "order-72");
    }
}

#[tokio::test]
async fn same_key_different_body_is_the_documented_error() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let k = key("order-73");
    c.create_payment(&wire_request("1000.00"), &k).await.unwrap();
    let e = c.create_payment(&wire_request("1000.01"), &k).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::Sent));
    assert_eq!(e.provider_code(), Some("invalid_request"));
    assert_eq!(e.http_status(), Some(400));
    let text = e.provider_text().unwrap();
    assert!(
        text.contains("Idempotence key duplicated") && text.contains("Idempotence-Key"),
        "{text}"
    );
    assert_eq!(sim.stats().payments_created, 1);
    assert_eq!(sim.stats().conflicts, 1);
}

#[tokio::test]
async fn a_post_without_a_key_is_refused_by_the_simulator() {
    let sim = Simulator::start().await;
    let r = reqwest::Client::new()
        .post(format!("{}/v3/payments", sim.uri()))
        .basic_auth(Simulator::SHOP_ID, Some(Simulator::SECRET_KEY))
        .json(&json!({"amount": {"value": "1.00", "currency": "RUB"}, "confirmation": {"type": "embedded"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["parameter"], json!("Idempotence-Key"));
    assert_eq!(sim.stats().payments_created, 0);
}

#[tokio::test]
async fn a_timeout_then_a_retry_with_the_same_key_charges_once() {
    let sim = Simulator::start().await;
    let gw = YooKassaGateway::new(config(&sim).timeout(Duration::from_millis(250)).build().unwrap()).unwrap();
    // The simulator creates the payment, but its answer comes after the client gave up.
    sim.faults().push(Fault::Delay(Duration::from_millis(800)));
    let p = gw
        .create_payment(&redirect("1000.00").idempotency_key(key("order-timeout")))
        .await
        .unwrap();
    let posts = sim
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 2, "one timed out, one retried");
    assert_eq!(sim.stats().payments_created, 1, "one payment, however many tries");
    assert_eq!(sim.stats().replays, 1);
    assert!(sim.payment(&p.id).is_some());
}

#[tokio::test]
async fn a_timeout_with_no_retries_left_is_maybe_sent_and_names_the_key() {
    let sim = Simulator::start().await;
    let gw = YooKassaGateway::new(
        config(&sim)
            .timeout(Duration::from_millis(200))
            .retry(RetryPolicy::never())
            .build()
            .unwrap(),
    )
    .unwrap();
    sim.faults().push(Fault::Delay(Duration::from_millis(800)));
    let e = gw
        .create_payment(&redirect("1").idempotency_key(key("order-81")))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::MaybeSent));
    assert_eq!(e.provider(), Some("yookassa"));
    assert!(e.to_string().contains("order-81"), "{e}");
    // Repeating with that key later returns the payment made the first time.
    let p = gw
        .create_payment(&redirect("1").idempotency_key(key("order-81")))
        .await
        .unwrap();
    assert_eq!(sim.stats().payments_created, 1);
    assert_eq!(p.status, PaymentStatus::Pending);
}

#[tokio::test]
async fn yookassa_500_after_processing_is_retried_with_the_same_key() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    sim.answer_500_after_processing(2);
    let p = gw
        .create_payment(&redirect("1000.00").idempotency_key(key("order-500")))
        .await
        .unwrap();
    let posts: Vec<_> = sim
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posts.len(), 3);
    assert!(posts.iter().all(|r| r.headers["idempotence-key"] == "order-500"));
    assert_eq!(sim.stats().payments_created, 1);
    assert_eq!(gw.get_payment(&p.id).await.unwrap().amount, rub("1000"));
}

#[tokio::test]
async fn yookassa_500_without_processing_is_retried_too() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let envelope = json!({"type": "error", "id": "e1", "code": "internal_server_error", "description": "no answer"});
    sim.faults().push(Fault::StatusJson(500, envelope.to_string()));
    gw.create_payment(&redirect("1")).await.unwrap();
    assert_eq!(sim.stats().payments_created, 1);

    // Every attempt 500: the error says it may have happened and how to repeat.
    sim.faults().push_n(Fault::StatusJson(500, envelope.to_string()), 3);
    let e = gw
        .create_payment(&redirect("2").idempotency_key(key("order-5xx")))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(e.provider_code(), Some("internal_server_error"));
    assert!(e.message().contains("order-5xx"));
}

#[tokio::test]
async fn error_envelopes_map_to_kinds() {
    let sim = Simulator::start().await;
    // Wrong secret.
    let bad = YooKassaGateway::new(
        YooKassaConfig::builder()
            .shop_id(Simulator::SHOP_ID)
            .secret_key("wrong")
            .endpoint(sim.uri())
            .retry(fast())
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = bad
        .get_payment("2f6a1c3b-000f-5000-8000-1b2c39026a5c")
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
    assert_eq!(e.provider_code(), Some("invalid_credentials"));
    assert!(!format!("{e} {e:?}").contains(Simulator::SECRET_KEY));
    // Unknown payment.
    let e = gateway(&sim)
        .get_payment("2f6a1c3b-000f-5000-8000-000000000000")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.provider_code(), Some("not_found"));
    // An id that would change the path never leaves.
    let e = gateway(&sim).get_payment("../refunds").await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    // Invalid amount / currency.
    let c = client(&sim);
    let mut r = wire_request("1");
    r.amount = Amount {
        value: "1.001".into(),
        currency: "RUB".into(),
    };
    let e = c.create_payment(&r, &key("bad-1")).await.unwrap_err();
    assert!(e.provider_text().unwrap().contains("amount.value"));
    r.amount = Amount {
        value: "1.00".into(),
        currency: "JPY".into(),
    };
    let e = c.create_payment(&r, &key("bad-2")).await.unwrap_err();
    assert!(e.provider_text().unwrap().contains("amount.currency"));
    // Description too long is refused before sending.
    let e = gateway(&sim)
        .create_payment(&redirect("1").description("x".repeat(129)))
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent);
}

#[tokio::test]
async fn transport_faults_have_the_right_dispatch() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    // 429 with Retry-After: retried (nothing was done), then succeeds.
    sim.faults().push(Fault::RateLimited(Some(0)));
    gw.create_payment(&redirect("1")).await.unwrap();
    // 429 every time: RateLimited, NotSent.
    sim.faults().push_n(Fault::RateLimited(None), 3);
    let e = gw
        .get_payment("2f6a1c3b-000f-5000-8000-1b2c39026a5c")
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::RateLimited, Dispatch::NotSent));
    // A broken answer body is a Decode error (the provider answered: Sent), not retried.
    sim.faults().push(Fault::MalformedJson);
    let e = gw.create_payment(&redirect("1")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));
    sim.faults().push(Fault::WrongContentType);
    assert_eq!(
        gw.create_payment(&redirect("1")).await.unwrap_err().kind(),
        ErrorKind::Decode
    );

    // Connection refused: NotSent. Dropped after the request: MaybeSent.
    for (fault, dispatch) in [
        (ConnectionFault::Refused, Dispatch::NotSent),
        (ConnectionFault::ResetAfterRequest, Dispatch::MaybeSent),
        (ConnectionFault::CutMidBody, Dispatch::MaybeSent),
    ] {
        let url = connection_fault(fault).await.unwrap();
        let gw = YooKassaGateway::new(
            YooKassaConfig::builder()
                .shop_id("1")
                .secret_key("k")
                .endpoint(url)
                .retry(RetryPolicy::never())
                .timeout(Duration::from_millis(500))
                .build()
                .unwrap(),
        )
        .unwrap();
        let e = gw.create_payment(&redirect("1")).await.unwrap_err();
        assert_eq!(e.dispatch(), dispatch, "{fault:?}: {e}");
        assert_eq!(e.kind(), ErrorKind::Transport, "{fault:?}");
    }
}

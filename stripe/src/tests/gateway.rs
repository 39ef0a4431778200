//! Payments and refunds through the gateway: cards, holds, Checkout, idempotency keys, retries, faults.

use std::time::Duration;

use crate::client::RefundList;
use crate::model::RefundCreate;
use crate::sim::Simulator;
use crate::{StripeConfig, StripeGateway, form};
use serde_json::json;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind, RetryPolicy};
use switchboard_payments::{CreatePayment, CreateRefund, Currency, Money, PaymentGateway, PaymentStatus, RefundStatus};

use super::{card, client, config, fast, gateway, intent, key, usd};

#[tokio::test]
async fn charge_a_card_and_refund_part_then_the_rest() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&card("20.00")).await.unwrap();
    assert!(p.id.starts_with("pi_"));
    assert_eq!(p.status, PaymentStatus::Succeeded);
    assert_eq!(p.captured, Some(usd("20")));
    assert_eq!(p.refunded, Some(usd("0")), "latest_charge is expanded");
    assert_eq!(p.metadata["order_id"], "72");
    assert!(p.client_secret.is_some());
    assert!(
        p.raw.get("client_secret").is_none(),
        "raw copies never carry the client secret"
    );
    assert!(!format!("{p:?}").contains("_secret_"));
    assert_eq!(sim.stats().charges, 1);

    // What went on the wire: form-encoded, brackets, a key.
    let reqs = sim.requests().await;
    let post = reqs.iter().find(|r| r.method.as_str() == "POST").unwrap();
    assert_eq!(post.headers["content-type"], "application/x-www-form-urlencoded");
    assert!(
        post.headers["authorization"]
            .to_str()
            .unwrap()
            .starts_with("Bearer sk_test_")
    );
    assert!(post.headers.contains_key("idempotency-key"));
    let params = form::decode(&post.body).unwrap();
    assert_eq!(params["amount"], json!("2000"));
    assert_eq!(params["currency"], json!("usd"));
    assert_eq!(params["metadata"]["order_id"], json!("72"));
    assert_eq!(params["automatic_payment_methods"]["allow_redirects"], json!("never"));

    let r1 = gw
        .refund(&CreateRefund::partial(&p.id, usd("5.50")).reason("requested_by_customer"))
        .await
        .unwrap();
    assert!(r1.id.starts_with("re_"));
    assert_eq!(r1.amount, usd("5.50"));
    assert_eq!(r1.status, RefundStatus::Succeeded);
    assert_eq!(r1.payment_id, p.id);
    let e = gw
        .refund(&CreateRefund::partial(&p.id, usd("14.51")))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (ErrorKind::InvalidInput, Some("amount_too_large"))
    );
    let r2 = gw.refund(&CreateRefund::full(&p.id)).await.unwrap();
    assert_eq!(r2.amount, usd("14.50"));
    let e = gw.refund(&CreateRefund::full(&p.id)).await.unwrap_err();
    assert_eq!(e.provider_code(), Some("charge_already_refunded"));
    // Another currency than the payment's is refused before anything is sent.
    let e = gw
        .refund(&CreateRefund::partial(&p.id, Money::parse("1", Currency::EUR).unwrap()))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));

    assert_eq!(gw.get_payment(&p.id).await.unwrap().refunded, Some(usd("20")));
    let list = gw.list_refunds(&p.id).await.unwrap();
    assert_eq!(
        list.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        vec![r2.id.clone(), r1.id.clone()]
    );
    assert_eq!(gw.get_refund(&r1.id).await.unwrap().amount, usd("5.50"));
}

#[tokio::test]
async fn manual_capture_partial_then_cancel_rules() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let held = gw.create_payment(&card("100").manual_capture()).await.unwrap();
    assert_eq!(held.status, PaymentStatus::WaitingForCapture);
    assert_eq!(held.raw_status, "requires_capture");
    assert_eq!(held.raw["amount_capturable"], json!(10000));
    let e = gw
        .capture_payment(&held.id, Some(usd("100.01")), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = gw
        .capture_payment(&held.id, Some(Money::parse("1", Currency::EUR).unwrap()), None)
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent);
    let done = gw.capture_payment(&held.id, Some(usd("60")), None).await.unwrap();
    assert_eq!(done.status, PaymentStatus::Succeeded);
    assert_eq!(done.captured, Some(usd("60")));
    assert_eq!(done.amount, usd("100"));
    // Refunds are limited to what was captured.
    assert!(gw.refund(&CreateRefund::partial(&done.id, usd("60.01"))).await.is_err());
    assert_eq!(
        gw.refund(&CreateRefund::full(&done.id)).await.unwrap().amount,
        usd("60")
    );
    // A succeeded intent cannot be canceled.
    let e = gw.cancel_payment(&done.id, None).await.unwrap_err();
    assert_eq!(e.provider_code(), Some("payment_intent_unexpected_state"));

    let held = gw.create_payment(&card("30").manual_capture()).await.unwrap();
    let canceled = gw.cancel_payment(&held.id, None).await.unwrap();
    assert_eq!(canceled.status, PaymentStatus::Canceled);
    assert_eq!(sim.stats().captures, 1);
    assert_eq!(sim.stats().cancellations, 1);
}

#[tokio::test]
async fn payment_intent_for_the_browser_then_paid_by_the_customer() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&CreatePayment::new(usd("12.34"))).await.unwrap();
    assert_eq!(p.status, PaymentStatus::Pending);
    assert_eq!(p.raw_status, "requires_payment_method");
    assert!(p.client_secret.is_some());
    sim.pay(&p.id).unwrap();
    assert_eq!(gw.get_payment(&p.id).await.unwrap().status, PaymentStatus::Succeeded);
}

#[tokio::test]
async fn a_declined_card_is_rejected_with_the_decline_code() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let e = gw
        .create_payment(&CreatePayment::new(usd("20")).payment_method("pm_card_chargeDeclinedInsufficientFunds"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Rejected, Dispatch::Sent));
    assert_eq!(e.http_status(), Some(402));
    assert_eq!(e.provider_code(), Some("insufficient_funds"));
    assert!(e.provider_text().unwrap().contains("insufficient funds"));
    assert_eq!(sim.stats().charges, 0);
    // The simulator's decline control on an intent waiting for the customer.
    let p = gw.create_payment(&CreatePayment::new(usd("20"))).await.unwrap();
    sim.decline(&p.id).unwrap();
    let after = gw.get_payment(&p.id).await.unwrap();
    assert_eq!(after.status, PaymentStatus::Pending);
    assert_eq!(
        after.raw["last_payment_error"]["decline_code"],
        json!("insufficient_funds")
    );
    // An unknown payment method.
    let e = gw
        .create_payment(&CreatePayment::new(usd("20")).payment_method("pm_nope"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (ErrorKind::NotFound, Some("resource_missing"))
    );
}

#[tokio::test]
async fn checkout_session_paid_on_the_hosted_page() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let s = gw
        .create_payment(
            &CreatePayment::new(usd("19.99"))
                .description("T-shirt")
                .return_url("https://shop.example/ok?session_id={CHECKOUT_SESSION_ID}")
                .customer_email("ana@example.com")
                .metadata("order_id", "72"),
        )
        .await
        .unwrap();
    assert!(s.id.starts_with("cs_test_"));
    assert_eq!(s.status, PaymentStatus::Pending);
    assert!(s.intent_id.is_none());
    let url = s.confirmation_url.clone().unwrap();
    assert!(url.starts_with(&sim.uri()));
    assert!(!format!("{s:?}").contains("ana@example.com"));

    // The request used bracket notation for the line item.
    let post = sim
        .requests()
        .await
        .into_iter()
        .find(|r| r.url.path() == "/v1/checkout/sessions")
        .unwrap();
    let params = form::decode(&post.body).unwrap();
    assert_eq!(params["mode"], json!("payment"));
    assert_eq!(params["line_items"][0]["price_data"]["unit_amount"], json!("1999"));
    assert_eq!(
        params["line_items"][0]["price_data"]["product_data"]["name"],
        json!("T-shirt")
    );
    assert_eq!(params["payment_intent_data"]["metadata"]["order_id"], json!("72"));

    // Capture or refund before paying: the customer has not paid.
    let e = gw.refund(&CreateRefund::full(&s.id)).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent);

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 303);
    assert_eq!(
        page.headers()["location"],
        format!("https://shop.example/ok?session_id={}", s.id)
    );

    let paid = gw.get_payment(&s.id).await.unwrap();
    assert_eq!(paid.status, PaymentStatus::Succeeded);
    assert!(paid.intent_id.as_deref().unwrap().starts_with("pi_"));
    assert_eq!(paid.captured, Some(usd("19.99")));
    assert_eq!(paid.raw["payment_status"], json!("paid"));
    assert!(paid.confirmation_url.is_none());
    assert!(!paid.raw.to_string().contains("_secret_"));
    // Refund through the session id.
    let r = gw.refund(&CreateRefund::partial(&s.id, usd("9.99"))).await.unwrap();
    assert_eq!(r.payment_id, paid.intent_id.clone().unwrap());
    assert_eq!(gw.list_refunds(&s.id).await.unwrap().len(), 1);
    assert_eq!(gw.get_payment(&s.id).await.unwrap().refunded, Some(usd("9.99")));
}

#[tokio::test]
async fn checkout_with_manual_capture_and_expiry() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let s = gw
        .create_payment(
            &CreatePayment::new(usd("50"))
                .return_url("https://shop.example/ok")
                .manual_capture(),
        )
        .await
        .unwrap();
    sim.pay(&s.id).unwrap();
    let held = gw.get_payment(&s.id).await.unwrap();
    assert_eq!(held.status, PaymentStatus::WaitingForCapture);
    let captured = gw.capture_payment(&s.id, Some(usd("45")), None).await.unwrap();
    assert_eq!(captured.id, s.id);
    assert_eq!(captured.status, PaymentStatus::Succeeded);
    assert_eq!(captured.captured, Some(usd("45")));

    // An open session is canceled by expiring it; a second time is refused.
    let open = gw
        .create_payment(&CreatePayment::new(usd("50")).return_url("https://shop.example/ok"))
        .await
        .unwrap();
    let c = gw.cancel_payment(&open.id, None).await.unwrap();
    assert_eq!(c.status, PaymentStatus::Canceled);
    assert_eq!(c.raw_status, "expired");
    assert!(gw.cancel_payment(&open.id, None).await.is_err());
    assert!(sim.pay(&open.id).is_err());
    // And the simulator's own expiry.
    let other = gw
        .create_payment(&CreatePayment::new(usd("1")).return_url("https://shop.example/ok"))
        .await
        .unwrap();
    sim.expire(&other.id).unwrap();
    assert_eq!(gw.get_payment(&other.id).await.unwrap().status, PaymentStatus::Canceled);
}

#[tokio::test]
async fn idempotent_replay_and_key_conflict() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let k = key("order-72");
    let a = c.create_payment_intent(&intent("20"), &k).await.unwrap();
    let b = c.create_payment_intent(&intent("20"), &k).await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(sim.stats().payments_created, 1);
    assert_eq!(sim.stats().charges, 1);
    assert_eq!(sim.stats().replays, 1);
    let e = c.create_payment_intent(&intent("21"), &k).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::Sent));
    assert_eq!(e.provider_code(), Some("idempotency_error"));
    assert!(e.provider_text().unwrap().contains("same parameters"));
    assert_eq!(sim.stats().charges, 1);
    // The same key on another endpoint is a conflict too.
    let e = c
        .create_refund(&RefundCreate::of_payment_intent(&a.id), &k)
        .await
        .unwrap_err();
    assert_eq!(e.provider_code(), Some("idempotency_error"));
    // A validation failure is not saved: the key can be used again with corrected parameters.
    let k2 = key("order-73");
    let mut bad = intent("20");
    bad.amount = 10;
    let e = c.create_payment_intent(&bad, &k2).await.unwrap_err();
    assert_eq!(e.provider_code(), Some("amount_too_small"));
    c.create_payment_intent(&intent("20"), &k2).await.unwrap();
    // Declines are saved like successes.
    let k3 = key("order-74");
    let mut declined = intent("20");
    declined.payment_method = Some("pm_card_chargeDeclined".into());
    let first = c.create_payment_intent(&declined, &k3).await.unwrap_err();
    let again = c.create_payment_intent(&declined, &k3).await.unwrap_err();
    assert_eq!(first.provider_code(), Some("generic_decline"));
    assert_eq!(again.provider_code(), Some("generic_decline"));
    assert_eq!(sim.stats().payments_created, 3);
}

#[tokio::test]
async fn a_timeout_then_a_retry_with_the_same_key_charges_once() {
    let sim = Simulator::start().await;
    let gw = StripeGateway::new(config(&sim).timeout(Duration::from_millis(250)).build().unwrap()).unwrap();
    sim.faults().push(Fault::Delay(Duration::from_millis(800)));
    let p = gw
        .create_payment(&card("20").idempotency_key(key("order-t")))
        .await
        .unwrap();
    assert_eq!(p.status, PaymentStatus::Succeeded);
    let posts: Vec<_> = sim
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posts.len(), 2);
    assert!(posts.iter().all(|r| r.headers["idempotency-key"] == "order-t"));
    assert_eq!(sim.stats().charges, 1, "one charge, however many tries");
    assert_eq!(sim.stats().replays, 1);
}

#[tokio::test]
async fn a_saved_500_is_not_retried_and_replays_as_stripe_does() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    sim.answer_500_after_processing(1);
    let e = gw
        .create_payment(&card("20").idempotency_key(key("order-500")))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(e.provider_code(), Some("api_error"));
    assert!(e.message().contains("order-500"));
    let posts = sim
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1, "Stripe-Should-Retry: false is obeyed");
    assert_eq!(sim.stats().charges, 1, "the charge happened");
    // The key keeps answering the saved 500.
    let e = gw
        .create_payment(&card("20").idempotency_key(key("order-500")))
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(500));
    assert_eq!(sim.stats().charges, 1);
    // A 500 that Stripe did not mark (an unsaved server error) is retried with the same key.
    sim.faults().push(Fault::StatusJson(
        500,
        json!({"error": {"type": "api_error", "message": "x"}}).to_string(),
    ));
    gw.create_payment(&card("20")).await.unwrap();
    assert_eq!(sim.stats().charges, 2);
}

#[tokio::test]
async fn auth_and_request_errors() {
    let sim = Simulator::start().await;
    let wrong = StripeGateway::new(
        StripeConfig::builder()
            .secret_key("sk_test_wrongkey1234")
            .endpoint(sim.uri())
            .retry(fast())
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = wrong.get_payment("pi_123").await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
    assert!(e.provider_text().unwrap().contains("****1234"));
    let r = reqwest::Client::new()
        .get(format!("{}/v1/payment_intents/pi_1", sim.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Basic auth with the key as user name works, as with curl -u sk_test_…:
    let r = reqwest::Client::new()
        .get(format!("{}/v1/refunds", sim.uri()))
        .basic_auth(Simulator::SECRET_KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Unknown and missing parameters.
    let c = client(&sim);
    let mut p = intent("20");
    p.extra.push(("colour".into(), "blue".into()));
    let e = c.create_payment_intent(&p, &key("p-1")).await.unwrap_err();
    assert_eq!(e.provider_code(), Some("parameter_unknown"));
    assert!(e.provider_text().unwrap().contains("colour"));
    let e = gateway(&sim).get_payment("pi_doesnotexist").await.unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (ErrorKind::NotFound, Some("resource_missing"))
    );
    assert_eq!(
        gateway(&sim).get_payment("pi_../../x").await.unwrap_err().dispatch(),
        Dispatch::NotSent
    );
    // Faults.
    let gw = gateway(&sim);
    sim.faults().push(Fault::RateLimited(Some(0)));
    gw.create_payment(&card("1")).await.unwrap();
    sim.faults().push(Fault::MalformedJson);
    assert_eq!(
        gw.create_payment(&card("1")).await.unwrap_err().kind(),
        ErrorKind::Decode
    );
    let url = connection_fault(ConnectionFault::Refused).await.unwrap();
    let e = StripeGateway::new(
        StripeConfig::builder()
            .secret_key("sk_test_x")
            .endpoint(url)
            .retry(RetryPolicy::never())
            .build()
            .unwrap(),
    )
    .unwrap()
    .create_payment(&card("1"))
    .await
    .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Transport, Dispatch::NotSent));
}

#[tokio::test]
async fn refund_lists_page_newest_first() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let pi = c.create_payment_intent(&intent("10"), &key("l-0")).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut r = RefundCreate::of_payment_intent(&pi.id);
        r.amount = Some(100);
        ids.push(c.create_refund(&r, &key(&format!("l-{}", i + 1))).await.unwrap().id);
    }
    let mut q = RefundList::of_payment_intent(&pi.id);
    q.limit = Some(2);
    let first = c.list_refunds(&q).await.unwrap();
    assert!(first.has_more);
    assert_eq!(first.data[0].id, ids[4]);
    q.starting_after = Some(first.data[1].id.clone());
    let second = c.list_refunds(&q).await.unwrap();
    assert_eq!(second.data[0].id, ids[2]);
    assert_eq!(gateway(&sim).list_refunds(&pi.id).await.unwrap().len(), 5);
}

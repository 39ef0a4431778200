//! The YooKassa client and gateway against the YooKassa simulator.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchboard_core::testkit::{ConnectionFault, Fault, WebhookSink, connection_fault};
use switchboard_core::{Dispatch, Dsn, ErrorKind, RetryPolicy, WebhookRequest};
use switchboard_payments::yookassa::model::{
    Amount, CaptureRequest, CreatePaymentRequest, CreateRefundRequest, ListQuery,
};
use switchboard_payments::yookassa::{self, Client, Config, Gateway, Simulator};
use switchboard_payments::{
    CreatePayment, CreateRefund, Currency, EventStore, IdempotencyKey, MemoryEventStore, Money, PaymentGateway,
    PaymentStatus, RefundStatus, WebhookObject, WebhookOutcome,
};

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false)
}

fn config(sim: &Simulator) -> Config {
    sim.config().retry(fast()).timeout(Duration::from_secs(5))
}

fn gateway(sim: &Simulator) -> Gateway {
    Gateway::new(config(sim)).unwrap()
}

fn client(sim: &Simulator) -> Client {
    Client::new(config(sim)).unwrap()
}

fn rub(s: &str) -> Money {
    Money::parse(s, Currency::RUB).unwrap()
}

fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::new(s).unwrap()
}

fn redirect(amount: &str) -> CreatePayment {
    CreatePayment::new(rub(amount))
        .return_url("https://shop.example/return")
        .description("Order 72")
        .metadata("order_id", "72")
}

fn wire_request(amount: &str) -> CreatePaymentRequest {
    let mut r = CreatePaymentRequest::new(Amount::from_money(rub(amount)));
    r.confirmation = Some(yookassa::model::ConfirmationRequest::Redirect {
        return_url: "https://shop.example/return".into(),
        enforce: None,
        locale: None,
    });
    r.capture = Some(true);
    r
}

const LOOPBACK: &str = "127.0.0.1";

fn notification(event: &str, object: serde_json::Value) -> WebhookRequest {
    WebhookRequest::post(
        "https://shop.example/yookassa",
        json!({"type": "notification", "event": event, "object": object}).to_string(),
    )
    .with_header("content-type", "application/json")
    .with_remote_addr(LOOPBACK.parse().unwrap())
}

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
    let gw = Gateway::new(config(&sim).timeout(Duration::from_millis(250))).unwrap();
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
    let gw = Gateway::new(
        config(&sim)
            .timeout(Duration::from_millis(200))
            .retry(RetryPolicy::never()),
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
    let bad = Gateway::new(
        Config::new(Simulator::SHOP_ID, "wrong")
            .endpoint(sim.uri())
            .retry(fast()),
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
        let gw = Gateway::new(
            Config::new("1", "k")
                .endpoint(url)
                .retry(RetryPolicy::never())
                .timeout(Duration::from_millis(500)),
        )
        .unwrap();
        let e = gw.create_payment(&redirect("1")).await.unwrap_err();
        assert_eq!(e.dispatch(), dispatch, "{fault:?}: {e}");
        assert_eq!(e.kind(), ErrorKind::Transport, "{fault:?}");
    }
}

#[tokio::test]
async fn notification_is_believed_only_after_the_refetch() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&redirect("1000")).await.unwrap();
    sim.pay(&p.id).unwrap();
    let genuine = notification("payment.succeeded", sim.payment(&p.id).unwrap());
    let out = gw.handle_webhook(&genuine).await.unwrap();
    let ev = out.event().expect("a new event");
    assert_eq!(ev.event_type, "payment.succeeded");
    assert_eq!(ev.event_id, format!("payment.succeeded:{}", p.id));
    assert!(ev.claimed_event_type.is_none());
    match &ev.object {
        WebhookObject::Payment(pay) => assert_eq!(pay.status, PaymentStatus::Succeeded),
        other => panic!("{other:?}"),
    }
    // The same again: a duplicate.
    assert!(gw.handle_webhook(&genuine).await.unwrap().is_duplicate());
    // The host-facing event.
    match ev.to_event().unwrap() {
        switchboard_core::Event::Payment(pe) => {
            assert_eq!(pe.object_id, p.id);
            assert_eq!(pe.status, "succeeded");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_forged_notification_cannot_mark_a_payment_paid() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&redirect("1000")).await.unwrap();
    // The body claims success, from an allowed address; the shop's record says pending.
    let mut claimed = sim.payment(&p.id).unwrap();
    claimed["status"] = json!("succeeded");
    claimed["paid"] = json!(true);
    let out = gw
        .handle_webhook(&notification("payment.succeeded", claimed))
        .await
        .unwrap();
    let ev = out.event().unwrap();
    assert_eq!(ev.event_type, "payment.pending", "the fetched state wins");
    assert_eq!(ev.claimed_event_type.as_deref(), Some("payment.succeeded"));
    match &ev.object {
        WebhookObject::Payment(pay) => {
            assert_eq!(pay.status, PaymentStatus::Pending);
            assert!(!pay.is_paid());
        }
        other => panic!("{other:?}"),
    }
    // When the customer really pays, the genuine notification is not taken for a duplicate.
    sim.pay(&p.id).unwrap();
    let real = gw
        .handle_webhook(&notification("payment.succeeded", sim.payment(&p.id).unwrap()))
        .await
        .unwrap();
    assert_eq!(real.event().unwrap().event_type, "payment.succeeded");
    // An id the shop does not have: an authentication failure.
    let e = gw
        .handle_webhook(&notification(
            "payment.succeeded",
            json!({"id": "2f6a1c3b-000f-5000-8000-000000000000"}),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn ip_allow_list_refusals() {
    let sim = Simulator::start().await;
    let p = gateway(&sim).create_payment(&redirect("1")).await.unwrap();
    let body = sim.payment(&p.id).unwrap();
    // The published list: loopback is refused, a YooKassa address accepted.
    let published = Gateway::new(
        Config::new(Simulator::SHOP_ID, Simulator::SECRET_KEY)
            .endpoint(sim.uri())
            .retry(fast()),
    )
    .unwrap();
    let e = published
        .handle_webhook(&notification("payment.pending", body.clone()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
    for ip in ["185.71.76.5", "77.75.156.11", "2a02:5180::10"] {
        let req = notification("payment.pending", body.clone()).with_remote_addr(ip.parse::<IpAddr>().unwrap());
        assert!(published.handle_webhook(&req).await.is_ok(), "{ip}");
    }
    for ip in ["185.71.76.32", "77.75.156.12", "10.0.0.1", "2a03::1"] {
        let req = notification("payment.pending", body.clone()).with_remote_addr(ip.parse::<IpAddr>().unwrap());
        assert_eq!(
            published.handle_webhook(&req).await.unwrap_err().kind(),
            ErrorKind::Auth,
            "{ip}"
        );
    }
    // No peer address at all: refused.
    let mut no_peer = notification("payment.pending", body.clone());
    no_peer.remote_addr = None;
    assert_eq!(
        published.handle_webhook(&no_peer).await.unwrap_err().kind(),
        ErrorKind::Auth
    );
    // The check turned off explicitly: the re-fetch still decides.
    let open = Gateway::new(config(&sim).skip_notification_ip_check()).unwrap();
    let req = notification("payment.pending", body).with_remote_addr("10.0.0.1".parse().unwrap());
    assert!(open.handle_webhook(&req).await.is_ok());
}

#[tokio::test]
async fn malformed_notifications_are_input_errors_never_panics() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        br#"{"type":"notification"}"#.to_vec(),
        br#"{"type":"other","event":"payment.succeeded","object":{"id":"x"}}"#.to_vec(),
        br#"{"type":"notification","event":"payment.succeeded","object":"x"}"#.to_vec(),
        br#"{"type":"notification","event":"payment.succeeded","object":{}}"#.to_vec(),
        br#"{"type":"notification","event":"payment.succeeded","object":{"id":7}}"#.to_vec(),
        vec![0xff, 0xfe, 0x00],
        vec![b'{'; 2 * 1024 * 1024],
    ];
    for b in bodies {
        let req = WebhookRequest::post("https://h/", b.clone()).with_remote_addr(LOOPBACK.parse().unwrap());
        let e = gw.handle_webhook(&req).await.unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidInput | ErrorKind::Auth), "{e}");
    }
    // A GET is not a notification.
    let get = WebhookRequest::get("https://h/").with_remote_addr(LOOPBACK.parse().unwrap());
    assert_eq!(
        gw.handle_webhook(&get).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    // An id with path characters is refused as forged, never fetched.
    let e = gw
        .handle_webhook(&notification("payment.succeeded", json!({"id": "../../v3/refunds"})))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    // Objects the client cannot fetch are passed on, marked as such.
    let out = gw
        .handle_webhook(&notification(
            "payout.succeeded",
            json!({"id": "po-1", "status": "succeeded"}),
        ))
        .await
        .unwrap();
    assert!(matches!(out.event().unwrap().object, WebhookObject::Other { .. }));
}

#[tokio::test]
async fn simulator_pushes_notifications_that_the_gateway_accepts() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_webhook_url(format!("{}/yookassa", sink.uri()));
    let store = Arc::new(MemoryEventStore::new());
    let gw = gateway(&sim).with_event_store(store.clone());
    let p = gw.create_payment(&redirect("1000").manual_capture()).await.unwrap();
    sim.pay(&p.id).unwrap();
    gw.capture_payment(&p.id, Some(rub("700")), None).await.unwrap();
    gw.refund(&CreateRefund::partial(&p.id, rub("200"))).await.unwrap();
    let got = sink.wait_for(3, Duration::from_secs(5)).await;
    let mut kinds = Vec::new();
    for req in &got {
        assert!(req.header("stripe-signature").is_none() && req.header("authorization").is_none());
        match gw.handle_webhook(req).await.unwrap() {
            WebhookOutcome::Event(e) => kinds.push(e.event_type.clone()),
            WebhookOutcome::Duplicate { event_id } => kinds.push(format!("dup {event_id}")),
            other => panic!("{other:?}"),
        }
    }
    // The waiting_for_capture notification is re-fetched after the capture: it reports the state now.
    assert_eq!(
        kinds,
        vec![
            "payment.succeeded".to_owned(),
            format!("dup payment.succeeded:{}", p.id),
            "refund.succeeded".to_owned()
        ]
    );
    assert_eq!(sim.deliveries().len(), 3);
    assert!(sim.deliveries().iter().all(|d| d.status == Some(200)));
    // A host that failed to process an event releases it; the redelivery is then processed.
    let last = got.last().unwrap();
    let key = format!(
        "yookassa:refund.succeeded:{}",
        gw.list_refunds(&p.id).await.unwrap()[0].id
    );
    store.release(&key).await.unwrap();
    assert!(!gw.handle_webhook(last).await.unwrap().is_duplicate());
}

#[tokio::test]
async fn dsn_configuration() {
    let sim = Simulator::start().await;
    let dsn = Dsn::parse(&sim.dsn()).unwrap();
    let gw = Gateway::from_dsn(&dsn).unwrap();
    assert_eq!(gw.provider(), "yookassa");
    gw.create_payment(&redirect("1")).await.unwrap();

    let d = Dsn::parse("yookassa://100500:live_TopSecret@default?timeout=10&retries=5&notify_ips=1.2.3.0/24").unwrap();
    let c = Config::from_dsn(&d).unwrap();
    assert_eq!(c.endpoint, "https://api.yookassa.ru");
    assert_eq!(c.timeout, Duration::from_secs(10));
    assert_eq!(c.retry.max_attempts, 5);
    assert_eq!(c.notification_ips.as_deref(), Some(&["1.2.3.0/24".to_owned()][..]));
    assert!(!format!("{c:?}").contains("TopSecret"));
    assert!(!format!("{:?}", Client::new(c).unwrap()).contains("TopSecret"));
    assert!(
        Config::from_dsn(&Dsn::parse("yookassa://1:k@default?notify_ips=any").unwrap())
            .unwrap()
            .notification_ips
            .is_none()
    );
    for bad in [
        "yookassa://100500@default",
        "yookassa://:live_TopSecret@default",
        "yookassa://100500:live_TopSecret@default?notify_ips=nope",
        "yookassa://100500:live_TopSecret@default?timeout=soon",
        "stripe://100500:live_TopSecret@default",
    ] {
        let e = Config::from_dsn(&Dsn::parse(bad).unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
        assert!(!e.to_string().contains("TopSecret"), "{e}");
    }
    // serde
    let c: Config = serde_json::from_value(json!({"shop_id": "1", "secret_key": "s3cr3t", "timeout": 7})).unwrap();
    assert_eq!(c.timeout, Duration::from_secs(7));
    assert!(c.notification_ips.is_some());
    assert!(!format!("{c:?}").contains("s3cr3t"));
}

#[tokio::test]
async fn wire_level_capture_and_cancel_requests() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let mut r = wire_request("50");
    r.capture = Some(false);
    let p = c.create_payment(&r, &key("w-1")).await.unwrap();
    sim.pay(&p.id).unwrap();
    let captured = c
        .capture_payment(
            &p.id,
            &CaptureRequest::new(Some(Amount::from_money(rub("20")))),
            &key("w-2"),
        )
        .await
        .unwrap();
    assert_eq!(captured.status, "succeeded");
    assert_eq!(captured.amount.value, "20.00");
    // Capturing again with a new key: the payment is no longer held.
    assert!(
        c.capture_payment(&p.id, &CaptureRequest::new(None), &key("w-3"))
            .await
            .is_err()
    );
    // The same capture key replays the success.
    let again = c
        .capture_payment(
            &p.id,
            &CaptureRequest::new(Some(Amount::from_money(rub("20")))),
            &key("w-2"),
        )
        .await
        .unwrap();
    assert_eq!(again.status, "succeeded");
    assert_eq!(sim.stats().captures, 1);
    let list = c
        .list_payments(&ListQuery::default().status("succeeded"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
}

#[tokio::test]
async fn every_documented_error_code_maps_to_kind_and_dispatch() {
    let sim = Simulator::start().await;
    let gw = Gateway::new(config(&sim).retry(RetryPolicy::never())).unwrap();
    let cases = [
        (400, "invalid_request", ErrorKind::InvalidInput, Dispatch::Sent),
        (400, "not_supported", ErrorKind::Unsupported, Dispatch::Sent),
        (401, "invalid_credentials", ErrorKind::Auth, Dispatch::NotSent),
        (403, "forbidden", ErrorKind::Rejected, Dispatch::NotSent),
        (404, "not_found", ErrorKind::NotFound, Dispatch::Sent),
        (429, "too_many_requests", ErrorKind::RateLimited, Dispatch::NotSent),
        (
            500,
            "internal_server_error",
            ErrorKind::Unavailable,
            Dispatch::MaybeSent,
        ),
        // A code YooKassa may add later falls back to the HTTP status.
        (409, "something_new", ErrorKind::Rejected, Dispatch::Sent),
    ];
    for (status, code, kind, dispatch) in cases {
        let body =
            json!({"type": "error", "id": "e-1", "code": code, "description": "simulated", "parameter": "amount"});
        sim.faults().push(Fault::StatusJson(status, body.to_string()));
        let e = gw.create_payment(&redirect("1")).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{code}: {e}");
        assert_eq!(e.provider_code(), Some(code));
        assert_eq!(e.http_status(), Some(status));
        assert_eq!(e.provider(), Some("yookassa"));
        assert!(e.provider_text().unwrap().contains("parameter amount"), "{e}");
    }
    // No envelope at all: the HTTP status decides.
    sim.faults().push(Fault::Status(502));
    let e = gw
        .get_payment("2f6a1c3b-000f-5000-8000-1b2c39026a5c")
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(sim.stats().payments_created, 0);
}

#[tokio::test]
async fn requests_without_or_with_wrong_basic_auth_are_refused() {
    let sim = Simulator::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/v3/payments", sim.uri());
    for auth in [
        None,
        Some(("100501", Simulator::SECRET_KEY)),
        Some((Simulator::SHOP_ID, "nope")),
    ] {
        let mut rb = http.get(&url);
        if let Some((u, p)) = auth {
            rb = rb.basic_auth(u, Some(p));
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "{auth:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], json!("invalid_credentials"));
    }
    let r = http.get(&url).bearer_auth(Simulator::SECRET_KEY).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "OAuth tokens are for the partner API only");
}

#[tokio::test]
async fn a_202_processing_answer_is_repeated_with_the_same_key() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let processing = json!({"type": "processing", "description": "Request accepted, repeat later", "retry_after": 5});
    sim.faults().push(Fault::StatusJson(202, processing.to_string()));
    let p = gw
        .create_payment(&redirect("1").idempotency_key(key("order-202")))
        .await
        .unwrap();
    assert_eq!(p.status, PaymentStatus::Pending);
    let posts: Vec<_> = sim
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posts.len(), 2);
    assert!(posts.iter().all(|r| r.headers["idempotence-key"] == "order-202"));
    // Every answer "processing": MaybeSent with the advised wait.
    let gw = Gateway::new(config(&sim).retry(RetryPolicy::never())).unwrap();
    sim.faults().push(Fault::StatusJson(202, processing.to_string()));
    let e = gw.create_payment(&redirect("2")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(e.retry_after(), Some(Duration::from_millis(5)));
}

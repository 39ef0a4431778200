//! The wire-level client, configuration from DSNs, and YooKassa's error envelopes.

use std::time::Duration;

use crate::model::{Amount, CaptureRequest, ListQuery};
use crate::sim::Simulator;
use crate::{YooKassaClient, YooKassaConfig, YooKassaGateway};
use serde_json::json;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, Dsn, ErrorKind, RetryPolicy};
use switchboard_payments::{PaymentGateway, PaymentStatus};

use super::{client, config, gateway, key, redirect, rub, wire_request};

#[tokio::test]
async fn dsn_configuration() {
    let sim = Simulator::start().await;
    let dsn = Dsn::parse(&sim.dsn()).unwrap();
    let gw = YooKassaGateway::from_dsn(&dsn).unwrap();
    assert_eq!(gw.provider(), "yookassa");
    gw.create_payment(&redirect("1")).await.unwrap();

    let d = Dsn::parse("yookassa://100500:live_TopSecret@default?timeout=10&retries=5&notify_ips=1.2.3.0/24").unwrap();
    let c = YooKassaConfig::from_dsn(&d).unwrap();
    assert_eq!(c.endpoint, "https://api.yookassa.ru");
    assert_eq!(c.timeout, Duration::from_secs(10));
    assert_eq!(c.retry.max_attempts, 5);
    assert_eq!(c.notification_ips.as_deref(), Some(&["1.2.3.0/24".to_owned()][..]));
    assert!(!format!("{c:?}").contains("TopSecret"));
    assert!(!format!("{:?}", YooKassaClient::new(c).unwrap()).contains("TopSecret"));
    assert!(
        YooKassaConfig::from_dsn(&Dsn::parse("yookassa://1:k@default?notify_ips=any").unwrap())
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
        let e = YooKassaConfig::from_dsn(&Dsn::parse(bad).unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
        assert!(!e.to_string().contains("TopSecret"), "{e}");
    }
    // serde
    let c: YooKassaConfig =
        serde_json::from_value(json!({"shop_id": "1", "secret_key": "s3cr3t", "timeout": 7})).unwrap();
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
    let gw = YooKassaGateway::new(config(&sim).retry(RetryPolicy::never()).build().unwrap()).unwrap();
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
    let gw = YooKassaGateway::new(config(&sim).retry(RetryPolicy::never()).build().unwrap()).unwrap();
    sim.faults().push(Fault::StatusJson(202, processing.to_string()));
    let e = gw.create_payment(&redirect("2")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(e.retry_after(), Some(Duration::from_millis(5)));
}

//! Notifications: believed only after the re-fetch, from allowed addresses, deduplicated.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::sim::Simulator;
use crate::{YooKassaConfig, YooKassaGateway};
use serde_json::json;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{ErrorKind, WebhookRequest};
use switchboard_payments::{
    CreateRefund, EventStore, MemoryEventStore, PaymentGateway, PaymentStatus, WebhookObject, WebhookOutcome,
};

use super::{LOOPBACK, config, fast, gateway, notification, redirect, rub};

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
    let published = YooKassaGateway::new(
        YooKassaConfig::builder()
            .shop_id(Simulator::SHOP_ID)
            .secret_key(Simulator::SECRET_KEY)
            .endpoint(sim.uri())
            .retry(fast())
            .build()
            .unwrap(),
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
    let open = YooKassaGateway::new(config(&sim).skip_notification_ip_check().build().unwrap()).unwrap();
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
    // What the simulator pushed is what the sink received, all three.
    let pushed = sim.pushed();
    assert_eq!(pushed.len(), 3);
    assert!(pushed.iter().zip(&got).all(|(p, g)| p.body == g.body));
    // A host that failed to process an event releases it; the redelivery is then processed.
    let last = got.last().unwrap();
    let key = format!(
        "yookassa:refund.succeeded:{}",
        gw.list_refunds(&p.id).await.unwrap()[0].id
    );
    store.release(&key).await.unwrap();
    assert!(!gw.handle_webhook(last).await.unwrap().is_duplicate());
}

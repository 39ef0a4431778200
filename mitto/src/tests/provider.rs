//! Registration and the shared simulator vocabulary: Mitto found by scheme in a registry, connected
//! from a DSN, and its simulator driven through `Simulated` alone.

use std::sync::Arc;

use crate::sim::{SIM_WEBHOOK_SECRET, Simulator};
use crate::{MittoClient, MittoTransport};
use switchboard_core::registry::Registry;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Event, Message, Transport};

fn registry() -> Registry {
    let mut r = Registry::new();
    crate::register(&mut r);
    r
}

#[tokio::test]
async fn register_then_connect_by_dsn() {
    let r = registry();
    assert_eq!(r.schemes(), vec!["mitto"]);
    let p = r.find("mitto").unwrap();
    assert!(p.dsn_form().starts_with("mitto://"));
    assert!(!p.summary().is_empty());

    let sim = Simulator::start().await;
    let conn = r.connect(&sim.dsn_messaging()).unwrap();
    assert_eq!(conn.provider(), "mitto");
    assert!(
        conn.downcast::<MittoClient>().is_some(),
        "the typed client is handed out too"
    );
    let transport = conn.into_transport().unwrap();
    let to = switchboard_core::PhoneNumber::parse("+41751231234", None).unwrap();
    let receipt = transport.send(&Message::sms(to, "hi")).await.unwrap();
    assert_eq!(sim.sent()[0].id, receipt.provider_id());

    // A bad DSN is a Config error that does not show the key.
    let e = r.connect("mitto://very-secret-key@default").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(!e.to_string().contains("very-secret-key"), "{e}");
}

#[tokio::test]
async fn a_traffic_account_without_api_connects_the_messaging_api() {
    let sim = Simulator::start().await;
    let dsn = sim.dsn_messaging().replace("&api=messaging", "");
    assert!(!dsn.contains("api="));
    let conn = registry().connect(&dsn).unwrap();
    let transport = conn.into_transport().unwrap();
    assert!(transport.capabilities().status, "the messaging API looks messages up");
    let to = switchboard_core::PhoneNumber::parse("+41751231234", None).unwrap();
    let r = transport.send(&Message::sms(to, "hi")).await.unwrap();
    assert_eq!(sim.messaging_sends(), 1);
    assert_eq!(
        transport.status(r.provider_id()).await.unwrap().status,
        DeliveryStatus::Sent
    );
}

#[tokio::test]
async fn a_legacy_status_lookup_says_how_to_get_one() {
    let sim = Simulator::start().await;
    let legacy = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let e = legacy.status("any").await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unsupported, Dispatch::NotSent));
    assert!(e.to_string().contains("api=messaging&traffic_account="), "{e}");
}

async fn started(options: SimOptions) -> Arc<dyn Simulated> {
    let provider = registry().find("mitto").unwrap();
    provider.simulator().unwrap().start(options).await.unwrap()
}

#[tokio::test]
async fn the_simulator_through_the_shared_vocabulary() {
    let sink = WebhookSink::start().await;
    let sim = started(SimOptions::default().webhook_url(sink.uri())).await;
    assert_eq!(sim.provider(), "mitto");
    let transport = registry().connect(&sim.dsn()).unwrap().into_transport().unwrap();
    let to = sim.recipient().unwrap();
    let receipt = transport.send(&Message::to(to, "hello")).await.unwrap();

    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].id.as_str(), sent[0].text.as_str()),
        (receipt.provider_id(), "hello")
    );
    assert_eq!(sent[0].status, "Accepted");
    assert!(
        !format!("{:?}", sent[0]).contains("751231234"),
        "records mask the number"
    );

    sim.advance().await;
    sim.advance().await;
    assert_eq!(sim.sent()[0].status, "Delivered");
    let pushed = sim.pushed();
    assert_eq!(pushed.len(), 2, "one report per change, to the options' webhook URL");
    let mut states = Vec::new();
    for request in sink.wait_for(2, std::time::Duration::from_secs(2)).await {
        for e in transport.handle_webhook(&request).await.unwrap().events {
            if let Event::Delivery(r) = e {
                states.push(r.status);
            }
        }
    }
    assert_eq!(states, [DeliveryStatus::Sent, DeliveryStatus::Delivered]);

    // Faults through the shared queue.
    sim.fail_next(switchboard_core::testkit::Fault::Status(500));
    let e = transport
        .send(&Message::to(sim.recipient().unwrap(), "x"))
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::MaybeSent);
    assert_eq!(sim.faults().pending(), 0);
}

#[tokio::test]
async fn triggers_push_one_tokened_report_each() {
    let sink = WebhookSink::start().await;
    let sim = started(SimOptions::default()).await;
    assert_eq!(sim.triggers(), ["delivered", "failed"]);
    let transport = registry().connect(&sim.dsn()).unwrap().into_transport().unwrap();
    for (event, status, code) in [
        ("delivered", DeliveryStatus::Delivered, "0"),
        ("failed", DeliveryStatus::Failed, "1"),
    ] {
        let made = sim
            .trigger(event, &format!("{}/hooks/mitto", sink.uri()))
            .await
            .unwrap();
        assert_eq!(
            made.query_param("token").as_deref(),
            Some(SIM_WEBHOOK_SECRET),
            "the secret of dsn() is on the URL"
        );
        let handled = transport.handle_webhook(&made).await.unwrap();
        match &handled.events[..] {
            [Event::Delivery(r)] => assert_eq!((r.status, r.error_code.as_deref()), (status, Some(code))),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sink.wait_for(2, std::time::Duration::from_secs(2)).await.len(), 2);
    assert_eq!(sim.pushed().len(), 2);
    let e = sim.trigger("inbound", &sink.uri()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("delivered, failed"), "{e}");
}

#[tokio::test]
async fn conformance_hooks() {
    let sim = started(SimOptions::default()).await;
    let bad = sim.dsn_with_bad_credentials().unwrap();
    let transport = registry().connect(&bad).unwrap().into_transport().unwrap();
    let e = transport
        .send(&Message::to(sim.recipient().unwrap(), "x"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
    let elsewhere = sim.dsn_at("http://127.0.0.1:9").unwrap();
    assert!(elsewhere.contains("@127.0.0.1:9?"), "{elsewhere}");
    assert!(sim.rate_limit_fault(3).is_none(), "Mitto has no own rate-limit answer");
}

//! Registration and the shared simulator vocabulary: Dinstar found by scheme in a registry, connected
//! from a DSN, and its simulator driven through `Simulated` alone.

use std::sync::Arc;
use std::time::Duration;

use crate::DinstarClient;
use crate::sim::SIM_WEBHOOK_SECRET;
use switchboard_core::registry::Registry;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::{Fault, WebhookSink};
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Event, Message};

fn registry() -> Registry {
    let mut r = Registry::new();
    crate::register(&mut r);
    r
}

async fn started(options: SimOptions) -> Arc<dyn Simulated> {
    let provider = registry().find("dinstar").unwrap();
    provider.simulator().unwrap().start(options).await.unwrap()
}

#[tokio::test]
async fn register_then_connect_by_dsn() {
    let r = registry();
    assert_eq!(r.schemes(), vec!["dinstar"]);
    let p = r.find("dinstar").unwrap();
    assert!(p.dsn_form().starts_with("dinstar://"));
    assert!(!p.summary().is_empty());

    let sim = started(SimOptions::default()).await;
    let conn = r.connect(&sim.dsn()).unwrap();
    assert_eq!(conn.provider(), "dinstar");
    assert!(
        conn.downcast::<DinstarClient>().is_some(),
        "the typed client is handed out too"
    );
    let transport = conn.into_transport().unwrap();
    let receipt = transport
        .send(&Message::to(sim.recipient().unwrap(), "hi"))
        .await
        .unwrap();
    assert_eq!(sim.sent()[0].id, receipt.provider_id());

    // A bad DSN is a DinstarConfig error that does not show the password.
    let e = r.connect("dinstar://admin:very-secret@default").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(!e.to_string().contains("very-secret"), "{e}");
}

#[tokio::test]
async fn the_simulator_through_the_shared_vocabulary() {
    let sink = WebhookSink::start().await;
    let sim = started(SimOptions::default().webhook_url(format!("{}/hooks/gsm", sink.uri()))).await;
    assert_eq!(sim.provider(), "dinstar");
    let transport = registry().connect(&sim.dsn()).unwrap().into_transport().unwrap();
    let receipt = transport
        .send(&Message::to(sim.recipient().unwrap(), "hello"))
        .await
        .unwrap();
    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].id.as_str(), sent[0].text.as_str()),
        (receipt.provider_id(), "hello")
    );
    assert_eq!(sent[0].status, "SENDING");
    assert!(
        !format!("{:?}", sent[0]).contains("694123456"),
        "records mask the number"
    );

    sim.advance().await;
    sim.advance().await;
    assert_eq!(sim.sent()[0].status, "DELIVERED");
    // SENT_OK (a result), then DELIVERED (a result and a delivery report).
    let pushed = sim.pushed();
    assert_eq!(pushed.len(), 3);
    assert!(
        pushed
            .iter()
            .all(|p| p.query_param("token").as_deref() == Some(SIM_WEBHOOK_SECRET))
    );
    let mut states = Vec::new();
    for request in sink.wait_for(3, Duration::from_secs(2)).await {
        for e in transport.handle_webhook(&request).await.unwrap().events {
            if let Event::Delivery(r) = e {
                states.push(r.status);
            }
        }
    }
    assert!(states.contains(&DeliveryStatus::Delivered), "{states:?}");

    // Faults through the shared queue: a 503 is refused before acting, and retried.
    sim.fail_next(Fault::Status(503));
    transport
        .send(&Message::to(sim.recipient().unwrap(), "x"))
        .await
        .unwrap();
    assert_eq!(sim.faults().pending(), 0);
    assert_eq!(sim.sent().len(), 2);
}

#[tokio::test]
async fn triggers_push_one_tokened_event_each() {
    let sink = WebhookSink::start().await;
    let sim = started(SimOptions::default()).await;
    assert_eq!(sim.triggers(), ["delivered", "failed", "inbound"]);
    let transport = registry().connect(&sim.dsn()).unwrap().into_transport().unwrap();
    transport
        .send(&Message::to(sim.recipient().unwrap(), "hi"))
        .await
        .unwrap();
    for event in sim.triggers() {
        let made = sim.trigger(event, &format!("{}/hooks/gsm", sink.uri())).await.unwrap();
        assert_eq!(made.query_param("token").as_deref(), Some(SIM_WEBHOOK_SECRET));
        let handled = transport.handle_webhook(&made).await.unwrap();
        match (*event, &handled.events[..]) {
            ("delivered", [Event::Delivery(r)]) => assert_eq!(r.status, DeliveryStatus::Delivered),
            ("failed", [Event::Delivery(r)]) => assert_eq!(r.status, DeliveryStatus::Failed),
            ("inbound", [Event::Inbound(m)]) => assert_eq!(m.text, "Hello from the simulator"),
            (e, other) => panic!("{e}: {other:?}"),
        }
    }
    assert_eq!(sink.wait_for(3, Duration::from_secs(2)).await.len(), 3);
    assert_eq!(sim.pushed().len(), 3);
    let e = sim.trigger("call.answered", &sink.uri()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
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
    assert!(sim.sent().is_empty());
    let elsewhere = sim.dsn_at("http://127.0.0.1:9").unwrap();
    assert!(elsewhere.contains("@127.0.0.1:9?"), "{elsewhere}");
    assert!(
        sim.rate_limit_fault(3).is_none(),
        "a gateway has no rate-limit answer of its own"
    );
}

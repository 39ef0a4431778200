//! Registration and the shared simulator vocabulary: MightyCall found by scheme in a registry,
//! connected from a DSN, and its simulator driven through `Simulated` alone.

use std::sync::Arc;

use crate::MightyCallClient;
use crate::sim::Simulator;
use switchboard_core::registry::Registry;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Message};

fn registry() -> Registry {
    let mut r = Registry::new();
    crate::register(&mut r);
    r
}

async fn started() -> Arc<dyn Simulated> {
    let provider = registry().find("mightycall").unwrap();
    provider
        .simulator()
        .unwrap()
        .start(SimOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn register_then_connect_by_dsn() {
    let r = registry();
    assert_eq!(r.schemes(), vec!["mightycall"]);
    assert!(r.find("mightycall").unwrap().dsn_form().starts_with("mightycall://"));
    let sim = Simulator::start().await;
    let conn = r.connect(&sim.dsn()).unwrap();
    assert_eq!(conn.provider(), "mightycall");
    let client = conn.downcast::<MightyCallClient>().unwrap();
    assert_eq!(client.ping().await.unwrap(), serde_json::json!("4"));
    let transport = conn.into_transport().unwrap();
    let to = switchboard_core::PhoneNumber::parse("+12025550143", None).unwrap();
    let receipt = transport.send(&Message::sms(to, "hi")).await.unwrap();
    assert_eq!(sim.sent()[0].id, receipt.provider_id());

    let e = r.connect("mightycall://k3y-zz:us3r-zz@default").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(!e.to_string().contains("us3r-zz"), "{e}");
}

#[tokio::test]
async fn the_simulator_through_the_shared_vocabulary() {
    let sim = started().await;
    assert_eq!(sim.provider(), "mightycall");
    let transport = registry().connect(&sim.dsn()).unwrap().into_transport().unwrap();
    assert!(sim.sent().is_empty(), "the seeded journal holds no outgoing message");
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
    assert_eq!(
        (sent[0].to.as_str(), sent[0].status.as_str()),
        ("+12025550143", "Queued")
    );

    sim.advance().await;
    sim.advance().await;
    assert_eq!(sim.sent()[0].status, "Delivered");
    assert!(sim.pushed().is_empty(), "MightyCall pushes nothing");
    assert!(sim.triggers().is_empty());
    let e = sim.trigger("delivered", "http://127.0.0.1:9/").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);

    sim.fail_next(switchboard_core::testkit::Fault::Status(502));
    let s = transport.status(receipt.provider_id()).await.unwrap();
    assert_eq!(s.status, DeliveryStatus::Delivered, "a read is repeated after a 502");
}

#[tokio::test]
async fn conformance_hooks() {
    let sim = started().await;
    let bad = registry().connect(&sim.dsn_with_bad_credentials().unwrap()).unwrap();
    let e = bad
        .into_transport()
        .unwrap()
        .send(&Message::to(sim.recipient().unwrap(), "x"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
    assert_eq!(e.provider_code(), Some("invalid_client"));
    assert!(sim.dsn_at("http://127.0.0.1:9").unwrap().contains("@127.0.0.1:9?"));
}

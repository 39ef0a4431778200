//! Through the provider registry and the `Simulated` vocabulary: `register` makes `fcm://` known,
//! `Registry::connect` hands out the transport and the client, and the simulator is driven the way
//! the conformance suite drives every simulator.

use crate::FcmClient;
use crate::sim::Simulator;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, ErrorKind, Message, Recipient, Registry};

fn registry() -> Registry {
    let mut r = Registry::new();
    crate::register(&mut r);
    r
}

#[tokio::test]
async fn register_and_connect_give_a_transport_and_the_client() {
    let sim = Simulator::start().await;
    let r = registry();
    assert_eq!(r.schemes(), ["fcm"]);
    let conn = r.connect(&sim.dsn()).unwrap();
    assert_eq!(conn.provider(), "fcm");
    let push = conn.as_transport().expect("FCM carries messages");
    assert!(push.capabilities().push);
    let client = conn.downcast::<FcmClient>().expect("the client is the service");
    assert_eq!(client.config().project_id, "switchboard-sim");
    let e = r
        .connect("fcm://p@default?credentials=/nonexistent/sa.json")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn the_registry_simulator_is_driven_through_simulated() {
    let r = registry();
    let factory = r.find("fcm").and_then(|p| p.simulator()).expect("FCM has a simulator");
    let sim = factory.start(SimOptions::default()).await.unwrap();
    assert_eq!(sim.provider(), "fcm");
    let push = r.connect(&sim.dsn()).unwrap().into_transport().unwrap();
    let to = sim.recipient().expect("FCM has recipients");
    let receipt = push
        .send(&Message::push(to.clone(), "Order #72", "Paid"))
        .await
        .unwrap();
    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].id.as_str(), sent[0].text.as_str()),
        (receipt.provider_id(), "Paid")
    );
    assert_eq!(sent[0].status, "accepted");
    let Recipient::PushToken(token) = &to else {
        panic!("a push token: {to:?}")
    };
    assert_eq!(&sent[0].to, token);

    // An HTTP fault through the shared vocabulary: a 503 before FCM acted is retried, then accepted.
    sim.fail_next(Fault::Status(503));
    push.send(&Message::push(to.clone(), "Again", "Paid")).await.unwrap();
    assert_eq!(sim.sent().len(), 2);

    // Push has no callbacks: nothing moves, nothing is pushed, no event can be triggered.
    sim.advance().await;
    assert!(sim.pushed().is_empty() && sim.triggers().is_empty());
    let e = sim.trigger("delivered", "http://127.0.0.1:9/hook").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(sim.rate_limit_fault(5).is_none());
}

#[tokio::test]
async fn bad_credentials_and_another_address_come_from_the_simulator() {
    let sim = Simulator::start().await;
    let r = registry();
    let bad = r
        .connect(&Simulated::dsn_with_bad_credentials(&sim).unwrap())
        .unwrap()
        .into_transport()
        .unwrap();
    let e = bad
        .send(&Message::push(sim.recipient().unwrap(), "t", "b"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Auth, Dispatch::NotSent, Some("invalid_grant"))
    );
    assert_eq!(sim.send_requests(), 0);

    // Sends go to the other address; the token still comes from the simulator.
    let other = Simulator::start().await;
    let moved = r
        .connect(&sim.dsn_at(&other.uri()).unwrap())
        .unwrap()
        .into_transport()
        .unwrap();
    let e = moved
        .send(&Message::push(sim.recipient().unwrap(), "t", "b"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (ErrorKind::Auth, Some("UNAUTHENTICATED")),
        "{e}"
    );
    // The stranger's refused token request, then a token, FCM's refusal of it, one fresh token, refused
    // again: the pipeline repeats once with fresh credentials, not more.
    assert_eq!((sim.token_requests(), other.send_requests()), (3, 2));

    let e = Simulator::start_with(SimOptions::default().port(sim_port(&sim)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "the port is taken: {e}");
}

fn sim_port(sim: &Simulator) -> u16 {
    url::Url::parse(&sim.uri()).unwrap().port().unwrap()
}

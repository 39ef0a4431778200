//! Registration and the shared simulator vocabulary: TeleCMI found by scheme in a registry, connected
//! from a DSN as a service (the click-to-call client) and a webhook source, and its simulator driven
//! through `Simulated` alone.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{SIM_USERS, SIM_WEBHOOK_SECRET};
use crate::{CallRequest, TeleCmiClient};
use switchboard_core::registry::Registry;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{CallState, Dispatch, ErrorKind, Event, PhoneNumber};

fn registry() -> Registry {
    let mut r = Registry::new();
    crate::register(&mut r);
    r
}

async fn started(options: SimOptions) -> Arc<dyn Simulated> {
    let provider = registry().find("telecmi").unwrap();
    provider.simulator().unwrap().start(options).await.unwrap()
}

fn customer() -> PhoneNumber {
    PhoneNumber::parse("+91 98123 45678", None).unwrap()
}

#[tokio::test]
async fn a_dsn_connects_the_client_and_a_webhook_source_not_a_transport() {
    let sim = started(SimOptions::default()).await;
    let conn = registry().connect(&sim.dsn()).unwrap();
    assert_eq!(conn.provider(), "telecmi");
    assert!(conn.as_transport().is_none(), "TeleCMI carries no messages");
    let e = conn.clone().into_transport().unwrap_err();
    assert!(e.to_string().contains("webhook source or client"), "{e}");
    let source = conn.webhook_source().unwrap();
    assert_eq!(source.provider(), "telecmi");
    let client = conn.downcast::<TeleCmiClient>().unwrap();

    let placed = client
        .click_to_call(&CallRequest::new(SIM_USERS[0].0, customer()).with_correlation("deal-1"))
        .await
        .unwrap();
    assert_eq!(sim.sent()[0].id, placed.request_id.clone().unwrap());

    // The webhook source verifies with the DSN's secret.
    let sink = WebhookSink::start().await;
    let made = sim.trigger("call.answered", &sink.uri()).await.unwrap();
    let handled = source.handle_webhook(&made).await.unwrap();
    assert!(matches!(&handled.events[..], [Event::Call(c)] if c.state == CallState::Answered));
}

#[tokio::test]
async fn the_host_policy_still_allows_no_one_by_default() {
    let sim = started(SimOptions::default()).await;
    let dsn = sim.dsn();
    let without_allow = dsn.split("&allow=").next().unwrap().to_owned();
    assert!(!without_allow.contains("allow="));
    let client = registry()
        .connect(&without_allow)
        .unwrap()
        .downcast::<TeleCmiClient>()
        .unwrap();
    let e = client
        .click_to_call(&CallRequest::new(SIM_USERS[0].0, customer()))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Rejected, Dispatch::NotSent));
    assert!(sim.sent().is_empty(), "nothing reached TeleCMI");
}

#[tokio::test]
async fn the_simulator_through_the_shared_vocabulary() {
    let sink = WebhookSink::start().await;
    let sim = started(SimOptions::default().webhook_url(format!("{}/hooks/telecmi", sink.uri()))).await;
    assert_eq!(sim.provider(), "telecmi");
    assert!(sim.recipient().is_none(), "not a message transport");
    let client = registry()
        .connect(&sim.dsn())
        .unwrap()
        .downcast::<TeleCmiClient>()
        .unwrap();
    let placed = client
        .click_to_call(&CallRequest::new(SIM_USERS[0].0, customer()).with_correlation("deal-2"))
        .await
        .unwrap();
    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, placed.request_id.clone().unwrap());
    assert_eq!(
        (sent[0].to.as_str(), sent[0].status.as_str()),
        ("919812345678", "initiated")
    );

    sim.advance().await;
    assert_eq!(sim.sent()[0].status, "completed");
    let pushed = sim.pushed();
    assert!(pushed.len() >= 5, "live events and CDRs: {}", pushed.len());
    let received = sink.wait_for(pushed.len(), Duration::from_secs(5)).await;
    assert_eq!(received.len(), pushed.len());
    let mut states = Vec::new();
    for hook in &received {
        for e in client.handle_webhook(hook).await.unwrap() {
            if let Event::Call(c) = e {
                assert_eq!(c.correlation.as_deref(), Some("deal-2"));
                states.push(c.state);
            }
        }
    }
    assert_eq!(states.first(), Some(&CallState::Ringing));
    assert!(states.contains(&CallState::Answered) && states.contains(&CallState::Completed));
}

#[tokio::test]
async fn triggers_push_one_tokened_payload_each() {
    let sink = WebhookSink::start().await;
    let sim = started(SimOptions::default()).await;
    assert_eq!(sim.triggers(), ["call.answered", "call.ended", "cdr"]);
    let client = TeleCmiClient::from_dsn_str(&sim.dsn()).unwrap();
    for (event, state) in [
        ("call.answered", CallState::Answered),
        ("call.ended", CallState::Completed),
        ("cdr", CallState::Completed),
    ] {
        let made = sim
            .trigger(event, &format!("{}/hooks/telecmi", sink.uri()))
            .await
            .unwrap();
        assert_eq!(made.query_param("token").as_deref(), Some(SIM_WEBHOOK_SECRET));
        let notes = client.decode_webhook(&made).unwrap();
        assert_eq!(notes.len(), 1, "{event}");
        let events = client.handle_webhook(&made).await.unwrap();
        assert!(
            matches!(&events[..], [Event::Call(c)] if c.state == state),
            "{event}: {events:?}"
        );
    }
    assert_eq!(sink.wait_for(3, Duration::from_secs(5)).await.len(), 3);
    assert_eq!(sim.pushed().len(), 3);
    assert!(sim.sent().is_empty(), "a trigger places no call");
    let e = sim.trigger("delivered", &sink.uri()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn conformance_hooks() {
    let sim = started(SimOptions::default()).await;
    let bad = TeleCmiClient::from_dsn_str(&sim.dsn_with_bad_credentials().unwrap()).unwrap();
    let e = bad
        .click_to_call(&CallRequest::new(SIM_USERS[0].0, customer()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(sim.dsn_at("http://127.0.0.1:9").unwrap().contains("@127.0.0.1:9?"));
}

//! The surface every provider shares: registration and connection by DSN, the simulator's shared
//! vocabulary (through the registry's factory), its triggers, and the answer Twilio expects.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{SIM_AUTH_TOKEN, SIM_FROM, Simulator};
use crate::webhook::SIGNATURE_HEADER;
use crate::{EMPTY_TWIML, SCHEME, TwilioClient, TwilioTransport, register};
use switchboard_core::registry::Registry;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::{Fault, WebhookSink};
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Event, Message, StatusReport, Transport, WebhookRequest};

use super::{TO, n};

fn registry() -> Registry {
    let mut r = Registry::new();
    register(&mut r);
    r
}

/// The one delivery report a pushed webhook carries.
async fn report_of(t: &dyn Transport, req: &WebhookRequest) -> StatusReport {
    match &t.handle_webhook(req).await.unwrap().events[..] {
        [Event::Delivery(r)] => r.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn register_and_connect_give_a_transport_and_the_client() {
    let sim = Simulator::start().await;
    let r = registry();
    assert_eq!(r.schemes(), vec![SCHEME]);
    let p = r.find(SCHEME).expect("registered");
    assert!(!p.summary().is_empty() && p.dsn_form().starts_with("twilio://"));
    assert!(p.simulator().is_some(), "the registry can start the simulator");

    let conn = r.connect(&sim.dsn()).unwrap();
    assert_eq!(conn.provider(), SCHEME);
    let client = conn.downcast::<TwilioClient>().expect("the typed client");
    let t = conn.into_transport().unwrap();
    assert_eq!(t.provider(), SCHEME);
    let receipt = t.send(&Message::sms(n(TO), "x")).await.unwrap();
    assert_eq!(sim.sent()[0].id, receipt.provider_id());
    assert_eq!(
        client.fetch_message(receipt.provider_id()).await.unwrap().sid,
        receipt.provider_id()
    );

    let e = r.connect("twilio://AC123@default?from=%2B15005550006").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(!e.to_string().contains("AC123"));
}

#[tokio::test]
async fn the_simulated_vocabulary_drives_a_send_to_delivered() {
    let sink = WebhookSink::start().await;
    let factory = registry().find(SCHEME).and_then(|p| p.simulator()).unwrap();
    let sim: Arc<dyn Simulated> = factory
        .start(SimOptions::default().webhook_url(format!("{}/hooks/twilio", sink.uri())))
        .await
        .unwrap();
    assert_eq!(sim.provider(), SCHEME);
    let t = TwilioTransport::from_dsn_str(&sim.dsn()).unwrap();
    let to = sim.recipient().expect("an SMS recipient");
    let receipt = t.send(&Message::to(to, "Your order has shipped")).await.unwrap();

    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (
            sent[0].id.as_str(),
            sent[0].to.as_str(),
            sent[0].text.as_str(),
            sent[0].status.as_str()
        ),
        (receipt.provider_id(), TO, "Your order has shipped", "queued")
    );
    assert!(!format!("{sent:?}").contains("4155552671"), "records mask the number");

    let mut statuses = Vec::new();
    for _ in 0..3 {
        sim.advance().await;
        statuses.push(sim.sent()[0].status.clone());
    }
    assert_eq!(statuses, vec!["sending", "sent", "delivered"]);
    let pushed = sim.pushed();
    assert_eq!(pushed.len(), 3, "a signed status callback a step, to the account's URL");
    assert!(pushed.iter().all(|p| p.header(SIGNATURE_HEADER).is_some()));
    assert_eq!(sink.wait_for(3, Duration::from_secs(5)).await.len(), 3);
    let last = report_of(&t, &pushed[2]).await;
    assert_eq!(
        (last.provider_id.as_str(), last.status),
        (receipt.provider_id(), DeliveryStatus::Delivered)
    );

    // A fault before Twilio created anything (503): the create is repeated, and made once.
    sim.fail_next(Fault::Status(503));
    t.send(&Message::sms(n(TO), "y")).await.unwrap();
    assert_eq!(sim.sent().len(), 2);
    assert_eq!(sim.faults().pending(), 0);
    // A fault after Twilio created it: never repeated, and said to be maybe sent.
    sim.fail_next(Fault::AfterHandling(Box::new(Fault::Status(502))));
    let e = t.send(&Message::sms(n(TO), "z")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(sim.sent().len(), 3);

    // The conformance hooks: bad credentials are refused, another base URL is used as it is.
    let bad = TwilioTransport::from_dsn_str(&sim.dsn_with_bad_credentials().unwrap()).unwrap();
    let e = bad.send(&Message::sms(n(TO), "w")).await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("20003")));
    let elsewhere = sim.dsn_at("http://127.0.0.1:9").unwrap();
    assert!(
        elsewhere.contains(&format!(":{SIM_AUTH_TOKEN}@127.0.0.1:9?")),
        "{elsewhere}"
    );
}

#[tokio::test]
async fn triggers_push_signed_events_the_transport_accepts() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::answering(200, EMPTY_TWIML).await;
    let t = TwilioTransport::from_dsn_str(&sim.dsn()).unwrap();
    assert_eq!(sim.triggers(), &["delivered", "failed", "inbound"]);
    let url = format!("{}/hooks/twilio", sink.uri());

    // Before anything was sent, the callback names a message the account never sent.
    let early = report_of(&t, &sim.trigger("delivered", &url).await.unwrap()).await;
    assert!(early.provider_id.starts_with("SM") && sim.message(&early.provider_id).is_none());

    let receipt = t.send(&Message::sms(n(TO), "x")).await.unwrap();
    let r = report_of(&t, &sim.trigger("delivered", &url).await.unwrap()).await;
    assert_eq!(
        (r.provider_id.as_str(), r.status),
        (receipt.provider_id(), DeliveryStatus::Delivered)
    );
    let r = report_of(&t, &sim.trigger("failed", &url).await.unwrap()).await;
    assert_eq!(
        (r.status, r.error_code.as_deref()),
        (DeliveryStatus::Failed, Some("30008"))
    );
    assert_eq!(
        sim.message(receipt.provider_id()).unwrap().status,
        "queued",
        "state unchanged"
    );

    let inbound = sim.trigger("inbound", &url).await.unwrap();
    match &t.handle_webhook(&inbound).await.unwrap().events[..] {
        [Event::Inbound(m)] => {
            assert_eq!((m.from.as_str(), m.to.as_deref()), (TO, Some(SIM_FROM)));
            let kept = sim.message(&m.provider_id).expect("the simulator keeps it");
            assert_eq!(kept.direction, "inbound");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.sent().len(), 1, "an incoming message is not one the account sent");
    assert_eq!(sink.wait_for(4, Duration::from_secs(5)).await.len(), 4);
    assert_eq!(sim.acknowledged(), vec![true; 4]);

    let e = sim.trigger("call.answered", &url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(sim.pushed().len(), 4);
}

#[tokio::test]
async fn handled_webhooks_are_answered_empty_twiml_as_xml() {
    let sim = Simulator::start().await;
    let t = TwilioTransport::from_dsn_str(&sim.dsn()).unwrap();
    for event in ["delivered", "inbound"] {
        let req = sim.trigger(event, "http://127.0.0.1:9/hooks/twilio").await.unwrap();
        let handled = t.handle_webhook(&req).await.unwrap();
        assert_eq!(handled.events.len(), 1);
        assert_eq!(handled.answer.status, 200);
        assert_eq!(&handled.answer.body[..], EMPTY_TWIML.as_bytes());
        assert_eq!(handled.answer.content_type, Some("text/xml; charset=utf-8"));
    }
    assert_eq!(sim.acknowledged(), vec![false, false], "nobody listened on port 9");
}

#[tokio::test]
async fn a_standalone_simulator_moves_messages_by_itself() {
    // What `switchboard sim twilio --port P` runs: a chosen port, no request recording, a timer.
    let sim = Simulator::start_with(SimOptions::default().port(0)).await.unwrap();
    let _timer = sim.advance_every(Duration::from_millis(5));
    let t = TwilioTransport::from_dsn_str(&sim.dsn()).unwrap();
    let r = t.send(&Message::sms(n(TO), "x")).await.unwrap();
    let mut status = DeliveryStatus::Queued;
    for _ in 0..400 {
        status = t.status(r.provider_id()).await.unwrap().status;
        if status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(status, DeliveryStatus::Delivered);
    assert_eq!(
        sim.message(r.provider_id()).unwrap().history,
        vec!["queued", "sending", "sent", "delivered"]
    );
}

//! The surface every provider shares: registration and connection by DSN, the simulator's shared
//! vocabulary (through the registry's factory), its triggers, and the answer SMS.ru expects.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{SIM_WEBHOOK_SECRET, Simulator};
use crate::{CALLBACK_ANSWER, SCHEME, SmsRuClient, SmsRuTransport, register};
use switchboard_core::registry::Registry;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::{Fault, WebhookSink};
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Event, Message, Transport, WebhookRequest};

use super::n;

fn registry() -> Registry {
    let mut r = Registry::new();
    register(&mut r);
    r
}

/// The one delivery report a pushed callback carries.
async fn report_of(t: &dyn Transport, req: &WebhookRequest) -> switchboard_core::StatusReport {
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
    assert!(!p.summary().is_empty() && p.dsn_form().starts_with("smsru://"));
    assert!(p.simulator().is_some(), "the registry can start the simulator");

    let conn = r.connect(&sim.dsn()).unwrap();
    assert_eq!(conn.provider(), SCHEME);
    let client = conn.downcast::<SmsRuClient>().expect("the typed client");
    assert_eq!(client.balance().await.unwrap().balance.to_minor_units(), Some(100_000));
    let t = conn.into_transport().unwrap();
    assert_eq!(t.provider(), SCHEME);
    let receipt = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    assert_eq!(sim.sent()[0].id, receipt.provider_id());

    let e = r.connect("smsru://default?from=Shop").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(r.connect("mitto://K@default").is_err(), "only SMS.ru is registered");
}

#[tokio::test]
async fn the_simulated_vocabulary_drives_a_send_to_delivered() {
    let sink = WebhookSink::answering(200, CALLBACK_ANSWER).await;
    let factory = registry().find(SCHEME).and_then(|p| p.simulator()).unwrap();
    let sim: Arc<dyn Simulated> = factory
        .start(SimOptions::default().webhook_url(format!("{}/hooks/smsru", sink.uri())))
        .await
        .unwrap();
    assert_eq!(sim.provider(), SCHEME);
    let t = SmsRuTransport::from_dsn_str(&sim.dsn()).unwrap();
    let to = sim.recipient().expect("an SMS recipient");
    let receipt = t.send(&Message::to(to, "Заказ 17 в пути")).await.unwrap();

    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (
            sent[0].id.as_str(),
            sent[0].to.as_str(),
            sent[0].text.as_str(),
            sent[0].status.as_str()
        ),
        (receipt.provider_id(), "79255070602", "Заказ 17 в пути", "100")
    );
    assert!(!format!("{sent:?}").contains("79255070602"), "records mask the number");

    let mut statuses = Vec::new();
    for _ in 0..3 {
        sim.advance().await;
        statuses.push(sim.sent()[0].status.clone());
    }
    assert_eq!(statuses, vec!["101", "102", "103"]);
    let pushed = sim.pushed();
    assert_eq!(pushed.len(), 3, "one callback a step, to the URL of the options");
    assert_eq!(sink.wait_for(3, Duration::from_secs(5)).await.len(), 3);
    let last = report_of(&t, &pushed[2]).await;
    assert_eq!(
        (last.provider_id.as_str(), last.status),
        (receipt.provider_id(), DeliveryStatus::Delivered)
    );
    assert_eq!(
        t.status(receipt.provider_id()).await.unwrap().status,
        DeliveryStatus::Delivered
    );

    // A fault before SMS.ru took anything (503): the send is repeated, and taken once.
    sim.fail_next(Fault::Status(503));
    t.send(&Message::sms(n("+79255070603"), "y")).await.unwrap();
    assert_eq!(sim.sent().len(), 2);
    assert_eq!(sim.faults().pending(), 0);
    // A fault after SMS.ru took it: never repeated, and said to be maybe sent.
    sim.fail_next(Fault::AfterHandling(Box::new(Fault::Status(502))));
    let e = t.send(&Message::sms(n("+79255070604"), "z")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(sim.sent().len(), 3);

    // The conformance hooks: bad credentials are refused, another base URL is used as it is.
    let bad = SmsRuTransport::from_dsn_str(&sim.dsn_with_bad_credentials().unwrap()).unwrap();
    let e = bad.send(&Message::sms(n("+79255070603"), "y")).await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("200")));
    let elsewhere = sim.dsn_at("http://127.0.0.1:9").unwrap();
    assert!(
        elsewhere.contains("@127.0.0.1:9?") && elsewhere.contains(SIM_WEBHOOK_SECRET),
        "{elsewhere}"
    );
    assert_eq!(
        sim.rate_limit_fault(5),
        None,
        "SMS.ru has no rate-limit answer of its own"
    );
}

#[tokio::test]
async fn triggers_push_tokened_events_the_transport_accepts() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::answering(200, CALLBACK_ANSWER).await;
    let t = SmsRuTransport::from_dsn_str(&sim.dsn()).unwrap();
    let receipt = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    assert_eq!(sim.triggers(), &["delivered", "failed"]);

    let url = format!("{}/hooks/smsru", sink.uri());
    let delivered = sim.trigger("delivered", &url).await.unwrap();
    assert_eq!(delivered.query_param("token").as_deref(), Some(SIM_WEBHOOK_SECRET));
    let r = report_of(&t, &delivered).await;
    assert_eq!(
        (r.provider_id.as_str(), r.status, r.raw_status.as_str()),
        (receipt.provider_id(), DeliveryStatus::Delivered, "103")
    );
    let failed = sim.trigger("failed", &url).await.unwrap();
    let r = report_of(&t, &failed).await;
    assert_eq!(
        (r.status, r.error_code.as_deref()),
        (DeliveryStatus::Failed, Some("107"))
    );
    let got = sink.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 2);
    assert_eq!(report_of(&t, &got[1]).await.status, DeliveryStatus::Failed);
    assert_eq!(sim.acknowledged(), vec![true, true]);
    assert_eq!(
        sim.message(receipt.provider_id()).unwrap().status_code,
        100,
        "state unchanged"
    );

    let e = sim.trigger("inbound", &url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(sim.pushed().len(), 2);
}

#[tokio::test]
async fn handled_callbacks_are_answered_100_as_plain_text() {
    let sim = Simulator::start().await;
    let t = SmsRuTransport::from_dsn_str(&sim.dsn()).unwrap();
    let req = sim
        .trigger("delivered", "http://127.0.0.1:9/hooks/smsru")
        .await
        .unwrap();
    let handled = t.handle_webhook(&req).await.unwrap();
    assert_eq!(handled.events.len(), 1);
    assert_eq!(handled.answer.status, 200);
    assert_eq!(&handled.answer.body[..], CALLBACK_ANSWER.as_bytes());
    assert_eq!(handled.answer.content_type, Some("text/plain; charset=utf-8"));
    assert_eq!(sim.acknowledged(), vec![false], "nobody listened on port 9");
}

#[tokio::test]
async fn a_standalone_simulator_moves_messages_by_itself() {
    // What `switchboard sim smsru --port P` runs: a chosen port, no request recording, a timer.
    let sim = Simulator::start_with(SimOptions::default().port(0)).await.unwrap();
    assert!(sim.dsn().contains(&sim.uri().replace("http://", "@")));
    let _timer = sim.advance_every(Duration::from_millis(5));
    let t = SmsRuTransport::from_dsn_str(&sim.dsn()).unwrap();
    let r = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    let mut status = DeliveryStatus::Queued;
    for _ in 0..400 {
        status = t.status(r.provider_id()).await.unwrap().status;
        if status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(status, DeliveryStatus::Delivered);
    assert_eq!(sim.message(r.provider_id()).unwrap().history, vec![100, 101, 102, 103]);
    assert!(sim.requests().await.is_empty(), "recording is off on a chosen port");
}

//! `DinstarTransport` as a core `Transport`: from a DSN, `send`/`send_many` batching, receipts whose
//! provider id is the `user_id`, `status`, and reconciliation in the transport path.

use std::time::Duration;
use switchboard_core::simulated::Simulated;

use crate::sim::{LossMode, Simulator};
use crate::tests::{config_for, number, numbers, sms};
use crate::{DinstarTransport, SCHEME};
use switchboard_core::testkit::Fault;
use switchboard_core::{DeliveryStatus, Dispatch, Dsn, ErrorKind, Message, Recipient, Transport};

fn from_dsn(dsn: &str) -> DinstarTransport {
    DinstarTransport::from_dsn(&Dsn::parse(dsn).unwrap()).unwrap()
}

#[tokio::test]
async fn send_one_and_look_it_up_by_the_receipt() {
    let sim = Simulator::start().await;
    let t = from_dsn(&sim.dsn());
    assert_eq!(t.provider(), SCHEME);
    let caps = t.capabilities();
    assert!(caps.sms && caps.unicode && caps.status && caps.delivery_reports && caps.inbound && !caps.email);
    let m = Message::sms(number(0), "Porosia juaj u dërgua");
    let r = t.send(&m).await.unwrap();
    assert_eq!(r.transport, SCHEME);
    assert_eq!(r.message_id, m.id);
    assert_eq!(r.status, DeliveryStatus::Queued);
    assert_eq!(r.raw["user_id"].as_u64().unwrap().to_string(), r.provider_id());
    assert!(r.raw["task_id"].is_u64());
    assert_eq!(sms(&sim)[0].encoding, "unicode");
    sim.advance().await;
    sim.advance().await;
    let s = t.status(r.provider_id()).await.unwrap();
    assert_eq!(s.status, DeliveryStatus::Delivered);
    assert_eq!(s.recipient, Some(Recipient::Phone(number(0))));
    assert_eq!(
        t.status("not-a-number").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn send_many_batches_same_texts_and_keeps_order() {
    let sim = Simulator::start().await;
    let t = from_dsn(&sim.dsn());
    let mut msgs = Vec::new();
    for (i, n) in numbers(300).into_iter().enumerate() {
        msgs.push(Message::sms(n, if i % 3 == 0 { "A" } else { "B" }));
    }
    msgs.insert(5, Message::to(Recipient::email("a@b.co").unwrap(), "not an SMS"));
    let results = t.send_many(&msgs).await;
    assert_eq!(results.len(), 301);
    assert_eq!(results[5].as_ref().unwrap_err().kind(), ErrorKind::Unsupported);
    // 100 "A" → 1 request, 200 "B" → 2 requests.
    assert_eq!(sim.stats().authorized_path("/api/send_sms"), 3);
    let sent = sms(&sim);
    assert_eq!(sent.len(), 300);
    for (m, r) in msgs.iter().zip(&results) {
        let Ok(r) = r else { continue };
        assert_eq!(r.message_id, m.id);
        let s = sent.iter().find(|s| s.user_id.to_string() == r.provider_id()).unwrap();
        assert_eq!(s.text, m.text);
        assert_eq!(Some(s.number.as_str()), m.to.phone().map(|p| p.digits()));
    }
}

#[tokio::test]
async fn a_send_that_times_out_after_landing_is_reported_sent_once() {
    let sim = Simulator::start().await;
    let t = DinstarTransport::new(config_for(&sim.dsn())).unwrap();
    t.client().query_sms_in_queue().await.unwrap();
    sim.faults().push(Fault::Delay(Duration::from_secs(3)));
    let msgs: Vec<Message> = numbers(4).into_iter().map(|n| Message::sms(n, "Hi")).collect();
    let results = t.send_many(&msgs).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(results[0].as_ref().unwrap().status, DeliveryStatus::Accepted);
    assert_eq!(sim.sent().len(), 4);
}

#[tokio::test]
async fn a_send_lost_before_the_gateway_is_sent_exactly_once() {
    let sim = Simulator::start().await;
    let proxy = sim
        .lossy_proxy("/api/send_sms", LossMode::DropBeforeForward, 1)
        .await
        .unwrap();
    let t = DinstarTransport::new(config_for(&sim.dsn_at(&proxy).unwrap())).unwrap();
    let r = t.send(&Message::sms(number(0), "Hi")).await.unwrap();
    assert_eq!(sim.sent().len(), 1);
    assert_eq!(sms(&sim)[0].user_id.to_string(), r.provider_id());
}

#[tokio::test]
async fn without_reconciliation_an_uncertain_send_is_maybe_sent() {
    let sim = Simulator::start().await;
    let proxy = sim
        .lossy_proxy("/api/send_sms", LossMode::DropAfterAccept, 1)
        .await
        .unwrap();
    let t = from_dsn(&format!("{}&reconcile=false", sim.dsn_at(&proxy).unwrap()));
    let e = t.send(&Message::sms(number(0), "Hi")).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::MaybeSent);
    assert!(!e.is_safe_to_retry(false));
}

#[tokio::test]
async fn invalid_input_reaches_every_message_of_its_group() {
    let sim = Simulator::start().await;
    let t = from_dsn(&sim.dsn());
    let long = "x".repeat(1501);
    let msgs = vec![
        Message::sms(number(0), long.clone()),
        Message::sms(number(1), "fine"),
        Message::sms(number(2), long),
    ];
    let r = t.send_many(&msgs).await;
    assert_eq!(r[0].as_ref().unwrap_err().kind(), ErrorKind::InvalidInput);
    assert!(r[1].is_ok());
    assert_eq!(r[2].as_ref().unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(sim.sent().len(), 1);
}

#[tokio::test]
async fn dsn_options_reach_the_wire() {
    let sim = Simulator::start().await;
    let t = from_dsn(&format!(
        "{}&port=2&encoding=unicode&status_report=false&numbers=e164",
        sim.dsn()
    ));
    t.send(&Message::sms(number(0), "plain ascii")).await.unwrap();
    let s = &sms(&sim)[0];
    assert_eq!(
        (s.port, s.encoding.as_str(), s.request_status_report),
        (2, "unicode", false)
    );
    assert_eq!(s.number, number(0).as_e164());
    assert!(!t.capabilities().delivery_reports);
}

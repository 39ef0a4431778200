//! `MittoTransport` through the core `Transport` trait: DSN, send, send_many over the bulk endpoints,
//! status, capabilities.

use crate::MittoTransport;
use crate::sim::{SIM_API_KEY, Simulator};
use switchboard_core::{
    DeliveryStatus, Dispatch, Dsn, ErrorKind, Message, MessageId, PhoneNumber, Recipient, Transport,
};

fn phone(s: &str) -> PhoneNumber {
    PhoneNumber::parse(s, None).unwrap()
}

#[tokio::test]
async fn dsn_send_and_receipt() {
    let sim = Simulator::start().await;
    let mitto = MittoTransport::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    assert_eq!(mitto.provider(), "mitto");
    let caps = mitto.capabilities();
    assert!(caps.sms && caps.delivery_reports && !caps.status);
    assert!(mitto.supports(&Recipient::Phone(phone("+41751231234"))));
    assert!(!mitto.supports(&Recipient::email("a@b.co").unwrap()));

    let text = "Привет! ".repeat(10); // 80 UTF-16 units: two UCS-2 parts
    let m = Message::sms(phone("+41751231234"), text).with_from("Shop");
    let r = mitto.send(&m).await.unwrap();
    assert_eq!(r.transport, "mitto");
    assert_eq!(r.message_id, m.id);
    assert_eq!(r.segments.unwrap().segments, 2);
    assert_eq!(r.raw["responseCode"], 0);
    let stored = sim.message(r.provider_id()).unwrap();
    assert_eq!(
        (stored.from.as_str(), stored.kind.as_deref()),
        ("Shop", Some("Unicode"))
    );
    assert_eq!(stored.reference.as_deref(), Some(m.id.as_str()));

    let dbg = format!("{mitto:?}");
    assert!(!dbg.contains(SIM_API_KEY), "{dbg}");
}

#[tokio::test]
async fn legacy_status_is_unsupported_messaging_status_moves() {
    let sim = Simulator::start().await;
    let legacy = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let r = legacy.send(&Message::sms(phone("+41751231234"), "hi")).await.unwrap();
    let e = legacy.status(r.provider_id()).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unsupported, Dispatch::NotSent));

    let messaging = MittoTransport::from_dsn_str(&sim.dsn_messaging()).unwrap();
    assert!(messaging.capabilities().status);
    let r = messaging
        .send(&Message::sms(phone("+41751231234"), "hi"))
        .await
        .unwrap();
    let s1 = messaging.status(r.provider_id()).await.unwrap();
    assert_eq!((s1.status, s1.raw_status.as_str()), (DeliveryStatus::Sent, "sent"));
    assert!(s1.at.is_some());
    let s2 = messaging.status(r.provider_id()).await.unwrap();
    assert_eq!(s2.status, DeliveryStatus::Delivered);
    assert_eq!(s2.raw["deliveryStatus"], "delivered");
    assert_eq!(messaging.status("nope").await.unwrap_err().kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn send_many_uses_the_bulk_endpoint_and_keeps_order() {
    let sim = Simulator::start().await;
    let mitto = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let numbers = ["+41751231234", "+4915123456789", "+41751231234", "+41791234567"];
    let mut batch: Vec<Message> = numbers
        .iter()
        .map(|n| Message::sms(phone(n), "Flash sale today"))
        .collect();
    batch.insert(2, Message::sms(phone("+4915123456789"), "A different text"));
    batch.insert(4, Message::to(Recipient::email("a@b.co").unwrap(), "not an SMS"));
    let results = mitto.send_many(&batch).await;
    assert_eq!(results.len(), 6);
    assert_eq!(sim.bulk_requests(), 1, "the four equal texts went in one bulk request");
    assert_eq!(sim.sms_requests(), 1, "the odd one went alone");
    let email = results[4].as_ref().unwrap_err();
    assert_eq!(
        (email.kind(), email.dispatch()),
        (ErrorKind::Unsupported, Dispatch::NotSent)
    );
    for (i, r) in results.iter().enumerate().filter(|(i, _)| *i != 4) {
        let r = r.as_ref().unwrap();
        assert_eq!(r.message_id, batch[i].id, "result {i} answers message {i}");
        let stored = sim.message(r.provider_id()).unwrap();
        assert_eq!(stored.text, batch[i].text);
        assert_eq!(
            r.raw["id"],
            r.provider_id(),
            "each receipt keeps its own entry of the answer"
        );
        assert_eq!(
            Some(&stored.to),
            batch[i].to.phone().map(|p| p.digits().to_owned()).as_ref()
        );
    }
    let ids: std::collections::HashSet<&str> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.provider_id())
        .collect();
    assert_eq!(ids.len(), 5);
}

#[tokio::test]
async fn big_batches_are_split_into_bulk_requests_of_at_most_500() {
    let sim = Simulator::start().await;
    let mitto = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let to = phone("+41751231234");
    let batch: Vec<Message> = (0..1001).map(|_| Message::sms(to.clone(), "same text")).collect();
    let results = mitto.send_many(&batch).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        (sim.bulk_requests(), sim.sms_requests()),
        (2, 1),
        "500 + 500 in bulk, the last one alone"
    );
    assert_eq!(sim.sent().len(), 1001);
    assert_eq!(crate::transport::BULK_MAX_RECIPIENTS, 500);
}

#[tokio::test]
async fn a_refused_bulk_request_fails_every_member_alike() {
    let sim = Simulator::start().await;
    let mitto = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let batch: Vec<Message> = (0..3)
        .map(|i| Message::sms(phone("+41751231234"), "same").with_id(MessageId::new(format!("m{i}")).unwrap()))
        .collect();
    sim.fail_next_with_code(8);
    let results = mitto.send_many(&batch).await;
    for r in &results {
        let e = r.as_ref().unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch(), e.provider_code()),
            (ErrorKind::InvalidInput, Dispatch::Sent, Some("8"))
        );
    }
    sim.fail_next_with_code(1);
    for r in mitto.send_many(&batch).await {
        assert_eq!(r.unwrap_err().dispatch(), Dispatch::MaybeSent);
    }
}

#[tokio::test]
async fn send_many_on_the_messaging_api() {
    let sim = Simulator::start().await;
    let mitto = MittoTransport::from_dsn_str(&sim.dsn_messaging()).unwrap();
    let batch: Vec<Message> = ["+41751231234", "+4915123456789", "+41791234567"]
        .iter()
        .map(|n| Message::sms(phone(n), "Reminder: appointment at 10:00"))
        .collect();
    let results = mitto.send_many(&batch).await;
    assert_eq!(sim.messaging_sends(), 1);
    for (m, r) in batch.iter().zip(&results) {
        let r = r.as_ref().unwrap();
        let stored = sim.message(r.provider_id()).unwrap();
        assert_eq!(Some(stored.to), m.to.phone().map(|p| p.digits().to_owned()));
    }
}

#[tokio::test]
async fn missing_sender_and_wrong_recipient_kinds() {
    let sim = Simulator::start().await;
    let mitto = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let e = mitto.send(&Message::chat("@someone", "hi")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let e = mitto
        .send(&Message::sms(phone("+41751231234"), "hi").with_from("Way too long sender"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    assert!(sim.sent().is_empty());
}

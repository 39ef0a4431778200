//! `MightyCallTransport` through the core `Transport` trait.

use crate::MightyCallTransport;
use crate::sim::{SIM_API_KEY, SIM_BUSINESS_NUMBER_2, SIM_USER_KEY, Simulator};
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Message, PhoneNumber, Recipient, Transport};

fn customer() -> PhoneNumber {
    PhoneNumber::parse("+12025550143", None).unwrap()
}

#[tokio::test]
async fn send_and_follow_status_through_the_journal() {
    let sim = Simulator::start().await;
    let mc = MightyCallTransport::from_dsn_str(&sim.dsn()).unwrap();
    assert_eq!(mc.provider(), "mightycall");
    assert!(mc.capabilities().sms && mc.capabilities().status);
    let m = Message::sms(customer(), "Your table is ready");
    let r = mc.send(&m).await.unwrap();
    assert_eq!((r.transport.as_str(), &r.message_id), ("mightycall", &m.id));
    assert!(!r.provider_id().is_empty());
    let s = mc.status(r.provider_id()).await.unwrap();
    assert_eq!((s.status, s.raw_status.as_str()), (DeliveryStatus::Sent, "Sent"));
    assert_eq!(s.recipient.as_ref().and_then(Recipient::phone), Some(&customer()));
    let s = mc.status(r.provider_id()).await.unwrap();
    assert_eq!(s.status, DeliveryStatus::Delivered);
    assert!(s.at.is_some());
}

#[tokio::test]
async fn failed_delivery_shows_in_status() {
    let sim = Simulator::start().await;
    sim.fail_delivery_to(&customer());
    let mc = MightyCallTransport::from_dsn_str(&sim.dsn_classic()).unwrap();
    let r = mc.send(&Message::sms(customer(), "hi")).await.unwrap();
    sim.advance().await;
    sim.advance().await;
    sim.set_auto_advance(false);
    let s = mc.status(r.provider_id()).await.unwrap();
    assert_eq!(s.status, DeliveryStatus::Failed);
    assert!(s.status.is_failure());
}

#[tokio::test]
async fn from_overrides_and_wrong_recipients() {
    let sim = Simulator::start().await;
    let mc = MightyCallTransport::from_dsn_str(&sim.dsn()).unwrap();
    let r = mc
        .send(&Message::sms(customer(), "from sales").with_from(SIM_BUSINESS_NUMBER_2))
        .await
        .unwrap();
    assert_eq!(
        sim.entry(r.provider_id()).unwrap().business_number,
        SIM_BUSINESS_NUMBER_2
    );

    let e = mc
        .send(&Message::sms(customer(), "hi").with_from("Acme"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    let e = mc
        .send(&Message::sms(customer(), "hi").with_from("+12025550199"))
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::InvalidInput,
        "not a business number: MightyCall says so"
    );
    let e = mc
        .send(&Message::to(Recipient::email("a@b.co").unwrap(), "hi"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let e = mc.send(&Message::sms(customer(), "")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(sim.sends(), 1);
}

#[tokio::test]
async fn send_many_sends_one_request_per_message() {
    let sim = Simulator::start().await;
    let mc = MightyCallTransport::from_dsn_str(&sim.dsn()).unwrap();
    let batch: Vec<Message> = (0..4).map(|i| Message::sms(customer(), format!("note {i}"))).collect();
    let results = mc.send_many(&batch).await;
    assert_eq!(sim.sends(), 4, "receivers are never merged into one group conversation");
    assert_eq!(sim.token_stats().total(), 1);
    for (m, r) in batch.iter().zip(results) {
        let r = r.unwrap();
        assert_eq!(
            sim.entry(r.provider_id()).unwrap().text.as_deref(),
            Some(m.text.as_str())
        );
    }
}

#[tokio::test]
async fn nothing_secret_in_debug_or_errors() {
    let sim = Simulator::start().await;
    let mc = MightyCallTransport::from_dsn_str(&sim.dsn()).unwrap();
    mc.send(&Message::sms(customer(), "hi")).await.unwrap();
    let d = format!("{mc:?}");
    assert!(
        !d.contains(SIM_API_KEY) && !d.contains(SIM_USER_KEY) && !d.contains("at-"),
        "{d}"
    );
    assert!(!d.contains("2025550143"), "{d}");
    let bad = sim.dsn().replace(SIM_USER_KEY, "not-the-user-key");
    let e = MightyCallTransport::from_dsn_str(&bad)
        .unwrap()
        .send(&Message::sms(customer(), "hi"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("not-the-user-key") && !shown.contains(SIM_API_KEY),
        "{shown}"
    );
}

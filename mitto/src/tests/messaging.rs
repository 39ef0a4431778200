//! The messaging API (`/api/v1.1/Messages/send`, `sendbulk`, `GET /api/v1.1/Messages/{id}`) against the
//! simulator: sends, status progression, error answers.

use std::time::Duration;

use crate::sim::{SIM_API_KEY, SIM_TRAFFIC_ACCOUNT, Simulator};
use crate::{
    Flavour, MessagingBulkRequest, MessagingSendRequest, MittoClient, MittoConfig, SmsContent, map_delivery_status,
};
use switchboard_core::testkit::Fault;
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, PhoneNumber, RetryPolicy};

fn client_with(sim: &Simulator, key: &str, account: &str) -> MittoClient {
    let config = MittoConfig::builder(key)
        .api(Flavour::Messaging)
        .messaging_base_url(sim.uri())
        .traffic_account_id(account)
        .retry(
            RetryPolicy::default()
                .with_delays(Duration::from_millis(1), Duration::from_millis(2))
                .with_jitter(false),
        )
        .build()
        .unwrap();
    MittoClient::new(config).unwrap()
}

fn client(sim: &Simulator) -> MittoClient {
    client_with(sim, SIM_API_KEY, SIM_TRAFFIC_ACCOUNT)
}

fn ch() -> PhoneNumber {
    PhoneNumber::parse("+41751231234", None).unwrap()
}

fn send(to: &PhoneNumber, account: &str) -> MessagingSendRequest {
    MessagingSendRequest::new(account, to, SmsContent::new("Your code is 4821", "Acme"))
}

#[tokio::test]
async fn send_and_follow_the_delivery_status() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let r = c.send_message(&send(&ch(), SIM_TRAFFIC_ACCOUNT)).await.unwrap();
    assert_eq!(r.messages.len(), 1);
    let id = &r.messages[0].message_id;
    assert_eq!(r.messages[0].traffic_account_id.as_deref(), Some(SIM_TRAFFIC_ACCOUNT));
    assert_eq!(sim.message(id).unwrap().to, "41751231234");

    sim.set_auto_advance(false);
    let rec = c.get_message(id).await.unwrap();
    assert_eq!(rec.delivery_status.as_deref(), Some("accepted"));
    assert_eq!(rec.text.as_deref(), Some("Your code is 4821"));
    assert_eq!(rec.traffic_account_id.as_deref(), Some(SIM_TRAFFIC_ACCOUNT));
    assert!(rec.extra.is_empty(), "every field the simulator sends is typed");

    sim.set_auto_advance(true);
    let seen: Vec<DeliveryStatus> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            let rec = c.get_message(id).await.unwrap();
            v.push(map_delivery_status(rec.delivery_status.as_deref().unwrap()));
        }
        v
    };
    assert_eq!(
        seen,
        [
            DeliveryStatus::Sent,
            DeliveryStatus::Delivered,
            DeliveryStatus::Delivered
        ]
    );
    assert_eq!(sim.lookups(), 4);
}

#[tokio::test]
async fn failed_delivery_is_reported() {
    let sim = Simulator::start().await;
    sim.fail_delivery_to(&ch());
    let c = client(&sim);
    let id = c
        .send_message(&send(&ch(), SIM_TRAFFIC_ACCOUNT))
        .await
        .unwrap()
        .messages[0]
        .message_id
        .clone();
    crate::tests::settle(&sim).await;
    let rec = c.get_message(&id).await.unwrap();
    assert_eq!(
        map_delivery_status(rec.delivery_status.as_deref().unwrap()),
        DeliveryStatus::Failed
    );
    assert_eq!(rec.description.as_deref(), Some("Delivery failed"));
}

#[tokio::test]
async fn bulk_send_answers_one_id_per_destination() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let de = PhoneNumber::parse("+4915123456789", None).unwrap();
    let r = c
        .send_message_bulk(&MessagingBulkRequest::new(
            SIM_TRAFFIC_ACCOUNT,
            [ch(), de].iter(),
            SmsContent::new("Sale", "4179"),
        ))
        .await
        .unwrap();
    assert!(r.bulk_id.is_some());
    assert_eq!(r.messages.len(), 2);
    assert_eq!(sim.messaging_sends(), 1);
    assert_eq!(sim.message(&r.messages[1].message_id).unwrap().to, "4915123456789");
}

#[tokio::test]
async fn errors_keep_the_providers_words() {
    let sim = Simulator::start().await;
    // A key the account does not know: 401, nothing sent.
    let e = client_with(&sim, "nope", SIM_TRAFFIC_ACCOUNT)
        .send_message(&send(&ch(), SIM_TRAFFIC_ACCOUNT))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));

    // A traffic account the key does not own: 403.
    let e = client(&sim)
        .send_message(&send(&ch(), "someone-else"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.http_status(), Some(403));
    assert_eq!(
        e.provider_text(),
        Some("The traffic account does not belong to this API key")
    );

    // Unknown message: 404.
    let e = client(&sim).get_message("no-such-id").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.provider_text(), Some("Message not found"));

    // A 400 with Mitto's message.
    sim.faults().push(Fault::StatusJson(
        400,
        r#"{"message":"destination is invalid","code":"E17"}"#.into(),
    ));
    let e = client(&sim)
        .send_message(&send(&ch(), SIM_TRAFFIC_ACCOUNT))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        (e.provider_code(), e.provider_text()),
        (Some("E17"), Some("destination is invalid"))
    );
    assert_eq!(e.provider(), Some("mitto"));
}

#[tokio::test]
async fn messaging_sender_rules_differ_from_legacy() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    // numeric up to 16 digits, alphanumeric from 1 character
    let ok = MessagingSendRequest::new(SIM_TRAFFIC_ACCOUNT, &ch(), SmsContent::new("hi", "1234567890123456"));
    c.send_message(&ok).await.unwrap();
    let ok = MessagingSendRequest::new(SIM_TRAFFIC_ACCOUNT, &ch(), SmsContent::new("hi", "A"));
    c.send_message(&ok).await.unwrap();
    let bad = MessagingSendRequest::new(SIM_TRAFFIC_ACCOUNT, &ch(), SmsContent::new("hi", "12345678901234567"));
    let e = c.send_message(&bad).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    assert_eq!(sim.messaging_sends(), 2);
}

#[tokio::test]
async fn lookups_are_retried_sends_are_not() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let id = c
        .send_message(&send(&ch(), SIM_TRAFFIC_ACCOUNT))
        .await
        .unwrap()
        .messages[0]
        .message_id
        .clone();
    sim.faults().push(Fault::Status(502));
    assert!(c.get_message(&id).await.is_ok(), "a read is repeated after a 502");
    sim.faults().push(Fault::Status(502));
    let e = c.send_message(&send(&ch(), SIM_TRAFFIC_ACCOUNT)).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(sim.messaging_sends(), 1, "the ambiguous send was not repeated");
}

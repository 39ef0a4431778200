//! Delivery reports: the simulator pushes them to a sink, the transport verifies and decodes them.
//! Good, unsigned, wrong secret, no secret configured, malformed, and garbage that must not panic.

use crate::MittoTransport;
use crate::sim::{DlrMethod, SIM_API_KEY, SIM_WEBHOOK_SECRET, Simulator};
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{DeliveryStatus, ErrorKind, Event, Message, PhoneNumber, Transport, WebhookRequest};

fn ch() -> PhoneNumber {
    PhoneNumber::parse("+41751231234", None).unwrap()
}

fn delivery(events: &[Event]) -> Vec<(String, DeliveryStatus, String)> {
    events
        .iter()
        .map(|e| match e {
            Event::Delivery(r) => (r.provider_id.clone(), r.status, r.raw_status.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn legacy_reports_flow_from_simulator_to_events() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_callback_url(Simulator::callback_url_for(&format!("{}/hooks/mitto", sink.uri())));
    let mitto = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let msg = Message::sms(ch(), "hi");
    let receipt = mitto.send(&msg).await.unwrap();

    crate::tests::settle(&sim).await;
    let pushes = sim.pushed();
    assert_eq!(pushes.len(), 2, "sent, then delivered");

    let got = sink.wait_for(2, std::time::Duration::from_secs(2)).await;
    assert_eq!(
        got.iter().map(|r| r.body.clone()).collect::<Vec<_>>(),
        pushes.iter().map(|r| r.body.clone()).collect::<Vec<_>>(),
        "every push reached the receiver, as recorded"
    );
    let mut events = Vec::new();
    for request in &got {
        events.extend(mitto.handle_webhook(request).await.unwrap().events);
    }
    assert_eq!(
        delivery(&events),
        [
            (
                receipt.provider_id().to_owned(),
                DeliveryStatus::Sent,
                "Sent".to_owned()
            ),
            (
                receipt.provider_id().to_owned(),
                DeliveryStatus::Delivered,
                "Delivered".to_owned()
            ),
        ]
    );
    match &events[1] {
        Event::Delivery(r) => {
            // The reference is our message id, so a report names the message even without the receipt.
            assert_eq!(r.raw["reference"], msg.id.as_str());
            assert_eq!(
                r.recipient.as_ref().and_then(|x| x.phone()).map(|p| p.as_e164()),
                Some("+41751231234")
            );
            assert!(r.at.is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn get_callbacks_and_per_message_callback_urls() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_dlr_method(DlrMethod::Get);
    let callback = Simulator::callback_url_for(&format!("{}/dlr", sink.uri()));
    let dsn = format!("{}&callback={}", sim.dsn(), url_encode(&callback));
    let mitto = MittoTransport::from_dsn_str(&dsn).unwrap();
    let receipt = mitto.send(&Message::sms(ch(), "hi")).await.unwrap();
    assert_eq!(
        sim.message(receipt.provider_id()).unwrap().callback.as_deref(),
        Some(callback.as_str())
    );
    crate::tests::settle(&sim).await;
    let got = sink.wait_for(2, std::time::Duration::from_secs(2)).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].method, http::Method::GET);
    let events = mitto.handle_webhook(&got[1]).await.unwrap().events;
    assert_eq!(delivery(&events)[0].1, DeliveryStatus::Delivered);
}

#[tokio::test]
async fn messaging_api_reports_decode_too() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_callback_url(Simulator::callback_url_for(&sink.uri()));
    sim.fail_delivery_to(&ch());
    let mitto = MittoTransport::from_dsn_str(&sim.dsn_messaging()).unwrap();
    let receipt = mitto.send(&Message::sms(ch(), "hi")).await.unwrap();
    crate::tests::settle(&sim).await;
    let got = sink.wait_for(2, std::time::Duration::from_secs(2)).await;
    let events = mitto.handle_webhook(&got[1]).await.unwrap().events;
    let d = delivery(&events);
    assert_eq!(
        (d[0].0.as_str(), d[0].1),
        (receipt.provider_id(), DeliveryStatus::Failed)
    );
    match &events[0] {
        Event::Delivery(r) => assert_eq!(r.error_code.as_deref(), Some("1")),
        other => panic!("{other:?}"),
    }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn report(url: &str) -> WebhookRequest {
    WebhookRequest::post(url, r#"{"messageId":"abc","status":"Delivered","errorcode":"0"}"#)
        .with_header("content-type", "application/json")
}

#[tokio::test]
async fn unverified_reports_are_refused() {
    let sim = Simulator::start().await;
    let mitto = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let good = format!("https://h/hooks/mitto?token={SIM_WEBHOOK_SECRET}");
    assert_eq!(mitto.handle_webhook(&report(&good)).await.unwrap().events.len(), 1);

    let e = mitto
        .handle_webhook(&report("https://h/hooks/mitto"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "unsigned");
    let e = mitto
        .handle_webhook(&report("https://h/hooks/mitto?token=guess"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "wrong secret");
    assert!(!e.to_string().contains(SIM_WEBHOOK_SECRET));
    assert_eq!(e.provider(), Some("mitto"));

    // No secret configured: verification refuses to run.
    let no_secret = format!("mitto://{SIM_API_KEY}@127.0.0.1:9?from=Acme");
    let mitto = MittoTransport::from_dsn_str(&no_secret).unwrap();
    let e = mitto.handle_webhook(&report(&good)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn malformed_and_hostile_bodies_are_input_errors_never_panics() {
    let sim = Simulator::start().await;
    let mitto = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let url = format!("https://h/hooks/mitto?token={SIM_WEBHOOK_SECRET}");
    for body in [
        "{",
        "{}",
        "[{}]",
        "[1]",
        "null",
        "true",
        r#"{"messageId":"a"}"#,
        r#"{"status":"Delivered"}"#,
        r#"{"messageId":[1],"status":"sent"}"#,
        "%%%=&&=",
    ] {
        let e = mitto
            .handle_webhook(&WebhookRequest::post(url.clone(), body.to_owned()))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{body}");
    }
    // Pseudo-random bytes: any answer but a panic.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for n in 0..300 {
        let mut body = Vec::new();
        for _ in 0..(n % 64) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            body.push((x & 0xff) as u8);
        }
        if n % 3 == 0 {
            body.insert(0, b'{');
        }
        let _ = mitto.handle_webhook(&WebhookRequest::post(url.clone(), body)).await;
    }
}

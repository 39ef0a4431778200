//! Pushes from the gateway: all eight kinds through a real HTTP hop, the secret in the URL,
//! hostile bodies, and delivery reports matched back to the `user_id` of the send.

use std::time::Duration;

use crate::sim::{SIM_WEBHOOK_SECRET, Simulator};
use crate::tests::{config, numbers};
use crate::webhook::PushEvent;
use crate::{DinstarTransport, SmsBatch};
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{DeliveryStatus, ErrorKind, Event, Transport, WebhookRequest};

fn transport(sim: &Simulator) -> DinstarTransport {
    DinstarTransport::new(config(sim)).unwrap()
}

async fn sink_for(sim: &Simulator) -> WebhookSink {
    let sink = WebhookSink::start().await;
    sim.set_push_url(format!("{}/hooks/gsm?token={SIM_WEBHOOK_SECRET}", sink.uri()));
    sink
}

#[tokio::test]
async fn all_eight_kinds_arrive_and_decode() {
    let sim = Simulator::start().await;
    let sink = sink_for(&sim).await;
    let t = transport(&sim);
    assert_eq!(sim.push_all_kinds().await.unwrap(), 8);
    let got = sink.wait_for(8, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 8);
    let mut kinds = Vec::new();
    for req in &got {
        let push = t.webhook().push(req).unwrap();
        assert_eq!(push.sn.as_deref(), Some(sim.sn().as_str()));
        kinds.push(push.events[0].kind().to_owned());
        let events = t.handle_webhook(req).await.unwrap().events;
        assert_eq!(events.len(), 1);
        match (&push.events[0], &events[0]) {
            (PushEvent::Sms(_), Event::Inbound(m)) => {
                assert_eq!(m.provider_id, format!("{}:1", sim.sn()));
                assert_eq!(m.text, "test");
            }
            (PushEvent::SmsResult(_), Event::Delivery(s)) => assert_eq!(s.status, DeliveryStatus::Delivered),
            (PushEvent::SmsDeliverStatus(_), Event::Delivery(s)) => {
                assert_eq!(
                    (s.status, s.raw_status.as_str()),
                    (DeliveryStatus::Delivered, "status_code=0")
                )
            }
            (p, Event::Other { kind, raw }) => {
                assert_eq!(kind, &format!("dinstar.{}", p.kind()));
                assert_eq!(raw["sn"], sim.sn());
            }
            (p, e) => panic!("{p:?} became {e:?}"),
        }
    }
    assert_eq!(
        kinds,
        [
            "sms",
            "sms_result",
            "sms_deliver_status",
            "ussd",
            "register",
            "cdr",
            "device",
            "exception_info"
        ]
    );
}

#[tokio::test]
async fn pushes_without_the_secret_are_refused() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let body = sim.sample_pushes()[0].to_string();
    let unsigned = WebhookRequest::post("https://crm.example/hooks/gsm", body.clone());
    assert_eq!(t.handle_webhook(&unsigned).await.unwrap_err().kind(), ErrorKind::Auth);
    let wrong = WebhookRequest::post("https://crm.example/hooks/gsm?token=guess", body.clone());
    let e = t.handle_webhook(&wrong).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!e.to_string().contains(SIM_WEBHOOK_SECRET));
    // No secret configured: refuse to run at all.
    let mut cfg = config(&sim);
    cfg.webhook_secret = None;
    let open = DinstarTransport::new(cfg).unwrap();
    let ok_url = format!("https://crm.example/hooks/gsm?token={SIM_WEBHOOK_SECRET}");
    let e = open
        .handle_webhook(&WebhookRequest::post(ok_url.clone(), body))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    // Another gateway's push to this transport's URL.
    let other = r#"{"sn":"0000-0000-0000-0000","ussd":[{"port":1,"text":"x"}]}"#;
    let e = t
        .handle_webhook(&WebhookRequest::post(ok_url, other))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn hostile_bodies_never_panic() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let url = format!("https://crm.example/hooks/gsm?token={SIM_WEBHOOK_SECRET}");
    let mut bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\xff\xfe\x00".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        br#"{"sms":[{"incoming_sms_id":-1}]}"#.to_vec(),
        br#"{"sms_result":[{"status":7}]}"#.to_vec(),
        br#"{"sms_deliver_status":[{"status_code":1e400}]}"#.to_vec(),
        br#"{"register":{"port":1}}"#.to_vec(),
        format!(r#"{{"sms":[{}]}}"#, "[".repeat(200)).into_bytes(),
        vec![b'['; 100_000],
        vec![b' '; 2 * 1024 * 1024],
    ];
    // A little deterministic fuzz: every prefix of a real push.
    let real = sim.sample_pushes()[1].to_string().into_bytes();
    for i in 0..real.len() {
        bodies.push(real[..i].to_vec());
    }
    for b in bodies {
        let r = t.handle_webhook(&WebhookRequest::post(url.clone(), b)).await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
    let get = WebhookRequest::get(url.clone());
    assert_eq!(
        t.handle_webhook(&get).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn pushed_delivery_reports_are_matched_to_the_send() {
    let sim = Simulator::start().await;
    let sink = sink_for(&sim).await;
    let t = transport(&sim);
    let out = t
        .client()
        .send_batch(&SmsBatch::new("Hi").to_all(numbers(2)))
        .await
        .unwrap();
    sim.advance().await; // pushes sms_result SENT_OK
    sim.advance().await; // pushes sms_result DELIVERED and sms_deliver_status 0
    let got = sink.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 3);
    let mut events = Vec::new();
    for req in &got {
        events.extend(t.handle_webhook(req).await.unwrap().events);
    }
    let want: Vec<String> = out.submissions.iter().map(|s| s.user_id.to_string()).collect();
    let deliveries: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Delivery(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(deliveries.len(), 6);
    for d in &deliveries {
        assert!(want.contains(&d.provider_id), "{} not one of {want:?}", d.provider_id);
    }
    assert_eq!(
        deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Delivered)
            .count(),
        4
    );
}

#[tokio::test]
async fn pushed_and_polled_incoming_share_one_id() {
    let sim = Simulator::start().await;
    let sink = sink_for(&sim).await;
    let t = transport(&sim);
    sim.receive_inbound(1, "355691234567", "hello").await;
    let pushed = sink.wait_for(1, Duration::from_secs(5)).await;
    let events = t.handle_webhook(&pushed[0]).await.unwrap().events;
    let Event::Inbound(from_push) = &events[0] else {
        panic!("{events:?}")
    };
    let polled = t
        .poller(std::sync::Arc::new(switchboard_core::MemoryCursorStore::new()))
        .poll()
        .await
        .unwrap();
    assert_eq!(
        polled[0].provider_id, from_push.provider_id,
        "the host can dedupe across both"
    );
}

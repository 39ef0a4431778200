//! Delivery callbacks: registering them, the pushes the simulator makes, and what the transport
//! refuses.

use std::time::Duration;

use crate::sim::{SIM_API_ID, Simulator};
use crate::{CALLBACK_ANSWER, SmsRuConfig, SmsRuTransport};
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{ErrorKind, Event, Message, Transport, WebhookRequest};

use super::{SECRET, client, n, settle, transport};

#[tokio::test]
async fn callbacks_are_managed_through_the_api() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let url = format!("https://shop.example/hooks/smsru?token={SECRET}");
    let r = c.callback_add(&url).await.unwrap();
    assert_eq!(r.callback, vec![url.clone()]);
    assert!(!format!("{r:?}").contains(SECRET));
    assert_eq!(c.callback_get().await.unwrap().callback, vec![url.clone()]);
    let e = c.callback_add("ftp://nope").await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::InvalidInput, Some("901")));
    c.callback_del(&url).await.unwrap();
    let e = c.callback_del(&url).await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::NotFound, Some("902")));
    assert!(sim.callbacks().is_empty());
}

#[tokio::test]
async fn delivery_callbacks_end_to_end() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::answering(200, CALLBACK_ANSWER).await;
    let t = transport(&sim);
    t.client()
        .callback_add(&format!("{}/hooks/smsru?token={SECRET}", sink.uri()))
        .await
        .unwrap();
    let r = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    settle(&sim).await;
    assert_eq!(sim.message(r.provider_id()).unwrap().status_code, 103);
    let got = sink.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 3);
    let mut codes = Vec::new();
    for req in &got {
        for ev in t.handle_webhook(req).await.unwrap().events {
            match ev {
                Event::Delivery(rep) => {
                    assert_eq!(rep.provider_id, r.provider_id());
                    codes.push(rep.raw_status);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(codes, vec!["101", "102", "103"]);
    assert_eq!(sim.acknowledged(), vec![true; 3]);

    // One step of every message is one body per URL: data[0], data[1].
    let a = t.send(&Message::sms(n("+79255070603"), "a")).await.unwrap();
    let b = t.send(&Message::sms(n("+79255070604"), "b")).await.unwrap();
    sim.advance().await;
    assert_eq!(sim.pushed().len(), 4);
    let got = sink.wait_for(4, Duration::from_secs(5)).await;
    let events = t.handle_webhook(&got[3]).await.unwrap().events;
    let ids: Vec<String> = events
        .iter()
        .map(|e| match e {
            Event::Delivery(r) => r.provider_id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, vec![a.provider_id().to_owned(), b.provider_id().to_owned()]);
}

#[tokio::test]
async fn a_host_that_does_not_answer_100_is_recorded() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::answering(200, "OK").await;
    sim.add_callback(&format!("{}/hooks/smsru?token={SECRET}", sink.uri()));
    let t = transport(&sim);
    let r = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    sim.advance().await;
    assert_eq!(sim.message(r.provider_id()).unwrap().status_code, 101);
    assert_eq!(sim.acknowledged(), vec![false]);
}

#[tokio::test]
async fn webhooks_are_refused_without_the_secret() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let body = "data%5B0%5D=sms_status%0A000000-10000000%0A103";
    let good = WebhookRequest::post(format!("https://shop.example/hooks/smsru?token={SECRET}"), body);
    assert_eq!(t.handle_webhook(&good).await.unwrap().events.len(), 1);

    let unsigned = WebhookRequest::post("https://shop.example/hooks/smsru", body);
    let e = t.handle_webhook(&unsigned).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    let wrong = WebhookRequest::post("https://shop.example/hooks/smsru?token=hook-s3creT", body);
    let e = t.handle_webhook(&wrong).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!e.to_string().contains(SECRET));
    // A second, right token after a wrong one does not help (the first one counts).
    let doubled = WebhookRequest::post(format!("https://shop.example/hooks/smsru?token=x&token={SECRET}"), body);
    assert_eq!(t.handle_webhook(&doubled).await.unwrap_err().kind(), ErrorKind::Auth);
    // The secret in the body instead of the URL does not count.
    let in_body = WebhookRequest::post("https://shop.example/hooks/smsru", format!("{body}&token={SECRET}"));
    assert_eq!(t.handle_webhook(&in_body).await.unwrap_err().kind(), ErrorKind::Auth);

    // A transport without a webhook secret refuses every callback.
    let no_secret = SmsRuTransport::new(
        SmsRuConfig::builder()
            .api_id(SIM_API_ID)
            .base_url(sim.uri())
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        no_secret.handle_webhook(&good).await.unwrap_err().kind(),
        ErrorKind::Config
    );

    // Malformed and hostile bodies: input errors, never panics.
    let url = format!("https://shop.example/hooks/smsru?token={SECRET}");
    for body in [
        &b""[..],
        b"data[0]=sms_status%0Aonly-id",
        b"data[0]=sms_status%0A000000-1%0Aabc",
        b"data[99999999999999999999999]=sms_status%0A1%0A103",
        b"\xff\xfe\x00data",
        b"{\"json\":true}",
    ] {
        let r = WebhookRequest::post(url.clone(), body.to_vec());
        assert_eq!(
            t.handle_webhook(&r).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{body:?}"
        );
    }
    let huge = WebhookRequest::post(url.clone(), vec![b'a'; 2 * 1024 * 1024]);
    assert_eq!(
        t.handle_webhook(&huge).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

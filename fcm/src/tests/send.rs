//! Sends: the assertion and token on the wire, what the message becomes, platform blocks, topics and
//! conditions, dry runs, DSN options, `send_many`.

use std::time::Duration;

use crate::auth::JWT_BEARER_GRANT;
use crate::config::FCM_SCOPE;
use crate::sim::Simulator;
use crate::{AndroidConfig, AndroidPriority, ApnsConfig, FcmClient, FcmMessage, FcmTransport, is_unregistered};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use switchboard_core::simulated::Simulated;
use switchboard_core::{Dispatch, ErrorKind, ExposeSecret, Message, Recipient, Transport};

use crate::tests::{messages, push, transport};

#[tokio::test]
async fn a_push_goes_out_with_a_verified_assertion() {
    let sim = Simulator::start().await;
    let fcm = FcmTransport::from_dsn_str(&sim.dsn()).unwrap();
    let device = sim.register_device();
    let r = fcm.send(&push(&device)).await.unwrap();
    assert!(
        r.provider_id().starts_with("projects/switchboard-sim/messages/0:"),
        "{}",
        r.provider_id()
    );
    assert_eq!(r.raw["name"], r.provider_id());

    let sent = messages(&sim);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].token(), Some(device.as_str()));
    assert_eq!((sent[0].title(), sent[0].body()), (Some("Order #72"), Some("Paid")));
    assert_eq!(sent[0].data("order_id"), Some("72"));

    // The assertion is the one Google's libraries make.
    let claims = sim.accepted_assertions();
    assert_eq!(claims.len(), 1);
    let c = &claims[0];
    assert_eq!(c.iss, sim.service_account().client_email);
    assert_eq!(c.aud, sim.token_uri());
    assert_eq!(c.scope.as_deref(), Some(FCM_SCOPE));
    assert_eq!(c.exp - c.iat, 3600);
    assert!(c.sub.is_none());
    let token_req = sim
        .requests()
        .await
        .into_iter()
        .find(|r| r.url.path() == "/token")
        .unwrap();
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&token_req.body).into_owned().collect();
    assert_eq!(form["grant_type"], JWT_BEARER_GRANT);
    let header = form["assertion"].split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(
        header,
        json!({"alg": "RS256", "typ": "JWT", "kid": sim.service_account().private_key_id})
    );
    let send_req = sim
        .requests()
        .await
        .into_iter()
        .find(|r| r.url.path().ends_with(":send"))
        .unwrap();
    let auth = send_req.headers.get("authorization").unwrap().to_str().unwrap();
    assert!(auth.starts_with("Bearer ya29."), "{auth}");
}

#[tokio::test]
async fn bad_data_is_refused_before_sending_and_by_the_simulator() {
    let sim = Simulator::start().await;
    let client = FcmClient::new(sim.config()).unwrap();
    let device = sim.register_device();
    let mut m = FcmMessage::to_token(device.clone());
    m.extra.insert("data".into(), json!({"order_id": 72}));
    let e = client.send(&m).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    for bad in [
        FcmMessage::to_token(device.clone()).data("from", "x"),
        FcmMessage::to_token(device.clone()).data("k", "v".repeat(5000)),
        FcmMessage::default(),
    ] {
        assert_eq!(client.send(&bad).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    }
    assert_eq!(sim.send_requests(), 0, "nothing reached FCM");

    // What FCM says when a client does send a number.
    let token = client.access_token().await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/projects/switchboard-sim/messages:send", sim.uri()))
        .bearer_auth(token.expose_secret())
        .json(&json!({"message": {"token": device, "data": {"order_id": 72}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(
        body["error"]["message"],
        "Invalid value at 'message.data[0].value' (TYPE_STRING), 72"
    );
}

#[tokio::test]
async fn platform_blocks_topics_conditions_and_dry_runs() {
    let sim = Simulator::start().await;
    let client = FcmClient::new(sim.config()).unwrap();
    let device = sim.register_device();
    let m = FcmMessage::to_token(device)
        .notification("Order #72", "Paid")
        .android(
            AndroidConfig::default()
                .priority(AndroidPriority::High)
                .ttl(Duration::from_secs(3600)),
        )
        .apns(
            ApnsConfig::default()
                .header("apns-priority", "10")
                .payload(json!({"aps": {"sound": "default"}})),
        );
    client.send(&m).await.unwrap();
    let sent = &messages(&sim)[0].message;
    assert_eq!(sent["android"], json!({"priority": "HIGH", "ttl": "3600s"}));
    assert_eq!(sent["apns"]["payload"]["aps"]["sound"], "default");

    let r = client.validate(&m).await.unwrap();
    assert_eq!(r.message_id(), "fake_message_id");
    assert_eq!(sim.sent().len(), 1, "a dry run delivers nothing");

    let fcm = transport(&sim);
    let topic = fcm
        .send(&Message::push(Recipient::PushTopic("/topics/news".into()), "Hi", "All"))
        .await
        .unwrap();
    assert!(topic.provider_id().starts_with("projects/switchboard-sim/messages/"));
    assert_eq!(messages(&sim)[1].topic(), Some("news"));
    let cond = Recipient::PushTopic("'dogs' in topics || 'cats' in topics".into());
    fcm.send(&Message::push(cond, "Hi", "Pets")).await.unwrap();
    assert_eq!(
        messages(&sim)[2].message["condition"],
        "'dogs' in topics || 'cats' in topics"
    );
    let e = fcm.send(&Message::chat("42", "hi")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(fcm.supports(&Recipient::PushToken("t".into())) && !fcm.supports(&Recipient::Chat("1".into())));
}

#[tokio::test]
async fn dsn_options_shape_transport_sends() {
    let sim = Simulator::start().await;
    let fcm = FcmTransport::from_dsn_str(&format!("{}&priority=high&ttl=60&validate_only=true", sim.dsn())).unwrap();
    let r = fcm.send(&push(&sim.register_device())).await.unwrap();
    assert!(r.provider_id().ends_with("/fake_message_id"));
    let body: Value = serde_json::from_slice(
        &sim.requests()
            .await
            .into_iter()
            .find(|r| r.url.path().ends_with(":send"))
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(body["validate_only"], true);
    assert_eq!(body["message"]["android"], json!({"priority": "HIGH", "ttl": "60s"}));
}

#[tokio::test]
async fn send_many_keeps_order_and_reports_each() {
    let sim = Simulator::start().await;
    let fcm = transport(&sim);
    let good = sim.register_device();
    let gone = sim.register_device();
    sim.unregister(&gone);
    let msgs: Vec<Message> = (0..10).map(|i| push(if i % 3 == 1 { &gone } else { &good })).collect();
    let results = fcm.send_many(&msgs).await;
    assert_eq!(results.len(), 10);
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(rec) => assert_eq!(rec.message_id, msgs[i].id),
            Err(e) => {
                assert_eq!(i % 3, 1);
                assert!(is_unregistered(e));
            }
        }
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 7);
    assert_eq!(sim.token_requests(), 1);
}

//! FCM's published HTTP v1 contract against the client and the simulator: what a 200 the client
//! cannot use means, and the refusals the simulator shares with FCM (protobuf JSON strictness,
//! reserved data keys, links and labels, missing credentials).

use std::time::Duration;

use crate::sim::Simulator;
use crate::{FcmClient, FcmConfig, FcmMessage, FcmTransport};
use serde_json::{Value, json};
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, ErrorKind, ExposeSecret, Message, Recipient, RetryPolicy, Transport};

/// Sends a raw body to `messages:send` with a valid token, as a client that checks nothing would.
async fn raw_send(sim: &Simulator, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/projects/switchboard-sim/messages:send", sim.uri()))
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_200_the_client_cannot_use_is_never_not_sent() {
    let sim = Simulator::start().await;
    let config = FcmConfig::builder(sim.service_account())
        .base_url(sim.uri())
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_delays(Duration::from_millis(1), Duration::from_millis(2))
                .with_jitter(false),
        )
        .build()
        .unwrap();
    let fcm = FcmTransport::new(config).unwrap();
    fcm.client().access_token().await.unwrap(); // the faults below are for the sends, not the token
    let msg = Message::push(Recipient::PushToken(sim.register_device()), "Order #72", "Paid");
    for body in [
        r#"{}"#,
        r#"{"name":""}"#,
        r#"{"name":"projects/switchboard-sim/messages/"}"#,
        r#"{"name":"0:1500415314455276%31bd1c96"}"#,
        r#"{"name":42}"#,
        r#"["projects/switchboard-sim/messages/1"]"#,
        r#"{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"but the status said 200"}}"#,
    ] {
        let before = sim.requests().await.len();
        sim.faults().push(Fault::StatusJson(200, body.to_owned()));
        let e = fcm.send(&msg).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::Decode, Dispatch::MaybeSent),
            "{body}"
        );
        assert_eq!(e.provider(), Some("fcm"));
        assert_eq!(sim.requests().await.len(), before + 1, "not repeated: {body}");
    }
    // The simulator's own answers name the message.
    let r = fcm.send(&msg).await.unwrap();
    assert!(r.provider_id().starts_with("projects/switchboard-sim/messages/"));
}

#[tokio::test]
async fn the_simulator_refuses_what_fcm_refuses() {
    let sim = Simulator::start().await;
    let client = FcmClient::new(sim.config()).unwrap();
    let token = client.access_token().await.unwrap();
    let token = token.expose_secret();
    let device = sim.register_device();
    let msg = |extra: Value| {
        let mut m = json!({"token": device});
        if let (Some(m), Some(e)) = (m.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        m
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "an unknown top-level field",
            json!({"message": msg(json!({})), "dry_run": true}),
            "Unknown name \"dry_run\": Cannot find field.",
        ),
        (
            "an unknown message field",
            json!({"message": msg(json!({"priority": "high"}))}),
            "Unknown name \"priority\" at 'message': Cannot find field.",
        ),
        (
            "an unknown Android notification field",
            json!({"message": msg(json!({"android": {"notification": {"badge": "1"}}}))}),
            "Unknown name \"badge\" at 'message.android.notification'",
        ),
        (
            "a web push field under APNs options",
            json!({"message": msg(json!({"apns": {"fcm_options": {"link": "https://x.example"}}}))}),
            "Unknown name \"link\" at 'message.apns.fcm_options'",
        ),
        (
            "a number for a string",
            json!({"message": msg(json!({"notification": {"title": 5}}))}),
            "Invalid value at 'message.notification.title' (TYPE_STRING), 5",
        ),
        (
            "a string for a boolean",
            json!({"message": msg(json!({})), "validate_only": "yes"}),
            "Invalid value at 'validate_only' (TYPE_BOOL), \"yes\"",
        ),
        (
            "a string for an Android boolean",
            json!({"message": msg(json!({"android": {"direct_boot_ok": "true"}}))}),
            "Invalid value at 'message.android.direct_boot_ok' (TYPE_BOOL)",
        ),
        (
            "a word for an integer",
            json!({"message": msg(json!({"android": {"notification": {"notification_count": "many"}}}))}),
            "(TYPE_INT32)",
        ),
        (
            "a value outside an enum",
            json!({"message": msg(json!({"android": {"notification": {"visibility": "HIDDEN"}}}))}),
            "Invalid value at 'message.android.notification.visibility' (TYPE_ENUM), \"HIDDEN\"",
        ),
        (
            "a lowercase Android priority",
            json!({"message": msg(json!({"android": {"priority": "high"}}))}),
            "Invalid value at 'message.android.priority' (TYPE_ENUM)",
        ),
        (
            "a timestamp that is not RFC 3339",
            json!({"message": msg(json!({"android": {"notification": {"event_time": "yesterday"}}}))}),
            "google.protobuf.Timestamp",
        ),
        (
            "a duration without its unit",
            json!({"message": msg(json!({"android": {"ttl": 3600}}))}),
            "Invalid value at 'message.android.ttl'",
        ),
        (
            "a number in an APNs header map",
            json!({"message": msg(json!({"apns": {"headers": {"apns-priority": 10}}}))}),
            "Invalid value at 'message.apns.headers[0].value' (TYPE_STRING), 10",
        ),
        (
            "a string for a Struct",
            json!({"message": msg(json!({"webpush": {"notification": "hello"}}))}),
            "google.protobuf.Struct",
        ),
        (
            "a string for a sub-message",
            json!({"message": msg(json!({"android": "high"}))}),
            "fcm.v1.AndroidConfig",
        ),
        (
            "a number in a string list",
            json!({"message": msg(json!({"android": {"notification": {"body_loc_args": [1]}}}))}),
            "Invalid value at 'message.android.notification.body_loc_args[0]' (TYPE_STRING), 1",
        ),
        (
            "the reserved key message_type",
            json!({"message": msg(json!({"data": {"message_type": "x"}}))}),
            "Invalid data payload key: message_type",
        ),
        (
            "a reserved gcm key",
            json!({"message": msg(json!({"data": {"gcm.notification.title": "x"}}))}),
            "Invalid data payload key: gcm.notification.title",
        ),
        (
            "a reserved google key",
            json!({"message": msg(json!({"data": {"google.c.a.e": "1"}}))}),
            "Invalid data payload key: google.c.a.e",
        ),
        (
            "a web push link that is not HTTPS",
            json!({"message": msg(json!({"webpush": {"fcm_options": {"link": "http://shop.example/o/72"}}}))}),
            "must be an HTTPS URL",
        ),
        (
            "an analytics label outside its pattern",
            json!({"message": msg(json!({"fcm_options": {"analytics_label": "spring sale!"}}))}),
            "Analytics label must match",
        ),
    ];
    for (what, body, text) in &cases {
        let (status, v) = raw_send(&sim, Some(token), body).await;
        assert_eq!(
            (status, v["error"]["status"].as_str()),
            (400, Some("INVALID_ARGUMENT")),
            "{what}: {v}"
        );
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(text), "{what}: {message}");
    }
    assert!(sim.sent().is_empty(), "no refused request delivered anything");

    // No credentials.
    let (status, v) = raw_send(&sim, None, &json!({"message": msg(json!({}))})).await;
    assert_eq!((status, v["error"]["status"].as_str()), (401, Some("UNAUTHENTICATED")));

    // What FCM takes: both protobuf JSON spellings, nulls for "unset", every documented field.
    let accepted = [
        json!({"validateOnly": false, "message": msg(json!({"fcmOptions": {"analyticsLabel": "sale_2024"}}))}),
        json!({"message": msg(json!({"notification": {"title": "t", "body": null, "image": "https://i.example/a.png"}}))}),
        json!({"message": msg(json!({"android": {
            "collapseKey": "k", "priority": "HIGH", "ttl": "3.5s", "restrictedPackageName": "com.example",
            "directBootOk": true, "data": {"a": "b"}, "fcm_options": {"analytics_label": "x"},
            "notification": {"title": "t", "channel_id": "c", "notification_count": 3, "visibility": "PUBLIC",
                "event_time": "2024-06-03T10:00:00Z", "vibrate_timings": ["0.5s", "1s"], "title_loc_args": ["a"],
                "light_settings": {"color": {"red": 1.0, "green": 0.5, "blue": 0}, "light_on_duration": "1s",
                    "light_off_duration": "2s"}}}}))}),
        json!({"message": msg(json!({"apns": {"headers": {"apns-priority": "10"}, "payload": {"aps": {"badge": 1}},
            "fcm_options": {"image": "https://i.example/a.png"}}}))}),
        json!({"message": msg(json!({"webpush": {"headers": {"TTL": "60"}, "notification": {"requireInteraction": true},
            "fcm_options": {"link": "https://shop.example/o/72"}}}))}),
    ];
    for body in &accepted {
        let (status, v) = raw_send(&sim, Some(token), body).await;
        assert_eq!(status, 200, "{body}: {v}");
    }
    assert_eq!(sim.sent().len(), accepted.len());
}

#[tokio::test]
async fn the_client_refuses_reserved_keys_before_sending() {
    let sim = Simulator::start().await;
    let client = FcmClient::new(sim.config()).unwrap();
    let device = sim.register_device();
    for key in ["message_type", "gcm.notification.title", "google.sent_time", "from"] {
        let e = client
            .send(&FcmMessage::to_token(device.clone()).data(key, "x"))
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::InvalidInput, Dispatch::NotSent),
            "{key}"
        );
    }
    assert_eq!(sim.send_requests(), 0);
    // Keys that only resemble reserved ones go, and the simulator takes them.
    client
        .send(
            &FcmMessage::to_token(device)
                .data("message_kind", "x")
                .data("from_city", "y"),
        )
        .await
        .unwrap();
    assert_eq!(sim.sent().len(), 1);
}

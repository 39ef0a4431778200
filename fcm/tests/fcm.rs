//! The FCM client and transport against the FCM simulator.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind, ExposeSecret, Message, Recipient, RetryPolicy, Transport};
use switchboard_fcm::auth::{JWT_BEARER_GRANT, JwtClaims, SigningKey};
use switchboard_fcm::config::FCM_SCOPE;
use switchboard_fcm::sim::{SimError, Simulator};
use switchboard_fcm::{
    AndroidConfig, AndroidPriority, ApnsConfig, Client, Config, FcmMessage, FcmTransport, api_error, is_invalid_token,
    is_unregistered,
};

fn transport(sim: &Simulator) -> FcmTransport {
    FcmTransport::new(sim.config()).unwrap()
}

fn push(to: &str) -> Message {
    Message::push(Recipient::PushToken(to.to_owned()), "Order #72", "Paid").with_data("order_id", "72")
}

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

    let sent = sim.sent();
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
async fn fifty_concurrent_sends_make_one_token_request() {
    let sim = Simulator::start().await;
    let fcm = Arc::new(transport(&sim));
    let devices: Vec<String> = (0..50).map(|_| sim.register_device()).collect();
    let tasks: Vec<_> = devices
        .iter()
        .map(|d| {
            let fcm = fcm.clone();
            let m = push(d);
            tokio::spawn(async move { fcm.send(&m).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(sim.token_requests(), 1);
    assert_eq!(sim.sent().len(), 50);
    // And the cached token keeps serving later sends.
    fcm.send(&push(&devices[0])).await.unwrap();
    assert_eq!(sim.token_requests(), 1);
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once_and_the_send_succeeds() {
    let sim = Simulator::start().await;
    let fcm = transport(&sim);
    let device = sim.register_device();
    fcm.send(&push(&device)).await.unwrap();
    sim.revoke_tokens();
    fcm.send(&push(&device)).await.unwrap();
    assert_eq!(sim.token_requests(), 2);
    assert_eq!(sim.sent().len(), 2);
    assert_eq!(
        sim.send_requests(),
        3,
        "one refused with 401, then one with the new token"
    );
}

#[tokio::test]
async fn a_token_at_its_expiry_is_never_reused() {
    let sim = Simulator::start().await;
    sim.set_token_lifetime(0);
    let client = Client::new(sim.config()).unwrap();
    let first = client.access_token().await.unwrap();
    let second = client.access_token().await.unwrap();
    assert_ne!(first.expose_secret(), second.expose_secret());
    assert_eq!(sim.token_requests(), 2);
    sim.set_token_lifetime(3599);
    client.access_token().await.unwrap();
    client.access_token().await.unwrap();
    assert_eq!(sim.token_requests(), 3);
}

#[tokio::test]
async fn a_key_the_server_does_not_know_is_an_auth_error_and_nothing_is_sent() {
    let sim = Simulator::start().await;
    let config = Config::builder(sim.foreign_service_account())
        .base_url(sim.uri())
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let fcm = FcmTransport::new(config).unwrap();
    let e = fcm.send(&push(&sim.register_device())).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
    assert_eq!(e.provider_code(), Some("invalid_grant"));
    assert_eq!(e.provider_text(), Some("Invalid JWT Signature."));
    assert_eq!(sim.send_requests(), 0);
    let shown = format!("{e} {e:?} {fcm:?}");
    assert!(!shown.contains("PRIVATE KEY") && !shown.contains("ya29"), "{shown}");
}

/// Posts an assertion straight to the token endpoint and returns (status, body).
async fn exchange(sim: &Simulator, grant: &str, assertion: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(sim.token_uri())
        .form(&[("grant_type", grant), ("assertion", assertion)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_token_endpoint_rejects_bad_assertions() {
    let sim = Simulator::start().await;
    let sa = sim.service_account();
    let key = SigningKey::from_service_account(&sa).unwrap();
    let now = chrono::Utc::now().timestamp();
    let good = JwtClaims::for_account(&sa, FCM_SCOPE, now);
    let sign = |c: &JwtClaims| key.sign(c).unwrap().expose_secret().to_owned();

    let (status, body) = exchange(&sim, JWT_BEARER_GRANT, &sign(&good)).await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);

    let expired = JwtClaims {
        iat: now - 7200,
        exp: now - 3600,
        ..good.clone()
    };
    let too_long = JwtClaims {
        exp: now + 7200,
        ..good.clone()
    };
    let future = JwtClaims {
        iat: now + 3000,
        exp: now + 3600,
        ..good.clone()
    };
    let wrong_aud = JwtClaims {
        aud: "https://oauth2.googleapis.com/token".into(),
        ..good.clone()
    };
    let stranger = JwtClaims {
        iss: "someone@else.iam.gserviceaccount.com".into(),
        ..good.clone()
    };
    for (what, claims, desc) in [
        ("expired", expired, "short-lived"),
        ("longer than an hour", too_long, "short-lived"),
        ("issued in the future", future, "short-lived"),
        ("wrong audience", wrong_aud, "audience"),
        ("unknown account", stranger, "account not found"),
    ] {
        let (status, body) = exchange(&sim, JWT_BEARER_GRANT, &sign(&claims)).await;
        assert_eq!(status, 400, "{what}");
        assert_eq!(body["error"], "invalid_grant", "{what}");
        assert!(
            body["error_description"].as_str().unwrap().contains(desc),
            "{what}: {body}"
        );
    }

    let no_scope = JwtClaims {
        scope: None,
        ..good.clone()
    };
    let (_, body) = exchange(&sim, JWT_BEARER_GRANT, &sign(&no_scope)).await;
    assert_eq!(body["error"], "invalid_scope");

    // A signature over other claims.
    let jwt = sign(&good);
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(
        serde_json::to_vec(&JwtClaims {
            exp: now + 60,
            ..good.clone()
        })
        .unwrap(),
    );
    parts[1] = &forged;
    let (_, body) = exchange(&sim, JWT_BEARER_GRANT, &parts.join(".")).await;
    assert_eq!(body["error_description"], "Invalid JWT Signature.");

    for garbage in ["", "a.b", "a.b.c", "....", "éé.éé.éé"] {
        let (status, body) = exchange(&sim, JWT_BEARER_GRANT, garbage).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{garbage}"
        );
    }
    let (_, body) = exchange(&sim, "client_credentials", &sign(&good)).await;
    assert_eq!(body["error"], "unsupported_grant_type");
    assert_eq!(sim.accepted_assertions().len(), 1);
}

#[tokio::test]
async fn unregistered_and_foreign_tokens_tell_the_host_to_drop_them() {
    let sim = Simulator::start().await;
    let fcm = transport(&sim);
    let device = sim.register_device();
    sim.unregister(&device);
    let e = fcm.send(&push(&device)).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::NotFound, Dispatch::NotSent));
    assert_eq!(
        (e.provider(), e.provider_code(), e.http_status()),
        (Some("fcm"), Some("UNREGISTERED"), Some(404))
    );
    assert!(is_unregistered(&e) && is_invalid_token(&e));

    let foreign = sim.register_foreign_device();
    let e = fcm.send(&push(&foreign)).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (ErrorKind::Rejected, Some("SENDER_ID_MISMATCH"))
    );
    assert!(!is_unregistered(&e) && is_invalid_token(&e));

    let e = fcm.send(&push("not-a-token")).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (ErrorKind::InvalidInput, Some("INVALID_ARGUMENT"))
    );
    assert_eq!(api_error(&e).unwrap().field_violations[0].0, "message.token");
    assert!(is_invalid_token(&e), "a malformed token should be dropped too");

    sim.set_strict_tokens(true);
    let unknown = format!("{}:APA91b{}", "x".repeat(22), "y".repeat(130));
    let e = fcm.send(&push(&unknown)).await.unwrap_err();
    assert!(is_invalid_token(&e));
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn queued_fcm_errors_map_with_dispatch_and_retry_after() {
    let sim = Simulator::start().await;
    let fcm = transport(&sim);
    let device = sim.register_device();
    let cases = [
        (
            SimError::quota_exceeded(Some(7)),
            ErrorKind::RateLimited,
            Dispatch::NotSent,
            "QUOTA_EXCEEDED",
            Some(7),
        ),
        (
            SimError::unavailable(Some(3)),
            ErrorKind::Unavailable,
            Dispatch::NotSent,
            "UNAVAILABLE",
            Some(3),
        ),
        (
            SimError::internal(),
            ErrorKind::Unavailable,
            Dispatch::MaybeSent,
            "INTERNAL",
            None,
        ),
        (
            SimError::third_party_auth_error(),
            ErrorKind::Auth,
            Dispatch::NotSent,
            "THIRD_PARTY_AUTH_ERROR",
            None,
        ),
        (
            SimError::unspecified(),
            ErrorKind::Unavailable,
            Dispatch::MaybeSent,
            "UNSPECIFIED_ERROR",
            None,
        ),
    ];
    for (err, kind, dispatch, code, retry) in cases {
        sim.queue_error(err);
        let e = fcm.send(&push(&device)).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch(), e.provider_code()),
            (kind, dispatch, Some(code))
        );
        assert_eq!(e.retry_after(), retry.map(Duration::from_secs), "{code}");
    }
    assert_eq!(sim.token_requests(), 1, "THIRD_PARTY_AUTH_ERROR is not a token problem");
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn only_sends_that_certainly_did_not_land_are_retried() {
    let sim = Simulator::start().await;
    let config = Config::builder(sim.service_account())
        .base_url(sim.uri())
        .retry(
            RetryPolicy::default()
                .with_delays(Duration::from_millis(1), Duration::from_millis(5))
                .with_jitter(false),
        )
        .build()
        .unwrap();
    let fcm = FcmTransport::new(config).unwrap();
    let device = sim.register_device();

    sim.queue_error(SimError::unavailable(Some(0)));
    sim.queue_error(SimError::quota_exceeded(Some(0)));
    fcm.send(&push(&device)).await.unwrap();
    assert_eq!(sim.send_requests(), 3);
    assert_eq!(sim.sent().len(), 1);

    sim.queue_error(SimError::internal());
    let e = fcm.send(&push(&device)).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::MaybeSent);
    assert_eq!(
        sim.send_requests(),
        4,
        "INTERNAL may have been delivered: never repeated"
    );
}

#[tokio::test]
async fn bad_data_is_refused_before_sending_and_by_the_simulator() {
    let sim = Simulator::start().await;
    let client = Client::new(sim.config()).unwrap();
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
    let client = Client::new(sim.config()).unwrap();
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
    let sent = &sim.sent()[0].message;
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
    assert_eq!(sim.sent()[1].topic(), Some("news"));
    let cond = Recipient::PushTopic("'dogs' in topics || 'cats' in topics".into());
    fcm.send(&Message::push(cond, "Hi", "Pets")).await.unwrap();
    assert_eq!(
        sim.sent()[2].message["condition"],
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

#[tokio::test]
async fn permission_and_scope_problems_are_auth_errors() {
    let sim = Simulator::start().await;
    let wrong_project = Config::builder(sim.service_account())
        .base_url(sim.uri())
        .project_id("someone-else")
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let e = FcmTransport::new(wrong_project)
        .unwrap()
        .send(&push(&sim.register_device()))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (ErrorKind::Auth, Some("PERMISSION_DENIED"))
    );

    let wrong_scope = Config::builder(sim.service_account())
        .base_url(sim.uri())
        .scope("https://www.googleapis.com/auth/userinfo.email")
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let e = FcmTransport::new(wrong_scope)
        .unwrap()
        .send(&push(&sim.register_device()))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
}

#[tokio::test]
async fn http_faults_classify() {
    let sim = Simulator::start().await;
    let client = Client::new(sim.config()).unwrap();
    let device = sim.register_device();
    let m = FcmMessage::to_token(device).notification("a", "b");

    // The token endpoint failing: nothing was sent, whatever the token request's fate.
    sim.faults().push(Fault::Status(500));
    let e = client.send(&m).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::NotSent));

    client.access_token().await.unwrap();
    sim.faults().push(Fault::Status(502));
    let e = client.send(&m).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    sim.faults().push(Fault::RateLimited(Some(5)));
    let e = client.send(&m).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.retry_after()),
        (ErrorKind::RateLimited, Dispatch::NotSent, Some(Duration::from_secs(5)))
    );
    for f in [
        Fault::MalformedJson,
        Fault::TruncatedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
    ] {
        sim.faults().push(f.clone());
        let e = client.send(&m).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::Decode, Dispatch::MaybeSent),
            "{f:?}"
        );
    }
}

#[tokio::test]
async fn connection_faults_classify() {
    let sim = Simulator::start().await;
    let device = sim.register_device();
    let m = FcmMessage::to_token(device).notification("a", "b");
    for (fault, kind, dispatch) in [
        (ConnectionFault::Refused, ErrorKind::Transport, Dispatch::NotSent),
        (
            ConnectionFault::ResetAfterRequest,
            ErrorKind::Transport,
            Dispatch::MaybeSent,
        ),
        (ConnectionFault::CutMidBody, ErrorKind::Transport, Dispatch::MaybeSent),
        (ConnectionFault::NeverAnswers, ErrorKind::Timeout, Dispatch::MaybeSent),
    ] {
        let url = connection_fault(fault).await.unwrap();
        let config = Config::builder(sim.service_account())
            .base_url(url)
            .http(HttpOptions::default().timeout(Duration::from_millis(300)))
            .retry(RetryPolicy::never())
            .build()
            .unwrap();
        let e = Client::new(config).unwrap().send(&m).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{fault:?}: {e}");
    }
}

#[tokio::test]
async fn the_legacy_api_is_gone() {
    let sim = Simulator::start().await;
    let r = reqwest::Client::new()
        .post(format!("{}/fcm/send", sim.uri()))
        .header("authorization", "key=AAAA")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

//! The service-account token: one request for many sends, a refused token replaced once, expiry,
//! keys and accounts the token endpoint refuses, project and scope problems.

use std::sync::Arc;

use crate::auth::{JWT_BEARER_GRANT, JwtClaims, SigningKey};
use crate::config::FCM_SCOPE;
use crate::sim::Simulator;
use crate::{FcmClient, FcmConfig, FcmTransport};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use switchboard_core::simulated::Simulated;
use switchboard_core::{Dispatch, ErrorKind, ExposeSecret, RetryPolicy, Transport};

use crate::tests::{push, transport};

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
    let client = FcmClient::new(sim.config()).unwrap();
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
    let config = FcmConfig::builder(sim.foreign_service_account())
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
async fn permission_and_scope_problems_are_auth_errors() {
    let sim = Simulator::start().await;
    let wrong_project = FcmConfig::builder(sim.service_account())
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

    let wrong_scope = FcmConfig::builder(sim.service_account())
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

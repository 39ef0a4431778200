//! FCM's errors and HTTP and connection faults: kinds, dispatch facts, `Retry-After`, what is
//! retried, and what tells the host to drop a token.

use std::time::Duration;

use crate::sim::{SimError, Simulator};
use crate::{ApiError, FcmClient, FcmConfig, FcmMessage, FcmTransport, is_invalid_token, is_unregistered};
use switchboard_core::http::HttpOptions;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind, RetryPolicy, Transport};

use crate::tests::{push, transport};

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
    assert_eq!(ApiError::of(&e).unwrap().field_violations[0].0, "message.token");
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
    let config = FcmConfig::builder(sim.service_account())
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
async fn http_faults_classify() {
    let sim = Simulator::start().await;
    let client = FcmClient::new(sim.config()).unwrap();
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
        let config = FcmConfig::builder(sim.service_account())
            .base_url(url)
            .http(HttpOptions::default().timeout(Duration::from_millis(300)))
            .retry(RetryPolicy::never())
            .build()
            .unwrap();
        let e = FcmClient::new(config).unwrap().send(&m).await.unwrap_err();
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

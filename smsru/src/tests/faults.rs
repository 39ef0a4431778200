//! Credentials, every documented refusal, retries, and HTTP and connection faults: each with the
//! right kind and dispatch fact.

use std::time::Duration;

use crate::error::CODES;
use crate::sim::{SIM_API_ID, SIM_LOGIN, SIM_PASSWORD, Simulator};
use crate::{SendRequest, SmsRuClient, SmsRuConfig, SmsRuTransport};
use switchboard_core::http::HttpOptions;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind, Message, RetryPolicy, Transport};

use super::{client, config, fast_retry, n, transport};

#[tokio::test]
async fn credentials() {
    let sim = Simulator::start().await;
    let uri = sim.uri();
    let bad = SmsRuClient::new(
        SmsRuConfig::builder()
            .api_id("K3Y-not-the-one")
            .base_url(&uri)
            .retry(fast_retry())
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = bad.balance().await.unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Auth, Dispatch::NotSent, Some("200"))
    );
    assert_eq!(sim.requests().await.len(), 1, "auth errors are not retried");
    assert!(!format!("{e} {e:?} {bad:?}").contains("K3Y-not"));

    let login = SmsRuClient::new(
        SmsRuConfig::builder()
            .login(SIM_LOGIN, SIM_PASSWORD)
            .base_url(&uri)
            .build()
            .unwrap(),
    )
    .unwrap();
    login.auth_check().await.unwrap();
    let bad = SmsRuClient::new(
        SmsRuConfig::builder()
            .login(SIM_LOGIN, "nope")
            .base_url(&uri)
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(bad.auth_check().await.unwrap_err().provider_code(), Some("301"));
    assert!(!format!("{login:?}").contains(SIM_PASSWORD));
}

#[tokio::test]
async fn every_documented_request_error_maps() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    for info in CODES.iter().filter(|c| c.kind.is_some()) {
        sim.refuse_next(info.code);
        let e = c.send(&SendRequest::single(n("+79255070602"), "x")).await.unwrap_err();
        assert_eq!(Some(e.kind()), info.kind, "{}", info.code);
        assert_eq!(e.dispatch(), Dispatch::NotSent, "{}", info.code);
        assert_eq!(e.provider_code(), Some(info.code.to_string().as_str()));
        assert_eq!(e.provider(), Some("smsru"));
        assert_eq!(e.is_retryable(), matches!(info.code, 220 | 500), "{}", info.code);
        assert!(e.provider_text().is_some());
    }
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn only_220_and_500_are_retried() {
    let sim = Simulator::start().await;
    let mut cfg = config(&sim);
    cfg.retry = fast_retry();
    let c = SmsRuClient::new(cfg).unwrap();
    sim.refuse_next(220);
    sim.refuse_next(500);
    let reply = c.send(&SendRequest::single(n("+79255070602"), "x")).await.unwrap();
    assert!(reply.result_for(&n("+79255070602")).unwrap().is_ok());
    assert_eq!(sim.requests().await.len(), 3);
    assert_eq!(sim.sent().len(), 1, "exactly one message despite the retries");

    sim.refuse_next(201);
    assert_eq!(
        c.send(&SendRequest::single(n("+79255070602"), "x"))
            .await
            .unwrap_err()
            .provider_code(),
        Some("201")
    );
    assert_eq!(sim.requests().await.len(), 4, "a permanent refusal is not repeated");
}

#[tokio::test]
async fn http_faults_have_the_right_facts() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let c = client(&sim);
    let msg = Message::sms(n("+79255070602"), "x");
    let send = || t.send(&msg);
    let cases = [
        (Fault::Status(500), ErrorKind::Unavailable, Dispatch::MaybeSent),
        (Fault::Status(503), ErrorKind::Unavailable, Dispatch::NotSent),
        (Fault::Status(502), ErrorKind::Unavailable, Dispatch::MaybeSent),
        (Fault::RateLimited(Some(7)), ErrorKind::RateLimited, Dispatch::NotSent),
        (Fault::MalformedJson, ErrorKind::Decode, Dispatch::MaybeSent),
        (Fault::TruncatedJson, ErrorKind::Decode, Dispatch::MaybeSent),
        (Fault::WrongContentType, ErrorKind::Decode, Dispatch::MaybeSent),
        (Fault::EmptyBody, ErrorKind::Decode, Dispatch::MaybeSent),
    ];
    for (fault, kind, dispatch) in cases {
        sim.faults().push(fault.clone());
        let e = send().await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{fault:?}");
        assert_eq!(e.provider(), Some("smsru"));
        if fault == Fault::RateLimited(Some(7)) {
            assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        }
    }
    // A read that gets garbage was answered; nothing about it "may have been sent".
    sim.faults().push(Fault::MalformedJson);
    let e = c.balance().await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn timeouts_and_connection_faults() {
    let sim = Simulator::start().await;
    let mut cfg = config(&sim);
    cfg.http = HttpOptions::default().timeout(Duration::from_millis(300));
    let t = SmsRuTransport::new(cfg).unwrap();
    sim.faults().push(Fault::Delay(Duration::from_secs(3)));
    let e = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::MaybeSent));

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
        let cfg = SmsRuConfig::builder()
            .api_id(SIM_API_ID)
            .base_url(url)
            .http(HttpOptions::default().timeout(Duration::from_millis(300)))
            .retry(RetryPolicy::never())
            .build()
            .unwrap();
        let e = SmsRuTransport::new(cfg)
            .unwrap()
            .send(&Message::sms(n("+79255070602"), "x"))
            .await
            .unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{fault:?}");
    }
}

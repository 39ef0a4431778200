//! Twilio's refusals, authentication, rate limits and server errors, and HTTP and connection faults:
//! each with the right kind and dispatch fact.

use std::time::Duration;

use crate::sim::{SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_FROM, SimError, Simulator};
use crate::{CreateMessage, TwilioClient, TwilioTransport};
use switchboard_core::http::HttpOptions;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind, Message, RetryPolicy, Transport};

use super::{TO, config, n};

#[tokio::test]
async fn api_errors_map() {
    let sim = Simulator::start().await;
    let c = TwilioClient::new(config(&sim)).unwrap();
    let cases: Vec<(CreateMessage, i64, ErrorKind)> = vec![
        (
            CreateMessage::new("5551234567").body("x"),
            21211,
            ErrorKind::InvalidInput,
        ),
        (
            CreateMessage::new(TO).from("+15005550001").body("x"),
            21606,
            ErrorKind::Rejected,
        ),
        (
            CreateMessage::new(TO).from("Not a valid sender!").body("x"),
            21212,
            ErrorKind::InvalidInput,
        ),
        (
            CreateMessage::new(TO)
                .messaging_service_sid("MG00000000000000000000000000000000")
                .body("x"),
            21701,
            ErrorKind::Config,
        ),
        (
            CreateMessage::new(TO).messaging_service_sid("MGnope").body("x"),
            21705,
            ErrorKind::Config,
        ),
        (
            CreateMessage::new(TO).body("x").status_callback("ftp://nope"),
            21609,
            ErrorKind::InvalidInput,
        ),
        (
            CreateMessage::new(TO).media_url("not a url"),
            21620,
            ErrorKind::InvalidInput,
        ),
    ];
    for (req, code, kind) in cases {
        let e = c.create_message(&req).await.unwrap_err();
        assert_eq!(e.provider_code(), Some(code.to_string().as_str()), "{req:?}");
        assert_eq!((e.kind(), e.dispatch()), (kind, Dispatch::NotSent), "{code}");
        assert_eq!(e.http_status(), Some(400));
        assert!(!e.to_string().contains("5551234567"), "{e}");
    }
    sim.unsubscribe(TO);
    let e = c.create_message(&CreateMessage::new(TO).body("x")).await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Rejected, Some("21610")));
    assert!(sim.sent().is_empty(), "no refused request created a message");

    // Raw requests for what the client itself refuses to send.
    let http = reqwest::Client::new();
    let url = format!("{}/2010-04-01/Accounts/{SIM_ACCOUNT_SID}/Messages.json", sim.uri());
    for (form, code) in [
        (vec![("From", SIM_FROM), ("Body", "x")], 21604),
        (vec![("To", TO), ("Body", "x")], 21603),
        (vec![("To", TO), ("From", SIM_FROM)], 21602),
    ] {
        let r = http
            .post(&url)
            .basic_auth(SIM_ACCOUNT_SID, Some(SIM_AUTH_TOKEN))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["code"], code);
        assert_eq!(v["status"], 400);
        assert_eq!(v["more_info"], format!("https://www.twilio.com/docs/errors/{code}"));
    }
    let long = "x".repeat(1601);
    let r = http
        .post(&url)
        .basic_auth(SIM_ACCOUNT_SID, Some(SIM_AUTH_TOKEN))
        .form(&[("To", TO), ("From", SIM_FROM), ("Body", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 21617);
}

#[tokio::test]
async fn authentication() {
    let sim = Simulator::start().await;
    let mut cfg = config(&sim);
    cfg.auth_token = "not-the-token".to_owned().into();
    let c = TwilioClient::new(cfg).unwrap();
    let e = c.create_message(&CreateMessage::new(TO).body("x")).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.http_status()),
        (ErrorKind::Auth, Dispatch::NotSent, Some(401))
    );
    assert_eq!(e.provider_code(), Some("20003"));
    assert!(!format!("{e} {e:?} {c:?}").contains("not-the-token"));
    // Good credentials, another account's path.
    let r = reqwest::Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json",
            sim.uri()
        ))
        .basic_auth(SIM_ACCOUNT_SID, Some(SIM_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let ok = reqwest::Client::new()
        .get(format!("{}/2010-04-01/Accounts/{SIM_ACCOUNT_SID}.json", sim.uri()))
        .basic_auth(SIM_ACCOUNT_SID, Some(SIM_AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.json::<serde_json::Value>().await.unwrap()["status"], "active");
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn rate_limits_and_server_errors() {
    let sim = Simulator::start().await;
    let c = TwilioClient::new(config(&sim)).unwrap();
    sim.refuse_next(SimError::rate_limited(Some(3)));
    let e = c.create_message(&CreateMessage::new(TO).body("x")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::RateLimited, Dispatch::NotSent));
    assert_eq!(
        (e.provider_code(), e.retry_after()),
        (Some("20429"), Some(Duration::from_secs(3)))
    );

    // With retries on: a 429 (nothing created) is retried and the message is created once.
    let mut cfg = config(&sim);
    cfg.retry = RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false);
    let retrying = TwilioClient::new(cfg).unwrap();
    sim.refuse_next(SimError::rate_limited(None));
    let m = retrying
        .create_message(&CreateMessage::new(TO).body("x"))
        .await
        .unwrap();
    assert_eq!(sim.sent().len(), 1);
    assert_eq!(sim.sent()[0].id, m.sid);

    // A 500 may have created it: never repeated, returned as MaybeSent.
    let before = sim.requests().await.len();
    sim.refuse_next(SimError::new(500, 20500, "Internal Server Error"));
    let e = retrying
        .create_message(&CreateMessage::new(TO).body("x"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(sim.requests().await.len(), before + 1);
    // …while a read is idempotent and retried through a 500.
    sim.refuse_next(SimError::new(500, 20500, "Internal Server Error"));
    assert_eq!(retrying.fetch_message(&m.sid).await.unwrap().sid, m.sid);
    sim.refuse_next(SimError::new(503, 20503, "Service Unavailable"));
    let e = c.fetch_message(&m.sid).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::NotSent));
}

#[tokio::test]
async fn http_and_connection_faults() {
    let sim = Simulator::start().await;
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let msg = Message::sms(n(TO), "x");
    for (fault, kind, dispatch) in [
        (Fault::MalformedJson, ErrorKind::Decode, Dispatch::MaybeSent),
        (Fault::EmptyBody, ErrorKind::Decode, Dispatch::MaybeSent),
        (Fault::WrongContentType, ErrorKind::Decode, Dispatch::MaybeSent),
        (Fault::Status(502), ErrorKind::Unavailable, Dispatch::MaybeSent),
        (Fault::Status(503), ErrorKind::Unavailable, Dispatch::NotSent),
        (Fault::RateLimited(Some(2)), ErrorKind::RateLimited, Dispatch::NotSent),
    ] {
        sim.faults().push(fault.clone());
        let e = t.send(&msg).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{fault:?}");
        assert_eq!(e.provider(), Some("twilio"));
    }
    let mut cfg = config(&sim);
    cfg.http = HttpOptions::default().timeout(Duration::from_millis(300));
    let slow = TwilioTransport::new(cfg).unwrap();
    sim.faults().push(Fault::Delay(Duration::from_secs(2)));
    let e = slow.send(&msg).await.unwrap_err();
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
        let mut cfg = config(&sim);
        cfg.base_url = connection_fault(fault).await.unwrap();
        cfg.http = HttpOptions::default().timeout(Duration::from_millis(300));
        let e = TwilioTransport::new(cfg).unwrap().send(&msg).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{fault:?}");
    }
}

//! The Twilio client and transport against the Twilio simulator.

use std::time::Duration;

use base64::Engine;
use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::{ConnectionFault, Fault, WebhookSink, connection_fault};
use switchboard_core::{
    DeliveryStatus, Dispatch, Dsn, ErrorKind, Event, ExposeSecret, Message, PhoneNumber, Recipient, RetryPolicy,
    Transport, WebhookRequest,
};
use switchboard_twilio::sim::{
    Outcome, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_FROM, SIM_MESSAGING_SERVICE_SID, SimError, Simulator,
};
use switchboard_twilio::webhook::{SIGNATURE_HEADER, signature};
use switchboard_twilio::{Client, Config, CreateMessage, ListMessages, MessageStatus, TwilioTransport};

const TO: &str = "+14155552671";

fn n(s: &str) -> PhoneNumber {
    s.parse().expect("test number")
}

fn config(sim: &Simulator) -> Config {
    let mut c = Config::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    c.retry = RetryPolicy::never();
    c
}

fn with_callback(sim: &Simulator, sink: &WebhookSink) -> TwilioTransport {
    let mut c = config(sim);
    c.status_callback = Some(format!("{}/hooks/twilio?acct=1", sink.uri()));
    TwilioTransport::new(c).unwrap()
}

async fn received(sink: &WebhookSink, n: usize) -> Vec<WebhookRequest> {
    sink.wait_for(n, Duration::from_secs(5)).await
}

fn form_of(req: &switchboard_core::testkit::wiremock::Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn send_through_the_transport() {
    let sim = Simulator::start().await;
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let r = t.send(&Message::sms(n(TO), "Your order has shipped")).await.unwrap();
    assert_eq!(r.status, DeliveryStatus::Queued);
    assert!(r.provider_id().starts_with("SM") && r.provider_id().len() == 34);
    assert_eq!(r.raw["status"], "queued");
    assert_eq!(r.raw["num_segments"], "1");
    assert_eq!(r.raw["price"], serde_json::Value::Null);
    assert!(r.raw["date_created"].as_str().unwrap().ends_with("+0000"));

    let reqs = sim.requests().await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method.as_str(), "POST");
    assert_eq!(
        reqs[0].url.path(),
        format!("/2010-04-01/Accounts/{SIM_ACCOUNT_SID}/Messages.json")
    );
    let auth = reqs[0].headers.get("authorization").unwrap().to_str().unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{SIM_ACCOUNT_SID}:{SIM_AUTH_TOKEN}"));
    assert_eq!(auth, format!("Basic {expected}"));
    let f = form_of(&reqs[0]);
    assert_eq!(field(&f, "To"), Some(TO));
    assert_eq!(field(&f, "From"), Some(SIM_FROM));
    assert_eq!(field(&f, "Body"), Some("Your order has shipped"));

    let m = sim.message(r.provider_id()).unwrap();
    assert_eq!((m.status.as_str(), m.to.as_str()), ("queued", TO));

    // Only phone recipients, refused before anything is sent.
    let e = t.send(&Message::chat("42", "hi")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    assert_eq!(sim.requests().await.len(), 1);
}

#[tokio::test]
async fn messaging_service_messages_start_accepted() {
    let sim = Simulator::start().await;
    let dsn = format!(
        "twilio://{SIM_ACCOUNT_SID}:{SIM_AUTH_TOKEN}@{}?messaging_service={SIM_MESSAGING_SERVICE_SID}",
        sim.uri().trim_start_matches("http://")
    );
    let t = TwilioTransport::from_dsn_str(&dsn).unwrap();
    let r = t.send(&Message::sms(n(TO), "hi")).await.unwrap();
    assert_eq!(r.status, DeliveryStatus::Accepted);
    let f = form_of(&sim.requests().await[0]);
    assert_eq!(field(&f, "MessagingServiceSid"), Some(SIM_MESSAGING_SERVICE_SID));
    assert_eq!(field(&f, "From"), None);
    assert_eq!(r.raw["from"], serde_json::Value::Null);
    assert_eq!(sim.advance(r.provider_id()).await.as_deref(), Some("queued"));
    let m = t.client().fetch_message(r.provider_id()).await.unwrap();
    assert_eq!(m.from.as_deref(), Some(SIM_FROM), "the service picked a sender");
    assert_eq!(m.messaging_service_sid.as_deref(), Some(SIM_MESSAGING_SERVICE_SID));
}

#[tokio::test]
async fn status_lifecycle_and_outcomes() {
    let sim = Simulator::start().await;
    sim.set_outcome("+14155550001", Outcome::Undelivered(30003));
    sim.set_outcome("+14155550002", Outcome::Failed(30008));
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let ok = t.send(&Message::sms(n(TO), "a")).await.unwrap();
    let mut seen = Vec::new();
    while let Some(s) = sim.advance(ok.provider_id()).await {
        let rep = t.status(ok.provider_id()).await.unwrap();
        assert_eq!(rep.raw_status, s);
        seen.push((s, rep.status));
    }
    assert_eq!(
        seen,
        vec![
            ("sending".to_owned(), DeliveryStatus::Queued),
            ("sent".to_owned(), DeliveryStatus::Sent),
            ("delivered".to_owned(), DeliveryStatus::Delivered),
        ]
    );
    let m = t.client().fetch_message(ok.provider_id()).await.unwrap();
    assert_eq!(m.price.as_deref(), Some("-0.00790"));
    assert!(m.sent_at().is_some());

    let und = t.send(&Message::sms(n("+14155550001"), "b")).await.unwrap();
    assert_eq!(sim.deliver(und.provider_id()).await.as_deref(), Some("undelivered"));
    let rep = t.status(und.provider_id()).await.unwrap();
    assert_eq!(
        (rep.status, rep.error_code.as_deref()),
        (DeliveryStatus::Failed, Some("30003"))
    );
    let failed = t.send(&Message::sms(n("+14155550002"), "c")).await.unwrap();
    assert_eq!(sim.deliver(failed.provider_id()).await.as_deref(), Some("failed"));
    assert_eq!(
        sim.message(failed.provider_id()).unwrap().history,
        vec!["queued", "failed"]
    );
    let rep = t.status(failed.provider_id()).await.unwrap();
    assert_eq!(
        (rep.status, rep.error_code.as_deref()),
        (DeliveryStatus::Failed, Some("30008"))
    );

    let e = t.status("SM00000000000000000000000000000000").await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::NotFound, Some("20404")));
    let e = t.status("../Accounts").await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
}

#[tokio::test]
async fn signed_status_callbacks_end_to_end() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_outcome("+14155550001", Outcome::Undelivered(30005));
    let t = with_callback(&sim, &sink);
    let r = t.send(&Message::sms(n(TO), "a")).await.unwrap();
    assert_eq!(
        field(&form_of(&sim.requests().await[0]), "StatusCallback").map(|u| u.ends_with("?acct=1")),
        Some(true)
    );
    sim.deliver(r.provider_id()).await;
    let got = received(&sink, 3).await;
    assert_eq!(got.len(), 3, "no callback for the initial status");
    let mut statuses = Vec::new();
    for req in &got {
        assert!(req.header(SIGNATURE_HEADER).is_some());
        match &t.handle_webhook(req).await.unwrap().events[..] {
            [Event::Delivery(rep)] => {
                assert_eq!(rep.provider_id, r.provider_id());
                assert_eq!(rep.recipient, Some(Recipient::Phone(n(TO))));
                assert_eq!(rep.raw["AccountSid"], SIM_ACCOUNT_SID);
                statuses.push(rep.raw_status.clone());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(statuses, vec!["sending", "sent", "delivered"]);
    assert!(sim.pushes().iter().all(|p| p.status == Some(200)));

    let u = t.send(&Message::sms(n("+14155550001"), "b")).await.unwrap();
    sim.deliver(u.provider_id()).await;
    let got = received(&sink, 6).await;
    match &t.handle_webhook(&got[5]).await.unwrap().events[..] {
        [Event::Delivery(rep)] => {
            assert_eq!(
                (rep.status, rep.raw_status.as_str()),
                (DeliveryStatus::Failed, "undelivered")
            );
            assert_eq!(rep.error_code.as_deref(), Some("30005"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn inbound_messages() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::answering(200, switchboard_twilio::EMPTY_TWIML).await;
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let (sid, status) = sim
        .send_inbound(&format!("{}/hooks/twilio/sms", sink.uri()), TO, SIM_FROM, "STOP")
        .await;
    assert_eq!(status, Some(200));
    let got = received(&sink, 1).await;
    match &t.handle_webhook(&got[0]).await.unwrap().events[..] {
        [Event::Inbound(m)] => {
            assert_eq!(
                (m.provider_id.as_str(), m.from.as_str(), m.text.as_str()),
                (sid.as_str(), TO, "STOP")
            );
            assert_eq!(m.to.as_deref(), Some(SIM_FROM));
            assert_eq!(m.raw["SmsStatus"], "received");
        }
        other => panic!("{other:?}"),
    }
    let m = t.client().fetch_message(&sid).await.unwrap();
    assert_eq!(
        (m.message_status(), m.direction.as_deref()),
        (MessageStatus::Received, Some("inbound"))
    );
}

#[tokio::test]
async fn webhook_refusals() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    let t = with_callback(&sim, &sink);
    let r = t.send(&Message::sms(n(TO), "a")).await.unwrap();
    sim.advance(r.provider_id()).await;
    let good = received(&sink, 1).await.remove(0);
    assert_eq!(t.handle_webhook(&good).await.unwrap().events.len(), 1);

    let mut unsigned = good.clone();
    unsigned.headers.remove(SIGNATURE_HEADER);
    assert_eq!(t.handle_webhook(&unsigned).await.unwrap_err().kind(), ErrorKind::Auth);

    let mut wrong = good.clone();
    wrong
        .headers
        .insert(SIGNATURE_HEADER, "GvWf1cFY/Q7PnoempGyD5oXAezc=".parse().unwrap());
    assert_eq!(t.handle_webhook(&wrong).await.unwrap_err().kind(), ErrorKind::Auth);

    let mut tampered = good.clone();
    let body = String::from_utf8(tampered.body.to_vec())
        .unwrap()
        .replace("sending", "delivered");
    tampered.body = body.into();
    assert_eq!(t.handle_webhook(&tampered).await.unwrap_err().kind(), ErrorKind::Auth);

    let mut extra_param = good.clone();
    let body = format!("{}&Injected=1", String::from_utf8(extra_param.body.to_vec()).unwrap());
    extra_param.body = body.into();
    assert_eq!(
        t.handle_webhook(&extra_param).await.unwrap_err().kind(),
        ErrorKind::Auth
    );

    let mut other_query = good.clone();
    other_query.url = other_query.url.replace("acct=1", "acct=2");
    assert_eq!(
        t.handle_webhook(&other_query).await.unwrap_err().kind(),
        ErrorKind::Auth
    );

    // Another account's token does not verify this account's webhooks.
    let mut other = config(&sim);
    other.auth_token = "0000000000000000000000000000dead".to_owned().into();
    let other = TwilioTransport::new(other).unwrap();
    let e = other.handle_webhook(&good).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!e.to_string().contains(SIM_AUTH_TOKEN));

    // Correctly signed but malformed: an input error, never a panic.
    let url = "https://shop.example/hooks/twilio";
    let token = sim.auth_token();
    for params in [
        vec![("MessageStatus", "sent")],
        vec![("SmsStatus", "received"), ("Body", "x")],
    ] {
        let p: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&p)
            .finish();
        let req = WebhookRequest::post(url, body).with_header(SIGNATURE_HEADER, &signature(&token, url, &p));
        assert_eq!(
            t.handle_webhook(&req).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{params:?}"
        );
    }
    // Garbage bodies with garbage signatures.
    for body in [&b"\xff\xfe"[..], b"=&=&&", b"{\"MessageSid\":1}", b""] {
        let req = WebhookRequest::post(url, body.to_vec()).with_header(SIGNATURE_HEADER, "AAAA");
        assert_eq!(t.handle_webhook(&req).await.unwrap_err().kind(), ErrorKind::Auth);
    }
    let huge = WebhookRequest::post(url, vec![b'a'; 2 * 1024 * 1024]).with_header(SIGNATURE_HEADER, "AAAA");
    assert_eq!(
        t.handle_webhook(&huge).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    // A JSON body whose hash does not match the signed bodySHA256.
    let json_url = format!("{url}?bodySHA256={}", "0".repeat(64));
    let sig = signature(&token, &json_url, &[]);
    let req = WebhookRequest::post(json_url, r#"{"MessageSid":"SM1"}"#).with_header(SIGNATURE_HEADER, &sig);
    assert_eq!(t.handle_webhook(&req).await.unwrap_err().kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn webhooks_behind_a_proxy_and_on_default_ports() {
    let sim = Simulator::start().await;
    let token = sim.auth_token();
    let p = vec![
        ("MessageSid".to_owned(), "SM1".to_owned()),
        ("MessageStatus".to_owned(), "delivered".to_owned()),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&p)
        .finish();
    // Twilio called the public URL; the host behind a TLS-terminating proxy sees another one.
    let public = "https://hooks.example.com/twilio/status?x=1";
    let sig = signature(&token, public, &p);
    let seen = WebhookRequest::post("http://10.0.0.5:8080/twilio/status?x=1", body.clone())
        .with_header(SIGNATURE_HEADER, &sig);
    let plain = TwilioTransport::new(config(&sim)).unwrap();
    assert_eq!(plain.handle_webhook(&seen).await.unwrap_err().kind(), ErrorKind::Auth);
    let mut c = config(&sim);
    c.webhook_origin = Some("https://hooks.example.com".into());
    let proxied = TwilioTransport::new(c).unwrap();
    assert_eq!(proxied.handle_webhook(&seen).await.unwrap().events.len(), 1);

    // Signed with the default port, received without it (and the other way round).
    let with_port = "https://hooks.example.com:443/twilio/status?x=1";
    let req =
        WebhookRequest::post(public, body.clone()).with_header(SIGNATURE_HEADER, &signature(&token, with_port, &p));
    assert_eq!(plain.handle_webhook(&req).await.unwrap().events.len(), 1);
    let req = WebhookRequest::post(with_port, body).with_header(SIGNATURE_HEADER, &sig);
    assert_eq!(plain.handle_webhook(&req).await.unwrap().events.len(), 1);
}

#[tokio::test]
async fn twilios_published_signature_vector() {
    // https://www.twilio.com/docs/usage/security: auth token 12345.
    let p: Vec<(String, String)> = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675310"),
        ("Digits", "1234"),
        ("From", "+14158675310"),
        ("To", "+18005551212"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let token = "12345".to_owned().into();
    assert_eq!(signature(&token, url, &p), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
}

#[tokio::test]
async fn api_errors_map() {
    let sim = Simulator::start().await;
    let c = Client::new(config(&sim)).unwrap();
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
    assert!(sim.messages().is_empty(), "no refused request created a message");

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
    let c = Client::new(cfg).unwrap();
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
    assert!(sim.messages().is_empty());
}

#[tokio::test]
async fn rate_limits_and_server_errors() {
    let sim = Simulator::start().await;
    let c = Client::new(config(&sim)).unwrap();
    sim.queue_error(SimError::rate_limited(Some(3)));
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
    let retrying = Client::new(cfg).unwrap();
    sim.queue_error(SimError::rate_limited(None));
    let m = retrying
        .create_message(&CreateMessage::new(TO).body("x"))
        .await
        .unwrap();
    assert_eq!(sim.messages().len(), 1);
    assert_eq!(sim.messages()[0].sid, m.sid);

    // A 500 may have created it: never repeated, returned as MaybeSent.
    let before = sim.requests().await.len();
    sim.queue_error(SimError::new(500, 20500, "Internal Server Error"));
    let e = retrying
        .create_message(&CreateMessage::new(TO).body("x"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(sim.requests().await.len(), before + 1);
    // …while a read is idempotent and retried through a 500.
    sim.queue_error(SimError::new(500, 20500, "Internal Server Error"));
    assert_eq!(retrying.fetch_message(&m.sid).await.unwrap().sid, m.sid);
    sim.queue_error(SimError::new(503, 20503, "Service Unavailable"));
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

#[tokio::test]
async fn list_pages_cancel_redact_delete() {
    let sim = Simulator::start().await;
    let c = Client::new(config(&sim)).unwrap();
    let mut sids = Vec::new();
    for i in 0..5 {
        sids.push(
            c.create_message(&CreateMessage::new(TO).body(format!("m{i}")))
                .await
                .unwrap()
                .sid,
        );
    }
    c.create_message(&CreateMessage::new("+14155550009").body("other"))
        .await
        .unwrap();
    let filter = ListMessages::new().to(TO).page_size(2);
    let mut page = c.list_messages(&filter).await.unwrap();
    let mut listed = Vec::new();
    loop {
        listed.extend(page.messages.iter().map(|m| m.sid.clone()));
        match c.next_page(&page).await.unwrap() {
            Some(p) => page = p,
            None => break,
        }
    }
    sids.reverse(); // newest first
    assert_eq!(listed, sids);

    let redacted = c.redact_message(&sids[0]).await.unwrap();
    assert_eq!(redacted.body.as_deref(), Some(""));
    let e = c.cancel_message(&sids[0]).await.unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::InvalidInput,
        "only scheduled messages can be canceled"
    );

    let scheduled = c
        .create_message(
            &CreateMessage::new(TO)
                .messaging_service_sid(SIM_MESSAGING_SERVICE_SID)
                .body("later")
                .send_at(chrono::Utc::now() + chrono::Duration::hours(2)),
        )
        .await
        .unwrap();
    assert_eq!(scheduled.message_status(), MessageStatus::Scheduled);
    let canceled = c.cancel_message(&scheduled.sid).await.unwrap();
    assert_eq!(canceled.message_status(), MessageStatus::Canceled);
    assert_eq!(canceled.message_status().delivery_status(), DeliveryStatus::Failed);

    c.delete_message(&sids[1]).await.unwrap();
    assert_eq!(c.fetch_message(&sids[1]).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        c.delete_message(&sids[1]).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn nothing_secret_or_personal_in_debug() {
    let sim = Simulator::start().await;
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let m = t
        .client()
        .create_message(&CreateMessage::new(TO).body("secret text"))
        .await
        .unwrap();
    let page = t
        .client()
        .list_messages(&ListMessages::new().to(TO).page_size(1))
        .await
        .unwrap();
    let shown = format!("{t:?} {m:?} {page:?} {:?} {:?}", sim.messages(), sim.auth_token());
    for needle in [SIM_AUTH_TOKEN, "4155552671", "secret text"] {
        assert!(!shown.contains(needle), "{needle} in {shown}");
    }
    assert_eq!(sim.auth_token().expose_secret(), SIM_AUTH_TOKEN);
}

#[tokio::test]
async fn a_standalone_simulator_moves_messages_by_itself() {
    // What `switchboard sim twilio --port P` runs: a chosen port, no request recording, a timer.
    let sim = Simulator::start_on_port(0).await.unwrap();
    let _timer = sim.auto_advance(Duration::from_millis(5));
    let t = TwilioTransport::from_dsn_str(&sim.dsn()).unwrap();
    let r = t.send(&Message::sms(n(TO), "x")).await.unwrap();
    let mut status = DeliveryStatus::Queued;
    for _ in 0..400 {
        status = t.status(r.provider_id()).await.unwrap().status;
        if status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(status, DeliveryStatus::Delivered);
    assert_eq!(
        sim.message(r.provider_id()).unwrap().history,
        vec!["queued", "sending", "sent", "delivered"]
    );
}

//! The SMS.ru client and transport against the SMS.ru simulator.

use std::time::Duration;

use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::{ConnectionFault, Fault, WebhookSink, connection_fault};
use switchboard_core::{
    DeliveryStatus, Dispatch, Dsn, ErrorKind, Event, Message, PhoneNumber, Recipient, RetryPolicy, Transport,
    WebhookRequest,
};
use switchboard_smsru::error::CODES;
use switchboard_smsru::sim::{SIM_API_ID, SIM_LOGIN, SIM_PASSWORD, SIM_PRICE_PER_PART, Simulator};
use switchboard_smsru::{CALLBACK_ANSWER, Client, Config, SendRequest, SmsRuTransport};

const SECRET: &str = "hook-s3cret";

fn n(s: &str) -> PhoneNumber {
    s.parse().expect("test number")
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false)
}

fn config(sim: &Simulator) -> Config {
    let mut c = Config::from_dsn(&Dsn::parse(&sim.dsn_with_webhook_secret(SECRET)).unwrap()).unwrap();
    c.retry = RetryPolicy::never();
    c
}

fn client(sim: &Simulator) -> Client {
    Client::new(config(sim)).unwrap()
}

fn transport(sim: &Simulator) -> SmsRuTransport {
    SmsRuTransport::new(config(sim)).unwrap()
}

fn form_of(req: &switchboard_core::testkit::wiremock::Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn send_one_through_the_transport() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let r = t
        .send(&Message::sms(n("+79255070602"), "Заказ 17 отправлен"))
        .await
        .unwrap();
    assert_eq!(r.status, DeliveryStatus::Queued);
    assert_eq!(r.transport, "smsru");
    let id = r.provider_id().to_owned();
    assert!(id.len() == 15 && id.as_bytes()[6] == b'-', "{id}");
    let m = sim.message(&id).unwrap();
    assert_eq!(
        (m.to.as_str(), m.status_code, m.from.as_str()),
        ("79255070602", 100, "switchboard")
    );
    assert_eq!(sim.balance_kopecks(), 100_000 - SIM_PRICE_PER_PART);
    assert_eq!(r.raw["sms"]["sms_id"], id.as_str());

    // One POST with the credentials and json=1 in the body, nothing secret in the URL.
    let reqs = sim.requests().await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method.as_str(), "POST");
    assert_eq!(reqs[0].url.path(), "/sms/send");
    assert!(reqs[0].url.query().is_none());
    let f = form_of(&reqs[0]);
    assert_eq!(field(&f, "api_id"), Some(SIM_API_ID));
    assert_eq!(field(&f, "json"), Some("1"));
    assert_eq!(field(&f, "to"), Some("79255070602"));
    assert_eq!(field(&f, "from"), Some("switchboard"));
}

#[tokio::test]
async fn send_a_list_with_a_refused_number() {
    let sim = Simulator::start().await;
    sim.refuse_number("+74993221627", 207);
    let c = client(&sim);
    let reply = c
        .send(&SendRequest::to_many(
            [n("+79255070602"), n("+74993221627")],
            "hello world",
        ))
        .await
        .unwrap();
    assert!(reply.envelope.is_ok());
    let ok = reply.result_for(&n("+79255070602")).unwrap();
    assert!(ok.is_ok());
    let bad = reply.result_for(&n("+74993221627")).unwrap();
    let e = bad.error().unwrap();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Rejected, Dispatch::NotSent));
    assert_eq!(e.provider_code(), Some("207"));
    assert_eq!(reply.balance.unwrap().to_minor_units(), Some(sim.balance_kopecks()));
    assert_eq!(sim.messages().len(), 1);
}

#[tokio::test]
async fn per_recipient_texts_go_in_one_request() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let reply = c
        .send(&SendRequest::per_recipient([
            (n("+79255070602"), "Привет 1".to_owned()),
            (n("+74993221627"), "Привет 2".to_owned()),
        ]))
        .await
        .unwrap();
    assert_eq!(reply.sms.len(), 2);
    let f = form_of(&sim.requests().await[0]);
    assert_eq!(field(&f, "to[79255070602]"), Some("Привет 1"));
    assert_eq!(field(&f, "msg"), None);
    let texts: Vec<String> = sim.messages().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, vec!["Привет 1", "Привет 2"]);
}

#[tokio::test]
async fn send_many_packs_requests_and_answers_in_order() {
    let sim = Simulator::start().await;
    sim.refuse_number("+79255070603", 209);
    let t = transport(&sim);
    let msgs = vec![
        Message::sms(n("+79255070601"), "same"),
        Message::sms(n("+79255070602"), "same"),
        Message::to(Recipient::email("a@b.co").unwrap(), "not an sms"),
        Message::sms(n("+79255070603"), "other"),
        Message::sms(n("+79255070601"), "again, same number"),
        Message::sms(n("+79255070604"), "   "),
    ];
    let out = t.send_many(&msgs).await;
    assert_eq!(out.len(), 6);
    assert!(out[0].is_ok() && out[1].is_ok() && out[4].is_ok());
    let e = out[2].as_ref().unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    assert_eq!(out[3].as_ref().unwrap_err().provider_code(), Some("209"));
    assert_eq!(out[5].as_ref().unwrap_err().kind(), ErrorKind::InvalidInput);
    // Numbers 1, 2, 3 in one request; number 1's second message in another.
    let sends = sim.requests().await;
    assert_eq!(sends.len(), 2);
    assert_eq!(field(&form_of(&sends[0]), "to[79255070601]"), Some("same"));
    assert_eq!(field(&form_of(&sends[1]), "to"), Some("79255070601"));
    let ids: Vec<&str> = [0, 1, 4]
        .iter()
        .map(|i| out[*i].as_ref().unwrap().provider_id())
        .collect();
    assert_eq!(sim.message(ids[2]).unwrap().text, "again, same number");
    assert_eq!(sim.message(ids[0]).unwrap().to, "79255070601");

    // 150 messages with one text: two requests, `to=` lists of 100 and 50.
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let many: Vec<Message> = (0..150)
        .map(|i| Message::sms(n(&format!("+7925507{i:04}")), "promo"))
        .collect();
    let out = t.send_many(&many).await;
    assert!(out.iter().all(|r| r.is_ok()));
    let sends = sim.requests().await;
    assert_eq!(sends.len(), 2);
    let first = form_of(&sends[0]);
    assert_eq!(field(&first, "to").unwrap().split(',').count(), 100);
    assert_eq!(field(&first, "msg"), Some("promo"));
}

#[tokio::test]
async fn a_failed_batch_fails_every_message_with_the_same_facts() {
    let sim = Simulator::start().await;
    sim.fail_next(500);
    let t = transport(&sim);
    let out = t
        .send_many(&[
            Message::sms(n("+79255070601"), "a"),
            Message::sms(n("+79255070602"), "b"),
        ])
        .await;
    for r in &out {
        let e = r.as_ref().unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch(), e.provider_code()),
            (ErrorKind::Unavailable, Dispatch::NotSent, Some("500"))
        );
    }
}

#[tokio::test]
async fn statuses_move_and_map() {
    let sim = Simulator::start().await;
    sim.set_outcome("+79255070609", 104);
    let t = transport(&sim);
    let a = t.send(&Message::sms(n("+79255070602"), "a")).await.unwrap();
    let b = t.send(&Message::sms(n("+79255070609"), "b")).await.unwrap();
    let seen = |code: i32| code.to_string();
    assert_eq!(t.status(a.provider_id()).await.unwrap().raw_status, seen(100));
    assert_eq!(sim.advance(a.provider_id()).await, Some(101));
    assert_eq!(t.status(a.provider_id()).await.unwrap().status, DeliveryStatus::Queued);
    assert_eq!(sim.advance(a.provider_id()).await, Some(102));
    assert_eq!(t.status(a.provider_id()).await.unwrap().status, DeliveryStatus::Sent);
    assert_eq!(sim.deliver(a.provider_id()).await, Some(103));
    let r = t.status(a.provider_id()).await.unwrap();
    assert_eq!((r.status, r.error_code), (DeliveryStatus::Delivered, None));
    assert_eq!(sim.deliver(b.provider_id()).await, Some(104));
    let r = t.status(b.provider_id()).await.unwrap();
    assert_eq!(
        (r.status, r.error_code.as_deref()),
        (DeliveryStatus::Expired, Some("104"))
    );
    assert_eq!(sim.advance(b.provider_id()).await, None, "final states do not move");

    let e = t.status("000000-99999999").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = t.status("1&api_id=x").await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));

    // The client asks about several ids at once.
    let c = client(&sim);
    let st = c.status(&[a.provider_id(), b.provider_id(), "000000-1"]).await.unwrap();
    assert_eq!(st.sms[a.provider_id()].status_code, 103);
    assert!(!st.sms["000000-1"].is_found());
}

#[tokio::test]
async fn cost_balance_limits_senders() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let long = "x".repeat(200); // two GSM-7 parts
    let cost = c
        .cost(&SendRequest::per_recipient([
            (n("+79255070601"), long.clone()),
            (n("+79255070602"), "short".to_owned()),
        ]))
        .await
        .unwrap();
    assert_eq!(cost.cost_for(&n("+79255070601")).unwrap().sms, Some(2));
    assert_eq!(
        cost.total_cost.as_ref().unwrap().to_minor_units(),
        Some(3 * SIM_PRICE_PER_PART)
    );
    assert_eq!(cost.total_sms, Some(3));
    assert!(sim.messages().is_empty(), "cost sends nothing");
    assert_eq!(sim.balance_kopecks(), 100_000);

    sim.set_balance_kopecks(123_456);
    let b = c.balance().await.unwrap();
    assert_eq!(b.balance.to_minor_units(), Some(123_456));
    assert_eq!(c.limit().await.unwrap().total_limit, Some(5000));
    assert_eq!(c.free().await.unwrap().total_free, Some(5));
    sim.approve_sender("Shop");
    assert_eq!(c.senders().await.unwrap().senders, vec!["switchboard", "Shop"]);
    c.auth_check().await.unwrap();
}

#[tokio::test]
async fn credentials() {
    let sim = Simulator::start().await;
    let uri = sim.uri();
    let bad = Client::new(
        Config::builder("K3Y-not-the-one")
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

    let login = Client::new(
        Config::builder_login(SIM_LOGIN, SIM_PASSWORD)
            .base_url(&uri)
            .build()
            .unwrap(),
    )
    .unwrap();
    login.auth_check().await.unwrap();
    let bad = Client::new(Config::builder_login(SIM_LOGIN, "nope").base_url(&uri).build().unwrap()).unwrap();
    assert_eq!(bad.auth_check().await.unwrap_err().provider_code(), Some("301"));
    assert!(!format!("{login:?}").contains(SIM_PASSWORD));
}

#[tokio::test]
async fn every_documented_request_error_maps() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    for info in CODES.iter().filter(|c| c.kind.is_some()) {
        sim.fail_next(info.code);
        let e = c.send(&SendRequest::single(n("+79255070602"), "x")).await.unwrap_err();
        assert_eq!(Some(e.kind()), info.kind, "{}", info.code);
        assert_eq!(e.dispatch(), Dispatch::NotSent, "{}", info.code);
        assert_eq!(e.provider_code(), Some(info.code.to_string().as_str()));
        assert_eq!(e.provider(), Some("smsru"));
        assert_eq!(e.is_retryable(), matches!(info.code, 220 | 500), "{}", info.code);
        assert!(e.provider_text().is_some());
    }
    assert!(sim.messages().is_empty());
}

#[tokio::test]
async fn only_220_and_500_are_retried() {
    let sim = Simulator::start().await;
    let mut cfg = config(&sim);
    cfg.retry = fast_retry();
    let c = Client::new(cfg).unwrap();
    sim.fail_next(220);
    sim.fail_next(500);
    let reply = c.send(&SendRequest::single(n("+79255070602"), "x")).await.unwrap();
    assert!(reply.result_for(&n("+79255070602")).unwrap().is_ok());
    assert_eq!(sim.requests().await.len(), 3);
    assert_eq!(sim.messages().len(), 1, "exactly one message despite the retries");

    sim.fail_next(201);
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
async fn the_simulator_validates_like_sms_ru() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let e = t
        .send(&Message::sms(n("+79255070602"), "x").with_from("Unapproved"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Rejected, Some("204")));
    let e = t
        .send(&Message::sms(n("+79255070602"), "z".repeat(153 * 8 + 1)))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::InvalidInput, Some("205")));
    sim.set_balance_kopecks(100);
    let e = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Rejected, Some("201")));

    // test=1: answered like a send, nothing charged.
    let test = SmsRuTransport::from_dsn_str(&format!("{}&test=1", sim.dsn())).unwrap();
    let r = test.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    assert!(sim.message(r.provider_id()).unwrap().test);
    assert_eq!(sim.balance_kopecks(), 100);
}

#[tokio::test]
async fn raw_protocol_quirks() {
    let sim = Simulator::start().await;
    let http = reqwest::Client::new();
    let base = sim.uri();
    // GET works as well as POST (the official examples use GET).
    let v: serde_json::Value = http
        .get(format!(
            "{base}/sms/send?api_id={SIM_API_ID}&to=79255070602,74993221627&msg=hello+world&json=1"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "OK");
    assert_eq!(v["sms"]["74993221627"]["status_code"], 100);
    // Without json=1, the legacy text answer.
    let text = http
        .post(format!("{base}/my/balance"))
        .form(&[("api_id", SIM_API_ID)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("100\n"), "{text}");
    // Always HTTP 200, even for errors.
    let r = http
        .post(format!("{base}/no/such"))
        .form(&[("api_id", SIM_API_ID), ("json", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (v["status"].as_str(), v["status_code"].as_i64()),
        (Some("ERROR"), Some(211))
    );
    // A text that is not UTF-8: 212.
    let r = http
        .post(format!("{base}/sms/send"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("api_id={SIM_API_ID}&json=1&to=79255070602&msg=%FF%FE"))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status_code"], 212);
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
    assert!(sim.messages().is_empty());
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
        let cfg = Config::builder(SIM_API_ID)
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
    assert_eq!(sim.deliver(r.provider_id()).await, Some(103));
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
    assert!(sim.deliveries().iter().all(|d| d.acknowledged()));

    // advance_all batches every change into one body per URL: data[0], data[1].
    let a = t.send(&Message::sms(n("+79255070603"), "a")).await.unwrap();
    let b = t.send(&Message::sms(n("+79255070604"), "b")).await.unwrap();
    assert_eq!(sim.advance_all().await, 2);
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
    sim.advance(r.provider_id()).await;
    let d = sim.deliveries();
    assert_eq!(d.len(), 1);
    assert!(!d[0].acknowledged());
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
    let no_secret = SmsRuTransport::from_dsn_str(&sim.dsn()).unwrap();
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

#[tokio::test]
async fn nothing_secret_or_personal_in_debug() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let r = t
        .client()
        .send(&SendRequest::single(n("+79255070602"), "secret text"))
        .await
        .unwrap();
    let shown = format!("{t:?} {r:?} {:?}", sim.messages());
    for needle in [SIM_API_ID, SECRET, "79255070602", "secret text"] {
        assert!(!shown.contains(needle), "{needle} in {shown}");
    }
}

#[tokio::test]
async fn a_standalone_simulator_moves_messages_by_itself() {
    // What `switchboard sim smsru --port P` runs: a chosen port, no request recording, a timer.
    let sim = Simulator::start_on_port(0).await.unwrap();
    assert!(sim.dsn().contains(&sim.uri().replace("http://", "@")));
    let _timer = sim.auto_advance(Duration::from_millis(5));
    let t = SmsRuTransport::from_dsn_str(&sim.dsn()).unwrap();
    let r = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    let mut status = DeliveryStatus::Queued;
    for _ in 0..400 {
        status = t.status(r.provider_id()).await.unwrap().status;
        if status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(status, DeliveryStatus::Delivered);
    assert_eq!(sim.message(r.provider_id()).unwrap().history, vec![100, 101, 102, 103]);
    assert!(sim.requests().await.is_empty(), "recording is off on a chosen port");
}

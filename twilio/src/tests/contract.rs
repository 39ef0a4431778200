//! Twilio's published Messages API contract, checked against the client and the simulator: the
//! status report's typed fields, the create options and list filters, what a 2xx that cannot be
//! used means, and every refusal the simulator must share with Twilio.

use crate::sim::{
    INVALID_PARAMETER, Outcome, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_FROM, SIM_MESSAGING_SERVICE_SID, Simulator,
};
use crate::{
    AddressRetention, ContentRetention, CreateMessage, ListMessages, RiskCheck, TrafficType, TwilioClient,
    TwilioTransport,
};
use chrono::{Duration as Days, Utc};
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::Fault;
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Message, RetryPolicy, Transport};

use super::{TO, config, form_of, n, settle};

/// A raw create's form fields.
type Form = Vec<(&'static str, String)>;

/// POSTs a raw create, as a client that does not check anything would, and returns (HTTP status,
/// Twilio error code).
async fn raw_create(sim: &Simulator, form: &[(&str, String)]) -> (u16, Option<i64>) {
    let r = reqwest::Client::new()
        .post(format!(
            "{}/2010-04-01/Accounts/{SIM_ACCOUNT_SID}/Messages.json",
            sim.uri()
        ))
        .basic_auth(SIM_ACCOUNT_SID, Some(SIM_AUTH_TOKEN))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let v: serde_json::Value = r.json().await.unwrap();
    if status < 300 {
        return (status, None);
    }
    assert_eq!(v["status"], status, "{v}");
    assert_eq!(
        v["more_info"],
        format!("https://www.twilio.com/docs/errors/{}", v["code"])
    );
    (status, v["code"].as_i64())
}

async fn raw_list(sim: &Simulator, query: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/{SIM_ACCOUNT_SID}/Messages.json",
            sim.uri()
        ))
        .basic_auth(SIM_ACCOUNT_SID, Some(SIM_AUTH_TOKEN))
        .query(query)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_status_report_carries_the_error_text_the_price_and_the_segments() {
    let sim = Simulator::start().await;
    sim.set_outcome("+14155550001", Outcome::Undelivered(30003));
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let two_parts = "x".repeat(161);

    let queued = t.send(&Message::sms(n(TO), two_parts.clone())).await.unwrap();
    let rep = t.status(queued.provider_id()).await.unwrap();
    assert_eq!(
        (rep.segments, rep.price.as_ref(), rep.error_message.as_deref()),
        (Some(2), None, None)
    );

    settle(&sim).await;
    let rep = t.status(queued.provider_id()).await.unwrap();
    assert_eq!(rep.status, DeliveryStatus::Delivered);
    let price = rep.price.expect("a sent message is priced");
    assert_eq!(
        (price.amount(), price.currency()),
        ("0.01580", "USD"),
        "a charge, positive"
    );
    assert_eq!(price.to_micros(), Some(2 * 7_900));
    assert_eq!((rep.segments, rep.error_message), (Some(2), None));

    let und = t.send(&Message::sms(n("+14155550001"), "b")).await.unwrap();
    settle(&sim).await;
    let rep = t.status(und.provider_id()).await.unwrap();
    assert_eq!(
        (rep.status, rep.error_code.as_deref(), rep.error_message.as_deref()),
        (
            DeliveryStatus::Failed,
            Some("30003"),
            Some("Unreachable destination handset")
        )
    );
    assert_eq!(
        (rep.segments, rep.price.map(|p| p.to_micros())),
        (Some(1), Some(Some(7_900)))
    );
}

#[tokio::test]
async fn the_typed_create_options_reach_twilio_and_are_accepted() {
    let sim = Simulator::start().await;
    let c = TwilioClient::new(config(&sim)).unwrap();
    let m = c
        .create_message(
            &CreateMessage::new(TO)
                .messaging_service_sid(SIM_MESSAGING_SERVICE_SID)
                .body("hi")
                .content_retention(ContentRetention::Discard)
                .address_retention(AddressRetention::Obfuscate)
                .traffic_type(TrafficType::Free)
                .risk_check(RiskCheck::Disable)
                .fallback_from(SIM_FROM),
        )
        .await
        .unwrap();
    assert_eq!(m.status, "accepted");
    let f = form_of(&sim.requests().await[0]);
    for (k, v) in [
        ("ContentRetention", "discard"),
        ("AddressRetention", "obfuscate"),
        ("TrafficType", "free"),
        ("RiskCheck", "disable"),
        ("FallbackFrom", SIM_FROM),
    ] {
        assert!(f.contains(&(k.to_owned(), v.to_owned())), "{k} missing from {f:?}");
    }
    // Every value of every option is one Twilio takes.
    for (i, r) in ContentRetention::ALL.iter().enumerate() {
        let a = AddressRetention::ALL[i % AddressRetention::ALL.len()];
        let k = RiskCheck::ALL[i % RiskCheck::ALL.len()];
        let req = CreateMessage::new(TO)
            .body("x")
            .content_retention(*r)
            .address_retention(a)
            .risk_check(k);
        c.create_message(&req).await.unwrap();
    }

    // What the client refuses costs no request.
    let before = sim.requests().await.len();
    for req in [
        CreateMessage::new(TO).body("x").fallback_from(SIM_FROM),
        CreateMessage::new(TO).body("x").validity_period(36_001),
    ] {
        let e = c.create_message(&req).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    }
    assert_eq!(sim.requests().await.len(), before);
}

#[tokio::test]
async fn the_simulator_refuses_what_twilio_refuses() {
    let sim = Simulator::start().await;
    let base = |extra: &[(&'static str, String)]| {
        let mut f = vec![
            ("To", TO.to_owned()),
            ("From", SIM_FROM.to_owned()),
            ("Body", "x".to_owned()),
        ];
        f.extend(extra.iter().cloned());
        f
    };
    let service = |extra: &[(&'static str, String)]| {
        let mut f = vec![
            ("To", TO.to_owned()),
            ("MessagingServiceSid", SIM_MESSAGING_SERVICE_SID.to_owned()),
            ("Body", "x".to_owned()),
        ];
        f.extend(extra.iter().cloned());
        f
    };
    let s = |v: &str| v.to_owned();
    let at =
        |secs: i64| (Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let media: Vec<(&str, String)> = (0..11)
        .map(|i| ("MediaUrl", format!("https://h.example/{i}.png")))
        .collect();
    let cases: Vec<(&str, Form, i64)> = vec![
        (
            "ContentRetention outside retain|discard",
            base(&[("ContentRetention", s("keep"))]),
            INVALID_PARAMETER,
        ),
        (
            "AddressRetention outside retain|obfuscate",
            base(&[("AddressRetention", s("hide"))]),
            INVALID_PARAMETER,
        ),
        (
            "TrafficType other than free",
            base(&[("TrafficType", s("paid"))]),
            INVALID_PARAMETER,
        ),
        (
            "RiskCheck outside enable|disable",
            base(&[("RiskCheck", s("off"))]),
            INVALID_PARAMETER,
        ),
        (
            "ScheduleType other than fixed",
            service(&[("ScheduleType", s("later"))]),
            INVALID_PARAMETER,
        ),
        (
            "a boolean that is not true|false",
            base(&[("SmartEncoded", s("yes"))]),
            INVALID_PARAMETER,
        ),
        (
            "Attempt not an integer",
            base(&[("Attempt", s("twice"))]),
            INVALID_PARAMETER,
        ),
        (
            "ContentSid not HX…",
            base(&[("ContentSid", s("HXnope"))]),
            INVALID_PARAMETER,
        ),
        (
            "ApplicationSid not AP…",
            base(&[("ApplicationSid", s("AP12"))]),
            INVALID_PARAMETER,
        ),
        ("ValidityPeriod 0", base(&[("ValidityPeriod", s("0"))]), 21624),
        (
            "ValidityPeriod over 36000",
            base(&[("ValidityPeriod", s("36001"))]),
            21624,
        ),
        (
            "ValidityPeriod not a number",
            base(&[("ValidityPeriod", s("1h"))]),
            21624,
        ),
        (
            "FallbackFrom without a Messaging Service",
            base(&[("FallbackFrom", s(SIM_FROM))]),
            21666,
        ),
        (
            "FallbackFrom not a sender",
            service(&[("FallbackFrom", s("not a sender!"))]),
            21212,
        ),
        (
            "FallbackFrom a number not the account's",
            service(&[("FallbackFrom", s("+15005550001"))]),
            21606,
        ),
        (
            "ScheduleType=fixed without SendAt",
            service(&[("ScheduleType", s("fixed"))]),
            35111,
        ),
        (
            "SendAt under 300 s ahead",
            service(&[("ScheduleType", s("fixed")), ("SendAt", at(60))]),
            35114,
        ),
        (
            "SendAt over 35 days ahead",
            service(&[("ScheduleType", s("fixed")), ("SendAt", at(36 * 86_400))]),
            35114,
        ),
        (
            "SendAt not ISO 8601",
            service(&[("ScheduleType", s("fixed")), ("SendAt", s("tomorrow"))]),
            35114,
        ),
        ("more than 10 MediaUrl", base(&media), 21623),
        (
            "StatusCallback with an underscore in the host",
            base(&[("StatusCallback", s("https://my_host.example.com/cb"))]),
            21609,
        ),
    ];
    for (what, form, code) in &cases {
        assert_eq!(raw_create(&sim, form).await, (400, Some(*code)), "{what}");
    }
    assert!(sim.sent().is_empty(), "no refused request created a message");

    // What Twilio takes: every documented value, a schedule inside the window, and parameters it does
    // not know (ignored, as Twilio's warning 20001 says).
    let accepted = [
        base(&[("ContentRetention", s("retain")), ("AddressRetention", s("retain"))]),
        base(&[
            ("TrafficType", s("free")),
            ("RiskCheck", s("enable")),
            ("SmartEncoded", s("True")),
        ]),
        base(&[
            ("ValidityPeriod", s("36000")),
            ("Attempt", s("2")),
            ("NotAParameter", s("x")),
        ]),
        service(&[("ScheduleType", s("fixed")), ("SendAt", at(3_600))]),
        service(&[("FallbackFrom", s(SIM_FROM))]),
    ];
    for form in &accepted {
        assert_eq!(raw_create(&sim, form).await, (201, None), "{form:?}");
    }
    assert_eq!(sim.sent().len(), accepted.len());
    assert_eq!(sim.sent()[3].status, "scheduled");

    // Listing: PageSize 1–1000 and DateSent values that are dates.
    for q in [
        [("PageSize", "0")],
        [("PageSize", "1001")],
        [("DateSent", "yesterday")],
        [("DateSent<", "2024-13-40")],
        [("DateSent>", "06/11/2019")],
    ] {
        let (status, v) = raw_list(&sim, &q).await;
        assert_eq!((status, v["code"].as_i64()), (400, Some(INVALID_PARAMETER)), "{q:?}");
    }

    // No credentials at all.
    let r = reqwest::Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/{SIM_ACCOUNT_SID}/Messages.json",
            sim.uri()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], 20003);
}

#[tokio::test]
async fn messages_are_listed_by_sent_date_ranges() {
    let sim = Simulator::start().await;
    let c = TwilioClient::new(config(&sim)).unwrap();
    let sent = c.create_message(&CreateMessage::new(TO).body("a")).await.unwrap();
    settle(&sim).await;
    let unsent = c.create_message(&CreateMessage::new(TO).body("b")).await.unwrap();
    let today = Utc::now().date_naive();
    let sids = |p: &crate::MessagePage| p.messages.iter().map(|m| m.sid.clone()).collect::<Vec<_>>();

    for (filter, expect) in [
        (ListMessages::new().sent_on(today), vec![sent.sid.clone()]),
        (ListMessages::new().sent_on_or_before(today), vec![sent.sid.clone()]),
        (ListMessages::new().sent_on_or_after(today), vec![sent.sid.clone()]),
        (
            ListMessages::new()
                .sent_on_or_after(today - Days::days(1))
                .sent_on_or_before(today + Days::days(1)),
            vec![sent.sid.clone()],
        ),
        (ListMessages::new().sent_on_or_before(today - Days::days(1)), vec![]),
        (ListMessages::new().sent_on_or_after(today + Days::days(1)), vec![]),
        (ListMessages::new().to(TO), vec![unsent.sid.clone(), sent.sid.clone()]),
    ] {
        let page = c.list_messages(&filter).await.unwrap();
        assert_eq!(sids(&page), expect, "{filter:?}");
    }
    let q: Vec<(String, String)> = sim
        .requests()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .flat_map(|r| r.url.query_pairs().into_owned().collect::<Vec<_>>())
        .collect();
    assert!(q.contains(&("DateSent<".to_owned(), today.format("%Y-%m-%d").to_string())));
    assert!(q.contains(&("DateSent>".to_owned(), today.format("%Y-%m-%d").to_string())));

    // A filter Twilio would refuse never leaves.
    let before = sim.requests().await.len();
    for bad in [
        ListMessages::new().date_sent("last week"),
        ListMessages::new().page_size(0),
    ] {
        let e = c.list_messages(&bad).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    }
    assert_eq!(sim.requests().await.len(), before);
}

#[tokio::test]
async fn a_2xx_to_a_create_that_cannot_be_used_is_never_not_sent() {
    let sim = Simulator::start().await;
    // Retries on: nothing here may be repeated, since Twilio took each request.
    let mut cfg = config(&sim);
    cfg.retry = RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(std::time::Duration::from_millis(1), std::time::Duration::from_millis(2))
        .with_jitter(false);
    let t = TwilioTransport::new(cfg).unwrap();
    let msg = Message::sms(n(TO), "x");
    for body in [
        r#"{"sid":"","status":"queued"}"#,
        r#"{"sid":"garbage/../x","status":"queued"}"#,
        r#"{"status":"queued","to":"+14155552671"}"#,
        r#"{"sid":42,"status":"queued"}"#,
        r#"[{"sid":"SM0123456789abcdef0123456789abcdef"}]"#,
        r#"{"code":21211,"message":"not a create","status":400}"#,
    ] {
        let before = sim.requests().await.len();
        sim.faults().push(Fault::StatusJson(201, body.to_owned()));
        let e = t.send(&msg).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::Decode, Dispatch::MaybeSent),
            "{body}"
        );
        assert_eq!(e.provider(), Some("twilio"));
        assert_eq!(sim.requests().await.len(), before + 1, "not repeated: {body}");
    }
}

//! The simulator refuses what Mitto refuses (parameters of the wrong JSON type or out of range,
//! parameters the legacy API does not have), the client refuses them before sending, and a message
//! Mitto took is never reported as "not sent", whatever came back.

use crate::sim::{SIM_API_KEY, SIM_TRAFFIC_ACCOUNT, Simulator};
use crate::{MittoClient, MittoConfig, MittoTransport, SmsRequest};
use serde_json::{Value, json};
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, Dsn, ErrorKind, Message, PhoneNumber, Transport};

async fn post(sim: &Simulator, path: &str, body: &Value) -> (u16, String, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sim.uri()))
        .header("X-Mitto-API-Key", SIM_API_KEY)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.json().await.unwrap_or(Value::Null))
}

fn with(good: &Value, field: &str, bad: Value) -> Value {
    let mut b = good.clone();
    b[field] = bad;
    b
}

#[tokio::test]
async fn legacy_bodies_of_the_wrong_types_ranges_or_fields_are_refused() {
    let sim = Simulator::start().await;
    let good = json!({"from": "Acme", "to": "41751231234", "text": "hi", "validity": 60, "pid": 0,
        "flash": false, "test": false, "reference": "r1", "udh": "050003CC0201", "type": "GSM",
        "callback": "https://example.com/dlr"});
    let (status, _, answer) = post(&sim, "/sms", &good).await;
    assert_eq!((status, answer["responseCode"].as_i64()), (200, Some(0)), "{answer}");
    let mut bulk = good.clone();
    bulk["to"] = json!(["41751231234", "41751231235"]);
    assert_eq!(post(&sim, "/smsbulk", &bulk).await.0, 200);
    let stored = sim.sent().len();

    for (path, base) in [("/sms", &good), ("/smsbulk", &bulk)] {
        for (field, bad) in [
            ("validity", json!("60")),
            ("validity", json!(0)),
            ("validity", json!(4_294_967_295u64)),
            ("pid", json!(300)),
            ("flash", json!(1)),
            ("test", json!("true")),
            ("udh", json!("not hex")),
            ("reference", json!(5)),
            ("callback", json!({"url": "x"})),
            ("to", json!(41751231234u64)),
            ("priority", json!("high")),
        ] {
            let (status, ct, answer) = post(&sim, path, &with(base, field, bad.clone())).await;
            assert_eq!(status, 400, "{path} {field}={bad}");
            assert!(ct.starts_with("application/problem+json"), "{ct}");
            assert!(answer["errors"][field].is_array(), "{path} {field}: {answer}");
        }
    }
    for (path, body) in [
        ("/sms/converted", json!({"messageId": "x", "campaign": "y"})),
        ("/sms/converted", json!({"messageId": 7})),
        (
            "/usage/bycountry",
            json!({"startDate": "2024-01-01", "endDate": 20240131}),
        ),
    ] {
        assert_eq!(post(&sim, path, &body).await.0, 400, "{path} {body}");
    }
    assert_eq!(sim.sent().len(), stored, "nothing refused was stored");
}

#[tokio::test]
async fn messaging_bodies_of_the_wrong_types_are_refused() {
    let sim = Simulator::start().await;
    let good = json!({"trafficAccountId": SIM_TRAFFIC_ACCOUNT, "destination": "+41751231234",
        "sms": {"text": "hi", "sender": "Acme"}});
    assert_eq!(post(&sim, "/api/v1.1/Messages/send", &good).await.0, 200);
    for (field, bad) in [
        ("destination", json!(41751231234u64)),
        ("sms", json!("hi")),
        ("trafficAccountId", json!(1)),
    ] {
        assert_eq!(
            post(&sim, "/api/v1.1/Messages/send", &with(&good, field, bad)).await.0,
            400,
            "{field}"
        );
    }
    let mut sms_text = good.clone();
    sms_text["sms"]["text"] = json!(["hi"]);
    assert_eq!(post(&sim, "/api/v1.1/Messages/send", &sms_text).await.0, 400);
    let bulk = json!({"trafficAccountId": SIM_TRAFFIC_ACCOUNT, "destinations": "+41751231234",
        "sms": {"text": "hi", "sender": "Acme"}});
    assert_eq!(post(&sim, "/api/v1.1/Messages/sendbulk", &bulk).await.0, 400);
    assert_eq!(sim.sent().len(), 1);
}

#[tokio::test]
async fn the_client_refuses_what_mitto_would_before_sending() {
    let sim = Simulator::start().await;
    let config = MittoConfig::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    let c = MittoClient::new(config).unwrap();
    let to = PhoneNumber::parse("+41751231234", None).unwrap();
    for req in [
        SmsRequest::new("Acme", &to, "hi").with_validity(u32::MAX),
        SmsRequest::new("Acme", &to, "hi").with_validity(0),
        {
            let mut r = SmsRequest::new("Acme", &to, "hi");
            r.udh = Some("0x05".into());
            r
        },
    ] {
        let e = c.send_sms(&req).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::InvalidInput, Dispatch::NotSent),
            "{req:?}"
        );
    }
    assert!(sim.requests().await.is_empty());
    let e = MittoConfig::from_dsn(&Dsn::parse(&format!("{}&validity=3000000000", sim.dsn())).unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

fn garbled() -> Vec<Fault> {
    vec![
        Fault::MalformedJson,
        Fault::TruncatedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
        Fault::StatusJson(200, "[1]".into()),
        Fault::StatusJson(200, r#"{"responseCode":8,"responseText":"Invalid receiver"}"#.into()),
        Fault::StatusJson(200, r#"{"responseCode":0,"responseText":"SMS sent"}"#.into()),
        Fault::StatusJson(200, r#"{"messages":[]}"#.into()),
        Fault::StatusJson(200, r#"{"messages":[{"messageId":{"odd":7}}]}"#.into()),
    ]
}

#[tokio::test]
async fn a_message_mitto_took_is_never_not_sent_whatever_its_answer() {
    let sim = Simulator::start().await;
    let to = |n: u8| PhoneNumber::parse(&format!("+4175123123{n}"), None).unwrap();
    for dsn in [sim.dsn(), sim.dsn_messaging()] {
        let mitto = MittoTransport::from_dsn_str(&dsn).unwrap();
        for answer in garbled() {
            // One message, then a bulk of three.
            let before = sim.sent().len();
            sim.faults().push(Fault::AfterHandling(Box::new(answer.clone())));
            let e = mitto.send(&Message::sms(to(1), "hi")).await.unwrap_err();
            assert_ne!(e.dispatch(), Dispatch::NotSent, "{dsn} {answer:?}: {e}");
            assert_eq!(sim.sent().len(), before + 1, "{answer:?}: taken once, never repeated");

            let before = sim.sent().len();
            sim.faults().push(Fault::AfterHandling(Box::new(answer.clone())));
            let batch: Vec<Message> = (2..5).map(|n| Message::sms(to(n), "same")).collect();
            for r in mitto.send_many(&batch).await {
                let e = r.unwrap_err();
                assert_ne!(e.dispatch(), Dispatch::NotSent, "bulk {answer:?}: {e}");
            }
            assert_eq!(sim.sent().len(), before + 3, "{answer:?}");
        }
    }
}

#[tokio::test]
async fn one_odd_entry_of_a_bulk_answer_costs_that_receipt_not_the_batch() {
    let sim = Simulator::start().await;
    let mitto = MittoTransport::from_dsn_str(&sim.dsn()).unwrap();
    let to = |n: u8| PhoneNumber::parse(&format!("+4175123123{n}"), None).unwrap();
    let batch: Vec<Message> = (1..4).map(|n| Message::sms(to(n), "same")).collect();
    sim.faults().push(Fault::AfterHandling(Box::new(Fault::StatusJson(
        200,
        r#"{"responseCode":0,"responseText":"SMS sent","messages":[
            {"id":"aaaa0001","to":"41751231231"},
            {"id":{"odd":true},"to":"41751231232"},
            {"id":12345,"to":41751231233}]}"#
            .into(),
    ))));
    let results = mitto.send_many(&batch).await;
    assert_eq!(results[0].as_ref().unwrap().provider_id(), "aaaa0001");
    let e = results[1].as_ref().unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));
    assert_eq!(
        results[2].as_ref().unwrap().provider_id(),
        "12345",
        "a numeric id is an id"
    );

    let mitto = MittoTransport::from_dsn_str(&sim.dsn_messaging()).unwrap();
    sim.faults().push(Fault::AfterHandling(Box::new(Fault::StatusJson(
        200,
        r#"{"messages":[{"messageId":987}]}"#.into(),
    ))));
    let r = mitto.send(&Message::sms(to(1), "hi")).await.unwrap();
    assert_eq!(r.provider_id(), "987");
}

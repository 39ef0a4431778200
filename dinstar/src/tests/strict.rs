//! The simulator refuses what the gateway's manual calls malformed (error_code 400/413), so a client
//! regression shows up here; and an SMS the gateway queued is never reported as "not sent", whatever
//! came back.

use crate::SmsBatch;
use crate::sim::{SIM_PASSWORD, SIM_USERNAME, Simulator};
use crate::tests::{client, number};
use diqwest::{DigestAuthSession, WithDigestAuth};
use serde_json::{Value, json};
use switchboard_core::Dispatch;
use switchboard_core::testkit::Fault;

/// POSTs `body` with Digest auth; answers the envelope's `error_code`.
async fn code_of(sim: &Simulator, path: &str, body: &Value) -> i64 {
    let session = DigestAuthSession::new(SIM_USERNAME, SIM_PASSWORD);
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sim.uri()))
        .json(body)
        .send_digest_auth(&session)
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "the gateway answers 200 and puts the outcome in error_code"
    );
    r.json::<Value>().await.unwrap()["error_code"].as_i64().unwrap()
}

fn with(good: &Value, pointer: &str, bad: Value) -> Value {
    let mut b = good.clone();
    *b.pointer_mut(pointer).unwrap() = bad;
    b
}

#[tokio::test]
async fn send_sms_bodies_the_manual_calls_malformed_are_refused() {
    let sim = Simulator::start().await;
    let good = json!({"text": "Hi #param#", "port": [0, 1], "encoding": "unicode",
        "request_status_report": true,
        "param": [{"number": "355691000000", "text_param": ["Ana"], "user_id": 1}]});
    assert_eq!(code_of(&sim, "/api/send_sms", &good).await, 202);
    for (pointer, bad, code) in [
        ("/param/0/user_id", json!("1"), 400),
        ("/param/0/user_id", json!(-1), 400),
        ("/param/0/number", json!(355691000000u64), 400),
        ("/param/0/number", json!("+35569 100"), 400),
        ("/param/0/number", json!("1".repeat(25)), 400),
        ("/param/0/text_param", json!("Ana"), 400),
        ("/port", json!([32]), 400),
        ("/port", json!("0,1"), 400),
        ("/encoding", json!("utf-8"), 400),
        ("/request_status_report", json!("true"), 400),
        ("/text", json!(42), 400),
        ("/text", json!("x".repeat(1501)), 413),
    ] {
        assert_eq!(
            code_of(&sim, "/api/send_sms", &with(&good, pointer, bad.clone())).await,
            code,
            "{pointer}={bad}"
        );
    }
    let many: Vec<Value> = (0..129)
        .map(|i| json!({"number": format!("35569{:07}", i), "user_id": i}))
        .collect();
    assert_eq!(
        code_of(&sim, "/api/send_sms", &with(&good, "/param", json!(many))).await,
        413
    );
    assert_eq!(sim.sent().len(), 1, "only the well-formed request queued anything");
}

#[tokio::test]
async fn queries_and_ussd_the_manual_calls_malformed_are_refused() {
    let sim = Simulator::start().await;
    let good = json!({"number": ["355691000000"], "user_id": [1], "port": [0],
        "time_after": "2024-05-01 00:00:00", "time_before": "2024-05-02 00:00:00"});
    for path in ["/api/query_sms_result", "/api/query_sms_deliver_status"] {
        assert_eq!(code_of(&sim, path, &good).await, 200);
        for (pointer, bad, code) in [
            ("/time_after", json!("yesterday"), 400),
            ("/time_after", json!("2024-05-01T00:00:00Z"), 400),
            ("/time_before", json!("2024-13-01 00:00:00"), 400),
            ("/time_before", json!(1714521600), 400),
            ("/number/0", json!("not a number"), 400),
            ("/number", json!(vec!["355691000000"; 33]), 413),
        ] {
            assert_eq!(
                code_of(&sim, path, &with(&good, pointer, bad.clone())).await,
                code,
                "{path} {pointer}={bad}"
            );
        }
    }
    assert_eq!(
        code_of(&sim, "/api/get_cdr", &json!({"time_after": "2024/05/01"})).await,
        400
    );

    let ussd = json!({"port": [0], "command": "send", "text": "*100#"});
    assert_eq!(code_of(&sim, "/api/send_ussd", &ussd).await, 202);
    for (pointer, bad) in [
        ("/command", json!(1)),
        ("/command", json!("query")),
        ("/text", json!(100)),
        ("/text", json!("*".repeat(61))),
        ("/port", json!(0)),
    ] {
        assert_eq!(
            code_of(&sim, "/api/send_ussd", &with(&ussd, pointer, bad.clone())).await,
            400,
            "{pointer}={bad}"
        );
    }
}

#[tokio::test]
async fn an_sms_the_gateway_queued_is_never_not_sent_whatever_its_answer() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.query_sms_in_queue().await.unwrap(); // the Digest challenge, so faults meet the sends
    for answer in [
        Fault::MalformedJson,
        Fault::TruncatedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
        Fault::StatusJson(200, "[1]".into()),
        Fault::StatusJson(200, r#"{"sn":"x"}"#.into()),
        Fault::StatusJson(200, r#"{"error_code":"accepted"}"#.into()),
        Fault::StatusJson(200, r#"{"error_code":500}"#.into()),
        Fault::StatusJson(200, r#"{"error_code":999}"#.into()),
        Fault::StatusJson(200, r#"{"error_code":202,"task_id":"x"}"#.into()),
    ] {
        let before = sim.sent().len();
        sim.faults().push(Fault::AfterHandling(Box::new(answer.clone())));
        let outcome = c
            .send_batch(&SmsBatch::new("Your order is ready").to(number(0)))
            .await
            .unwrap();
        for s in &outcome.submissions {
            let e = s.outcome.as_ref().unwrap_err();
            assert_ne!(e.dispatch(), Dispatch::NotSent, "{answer:?}: {e}");
        }
        assert_eq!(sim.sent().len(), before + 1, "{answer:?}: queued once, never repeated");
    }
}

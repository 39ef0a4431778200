//! The simulator refuses what MightyCall refuses, so a client regression shows up here; and a send
//! MightyCall took is never reported as "not sent", whatever came back.

use crate::MightyCallTransport;
use crate::sim::{SIM_API_KEY, SIM_BUSINESS_NUMBER, SIM_USER_KEY, Simulator};
use serde_json::{Value, json};
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, Message, PhoneNumber, Transport};

async fn token_request(sim: &Simulator, content_type: &str, body: String) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/v4/auth/token", sim.uri()))
        .header("x-api-key", SIM_API_KEY)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn a_refresh_that_still_carries_the_client_credentials_is_refused() {
    let sim = Simulator::start().await;
    let creds = [
        ("grant_type", "client_credentials"),
        ("client_id", SIM_API_KEY),
        ("client_secret", SIM_USER_KEY),
    ];
    let (status, grant) = token_request(&sim, FORM, form(&creds)).await;
    assert_eq!(status, 200);
    let refresh = grant["refresh_token"].as_str().unwrap().to_owned();

    let with_creds = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", SIM_API_KEY),
        ("client_secret", SIM_USER_KEY),
    ];
    let (status, body) = token_request(&sim, FORM, form(&with_creds)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));

    // The refresh token was not spent by the refused request: the documented form still works.
    let plain = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
    let (status, _) = token_request(&sim, FORM, form(&plain)).await;
    assert_eq!(status, 200);
    let stats = sim.token_stats();
    assert_eq!((stats.client_credentials, stats.refresh, stats.refused), (1, 1, 1));
}

#[tokio::test]
async fn a_token_request_that_is_not_form_encoded_is_refused() {
    let sim = Simulator::start().await;
    let body = json!({"grant_type": "client_credentials", "client_id": SIM_API_KEY, "client_secret": SIM_USER_KEY});
    let (status, answer) = token_request(&sim, "application/json", body.to_string()).await;
    assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_request")));
    assert_eq!(sim.token_stats().client_credentials, 0);
}

#[tokio::test]
async fn send_bodies_of_the_wrong_json_types_are_refused() {
    let sim = Simulator::start().await;
    let (_, grant) = token_request(
        &sim,
        FORM,
        form(&[
            ("grant_type", "client_credentials"),
            ("client_id", SIM_API_KEY),
            ("client_secret", SIM_USER_KEY),
        ]),
    )
    .await;
    let token = grant["access_token"].as_str().unwrap().to_owned();
    let good = json!({"from": SIM_BUSINESS_NUMBER, "to": ["+12025550143"], "message": "hi", "attachments": []});
    let mut cases: Vec<(&str, Value)> = Vec::new();
    for (field, bad) in [
        ("from", json!(18444131701u64)),
        ("to", json!("+12025550143")),
        ("to", json!([12025550143u64])),
        ("message", json!(42)),
        ("attachments", json!("https://example.com/a.png")),
    ] {
        let mut b = good.clone();
        b[field] = bad;
        cases.push((field, b));
    }
    cases.push(("body", json!([good.clone()])));
    for (what, body) in cases {
        let r = reqwest::Client::new()
            .post(format!("{}/v4/api/contactcenter/messages/send", sim.uri()))
            .header("x-api-key", SIM_API_KEY)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{what}: {body}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["isSuccess"], false);
        assert_eq!(answer["error"]["code"], "InvalidRequest", "{what}");
    }
    assert_eq!(sim.sends(), 0);
}

#[tokio::test]
async fn a_send_mightycall_took_is_never_not_sent_whatever_its_answer() {
    let sim = Simulator::start().await;
    let mc = MightyCallTransport::from_dsn_str(&sim.dsn()).unwrap();
    mc.client().authenticate().await.unwrap();
    let to = PhoneNumber::parse("+12025550143", None).unwrap();
    let answers = [
        Fault::MalformedJson,
        Fault::TruncatedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
        Fault::StatusJson(200, "{}".into()),
        Fault::StatusJson(200, "[1]".into()),
        Fault::StatusJson(202, r#"{"isSuccess":false,"error":{"code":"X","message":"y"}}"#.into()),
    ];
    for (i, answer) in answers.into_iter().enumerate() {
        sim.faults().push(Fault::AfterHandling(Box::new(answer.clone())));
        let e = mc.send(&Message::sms(to.clone(), "hi")).await.unwrap_err();
        assert_ne!(e.dispatch(), Dispatch::NotSent, "{answer:?}: {e}");
        assert_eq!(
            sim.sends(),
            i + 1,
            "{answer:?}: MightyCall acted once and nothing was repeated"
        );
    }
    // `isSuccess: true` with an id of no known shape: accepted, so a receipt (that cannot be looked up).
    sim.faults().push(Fault::AfterHandling(Box::new(Fault::StatusJson(
        200,
        r#"{"isSuccess":true,"data":{"id":{"nested":1}}}"#.into(),
    ))));
    let r = mc.send(&Message::sms(to, "hi")).await.unwrap();
    assert_eq!(r.provider_id(), "");
}

//! The simulator refuses what TeleCMI refuses (parameters of the wrong JSON type, out-of-range pages),
//! so a client regression shows up here; and a call TeleCMI placed is never reported as "not sent",
//! whatever came back.

use crate::sim::{SIM_APP_ID, SIM_SECRET, SIM_USERS, Simulator};
use crate::{AllowAll, CallRequest, Credentials, Flavour, TeleCmiClient, TeleCmiConfig};
use serde_json::{Value, json};
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, PhoneNumber};

const AGENT: &str = "101_1111112";

async fn post(sim: &Simulator, path: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sim.uri()))
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn token(sim: &Simulator) -> String {
    let (_, answer) = post(
        sim,
        "/v2/user/login",
        &json!({"id": SIM_USERS[0].0, "password": SIM_USERS[0].1}),
    )
    .await;
    answer["token"].as_str().unwrap().to_owned()
}

/// `good` with `field` replaced by `bad`.
fn with(good: &Value, field: &str, bad: Value) -> Value {
    let mut b = good.clone();
    b[field] = bad;
    b
}

async fn refused(sim: &Simulator, path: &str, good: &Value, cases: &[(&str, Value)]) {
    for (field, bad) in cases {
        let body = with(good, field, bad.clone());
        let (status, answer) = post(sim, path, &body).await;
        assert_eq!((status, answer["code"].as_u64()), (400, Some(400)), "{path} {body}");
        assert!(answer["msg"].as_str().unwrap().contains(field), "{path}: {answer}");
    }
}

#[tokio::test]
async fn click_to_call_parameters_of_the_wrong_type_are_refused() {
    let sim = Simulator::start().await;
    let admin = json!({"user_id": AGENT, "secret": SIM_SECRET, "to": 919812345678u64,
        "extra_params": {"crm": true}, "webrtc": true, "followme": false, "callerid": 919800000000u64});
    assert_eq!(
        post(&sim, "/v2/webrtc/click2call", &admin).await.0,
        200,
        "the documented body"
    );
    refused(
        &sim,
        "/v2/webrtc/click2call",
        &admin,
        &[
            ("to", json!("919812345678")),
            ("extra_params", json!("{\"crm\":true}")),
            ("webrtc", json!("true")),
            ("followme", json!(0)),
            ("callerid", json!("919800000000")),
            ("user_id", json!(101)),
            ("secret", json!(12345)),
            ("to", json!(-919812345678i64)),
        ],
    )
    .await;

    let user = json!({"token": token(&sim).await, "to": 919812345678u64, "extra_params": {"crm": "1"}});
    assert_eq!(post(&sim, "/v2/ind/click2call", &user).await.0, 200);
    refused(
        &sim,
        "/v2/ind/click2call",
        &user,
        &[
            ("to", json!("919812345678")),
            ("extra_params", json!("crm=1")),
            ("callerid", json!("919800000000")),
        ],
    )
    .await;

    // The legacy host documents `to` (and `custom`) as strings: a number is refused there.
    let legacy = json!({"agent_id": AGENT, "token": SIM_SECRET, "to": "9812345678", "custom": "x"});
    assert_eq!(post(&sim, "/v1/adminConnect", &legacy).await.0, 200);
    refused(
        &sim,
        "/v1/adminConnect",
        &legacy,
        &[("to", json!(9812345678u64)), ("custom", json!({"a": 1}))],
    )
    .await;
    assert_eq!(sim.sent().len(), 3, "only the documented bodies placed calls");
}

#[tokio::test]
async fn list_and_login_parameters_of_the_wrong_type_or_range_are_refused() {
    let sim = Simulator::start().await;
    let now = chrono::Utc::now().timestamp_millis();
    let admin = json!({"appid": SIM_APP_ID, "secret": SIM_SECRET, "start_date": now - 60_000,
        "end_date": now, "page": 1, "limit": 20});
    assert_eq!(post(&sim, "/v2/answered", &admin).await.0, 200);
    refused(
        &sim,
        "/v2/answered",
        &admin,
        &[
            ("appid", json!(SIM_APP_ID.to_string())),
            ("start_date", json!((now - 60_000).to_string())),
            ("end_date", json!(now as f64 + 0.5)),
            ("page", json!(0)),
            ("limit", json!("5")),
        ],
    )
    .await;
    let legacy = json!({"appid": SIM_APP_ID, "token": SIM_SECRET, "page": 1, "limit": 5});
    assert_eq!(post(&sim, "/v1/missed", &legacy).await.0, 200);
    refused(&sim, "/v1/missed", &legacy, &[("appid", json!("1111112"))]).await;

    let user = json!({"token": token(&sim).await, "from": now - 60_000, "to": now, "page": 1,
        "limit": 10, "type": 1});
    assert_eq!(post(&sim, "/v2/user/out_cdr", &user).await.0, 200);
    refused(
        &sim,
        "/v2/user/out_cdr",
        &user,
        &[
            ("from", json!("1700000000000")),
            ("type", json!("1")),
            ("limit", json!(0)),
            ("token", json!(42)),
        ],
    )
    .await;

    let login = json!({"id": SIM_USERS[0].0, "password": SIM_USERS[0].1});
    refused(&sim, "/v2/user/login", &login, &[("password", json!(101))]).await;
}

#[tokio::test]
async fn the_get_form_must_read_as_the_documented_types() {
    let sim = Simulator::start().await;
    for (query, status) in [
        ("to=919200000000&webrtc=true", 200),
        ("to=91920000000x", 400),
        ("to=919200000000&webrtc=yes", 400),
    ] {
        let url = format!(
            "{}/v2/webrtc/click2call?user_id={AGENT}&secret={SIM_SECRET}&{query}",
            sim.uri()
        );
        assert_eq!(reqwest::get(url).await.unwrap().status().as_u16(), status, "{query}");
    }
}

fn customer() -> PhoneNumber {
    PhoneNumber::parse("+91 98123 45678", None).unwrap()
}

#[tokio::test]
async fn a_call_telecmi_placed_is_never_not_sent_whatever_its_answer() {
    let answers = || {
        [
            Fault::MalformedJson,
            Fault::TruncatedJson,
            Fault::WrongContentType,
            Fault::EmptyBody,
            Fault::StatusJson(200, "[1]".into()),
            Fault::StatusJson(
                200,
                r#"{"code":404,"msg":"Invalid Number, failed to authenticate token"}"#.into(),
            ),
            Fault::StatusJson(200, r#"{"code":"cmi-500","msg":"?"}"#.into()),
            Fault::StatusJson(200, r#"{"code":503,"msg":"busy"}"#.into()),
            Fault::StatusJson(200, r#"{"code":429,"msg":"slow down"}"#.into()),
        ]
    };
    let sim = Simulator::start().await;
    let configs = [
        TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, SIM_SECRET)),
        TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, SIM_SECRET)).flavour(Flavour::India),
        TeleCmiConfig::builder(Credentials::user(SIM_USERS[0].0, SIM_USERS[0].1)),
        TeleCmiConfig::builder(Credentials::user(SIM_USERS[0].0, SIM_USERS[0].1)).flavour(Flavour::India),
    ];
    for config in configs {
        let client = TeleCmiClient::builder(config.endpoint(sim.uri()).build().unwrap())
            .policy(AllowAll)
            .build()
            .unwrap();
        if !client.config().credentials.is_admin() {
            client.login().await.unwrap();
        }
        for answer in answers() {
            let before = sim.sent().len();
            sim.faults().push(Fault::AfterHandling(Box::new(answer.clone())));
            let e = client
                .click_to_call(&CallRequest::new(AGENT, customer()))
                .await
                .unwrap_err();
            assert_ne!(e.dispatch(), Dispatch::NotSent, "{answer:?}: {e}");
            assert_eq!(sim.sent().len(), before + 1, "{answer:?}: placed once, never repeated");
        }
    }
}

//! Call records: paging within the documented limits, time ranges, admin and user lists on both hosts,
//! and errors mid-stream.

use std::collections::HashSet;
use std::time::Duration;

use crate::sim::{Outcome, SIM_APP_ID, SIM_SECRET, SIM_USERS, Simulator};
use crate::{
    AllowAll, CallRecord, CallRequest, CdrKind, CdrQuery, Credentials, Flavour, TeleCmiClient, TeleCmiConfig,
    TeleCmiConfigBuilder,
};
use chrono::Utc;
use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::testkit::Fault;
use switchboard_core::{CallState, ErrorKind, PhoneNumber, RetryPolicy};

const AGENT: &str = "101_1111112";

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false)
}

fn client(config: TeleCmiConfigBuilder) -> TeleCmiClient {
    TeleCmiClient::builder(config.build().unwrap())
        .policy(AllowAll)
        .retry(fast_retry())
        .build()
        .unwrap()
}

fn admin(sim: &Simulator) -> TeleCmiClient {
    client(TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, SIM_SECRET)).endpoint(sim.uri()))
}

fn user(sim: &Simulator) -> TeleCmiClient {
    client(TeleCmiConfig::builder(Credentials::user(SIM_USERS[0].0, SIM_USERS[0].1)).endpoint(sim.uri()))
}

fn last_day(kind: CdrKind) -> CdrQuery {
    CdrQuery::last(kind, chrono::Duration::hours(24))
}

async fn collect(client: &TeleCmiClient, q: CdrQuery) -> Vec<switchboard_core::Result<CallRecord>> {
    client.call_records(q).collect().await
}

async fn bodies(sim: &Simulator, path: &str) -> Vec<Value> {
    sim.requests_to(path)
        .await
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn admin_stream_walks_every_page_at_the_admin_maximum_of_20() {
    let sim = Simulator::start().await;
    sim.seed_records(CdrKind::OutgoingAnswered, 45, Some(AGENT));
    sim.seed_records(CdrKind::IncomingMissed, 3, None);
    let c = admin(&sim);
    let records: Vec<CallRecord> = collect(&c, last_day(CdrKind::OutgoingAnswered))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(records.len(), 45);
    let ids: HashSet<_> = records.iter().map(|r| r.id.clone().unwrap()).collect();
    assert_eq!(ids.len(), 45, "no record twice");
    assert!(records.windows(2).all(|w| w[0].time >= w[1].time), "newest first");
    assert!(records.iter().all(|r| r.kind == CdrKind::OutgoingAnswered));
    let r = &records[0];
    assert_eq!(r.agent.as_deref(), Some(AGENT));
    assert!(r.from.as_ref().is_some() && r.to.as_ref().is_some());
    assert_eq!(r.recorded, Some(true), "\"true\" reads as true");
    assert_eq!(r.call_event().state, CallState::Completed);

    let sent = bodies(&sim, "/v2/out_answered").await;
    assert_eq!(sent.len(), 3);
    for (i, b) in sent.iter().enumerate() {
        assert_eq!(b["appid"], json!(SIM_APP_ID));
        assert_eq!(b["secret"], SIM_SECRET);
        assert_eq!(b["limit"], 20);
        assert_eq!(b["page"], json!(i + 1));
        assert!(b["start_date"].as_i64().unwrap() < b["end_date"].as_i64().unwrap());
    }
}

#[tokio::test]
async fn page_size_and_time_range() {
    let sim = Simulator::start().await;
    sim.seed_records(CdrKind::IncomingMissed, 30, None);
    let c = admin(&sim);
    let all = collect(&c, last_day(CdrKind::IncomingMissed).with_page_size(7)).await;
    assert_eq!(all.len(), 30);
    assert_eq!(sim.requests_to("/v2/missed").await.len(), 5, "7+7+7+7+2");

    // Records are one minute apart, the newest a minute ago: ten of them in the last 10.5 minutes.
    let now = Utc::now();
    let q = CdrQuery::new(CdrKind::IncomingMissed, now - chrono::Duration::seconds(630), now);
    assert_eq!(collect(&c, q).await.len(), 10);

    // An empty range: one request, no records.
    let q = CdrQuery::new(
        CdrKind::IncomingMissed,
        now - chrono::Duration::days(9),
        now - chrono::Duration::days(8),
    );
    assert!(collect(&c, q).await.is_empty());

    // Oversized pages are lowered to the documented maximum rather than refused.
    let before = sim.requests_to("/v2/missed").await.len();
    let n = collect(&c, last_day(CdrKind::IncomingMissed).with_page_size(500))
        .await
        .len();
    assert_eq!(n, 30);
    let sent = bodies(&sim, "/v2/missed").await;
    assert!(sent[before..].iter().all(|b| b["limit"] == 20));

    // A backwards range is refused before sending.
    let bad = CdrQuery::new(CdrKind::IncomingMissed, now, now - chrono::Duration::hours(1));
    let got = collect(&c, bad).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_ref().unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn user_lists_page_by_ten_and_see_only_their_calls() {
    let sim = Simulator::start().await;
    sim.seed_records(CdrKind::OutgoingAnswered, 25, Some(AGENT));
    sim.seed_records(CdrKind::OutgoingAnswered, 5, Some(SIM_USERS[1].0));
    let c = user(&sim);
    let got = collect(&c, last_day(CdrKind::OutgoingAnswered)).await;
    assert_eq!(got.len(), 25);
    let sent = bodies(&sim, "/v2/user/out_cdr").await;
    assert_eq!(sent.len(), 3);
    for b in &sent {
        assert_eq!(b["limit"], 10);
        assert_eq!(b["type"], 1, "out_cdr type 1 = answered");
        assert!(b["token"].is_string() && b["from"].is_i64() && b["to"].is_i64());
        assert!(b.get("secret").is_none() && b.get("appid").is_none());
    }
    assert_eq!(sim.login_count(), 1);

    sim.seed_records(CdrKind::OutgoingMissed, 4, Some(AGENT));
    assert_eq!(collect(&c, last_day(CdrKind::OutgoingMissed)).await.len(), 4);
    assert_eq!(sim.requests_to("/v2/user/out_missed").await.len(), 1);

    // CHUB documents no user list of incoming answered calls: Unsupported, nothing sent.
    let got = collect(&c, last_day(CdrKind::IncomingAnswered)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_ref().unwrap_err().kind(), ErrorKind::Unsupported);
    // …and callbacks are a user list only.
    let got = collect(&admin(&sim), last_day(CdrKind::Callbacks)).await;
    assert_eq!(got[0].as_ref().unwrap_err().kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn user_limits_and_missing_parameters_are_400() {
    let sim = Simulator::start().await;
    let c = user(&sim);
    let http = reqwest::Client::new();
    // Log in directly to get a token for raw requests.
    let login: Value = http
        .post(format!("{}/v2/user/login", sim.uri()))
        .json(&json!({"id": SIM_USERS[0].0, "password": SIM_USERS[0].1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let now = Utc::now().timestamp_millis();
    let over = http
        .post(format!("{}/v2/user/missed", sim.uri()))
        .json(&json!({"token": token, "from": now - 1000, "to": now, "limit": 11}))
        .send()
        .await
        .unwrap();
    assert_eq!(over.status().as_u16(), 400);
    let missing = http
        .post(format!("{}/v2/user/missed", sim.uri()))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 400);
    let admin_over = http
        .post(format!("{}/v2/answered", sim.uri()))
        .json(&json!({"appid": SIM_APP_ID, "secret": SIM_SECRET, "limit": 21}))
        .send()
        .await
        .unwrap();
    assert_eq!(admin_over.status().as_u16(), 400);
    let bad_secret = http
        .post(format!("{}/v2/answered", sim.uri()))
        .json(&json!({"appid": SIM_APP_ID, "secret": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_secret.status().as_u16(), 404);

    // The client maps a 400 envelope to InvalidInput.
    sim.faults().push(Fault::StatusJson(
        400,
        r#"{"code":400,"msg":"Parameter limit lesser then equals 10"}"#.into(),
    ));
    let got = collect(&c, last_day(CdrKind::IncomingMissed)).await;
    assert_eq!(got[0].as_ref().unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn errors_end_the_stream_and_temporary_ones_are_retried() {
    let sim = Simulator::start().await;
    sim.seed_records(CdrKind::IncomingAnswered, 50, Some(AGENT));

    let wrong = client(TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, "nope")).endpoint(sim.uri()));
    let got = collect(&wrong, last_day(CdrKind::IncomingAnswered)).await;
    assert_eq!(got.len(), 1, "one error, then the stream ends");
    let e = got[0].as_ref().unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("404")));

    // A 500 on a read is safe to repeat (reads are idempotent), mid-stream too.
    let c = admin(&sim);
    let mut stream = c.call_records(last_day(CdrKind::IncomingAnswered));
    let mut n = 0;
    while let Some(r) = stream.next().await {
        r.unwrap();
        n += 1;
        if n == 20 {
            sim.faults().push(Fault::Status(500));
        }
    }
    assert_eq!(n, 50);
    assert_eq!(
        sim.requests_to("/v2/answered").await.len(),
        1 + 4,
        "the refused request, then 3 pages and 1 retry"
    );

    // Persistent garbage: a Decode error ends the stream after what was read.
    sim.faults().push(Fault::MalformedJson);
    let got = collect(&c, last_day(CdrKind::IncomingAnswered)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_ref().unwrap_err().kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn a_user_token_refused_mid_stream_is_renewed() {
    let sim = Simulator::start().await;
    sim.seed_records(CdrKind::IncomingMissed, 15, None);
    let c = user(&sim);
    let mut stream = c.call_records(last_day(CdrKind::IncomingMissed));
    let mut n = 0;
    while let Some(r) = stream.next().await {
        r.unwrap();
        n += 1;
        if n == 10 {
            sim.expire_tokens();
        }
    }
    assert_eq!(n, 15);
    assert_eq!(sim.login_count(), 2);
}

#[tokio::test]
async fn played_calls_appear_in_the_lists() {
    let sim = Simulator::start().await;
    let c = admin(&sim);
    let to = PhoneNumber::parse("+919812345678", None).unwrap();
    let answered = c.click_to_call(&CallRequest::new(AGENT, to.clone())).await.unwrap();
    let missed = c.click_to_call(&CallRequest::new(AGENT, to)).await.unwrap();
    sim.play(
        answered.request_id.as_deref().unwrap(),
        Outcome::Answered { talk_secs: 42 },
    )
    .await
    .unwrap();
    sim.play(missed.request_id.as_deref().unwrap(), Outcome::Missed)
        .await
        .unwrap();
    sim.inbound_call("919700000001", AGENT, Outcome::Missed).await.unwrap();

    let out: Vec<_> = collect(&c, last_day(CdrKind::OutgoingAnswered)).await;
    assert_eq!(out.len(), 1);
    let r = out[0].as_ref().unwrap();
    assert_eq!(r.duration_secs, Some(42));
    assert_eq!(r.to.as_ref().unwrap().as_str(), "919812345678");
    assert_eq!(
        r.from.as_ref().unwrap().as_str(),
        "919800000000",
        "a string on outgoing lists"
    );
    assert_eq!(r.region.as_deref(), Some("IN"));
    assert_eq!(collect(&c, last_day(CdrKind::OutgoingMissed)).await.len(), 1);
    assert_eq!(collect(&c, last_day(CdrKind::IncomingMissed)).await.len(), 1);

    // The missed inbound caller waits for a call back on the user's list.
    let u = user(&sim);
    let callbacks = collect(&u, last_day(CdrKind::Callbacks)).await;
    assert_eq!(callbacks.len(), 1);
    let cb = callbacks[0].as_ref().unwrap();
    assert_eq!(cb.from.as_ref().unwrap().as_str(), "919700000001");
    assert!(cb.id.is_some());
}

#[tokio::test]
async fn legacy_lists_say_total_and_id_and_write_rates_as_text() {
    let sim = Simulator::start().await;
    sim.seed_records(CdrKind::IncomingAnswered, 12, Some(AGENT));
    sim.seed_records(CdrKind::OutgoingMissed, 3, Some(AGENT));
    let c = client(
        TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, SIM_SECRET))
            .flavour(Flavour::India)
            .endpoint(sim.uri()),
    );
    let page = c
        .call_records_page(&last_day(CdrKind::IncomingAnswered), 1)
        .await
        .unwrap();
    assert_eq!((page.total, page.records.len(), page.limit), (Some(12), 10, 10));
    let r = &page.records[0];
    assert!(r.id.is_some(), "_id is the id");
    assert!(r.raw.get("_id").is_some() && r.raw.get("cmiuid").is_none());
    assert!(r.rate.as_deref().unwrap().contains('.'));
    assert_eq!(collect(&c, last_day(CdrKind::IncomingAnswered)).await.len(), 12);
    let sent = bodies(&sim, "/v1/answered").await;
    assert_eq!(
        sent[0]["token"], SIM_SECRET,
        "the legacy lists take the app secret as 'token'"
    );
    assert!(sent[0].get("secret").is_none());
    assert_eq!(collect(&c, last_day(CdrKind::OutgoingMissed)).await.len(), 3);

    let u = client(
        TeleCmiConfig::builder(Credentials::user(SIM_USERS[0].0, SIM_USERS[0].1))
            .flavour(Flavour::India)
            .endpoint(sim.uri()),
    );
    assert_eq!(collect(&u, last_day(CdrKind::IncomingAnswered)).await.len(), 12);
    assert_eq!(sim.requests_to("/v1/agentAnswered").await.len(), 2);
    assert_eq!(collect(&u, last_day(CdrKind::OutgoingMissed)).await.len(), 3);
    let got = collect(&u, last_day(CdrKind::OutgoingAnswered)).await;
    assert_eq!(got[0].as_ref().unwrap_err().kind(), ErrorKind::Unsupported);
}

//! Click-to-call against the simulator: both variants on both hosts, the call policy, the journal,
//! every documented error code, token renewal and faults.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{SIM_APP_ID, SIM_SECRET, SIM_USERS, Simulator};
use crate::{
    Allow, AllowAll, AllowList, CORRELATION_KEY, CallRequest, Credentials, Decision, Flavour, FnPolicy, TeleCmiClient,
    TeleCmiConfig, TeleCmiConfigBuilder,
};
use serde_json::{Value, json};
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{
    Dispatch, Error, ErrorKind, Journal, JournalEntry, JournalRecord, MemoryJournal, MessageId, PhoneNumber,
    RetryPolicy, async_trait,
};

const AGENT: &str = "101_1111112";
const OTHER: &str = "102_1111112";

fn customer() -> PhoneNumber {
    PhoneNumber::parse("+91 98123 45678", None).unwrap()
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false)
}

fn admin(sim: &Simulator) -> TeleCmiConfigBuilder {
    TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, SIM_SECRET))
        .endpoint(sim.uri())
        .webhook_secret("hook")
}

fn allow_all(config: TeleCmiConfigBuilder) -> TeleCmiClient {
    TeleCmiClient::builder(config.build().unwrap())
        .policy(AllowAll)
        .retry(fast_retry())
        .build()
        .unwrap()
}

async fn bodies(sim: &Simulator, path: &str) -> Vec<Value> {
    sim.requests_to(path)
        .await
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn admin_click_to_call_sends_the_documented_body() {
    let sim = Simulator::start().await;
    let client = allow_all(admin(&sim));
    let callerid = PhoneNumber::parse("+919800000000", None).unwrap();
    let req = CallRequest::new(AGENT, customer())
        .with_correlation("deal-42")
        .with_param("crm", true)
        .with_callerid(callerid);
    let placed = client.click_to_call(&req).await.unwrap();

    let sent = bodies(&sim, "/v2/webrtc/click2call").await;
    assert_eq!(sent.len(), 1);
    let b = &sent[0];
    assert_eq!(b["user_id"], AGENT);
    assert_eq!(b["secret"], SIM_SECRET);
    assert_eq!(
        b["to"],
        json!(919812345678u64),
        "to goes as a JSON number of E.164 digits"
    );
    assert_eq!(b["callerid"], json!(919800000000u64));
    assert_eq!(b["extra_params"], json!({"crm": true, CORRELATION_KEY: "deal-42"}));
    assert!(
        b.get("webrtc").is_none() && b.get("followme").is_none(),
        "TeleCMI's defaults apply"
    );

    let call = &sim.call(&sim.sent()[0].id).unwrap();
    assert_eq!(placed.request_id.as_deref(), Some(call.request_id.as_str()));
    assert_eq!(placed.correlation, "deal-42");
    assert_eq!(placed.message.as_deref(), Some("Call initiated"));
    assert_eq!(call.to, "919812345678");
    let ev = placed.call_event();
    assert_eq!(ev.call_id, call.request_id);
    assert_eq!(ev.state, switchboard_core::CallState::Ringing);
}

#[tokio::test]
async fn ring_mobile_sends_followme_and_no_webrtc() {
    let sim = Simulator::start().await;
    let client = allow_all(admin(&sim));
    client
        .click_to_call(&CallRequest::new(AGENT, customer()).ring_mobile())
        .await
        .unwrap();
    let b = &bodies(&sim, "/v2/webrtc/click2call").await[0];
    assert_eq!(
        (b["followme"].clone(), b["webrtc"].clone()),
        (json!(true), json!(false))
    );
    let c = &sim.call(&sim.sent()[0].id).unwrap();
    assert_eq!((c.followme, c.webrtc), (Some(true), Some(false)));
}

#[tokio::test]
async fn the_default_policy_refuses_everyone_and_nothing_reaches_telecmi() {
    let sim = Simulator::start().await;
    // No policy and no allow= in the configuration.
    let client = TeleCmiClient::new(admin(&sim).build().unwrap()).unwrap();
    let err = client
        .click_to_call(&CallRequest::new(AGENT, customer()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert_eq!(err.dispatch(), Dispatch::NotSent);
    assert_eq!(err.provider(), Some("telecmi"));
    assert!(err.to_string().contains("policy"), "{err}");
    assert!(sim.requests().await.is_empty(), "nothing may reach TeleCMI");
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn allow_lists_from_code_and_from_the_dsn() {
    let sim = Simulator::start().await;
    let client = TeleCmiClient::builder(admin(&sim).build().unwrap())
        .policy(AllowList::new([AGENT]))
        .build()
        .unwrap();
    client
        .click_to_call(&CallRequest::new(AGENT, customer()))
        .await
        .unwrap();
    let err = client
        .click_to_call(&CallRequest::new(OTHER, customer()))
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.dispatch()), (ErrorKind::Rejected, Dispatch::NotSent));
    assert!(err.to_string().contains(OTHER));
    assert_eq!(sim.sent().len(), 1);

    // allow= in the DSN stands for an AllowList; the simulator's DSN allows both users.
    let from_dsn = TeleCmiClient::from_dsn_str(&sim.dsn()).unwrap();
    from_dsn
        .click_to_call(&CallRequest::new(OTHER, customer()))
        .await
        .unwrap();
    let only_one = TeleCmiClient::new(admin(&sim).allow(Allow::Agents(vec![AGENT.into()])).build().unwrap()).unwrap();
    assert_eq!(
        only_one
            .click_to_call(&CallRequest::new(OTHER, customer()))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Rejected
    );
    assert_eq!(sim.sent().len(), 2);
}

#[tokio::test]
async fn a_policy_can_use_who_asked() {
    let sim = Simulator::start().await;
    let policy = FnPolicy(|call: &CallRequest| match call.requested_by.as_deref() {
        Some("crm-user-7") if call.agent == AGENT => Decision::Allow,
        _ => Decision::deny("this CRM user may not ring that agent"),
    });
    let client = TeleCmiClient::builder(admin(&sim).build().unwrap())
        .policy(policy)
        .build()
        .unwrap();
    client
        .click_to_call(&CallRequest::new(AGENT, customer()).requested_by("crm-user-7"))
        .await
        .unwrap();
    let err = client
        .click_to_call(&CallRequest::new(AGENT, customer()).requested_by("crm-user-8"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("may not ring"));
    assert_eq!(sim.sent().len(), 1);
}

#[tokio::test]
async fn every_call_is_journaled_with_its_correlation_id() {
    let sim = Simulator::start().await;
    let journal = Arc::new(MemoryJournal::new());
    let client = TeleCmiClient::builder(admin(&sim).build().unwrap())
        .policy(AllowList::new([AGENT]))
        .journal(journal.clone())
        .build()
        .unwrap();
    let placed = client
        .click_to_call(&CallRequest::new(AGENT, customer()).with_correlation("deal-1"))
        .await
        .unwrap();
    let _ = client
        .click_to_call(&CallRequest::new(OTHER, customer()).with_correlation("deal-2"))
        .await
        .unwrap_err();

    let first = journal.for_message(&MessageId::new("deal-1").unwrap());
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(matches!(first[0].record, JournalRecord::Attempt { attempt: 1, .. }));
    match &first[1].record {
        JournalRecord::Call { transport, event } => {
            assert_eq!(transport, "telecmi");
            assert_eq!(Some(event.call_id.clone()), placed.request_id);
            assert_eq!(event.correlation.as_deref(), Some("deal-1"));
        }
        other => panic!("unexpected {other:?}"),
    }
    let refused = journal.for_message(&MessageId::new("deal-2").unwrap());
    assert_eq!(refused.len(), 1);
    match &refused[0].record {
        JournalRecord::Failed { kind, dispatch, .. } => {
            assert_eq!((kind.as_str(), dispatch.as_str()), ("rejected", "not_sent"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[derive(Debug)]
struct BrokenJournal;

#[async_trait]
impl Journal for BrokenJournal {
    async fn record(&self, _entry: JournalEntry) -> switchboard_core::Result<()> {
        Err(Error::new(ErrorKind::Unavailable, "disk full"))
    }
}

#[tokio::test]
async fn a_journal_that_cannot_record_the_attempt_stops_the_call() {
    let sim = Simulator::start().await;
    let client = TeleCmiClient::builder(admin(&sim).build().unwrap())
        .policy(AllowAll)
        .journal(Arc::new(BrokenJournal))
        .build()
        .unwrap();
    let err = client
        .click_to_call(&CallRequest::new(AGENT, customer()))
        .await
        .unwrap_err();
    assert_eq!(err.dispatch(), Dispatch::NotSent);
    assert!(sim.requests().await.is_empty());
}

#[tokio::test]
async fn documented_error_codes() {
    let sim = Simulator::start().await;

    // 404 "Failed to authenticate secret": a wrong secret, and an agent of another app.
    let wrong = allow_all(TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, "wrong")).endpoint(sim.uri()));
    let e = wrong
        .click_to_call(&CallRequest::new(AGENT, customer()))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::Sent));
    assert_eq!((e.provider_code(), e.http_status()), (Some("404"), Some(404)));
    assert!(e.provider_text().unwrap().contains("authenticate"));
    assert!(!e.to_string().contains("wrong"), "the secret never shows: {e}");
    let client = allow_all(admin(&sim));
    let e = client
        .click_to_call(&CallRequest::new("101_9999999", customer()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);

    // 404 "Invalid Number": a valid E.164 number TeleCMI will not dial.
    sim.refuse_number("919812345678");
    let e = client
        .click_to_call(&CallRequest::new(AGENT, customer()))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Rejected, Dispatch::Sent));
    assert_eq!(
        (e.provider_code(), e.provider_text()),
        (Some("404"), Some("Invalid Number"))
    );
    let other = PhoneNumber::parse("+919812345679", None).unwrap();
    client.click_to_call(&CallRequest::new(AGENT, other)).await.unwrap();
    assert_eq!(sim.sent().len(), 1);

    // 400: the simulator's own answer to a missing `to`, then the client's reading of it.
    let raw = reqwest::Client::new()
        .post(format!("{}/v2/webrtc/click2call", sim.uri()))
        .json(&json!({"user_id": AGENT, "secret": SIM_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    assert_eq!(raw.json::<Value>().await.unwrap()["code"], 400);
    sim.faults().push(Fault::StatusJson(
        400,
        r#"{"code":400,"msg":"To parameter missing"}"#.into(),
    ));
    let e = client
        .click_to_call(&CallRequest::new(AGENT, customer()))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::InvalidInput, Some("400")));

    // A 200 whose envelope says 404 is still an error.
    sim.faults().push(Fault::StatusJson(
        200,
        r#"{"code":404,"msg":"Failed to authenticate secret"}"#.into(),
    ));
    let e = client
        .click_to_call(&CallRequest::new(AGENT, customer()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(sim.sent().len(), 1, "no refused request placed a call");
}

#[tokio::test]
async fn input_errors_are_caught_before_sending() {
    let sim = Simulator::start().await;
    let client = allow_all(admin(&sim));
    let mut both = CallRequest::new(AGENT, customer()).with_webrtc(true);
    both.followme = Some(true);
    for bad in [
        CallRequest::new("not-an-agent", customer()),
        CallRequest::new(AGENT, customer()).with_correlation(""),
        CallRequest::new(AGENT, customer()).with_param(CORRELATION_KEY, "mine"),
        both,
    ] {
        let e = client.click_to_call(&bad).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::InvalidInput, Dispatch::NotSent),
            "{bad:?}"
        );
    }
    assert!(sim.requests().await.is_empty());
}

#[tokio::test]
async fn faults_keep_their_dispatch_fact_and_only_safe_ones_are_retried() {
    let sim = Simulator::start().await;
    let client = allow_all(admin(&sim));
    let call = CallRequest::new(AGENT, customer());

    // 503 is a refusal before any work: retried, and the retry lands.
    sim.faults().push(Fault::Status(503));
    client.click_to_call(&call).await.unwrap();
    assert_eq!(sim.requests_to("/v2/webrtc/click2call").await.len(), 2);
    assert_eq!(sim.sent().len(), 1);

    // 429 with Retry-After: NotSent, retried.
    sim.faults().push(Fault::RateLimited(Some(0)));
    client.click_to_call(&call).await.unwrap();
    assert_eq!(sim.sent().len(), 2);

    // 500 may come after the call was placed: MaybeSent, never repeated.
    sim.faults().push(Fault::Status(500));
    let before = sim.requests_to("/v2/webrtc/click2call").await.len();
    let e = client.click_to_call(&call).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(sim.requests_to("/v2/webrtc/click2call").await.len(), before + 1);

    // Garbage answers are Decode errors.
    for fault in [
        Fault::MalformedJson,
        Fault::TruncatedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
    ] {
        sim.faults().push(fault.clone());
        let e = client.click_to_call(&call).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{fault:?}");
    }

    // A timeout after the request was written: MaybeSent, not repeated.
    let slow = allow_all(admin(&sim).timeout(Duration::from_millis(200)));
    sim.faults().push(Fault::Delay(Duration::from_secs(2)));
    let before = sim.requests_to("/v2/webrtc/click2call").await.len();
    let e = slow.click_to_call(&call).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::MaybeSent));
    assert_eq!(sim.requests_to("/v2/webrtc/click2call").await.len(), before + 1);
}

#[tokio::test]
async fn connection_faults() {
    let call = CallRequest::new(AGENT, customer());
    let at = |url: String| {
        allow_all(
            TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, SIM_SECRET))
                .endpoint(url)
                .timeout(Duration::from_millis(300)),
        )
    };
    let e = at(connection_fault(ConnectionFault::Refused).await.unwrap())
        .click_to_call(&call)
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Transport, Dispatch::NotSent));
    for fault in [
        ConnectionFault::ResetAfterRequest,
        ConnectionFault::CutMidBody,
        ConnectionFault::NeverAnswers,
    ] {
        let e = at(connection_fault(fault).await.unwrap())
            .click_to_call(&call)
            .await
            .unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::MaybeSent, "{fault:?}: {e}");
        assert_eq!(e.provider(), Some("telecmi"));
    }
}

fn user(sim: &Simulator) -> TeleCmiConfigBuilder {
    TeleCmiConfig::builder(Credentials::user(SIM_USERS[0].0, SIM_USERS[0].1)).endpoint(sim.uri())
}

#[tokio::test]
async fn user_token_click_to_call_logs_in_once_and_reuses_the_token() {
    let sim = Simulator::start().await;
    let client = allow_all(user(&sim));
    let req = client.request(customer()).unwrap();
    assert_eq!(req.agent, AGENT);
    client
        .click_to_call(&req.clone().with_param("crm", "yes"))
        .await
        .unwrap();
    client.click_to_call(&req).await.unwrap();
    assert_eq!(sim.login_count(), 1);
    let logins = bodies(&sim, "/v2/user/login").await;
    assert_eq!(logins[0], json!({"id": AGENT, "password": SIM_USERS[0].1}));
    let calls = bodies(&sim, "/v2/ind/click2call").await;
    assert_eq!(calls.len(), 2);
    assert!(calls[0]["token"].as_str().unwrap().starts_with("tok-"));
    assert_eq!(calls[0]["to"], json!(919812345678u64));
    assert_eq!(calls[0]["extra_params"]["crm"], "yes");
    assert!(calls[0].get("secret").is_none());
    assert_eq!(sim.sent().len(), 2);
    assert!(sim.sent().iter().all(|r| sim.call(&r.id).unwrap().agent == AGENT));

    let info = client.login().await.unwrap();
    assert_eq!((info.user_id.as_str(), info.app_id), (AGENT, Some(SIM_APP_ID)));
    assert_eq!(info.category.as_deref(), Some("inr"));
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_and_the_call_goes_through() {
    let sim = Simulator::start().await;
    let client = allow_all(user(&sim));
    let req = client.request(customer()).unwrap();
    client.click_to_call(&req).await.unwrap();
    sim.expire_tokens();
    client.click_to_call(&req).await.unwrap();
    assert_eq!(sim.login_count(), 2);
    assert_eq!(
        sim.sent().len(),
        2,
        "the refused attempt placed nothing, the repeat placed one"
    );
}

#[tokio::test]
async fn the_user_404_is_first_read_as_an_expired_token_and_the_repeat_goes_through() {
    let sim = Simulator::start().await;
    let client = allow_all(user(&sim));
    let req = client.request(customer()).unwrap();
    client.click_to_call(&req).await.unwrap();
    sim.expire_tokens();
    // What TeleCMI answers the stale token: the one 404 it documents for both causes.
    let stale = bodies(&sim, "/v2/ind/click2call").await[0]["token"].clone();
    let raw = reqwest::Client::new()
        .post(format!("{}/v2/ind/click2call", sim.uri()))
        .json(&json!({"token": stale, "to": 919812345678u64}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 404);
    assert_eq!(
        raw.json::<Value>().await.unwrap()["msg"],
        crate::sim::USER_CLICK2CALL_404
    );

    let placed = client.click_to_call(&req).await.unwrap();
    assert!(placed.request_id.is_some());
    assert_eq!(sim.login_count(), 2, "one login again");
    assert_eq!(sim.sent().len(), 2, "the 404 placed nothing, the repeat placed one");
    assert_eq!(sim.requests_to("/v2/ind/click2call").await.len(), 4);
}

#[tokio::test]
async fn a_user_404_that_repeats_with_a_fresh_token_is_a_refused_number() {
    for flavour in [Flavour::Chub, Flavour::India] {
        let sim = Simulator::start().await;
        let client = allow_all(user(&sim).flavour(flavour));
        let (path, digits) = match flavour {
            Flavour::Chub => ("/v2/ind/click2call", "919812345678"),
            _ => ("/v1/agentConnect", "9812345678"),
        };
        sim.refuse_number(digits);
        let e = client
            .click_to_call(&client.request(customer()).unwrap())
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::Rejected, Dispatch::Sent),
            "{flavour:?}"
        );
        assert_eq!((e.provider_code(), e.http_status()), (Some("404"), Some(404)));
        assert!(e.to_string().contains("number"), "{e}");
        assert!(!format!("{e} {e:?}").contains("9812345678"), "{e}");
        assert_eq!(
            sim.login_count(),
            2,
            "{flavour:?}: logged in, then once more for the repeat"
        );
        assert_eq!(sim.requests_to(path).await.len(), 2, "{flavour:?}: one repeat, no loop");
        assert!(sim.sent().is_empty());

        // An expired token and a refused number: the same two tries, the same answer.
        sim.expire_tokens();
        let e = client
            .click_to_call(&client.request(customer()).unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Rejected);
        assert_eq!(sim.requests_to(path).await.len(), 4);
        assert_eq!(sim.login_count(), 3);
    }
}

#[tokio::test]
async fn a_2xx_answer_is_never_followed_by_a_repeat_even_if_its_envelope_says_404() {
    let sim = Simulator::start().await;
    let client = allow_all(user(&sim));
    client.login().await.unwrap();
    sim.faults().push(Fault::StatusJson(
        200,
        format!(r#"{{"code":404,"msg":"{}"}}"#, crate::sim::USER_CLICK2CALL_404),
    ));
    let e = client
        .click_to_call(&client.request(customer()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::Sent);
    assert_eq!(sim.requests_to("/v2/ind/click2call").await.len(), 1);
    assert_eq!(sim.login_count(), 1);
}

#[tokio::test]
async fn concurrent_requests_share_a_single_refresh() {
    let sim = Simulator::start().await;
    let client = allow_all(user(&sim));
    let req = client.request(customer()).unwrap();
    client.click_to_call(&req).await.unwrap();
    sim.expire_tokens();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (c, r) = (client.clone(), req.clone());
        tasks.push(tokio::spawn(async move { c.click_to_call(&r).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(sim.login_count(), 2, "eight refused tokens, one login");
    assert_eq!(client.login_count(), 2);
    assert_eq!(sim.sent().len(), 9);
}

#[tokio::test]
async fn a_token_past_its_lifetime_is_renewed_before_use() {
    let sim = Simulator::start().await;
    let client = allow_all(user(&sim).token_ttl(Duration::ZERO));
    let req = client.request(customer()).unwrap();
    client.click_to_call(&req).await.unwrap();
    client.click_to_call(&req).await.unwrap();
    assert_eq!(sim.login_count(), 2);
    assert_eq!(
        sim.requests_to("/v2/ind/click2call").await.len(),
        2,
        "renewed before use, never refused"
    );
}

#[tokio::test]
async fn user_mode_errors() {
    let sim = Simulator::start().await;
    let wrong = allow_all(TeleCmiConfig::builder(Credentials::user(AGENT, "nope")).endpoint(sim.uri()));
    let e = wrong
        .click_to_call(&CallRequest::new(AGENT, customer()))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("404")));
    assert_eq!(e.dispatch(), Dispatch::NotSent, "the call itself never left");
    assert!(e.to_string().contains("user id or password"), "{e}");
    assert!(!e.to_string().contains("nope"));
    assert!(sim.requests_to("/v2/ind/click2call").await.is_empty());

    let client = allow_all(user(&sim));
    let e = client
        .click_to_call(&CallRequest::new(OTHER, customer()))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    let e = client
        .click_to_call(&CallRequest::new(AGENT, customer()).ring_mobile())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);

    let raw = reqwest::Client::new()
        .post(format!("{}/v2/ind/click2call", sim.uri()))
        .json(&json!({"token": "forged", "to": 919812345678u64}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 404);

    let admin_client = allow_all(admin(&sim));
    assert_eq!(admin_client.login().await.unwrap_err().kind(), ErrorKind::Unsupported);
    assert_eq!(admin_client.request(customer()).unwrap_err().kind(), ErrorKind::Config);
}

#[tokio::test]
async fn legacy_india_admin_connect() {
    let sim = Simulator::start().await;
    let client = TeleCmiClient::from_dsn_str(&sim.india_dsn()).unwrap();
    assert_eq!(client.config().flavour, Flavour::India);
    let placed = client
        .click_to_call(&CallRequest::new(AGENT, customer()).with_correlation("lead-9"))
        .await
        .unwrap();
    assert_eq!(
        placed.message.as_deref(),
        Some("Call terminated"),
        "the legacy API's word for success"
    );
    let b = &bodies(&sim, "/v1/adminConnect").await[0];
    assert_eq!(b["agent_id"], AGENT);
    assert_eq!(b["token"], SIM_SECRET, "the legacy API takes the app secret as 'token'");
    assert_eq!(
        b["to"], "9812345678",
        "Indian numbers as ten national digits, as a string"
    );
    let custom: Value = serde_json::from_str(b["custom"].as_str().unwrap()).unwrap();
    assert_eq!(custom[CORRELATION_KEY], "lead-9");

    let e = client
        .click_to_call(&CallRequest::new(AGENT, customer()).with_webrtc(false))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);

    let wrong = allow_all(
        TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, "bad"))
            .flavour(Flavour::India)
            .endpoint(sim.uri()),
    );
    let e = wrong
        .click_to_call(&CallRequest::new(AGENT, customer()))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("401")));
}

#[tokio::test]
async fn legacy_india_agent_connect() {
    let sim = Simulator::start().await;
    let client = allow_all(user(&sim).flavour(Flavour::India));
    client
        .click_to_call(&client.request(customer()).unwrap())
        .await
        .unwrap();
    assert_eq!(sim.requests_to("/v1/agentLogin").await.len(), 1);
    let b = &bodies(&sim, "/v1/agentConnect").await[0];
    assert_eq!(
        b.as_object().unwrap().len(),
        2,
        "agentConnect takes only token and to: {b}"
    );
    assert_eq!(b["to"], "9812345678");
    let e = client
        .click_to_call(&client.request(customer()).unwrap().with_param("crm", 1))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    sim.expire_tokens();
    client
        .click_to_call(&client.request(customer()).unwrap())
        .await
        .unwrap();
    assert_eq!(sim.login_count(), 2);
}

#[tokio::test]
async fn nothing_secret_in_debug_or_errors() {
    let sim = Simulator::start().await;
    let client = TeleCmiClient::from_dsn_str(&sim.user_dsn()).unwrap();
    let shown = format!("{client:?} {:?}", client.config());
    assert!(
        !shown.contains(SIM_USERS[0].1) && !shown.contains("sim-webhook-secret"),
        "{shown}"
    );
    let req = CallRequest::new(AGENT, customer());
    assert!(!format!("{req:?}").contains("9812345678"));
}

#[tokio::test]
async fn the_simulator_also_takes_the_documented_get_form() {
    let sim = Simulator::start().await;
    let url = format!(
        "{}/v2/webrtc/click2call?user_id={AGENT}&secret={SIM_SECRET}&to=919200000000&webrtc=true&followme=false",
        sim.uri()
    );
    let answer: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(answer["code"], 200);
    assert_eq!(answer["msg"], "Call initiated");
    let call = &sim.call(&sim.sent()[0].id).unwrap();
    assert_eq!(answer["request_id"], json!(call.request_id));
    assert_eq!(
        (call.to.as_str(), call.webrtc, call.followme),
        ("919200000000", Some(true), Some(false))
    );
}

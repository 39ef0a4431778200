//! Token handling against the simulator: first authentication, single flight under concurrency,
//! refresh before expiry, 401 → one refresh + one repeat, refused refresh token → full re-auth, bad
//! keys → `Auth` without a loop, token-endpoint outages.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{SIM_API_KEY, SIM_BUSINESS_NUMBER, SIM_USER_KEY, Simulator};
use crate::{ManualClock, MightyCallClient, MightyCallConfig, SendMessageRequest, TokenState};
use futures::future::join_all;
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, ErrorKind, PhoneNumber, RetryPolicy};

fn retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false)
}

fn client_with(sim: &Simulator, api_key: &str, user_key: &str, clock: &ManualClock) -> MightyCallClient {
    let config = MightyCallConfig::builder(api_key, user_key)
        .base_url(format!("{}/v4", sim.uri()))
        .retry(retry())
        .build()
        .unwrap();
    MightyCallClient::with_clock(config, Arc::new(clock.clone())).unwrap()
}

fn client(sim: &Simulator, clock: &ManualClock) -> MightyCallClient {
    client_with(sim, SIM_API_KEY, SIM_USER_KEY, clock)
}

fn sms(n: u32) -> SendMessageRequest {
    let from = PhoneNumber::parse(SIM_BUSINESS_NUMBER, None).unwrap();
    let to = PhoneNumber::parse("+12025550143", None).unwrap();
    SendMessageRequest::new(&from, &to, format!("message {n}"))
}

fn form_of(req: &switchboard_core::testkit::wiremock::Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body).into_owned().collect()
}

#[tokio::test]
async fn the_first_call_authenticates_with_both_keys() {
    let sim = Simulator::start().await;
    let c = client(&sim, &ManualClock::new());
    assert_eq!(c.token_state(), TokenState::Empty);
    c.send_message(&sms(1)).await.unwrap();
    let stats = sim.token_stats();
    assert_eq!((stats.client_credentials, stats.refresh, stats.refused), (1, 0, 0));
    assert!(matches!(c.token_state(), TokenState::Valid { generation: 1, .. }));

    let token_requests = sim.requests_to("/v4/auth/token").await;
    assert_eq!(token_requests.len(), 1);
    let t = &token_requests[0];
    assert_eq!(t.headers.get("x-api-key").unwrap(), SIM_API_KEY);
    assert!(
        t.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let form = form_of(t);
    assert!(form.contains(&("grant_type".into(), "client_credentials".into())));
    assert!(form.contains(&("client_id".into(), SIM_API_KEY.into())));
    assert!(form.contains(&("client_secret".into(), SIM_USER_KEY.into())));

    // Calls carry both the bearer token and the key.
    let send = sim.requests_to("/v4/api/contactcenter/messages/send").await;
    assert!(
        send[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer at-")
    );
    assert_eq!(send[0].headers.get("x-api-key").unwrap(), SIM_API_KEY);
    // The token is reused.
    c.send_message(&sms(2)).await.unwrap();
    assert_eq!(sim.token_stats().total(), 1);
}

#[tokio::test]
async fn fifty_concurrent_sends_without_a_token_make_exactly_one_token_request() {
    let sim = Simulator::start().await;
    let c = client(&sim, &ManualClock::new());
    let results = join_all((0..50).map(|i| {
        let c = c.clone();
        tokio::spawn(async move { c.send_message(&sms(i)).await })
    }))
    .await;
    for r in results {
        r.unwrap().unwrap();
    }
    assert_eq!(sim.token_stats().total(), 1);
    assert_eq!(sim.token_stats().client_credentials, 1);
    assert_eq!(sim.sends(), 50);
    assert_eq!(sim.unauthorized(), 0);
}

#[tokio::test]
async fn a_token_near_its_24h_expiry_is_refreshed_with_the_refresh_token() {
    let sim = Simulator::start().await;
    let clock = ManualClock::new();
    let c = client(&sim, &clock);
    c.send_message(&sms(1)).await.unwrap();
    // 23 h 56 min later the token is inside the 5-minute margin: refreshed before use, though the
    // server would still take it.
    clock.advance(Duration::from_secs(24 * 3600 - 4 * 60));
    c.send_message(&sms(2)).await.unwrap();
    let stats = sim.token_stats();
    assert_eq!((stats.client_credentials, stats.refresh), (1, 1));
    let tokens = sim.requests_to("/v4/auth/token").await;
    let form = form_of(&tokens[1]);
    assert!(form.contains(&("grant_type".into(), "refresh_token".into())));
    assert!(
        form.iter().all(|(k, _)| k != "client_secret"),
        "a refresh sends only the refresh token"
    );
    assert!(matches!(c.token_state(), TokenState::Valid { generation: 2, .. }));
    assert_eq!(sim.unauthorized(), 0, "no call went out with a stale token");
}

#[tokio::test]
async fn a_401_triggers_one_refresh_and_one_repeat() {
    let sim = Simulator::start().await;
    let c = client(&sim, &ManualClock::new());
    c.send_message(&sms(1)).await.unwrap();
    sim.expire_tokens(); // the server drops the token while the client still trusts it
    c.send_message(&sms(2)).await.unwrap();
    assert_eq!(sim.unauthorized(), 1);
    assert_eq!(sim.token_stats().refresh, 1);
    assert_eq!(
        sim.sends(),
        2,
        "the refused call was not acted on; its repeat sent it once"
    );
    let outgoing = sim.sent().len();
    assert_eq!(outgoing, 2);
}

#[tokio::test]
async fn concurrent_401s_on_one_token_cause_one_refresh() {
    let sim = Simulator::start().await;
    let c = client(&sim, &ManualClock::new());
    c.authenticate().await.unwrap();
    sim.expire_tokens();
    let results = join_all((0..20).map(|i| {
        let c = c.clone();
        tokio::spawn(async move { c.send_message(&sms(i)).await })
    }))
    .await;
    for r in results {
        r.unwrap().unwrap();
    }
    assert_eq!(sim.token_stats().refresh, 1);
    assert_eq!(sim.token_stats().client_credentials, 1);
    assert_eq!(sim.sends(), 20);
}

#[tokio::test]
async fn a_persistent_401_gives_up_after_one_refresh_and_one_repeat() {
    let sim = Simulator::start().await;
    let c = client(&sim, &ManualClock::new());
    c.authenticate().await.unwrap();
    sim.set_always_unauthorized(true);
    let e = c.send_message(&sms(1)).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(e.provider(), Some("mightycall"));
    assert_eq!(sim.api_calls(), 2, "the call and its one repeat");
    assert_eq!(sim.token_stats().refresh, 1, "one refresh");
    assert_eq!(sim.sends(), 0);
}

#[tokio::test]
async fn a_refused_refresh_token_falls_back_to_full_authentication() {
    let sim = Simulator::start().await;
    let clock = ManualClock::new();
    let c = client(&sim, &clock);
    c.send_message(&sms(1)).await.unwrap();
    sim.revoke_refresh_tokens();
    clock.advance(Duration::from_secs(24 * 3600));
    sim.advance_clock(Duration::from_secs(24 * 3600));
    c.send_message(&sms(2)).await.unwrap();
    let stats = sim.token_stats();
    assert_eq!((stats.client_credentials, stats.refresh, stats.refused), (2, 0, 1));
    assert_eq!(sim.sends(), 2);
}

#[tokio::test]
async fn an_expired_token_on_both_clocks_is_refreshed() {
    let sim = Simulator::start().await;
    let clock = ManualClock::new();
    let c = client(&sim, &clock);
    c.send_message(&sms(1)).await.unwrap();
    clock.advance(Duration::from_secs(25 * 3600));
    sim.advance_clock(Duration::from_secs(25 * 3600));
    assert!(matches!(c.token_state(), TokenState::Stale { generation: 1 }));
    c.send_message(&sms(2)).await.unwrap();
    assert_eq!(sim.token_stats().refresh, 1);
    assert_eq!(sim.unauthorized(), 0);
}

#[tokio::test]
async fn bad_keys_are_auth_errors_with_one_token_request_and_no_loop() {
    let sim = Simulator::start().await;
    for (api_key, user_key) in [("wrong-api-key", SIM_USER_KEY), (SIM_API_KEY, "wrong-user-key")] {
        let before = sim.token_stats().total();
        let c = client_with(&sim, api_key, user_key, &ManualClock::new());
        let e = c.send_message(&sms(1)).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent), "{e}");
        assert_eq!(e.provider_code(), Some("invalid_client"));
        assert!(!e.to_string().contains("wrong-"), "{e}");
        assert_eq!(sim.token_stats().total(), before + 1);
    }
    assert_eq!(sim.api_calls(), 0, "no call went out without a token");

    // Fifty at once with a bad key: one token request, fifty Auth errors.
    let c = client_with(&sim, "wrong-api-key", SIM_USER_KEY, &ManualClock::new());
    let before = sim.token_stats().total();
    let results = join_all((0..50).map(|i| {
        let c = c.clone();
        tokio::spawn(async move { c.send_message(&sms(i)).await })
    }))
    .await;
    for r in results {
        assert_eq!(r.unwrap().unwrap_err().kind(), ErrorKind::Auth);
    }
    assert_eq!(sim.token_stats().total(), before + 1);

    // The quirk of a 500 for invalid_client is still Auth, and still not retried.
    sim.set_invalid_client_status(500);
    let c = client_with(&sim, "wrong-api-key", SIM_USER_KEY, &ManualClock::new());
    let before = sim.token_stats().total();
    let e = c.send_message(&sms(1)).await.unwrap_err();
    assert_eq!((e.kind(), e.http_status()), (ErrorKind::Auth, Some(500)));
    assert_eq!(sim.token_stats().total(), before + 1);
}

#[tokio::test]
async fn a_token_endpoint_outage_means_nothing_was_sent() {
    let sim = Simulator::start().await;
    let c = client(&sim, &ManualClock::new());
    // The token request fails ambiguously (500) and then is refused (503): the send never left, so it
    // is retried, and it lands once.
    sim.faults().push(Fault::Status(500));
    sim.faults().push(Fault::Status(503));
    c.send_message(&sms(1)).await.unwrap();
    assert_eq!(sim.sends(), 1);

    // With the retries used up, the error still says the message was not sent.
    let c = client(&sim, &ManualClock::new());
    sim.faults().push_n(Fault::Status(500), 3);
    let e = c.send_message(&sms(2)).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::NotSent));
    assert_eq!(sim.sends(), 1);
}

//! The API operations against the simulator: ping, business numbers, send errors, journal lookups,
//! both account flavours and both path styles, faults with the right kind and dispatch fact.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{SIM_API_KEY, SIM_BUSINESS_NUMBER, SIM_BUSINESS_NUMBER_2, SIM_USER_KEY, Simulator};
use crate::{Flavour, JournalQuery, ManualClock, MightyCallClient, MightyCallConfig, PathStyle, SendMessageRequest};
use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, Dsn, ErrorKind, PhoneNumber, RetryPolicy};

fn retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false)
}

fn client_for(base: &str, flavour: Flavour, style: PathStyle) -> MightyCallClient {
    let config = MightyCallConfig::builder(SIM_API_KEY, SIM_USER_KEY)
        .base_url(base)
        .flavour(flavour)
        .path_style(style)
        .retry(retry())
        .http(HttpOptions::default().timeout(Duration::from_millis(250)))
        .build()
        .unwrap();
    MightyCallClient::with_clock(config, Arc::new(ManualClock::new())).unwrap()
}

fn client(sim: &Simulator) -> MightyCallClient {
    client_for(&format!("{}/v4", sim.uri()), Flavour::ContactCenter, PathStyle::Api)
}

fn biz() -> PhoneNumber {
    PhoneNumber::parse(SIM_BUSINESS_NUMBER, None).unwrap()
}

fn customer() -> PhoneNumber {
    PhoneNumber::parse("+12025550143", None).unwrap()
}

#[tokio::test]
async fn ping_needs_no_token() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    assert_eq!(c.ping().await.unwrap(), serde_json::json!("4"));
    assert_eq!(sim.token_stats().total(), 0);
}

#[tokio::test]
async fn business_numbers() {
    let sim = Simulator::start().await;
    let numbers = client(&sim).business_numbers().await.unwrap();
    let got: Vec<String> = numbers
        .iter()
        .map(|n| n.phone().unwrap().as_e164().to_owned())
        .collect();
    assert_eq!(got, [SIM_BUSINESS_NUMBER, SIM_BUSINESS_NUMBER_2]);
    assert_eq!(numbers[0].label.as_deref(), Some("Main line"));
    assert_eq!(numbers[0].extra["isTollFree"], true);
    assert!(!format!("{numbers:?}").contains("4131701"));
}

#[tokio::test]
async fn flavours_and_path_styles_choose_the_paths() {
    let sim = Simulator::start().await;
    let base = format!("{}/v4", sim.uri());
    let cases = [
        (
            Flavour::ContactCenter,
            PathStyle::Api,
            "/v4/api/contactcenter/messages/send",
            "/v4/api/journal/requests",
        ),
        (
            Flavour::ContactCenter,
            PathStyle::Bare,
            "/v4/contactcenter/messages/send",
            "/v4/journal/requests",
        ),
        (
            Flavour::Classic,
            PathStyle::Api,
            "/v4/api/messages/send",
            "/v4/api/journal/requests",
        ),
        (
            Flavour::Classic,
            PathStyle::Bare,
            "/v4/messages/send",
            "/v4/journal/requests",
        ),
    ];
    for (flavour, style, send_path, journal_path) in cases {
        let c = client_for(&base, flavour, style);
        let journal_before = sim.requests_to(journal_path).await.len();
        c.send_message(&SendMessageRequest::new(&biz(), &customer(), "hi"))
            .await
            .unwrap();
        c.journal_page(&JournalQuery::new(), 1).await.unwrap();
        assert_eq!(sim.requests_to(send_path).await.len(), 1, "{flavour:?} {style:?}");
        assert_eq!(
            sim.requests_to(journal_path).await.len(),
            journal_before + 1,
            "{flavour:?} {style:?}"
        );
    }
    assert_eq!(
        sim.requests_to("/v4/auth/token").await.len(),
        4,
        "the token path is the same in every style"
    );
}

#[tokio::test]
async fn send_answers_an_id_that_is_a_journal_entry() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let r = c
        .send_message(&SendMessageRequest::new(&biz(), &customer(), "Your table is ready"))
        .await
        .unwrap();
    let id = r.id.clone().unwrap();
    assert_eq!(r.raw["isSuccess"], true);
    let sent = sim.requests_to("/v4/api/contactcenter/messages/send").await;
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"from": SIM_BUSINESS_NUMBER, "to": ["+12025550143"], "message": "Your table is ready", "attachments": []})
    );
    sim.set_auto_advance(false);
    let entry = c.journal_request(&id).await.unwrap();
    assert_eq!(
        (entry.kind.as_deref(), entry.origin.as_deref(), entry.state.as_deref()),
        (Some("Message"), Some("Outgoing"), Some("Queued"))
    );
    assert_eq!(entry.text.as_deref(), Some("Your table is ready"));
    let e = c.journal_request("no-such-id").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn refused_sends_carry_mightycalls_code_and_text() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let stranger = PhoneNumber::parse("+12025550199", None).unwrap();
    let e = c
        .send_message(&SendMessageRequest::new(&stranger, &customer(), "hi"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code()),
        (ErrorKind::InvalidInput, Some("InvalidFrom"))
    );
    assert!(e.provider_text().unwrap().contains("business numbers"));
    let e = c
        .send_message(&SendMessageRequest::new(&biz(), &customer(), ""))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    let mut no_to = SendMessageRequest::new(&biz(), &customer(), "hi");
    no_to.to.clear();
    assert_eq!(
        c.send_message(&no_to).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    // A 200 that says isSuccess: false.
    c.authenticate().await.unwrap();
    sim.faults().push(Fault::StatusJson(
        200,
        r#"{"isSuccess":false,"error":{"code":"Quota","message":"daily limit"}}"#.into(),
    ));
    let e = c
        .send_message(&SendMessageRequest::new(&biz(), &customer(), "hi"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_code(), e.provider_text()),
        (ErrorKind::Rejected, Some("Quota"), Some("daily limit"))
    );
    assert_eq!(sim.sends(), 0);
}

#[tokio::test]
async fn faults_classify_and_only_safe_repeats_happen() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.authenticate().await.unwrap();
    let send = || SendMessageRequest::new(&biz(), &customer(), "hi");

    sim.faults().push(Fault::RateLimited(Some(0)));
    c.send_message(&send()).await.unwrap();
    assert_eq!(sim.sends(), 1, "429: not acted on, repeated, landed once");

    sim.faults().push(Fault::Status(502));
    let e = c.send_message(&send()).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(sim.sends(), 1, "an ambiguous send is not repeated");

    sim.faults().push(Fault::MalformedJson);
    let e = c.send_message(&send()).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));

    sim.faults().push(Fault::Delay(Duration::from_secs(2)));
    let e = c.send_message(&send()).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::MaybeSent));

    sim.faults().push(Fault::Status(502));
    sim.faults().push(Fault::Status(500));
    assert!(
        c.journal_page(&JournalQuery::new(), 1).await.is_ok(),
        "reads are repeated"
    );

    for f in [Fault::WrongContentType, Fault::EmptyBody, Fault::TruncatedJson] {
        sim.faults().push(f.clone());
        let e = c.business_numbers().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{f:?}");
    }
}

#[tokio::test]
async fn connection_faults_classify() {
    let refused = connection_fault(ConnectionFault::Refused).await.unwrap();
    let c = client_for(&format!("{refused}/v4"), Flavour::ContactCenter, PathStyle::Api);
    let e = c
        .send_message(&SendMessageRequest::new(&biz(), &customer(), "hi"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Transport, Dispatch::NotSent));
    // The token request is what meets the broken server, so the send itself never left.
    let reset = connection_fault(ConnectionFault::ResetAfterRequest).await.unwrap();
    let c = client_for(&format!("{reset}/v4"), Flavour::ContactCenter, PathStyle::Api);
    let e = c
        .send_message(&SendMessageRequest::new(&biz(), &customer(), "hi"))
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent, "{e}");
    assert_eq!(e.provider(), Some("mightycall"));
}

#[tokio::test]
async fn dsn_flavours() {
    let sim = Simulator::start().await;
    let cc = MightyCallConfig::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    assert_eq!((cc.flavour, cc.path_style), (Flavour::ContactCenter, PathStyle::Api));
    assert_eq!(cc.base_url(), format!("{}/v4", sim.uri()));
    let classic = MightyCallConfig::from_dsn(&Dsn::parse(&sim.dsn_classic()).unwrap()).unwrap();
    assert_eq!(
        (classic.flavour, classic.path_style),
        (Flavour::Classic, PathStyle::Bare)
    );
    let c = MightyCallClient::new(classic).unwrap();
    c.send_message(&SendMessageRequest::new(&biz(), &customer(), "hi"))
        .await
        .unwrap();
    assert_eq!(sim.requests_to("/v4/messages/send").await.len(), 1);
}

//! The legacy SMS API (`/sms`, `/smsbulk`, `/usage/bycountry`, `/sms/converted`) against the simulator:
//! every documented `responseCode`, key problems, test mode, and transport faults with the right kind
//! and dispatch fact.

use std::time::Duration;

use crate::sim::{SIM_API_KEY, SIM_SENDER, Simulator};
use crate::{BulkSmsRequest, MittoClient, MittoConfig, SmsRequest, SmsType, UsageRequest};
use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind, PhoneNumber, RetryPolicy};

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false)
}

fn client_at(base: &str, key: &str) -> MittoClient {
    let config = MittoConfig::builder(key)
        .legacy_base_url(base)
        .from(SIM_SENDER)
        .retry(fast_retry())
        .http(HttpOptions::default().timeout(Duration::from_millis(250)))
        .build()
        .unwrap();
    MittoClient::new(config).unwrap()
}

fn client(sim: &Simulator) -> MittoClient {
    client_at(&sim.uri(), SIM_API_KEY)
}

fn ch() -> PhoneNumber {
    PhoneNumber::parse("+41751231234", None).unwrap()
}

fn de() -> PhoneNumber {
    PhoneNumber::parse("+4915123456789", None).unwrap()
}

#[tokio::test]
async fn sends_one_sms_with_type_from_segmentation() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let r = c
        .send_sms(&SmsRequest::new("Acme", &ch(), "Your code is 4821").with_reference("order-17"))
        .await
        .unwrap();
    let id = r.id.clone().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(r.response_code, Some(0));
    assert_eq!(r.text_length, Some(17));
    assert_eq!(r.to.as_deref(), Some("41751231234"));
    assert_eq!(
        r.timestamp.as_deref().map(|t| t.split('.').nth(1).map(str::len)),
        Some(Some(8))
    );

    let m = sim.message(&id).unwrap();
    assert_eq!(m.kind.as_deref(), Some("GSM"));
    assert_eq!(m.reference.as_deref(), Some("order-17"));
    assert_eq!(m.to, "41751231234", "receivers go as E.164 digits without '+'");

    let r = c
        .send_sms(&SmsRequest::new("Acme", &ch(), "Grüezi, wie gaht's? ç"))
        .await
        .unwrap();
    assert_eq!(sim.message(&r.id.unwrap()).unwrap().kind.as_deref(), Some("Unicode"));
}

#[tokio::test]
async fn sender_rules_are_checked_before_sending() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    for bad in ["", "Ab", "ABCDEFGHIJKL", "123456789012345", "12", "Acme!"] {
        let e = c.send_sms(&SmsRequest::new(bad, &ch(), "hi")).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::InvalidInput, Dispatch::NotSent),
            "{bad:?}: {e}"
        );
        assert_eq!(e.provider(), Some("mitto"));
    }
    let e = c.send_sms(&SmsRequest::new("Acme", &ch(), "")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(sim.sms_requests(), 0, "nothing reached Mitto");
    // The limits themselves pass.
    c.send_sms(&SmsRequest::new("ABCDEFGHIJK", &ch(), "hi")).await.unwrap();
    c.send_sms(&SmsRequest::new("12345678901234", &ch(), "hi"))
        .await
        .unwrap();
    c.send_sms(&SmsRequest::new("Abc", &ch(), "hi")).await.unwrap();
}

#[tokio::test]
async fn every_documented_response_code_maps_under_200_and_400() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let table = [
        (1, ErrorKind::Unavailable, Dispatch::MaybeSent, "Internal error"),
        (2, ErrorKind::InvalidInput, Dispatch::Sent, "Invalid type"),
        (3, ErrorKind::InvalidInput, Dispatch::Sent, "Empty message"),
        (
            4,
            ErrorKind::InvalidInput,
            Dispatch::Sent,
            "Message text invalid for encoding",
        ),
        (5, ErrorKind::InvalidInput, Dispatch::Sent, "Empty sender"),
        (6, ErrorKind::InvalidInput, Dispatch::Sent, "Invalid sender"),
        (7, ErrorKind::InvalidInput, Dispatch::Sent, "Empty receiver"),
        (8, ErrorKind::InvalidInput, Dispatch::Sent, "Invalid receiver"),
        (42, ErrorKind::Rejected, Dispatch::Sent, "Error"),
    ];
    for http_status in [400, 200] {
        sim.set_error_http_status(http_status);
        for (code, kind, dispatch, text) in table {
            sim.fail_next_with_code(code);
            let before = sim.sms_requests();
            let e = c.send_sms(&SmsRequest::new("Acme", &ch(), "hi")).await.unwrap_err();
            assert_eq!(
                (e.kind(), e.dispatch()),
                (kind, dispatch),
                "code {code} under HTTP {http_status}"
            );
            assert_eq!(e.provider_code(), Some(code.to_string().as_str()));
            assert_eq!(e.provider_text(), Some(text));
            assert_eq!(e.http_status(), Some(http_status));
            assert_eq!(sim.sms_requests(), before + 1, "code {code} is never retried");
        }
    }
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn codes_the_simulator_derives_from_input() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    // GSM forced on text that needs UCS-2: code 4, found by Mitto, not by us.
    let e = c
        .send_sms(&SmsRequest::new("Acme", &ch(), "Привет").with_type(SmsType::Gsm))
        .await
        .unwrap_err();
    assert_eq!(e.provider_code(), Some("4"));
    // A raw request with an unknown type: code 2.
    let raw = reqwest::Client::new()
        .post(format!("{}/sms", sim.uri()))
        .header("X-Mitto-API-Key", SIM_API_KEY)
        .json(&serde_json::json!({"from": "Acme", "to": "41751231234", "text": "hi", "type": "fax"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let v: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(v["responseCode"], 2);
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_auth_not_sent_and_not_retried() {
    let sim = Simulator::start().await;
    let c = client_at(&sim.uri(), "wrong-key");
    let e = c.send_sms(&SmsRequest::new("Acme", &ch(), "hi")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
    assert_eq!(e.http_status(), Some(401));
    assert_eq!(e.provider_text(), Some("Invalid or no API Key specified"));
    assert!(!e.to_string().contains("wrong-key"));
    assert_eq!(sim.unauthorized(), 1);
    // Bearer auth, as some third-party code wrongly does, is refused the same way.
    let raw = reqwest::Client::new()
        .post(format!("{}/sms", sim.uri()))
        .bearer_auth(SIM_API_KEY)
        .json(&serde_json::json!({"from": "Acme", "to": "41751231234", "text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
}

#[tokio::test]
async fn test_mode_answers_without_id_and_stores_nothing() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let r = c
        .send_sms(&SmsRequest::new("Acme", &ch(), "hi").with_test(true))
        .await
        .unwrap();
    assert_eq!((r.test, r.id), (Some(true), None));
    assert!(sim.sent().is_empty());
}

#[tokio::test]
async fn bulk_sends_one_text_to_many_with_one_id_each() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let to = [ch(), de(), ch()];
    let r = c
        .send_sms_bulk(&BulkSmsRequest::new("Acme", to.iter(), "Sale starts now").with_reference("spring"))
        .await
        .unwrap();
    assert_eq!(r.response_code, Some(0));
    assert_eq!(r.messages.len(), 3, "a receiver listed twice gets two messages");
    let ids: Vec<String> = r.messages.iter().map(|m| m.id.clone().unwrap()).collect();
    assert_eq!(ids.iter().collect::<std::collections::HashSet<_>>().len(), 3);
    assert_eq!(r.messages[1].to.as_deref(), Some("4915123456789"));
    assert_eq!(sim.bulk_requests(), 1);
    assert!(
        sim.sent()
            .iter()
            .all(|r| sim.message(&r.id).unwrap().reference.as_deref() == Some("spring"))
    );

    // The comma-separated form some clients send is accepted too.
    let raw = reqwest::Client::new()
        .post(format!("{}/v2/smsbulk.json", sim.uri()))
        .header("X-Mitto-API-Key", SIM_API_KEY)
        .json(&serde_json::json!({"from": "Acme", "to": "41751231234, 4915123456789", "text": "hi"}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(v["messages"].as_array().unwrap().len(), 2);

    // A malformed receiver in the batch is refused before anything is sent.
    let mut bad = BulkSmsRequest::new("Acme", [ch()].iter(), "hi");
    bad.to.push("12ab".into());
    let before = sim.bulk_requests();
    let e = c.send_sms_bulk(&bad).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch()),
        (ErrorKind::InvalidInput, Dispatch::NotSent),
        "{e}"
    );
    assert_eq!(sim.bulk_requests(), before);
}

#[tokio::test]
async fn vendor_connector_paths_are_served() {
    let sim = Simulator::start().await;
    for path in ["/sms", "/sms.json", "/v2/sms.json"] {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", sim.uri()))
            .header("X-Mitto-API-Key", SIM_API_KEY)
            .json(&serde_json::json!({"from": "Acme", "to": "41751231234", "text": "hi"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    assert_eq!(sim.sent().len(), 3);
}

#[tokio::test]
async fn usage_by_country_counts_what_was_sent() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.send_sms(&SmsRequest::new("Acme", &ch(), "one")).await.unwrap();
    c.send_sms(&SmsRequest::new("Acme", &ch(), "x".repeat(161)))
        .await
        .unwrap();
    c.send_sms(&SmsRequest::new("Acme", &de(), "three")).await.unwrap();
    let today = chrono::Utc::now().date_naive();
    let rows = c
        .usage_by_country(&UsageRequest::new(today, today).with_account("main"))
        .await
        .unwrap();
    let che = rows.iter().find(|r| r.country == "CHE").unwrap();
    assert_eq!(che.messages(), Some(2));
    assert_eq!(che.cost.as_deref(), Some("0.1500"), "1 + 2 parts at 0.05");
    let deu = rows.iter().find(|r| r.country == "DEU").unwrap();
    assert_eq!(deu.messages(), Some(1));
    let yesterday = today.pred_opt().unwrap();
    assert!(
        c.usage_by_country(&UsageRequest::new(yesterday, yesterday))
            .await
            .unwrap()
            .is_empty()
    );
    let e = c
        .usage_by_country(&UsageRequest::new(today, yesterday))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn conversions() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let id = c
        .send_sms(&SmsRequest::new("Acme", &ch(), "hi"))
        .await
        .unwrap()
        .id
        .unwrap();
    c.mark_converted(&id).await.unwrap();
    let e = c.mark_converted("00000000000000000000000000000000").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    sim.set_conversions_enabled(false);
    let e = c.mark_converted(&id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.provider_text().unwrap().contains("not enabled"));
}

#[tokio::test]
async fn refusals_before_acting_are_retried_and_ambiguous_failures_are_not() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    // 503 and 429: Mitto did not act, so the send is repeated and lands once.
    sim.faults().push(Fault::Status(503));
    sim.faults().push(Fault::RateLimited(Some(0)));
    let r = c.send_sms(&SmsRequest::new("Acme", &ch(), "hi")).await.unwrap();
    assert!(r.id.is_some());
    assert_eq!(sim.sent().len(), 1);

    // 500: may have been acted on — never repeated.
    sim.faults().push(Fault::Status(500));
    let before = sim.sms_requests();
    let e = c.send_sms(&SmsRequest::new("Acme", &ch(), "hi")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(
        sim.sms_requests(),
        before,
        "the faulted request never reached the handler and was not repeated"
    );

    // Too slow: a timeout after the request was written is MaybeSent, not repeated.
    sim.faults().push(Fault::Delay(Duration::from_secs(2)));
    let e = c.send_sms(&SmsRequest::new("Acme", &ch(), "hi")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::MaybeSent));

    // 200 with garbage: Mitto answered; we cannot read it.
    for f in [
        Fault::MalformedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
        Fault::TruncatedJson,
    ] {
        sim.faults().push(f.clone());
        let e = c.send_sms(&SmsRequest::new("Acme", &ch(), "hi")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{f:?}");
        assert_eq!(e.provider(), Some("mitto"));
    }
    // Reads are repeated on any temporary failure.
    sim.faults().push(Fault::Status(500));
    let today = chrono::Utc::now().date_naive();
    assert!(c.usage_by_country(&UsageRequest::new(today, today)).await.is_ok());
}

#[tokio::test]
async fn connection_faults_classify() {
    let refused = connection_fault(ConnectionFault::Refused).await.unwrap();
    let e = client_at(&refused, SIM_API_KEY)
        .send_sms(&SmsRequest::new("Acme", &ch(), "hi"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Transport, Dispatch::NotSent));
    assert_eq!(e.provider(), Some("mitto"));

    for fault in [
        ConnectionFault::ResetAfterRequest,
        ConnectionFault::CutMidBody,
        ConnectionFault::NeverAnswers,
    ] {
        let url = connection_fault(fault).await.unwrap();
        let e = client_at(&url, SIM_API_KEY)
            .send_sms(&SmsRequest::new("Acme", &ch(), "hi"))
            .await
            .unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::MaybeSent, "{fault:?}: {e}");
    }
}

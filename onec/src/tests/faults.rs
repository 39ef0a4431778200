//! Faults: reads are retried, creates are never repeated blind (a lost answer is reconciled by a
//! lookup), every failure has the right kind and dispatch fact, and garbage never panics.

use super::common;

use std::time::Duration;

use crate::sim::{Simulator, WriteFault};
use crate::{Counterparty, EntitySet, MemorySyncLog, Query, SyncAction, Syncer, field};
use serde_json::{Value, json};
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind};

fn counterparties() -> EntitySet {
    EntitySet::catalog("Контрагенты")
}

fn acme() -> Counterparty {
    Counterparty::company("ООО \"Рога и копыта\"", "7707083893", Some("770701001"))
}

async fn count_requests(sim: &Simulator, method: &str) -> usize {
    sim.requests()
        .await
        .iter()
        .filter(|r| r.method.as_str() == method)
        .count()
}

/// The client gives up after 250 ms; the simulator answers the create after 800 ms, having created it.
#[tokio::test]
async fn a_create_whose_answer_timed_out_is_found_not_repeated() {
    let sim = Simulator::start().await;
    let log = std::sync::Arc::new(MemorySyncLog::new());
    let sync = Syncer::new(common::client_with_timeout(&sim, 250), log.clone());
    sim.fault_next_write(WriteFault::ApplyThenDelay(Duration::from_millis(800)));
    let s = sync.upsert_counterparty("crm:1", &acme()).await.unwrap();
    assert_eq!(s.action, SyncAction::Recovered);
    assert_eq!(sim.count("Catalog_Контрагенты"), 1, "created once");
    assert_eq!(count_requests(&sim, "POST").await, 1, "the create was not sent again");
    assert_eq!(log.entries_for("crm:1")[0].action, SyncAction::Recovered);
    assert_eq!(log.entries_for("crm:1")[0].ref_key, Some(s.ref_key));

    // The next run knows it.
    let again = sync.upsert_counterparty("crm:1", &acme()).await.unwrap();
    assert_eq!((again.action, again.ref_key), (SyncAction::Unchanged, s.ref_key));
}

#[tokio::test]
async fn a_create_that_timed_out_before_landing_is_sent_again_after_the_lookup() {
    let sim = Simulator::start().await;
    let (_, log) = common::syncer(&sim);
    let sync = Syncer::new(common::client_with_timeout(&sim, 250), log);
    sim.fault_next_write(WriteFault::DelayWithoutApplying(Duration::from_millis(800)));
    let s = sync.upsert_counterparty("crm:1", &acme()).await.unwrap();
    assert_eq!(s.action, SyncAction::Created);
    assert_eq!(sim.count("Catalog_Контрагенты"), 1);
    let reqs = sim.requests().await;
    let methods: Vec<&str> = reqs.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        methods,
        ["GET", "POST", "GET", "POST"],
        "look up, create, look up again, create"
    );
}

#[tokio::test]
async fn an_internal_error_on_create_is_reconciled_too() {
    let sim = Simulator::start().await;
    let (sync, _) = common::syncer(&sim);
    sim.fault_next_write(WriteFault::InternalError);
    let s = sync.upsert_counterparty("crm:1", &acme()).await.unwrap();
    assert_eq!(s.action, SyncAction::Created);
    assert_eq!(sim.count("Catalog_Контрагенты"), 1);
    assert_eq!(count_requests(&sim, "POST").await, 2);
}

#[tokio::test]
async fn a_create_that_keeps_failing_gives_up_with_maybe_sent() {
    let sim = Simulator::start().await;
    let (sync, log) = common::syncer(&sim);
    for _ in 0..5 {
        sim.fault_next_write(WriteFault::InternalError);
    }
    let e = sync.upsert_counterparty("crm:1", &acme()).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(e.provider_code(), Some("-1"));
    assert_eq!(
        count_requests(&sim, "POST").await,
        3,
        "max_attempts, each after a lookup"
    );
    let entry = log.entries().pop().unwrap();
    assert_eq!(entry.action, SyncAction::Failed);
    assert_eq!(entry.error.as_ref().unwrap().dispatch, "maybe_sent");
    assert!(entry.sent.is_some(), "the log keeps what may have been created");
}

#[tokio::test]
async fn when_the_lookup_fails_the_maybe_sent_error_is_returned() {
    let sim = Simulator::start().await;
    let (sync, _) = common::syncer(&sim);
    // create_or_recover sends the create first: 500, then the lookup gets 401.
    sim.fail_next(Fault::Status(500));
    sim.fail_next(Fault::Status(401));
    let body = serde_json::to_value(acme()).unwrap();
    let key = field("ИНН").eq("7707083893");
    let e = sync
        .create_or_recover(&counterparties(), &body, &key)
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::MaybeSent, "the caller must know it may exist");
    assert_eq!(e.http_status(), Some(500));
    assert_eq!(count_requests(&sim, "POST").await, 1);
}

#[tokio::test]
async fn plain_client_creates_are_never_retried_once_sent() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    sim.fail_next(Fault::Status(502));
    let e = c.create::<Value>(&counterparties(), &acme()).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(count_requests(&sim, "POST").await, 1);

    // 503 and 429 are refusals before anything was done: retried.
    sim.fail_next(Fault::Status(503));
    sim.fail_next(Fault::RateLimited(Some(0)));
    let _: Value = c.create(&counterparties(), &acme()).await.unwrap();
    assert_eq!(count_requests(&sim, "POST").await, 4);
    assert_eq!(sim.count("Catalog_Контрагенты"), 1);
}

#[tokio::test]
async fn reads_and_updates_are_retried() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    sim.fail_next(Fault::Status(500));
    sim.fail_next(Fault::Status(502));
    let page = c.list::<Value>(&counterparties(), &Query::new()).await.unwrap();
    assert!(page.items.is_empty());
    let key = sim.seed("Catalog_Контрагенты", json!({"Description": "x"})).unwrap();
    sim.fail_next(Fault::Status(504));
    let _: Value = c
        .update(&counterparties(), key, &json!({"Description": "y"}))
        .await
        .unwrap();
    assert_eq!(sim.record("Catalog_Контрагенты", key).unwrap()["Description"], "y");
    // Exhausted retries keep the last error.
    sim.faults().push_n(Fault::Status(503), 3);
    let e = c.metadata().await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::NotSent));
}

#[tokio::test]
async fn a_read_that_timed_out_is_retried() {
    let sim = Simulator::start().await;
    let c = common::client_with_timeout(&sim, 250);
    sim.fail_next(Fault::Delay(Duration::from_millis(800)));
    let page = c.list::<Value>(&counterparties(), &Query::new()).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(count_requests(&sim, "GET").await, 2);
}

#[tokio::test]
async fn garbage_answers_are_decode_errors() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    for (fault, what) in [
        (Fault::MalformedJson, "malformed"),
        (Fault::TruncatedJson, "truncated"),
        (Fault::WrongContentType, "html"),
        (Fault::EmptyBody, "empty"),
        (Fault::StatusJson(200, "[1,2]".into()), "array"),
        (Fault::StatusJson(200, r#"{"value":"x"}"#.into()), "value not array"),
        (
            Fault::StatusJson(200, r#"{"value":[],"odata.count":"many"}"#.into()),
            "bad count",
        ),
        (
            Fault::StatusJson(200, r#"{"value":[{"Ref_Key":5}]}"#.into()),
            "bad entity",
        ),
    ] {
        sim.fail_next(fault);
        let e = c
            .list::<Counterparty>(&counterparties(), &Query::new())
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::Decode, Dispatch::Sent),
            "{what}: {e}"
        );
        assert_eq!(e.provider(), Some("onec"));
    }
    for body in [r#"{"odata.error":5}"#, r#"{"odata.error":{"code":"-1"}}"#, "\u{0}\u{1}"] {
        sim.fail_next(Fault::StatusJson(400, body.into()));
        let e = c.list::<Value>(&counterparties(), &Query::new()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{body}");
    }
    sim.fail_next(Fault::EmptyBody);
    let e = c.create::<Value>(&counterparties(), &acme()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    // A lookup answer without Ref_Key cannot be updated or logged.
    let (sync, _) = common::syncer(&sim);
    sim.faults()
        .push(Fault::StatusJson(200, r#"{"value":[{"Description":"no key"}]}"#.into()));
    let e = sync.upsert_counterparty("crm:1", &acme()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert_eq!(sim.faults().pending(), 0);
    assert_eq!(
        sim.count("Catalog_Контрагенты"),
        0,
        "faults replace the answer: nothing landed"
    );
}

#[tokio::test]
async fn connection_faults_have_the_right_dispatch() {
    let refused = connection_fault(ConnectionFault::Refused).await.unwrap();
    let e = common::client_at(&refused).metadata().await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Transport, Dispatch::NotSent));
    assert_eq!(e.provider(), Some("onec"));

    let reset = connection_fault(ConnectionFault::ResetAfterRequest).await.unwrap();
    let e = common::client_at(&reset)
        .create::<Value>(&counterparties(), &acme())
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::MaybeSent, "{e}");

    let cut = connection_fault(ConnectionFault::CutMidBody).await.unwrap();
    let e = common::client_at(&cut)
        .create::<Value>(&counterparties(), &acme())
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::MaybeSent, "{e}");

    let hang = connection_fault(ConnectionFault::NeverAnswers).await.unwrap();
    let c = common::client_at(&hang);
    let e = c.create::<Value>(&counterparties(), &acme()).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::MaybeSent));
}

#[tokio::test]
async fn errors_never_show_the_password() {
    let sim = Simulator::start().await;
    let c = crate::OneCClient::from_dsn_str(&sim.dsn_with("odata.user", "Sup3rS3cret")).unwrap();
    let e = c.metadata().await.unwrap_err();
    let shown = format!("{e} {e:?} {c:?} {:?}", c.config());
    assert!(!shown.contains("Sup3rS3cret"), "{shown}");
}

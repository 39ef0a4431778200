//! Polling incoming SMS: `flag=all`, a high-water mark in the host's cursor store, de-duplication,
//! and no loss when the host crashes between fetching and storing.

use std::sync::Arc;

use crate::sim::{SIM_PASSWORD, SIM_USERNAME, Simulator};
use crate::tests::{client, config};
use crate::{DinstarClient, IncomingPoller, cursor_key};
use async_trait::async_trait;
use diqwest::{DigestAuthSession, WithDigestAuth};
use switchboard_core::{CursorStore, ErrorKind, MemoryCursorStore};

#[tokio::test]
async fn polls_from_a_high_water_mark_with_flag_all() {
    let sim = Simulator::start().await;
    let store = Arc::new(MemoryCursorStore::new());
    let poller = client(&sim).incoming(store.clone());
    assert!(poller.poll().await.unwrap().is_empty());
    sim.receive_inbound(1, "355691234567", "one").await;
    sim.receive_inbound(2, "+355691234568", "two").await;
    sim.receive_inbound(1, "VODAFONE", "three").await;
    let got = poller.poll().await.unwrap();
    assert_eq!(
        got.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["one", "two", "three"]
    );
    let sn = sim.sn();
    assert_eq!(got[0].provider_id, format!("{sn}:1"));
    assert_eq!(got[2].from, "VODAFONE");
    assert_eq!(got[1].to.as_deref(), Some("port:2"));
    assert!(got[0].received_at.is_some());
    assert_eq!(store.load(&cursor_key(&sn)).await.unwrap().as_deref(), Some("3"));
    assert!(poller.poll().await.unwrap().is_empty());
    sim.receive_inbound(3, "355691234569", "four").await;
    assert_eq!(poller.poll().await.unwrap().len(), 1);
    // Nothing was marked read on the gateway, and every poll asked for flag=all.
    assert_eq!(sim.unread(), 4);
    for r in sim
        .requests()
        .await
        .iter()
        .filter(|r| r.url.path() == "/api/query_incoming_sms")
    {
        let q = r.url.query().unwrap_or_default();
        assert!(q.contains("flag=all"), "{q}");
    }
}

#[tokio::test]
async fn a_restarted_poller_resumes_from_the_stored_mark() {
    let sim = Simulator::start().await;
    let store = Arc::new(MemoryCursorStore::new());
    sim.receive_inbound(1, "355691234567", "old").await;
    client(&sim).incoming(store.clone()).poll().await.unwrap();
    sim.receive_inbound(1, "355691234567", "new").await;
    // A new process, same store.
    let got = client(&sim).incoming(store).poll().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text, "new");
}

#[tokio::test]
async fn fetch_without_commit_gets_the_messages_again_after_a_crash() {
    let sim = Simulator::start().await;
    let store = Arc::new(MemoryCursorStore::new());
    sim.receive_inbound(0, "355691234567", "important").await;
    let first = client(&sim).incoming(store.clone());
    let batch = first.fetch().await.unwrap();
    assert_eq!(batch.messages.len(), 1);
    // The same poller does not hand them out twice…
    assert!(first.fetch().await.unwrap().messages.is_empty());
    // …but a process that crashed before committing gets them again: at least once.
    drop(first);
    let second = client(&sim).incoming(store.clone());
    let again = second.fetch().await.unwrap();
    assert_eq!(again.messages[0].provider_id, batch.messages[0].provider_id);
    second.commit(&again).await.unwrap();
    assert!(client(&sim).incoming(store).fetch().await.unwrap().messages.is_empty());
}

#[tokio::test]
async fn ports_filter_and_the_serial_number_is_learned() {
    let sim = Simulator::start().await;
    let mut cfg = config(&sim);
    cfg.sn = None;
    let c = DinstarClient::new(cfg).unwrap();
    let store = Arc::new(MemoryCursorStore::new());
    sim.receive_inbound(1, "355691234567", "on one").await;
    sim.receive_inbound(2, "355691234567", "on two").await;
    let got = IncomingPoller::new(c, store.clone())
        .with_ports([2])
        .poll()
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text, "on two");
    assert!(store.load(&cursor_key(&sim.sn())).await.unwrap().is_some());
}

#[tokio::test]
async fn a_corrupt_cursor_is_a_config_error() {
    let sim = Simulator::start().await;
    let store = Arc::new(MemoryCursorStore::new());
    store.store(&cursor_key(&sim.sn()), "yesterday").await.unwrap();
    let e = client(&sim).incoming(store).poll().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[derive(Debug)]
struct FailingStore;

#[async_trait]
impl CursorStore for FailingStore {
    async fn load(&self, _key: &str) -> switchboard_core::Result<Option<String>> {
        Ok(Some("0".into()))
    }
    async fn store(&self, _key: &str, _value: &str) -> switchboard_core::Result<()> {
        Err(switchboard_core::Error::new(ErrorKind::Unavailable, "disk full"))
    }
}

#[tokio::test]
async fn a_cursor_that_cannot_be_stored_fails_the_poll_and_duplicates_are_dropped() {
    let sim = Simulator::start().await;
    sim.receive_inbound(0, "355691234567", "x").await;
    let poller = client(&sim).incoming(Arc::new(FailingStore));
    assert_eq!(poller.poll().await.unwrap_err().kind(), ErrorKind::Unavailable);
    // The mark did not move; the poller still remembers what it handed out.
    assert!(poller.poll().await.is_err());
    assert!(poller.fetch().await.unwrap().messages.is_empty());
}

/// What the client avoids: `flag=unread` (the gateway's default) marks messages read, so a second
/// poll — or a poll after a crash — never sees them again.
#[tokio::test]
async fn the_simulator_reproduces_the_unread_pitfall() {
    let sim = Simulator::start().await;
    sim.receive_inbound(0, "355691234567", "gone after one read").await;
    let http = reqwest::Client::new();
    let session = DigestAuthSession::new(SIM_USERNAME, SIM_PASSWORD);
    let url = format!("{}/api/query_incoming_sms?incoming_sms_id=0", sim.uri());
    let first: serde_json::Value = http
        .get(&url)
        .send_digest_auth(&session)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second: serde_json::Value = http
        .get(&url)
        .send_digest_auth(&session)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["sms"].as_array().unwrap().len(), 1);
    assert_eq!(second["sms"].as_array().unwrap().len(), 0, "lost to flag=unread");
    assert_eq!(sim.unread(), 0);
    // The poller (flag=all) still gets it.
    let got = client(&sim)
        .incoming(Arc::new(MemoryCursorStore::new()))
        .poll()
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
}

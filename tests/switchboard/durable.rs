//! Durable sending through the Messenger: keyed messages are claimed in the store before anything is
//! sent, and every outcome the store can hold is answered the way the module docs of `durable` say.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard::core::store::{AttemptNote, Claim, KeyState, MessageKey};
use switchboard::core::testkit::{StubAnswer, StubTransport};
use switchboard::{
    Capabilities, Dispatch, ErrorKind, MemoryStore, Message, Messenger, PhoneNumber, Receipt, Reconciled, Route, Store,
    Transport, async_trait,
};

fn to() -> PhoneNumber {
    "+355694123456".parse().unwrap()
}

fn key(k: &str) -> MessageKey {
    MessageKey::new(k).unwrap()
}

fn keyed(k: &str, text: &str) -> Message {
    Message::sms(to(), text).with_key(key(k))
}

fn messenger(store: Arc<MemoryStore>, t: impl Transport + 'static) -> Messenger {
    Messenger::builder().transport("sms", t).store(store).build().unwrap()
}

#[tokio::test]
async fn a_key_is_sent_once_and_answered_from_the_store_after() {
    let store = Arc::new(MemoryStore::new());
    let stub = StubTransport::sms();
    let m = messenger(store.clone(), stub.clone());
    let first = m.send(keyed("order-72", "shipped")).await.unwrap();
    assert!(!first.replayed);
    // The same message again (a retried HTTP handler, a restarted worker): nothing is sent.
    let again = m.send(keyed("order-72", "shipped")).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.provider_ids, first.provider_ids);
    assert_eq!(stub.sent().len(), 1);
    let rec = store.lookup(&key("order-72")).await.unwrap().unwrap();
    assert_eq!(rec.state.name(), "accepted");
    assert_eq!(rec.claims, 1);
}

#[tokio::test]
async fn a_key_reused_for_another_message_is_refused() {
    let store = Arc::new(MemoryStore::new());
    let stub = StubTransport::sms();
    let m = messenger(store, stub.clone());
    m.send(keyed("k", "one text")).await.unwrap();
    let e = m.send(keyed("k", "another text")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(e.dispatch(), Dispatch::NotSent);
    assert!(e.to_string().contains("different message"), "{e}");
    assert_eq!(stub.sent().len(), 1);
}

#[tokio::test]
async fn a_key_without_a_store_is_a_configuration_error_not_a_silent_send() {
    let stub = StubTransport::sms();
    let m = Messenger::builder().transport("sms", stub.clone()).build().unwrap();
    let e = m.send(keyed("k", "x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(stub.sent().is_empty());
    let batch = m.send_batch(&[keyed("k", "x")]).await;
    assert_eq!(batch[0].as_ref().unwrap_err().kind(), ErrorKind::Config);
    assert!(stub.sent().is_empty());
}

#[tokio::test]
async fn nothing_sent_releases_the_key_for_a_later_send() {
    let store = Arc::new(MemoryStore::new());
    let stub = StubTransport::sms().then(StubAnswer::Fail(ErrorKind::Unavailable, Dispatch::NotSent));
    let m = messenger(store.clone(), stub.clone());
    let e = m.send(keyed("k", "x")).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent);
    assert_eq!(store.lookup(&key("k")).await.unwrap().unwrap().state.name(), "released");
    let r = m.send(keyed("k", "x")).await.unwrap();
    assert!(!r.replayed);
    assert_eq!(stub.sent().len(), 2);
    assert_eq!(store.lookup(&key("k")).await.unwrap().unwrap().claims, 2);
}

#[tokio::test]
async fn a_final_refusal_is_answered_again_without_sending() {
    let store = Arc::new(MemoryStore::new());
    let stub = StubTransport::sms().then(StubAnswer::Fail(ErrorKind::Rejected, Dispatch::Sent));
    let m = messenger(store, stub.clone());
    m.send(keyed("k", "x")).await.unwrap_err();
    let e = m.send(keyed("k", "x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Rejected);
    assert!(e.to_string().contains("refused for good"), "{e}");
    assert_eq!(stub.sent().len(), 1);
}

#[tokio::test]
async fn maybe_sent_without_a_lookup_needs_a_decision_and_is_never_resent() {
    let store = Arc::new(MemoryStore::new());
    let stub = StubTransport::sms().then(StubAnswer::Fail(ErrorKind::Timeout, Dispatch::MaybeSent));
    let m = messenger(store.clone(), stub.clone());
    let e = m.send(keyed("k", "x")).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::MaybeSent);
    let e = m.send(keyed("k", "x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NeedsDecision);
    assert_eq!(e.dispatch(), Dispatch::MaybeSent);
    assert!(e.to_string().contains("over 'sms'"), "{e}");
    assert_eq!(stub.sent().len(), 1, "an uncertain key is never resent blindly");
    assert_eq!(store.uncertain(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn failover_notes_the_transport_that_finally_took_it() {
    let store = Arc::new(MemoryStore::new());
    let gsm = StubTransport::sms().then(StubAnswer::Fail(ErrorKind::Transport, Dispatch::NotSent));
    let cloud = StubTransport::sms();
    let m = Messenger::builder()
        .transport("gsm", gsm.clone())
        .transport("cloud", cloud.clone())
        .route(Route::any_phone().via(["gsm", "cloud"]))
        .store(store.clone())
        .build()
        .unwrap();
    let r = m.send(keyed("k", "x")).await.unwrap();
    assert_eq!(r.transport, "cloud");
    match store.lookup(&key("k")).await.unwrap().unwrap().state {
        KeyState::Accepted { receipt } => assert_eq!(receipt.transport, "cloud"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn many_senders_of_one_key_at_once_send_it_once() {
    let store = Arc::new(MemoryStore::new());
    let stub = StubTransport::sms();
    let m = Arc::new(messenger(store, stub.clone()));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let m = m.clone();
        tasks.push(tokio::spawn(async move { m.send(keyed("once", "x")).await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.kind(), ErrorKind::Conflict, "{e}"),
        }
    }
    assert!(ok >= 1);
    assert_eq!(stub.sent().len(), 1);
}

#[tokio::test]
async fn a_batch_claims_each_keyed_message_and_skips_the_accepted_ones() {
    let store = Arc::new(MemoryStore::new());
    let stub = StubTransport::sms();
    let m = messenger(store.clone(), stub.clone());
    m.send(keyed("b/1", "hello")).await.unwrap();
    let batch = [
        keyed("b/1", "hello"),
        keyed("b/2", "hello"),
        Message::sms(to(), "no key"),
    ];
    let out = m.send_batch(&batch).await;
    assert!(out[0].as_ref().unwrap().replayed);
    assert!(!out[1].as_ref().unwrap().replayed);
    assert!(out[2].is_ok());
    assert_eq!(stub.sent().len(), 3, "b/1 once before, then b/2 and the unkeyed one");
    assert_eq!(
        store.lookup(&key("b/2")).await.unwrap().unwrap().state.name(),
        "accepted"
    );
}

/// A transport whose provider can be searched by a reference chosen before sending, like Dinstar's
/// `user_id`: `prepare` hands out references, `send` "loses" the answer of the scripted ones after the
/// provider recorded them, and `reconcile` looks them up.
#[derive(Debug, Default, Clone)]
struct Searchable {
    state: Arc<Mutex<SearchState>>,
}

#[derive(Debug, Default)]
struct SearchState {
    next: u32,
    landed: HashSet<String>,
    sends: usize,
    /// The next send records the message at the provider and then times out.
    lose_answer: bool,
    /// The next send times out without the provider recording it.
    drop_request: bool,
}

#[async_trait]
impl Transport for Searchable {
    fn provider(&self) -> &'static str {
        "searchable"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::sms()
    }
    async fn prepare(&self, _: &Message) -> switchboard::Result<Option<String>> {
        let mut s = self.state.lock().unwrap();
        s.next += 1;
        Ok(Some(format!("ref-{}", s.next)))
    }
    async fn send(&self, message: &Message) -> switchboard::Result<Receipt> {
        let mut s = self.state.lock().unwrap();
        s.sends += 1;
        let reference = message
            .reference
            .clone()
            .expect("the Messenger puts the prepared reference in");
        let timeout = || switchboard::Error::new(ErrorKind::Timeout, "no answer").with_dispatch(Dispatch::MaybeSent);
        if std::mem::take(&mut s.drop_request) {
            return Err(timeout());
        }
        s.landed.insert(reference.clone());
        if std::mem::take(&mut s.lose_answer) {
            return Err(timeout());
        }
        Ok(Receipt::new("searchable", message, reference))
    }
    async fn reconcile(&self, message: &Message, reference: &str) -> switchboard::Result<Reconciled> {
        let s = self.state.lock().unwrap();
        Ok(if s.landed.contains(reference) {
            Reconciled::Landed(Box::new(Receipt::new("searchable", message, reference)))
        } else {
            Reconciled::NotLanded
        })
    }
}

#[tokio::test]
async fn an_uncertain_send_that_landed_is_answered_with_its_receipt() {
    let store = Arc::new(MemoryStore::new());
    let t = Searchable::default();
    t.state.lock().unwrap().lose_answer = true;
    let m = messenger(store.clone(), t.clone());
    m.send(keyed("k", "x")).await.unwrap_err();
    let r = m.send(keyed("k", "x")).await.unwrap();
    assert!(r.replayed);
    assert_eq!(r.provider_id(), "ref-1");
    assert_eq!(r.transport, "sms");
    assert_eq!(t.state.lock().unwrap().sends, 1, "reconciled, not resent");
    assert_eq!(store.lookup(&key("k")).await.unwrap().unwrap().state.name(), "accepted");
}

#[tokio::test]
async fn an_uncertain_send_that_did_not_land_is_sent_again_once() {
    let store = Arc::new(MemoryStore::new());
    let t = Searchable::default();
    t.state.lock().unwrap().drop_request = true;
    let m = messenger(store.clone(), t.clone());
    m.send(keyed("k", "x")).await.unwrap_err();
    let r = m.send(keyed("k", "x")).await.unwrap();
    assert!(!r.replayed);
    assert_eq!(r.provider_id(), "ref-2");
    assert_eq!(t.state.lock().unwrap().sends, 2);
    assert_eq!(store.lookup(&key("k")).await.unwrap().unwrap().claims, 2);
}

#[tokio::test]
async fn a_sender_that_died_mid_request_leaves_the_key_to_be_reconciled() {
    // Another process claimed the key, noted its attempt under ref-7, and died before finishing.
    let store = Arc::new(MemoryStore::new());
    let msg = keyed("k", "x");
    let Claim::Acquired(lease) = store
        .claim(&key("k"), &msg.fingerprint(), "dead-worker", Duration::from_millis(20))
        .await
        .unwrap()
    else {
        panic!("a new key is acquired")
    };
    store
        .note_attempt(&lease, &AttemptNote::new("sms", Some("ref-7".into())))
        .await
        .unwrap();
    let t = Searchable::default();
    let m = messenger(store.clone(), t.clone());
    // While its lease runs, the key is in flight elsewhere.
    let e = m.send(msg.clone()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("dead-worker"), "{e}");
    tokio::time::sleep(Duration::from_millis(40)).await;
    // Then it is uncertain; the provider does not know ref-7, so it is sent (once) under a new reference.
    let r = m.send(msg).await.unwrap();
    assert_eq!(r.provider_id(), "ref-1");
    assert_eq!(t.state.lock().unwrap().sends, 1);
}

// ---------------------------------------------------------------------------------------------- dinstar

/// A Dinstar transport on `dsn` with one reconciliation look (the simulator records tasks at once).
fn dinstar(dsn: &str) -> switchboard::dinstar::DinstarTransport {
    let dsn = switchboard::Dsn::parse(dsn).unwrap();
    let config = switchboard::dinstar::DinstarConfig::from_dsn(&dsn)
        .unwrap()
        .into_builder()
        .reconcile_window(Duration::ZERO)
        .build()
        .unwrap();
    switchboard::dinstar::DinstarTransport::new(config).unwrap()
}

#[tokio::test]
async fn two_dinstar_senders_on_one_store_never_share_a_user_id() {
    // Two copies of a program started at the same moment, on one store: each message gets its own
    // user_id, so a reconciliation can never find the other copy's SMS.
    let sim = switchboard::dinstar::sim::Simulator::start().await;
    let store = Arc::new(MemoryStore::new());
    let a = messenger(store.clone(), dinstar(&sim.dsn()));
    let b = messenger(store.clone(), dinstar(&sim.dsn()));
    let sends = (0..40).map(|i| {
        let m = if i % 2 == 0 { &a } else { &b };
        m.send(keyed(&format!("k{i}"), &format!("text {i}")))
    });
    let receipts = futures::future::join_all(sends).await;
    let ids: HashSet<String> = receipts
        .iter()
        .map(|r| r.as_ref().unwrap().provider_id().to_owned())
        .collect();
    assert_eq!(ids.len(), 40, "a user_id was handed out twice");
    assert_eq!(sim.sent().len(), 40);
}

#[tokio::test]
async fn a_dinstar_send_whose_answer_was_lost_is_reconciled_by_the_next_sender() {
    use switchboard::core::simulated::Simulated;
    use switchboard::dinstar::sim::{LossMode, Simulator};
    for (mode, landed) in [(LossMode::DropAfterAccept, true), (LossMode::DropBeforeForward, false)] {
        let sim = Simulator::start().await;
        let proxy = sim.lossy_proxy("/api/send_sms", mode, 1).await.unwrap();
        let lossy = format!("{}&reconcile=false", sim.dsn_at(&proxy).unwrap());
        let store = Arc::new(MemoryStore::new());
        // The first process sends under a user_id noted in the store; the answer is lost.
        let first = messenger(store.clone(), dinstar(&lossy));
        let e = first.send(keyed("order-9", "Porosia juaj u dërgua")).await.unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::MaybeSent, "{mode:?}");
        // The next one looks the noted user_id up, with the number and the text.
        let next = messenger(store.clone(), dinstar(&sim.dsn()));
        let r = next.send(keyed("order-9", "Porosia juaj u dërgua")).await.unwrap();
        assert_eq!(r.replayed, landed, "{mode:?}");
        assert_eq!(sim.sent().len(), 1, "{mode:?}: the SMS went out exactly once");
        assert_eq!(sim.sent()[0].id, r.provider_id(), "{mode:?}");
    }
}

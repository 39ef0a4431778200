//! The Messenger's routing, failover, cool-down, journal and streaming behaviour, on stub transports.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use switchboard::core::testkit::{StubAnswer, StubTransport};
use switchboard::{
    AllFailed, Capabilities, Dispatch, ErrorKind, HealthPolicy, JournalRecord, MemoryJournal, Message, Messenger,
    PhoneNumber, Route,
};

fn al() -> PhoneNumber {
    "+355694123456".parse().unwrap()
}

fn us() -> PhoneNumber {
    "+12015550123".parse().unwrap()
}

fn fail(kind: ErrorKind, dispatch: Dispatch) -> StubAnswer {
    StubAnswer::Fail(kind, dispatch)
}

#[tokio::test]
async fn routes_by_country_then_any_phone() {
    let gsm = StubTransport::sms();
    let cloud = StubTransport::sms();
    let m = Messenger::builder()
        .transport("gsm", gsm.clone())
        .transport("cloud", cloud.clone())
        .route(Route::country(355).via(["gsm", "cloud"]))
        .route(Route::any_phone().via(["cloud"]))
        .build()
        .unwrap();
    let r = m.send(Message::sms(al(), "a")).await.unwrap();
    assert_eq!(r.transport, "gsm");
    let r = m.send(Message::sms(us(), "b")).await.unwrap();
    assert_eq!(r.transport, "cloud");
    assert_eq!(gsm.sent().len(), 1);
    assert_eq!(cloud.sent().len(), 1);
}

#[tokio::test]
async fn fails_over_only_when_nothing_was_sent() {
    let gsm = StubTransport::sms().then(fail(ErrorKind::Transport, Dispatch::NotSent));
    let cloud = StubTransport::sms();
    let m = Messenger::builder()
        .transport("gsm", gsm.clone())
        .transport("cloud", cloud.clone())
        .route(Route::any_phone().via(["gsm", "cloud"]))
        .build()
        .unwrap();
    let r = m.send(Message::sms(al(), "x")).await.unwrap();
    assert_eq!(r.transport, "cloud");

    // A timeout may have sent: no failover, the error comes back as MaybeSent.
    let gsm = StubTransport::sms().then(fail(ErrorKind::Timeout, Dispatch::MaybeSent));
    let cloud = StubTransport::sms();
    let m = Messenger::builder()
        .transport("gsm", gsm.clone())
        .transport("cloud", cloud.clone())
        .route(Route::any_phone().via(["gsm", "cloud"]))
        .build()
        .unwrap();
    let e = m.send(Message::sms(al(), "x")).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::MaybeSent);
    assert!(
        cloud.sent().is_empty(),
        "a MaybeSent message must never be sent again elsewhere"
    );

    // A permanent rejection is final too.
    let gsm = StubTransport::sms().then(fail(ErrorKind::Rejected, Dispatch::Sent));
    let cloud = StubTransport::sms();
    let m = Messenger::builder()
        .transport("gsm", gsm)
        .transport("cloud", cloud.clone())
        .route(Route::any_phone().via(["gsm", "cloud"]))
        .build()
        .unwrap();
    assert_eq!(
        m.send(Message::sms(al(), "x")).await.unwrap_err().kind(),
        ErrorKind::Rejected
    );
    assert!(cloud.sent().is_empty());
}

#[tokio::test]
async fn all_failed_carries_every_cause() {
    let a = StubTransport::sms().then(fail(ErrorKind::Unavailable, Dispatch::NotSent));
    let b = StubTransport::sms().then(fail(ErrorKind::RateLimited, Dispatch::NotSent));
    let m = Messenger::builder()
        .transport("a", a)
        .transport("b", b)
        .route(Route::any().via(["a", "b"]))
        .build()
        .unwrap();
    let e = m.send(Message::sms(al(), "x")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.dispatch(), Dispatch::NotSent);
    assert!(e.to_string().contains("all 2 transports failed"), "{e}");
    let all = e
        .source()
        .and_then(|s| s.downcast_ref::<AllFailed>())
        .expect("AllFailed source");
    assert_eq!(all.attempts.len(), 2);
    assert_eq!(all.attempts[0].transport, "a");
    assert_eq!(all.attempts[0].error.kind(), ErrorKind::Unavailable);
    assert_eq!(all.attempts[1].transport, "b");
}

#[tokio::test]
async fn round_robin_spreads_and_fails_over() {
    let a = StubTransport::sms();
    let b = StubTransport::sms();
    let m = Messenger::builder()
        .transport("a", a.clone())
        .transport("b", b.clone())
        .route(Route::any_phone().round_robin(["a", "b"]))
        .build()
        .unwrap();
    for _ in 0..10 {
        m.send(Message::sms(us(), "x")).await.unwrap();
    }
    assert_eq!((a.sent().len(), b.sent().len()), (5, 5));
}

#[tokio::test(start_paused = true)]
async fn a_failing_transport_cools_down_and_recovers() {
    let gsm = StubTransport::sms().then_n(fail(ErrorKind::Unavailable, Dispatch::NotSent), 2);
    let cloud = StubTransport::sms();
    let m = Messenger::builder()
        .transport("gsm", gsm.clone())
        .transport("cloud", cloud.clone())
        .route(Route::any_phone().via(["gsm", "cloud"]))
        .health(HealthPolicy {
            threshold: 2,
            cooldown: Duration::from_secs(60),
        })
        .build()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(m.send(Message::sms(al(), "x")).await.unwrap().transport, "cloud");
    }
    // gsm is cooling down: it is not even tried.
    assert_eq!(m.send(Message::sms(al(), "x")).await.unwrap().transport, "cloud");
    assert_eq!(gsm.sent().len(), 2);
    // After the cool-down it is tried again and, having recovered, takes the message.
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(m.send(Message::sms(al(), "x")).await.unwrap().transport, "gsm");
}

#[tokio::test]
async fn journal_has_the_attempt_before_the_outcome() {
    let journal = Arc::new(MemoryJournal::new());
    let gsm = StubTransport::sms().then(fail(ErrorKind::Transport, Dispatch::NotSent));
    let m = Messenger::builder()
        .transport("gsm", gsm)
        .transport("cloud", StubTransport::sms())
        .route(Route::any_phone().via(["gsm", "cloud"]))
        .journal(journal.clone())
        .build()
        .unwrap();
    let msg = Message::sms(al(), "x");
    let id = msg.id.clone();
    m.send(msg).await.unwrap();
    let entries = journal.for_message(&id);
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| match &e.record {
            JournalRecord::Attempt { .. } => "attempt",
            JournalRecord::Failed { .. } => "failed",
            JournalRecord::Accepted { .. } => "accepted",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["attempt", "failed", "attempt", "accepted"]);
}

#[tokio::test]
async fn no_route_and_unknown_kinds_are_input_errors() {
    let m = Messenger::builder()
        .transport("gsm", StubTransport::sms())
        .route(Route::country(355).via(["gsm"]))
        .build()
        .unwrap();
    let e = m.send(Message::sms(us(), "x")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    let e = m.send(Message::chat("42", "hi")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn build_checks_names() {
    let e = Messenger::builder()
        .transport("a", StubTransport::sms())
        .route(Route::any().via(["b"]))
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("'b'"));
    let e = Messenger::builder()
        .transport("a", StubTransport::sms())
        .transport("a", StubTransport::sms())
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn without_routes_every_capable_transport_is_a_chain() {
    let mail = StubTransport::with_capabilities(Capabilities::none().with_email());
    let sms = StubTransport::sms();
    let m = Messenger::builder()
        .transport("mail", mail.clone())
        .transport("sms", sms.clone())
        .build()
        .unwrap();
    let r = m.send(Message::email("a@b.co", "hi", "there").unwrap()).await.unwrap();
    assert_eq!(r.transport, "mail");
    assert_eq!(m.send(Message::sms(al(), "x")).await.unwrap().transport, "sms");
}

#[tokio::test]
async fn send_all_keeps_order_and_bounds_in_flight() {
    let t = StubTransport::sms().then(fail(ErrorKind::Rejected, Dispatch::Sent));
    let m = Messenger::builder()
        .transport("t", t.clone())
        .send_all_concurrency(4)
        .build()
        .unwrap();
    let msgs: Vec<Message> = (0..50).map(|i| Message::sms(al(), format!("m{i}"))).collect();
    let ids: Vec<_> = msgs.iter().map(|m| m.id.clone()).collect();
    let out: Vec<_> = m.send_all(futures::stream::iter(msgs)).collect().await;
    assert_eq!(out.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(out.iter().filter(|(_, r)| r.is_err()).count(), 1);
    assert_eq!(t.sent().len(), 50);
}

#[tokio::test]
async fn send_batch_fails_over_only_the_unsent() {
    let a = StubTransport::sms()
        .then(StubAnswer::Accept)
        .then(fail(ErrorKind::Unavailable, Dispatch::NotSent))
        .then(fail(ErrorKind::Timeout, Dispatch::MaybeSent));
    let b = StubTransport::sms();
    let m = Messenger::builder()
        .transport("a", a.clone())
        .transport("b", b.clone())
        .route(Route::any_phone().via(["a", "b"]))
        .build()
        .unwrap();
    let msgs: Vec<Message> = (0..3).map(|i| Message::sms(al(), format!("m{i}"))).collect();
    let out = m.send_batch(&msgs).await;
    assert_eq!(out[0].as_ref().unwrap().transport, "a");
    assert_eq!(out[1].as_ref().unwrap().transport, "b");
    assert_eq!(out[2].as_ref().unwrap_err().dispatch(), Dispatch::MaybeSent);
    assert_eq!(b.sent().len(), 1, "only the certainly-unsent message moved to b");
}

#[tokio::test]
async fn status_goes_to_the_transport_that_sent() {
    let m = Messenger::builder()
        .transport("gsm", StubTransport::sms())
        .build()
        .unwrap();
    let r = m.send(Message::sms(al(), "x")).await.unwrap();
    let s = m.status(&r).await.unwrap();
    assert_eq!(s.provider_id, r.provider_id());
    assert!(s.status.is_final());
}

#[derive(Debug)]
struct FailingJournal;

#[switchboard::async_trait]
impl switchboard::Journal for FailingJournal {
    async fn record(&self, _entry: switchboard::JournalEntry) -> switchboard::Result<()> {
        Err(switchboard::Error::new(ErrorKind::Unavailable, "disk full"))
    }
}

#[tokio::test]
async fn nothing_is_sent_when_the_journal_cannot_record_the_attempt() {
    let t = StubTransport::sms();
    let m = Messenger::builder()
        .transport("t", t.clone())
        .journal(Arc::new(FailingJournal))
        .build()
        .unwrap();
    let e = m.send(Message::sms(al(), "x")).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent);
    assert!(
        t.sent().is_empty(),
        "a send the journal does not know of must not go out"
    );
    let out = m.send_batch(&[Message::sms(al(), "y")]).await;
    assert!(out[0].is_err());
    assert!(t.sent().is_empty());
}

/// Answers every send with two part ids, and a different status for each part.
#[derive(Debug)]
struct TwoParts;

#[switchboard::async_trait]
impl switchboard::Transport for TwoParts {
    fn provider(&self) -> &'static str {
        "two-parts"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::sms().with_status()
    }
    async fn send(&self, message: &Message) -> switchboard::Result<switchboard::Receipt> {
        let mut r = switchboard::Receipt::new("two-parts", message, "part-1");
        r.provider_ids.push("part-2".into());
        Ok(r)
    }
    async fn status(&self, id: &str) -> switchboard::Result<switchboard::StatusReport> {
        let status = if id == "part-1" {
            switchboard::DeliveryStatus::Delivered
        } else {
            switchboard::DeliveryStatus::Queued
        };
        Ok(switchboard::StatusReport::new(id, status, status.as_str()))
    }
}

#[tokio::test]
async fn status_looks_up_every_part_and_reports_the_one_furthest_behind() {
    let m = Messenger::builder().transport("sms", TwoParts).build().unwrap();
    let receipt = m.send(Message::sms(al(), "a long text in two parts")).await.unwrap();
    let report = m.status(&receipt).await.unwrap();
    assert_eq!(report.status, switchboard::DeliveryStatus::Queued);
    assert_eq!(report.provider_id, "part-2");
    let ids: Vec<&str> = report.parts.iter().map(|p| p.provider_id.as_str()).collect();
    assert_eq!(ids, ["part-1", "part-2"]);
    assert_eq!(
        switchboard::DeliveryStatus::Delivered.worst(switchboard::DeliveryStatus::Failed),
        switchboard::DeliveryStatus::Failed
    );
}

#[tokio::test]
async fn smart_encoding_per_transport_and_per_message() {
    let text = format!("{}’s ready", "a".repeat(142));
    let smart = StubTransport::sms();
    let plain = StubTransport::sms();
    let m = Messenger::builder()
        .transport("smart", smart.clone())
        .transport("plain", plain.clone())
        .smart_encoding("smart", true)
        .build()
        .unwrap();
    let r = m.send_via("smart", Message::sms(al(), text.clone())).await.unwrap();
    assert_eq!(smart.sent()[0].text, format!("{}'s ready", "a".repeat(142)));
    assert_eq!(r.segments.unwrap().segments, 1, "one part instead of three");
    // The message can turn it off where the transport has it on, and on where it is off.
    m.send_via("smart", Message::sms(al(), text.clone()).with_smart_encoding(false))
        .await
        .unwrap();
    assert_eq!(smart.sent()[1].text, text);
    m.send_via("plain", Message::sms(al(), text.clone())).await.unwrap();
    assert_eq!(plain.sent()[0].text, text);
    let r = m
        .send_via("plain", Message::sms(al(), text.clone()).with_smart_encoding(true))
        .await
        .unwrap();
    assert_eq!(r.segments.unwrap().segments, 1);
    // Batches too (no routes: the first transport that reaches a phone, "smart", takes it).
    let out = m.send_batch(&[Message::sms(al(), text.clone())]).await;
    assert_eq!(out[0].as_ref().unwrap().transport, "smart");
    assert_eq!(
        smart.sent().last().unwrap().text,
        format!("{}'s ready", "a".repeat(142))
    );
}

/// The counters recorded while `f` runs on a current-thread runtime, as (name, sorted labels) → value.
fn counters_of<F: std::future::Future<Output = ()>>(
    f: impl FnOnce() -> F,
) -> std::collections::BTreeMap<(String, Vec<(String, String)>), u64> {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    {
        let _guard = metrics::set_default_local_recorder(&recorder);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f());
    }
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            DebugValue::Counter(n) => {
                let mut labels: Vec<(String, String)> = key
                    .key()
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                labels.sort();
                Some(((key.key().name().to_owned(), labels), n))
            }
            _ => None,
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    v.sort();
    v
}

#[test]
fn sends_failures_and_failovers_are_counted_without_numbers_in_labels() {
    let counters = counters_of(|| async {
        let gsm = StubTransport::sms().then(fail(ErrorKind::Unavailable, Dispatch::NotSent));
        let cloud = StubTransport::sms();
        let m = Messenger::builder()
            .transport("gsm", gsm)
            .transport("cloud", cloud)
            .route(Route::any_phone().via(["gsm", "cloud"]))
            .build()
            .unwrap();
        m.send(Message::sms(al(), "x")).await.unwrap();
        m.send(Message::sms(al(), "y")).await.unwrap();
    });
    let get = |name: &str, l: &[(&str, &str)]| counters.get(&(name.to_owned(), labels(l))).copied();
    assert_eq!(
        get(
            "switchboard_messages_sent_total",
            &[("transport", "gsm"), ("provider", "stub")]
        ),
        Some(1)
    );
    assert_eq!(
        get(
            "switchboard_messages_sent_total",
            &[("transport", "cloud"), ("provider", "stub")]
        ),
        Some(1)
    );
    assert_eq!(
        get(
            "switchboard_messages_failed_total",
            &[
                ("transport", "gsm"),
                ("provider", "stub"),
                ("error_type", "unavailable"),
                ("dispatch", "not_sent")
            ]
        ),
        Some(1)
    );
    assert_eq!(get("switchboard_failovers_total", &[("from", "gsm")]), Some(1));
    let all = format!("{counters:?}");
    assert!(!all.contains("694123456") && !all.contains("355694"), "{all}");
}

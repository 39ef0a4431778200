//! Durable sending: `user_id`s unique across processes (a shared store's sequence, or a random start
//! without one), `prepare` → `send` under the prepared id, and `reconcile` that matches id, number and
//! text and waits for a gateway that records its tasks late.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::simulated::Simulated;

use crate::sim::{LossMode, Simulator};
use crate::{BatchRecipient, DinstarTransport, SmsBatch};
use switchboard_core::{Dispatch, MemoryStore, Message, Reconciled, Store, Transport};

use crate::tests::{client, config_for, number, sms};

fn transport(dsn: &str) -> DinstarTransport {
    DinstarTransport::new(config_for(dsn)).unwrap()
}

async fn prepared(t: &DinstarTransport, n: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let r = t.prepare(&Message::sms(number(0), "x")).await.unwrap();
        out.push(r.expect("Dinstar prepares a user_id").parse().unwrap());
    }
    out
}

#[tokio::test]
async fn two_transports_sharing_one_store_never_hand_out_the_same_user_id() {
    let sim = Simulator::start().await;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (a, b) = (transport(&sim.dsn()), transport(&sim.dsn()));
    a.use_store(store.clone());
    b.use_store(store.clone());
    // Prepared ids and the ids of plain sends, from both at once.
    let (pa, pb) = tokio::join!(prepared(&a, 150), prepared(&b, 150));
    let batch: Vec<Message> = (0..70).map(|i| Message::sms(number(i), "Hi")).collect();
    let (sa, sb) = tokio::join!(a.send_many(&batch), b.send_many(&batch));
    let mut all: Vec<u32> = pa.into_iter().chain(pb).collect();
    for r in sa.iter().chain(sb.iter()) {
        all.push(r.as_ref().unwrap().provider_id().parse().unwrap());
    }
    let distinct: HashSet<u32> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "a user_id was handed out twice");
    assert_eq!(sim.sent().len(), 140);
    // The sequence is the gateway's own: a second gateway does not share it.
    let seq = a.client().user_ids().sequence().to_owned();
    assert!(seq.ends_with(sim.uri().trim_start_matches("http://")), "{seq}");
    assert!(
        store.next_ids(&seq, 1).await.unwrap() > 440,
        "ids came from the store's sequence"
    );
}

#[tokio::test]
async fn two_transports_without_a_store_started_together_do_not_collide() {
    let sim = Simulator::start().await;
    let (a, b) = (transport(&sim.dsn()), transport(&sim.dsn()));
    let (pa, pb) = tokio::join!(prepared(&a, 100), prepared(&b, 100));
    let a: HashSet<u32> = pa.into_iter().collect();
    let b: HashSet<u32> = pb.into_iter().collect();
    assert_eq!(a.len(), 100);
    assert!(
        a.is_disjoint(&b),
        "two processes started at the same instant gave out the same ids"
    );
}

#[tokio::test]
async fn a_send_uses_the_prepared_reference() {
    let sim = Simulator::start().await;
    let t = transport(&sim.dsn());
    let mut m = Message::sms(number(3), "Hi");
    m.reference = t.prepare(&m).await.unwrap();
    let id = m.reference.clone().unwrap();
    let r = t.send(&m).await.unwrap();
    assert_eq!(r.provider_id(), id);
    assert_eq!(sms(&sim)[0].user_id.to_string(), id);
    // A reference that is no user_id is refused before anything is sent.
    m.reference = Some("not-an-id".into());
    let e = t.send(&m).await.unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent);
    assert_eq!(sim.sent().len(), 1);
}

#[tokio::test]
async fn reconcile_finds_a_prepared_send_whose_answer_was_lost_and_not_one_that_never_arrived() {
    let sim = Simulator::start().await;
    for (mode, landed) in [(LossMode::DropAfterAccept, true), (LossMode::DropBeforeForward, false)] {
        let proxy = sim.lossy_proxy("/api/send_sms", mode, 1).await.unwrap();
        let t = transport(&format!("{}&reconcile=false", sim.dsn_at(&proxy).unwrap()));
        let mut m = Message::sms(number(1), "Porosia juaj u dërgua");
        m.reference = t.prepare(&m).await.unwrap();
        let e = t.send(&m).await.unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::MaybeSent);
        let reference = m.reference.clone().unwrap();
        match t.reconcile(&m, &reference).await.unwrap() {
            Reconciled::Landed(r) if landed => assert_eq!(r.provider_id(), reference),
            Reconciled::NotLanded if !landed => {}
            other => panic!("{mode:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn reconcile_refuses_a_record_with_the_same_user_id_but_another_number_or_text() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    // Another process's SMS under ids this one also uses: another number under 4242, another text
    // (three parts, not one) to the same number under 4243.
    let long = "Another message entirely, long enough to take three parts of GSM-7. ".repeat(5);
    let other_number = SmsBatch::new("Hi").recipient(BatchRecipient::new(number(9)).with_user_id(4242));
    let other_text = SmsBatch::new(long).recipient(BatchRecipient::new(number(1)).with_user_id(4243));
    assert!(c.send_batch(&other_number).await.unwrap().all_accepted());
    assert!(c.send_batch(&other_text).await.unwrap().all_accepted());
    let t = transport(&sim.dsn());
    let mine = Message::sms(number(1), "Hi");
    assert_eq!(t.reconcile(&mine, "4242").await.unwrap(), Reconciled::NotLanded);
    assert_eq!(t.reconcile(&mine, "4243").await.unwrap(), Reconciled::CannotTell);
    // The same id, number and text is this SMS.
    let same = SmsBatch::new("Hi").recipient(BatchRecipient::new(number(1)).with_user_id(4244));
    assert!(c.send_batch(&same).await.unwrap().all_accepted());
    assert!(matches!(
        t.reconcile(&mine, "4244").await.unwrap(),
        Reconciled::Landed(_)
    ));
}

#[tokio::test]
async fn a_lost_answer_whose_task_the_gateway_records_late_is_reconciled_as_sent_once() {
    // The gateway answers 202 (lost on the way back) and records the task 1.5 s later: longer than the
    // one second the client used to wait before sending again.
    let sim = Simulator::builder()
        .record_after(Duration::from_millis(1500))
        .start()
        .await;
    let proxy = sim
        .lossy_proxy("/api/send_sms", LossMode::DropAfterAccept, 1)
        .await
        .unwrap();
    let t = DinstarTransport::new(
        config_for(&sim.dsn_at(&proxy).unwrap())
            .into_builder()
            .reconcile_window(Duration::from_secs(10))
            .build()
            .unwrap(),
    )
    .unwrap();
    let r = t.send(&Message::sms(number(0), "Hi")).await.unwrap();
    assert_eq!(sim.sent().len(), 1, "sent once, never again");
    assert_eq!(sim.stats().path("/api/send_sms"), 1);
    assert_eq!(sms(&sim)[0].user_id.to_string(), r.provider_id());
    assert_eq!(r.raw["reconciled"], true);
}

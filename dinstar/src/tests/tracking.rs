//! Tracking by `user_id` (SENDING → SENT_OK → DELIVERED, delivery reports, 32 per query) and
//! reconciliation of sends whose answer was lost, so a retry never duplicates an SMS.

use std::time::Duration;
use switchboard_core::simulated::Simulated;

use crate::sim::{LossMode, SimOutcome, Simulator};
use crate::tests::{client, config, config_for, number, numbers, sms};
use crate::{DinstarClient, SmsBatch};
use switchboard_core::testkit::Fault;
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Recipient};

#[tokio::test]
async fn status_moves_from_queued_to_sent_to_delivered() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let to = number(0);
    let out = c.send_batch(&SmsBatch::new("Hi").to(to.clone())).await.unwrap();
    let id = out.submissions[0].user_id;
    let s = c.status(id).await.unwrap();
    assert_eq!((s.status, s.raw_status.as_str()), (DeliveryStatus::Queued, "SENDING"));
    assert_eq!(s.provider_id, id.to_string());
    assert_eq!(s.recipient, Some(Recipient::Phone(to)));
    assert!(s.at.is_some());
    sim.advance().await;
    let s = c.status(id).await.unwrap();
    assert_eq!((s.status, s.raw_status.as_str()), (DeliveryStatus::Sent, "SENT_OK"));
    sim.advance().await;
    let s = c.status(id).await.unwrap();
    assert_eq!(s.status, DeliveryStatus::Delivered);
    assert_eq!(s.raw["result"]["status"], "DELIVERED");
    assert!(s.error_code.is_none());
}

#[tokio::test]
async fn failures_and_delivery_report_codes() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let n = numbers(4);
    sim.set_outcome(n[0].digits(), SimOutcome::FailSending);
    sim.set_outcome(n[1].digits(), SimOutcome::Undeliverable(65));
    sim.set_outcome(n[2].digits(), SimOutcome::Temporary(40));
    sim.set_outcome(n[3].digits(), SimOutcome::Undeliverable(0x46));
    let out = c.send_batch(&SmsBatch::new("Hi").to_all(n.clone())).await.unwrap();
    let ids: Vec<u32> = out.submissions.iter().map(|s| s.user_id).collect();
    sim.advance().await;
    sim.advance().await;
    let r = c.track(&ids).await.unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(
        (r[0].status, r[0].raw_status.as_str()),
        (DeliveryStatus::Failed, "FAILED")
    );
    assert_eq!(r[1].status, DeliveryStatus::Failed);
    assert_eq!(r[1].error_code.as_deref(), Some("65"));
    assert_eq!(r[1].raw_status, "SENT_OK/status_code=65");
    assert_eq!(r[2].status, DeliveryStatus::Sent, "a temporary error is still pending");
    assert_eq!(r[2].error_code.as_deref(), Some("40"));
    assert_eq!(
        r[3].status,
        DeliveryStatus::Expired,
        "TP-Status 0x46: validity period expired"
    );
    sim.advance().await;
    let later = c.status(ids[2]).await.unwrap();
    assert_eq!(later.status, DeliveryStatus::Delivered);
}

#[tokio::test]
async fn tracking_100_ids_takes_32_per_query() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let out = c.send_batch(&SmsBatch::new("Hi").to_all(numbers(100))).await.unwrap();
    let ids: Vec<u32> = out.submissions.iter().map(|s| s.user_id).collect();
    sim.advance().await;
    let before = sim.stats();
    let r = c.track(&ids).await.unwrap();
    assert_eq!(r.len(), 100);
    assert!(r.iter().all(|s| s.status == DeliveryStatus::Sent));
    let after = sim.stats();
    let q = |p: &str| after.authorized_path(p) - before.authorized_path(p);
    assert_eq!(q("/api/query_sms_result"), 4, "100 ids in 4 queries of at most 32");
    assert_eq!(
        q("/api/query_sms_deliver_status"),
        4,
        "100 numbers in 4 queries of at most 32"
    );
}

#[tokio::test]
async fn an_unknown_id_is_not_found() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let e = c.status(123).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(c.track(&[1, 2, 3]).await.unwrap().is_empty());
}

#[tokio::test]
async fn reconcile_tells_landed_from_missing() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let out = c.send_batch(&SmsBatch::new("Hi").to_all(numbers(40))).await.unwrap();
    let mut ids: Vec<u32> = out.submissions.iter().map(|s| s.user_id).collect();
    ids.extend([7, 8]);
    let r = c.reconcile(&ids).await.unwrap();
    assert_eq!(r.landed.len(), 40);
    assert_eq!(r.missing, vec![7, 8]);
}

/// The answer times out after the gateway queued the task: reconciliation finds every id, nothing
/// is sent twice.
#[tokio::test]
async fn a_timed_out_send_that_landed_is_not_sent_again() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.query_sms_in_queue().await.unwrap();
    sim.faults().push(Fault::Delay(Duration::from_secs(3)));
    let out = c
        .send_batch_reconciled(&SmsBatch::new("Hi").to_all(numbers(10)))
        .await
        .unwrap();
    assert!(out.all_accepted());
    assert!(out.submissions.iter().all(|s| s.outcome.as_ref().unwrap().reconciled));
    assert_eq!(sim.sent().len(), 10, "no duplicate");
    assert_eq!(out.requests, 1);
}

/// The connection drops after the gateway took the request.
#[tokio::test]
async fn a_dropped_answer_after_acceptance_is_not_sent_again() {
    let sim = Simulator::start().await;
    let proxy = sim
        .lossy_proxy("/api/send_sms", LossMode::DropAfterAccept, 1)
        .await
        .unwrap();
    let c = DinstarClient::new(config_for(&sim.dsn_at(&proxy).unwrap())).unwrap();
    // Without reconciliation, the outcome is MaybeSent.
    let plain = c.send_batch(&SmsBatch::new("Hi").to_all(numbers(3))).await.unwrap();
    let e = plain.submissions[0].outcome.as_ref().unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch()),
        (ErrorKind::Transport, Dispatch::MaybeSent),
        "{e}"
    );
    assert_eq!(sim.sent().len(), 3, "the gateway has them nonetheless");
    // With reconciliation: the next loss is resolved by lookup, not by a blind re-send.
    let proxy = sim
        .lossy_proxy("/api/send_sms", LossMode::DropAfterAccept, 1)
        .await
        .unwrap();
    let c = DinstarClient::new(config_for(&sim.dsn_at(&proxy).unwrap())).unwrap();
    let out = c
        .send_batch_reconciled(&SmsBatch::new("Hi").to_all(numbers(3)))
        .await
        .unwrap();
    assert!(out.all_accepted());
    assert_eq!(sim.sent().len(), 6, "3 + 3, nothing twice");
    assert_eq!(out.requests, 1);
}

/// The connection drops before the gateway got the request: reconciliation finds nothing and
/// sends again, with the same ids.
#[tokio::test]
async fn a_request_lost_before_the_gateway_is_sent_again_once() {
    let sim = Simulator::start().await;
    let proxy = sim
        .lossy_proxy("/api/send_sms", LossMode::DropBeforeForward, 1)
        .await
        .unwrap();
    let c = DinstarClient::new(config_for(&sim.dsn_at(&proxy).unwrap())).unwrap();
    let out = c
        .send_batch_reconciled(&SmsBatch::new("Hi").to_all(numbers(200)))
        .await
        .unwrap();
    assert!(
        out.all_accepted(),
        "{:?}",
        out.submissions.iter().find(|s| s.outcome.is_err())
    );
    assert_eq!(out.requests, 3, "two chunks, the first one twice");
    let sent = sms(&sim);
    assert_eq!(sent.len(), 200, "every recipient exactly once");
    let mut ids: Vec<u64> = sent.iter().map(|s| s.user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200);
    let want: Vec<u64> = out.submissions.iter().map(|s| u64::from(s.user_id)).collect();
    assert!(want.iter().all(|id| ids.contains(id)), "re-sent with the same ids");
    assert!(
        out.submissions[..128]
            .iter()
            .all(|s| !s.outcome.as_ref().unwrap().reconciled)
    );
}

#[tokio::test]
async fn a_500_on_send_is_reconciled_too() {
    let sim = Simulator::start().await;
    let c = DinstarClient::new(config(&sim).into_builder().retry_attempts(1).build().unwrap()).unwrap();
    sim.fail_next_with_code("/api/send_sms", 500);
    let out = c
        .send_batch_reconciled(&SmsBatch::new("Hi").to_all(numbers(5)))
        .await
        .unwrap();
    assert!(out.all_accepted());
    assert_eq!(sim.sent().len(), 5);
    assert_eq!(out.requests, 2);
}

#[tokio::test]
async fn when_the_lookup_fails_the_send_stays_maybe_sent() {
    let sim = Simulator::start().await;
    let c = DinstarClient::new(config(&sim).into_builder().retry_attempts(1).build().unwrap()).unwrap();
    c.query_sms_in_queue().await.unwrap();
    sim.faults().push(Fault::Delay(Duration::from_secs(3)));
    sim.faults().push(Fault::Status(503)); // the lookup
    let out = c
        .send_batch_reconciled(&SmsBatch::new("Hi").to_all(numbers(2)))
        .await
        .unwrap();
    let e = out.submissions[0].outcome.as_ref().unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::MaybeSent);
    assert_eq!(sim.sent().len(), 2, "never re-sent without proof");
}

#[tokio::test]
async fn a_stale_id_used_for_another_number_is_not_taken_for_ours() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    // An earlier process used id 5000 for another number.
    c.send_batch(&SmsBatch::new("old").recipient(crate::BatchRecipient::new(number(1)).with_user_id(5000)))
        .await
        .unwrap();
    let proxy = sim
        .lossy_proxy("/api/send_sms", LossMode::DropBeforeForward, 1)
        .await
        .unwrap();
    let c = DinstarClient::new(config_for(&sim.dsn_at(&proxy).unwrap())).unwrap();
    let out = c
        .send_batch_reconciled(
            &SmsBatch::new("new").recipient(crate::BatchRecipient::new(number(2)).with_user_id(5000)),
        )
        .await
        .unwrap();
    assert!(out.all_accepted());
    let sent = sms(&sim);
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1].text, "new",
        "the lost SMS was sent, not mistaken for the old one"
    );
}

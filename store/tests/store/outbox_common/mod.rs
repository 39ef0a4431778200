//! The outbox suite both backends pass: the same scenarios, instantiated by `outbox_suite!` with a
//! setup that opens a fresh outbox on a real database.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use switchboard::core::simulated::Simulated;
use switchboard::{Message, Messenger, Receipt, Result, transport_from_dsn};
use switchboard_core::Store;
use switchboard_store::outbox::OutboxSender;

/// A sender that answers from a script (then accepts everything), counting its calls: the outbox's
/// contract with any sender, without a provider in the way.
#[derive(Default)]
pub struct Script {
    answers: Mutex<VecDeque<Result<Receipt>>>,
    calls: AtomicUsize,
}

impl Script {
    pub fn new(answers: Vec<Result<Receipt>>) -> Arc<Self> {
        Arc::new(Script {
            answers: Mutex::new(answers.into()),
            calls: AtomicUsize::new(0),
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[switchboard_core::async_trait]
impl OutboxSender for Script {
    async fn send(&self, message: Message) -> Result<Receipt> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.answers.lock().unwrap().pop_front();
        next.unwrap_or_else(|| Ok(Receipt::new("script", &message, format!("p{}", self.calls()))))
    }
}

/// A Messenger over the SMS.ru simulator with `store` as its key store.
pub fn messenger(sim: &switchboard_smsru::sim::Simulator, store: Arc<dyn Store>) -> Arc<Messenger> {
    Arc::new(
        Messenger::builder()
            .transport("sms", transport_from_dsn(&sim.dsn()).expect("the simulator's DSN"))
            .store(store)
            .build()
            .expect("a messenger"),
    )
}

pub fn sms(text: &str) -> Message {
    Message::sms("+79161234567".parse().expect("number"), text)
}

/// The scenarios. `$setup` is an async fn returning `Option<Env>` (`None`: no server, skipped) where
/// `Env` has `outbox`, `store: Arc<Store type>`, and `begin()` giving a host transaction.
macro_rules! outbox_suite {
    ($setup:path) => {
        use std::sync::Arc;
        use std::time::Duration;

        use switchboard::core::simulated::Simulated as _;
        use switchboard::store::{Claim, MessageKey, Outcome, Store as _};
        use switchboard::{Dispatch, Error, ErrorKind};
        use switchboard_store::outbox::{JobState, WorkerOptions};

        use crate::outbox_common::{Script, messenger, sms};

        fn quick() -> WorkerOptions {
            WorkerOptions::new()
                .poll_interval(Duration::from_millis(5))
                .retry_backoff(Duration::from_millis(10), Duration::from_millis(20))
                .max_attempts(3)
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_message_is_queued_exactly_when_the_host_commits() {
            let Some(env) = $setup().await else { return };
            let mut tx = env.begin().await;
            sqlx::query("CREATE TABLE IF NOT EXISTS host_orders (id BIGINT PRIMARY KEY)")
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();

            let mut tx = env.begin().await;
            sqlx::query("INSERT INTO host_orders (id) VALUES (71)")
                .execute(&mut *tx)
                .await
                .unwrap();
            env.outbox.enqueue(&mut tx, &sms("order 71")).await.unwrap();
            tx.rollback().await.unwrap();
            assert_eq!(
                env.outbox.counts().await.unwrap().queued,
                0,
                "rolled back with the order"
            );

            let mut tx = env.begin().await;
            sqlx::query("INSERT INTO host_orders (id) VALUES (72)")
                .execute(&mut *tx)
                .await
                .unwrap();
            let id = env.outbox.enqueue(&mut tx, &sms("order 72")).await.unwrap();
            assert!(
                env.outbox.get(id).await.unwrap().is_none(),
                "invisible before the commit"
            );
            tx.commit().await.unwrap();
            let job = env.outbox.get(id).await.unwrap().expect("queued");
            assert_eq!(job.state, JobState::Queued);
            assert!(
                job.key.as_str().starts_with("outbox-"),
                "a key was made: {}",
                job.key
            );
            assert_eq!(job.message.key.as_ref(), Some(&job.key));
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn workers_send_each_message_once_through_the_messenger() {
            let Some(env) = $setup().await else { return };
            let sim = switchboard_smsru::sim::Simulator::start().await;
            let sender = messenger(&sim, env.store.clone());
            let mut ids = Vec::new();
            for i in 0..30 {
                let m = sms(&format!("once {i}")).with_key(MessageKey::new(format!("once-{i}")).unwrap());
                ids.push(env.outbox.enqueue_on_pool(&m, None).await.unwrap());
            }
            // Queuing a key again (a retried request) queues nothing; another message under it is refused.
            let again = sms("once 3").with_key(MessageKey::new("once-3").unwrap());
            assert_eq!(env.outbox.enqueue_on_pool(&again, None).await.unwrap(), ids[3]);
            let other = sms("something else").with_key(MessageKey::new("once-3").unwrap());
            let e = env.outbox.enqueue_on_pool(&other, None).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Conflict);

            let (a, b) = (
                env.outbox.worker(sender.clone(), quick().concurrency(4)),
                env.outbox.worker(sender.clone(), quick().concurrency(4)),
            );
            let (x, y) = tokio::join!(a.drain(), b.drain());
            assert_eq!(x.unwrap() + y.unwrap(), 30);
            let sent = sim.sent();
            assert_eq!(sent.len(), 30, "each message reached the provider once");
            for id in &ids {
                let job = env.outbox.get(*id).await.unwrap().unwrap();
                assert_eq!(job.state, JobState::Accepted);
                let receipt = job.receipt.expect("kept");
                assert_eq!(sent.iter().filter(|s| s.id == receipt.provider_id()).count(), 1);
            }
            // Requeuing an accepted job is refused; nothing is due, nothing is sent.
            assert_eq!(
                env.outbox.requeue(ids[0]).await.unwrap_err().kind(),
                ErrorKind::Conflict
            );
            assert_eq!(a.drain().await.unwrap(), 0);
            assert_eq!(sim.sent().len(), 30);
            assert_eq!(env.outbox.counts().await.unwrap().accepted, 30);
            assert_eq!(
                env.outbox
                    .list(JobState::Accepted, Some(ids[9]), 100)
                    .await
                    .unwrap()
                    .len(),
                20
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn only_errors_proving_nothing_went_out_are_retried() {
            let Some(env) = $setup().await else { return };
            let not_sent = || Err(Error::new(ErrorKind::Unavailable, "gateway down").with_dispatch(Dispatch::NotSent));
            let script = Script::new(vec![not_sent()]);
            // Retries come 50 to 100 ms later: not within the same drain.
            let backoff = Duration::from_millis(100);
            let worker = env
                .outbox
                .worker(script.clone(), quick().retry_backoff(backoff, backoff));

            let retried = env.outbox.enqueue_on_pool(&sms("retried"), None).await.unwrap();
            let before = chrono::Utc::now();
            assert_eq!(worker.drain().await.unwrap(), 1);
            let job = env.outbox.get(retried).await.unwrap().unwrap();
            assert_eq!(job.state, JobState::Queued, "retried later");
            assert_eq!(
                job.error.as_ref().map(|e| e.kind.as_str()),
                Some(ErrorKind::Unavailable.as_str())
            );
            // Measured from before the drain, so a slow machine cannot make a correct backoff look short
            // (the run time is kept in whole milliseconds, hence 49 rather than 50).
            assert!(
                job.run_at >= before + chrono::Duration::milliseconds(49),
                "backed off: due {} after a drain that started {before}",
                job.run_at
            );
            tokio::time::sleep(backoff + Duration::from_millis(10)).await;
            assert_eq!(worker.drain().await.unwrap(), 1);
            let job = env.outbox.get(retried).await.unwrap().unwrap();
            assert_eq!((job.state, job.attempts), (JobState::Accepted, 2));

            let maybe_sent = env.outbox.enqueue_on_pool(&sms("maybe"), None).await.unwrap();
            // The script answers it MaybeSent: flagged, and never sent again by any worker.
            let script2 = Script::new(vec![Err(
                Error::new(ErrorKind::Timeout, "no answer").with_dispatch(Dispatch::MaybeSent)
            )]);
            let w2 = env.outbox.worker(script2.clone(), quick());
            assert_eq!(w2.drain().await.unwrap(), 1);
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert_eq!(w2.drain().await.unwrap(), 0);
            assert_eq!(script2.calls(), 1);
            let job = env.outbox.get(maybe_sent).await.unwrap().unwrap();
            assert_eq!(job.state, JobState::MaybeSent);
            assert_eq!(job.error.unwrap().dispatch, "maybe_sent");
            assert_eq!(
                env.outbox
                    .list(JobState::MaybeSent, None, 10)
                    .await
                    .unwrap()
                    .len(),
                1
            );
            assert_eq!(env.outbox.counts().await.unwrap().maybe_sent, 1);
            // A person requeues it (after resolving its key): it is sent again.
            env.outbox.requeue(maybe_sent).await.unwrap();
            assert_eq!(w2.drain().await.unwrap(), 1);
            assert_eq!(
                env.outbox.get(maybe_sent).await.unwrap().unwrap().state,
                JobState::Accepted
            );
            assert_eq!(script.calls(), 2);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn temporary_errors_run_out_into_a_dead_letter_that_keeps_the_cause() {
            let Some(env) = $setup().await else { return };
            let busy = || {
                Err(Error::new(ErrorKind::RateLimited, "slow down")
                    .with_dispatch(Dispatch::NotSent)
                    .with_provider("smsru")
                    .with_provider_code("220"))
            };
            let script = Script::new(vec![busy(), busy(), busy()]);
            let worker = env.outbox.worker(script.clone(), quick().concurrency(1));
            let id = env.outbox.enqueue_on_pool(&sms("busy"), None).await.unwrap();
            for _ in 0..3 {
                worker.drain().await.unwrap();
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            let job = env.outbox.get(id).await.unwrap().unwrap();
            assert_eq!((job.state, job.attempts, script.calls()), (JobState::Dead, 3, 3));
            let cause = job.error.expect("the cause is kept");
            assert_eq!(cause.kind, ErrorKind::RateLimited.as_str());
            assert_eq!(cause.dispatch, "not_sent");
            assert_eq!(cause.provider.as_deref(), Some("smsru"));
            assert_eq!(cause.provider_code.as_deref(), Some("220"));
            assert!(cause.message.contains("slow down"), "{}", cause.message);
            assert_eq!(env.outbox.list(JobState::Dead, None, 10).await.unwrap()[0].id, id);
            // A person requeues it: attempts start again and it goes out.
            env.outbox.requeue(id).await.unwrap();
            assert_eq!(env.outbox.get(id).await.unwrap().unwrap().attempts, 0);
            assert_eq!(worker.drain().await.unwrap(), 1);
            assert_eq!(
                env.outbox.get(id).await.unwrap().unwrap().state,
                JobState::Accepted
            );
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_refused_message_is_a_dead_letter_a_person_can_requeue() {
            let Some(env) = $setup().await else { return };
            let sim = switchboard_smsru::sim::Simulator::start().await;
            let sender = messenger(&sim, env.store.clone());
            let worker = env.outbox.worker(sender, quick());
            let m = sms("to a blocked number").with_key(MessageKey::new("blocked-1").unwrap());
            let key = m.key.clone().unwrap();
            let id = env.outbox.enqueue_on_pool(&m, None).await.unwrap();
            let switchboard::Recipient::Phone(phone) = &m.to else {
                panic!("an SMS")
            };
            // SMS.ru error 207: "no route to this number" (https://sms.ru/api/send): refused, nothing sent.
            sim.refuse_number(phone.as_e164().trim_start_matches('+'), 207);
            worker.drain().await.unwrap();
            let job = env.outbox.get(id).await.unwrap().unwrap();
            assert_eq!(job.state, JobState::Dead);
            let cause = job.error.unwrap();
            assert_eq!(
                (cause.kind.as_str(), cause.dispatch.as_str()),
                (ErrorKind::Rejected.as_str(), "not_sent")
            );
            assert_eq!(cause.provider.as_deref(), Some("smsru"));
            assert_eq!(cause.provider_code.as_deref(), Some("207"));
            let sent = || async { sim.requests().await.len() };
            let before = sent().await;

            // The store released the key (nothing went out): a requeue sends it again under it.
            env.outbox.requeue(id).await.unwrap();
            assert_eq!(env.outbox.get(id).await.unwrap().unwrap().key, key);
            worker.drain().await.unwrap();
            let again = sent().await;
            assert!(again > before, "it was really sent again");
            assert_eq!(env.outbox.get(id).await.unwrap().unwrap().state, JobState::Dead);

            // A key the store holds as refused for good (the provider answered a final refusal) would be
            // answered with that refusal forever: the requeue gives the job a fresh key.
            let Claim::Acquired(lease) = env
                .store
                .claim(&key, &m.fingerprint(), "test", Duration::from_secs(5))
                .await
                .unwrap()
            else {
                panic!("a released key is claimable")
            };
            let refusal = Error::new(ErrorKind::Rejected, "refused").with_dispatch(Dispatch::Sent);
            env.store
                .finish(&lease, Outcome::of_error(&refusal))
                .await
                .unwrap();
            env.outbox.requeue(id).await.unwrap();
            let job = env.outbox.get(id).await.unwrap().unwrap();
            assert_ne!(job.key, key);
            assert_eq!(job.message.key.as_ref(), Some(&job.key));
            worker.drain().await.unwrap();
            assert!(sent().await > again, "sent under the fresh key");
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn scheduled_messages_wait_and_only_queued_ones_cancel() {
            let Some(env) = $setup().await else { return };
            let script = Script::new(vec![]);
            let worker = env.outbox.worker(script.clone(), quick());
            let later = chrono::Utc::now() + chrono::Duration::hours(1);
            let mut tx = env.begin().await;
            let scheduled = env
                .outbox
                .enqueue_at(&mut tx, &sms("tomorrow"), later)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let now = env.outbox.enqueue_on_pool(&sms("now"), None).await.unwrap();
            assert_eq!(worker.drain().await.unwrap(), 1);
            assert_eq!(script.calls(), 1);
            let job = env.outbox.get(scheduled).await.unwrap().unwrap();
            assert_eq!(job.state, JobState::Queued);
            assert!(
                (job.run_at - later).num_milliseconds().abs() < 5,
                "{} vs {later}",
                job.run_at
            );

            env.outbox.cancel(scheduled).await.unwrap();
            let job = env.outbox.get(scheduled).await.unwrap().unwrap();
            assert_eq!(job.state, JobState::Cancelled);
            // Its key is closed in the store: a worker that had taken it earlier and stalled could not
            // send it now.
            let record = env
                .store
                .lookup(&job.key)
                .await
                .unwrap()
                .expect("the key is recorded");
            assert_eq!(record.state.name(), "failed", "{record:?}");
            let fp = job.message.fingerprint();
            assert!(matches!(
                env.store
                    .claim(&job.key, &fp, "late worker", Duration::from_secs(5))
                    .await
                    .unwrap(),
                Claim::Failed(_)
            ));

            // A queued job whose key a sender holds (it waits to be retried while another worker sends
            // it) cannot be cancelled.
            let held = env.outbox.enqueue_on_pool(&sms("held"), None).await.unwrap();
            let held_job = env.outbox.get(held).await.unwrap().unwrap();
            let fp = held_job.message.fingerprint();
            assert!(matches!(
                env.store
                    .claim(&held_job.key, &fp, "other worker", Duration::from_secs(60))
                    .await
                    .unwrap(),
                Claim::Acquired(_)
            ));
            assert_eq!(
                env.outbox.cancel(held).await.unwrap_err().kind(),
                ErrorKind::Conflict
            );
            assert_eq!(
                env.outbox.get(held).await.unwrap().unwrap().state,
                JobState::Queued
            );
            assert_eq!(
                env.outbox.cancel(now).await.unwrap_err().kind(),
                ErrorKind::Conflict
            );
            assert_eq!(
                env.outbox.cancel(scheduled).await.unwrap_err().kind(),
                ErrorKind::Conflict
            );
            let missing = switchboard_store::outbox::OutboxId(i64::MAX);
            assert_eq!(
                env.outbox.cancel(missing).await.unwrap_err().kind(),
                ErrorKind::NotFound
            );
            assert_eq!(
                env.outbox.requeue(missing).await.unwrap_err().kind(),
                ErrorKind::NotFound
            );
            let c = env.outbox.counts().await.unwrap();
            assert_eq!((c.accepted, c.cancelled, c.queued), (1, 1, 1));
            assert_eq!(env.outbox.purge(Duration::ZERO).await.unwrap(), 2);
            assert!(env.outbox.get(now).await.unwrap().is_none());
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_job_whose_worker_stalled_past_its_lease_is_answered_by_the_key_store() {
            let Some(env) = $setup().await else { return };
            let sim = switchboard_smsru::sim::Simulator::start().await;
            let sender = messenger(&sim, env.store.clone());
            let m = sms("sent, then the worker stalled").with_key(MessageKey::new("stalled").unwrap());
            let id = env.outbox.enqueue_on_pool(&m, None).await.unwrap();
            // A worker with a tiny lease that sends, then stalls before recording the outcome.
            let sent = Arc::new(tokio::sync::Notify::new());
            let release = Arc::new(tokio::sync::Notify::new());
            let stalled = env.outbox.worker(
                Arc::new(Stalling {
                    messenger: sender.clone(),
                    sent: sent.clone(),
                    release: release.clone(),
                }),
                // One send at a time: it cannot take the job again itself while stalled.
                quick().lease(Duration::from_millis(10)).concurrency(1),
            );
            let stalled = tokio::spawn(async move { stalled.drain().await });
            sent.notified().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            // Its lease lapsed: another worker takes the job, and the key store answers with the first
            // receipt. Nothing is sent again.
            let other = env.outbox.worker(sender, quick());
            assert_eq!(other.drain().await.unwrap(), 1);
            let job = env.outbox.get(id).await.unwrap().unwrap();
            assert_eq!(job.state, JobState::Accepted);
            assert!(job.receipt.unwrap().replayed);
            // The stalled worker wakes up: its outcome is no longer its to record.
            release.notify_one();
            assert_eq!(stalled.await.unwrap().unwrap(), 0);
            assert_eq!(
                env.outbox.get(id).await.unwrap().unwrap().state,
                JobState::Accepted
            );
            assert_eq!(sim.sent().len(), 1, "never twice");
        }

        /// Sends, says so, then waits to be released before answering: a worker stalled past its lease.
        struct Stalling {
            messenger: Arc<switchboard::Messenger>,
            sent: Arc<tokio::sync::Notify>,
            release: Arc<tokio::sync::Notify>,
        }

        #[switchboard_core::async_trait]
        impl switchboard_store::outbox::OutboxSender for Stalling {
            async fn send(&self, m: switchboard::Message) -> switchboard::Result<switchboard::Receipt> {
                let r = switchboard::Messenger::send(&self.messenger, m).await;
                self.sent.notify_one();
                self.release.notified().await;
                r
            }
        }
    };
}

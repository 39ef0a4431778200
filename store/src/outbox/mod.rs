//! The outbox (feature `outbox`): a host queues a message **inside its own database transaction**,
//! next to the business row it belongs to, and workers in any number of processes send it later
//! through a durable sender (the facade's `Messenger` with a [`Store`](switchboard_core::Store)).
//!
//! The message is queued if and only if the host's transaction commits, and it is then sent at most
//! once — across worker crashes (even `SIGKILL` mid-request), restarts and several worker processes —
//! or flagged "may have been sent" for a person. Nothing is silently dropped.
//!
//! ## How it stays correct
//!
//! Every queued message carries an idempotency key (the host's, or `outbox-` and a random token made
//! at enqueue when the host gives none). The worker hands it to an [`OutboxSender`], whose store
//! claims the key before anything leaves and notes each attempt before its request does. The outbox
//! table only schedules; the key store decides. So when a worker dies mid-send and its job is taken
//! again after the worker's lease ran out, the second send is answered by the store: the earlier
//! receipt (it was accepted), "in flight elsewhere" (retried later), or "uncertain" (the request may
//! have left: the job becomes [`JobState::MaybeSent`] and is never retried automatically).
//!
//! What a worker does with each answer:
//!
//! | the sender answered | the job becomes |
//! |---|---|
//! | a receipt (new or replayed) | [`JobState::Accepted`], receipt kept |
//! | an error proving nothing went out (`Dispatch::NotSent`) with a temporary kind (rate limit, unavailable, timeout, transport), or a `Conflict` (the key is in flight elsewhere) | [`JobState::Queued`] again, due after an exponential backoff (at least the error's `retry_after`); a dead letter once [`WorkerOptions::max_attempts`] is spent (in-flight conflicts never spend attempts) |
//! | `MaybeSent`, or `NeedsDecision` | [`JobState::MaybeSent`]: never retried automatically |
//! | any other error (a final refusal, bad input, configuration) | [`JobState::Dead`], with the cause kept ([`ErrorRecord`]: kind, dispatch, provider, provider code, message) |
//!
//! A person settles the rest: [`requeue`](SqliteOutbox::requeue) sends a dead letter again (under a
//! fresh key when the provider had refused the old one, since the key store keeps answering a refused
//! key with its refusal), and a "may have been sent" job is requeued after its key was resolved in the
//! store (`Store::resolve`: `Accepted` replays that receipt, `NotSent` sends again; without a
//! resolution it comes straight back as "may have been sent").
//!
//! ## Why not apalis or graphile_worker
//!
//! Both were evaluated for this (figures in `BENCHMARKS.md`): apalis 1.0 with `apalis-sqlite` and
//! `apalis-postgres` 1.0, and graphile_worker 0.14 (PostgreSQL only). Neither can take the host's
//! transaction as this crate's hosts have it:
//!
//! * All three are built on sqlx **0.9**; this crate, its stores and its hosts are on sqlx 0.8. A
//!   `sqlx::Transaction` of one version is not an `Executor` of the other, so "queue the SMS in the
//!   same transaction as the order" would mean moving every host to sqlx 0.9, which needs Rust 1.94
//!   (this workspace supports 1.88). graphile_worker's SQL function `graphile_worker.add_job()` can be
//!   called from any driver inside a transaction, but its worker still brings the second sqlx.
//! * Their recovery is at-least-once by design: a job whose worker stopped sending heartbeats is
//!   queued again with its attempts counted (`apalis-sqlite`'s `reenqueue_orphaned`), and retries
//!   follow the handler's `Err`. Here the key store is what makes a resend safe, and the state a person
//!   must see — "may have been sent", never retried — has no place in their job states (it would be a
//!   failed job with a message to parse), nor does "cancel only while no sender holds the key".
//! * They add their own tables and migrations (apalis's SQLite table is a fixed `Jobs`, outside the
//!   store's prefix and versioning), and about 57 (apalis) or 82 (graphile_worker) crates to the build,
//!   including sqlx 0.9 with its compile-time query macros.
//!
//! The queue a correct outbox needs is small once the key store exists: one table in the store's
//! migrations, a due-time index, `FOR UPDATE SKIP LOCKED` on PostgreSQL and SQLite's single writer, a
//! lease per taken job and a token that makes a late worker's write a no-op. That is this module.
//!
//! ## Example
//!
//! ```no_run
//! # async fn run(messenger: std::sync::Arc<dyn switchboard_store::outbox::OutboxSender>) -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::Message;
//! use switchboard_core::store::MessageKey;
//! use switchboard_store::outbox::{JobState, SqliteOutbox, WorkerOptions};
//! use switchboard_store::SqliteStore;
//!
//! let store = SqliteStore::connect("sqlite:/var/lib/acme/app.db").await?;
//! store.migrate().await?; // creates the outbox table with the store's
//! let outbox = SqliteOutbox::new(&store);
//!
//! // The host's own transaction: the order and its SMS commit together, or neither does.
//! let mut tx = store.pool().begin_with("BEGIN IMMEDIATE").await?;
//! switchboard_store::sqlx::query("INSERT INTO orders (id, status) VALUES (72, 'confirmed')").execute(&mut *tx).await?;
//! let sms = Message::sms("+355694123456".parse()?, "Order 72 is confirmed")
//!     .with_key(MessageKey::new("order-72-confirmed")?);
//! let id = outbox.enqueue(&mut tx, &sms).await?;
//! tx.commit().await?;
//!
//! // In each worker process. `messenger` is the facade's Messenger built with the same store
//! // (`MessengerBuilder::store`), so each key goes out at most once.
//! let worker = outbox.worker(messenger, WorkerOptions::new());
//! worker.run(async { let _ = tokio::signal::ctrl_c().await; }).await;
//!
//! // For people: what needs a look, and what became of one message.
//! for job in outbox.list(JobState::MaybeSent, None, 100).await? {
//!     println!("{} {} may have been sent: {:?}", job.id, job.key, job.error);
//! }
//! println!("{:?}", outbox.get(id).await?.map(|j| j.state));
//! # Ok(()) }
//! ```
//!
//! The facade (`switchboard`, feature `store`) implements [`OutboxSender`] for its `Messenger` and
//! re-exports this crate as `switchboard::store`.

#![cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use switchboard_core::message::{Message, Receipt};
use switchboard_core::store::{ErrorRecord, MessageKey};
use switchboard_core::{Dispatch, Error, ErrorKind, Result};

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod queue;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod rows;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod worker;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PostgresOutbox;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteOutbox;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use worker::{Worker, WorkerOptions};

/// What sends the outbox's messages: the facade's `Messenger` implements it (facade feature `store`).
///
/// The sender must be durable — claim the message's key in a shared
/// [`Store`](switchboard_core::Store) before sending and record the outcome — because the outbox
/// relies on it to answer a message sent twice (after a worker crash) with the first receipt instead
/// of a second SMS. A Messenger without a store refuses keyed messages, so such jobs end as dead
/// letters that say why.
#[async_trait]
pub trait OutboxSender: Send + Sync {
    /// Sends `message` (it always carries a key) and answers its receipt, or the error with its
    /// dispatch fact.
    async fn send(&self, message: Message) -> Result<Receipt>;
}

/// A queued message's number, ascending in the order messages were queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboxId(pub i64);

impl std::fmt::Display for OutboxId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JobState {
    /// Waiting until it is due (first try, or a retry after an error that proved nothing went out).
    Queued,
    /// A worker took it and holds it until its lease ends; then any worker may take it again.
    Running,
    /// The provider accepted it; the receipt is kept.
    Accepted,
    /// The last attempt may have reached the provider: never retried automatically. A person checks
    /// the provider, resolves the key in the store and [requeues](SqliteOutbox::requeue) it.
    MaybeSent,
    /// Refused for good, or out of retries: a dead letter, with its cause.
    Dead,
    /// Cancelled before any worker took it.
    Cancelled,
}

impl JobState {
    /// Every state, in the order a job usually passes through them.
    pub const ALL: [JobState; 6] = [
        JobState::Queued,
        JobState::Running,
        JobState::Accepted,
        JobState::MaybeSent,
        JobState::Dead,
        JobState::Cancelled,
    ];

    /// The state as stored (`"queued"`, `"maybe_sent"`…).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Accepted => "accepted",
            JobState::MaybeSent => "maybe_sent",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    /// The state stored as `s`.
    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|j| j.as_str() == s)
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One queued message, as [`get`](SqliteOutbox::get) and [`list`](SqliteOutbox::list) show it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Job {
    /// Its number.
    pub id: OutboxId,
    /// The idempotency key it is sent under.
    pub key: MessageKey,
    /// The message (with the key set).
    pub message: Message,
    /// Where it stands.
    pub state: JobState,
    /// When it is due (queued), or when its worker's lease ends (running); for settled jobs, the last
    /// such time.
    pub run_at: DateTime<Utc>,
    /// How many times a worker took it.
    pub attempts: u32,
    /// The worker that took it last.
    pub worker: Option<String>,
    /// The provider's receipt, once accepted.
    pub receipt: Option<Receipt>,
    /// Why the last attempt failed: the cause of a dead letter, a retry or a "may have been sent".
    pub error: Option<ErrorRecord>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// [`JobState::Queued`].
    pub queued: u64,
    /// [`JobState::Running`].
    pub running: u64,
    /// [`JobState::Accepted`].
    pub accepted: u64,
    /// [`JobState::MaybeSent`]: a host should alert while this is not zero.
    pub maybe_sent: u64,
    /// [`JobState::Dead`].
    pub dead: u64,
    /// [`JobState::Cancelled`].
    pub cancelled: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, state: JobState, n: u64) {
        let slot = match state {
            JobState::Queued => &mut self.queued,
            JobState::Running => &mut self.running,
            JobState::Accepted => &mut self.accepted,
            JobState::MaybeSent => &mut self.maybe_sent,
            JobState::Dead => &mut self.dead,
            JobState::Cancelled => &mut self.cancelled,
        };
        *slot += n;
    }

    /// Jobs not settled yet (queued or running).
    pub fn open(&self) -> u64 {
        self.queued + self.running
    }
}

/// What a worker does with a job after its send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Next {
    Accepted(Box<Receipt>),
    /// Due again after this long.
    Retry(Duration, ErrorRecord),
    MaybeSent(ErrorRecord),
    Dead(ErrorRecord),
}

impl Next {
    pub(crate) fn state(&self) -> JobState {
        match self {
            Next::Accepted(_) => JobState::Accepted,
            Next::Retry(..) => JobState::Queued,
            Next::MaybeSent(_) => JobState::MaybeSent,
            Next::Dead(_) => JobState::Dead,
        }
    }
}

/// Retry timing: exponential from `base`, capped at `max`, with jitter so that workers that failed
/// together do not retry together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Backoff {
    /// The delay before the retry that follows attempt `attempt` (1 for the first), between half and
    /// all of `base · 2^(attempt-1)`, capped at `max`.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(30)))
            .min(self.max);
        exp.mul_f64(0.5 + 0.5 * switchboard_core::random::unit())
    }
}

/// Decides what becomes of a job whose `attempt`-th send ended in `result`. See the module docs' table.
pub(crate) fn decide(result: Result<Receipt>, attempt: u32, backoff: &Backoff) -> Next {
    let err = match result {
        Ok(receipt) => return Next::Accepted(Box::new(receipt)),
        Err(e) => e,
    };
    let record = ErrorRecord::of(&err);
    if err.kind() == ErrorKind::NeedsDecision || err.dispatch() == Dispatch::MaybeSent {
        return Next::MaybeSent(record);
    }
    if err.dispatch() != Dispatch::NotSent {
        // The provider answered with a refusal: the key store keeps answering it, so a retry is useless.
        return Next::Dead(record);
    }
    let in_flight = err.kind() == ErrorKind::Conflict && err.retry_after().is_some();
    if in_flight {
        // Another sender holds the key until its lease ends; by then it is accepted or uncertain. This
        // always ends, so it spends no attempt.
        let wait = err.retry_after().unwrap_or_default() + backoff.base.mul_f64(switchboard_core::random::unit());
        return Next::Retry(wait, record);
    }
    let retryable = err.kind().is_temporary() || err.kind() == ErrorKind::Conflict;
    if !retryable || attempt >= backoff.max_attempts {
        return Next::Dead(record);
    }
    let wait = backoff.delay(attempt).max(err.retry_after().unwrap_or_default());
    Next::Retry(wait, record)
}

/// The key a message is queued under: its own, or a fresh one.
pub(crate) fn key_of(message: &Message) -> Result<MessageKey> {
    match &message.key {
        Some(k) => Ok(k.clone()),
        None => MessageKey::new(format!("outbox-{:032x}", switchboard_core::random::u128())),
    }
}

/// The message a requeued job is sent as: the same, or under a fresh key when the store holds its key
/// as refused for good (`key_state` `failed`) or for another message, since the store would answer
/// that key with the old refusal.
pub(crate) fn requeued(
    id: OutboxId,
    state: JobState,
    mut message: Message,
    key_state: Option<&str>,
    other_message: bool,
) -> Result<Message> {
    match state {
        JobState::MaybeSent => Ok(message),
        JobState::Dead => {
            if key_state == Some("failed") || other_message {
                message.key = None;
                message.key = Some(key_of(&message)?);
            }
            Ok(message)
        }
        other => Err(wrong_state(
            id,
            "only a dead letter or a job that may have been sent can be requeued",
            Some(other),
        )),
    }
}

/// What the key store answers, from now on, for the key of a cancelled job: a refusal, so that a
/// worker that took the job before it was cancelled and stalled past its lease cannot send it later.
pub(crate) fn cancelled_record() -> ErrorRecord {
    ErrorRecord::new(
        ErrorKind::Rejected,
        Dispatch::NotSent,
        "the message was cancelled in the outbox before it was sent",
    )
}

/// Whether a job whose key stands in `key_state` may be cancelled: not while a sender holds the key, and
/// not once it may have gone out.
pub(crate) fn cancellable(id: OutboxId, key_state: Option<&str>) -> Result<()> {
    match key_state {
        Some(s @ ("in_flight" | "accepted" | "uncertain")) => Err(Error::new(
            ErrorKind::Conflict,
            format!("outbox job {id} cannot be cancelled: its key is {s} in the store (a worker has sent it or is sending it)"),
        )
        .with_dispatch(Dispatch::NotSent)),
        _ => Ok(()),
    }
}

/// The error for a key queued before with a different message.
pub(crate) fn key_reused(key: &MessageKey) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!("the outbox already holds key '{key}' for a different message (recipient or content differ); choose a new key"),
    )
    .with_dispatch(Dispatch::NotSent)
}

/// The error for a job that is not where an operation needs it.
pub(crate) fn wrong_state(id: OutboxId, what: &str, state: Option<JobState>) -> Error {
    match state {
        None => Error::new(ErrorKind::NotFound, format!("the outbox has no job {id}")).with_dispatch(Dispatch::NotSent),
        Some(s) => {
            Error::new(ErrorKind::Conflict, format!("outbox job {id} is {s}; {what}")).with_dispatch(Dispatch::NotSent)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff() -> Backoff {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_attempts: 3,
        }
    }

    fn err(kind: ErrorKind, d: Dispatch) -> Result<Receipt> {
        Err(Error::new(kind, "boom").with_dispatch(d))
    }

    #[test]
    fn only_errors_proving_nothing_left_are_retried() {
        let b = backoff();
        assert!(matches!(
            decide(err(ErrorKind::Unavailable, Dispatch::NotSent), 1, &b),
            Next::Retry(..)
        ));
        assert!(matches!(
            decide(err(ErrorKind::Timeout, Dispatch::MaybeSent), 1, &b),
            Next::MaybeSent(_)
        ));
        assert!(matches!(
            decide(err(ErrorKind::NeedsDecision, Dispatch::MaybeSent), 1, &b),
            Next::MaybeSent(_)
        ));
        assert!(matches!(
            decide(err(ErrorKind::Unavailable, Dispatch::Sent), 1, &b),
            Next::Dead(_)
        ));
        assert!(matches!(
            decide(err(ErrorKind::Rejected, Dispatch::Sent), 1, &b),
            Next::Dead(_)
        ));
        assert!(matches!(
            decide(err(ErrorKind::InvalidInput, Dispatch::NotSent), 1, &b),
            Next::Dead(_)
        ));
        assert!(matches!(
            decide(err(ErrorKind::Config, Dispatch::NotSent), 1, &b),
            Next::Dead(_)
        ));
    }

    #[test]
    fn retries_run_out_into_a_dead_letter_that_keeps_the_cause() {
        let b = backoff();
        let e = Error::new(ErrorKind::RateLimited, "slow down")
            .with_dispatch(Dispatch::NotSent)
            .with_provider("smsru")
            .with_provider_code("220");
        let Next::Dead(rec) = decide(Err(e), 3, &b) else {
            panic!("not dead")
        };
        assert_eq!(rec.kind, ErrorKind::RateLimited.as_str());
        assert_eq!(rec.dispatch, "not_sent");
        assert_eq!(rec.provider_code.as_deref(), Some("220"));
    }

    #[test]
    fn an_in_flight_key_waits_for_its_lease_and_spends_no_attempt() {
        let b = backoff();
        let e = Error::new(ErrorKind::Conflict, "in flight")
            .with_dispatch(Dispatch::NotSent)
            .with_retry_after(Duration::from_secs(30));
        let Next::Retry(wait, _) = decide(Err(e), 99, &b) else {
            panic!("not retried")
        };
        assert!(
            wait >= Duration::from_secs(30) && wait <= Duration::from_secs(31),
            "{wait:?}"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = backoff();
        assert!(b.delay(1) <= Duration::from_secs(1) && b.delay(1) >= Duration::from_millis(500));
        assert!(b.delay(4) >= Duration::from_secs(4));
        assert!(b.delay(40) <= Duration::from_secs(60));
        let e = Error::new(ErrorKind::RateLimited, "wait")
            .with_dispatch(Dispatch::NotSent)
            .with_retry_after(Duration::from_secs(20));
        let Next::Retry(wait, _) = decide(Err(e), 1, &b) else {
            panic!("not retried")
        };
        assert!(wait >= Duration::from_secs(20));
    }

    #[test]
    fn states_round_trip() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobState::parse("sent"), None);
    }
}

//! What both backends share: the worker's view of a queue, and a job's columns as stored.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use switchboard_core::Result;
use switchboard_core::message::Message;
use switchboard_core::store::MessageKey;

use super::{Job, JobState, Next, OutboxId};
use crate::machine;

/// A job a worker took: send `message`, then settle it with the take's token.
#[derive(Debug)]
pub(crate) struct Taken {
    pub id: OutboxId,
    pub message: Message,
    pub attempts: u32,
}

/// The two things a worker asks of a queue.
#[async_trait]
pub(crate) trait Queue: Send + Sync + 'static {
    /// Takes up to `n` due jobs (queued and due, or running with a lapsed lease) for `lease`, marking
    /// them with `worker` and `token`. Oldest due first; jobs another worker is taking at the same
    /// moment are skipped, never taken twice.
    async fn take(&self, worker: &str, token: &str, n: usize, lease: Duration) -> Result<Vec<Taken>>;

    /// Records what became of a taken job. `false` when the job is no longer this take's (its lease
    /// ran out and another worker took it): the key store still holds the outcome, so that worker's
    /// send is answered by it.
    async fn settle(&self, id: OutboxId, token: &str, next: &Next) -> Result<bool>;
}

/// The columns [`Queue::settle`] writes.
pub(crate) struct Settle {
    pub state: &'static str,
    pub receipt: Option<String>,
    pub error: Option<String>,
    /// For a retry: how long until it is due, in milliseconds.
    pub delay_ms: Option<i64>,
}

impl Settle {
    pub(crate) fn of(next: &Next) -> Result<Settle> {
        let mut s = Settle {
            state: next.state().as_str(),
            receipt: None,
            error: None,
            delay_ms: None,
        };
        match next {
            Next::Accepted(r) => s.receipt = Some(machine::to_json(r)?),
            Next::Retry(wait, e) => {
                s.delay_ms = Some(machine::lease_ms(*wait));
                s.error = Some(machine::to_json(e)?);
            }
            Next::MaybeSent(e) | Next::Dead(e) => s.error = Some(machine::to_json(e)?),
        }
        Ok(s)
    }
}

/// The columns every listing selects.
pub(crate) const JOB_COLUMNS: &str =
    "id, key, message, state, run_at, attempts, worker, receipt, error, created_at, updated_at";

/// A job's columns as the database returned them.
pub(crate) struct RawJob {
    pub id: i64,
    pub key: String,
    pub message: String,
    pub state: String,
    pub run_at: DateTime<Utc>,
    pub attempts: i64,
    pub worker: Option<String>,
    pub receipt: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RawJob {
    pub(crate) fn decode(self) -> Result<Job> {
        let state = JobState::parse(&self.state)
            .ok_or_else(|| machine::unreadable(&format!("an outbox state {:?}", self.state)))?;
        Ok(Job {
            id: OutboxId(self.id),
            key: MessageKey::new(self.key).map_err(|_| machine::unreadable("a malformed key in the outbox"))?,
            message: decode_message(&self.message)?,
            state,
            run_at: self.run_at,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            worker: self.worker,
            receipt: machine::from_json(self.receipt.as_deref())?,
            error: machine::from_json(self.error.as_deref())?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(crate) fn decode_message(text: &str) -> Result<Message> {
    machine::from_json(Some(text))?.ok_or_else(|| machine::unreadable("an empty outbox message"))
}

pub(crate) fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

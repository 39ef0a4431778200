//! Workers: take due jobs, send each through the [`OutboxSender`], record what became of it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::Result;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::queue::{Queue, Taken};
use super::{Backoff, Next, OutboxSender, decide};

/// How a [`Worker`] runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    name: Option<String>,
    concurrency: usize,
    lease: Duration,
    poll: Duration,
    backoff: Backoff,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            name: None,
            concurrency: 16,
            lease: Duration::from_secs(120),
            poll: Duration::from_millis(250),
            backoff: Backoff {
                base: Duration::from_secs(2),
                max: Duration::from_secs(600),
                max_attempts: 10,
            },
        }
    }
}

impl WorkerOptions {
    /// The defaults: 16 sends at once, a 2-minute lease per job, polling every 250 ms, 10 attempts
    /// with backoff from 2 s up to 10 minutes.
    pub fn new() -> Self {
        Self::default()
    }

    /// The worker's name in the table's `worker` column and in logs (default: host, process id and a
    /// random suffix).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How many sends run at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long a taken job is the worker's before any worker may take it again. A send that outlives
    /// it is not harmed (the key store answers the second taker "in flight", then the first receipt),
    /// but it should cover a whole send with its failover.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// How long an idle worker waits before looking for due jobs again.
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll = every;
        self
    }

    /// How many times a job is sent before errors that proved nothing went out make it a dead letter
    /// (at least 1). Waiting for a key in flight elsewhere spends none.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.backoff.max_attempts = n.max(1);
        self
    }

    /// The retry delay after the first failed attempt, doubling after each further one up to `max`
    /// (each with jitter: between half and all of it).
    pub fn retry_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff.base = base;
        self.backoff.max = max.max(base);
        self
    }
}

/// Drains an outbox: any number of workers, in any number of processes, may run on one outbox. Made
/// by [`SqliteOutbox::worker`](super::SqliteOutbox::worker) or
/// [`PostgresOutbox::worker`](super::PostgresOutbox::worker).
pub struct Worker {
    queue: Arc<dyn Queue>,
    sender: Arc<dyn OutboxSender>,
    options: WorkerOptions,
    name: Arc<str>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("name", &self.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Worker {
    pub(crate) fn new(queue: Arc<dyn Queue>, sender: Arc<dyn OutboxSender>, options: WorkerOptions) -> Self {
        let name = options
            .name
            .clone()
            .unwrap_or_else(switchboard_core::store::default_owner);
        Worker {
            queue,
            sender,
            options,
            name: name.into(),
        }
    }

    /// The worker's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends what is due until `shutdown` completes, then stops taking jobs, lets the sends under way
    /// finish and returns how many jobs it settled. A database that fails is logged and tried again at
    /// the poll interval; the worker keeps running.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> u64 {
        match self.pump(shutdown, false).await {
            Ok(n) | Err((n, _)) => n,
        }
    }

    /// Sends what is due now, until nothing is, and returns how many jobs it settled. Jobs due later
    /// (scheduled, or waiting to be retried) stay queued. Errors: the database's, when it failed before
    /// anything could be taken.
    pub async fn drain(&self) -> Result<u64> {
        self.pump(std::future::pending(), true).await.map_err(|(_, e)| e)
    }

    async fn pump(
        &self,
        shutdown: impl Future<Output = ()>,
        until_idle: bool,
    ) -> std::result::Result<u64, (u64, switchboard_core::Error)> {
        let concurrency = self.options.concurrency;
        // Below this many free slots a busy worker waits for more to free up, so it takes in batches.
        let refill = (concurrency / 4).max(1);
        let mut running: JoinSet<bool> = JoinSet::new();
        let mut settled = 0u64;
        let mut stopping = false;
        let mut next_take = Instant::now();
        let mut last_error = None;
        tokio::pin!(shutdown);
        loop {
            let free = concurrency - running.len();
            let now = Instant::now();
            if !stopping && free > 0 && (running.is_empty() || free >= refill) && now >= next_take {
                let token = format!("{:032x}", switchboard_core::random::u128());
                match self.queue.take(&self.name, &token, free, self.options.lease).await {
                    Ok(jobs) => {
                        last_error = None;
                        if jobs.len() < free {
                            next_take = now + self.options.poll;
                        }
                        for job in jobs {
                            running.spawn(settle_one(
                                self.queue.clone(),
                                self.sender.clone(),
                                self.options.backoff,
                                token.clone(),
                                job,
                            ));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(worker = %self.name, error = %e, "the outbox could not take jobs; trying again");
                        next_take = now + self.options.poll;
                        last_error = Some(e);
                    }
                }
            }
            if running.is_empty() {
                if stopping {
                    return Ok(settled);
                }
                if until_idle && Instant::now() < next_take {
                    return match last_error {
                        Some(e) if settled == 0 => Err((settled, e)),
                        _ => Ok(settled),
                    };
                }
                tokio::select! {
                    () = tokio::time::sleep_until(next_take) => {}
                    () = &mut shutdown, if !stopping => stopping = true,
                }
                continue;
            }
            let room = running.len() < concurrency;
            tokio::select! {
                done = running.join_next() => match done {
                    Some(Ok(true)) => settled += 1,
                    Some(Ok(false)) | None => {}
                    Some(Err(e)) => tracing::error!(worker = %self.name, error = %e, "a send panicked; its job is taken again after its lease"),
                },
                () = tokio::time::sleep_until(next_take), if room && !stopping => {}
                () = &mut shutdown, if !stopping => stopping = true,
            }
        }
    }
}

/// Sends one job and records what became of it; `true` when recorded.
async fn settle_one(
    queue: Arc<dyn Queue>,
    sender: Arc<dyn OutboxSender>,
    backoff: Backoff,
    token: String,
    job: Taken,
) -> bool {
    let id = job.id;
    let key = job
        .message
        .key
        .as_ref()
        .map(|k| k.as_str().to_owned())
        .unwrap_or_default();
    let result = sender.send(job.message).await;
    let next = decide(result, job.attempts, &backoff);
    match &next {
        Next::Accepted(_) => tracing::debug!(job = %id, key = %key, "accepted"),
        Next::Retry(wait, e) => {
            tracing::info!(job = %id, key = %key, ?wait, error = %e, "nothing went out; retrying later")
        }
        Next::MaybeSent(e) => {
            tracing::error!(job = %id, key = %key, error = %e, "the message may have been sent; it waits for a person")
        }
        Next::Dead(e) => tracing::warn!(job = %id, key = %key, error = %e, "dead letter"),
    }
    for attempt in 1..=3u32 {
        match queue.settle(id, &token, &next).await {
            Ok(true) => return true,
            Ok(false) => {
                tracing::warn!(job = %id, key = %key, "the job's lease ran out and another worker took it; the key store answers that worker");
                return false;
            }
            Err(e) => {
                tracing::warn!(job = %id, key = %key, attempt, error = %e, "could not record the job's outcome");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
        }
    }
    tracing::error!(job = %id, key = %key, "the outcome was not recorded; the job is taken again after its lease and the key store answers it");
    false
}

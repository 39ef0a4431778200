//! The outbox in a SQLite file.
//!
//! SQLite has one writer at a time, so taking jobs is one `UPDATE … WHERE id IN (SELECT … LIMIT n)
//! RETURNING`: it runs under the write lock, and two workers (processes or tasks) can never take the
//! same job. Times are SQLite's own clock (`julianday('now')`), in milliseconds, like the key store's.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqlitePool;
use sqlx::{Row as _, Sqlite, SqliteConnection};
use switchboard_core::Result;
use switchboard_core::message::Message;

use super::queue::{JOB_COLUMNS, Queue, Settle, Taken, limit_i64};
use super::rows::{Jobs, OutboxDb};
use super::{Counts, Job, JobState, Next, OutboxId, OutboxSender, Worker, WorkerOptions, cancellable, wrong_state};
use crate::error::Target;
use crate::machine;
use crate::schema::{StoreOptions, Tables};
use crate::sqlite::{NOW, SqliteStore, millis};

/// The outbox on a SQLite file: enqueue in the host's transaction, inspect, cancel, requeue, and
/// [`worker`](Self::worker)s that drain it. See the [module docs](super).
#[derive(Clone)]
pub struct SqliteOutbox {
    pool: SqlitePool,
    target: Target,
    sql: Arc<Sql>,
}

impl std::fmt::Debug for SqliteOutbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteOutbox")
            .field("target", &self.target)
            .field("table", &self.sql.table)
            .finish_non_exhaustive()
    }
}

struct Sql {
    table: String,
    insert: String,
    existing: String,
    take: String,
    settle: String,
    get: String,
    list: String,
    counts: String,
    cancel_read: String,
    cancel: String,
    close_key: String,
    requeue_read: String,
    requeue: String,
    purge: String,
}

impl Sql {
    fn new(t: &Tables) -> Self {
        let o = &t.outbox;
        Sql {
            table: o.clone(),
            insert: format!(
                "INSERT INTO {o} (key, fingerprint, message, state, run_at, attempts, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'queued', COALESCE(?4, {NOW}), 0, {NOW}, {NOW})
                 ON CONFLICT (key) DO NOTHING RETURNING id"
            ),
            existing: format!("SELECT id, fingerprint FROM {o} WHERE key = ?1"),
            take: format!(
                "UPDATE {o} SET state = 'running', worker = ?1, token = ?2, run_at = {NOW} + ?3,
                 attempts = attempts + 1, updated_at = {NOW}
                 WHERE id IN (SELECT id FROM {o} WHERE state IN ('queued', 'running') AND run_at <= {NOW}
                              ORDER BY run_at, id LIMIT ?4)
                 RETURNING id, message, attempts"
            ),
            settle: format!(
                "UPDATE {o} SET state = ?3, receipt = COALESCE(?4, receipt), error = ?5,
                 run_at = CASE WHEN ?6 IS NULL THEN run_at ELSE {NOW} + ?6 END, token = NULL, updated_at = {NOW}
                 WHERE id = ?1 AND token = ?2 AND state = 'running'"
            ),
            get: format!("SELECT {JOB_COLUMNS} FROM {o} WHERE id = ?1"),
            list: format!("SELECT {JOB_COLUMNS} FROM {o} WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3"),
            counts: format!("SELECT state, COUNT(*) AS n FROM {o} GROUP BY state"),
            cancel_read: format!(
                "SELECT o.state, o.key, o.fingerprint, k.state AS key_state
                 FROM {o} o LEFT JOIN {k} k ON k.key = o.key WHERE o.id = ?1",
                k = t.keys
            ),
            cancel: format!("UPDATE {o} SET state = 'cancelled', token = NULL, updated_at = {NOW} WHERE id = ?1"),
            close_key: format!(
                "INSERT INTO {k} (key, fingerprint, state, error, claims, created_at, updated_at)
                 VALUES (?1, ?2, 'failed', ?3, 0, {NOW}, {NOW})
                 ON CONFLICT (key) DO UPDATE SET state = 'failed', error = excluded.error, token = NULL,
                     lease_until = NULL, updated_at = excluded.updated_at",
                k = t.keys
            ),
            requeue_read: format!(
                "SELECT o.state, o.message, k.state AS key_state,
                        (k.fingerprint IS NOT NULL AND k.fingerprint <> o.fingerprint) AS other_message
                 FROM {o} o LEFT JOIN {k} k ON k.key = o.key WHERE o.id = ?1",
                k = t.keys
            ),
            requeue: format!(
                "UPDATE {o} SET state = 'queued', key = ?2, message = ?3, run_at = {NOW}, attempts = 0, token = NULL,
                 updated_at = {NOW} WHERE id = ?1"
            ),
            purge: format!("DELETE FROM {o} WHERE state IN ('accepted', 'cancelled') AND updated_at < {NOW} - ?1"),
        }
    }
}

impl SqliteOutbox {
    /// The outbox in the same file and under the same table prefix as `store` (whose
    /// [`migrate`](SqliteStore::migrate) creates its table).
    pub fn new(store: &SqliteStore) -> Self {
        let (tables, target) = store.parts();
        SqliteOutbox {
            pool: store.pool().clone(),
            target: target.clone(),
            sql: Arc::new(Sql::new(tables)),
        }
    }

    /// The outbox on the host's own pool, with the tables `options` names (migrate them with a
    /// [`SqliteStore`] on the same options).
    pub fn from_pool(pool: SqlitePool, options: &StoreOptions) -> Result<Self> {
        Ok(SqliteOutbox {
            pool,
            target: Target::of_pool("sqlite"),
            sql: Arc::new(Sql::new(&options.tables()?)),
        })
    }

    /// Queues `message` on the host's connection — pass `&mut *tx` of the host's transaction, so the
    /// message is queued exactly when the host's own rows commit. It is due at once.
    ///
    /// A message without an idempotency key gets a fresh one. Queuing the same key again answers the
    /// first job's id (a retried request queues nothing twice), unless the message differs: then
    /// `Conflict`.
    ///
    /// SQLite upgrades a deferred transaction to a writer at its first write, and fails with "database
    /// is locked" if another process wrote meanwhile; hosts should open theirs with
    /// `pool.begin_with("BEGIN IMMEDIATE")`.
    pub async fn enqueue(&self, conn: &mut SqliteConnection, message: &Message) -> Result<OutboxId> {
        self.insert(conn, message, None).await
    }

    /// Like [`enqueue`](Self::enqueue), but not due before `send_at`.
    pub async fn enqueue_at(
        &self,
        conn: &mut SqliteConnection,
        message: &Message,
        send_at: DateTime<Utc>,
    ) -> Result<OutboxId> {
        self.insert(conn, message, Some(send_at)).await
    }

    /// Queues `message` on a connection of the outbox's own pool (in a transaction of its own), due at
    /// `send_at` or at once.
    pub async fn enqueue_on_pool(&self, message: &Message, send_at: Option<DateTime<Utc>>) -> Result<OutboxId> {
        let fail = |e| self.target.error("queue a message", e);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
        let id = self.insert(&mut tx, message, send_at).await?;
        tx.commit().await.map_err(fail)?;
        Ok(id)
    }

    async fn insert(
        &self,
        conn: &mut SqliteConnection,
        message: &Message,
        at: Option<DateTime<Utc>>,
    ) -> Result<OutboxId> {
        let sql = [self.sql.insert.as_str(), &self.sql.existing];
        self.jobs().insert(conn, sql, message, at).await
    }

    /// The job numbered `id`, or `None`.
    pub async fn get(&self, id: OutboxId) -> Result<Option<Job>> {
        self.jobs().get(&self.sql.get, id).await
    }

    /// Up to `limit` jobs in `state` numbered after `after` (`None` for the first), oldest first: page
    /// by passing the last id seen.
    pub async fn list(&self, state: JobState, after: Option<OutboxId>, limit: usize) -> Result<Vec<Job>> {
        self.jobs().list(&self.sql.list, state, after, limit).await
    }

    /// How many jobs are in each state.
    pub async fn counts(&self) -> Result<Counts> {
        self.jobs().counts(&self.sql.counts).await
    }

    /// Cancels a job no worker has in hand: queued (including one waiting to be retried after an error
    /// that proved nothing went out), and its key neither held by a sender nor accepted nor uncertain in
    /// the store. The key is closed in the store in the same transaction (it answers "cancelled" from
    /// then on), so a worker that took the job earlier and stalled past its lease cannot send it later.
    /// Errors: `Conflict` in any other case, `NotFound`.
    pub async fn cancel(&self, id: OutboxId) -> Result<()> {
        let what = "cancel a job";
        let fail = |e| self.target.error(what, e);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
        let (row, state) = self.jobs().changing(&mut tx, &self.sql.cancel_read, id, what).await?;
        if state != JobState::Queued {
            return Err(wrong_state(id, "only a queued job can be cancelled", Some(state)));
        }
        let key_state: Option<String> = row.try_get("key_state").map_err(fail)?;
        cancellable(id, key_state.as_deref())?;
        let key: String = row.try_get("key").map_err(fail)?;
        let fingerprint: String = row.try_get("fingerprint").map_err(fail)?;
        let sql = [self.sql.cancel.as_str(), &self.sql.close_key];
        self.jobs().cancel(&mut tx, sql, id, key, fingerprint).await?;
        tx.commit().await.map_err(fail)
    }

    /// Queues a dead letter or a "may have been sent" job again, due at once, with its attempts reset.
    /// A person does this, after fixing the cause (a balance, a sender name) or, for "may have been
    /// sent", after resolving its key in the store.
    ///
    /// A dead letter whose key the store holds as refused for good (or for another message) is
    /// requeued under a fresh key, since the store would answer the old key with the old refusal.
    /// Errors: `Conflict` in any other state, `NotFound`.
    pub async fn requeue(&self, id: OutboxId) -> Result<()> {
        let fail = |e| self.target.error("requeue a job", e);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
        let sql = [self.sql.requeue_read.as_str(), &self.sql.requeue];
        self.jobs().requeue(&mut tx, sql, id).await?;
        tx.commit().await.map_err(fail)
    }

    /// Deletes accepted and cancelled jobs last changed more than `older_than` ago, and answers how
    /// many. (Their keys stay in the key store, which keeps answering them.)
    pub async fn purge(&self, older_than: Duration) -> Result<u64> {
        let done = sqlx::query(&self.sql.purge)
            .bind(machine::lease_ms(older_than))
            .execute(&self.pool)
            .await
            .map_err(|e| self.target.error("purge jobs", e))?;
        Ok(done.rows_affected())
    }

    /// A worker that drains this outbox through `sender`. Run it with [`Worker::run`].
    pub fn worker(&self, sender: Arc<dyn OutboxSender>, options: WorkerOptions) -> Worker {
        Worker::new(Arc::new(self.clone()), sender, options)
    }

    fn jobs(&self) -> Jobs<'_, Sqlite> {
        Jobs {
            pool: &self.pool,
            target: &self.target,
        }
    }
}

/// Times are integer milliseconds since the epoch (see [`NOW`]); `attempts` is an `INTEGER`.
impl OutboxDb for Sqlite {
    type Time = i64;
    type Attempts = i64;
    type Due = Option<i64>;

    fn time(stored: i64) -> Result<DateTime<Utc>> {
        millis(stored)
    }

    fn due(at: Option<DateTime<Utc>>) -> Option<i64> {
        at.map(|t| t.timestamp_millis())
    }
}

#[async_trait]
impl Queue for SqliteOutbox {
    async fn take(&self, worker: &str, token: &str, n: usize, lease: Duration) -> Result<Vec<Taken>> {
        let fail = |e| self.target.error("take jobs", e);
        let rows = sqlx::query(&self.sql.take)
            .bind(worker)
            .bind(token)
            .bind(machine::lease_ms(lease))
            .bind(limit_i64(n))
            .fetch_all(&self.pool)
            .await
            .map_err(fail)?;
        self.jobs().taken(&rows)
    }

    async fn settle(&self, id: OutboxId, token: &str, next: &Next) -> Result<bool> {
        let s = Settle::of(next)?;
        let done = sqlx::query(&self.sql.settle)
            .bind(id.0)
            .bind(token)
            .bind(s.state)
            .bind(s.receipt)
            .bind(s.error)
            .bind(s.delay_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| self.target.error("settle a job", e))?;
        Ok(done.rows_affected() == 1)
    }
}

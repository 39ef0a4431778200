//! What both backends do alike once their SQL is written: queue a message (with the duplicate-key
//! check), read, list and count jobs, turn a row into a [`Job`] or a [`Taken`], and the shared steps of
//! cancelling and requeuing. Each backend keeps its SQL, its connections and transactions, and says
//! through [`OutboxDb`] how it stores times and attempts.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use switchboard_core::Result;
use switchboard_core::message::Message;

use super::queue::{RawJob, Taken, decode_message, limit_i64};
use super::{Counts, Job, JobState, OutboxId, cancelled_record, key_of, key_reused, wrong_state};
use crate::error::Target;
use crate::machine;

/// What differs between the databases when the outbox reads and writes a job's columns.
pub(crate) trait OutboxDb: Database {
    /// A time column as stored.
    type Time: for<'r> Decode<'r, Self> + Type<Self>;
    /// The `attempts` column as stored.
    type Attempts: for<'r> Decode<'r, Self> + Type<Self> + Into<i64>;
    /// A due time as bound to the insert (`None`: due at once).
    type Due: for<'q> Encode<'q, Self> + Type<Self> + Send + 'static;

    /// The time a stored time column stands for.
    fn time(stored: Self::Time) -> Result<DateTime<Utc>>;

    /// The insert's due-time parameter for `at`.
    fn due(at: Option<DateTime<Utc>>) -> Self::Due;
}

/// The job operations both backends share, on a backend's pool and error target.
pub(crate) struct Jobs<'a, DB: Database> {
    pub pool: &'a Pool<DB>,
    pub target: &'a Target,
}

impl<DB> Jobs<'_, DB>
where
    DB: OutboxDb,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    for<'s> &'s str: Encode<'s, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    bool: for<'r> Decode<'r, DB> + Type<DB>,
{
    /// Queues `message` on `conn` with `insert` (`INSERT … ON CONFLICT (key) DO NOTHING RETURNING id`,
    /// binding key, fingerprint, message and due time). When the key is already queued, `existing`
    /// (binding the key) reads that job's id and fingerprint: the same message answers the first job's
    /// id, another message under the same key is `Conflict`.
    pub async fn insert(
        &self,
        conn: &mut DB::Connection,
        [insert, existing]: [&str; 2],
        message: &Message,
        at: Option<DateTime<Utc>>,
    ) -> Result<OutboxId> {
        let fail = |e| self.target.error("queue a message", e);
        let key = key_of(message)?;
        let mut message = message.clone();
        message.key = Some(key.clone());
        let fingerprint = message.fingerprint();
        let inserted = sqlx::query::<DB>(insert)
            .bind(key.as_str())
            .bind(fingerprint.0.as_str())
            .bind(machine::to_json(&message)?)
            .bind(DB::due(at))
            .fetch_optional(&mut *conn)
            .await
            .map_err(fail)?;
        if let Some(row) = inserted {
            return Ok(OutboxId(row.try_get("id").map_err(fail)?));
        }
        let row = sqlx::query::<DB>(existing)
            .bind(key.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(fail)?;
        let stored: String = row.try_get("fingerprint").map_err(fail)?;
        if stored != fingerprint.0 {
            return Err(key_reused(&key));
        }
        Ok(OutboxId(row.try_get("id").map_err(fail)?))
    }

    /// The job `sql` (binding the id) reads, or `None`.
    pub async fn get(&self, sql: &str, id: OutboxId) -> Result<Option<Job>> {
        let row = sqlx::query::<DB>(sql)
            .bind(id.0)
            .fetch_optional(self.pool)
            .await
            .map_err(|e| self.target.error("read a job", e))?;
        row.map(|r| self.job(&r)).transpose()
    }

    /// The page of jobs `sql` (binding state, last id seen and limit) lists.
    pub async fn list(&self, sql: &str, state: JobState, after: Option<OutboxId>, limit: usize) -> Result<Vec<Job>> {
        let rows = sqlx::query::<DB>(sql)
            .bind(state.as_str())
            .bind(after.map_or(0, |a| a.0))
            .bind(limit_i64(limit))
            .fetch_all(self.pool)
            .await
            .map_err(|e| self.target.error("list jobs", e))?;
        rows.iter().map(|r| self.job(r)).collect()
    }

    /// The counts `sql` (`SELECT state, COUNT(*) AS n … GROUP BY state`) answers.
    pub async fn counts(&self, sql: &str) -> Result<Counts> {
        let fail = |e| self.target.error("count jobs", e);
        let rows = sqlx::query::<DB>(sql).fetch_all(self.pool).await.map_err(fail)?;
        let mut counts = Counts::default();
        for r in rows {
            let state: String = r.try_get("state").map_err(fail)?;
            let n: i64 = r.try_get("n").map_err(fail)?;
            counts.add(parse_state(&state)?, u64::try_from(n).unwrap_or(0));
        }
        Ok(counts)
    }

    /// The jobs a take's `RETURNING id, message, attempts` answered.
    pub fn taken(&self, rows: &[DB::Row]) -> Result<Vec<Taken>> {
        let fail = |e| self.target.error("take jobs", e);
        rows.iter()
            .map(|r| {
                let attempts: DB::Attempts = r.try_get("attempts").map_err(fail)?;
                Ok(Taken {
                    id: OutboxId(r.try_get("id").map_err(fail)?),
                    message: decode_message(&r.try_get::<String, _>("message").map_err(fail)?)?,
                    attempts: u32::try_from(attempts.into()).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Reads job `id` with `sql` (binding the id, locking what the backend must lock) on `conn`, the
    /// transaction that will change it, and answers the row with the job's state; `NotFound` without it.
    pub async fn changing(
        &self,
        conn: &mut DB::Connection,
        sql: &str,
        id: OutboxId,
        what: &str,
    ) -> Result<(DB::Row, JobState)> {
        let fail = |e| self.target.error(what, e);
        let Some(row) = sqlx::query::<DB>(sql)
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(fail)?
        else {
            return Err(wrong_state(id, "", None));
        };
        let state: String = row.try_get("state").map_err(fail)?;
        let state = parse_state(&state)?;
        Ok((row, state))
    }

    /// Cancels job `id` on `conn` with `cancel` (binding the id) and closes its key in the store with
    /// `close_key` (binding key, fingerprint and the refusal the key answers from then on), once the
    /// backend checked the job may be cancelled.
    pub async fn cancel(
        &self,
        conn: &mut DB::Connection,
        [cancel, close_key]: [&str; 2],
        id: OutboxId,
        key: String,
        fingerprint: String,
    ) -> Result<()> {
        let fail = |e| self.target.error("cancel a job", e);
        sqlx::query::<DB>(cancel)
            .bind(id.0)
            .execute(&mut *conn)
            .await
            .map_err(fail)?;
        sqlx::query::<DB>(close_key)
            .bind(key)
            .bind(fingerprint)
            .bind(machine::to_json(&cancelled_record())?)
            .execute(&mut *conn)
            .await
            .map_err(fail)?;
        Ok(())
    }

    /// Requeues job `id` on `conn`: `read` (binding the id) answers its state, message, its key's
    /// state in the store and whether the store holds the key for another message; `write` (binding
    /// id, key and message) queues it again. See [`super::requeued`] for which key it goes under.
    pub async fn requeue(&self, conn: &mut DB::Connection, [read, write]: [&str; 2], id: OutboxId) -> Result<()> {
        let what = "requeue a job";
        let fail = |e| self.target.error(what, e);
        let (row, state) = self.changing(conn, read, id, what).await?;
        let key_state: Option<String> = row.try_get("key_state").map_err(fail)?;
        let other_message: Option<bool> = row.try_get("other_message").map_err(fail)?;
        let message = decode_message(&row.try_get::<String, _>("message").map_err(fail)?)?;
        let message = super::requeued(id, state, message, key_state.as_deref(), other_message.unwrap_or(false))?;
        let key = message
            .key
            .clone()
            .ok_or_else(|| machine::unreadable("an outbox message without a key"))?;
        sqlx::query::<DB>(write)
            .bind(id.0)
            .bind(key.as_str())
            .bind(machine::to_json(&message)?)
            .execute(&mut *conn)
            .await
            .map_err(fail)?;
        Ok(())
    }

    /// A row of `JOB_COLUMNS` as a [`Job`].
    fn job(&self, r: &DB::Row) -> Result<Job> {
        let get = |e| self.target.error("read a job", e);
        let time = |column: &str| DB::time(r.try_get(column).map_err(get)?);
        RawJob {
            id: r.try_get("id").map_err(get)?,
            key: r.try_get("key").map_err(get)?,
            message: r.try_get("message").map_err(get)?,
            state: r.try_get("state").map_err(get)?,
            run_at: time("run_at")?,
            attempts: r.try_get::<DB::Attempts, _>("attempts").map_err(get)?.into(),
            worker: r.try_get("worker").map_err(get)?,
            receipt: r.try_get("receipt").map_err(get)?,
            error: r.try_get("error").map_err(get)?,
            created_at: time("created_at")?,
            updated_at: time("updated_at")?,
        }
        .decode()
    }
}

/// A job state as stored.
fn parse_state(state: &str) -> Result<JobState> {
    JobState::parse(state).ok_or_else(|| machine::unreadable("an unknown outbox state"))
}

//! The PostgreSQL store; what it guarantees is documented on [`PostgresStore`], where users see it.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use switchboard_core::journal::{CursorStore, Journal, JournalEntry};
use switchboard_core::message::MessageId;
use switchboard_core::store::{
    AttemptNote, Claim, Fingerprint, KeyRecord, Lease, MessageKey, Outcome, Resolution, Store, lease_lost,
};
use switchboard_core::{Error, Result};

use crate::error::Target;
use crate::machine::{self, Decision, RawRow};
use crate::schema::{self, StoreOptions, Tables};

const COLUMNS: &str =
    "key, fingerprint, state, owner, lease_until, attempt, receipt, error, claims, created_at, updated_at";

/// A [`Store`] in PostgreSQL, for several processes or machines.
///
/// * A new key is claimed by `INSERT … ON CONFLICT (key) DO NOTHING`: the primary key lets exactly
///   one of any number of concurrent claimers insert it.
/// * An existing key is claimed inside a transaction holding its row lock (`SELECT … FOR UPDATE`), so
///   two claimers taking over an expired lease serialise and the second sees the first's lease.
/// * Every other write is one conditional `UPDATE` naming the lease token and the states it applies
///   to, so a stale holder's write matches no row instead of overwriting a newer one.
/// * Leases are set and judged by the server's `clock_timestamp()`: clients' clocks never matter.
/// * Sequences are one row each, advanced by `INSERT … ON CONFLICT DO UPDATE … RETURNING` under the
///   row's lock: concurrent reservations queue and never overlap.
///
/// ```no_run
/// # async fn run() -> switchboard_core::Result<()> {
/// use switchboard_store::{PostgresStore, StoreOptions};
///
/// let store = PostgresStore::connect_with(
///     "postgres://mailer:secret@db.internal/app?sslmode=verify-full",
///     StoreOptions::new().schema("switchboard"),
/// )
/// .await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
pub struct PostgresStore {
    pool: PgPool,
    tables: Tables,
    sql: Sql,
    target: Target,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("keys", &self.tables.keys)
            .finish_non_exhaustive()
    }
}

/// Every statement, built once with the store's table names.
struct Sql {
    insert_new: String,
    lock_key: String,
    take_key: String,
    select_key: String,
    note: String,
    finish: String,
    resolve: String,
    uncertain: String,
    next_ids: String,
    journal_insert: String,
    journal_page: String,
    journal_of: String,
    cursor_load: String,
    cursor_store: String,
}

/// A lease in milliseconds (`$n`) as an interval.
fn lease(n: u8) -> String {
    format!("(${n}::float8 * interval '1 millisecond')")
}

impl Sql {
    fn new(t: &Tables) -> Self {
        let keys = &t.keys;
        let stalled = "(state = 'in_flight' AND attempt IS NOT NULL AND lease_until <= clock_timestamp())";
        Sql {
            insert_new: format!(
                "WITH now AS (SELECT clock_timestamp() AS t)
                 INSERT INTO {keys} (key, fingerprint, state, owner, token, lease_until, claims, created_at, updated_at)
                 SELECT $1, $2, 'in_flight', $3, $4, t + {}, 1, t, t FROM now
                 ON CONFLICT (key) DO NOTHING",
                lease(5)
            ),
            lock_key: format!("SELECT {COLUMNS}, clock_timestamp() AS now FROM {keys} WHERE key = $1 FOR UPDATE"),
            take_key: format!(
                "UPDATE {keys} SET state = 'in_flight', owner = $2, token = $3, lease_until = clock_timestamp() + {},
                 attempt = NULL, receipt = NULL, error = NULL, claims = $5, updated_at = clock_timestamp()
                 WHERE key = $1",
                lease(4)
            ),
            select_key: format!("SELECT {COLUMNS}, clock_timestamp() AS now FROM {keys} WHERE key = $1"),
            note: format!(
                "UPDATE {keys} SET attempt = $3, updated_at = clock_timestamp()
                 WHERE key = $1 AND token = $2 AND state = 'in_flight'
                   AND (attempt IS NULL OR lease_until > clock_timestamp())"
            ),
            finish: format!(
                "UPDATE {keys} SET state = $3, receipt = $4, error = $5, lease_until = NULL, updated_at = clock_timestamp()
                 WHERE key = $1 AND token = $2 AND state IN ('in_flight', 'uncertain')"
            ),
            resolve: format!(
                "UPDATE {keys} SET state = $2, receipt = $3, error = $4, token = NULL, lease_until = NULL,
                 updated_at = clock_timestamp()
                 WHERE key = $1 AND (state = 'uncertain' OR {stalled})"
            ),
            uncertain: format!(
                "SELECT {COLUMNS}, clock_timestamp() AS now FROM {keys} WHERE state = 'uncertain' OR {stalled}
                 ORDER BY created_at, key LIMIT $1"
            ),
            next_ids: format!(
                "INSERT INTO {seq} AS s (name, next) VALUES ($1, 1 + $2)
                 ON CONFLICT (name) DO UPDATE SET next = s.next + $2 RETURNING s.next - $2",
                seq = t.sequences
            ),
            journal_insert: format!(
                "INSERT INTO {j} (at, message_id, what, record) VALUES ($1, $2, $3, $4)",
                j = t.journal
            ),
            journal_page: format!(
                "SELECT id, at, message_id, record FROM {j} WHERE id > $1 ORDER BY id LIMIT $2",
                j = t.journal
            ),
            journal_of: format!(
                "SELECT id, at, message_id, record FROM {j} WHERE message_id = $1 ORDER BY id",
                j = t.journal
            ),
            cursor_load: format!("SELECT value FROM {c} WHERE name = $1", c = t.cursors),
            cursor_store: format!(
                "INSERT INTO {c} AS c (name, value, updated_at) VALUES ($1, $2, clock_timestamp())
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
                c = t.cursors
            ),
        }
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=…`) with the default
    /// [`StoreOptions`]. Call [`migrate`](Self::migrate) before the first use of a new database.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, StoreOptions::new()).await
    }

    /// Connects to `url` with `options`.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self> {
        let target = Target::of_url("postgres", url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::config(format!(
                "a PostgreSQL store URL starts with postgres:// or postgresql://, not {}",
                target.shown
            )));
        }
        let mut connect = PgConnectOptions::from_str(url).map_err(|e| target.error("read its URL", e))?;
        if !url.contains("application_name=") {
            connect = connect.application_name("switchboard-store");
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|e| target.error("connect", e))?;
        Self::build(pool, &options, target)
    }

    /// A store on the host's own pool (so the host can write its rows and the store's in one
    /// transaction).
    pub fn from_pool(pool: PgPool, options: StoreOptions) -> Result<Self> {
        Self::build(pool, &options, Target::of_pool("postgres"))
    }

    fn build(pool: PgPool, options: &StoreOptions, target: Target) -> Result<Self> {
        let tables = options.tables()?;
        Ok(PostgresStore {
            sql: Sql::new(&tables),
            pool,
            tables,
            target,
        })
    }

    /// The pool, for the host's own queries and transactions.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The table names and the database's name for errors, for the outbox on the same tables.
    #[cfg(feature = "outbox")]
    pub(crate) fn parts(&self) -> (&Tables, &Target) {
        (&self.tables, &self.target)
    }

    /// Creates the schema (when configured) and creates or upgrades the tables to the newest version.
    /// Idempotent; concurrent callers (replicas starting together) take turns on an advisory lock.
    pub async fn migrate(&self) -> Result<()> {
        let fail = |e| self.target.error("migrate its tables", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(self.tables.lock_id)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        if let Some(schema) = &self.tables.schema {
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        sqlx::query(&schema::version_table(&self.tables))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        let current: i64 = sqlx::query_scalar(&format!(
            "SELECT COALESCE(MAX(version), 0) FROM {}",
            self.tables.version
        ))
        .fetch_one(&mut *tx)
        .await
        .map_err(fail)?;
        if current > schema::LATEST {
            return Err(schema::too_new(current));
        }
        for m in schema::postgres_migrations(&self.tables)
            .into_iter()
            .filter(|m| m.version > current)
        {
            for statement in &m.statements {
                sqlx::query(statement).execute(&mut *tx).await.map_err(fail)?;
            }
            sqlx::query(&format!(
                "INSERT INTO {} (version, description, applied_at) VALUES ($1, $2, $3)",
                self.tables.version
            ))
            .bind(m.version)
            .bind(m.description)
            .bind(Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    /// Up to `limit` journal entries after the one numbered `after` (0 for the first), in number
    /// order, with their numbers. Numbers are handed out as entries are inserted, so an entry from a
    /// transaction still open elsewhere can later appear *behind* the last number read: a reader that
    /// must see everything re-reads a short margin.
    pub async fn journal_page(&self, after: i64, limit: usize) -> Result<Vec<(i64, JournalEntry)>> {
        let rows = sqlx::query(&self.sql.journal_page)
            .bind(after)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.target.error("read the journal", e))?;
        rows.iter().map(|r| self.journal_row(r)).collect()
    }

    /// Every journal entry about one message, in the order recorded.
    pub async fn journal_of(&self, message: &MessageId) -> Result<Vec<JournalEntry>> {
        let rows = sqlx::query(&self.sql.journal_of)
            .bind(message.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.target.error("read the journal", e))?;
        rows.iter().map(|r| self.journal_row(r).map(|(_, e)| e)).collect()
    }

    fn journal_row(&self, r: &PgRow) -> Result<(i64, JournalEntry)> {
        let get = |e| self.target.error("read the journal", e);
        let id: i64 = r.try_get("id").map_err(get)?;
        let at: DateTime<Utc> = r.try_get("at").map_err(get)?;
        let message_id: Option<String> = r.try_get("message_id").map_err(get)?;
        let record: String = r.try_get("record").map_err(get)?;
        let record =
            machine::from_json(Some(&record))?.ok_or_else(|| machine::unreadable("an empty journal record"))?;
        let message_id = message_id
            .map(MessageId::new)
            .transpose()
            .map_err(|_| machine::unreadable("a malformed message id in the journal"))?;
        let mut entry = JournalEntry::new(message_id, record);
        entry.at = at;
        Ok((id, entry))
    }

    fn raw_row(&self, r: &PgRow) -> Result<(RawRow, DateTime<Utc>)> {
        let get = |e| self.target.error("read a key", e);
        let claims: i32 = r.try_get("claims").map_err(get)?;
        let raw = RawRow {
            key: r.try_get("key").map_err(get)?,
            fingerprint: r.try_get("fingerprint").map_err(get)?,
            state: r.try_get("state").map_err(get)?,
            owner: r.try_get("owner").map_err(get)?,
            lease_until: r.try_get("lease_until").map_err(get)?,
            attempt: r.try_get("attempt").map_err(get)?,
            receipt: r.try_get("receipt").map_err(get)?,
            error: r.try_get("error").map_err(get)?,
            claims: i64::from(claims),
            created_at: r.try_get("created_at").map_err(get)?,
            updated_at: r.try_get("updated_at").map_err(get)?,
        };
        Ok((raw, r.try_get("now").map_err(get)?))
    }

    fn record(&self, r: &PgRow) -> Result<KeyRecord> {
        let (raw, now) = self.raw_row(r)?;
        raw.decode()?.record_at(now)
    }

    /// Claims an existing key under its row lock; `None` if the row vanished (deleted by hand) in
    /// between, so the caller inserts again.
    async fn claim_existing(
        &self,
        key: &MessageKey,
        fingerprint: &Fingerprint,
        owner: &str,
        lease_ms: i64,
    ) -> Result<Option<Claim>> {
        let fail = |e| self.target.error("claim a key", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        let Some(row) = sqlx::query(&self.sql.lock_key)
            .bind(key.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(fail)?
        else {
            return Ok(None);
        };
        // `clock_timestamp()` in that row may predate a wait for the lock; an earlier "now" only
        // judges a lease alive a little longer, so the error is on the safe side.
        let (raw, now) = self.raw_row(&row)?;
        let claim = match machine::decide_claim(&raw.decode()?, fingerprint, now)? {
            Decision::Answer(answer) => answer,
            Decision::Take { claim } => {
                let l = Lease::issue(key.clone(), claim);
                sqlx::query(&self.sql.take_key)
                    .bind(key.as_str())
                    .bind(owner)
                    .bind(&l.token)
                    .bind(lease_ms)
                    .bind(i32::try_from(claim).unwrap_or(i32::MAX))
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
                Claim::Acquired(l)
            }
        };
        tx.commit().await.map_err(fail)?;
        Ok(Some(claim))
    }
}

#[async_trait]
impl Journal for PostgresStore {
    async fn record(&self, entry: JournalEntry) -> Result<()> {
        let record = serde_json::to_value(&entry.record)
            .map_err(|e| Error::invalid_input(format!("the journal could not serialise an entry: {e}")))?;
        let what = record
            .get("what")
            .and_then(|w| w.as_str())
            .unwrap_or("unknown")
            .to_owned();
        sqlx::query(&self.sql.journal_insert)
            .bind(entry.at)
            .bind(entry.message_id.as_ref().map(MessageId::as_str))
            .bind(what)
            .bind(record.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| self.target.error("append to the journal", e))?;
        Ok(())
    }
}

#[async_trait]
impl CursorStore for PostgresStore {
    async fn load(&self, key: &str) -> Result<Option<String>> {
        machine::storable("cursor name", key)?;
        sqlx::query_scalar(&self.sql.cursor_load)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.target.error("load a cursor", e))
    }

    async fn store(&self, key: &str, value: &str) -> Result<()> {
        machine::storable("cursor name", key)?;
        machine::storable("cursor value", value)?;
        sqlx::query(&self.sql.cursor_store)
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(|e| self.target.error("store a cursor", e))?;
        Ok(())
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn claim(&self, key: &MessageKey, fingerprint: &Fingerprint, owner: &str, lease: Duration) -> Result<Claim> {
        machine::storable("fingerprint", &fingerprint.0)?;
        let owner = machine::owner(owner);
        let lease_ms = machine::lease_ms(lease);
        // A key deleted by hand between the insert and the lock is retried; twice is plenty.
        for _ in 0..3 {
            let l = Lease::issue(key.clone(), 1);
            let inserted = sqlx::query(&self.sql.insert_new)
                .bind(key.as_str())
                .bind(&fingerprint.0)
                .bind(&owner)
                .bind(&l.token)
                .bind(lease_ms)
                .execute(&self.pool)
                .await
                .map_err(|e| self.target.error("claim a key", e))?;
            if inserted.rows_affected() == 1 {
                return Ok(Claim::Acquired(l));
            }
            if let Some(claim) = self.claim_existing(key, fingerprint, &owner, lease_ms).await? {
                return Ok(claim);
            }
        }
        Err(Error::new(
            switchboard_core::ErrorKind::Unavailable,
            format!("the key '{key}' kept vanishing while being claimed; is something deleting keys?"),
        )
        .with_dispatch(switchboard_core::Dispatch::NotSent))
    }

    async fn note_attempt(&self, lease: &Lease, attempt: &AttemptNote) -> Result<()> {
        let done = sqlx::query(&self.sql.note)
            .bind(lease.key.as_str())
            .bind(&lease.token)
            .bind(machine::to_json(attempt)?)
            .execute(&self.pool)
            .await
            .map_err(|e| self.target.error("note an attempt", e))?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(lease_lost(&lease.key))
        }
    }

    async fn finish(&self, lease: &Lease, outcome: Outcome) -> Result<()> {
        let s = machine::settle_outcome(outcome)?;
        let done = sqlx::query(&self.sql.finish)
            .bind(lease.key.as_str())
            .bind(&lease.token)
            .bind(s.state.as_str())
            .bind(s.receipt)
            .bind(s.error)
            .execute(&self.pool)
            .await
            .map_err(|e| self.target.error("record how an attempt ended", e))?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(lease_lost(&lease.key))
        }
    }

    async fn lookup(&self, key: &MessageKey) -> Result<Option<KeyRecord>> {
        let row = sqlx::query(&self.sql.select_key)
            .bind(key.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.target.error("look up a key", e))?;
        row.map(|r| self.record(&r)).transpose()
    }

    async fn resolve(&self, key: &MessageKey, resolution: Resolution) -> Result<()> {
        let s = machine::settle_resolution(resolution)?;
        let done = sqlx::query(&self.sql.resolve)
            .bind(key.as_str())
            .bind(s.state.as_str())
            .bind(s.receipt)
            .bind(s.error)
            .execute(&self.pool)
            .await
            .map_err(|e| self.target.error("resolve a key", e))?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let state = self.lookup(key).await?.map(|r| r.state);
        Err(machine::not_resolvable(key, state.as_ref()))
    }

    async fn uncertain(&self, limit: usize) -> Result<Vec<KeyRecord>> {
        let rows = sqlx::query(&self.sql.uncertain)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.target.error("list uncertain keys", e))?;
        rows.iter().map(|r| self.record(r)).collect()
    }

    async fn next_ids(&self, sequence: &str, n: u32) -> Result<u64> {
        machine::storable("sequence name", sequence)?;
        let first: i64 = sqlx::query_scalar(&self.sql.next_ids)
            .bind(sequence)
            .bind(i64::from(n.max(1)))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.target.error("reserve sequence numbers", e))?;
        u64::try_from(first).map_err(|_| machine::unreadable("a negative sequence number"))
    }
}

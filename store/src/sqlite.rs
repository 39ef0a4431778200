//! The SQLite store; what it guarantees is documented on [`SqliteStore`], where users see it.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row as _, SqliteConnection};
use switchboard_core::journal::{CursorStore, Journal, JournalEntry};
use switchboard_core::message::MessageId;
use switchboard_core::store::{
    AttemptNote, Claim, Fingerprint, KeyRecord, Lease, MessageKey, Outcome, Resolution, Store, lease_lost,
};
use switchboard_core::{Error, Result};

use crate::error::Target;
use crate::machine::{self, Decision, RawRow, Word};
use crate::schema::{self, StoreOptions, Tables};

/// SQLite's clock, in milliseconds since the Unix epoch. `julianday` keeps milliseconds exactly and is
/// in every SQLite version (`unixepoch('subsec')` needs 3.42).
pub(crate) const NOW: &str = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";

const COLUMNS: &str =
    "key, fingerprint, state, owner, lease_until, attempt, receipt, error, claims, created_at, updated_at";

/// A [`Store`] in a SQLite file: one file, safe for several processes on one host.
///
/// * The file runs in WAL mode (readers never block the writer) with `synchronous = FULL`, so a claim
///   that returned survives a power cut, and a `busy_timeout`, so a process waits for another's write
///   instead of failing at once.
/// * A claim reads and writes its key inside one `BEGIN IMMEDIATE` transaction, which takes SQLite's
///   single write lock before reading: two processes can never both see a key free. Every other write
///   is one conditional `UPDATE`.
/// * Leases are judged by SQLite's own `julianday('now')`: every process on the host reads the same
///   system clock through it.
///
/// SQLite's locking needs a local file system (not NFS) and processes on the same host; several
/// machines need [`PostgresStore`](crate::PostgresStore).
///
/// ```no_run
/// # async fn run() -> switchboard_core::Result<()> {
/// use switchboard_store::SqliteStore;
///
/// let store = SqliteStore::connect("sqlite:/var/lib/acme/switchboard.db").await?;
/// store.migrate().await?;
/// # Ok(()) }
/// ```
pub struct SqliteStore {
    pool: SqlitePool,
    tables: Tables,
    sql: Sql,
    target: Target,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("target", &self.target)
            .field("keys", &self.tables.keys)
            .finish_non_exhaustive()
    }
}

/// Every statement, built once with the store's table names (so the driver's statement cache hits).
struct Sql {
    select_key: String,
    insert_key: String,
    take_key: String,
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

impl Sql {
    fn new(t: &Tables) -> Self {
        let keys = &t.keys;
        let stalled = format!("(state = 'in_flight' AND attempt IS NOT NULL AND lease_until <= {NOW})");
        Sql {
            select_key: format!("SELECT {COLUMNS}, {NOW} AS now FROM {keys} WHERE key = ?1"),
            insert_key: format!(
                "INSERT INTO {keys} (key, fingerprint, state, owner, token, lease_until, claims, created_at, updated_at)
                 VALUES (?1, ?2, 'in_flight', ?3, ?4, ?5, 1, ?6, ?6)"
            ),
            take_key: format!(
                "UPDATE {keys} SET state = 'in_flight', owner = ?2, token = ?3, lease_until = ?4, attempt = NULL,
                 receipt = NULL, error = NULL, claims = ?5, updated_at = ?6 WHERE key = ?1"
            ),
            note: format!(
                "UPDATE {keys} SET attempt = ?3, updated_at = {NOW}
                 WHERE key = ?1 AND token = ?2 AND state = 'in_flight' AND (attempt IS NULL OR lease_until > {NOW})"
            ),
            finish: format!(
                "UPDATE {keys} SET state = ?3, receipt = ?4, error = ?5, lease_until = NULL, updated_at = {NOW}
                 WHERE key = ?1 AND token = ?2 AND state IN ('in_flight', 'uncertain')"
            ),
            resolve: format!(
                "UPDATE {keys} SET state = ?2, receipt = ?3, error = ?4, token = NULL, lease_until = NULL, updated_at = {NOW}
                 WHERE key = ?1 AND (state = 'uncertain' OR {stalled})"
            ),
            uncertain: format!(
                "SELECT {COLUMNS}, {NOW} AS now FROM {keys} WHERE state = 'uncertain' OR {stalled}
                 ORDER BY created_at, key LIMIT ?1"
            ),
            next_ids: format!(
                "INSERT INTO {seq} (name, next) VALUES (?1, 1 + ?2)
                 ON CONFLICT (name) DO UPDATE SET next = next + ?2 RETURNING next - ?2",
                seq = t.sequences
            ),
            journal_insert: format!(
                "INSERT INTO {j} (at, message_id, what, record) VALUES (?1, ?2, ?3, ?4)",
                j = t.journal
            ),
            journal_page: format!(
                "SELECT id, at, message_id, record FROM {j} WHERE id > ?1 ORDER BY id LIMIT ?2",
                j = t.journal
            ),
            journal_of: format!(
                "SELECT id, at, message_id, record FROM {j} WHERE message_id = ?1 ORDER BY id",
                j = t.journal
            ),
            cursor_load: format!("SELECT value FROM {c} WHERE name = ?1", c = t.cursors),
            cursor_store: format!(
                "INSERT INTO {c} (name, value, updated_at) VALUES (?1, ?2, {NOW})
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                c = t.cursors
            ),
        }
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the file at `url` (`sqlite:PATH`, `sqlite://PATH`) with the default
    /// [`StoreOptions`]. Call [`migrate`](Self::migrate) before the first use of a new file.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, StoreOptions::new()).await
    }

    /// Opens the file at `url` with `options`.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Self> {
        let target = Target::of_url("sqlite", url);
        if !url.starts_with("sqlite:") {
            return Err(Error::config(format!(
                "a SQLite store URL starts with 'sqlite:' (sqlite:/path/to/file.db), not {}",
                target.shown
            )));
        }
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(|e| target.error("read its URL", e))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(options.busy_timeout);
        // An in-memory database lives in one connection; a shared-cache pool would lock tables without
        // waiting for the busy timeout.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { options.max_connections })
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|e| target.error("open the database", e))?;
        Self::build(pool, &options, target)
    }

    /// A store on the host's own pool (so the host can write its rows and the store's in one
    /// transaction). The pool should use WAL mode and a busy timeout, as [`connect`](Self::connect)
    /// sets them up.
    pub fn from_pool(pool: SqlitePool, options: StoreOptions) -> Result<Self> {
        Self::build(pool, &options, Target::of_pool("sqlite"))
    }

    fn build(pool: SqlitePool, options: &StoreOptions, target: Target) -> Result<Self> {
        if options.schema.is_some() {
            return Err(Error::config(
                "SQLite has no schemas; use StoreOptions::table_prefix to keep several stores apart",
            ));
        }
        let tables = options.tables()?;
        Ok(SqliteStore {
            sql: Sql::new(&tables),
            pool,
            tables,
            target,
        })
    }

    /// The pool, for the host's own queries and transactions.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The table names and the database's name for errors, for the outbox on the same tables.
    #[cfg(feature = "outbox")]
    pub(crate) fn parts(&self) -> (&Tables, &Target) {
        (&self.tables, &self.target)
    }

    /// Creates or upgrades the tables to the newest schema version. Idempotent, and safe when several
    /// processes call it at once (they take turns on SQLite's write lock).
    pub async fn migrate(&self) -> Result<()> {
        let fail = |e| self.target.error("migrate its tables", e);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
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
        for m in schema::sqlite_migrations(&self.tables)
            .into_iter()
            .filter(|m| m.version > current)
        {
            for statement in &m.statements {
                sqlx::query(statement).execute(&mut *tx).await.map_err(fail)?;
            }
            sqlx::query(&format!(
                "INSERT INTO {} (version, description, applied_at) VALUES (?1, ?2, ?3)",
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

    /// Up to `limit` journal entries after the one numbered `after` (0 for the first), oldest first,
    /// with their numbers: a reader pages through the journal by passing the last number it saw.
    pub async fn journal_page(&self, after: i64, limit: usize) -> Result<Vec<(i64, JournalEntry)>> {
        let rows = sqlx::query(&self.sql.journal_page)
            .bind(after)
            .bind(limit_i64(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.target.error("read the journal", e))?;
        rows.iter().map(|r| self.journal_row(r)).collect()
    }

    /// Every journal entry about one message, oldest first.
    pub async fn journal_of(&self, message: &MessageId) -> Result<Vec<JournalEntry>> {
        let rows = sqlx::query(&self.sql.journal_of)
            .bind(message.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.target.error("read the journal", e))?;
        rows.iter().map(|r| self.journal_row(r).map(|(_, e)| e)).collect()
    }

    fn journal_row(&self, r: &SqliteRow) -> Result<(i64, JournalEntry)> {
        let get = |e| self.target.error("read the journal", e);
        let id: i64 = r.try_get("id").map_err(get)?;
        let at = millis(r.try_get("at").map_err(get)?)?;
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

    fn raw_row(&self, r: &SqliteRow) -> Result<(RawRow, DateTime<Utc>)> {
        let get = |e| self.target.error("read a key", e);
        let lease_until: Option<i64> = r.try_get("lease_until").map_err(get)?;
        let raw = RawRow {
            key: r.try_get("key").map_err(get)?,
            fingerprint: r.try_get("fingerprint").map_err(get)?,
            state: r.try_get("state").map_err(get)?,
            owner: r.try_get("owner").map_err(get)?,
            lease_until: lease_until.map(millis).transpose()?,
            attempt: r.try_get("attempt").map_err(get)?,
            receipt: r.try_get("receipt").map_err(get)?,
            error: r.try_get("error").map_err(get)?,
            claims: r.try_get("claims").map_err(get)?,
            created_at: millis(r.try_get("created_at").map_err(get)?)?,
            updated_at: millis(r.try_get("updated_at").map_err(get)?)?,
        };
        Ok((raw, millis(r.try_get("now").map_err(get)?)?))
    }

    /// The claim itself, inside the caller's `BEGIN IMMEDIATE` transaction.
    async fn claim_in(
        &self,
        conn: &mut SqliteConnection,
        key: &MessageKey,
        fingerprint: &Fingerprint,
        owner: &str,
        lease: std::time::Duration,
    ) -> Result<Claim> {
        let fail = |e| self.target.error("claim a key", e);
        let row = sqlx::query(&self.sql.select_key)
            .bind(key.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(fail)?;
        let now_ms: i64 = match &row {
            Some(r) => r.try_get("now").map_err(fail)?,
            None => sqlx::query_scalar(&format!("SELECT {NOW}"))
                .fetch_one(&mut *conn)
                .await
                .map_err(fail)?,
        };
        let until = now_ms.saturating_add(machine::lease_ms(lease));
        let owner = machine::owner(owner);
        let Some(row) = row else {
            let l = Lease::issue(key.clone(), 1);
            sqlx::query(&self.sql.insert_key)
                .bind(key.as_str())
                .bind(&fingerprint.0)
                .bind(&owner)
                .bind(&l.token)
                .bind(until)
                .bind(now_ms)
                .execute(&mut *conn)
                .await
                .map_err(fail)?;
            return Ok(Claim::Acquired(l));
        };
        let (raw, now) = self.raw_row(&row)?;
        match machine::decide_claim(&raw.decode()?, fingerprint, now)? {
            Decision::Answer(answer) => Ok(answer),
            Decision::Take { claim } => {
                let l = Lease::issue(key.clone(), claim);
                sqlx::query(&self.sql.take_key)
                    .bind(key.as_str())
                    .bind(&owner)
                    .bind(&l.token)
                    .bind(until)
                    .bind(i64::from(claim))
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await
                    .map_err(fail)?;
                Ok(Claim::Acquired(l))
            }
        }
    }
}

pub(crate) fn millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| machine::unreadable("a time out of range"))
}

fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl Journal for SqliteStore {
    async fn record(&self, entry: JournalEntry) -> Result<()> {
        let record = serde_json::to_value(&entry.record)
            .map_err(|e| Error::invalid_input(format!("the journal could not serialise an entry: {e}")))?;
        let what = record
            .get("what")
            .and_then(|w| w.as_str())
            .unwrap_or("unknown")
            .to_owned();
        sqlx::query(&self.sql.journal_insert)
            .bind(entry.at.timestamp_millis())
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
impl CursorStore for SqliteStore {
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
impl Store for SqliteStore {
    async fn claim(
        &self,
        key: &MessageKey,
        fingerprint: &Fingerprint,
        owner: &str,
        lease: std::time::Duration,
    ) -> Result<Claim> {
        machine::storable("fingerprint", &fingerprint.0)?;
        let fail = |e| self.target.error("claim a key", e);
        // The write lock first: nobody else can read the key as free until this commits.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
        let claim = self.claim_in(&mut tx, key, fingerprint, owner, lease).await?;
        tx.commit().await.map_err(fail)?;
        Ok(claim)
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
        row.map(|r| {
            let (raw, now) = self.raw_row(&r)?;
            raw.decode()?.record_at(now)
        })
        .transpose()
    }

    async fn resolve(&self, key: &MessageKey, resolution: Resolution) -> Result<()> {
        let s = machine::settle_resolution(resolution)?;
        debug_assert!(s.state != Word::InFlight && s.state != Word::Uncertain);
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
            .bind(limit_i64(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.target.error("list uncertain keys", e))?;
        rows.iter()
            .map(|r| {
                let (raw, now) = self.raw_row(r)?;
                raw.decode()?.record_at(now)
            })
            .collect()
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

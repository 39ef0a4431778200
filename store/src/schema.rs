//! Where the stores keep their tables, and the versioned migrations that create them.
//!
//! Every table name is `{prefix}{name}` (prefix `switchboard_` by default), inside a PostgreSQL schema
//! when one is configured:
//!
//! | table | one row per | columns |
//! |---|---|---|
//! | `{prefix}schema_version` | applied migration | `version`, `description`, `applied_at` |
//! | `{prefix}keys` | idempotency key | `key` (primary key), `fingerprint`, `state` (`in_flight`, `accepted`, `failed`, `uncertain`, `released`), `owner`, `token`, `lease_until`, `attempt`, `receipt`, `error` (JSON text), `claims`, `created_at`, `updated_at` |
//! | `{prefix}journal` | journal entry | `id` (ascending), `at`, `message_id`, `what` (the record's kind), `record` (JSON text) |
//! | `{prefix}cursors` | poller position | `name` (primary key), `value`, `updated_at` |
//! | `{prefix}sequences` | named sequence | `name` (primary key), `next` (the next number to hand out) |
//! | `{prefix}outbox` | message queued by a host (feature `outbox`) | `id` (ascending), `key` (unique), `fingerprint`, `message` (JSON text), `state` (`queued`, `running`, `accepted`, `maybe_sent`, `dead`, `cancelled`), `run_at` (when it is due; for a running job, when its worker's lease ends), `attempts`, `worker`, `token`, `receipt`, `error` (JSON text), `created_at`, `updated_at` |
//!
//! JSON columns are text rather than PostgreSQL `jsonb`: `jsonb` refuses a `\u0000` escape, which a
//! provider's reply may contain, and a receipt that cannot be stored after the provider accepted the
//! message would leave its key uncertain for nothing. Cast to `jsonb` to query them.
//!
//! Times are `timestamptz` on PostgreSQL and integer milliseconds since the Unix epoch on SQLite.

use std::time::Duration;

use switchboard_core::{Error, Result};

/// Where a store keeps its tables, and how it connects.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub(crate) prefix: String,
    pub(crate) schema: Option<String>,
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            prefix: "switchboard_".to_owned(),
            schema: None,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl StoreOptions {
    /// The defaults: tables named `switchboard_*`, at most 10 connections.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names every table `{prefix}{name}`; lowercase ASCII letters, digits and `_`, at most 40
    /// characters, not starting with a digit. Several stores can share a database under different
    /// prefixes.
    pub fn table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Puts the tables in this PostgreSQL schema (created by [`migrate`](crate::PostgresStore::migrate)
    /// if missing). Same rules as the prefix. SQLite has no schemas and refuses this option.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The most connections the store's own pool opens (ignored for a pool handed in).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long a call waits for a free connection before failing with `Unavailable`.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// SQLite only: how long a write waits for another process's write to finish before failing with
    /// `Unavailable` (SQLite has one writer at a time).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    pub(crate) fn tables(&self) -> Result<Tables> {
        check_identifier("table prefix", &self.prefix, true)?;
        let qualify = match &self.schema {
            Some(schema) => {
                check_identifier("schema", schema, false)?;
                format!("\"{schema}\".")
            }
            None => String::new(),
        };
        let name = |table: &str| format!("{qualify}\"{}{table}\"", self.prefix);
        Ok(Tables {
            version: name("schema_version"),
            keys: name("keys"),
            journal: name("journal"),
            cursors: name("cursors"),
            sequences: name("sequences"),
            outbox: name("outbox"),
            index_prefix: self.prefix.clone(),
            schema: self.schema.clone(),
            lock_id: lock_id(self.schema.as_deref().unwrap_or(""), &self.prefix),
        })
    }
}

/// Identifiers are interpolated into SQL, so only a safe alphabet is accepted.
fn check_identifier(what: &str, value: &str, may_be_empty: bool) -> Result<()> {
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let starts_ok = value.chars().next().is_none_or(|c| !c.is_ascii_digit());
    if (value.is_empty() && !may_be_empty) || value.len() > 40 || !ok_chars || !starts_ok {
        return Err(Error::config(format!(
            "the store's {what} {value:?} must be lowercase ASCII letters, digits and '_', at most 40 characters, not starting with a digit"
        )));
    }
    Ok(())
}

/// The quoted, qualified names of one store's tables.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    pub version: String,
    pub keys: String,
    pub journal: String,
    pub cursors: String,
    pub sequences: String,
    #[cfg_attr(not(feature = "outbox"), allow(dead_code))]
    pub outbox: String,
    /// Index names start with the prefix (PostgreSQL puts them in the tables' schema).
    pub index_prefix: String,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub schema: Option<String>,
    /// The PostgreSQL advisory lock that serialises concurrent migrations of these tables.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub lock_id: i64,
}

/// FNV-1a of the schema and prefix: stable across processes, builds and Rust versions, so every
/// process migrating the same tables takes the same advisory lock.
fn lock_id(schema: &str, prefix: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "switchboard-store\0"
        .bytes()
        .chain(schema.bytes())
        .chain([0])
        .chain(prefix.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// One schema version: the statements that bring the tables from the version before to this one.
pub(crate) struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub statements: Vec<String>,
}

/// The newest schema version this build knows.
pub(crate) const LATEST: i64 = 2;

/// The SQLite migrations, oldest first.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_migrations(t: &Tables) -> Vec<Migration> {
    let p = &t.index_prefix;
    vec![
        Migration {
            version: 1,
            description: "keys, journal, cursors and sequences",
            statements: vec![
                format!(
                    "CREATE TABLE IF NOT EXISTS {keys} (
                    key TEXT PRIMARY KEY NOT NULL,
                    fingerprint TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('in_flight', 'accepted', 'failed', 'uncertain', 'released')),
                    owner TEXT,
                    token TEXT,
                    lease_until INTEGER,
                    attempt TEXT,
                    receipt TEXT,
                    error TEXT,
                    claims INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                )",
                    keys = t.keys
                ),
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{p}keys_open\" ON {keys} (created_at) WHERE state IN ('in_flight', 'uncertain')",
                    keys = t.keys
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS {journal} (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    message_id TEXT,
                    what TEXT NOT NULL,
                    record TEXT NOT NULL
                )",
                    journal = t.journal
                ),
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{p}journal_message\" ON {journal} (message_id) WHERE message_id IS NOT NULL",
                    journal = t.journal
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS {cursors} (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL)",
                    cursors = t.cursors
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS {sequences} (name TEXT PRIMARY KEY NOT NULL, next INTEGER NOT NULL)",
                    sequences = t.sequences
                ),
            ],
        },
        Migration {
            version: 2,
            description: "outbox",
            statements: vec![
                format!(
                    "CREATE TABLE IF NOT EXISTS {outbox} (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    key TEXT NOT NULL UNIQUE,
                    fingerprint TEXT NOT NULL,
                    message TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ({OUTBOX_STATES})),
                    run_at INTEGER NOT NULL,
                    attempts INTEGER NOT NULL,
                    worker TEXT,
                    token TEXT,
                    receipt TEXT,
                    error TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                )",
                    outbox = t.outbox
                ),
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{p}outbox_due\" ON {outbox} (run_at, id) WHERE state IN ('queued', 'running')",
                    outbox = t.outbox
                ),
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{p}outbox_state\" ON {outbox} (state, id)",
                    outbox = t.outbox
                ),
            ],
        },
    ]
}

/// The PostgreSQL migrations, oldest first.
#[cfg(feature = "postgres")]
pub(crate) fn postgres_migrations(t: &Tables) -> Vec<Migration> {
    let p = &t.index_prefix;
    vec![
        Migration {
            version: 1,
            description: "keys, journal, cursors and sequences",
            statements: vec![
                format!(
                    "CREATE TABLE IF NOT EXISTS {keys} (
                    key TEXT PRIMARY KEY,
                    fingerprint TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('in_flight', 'accepted', 'failed', 'uncertain', 'released')),
                    owner TEXT,
                    token TEXT,
                    lease_until TIMESTAMPTZ,
                    attempt TEXT,
                    receipt TEXT,
                    error TEXT,
                    claims INTEGER NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL
                )",
                    keys = t.keys
                ),
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{p}keys_open\" ON {keys} (created_at) WHERE state IN ('in_flight', 'uncertain')",
                    keys = t.keys
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS {journal} (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    at TIMESTAMPTZ NOT NULL,
                    message_id TEXT,
                    what TEXT NOT NULL,
                    record TEXT NOT NULL
                )",
                    journal = t.journal
                ),
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{p}journal_message\" ON {journal} (message_id) WHERE message_id IS NOT NULL",
                    journal = t.journal
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS {cursors} (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
                    cursors = t.cursors
                ),
                format!(
                    "CREATE TABLE IF NOT EXISTS {sequences} (name TEXT PRIMARY KEY, next BIGINT NOT NULL)",
                    sequences = t.sequences
                ),
            ],
        },
        Migration {
            version: 2,
            description: "outbox",
            statements: vec![
                format!(
                    "CREATE TABLE IF NOT EXISTS {outbox} (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    key TEXT NOT NULL UNIQUE,
                    fingerprint TEXT NOT NULL,
                    message TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ({OUTBOX_STATES})),
                    run_at TIMESTAMPTZ NOT NULL,
                    attempts INTEGER NOT NULL,
                    worker TEXT,
                    token TEXT,
                    receipt TEXT,
                    error TEXT,
                    created_at TIMESTAMPTZ NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL
                )",
                    outbox = t.outbox
                ),
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{p}outbox_due\" ON {outbox} (run_at, id) WHERE state IN ('queued', 'running')",
                    outbox = t.outbox
                ),
                format!(
                    "CREATE INDEX IF NOT EXISTS \"{p}outbox_state\" ON {outbox} (state, id)",
                    outbox = t.outbox
                ),
            ],
        },
    ]
}

/// The outbox's states, as the `CHECK` constraint lists them.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
const OUTBOX_STATES: &str = "'queued', 'running', 'accepted', 'maybe_sent', 'dead', 'cancelled'";

/// The statement creating the version table (the same on both databases).
pub(crate) fn version_table(t: &Tables) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (version BIGINT PRIMARY KEY NOT NULL, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
        t.version
    )
}

/// The error for a database migrated by a newer build.
pub(crate) fn too_new(found: i64) -> Error {
    Error::config(format!(
        "the store's tables are at schema version {found}, newer than this build knows ({LATEST}); upgrade switchboard-store"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_checked() {
        assert!(StoreOptions::new().tables().is_ok());
        assert!(StoreOptions::new().table_prefix("").tables().is_ok());
        for bad in ["Sb_", "sb-", "1sb", "sb\"; drop table x; --", &"x".repeat(41)] {
            let e = StoreOptions::new().table_prefix(bad).tables().unwrap_err();
            assert_eq!(e.kind(), switchboard_core::ErrorKind::Config, "{bad}");
        }
        assert!(StoreOptions::new().schema("").tables().is_err());
        let t = StoreOptions::new().schema("mail").table_prefix("sb_").tables().unwrap();
        assert_eq!(t.keys, "\"mail\".\"sb_keys\"");
    }

    #[test]
    fn lock_ids_differ_by_place() {
        let a = StoreOptions::new().tables().unwrap().lock_id;
        let b = StoreOptions::new().table_prefix("other_").tables().unwrap().lock_id;
        let c = StoreOptions::new().schema("x").tables().unwrap().lock_id;
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, StoreOptions::new().tables().unwrap().lock_id);
    }
}

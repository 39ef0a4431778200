//! The database: one SQLite file holding the switchboard store's tables (message keys, the outbox) and
//! the CRM's own. Each feature module owns its tables as a list of migration statements; they run once,
//! in order, and are recorded in `crm_migrations`, so a restart or a second replica applies nothing twice.

use std::sync::Arc;

use switchboard::store::SqliteStore;
use switchboard::store::sqlx::{self, SqlitePool};

/// One module's tables: a name recorded once applied, and the statements that create them.
pub struct Migration {
    /// Recorded in `crm_migrations`; never rename one that shipped.
    pub name: &'static str,
    /// Executed in order, in one transaction.
    pub statements: &'static [&'static str],
}

/// Every module's migrations, in the order they apply (later tables may reference earlier ones).
fn migrations() -> Vec<&'static Migration> {
    vec![
        &crate::domain::MIGRATION,
        &crate::sms::MIGRATION,
        &crate::email::MIGRATION,
        &crate::push::MIGRATION,
        &crate::telegram::MIGRATION,
        &crate::payments::MIGRATION,
        &crate::gps::MIGRATION,
        &crate::onec::MIGRATION,
        &crate::export::MIGRATION,
    ]
}

/// Opens (creating if needed) the database at `url` and brings every table up to date.
pub async fn open(url: &str) -> switchboard::Result<Arc<SqliteStore>> {
    let store = Arc::new(SqliteStore::connect(url).await?);
    store.migrate().await?;
    migrate(store.pool())
        .await
        .map_err(|e| switchboard::Error::config(format!("migrating the CRM's tables in {url}: {e}")))?;
    Ok(store)
}

async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("CREATE TABLE IF NOT EXISTS crm_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        .execute(pool)
        .await?;
    for m in migrations() {
        // BEGIN IMMEDIATE: two replicas starting together serialise here instead of both applying.
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let done: Option<(String,)> = sqlx::query_as("SELECT name FROM crm_migrations WHERE name = ?1")
            .bind(m.name)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_none() {
            for statement in m.statements {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO crm_migrations (name, applied_at) VALUES (?1, ?2)")
                .bind(m.name)
                .bind(chrono::Utc::now().to_rfc3339())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// The current time as stored in every table: RFC 3339 in UTC with milliseconds
/// (`2026-12-03T14:05:00.123Z`), so text order is time order and date filters are string comparisons.
pub fn now() -> String {
    stamp(chrono::Utc::now())
}

/// A time in the stored form (see [`now`]).
pub fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

//! The outbox on a SQLite file: the shared suite (see `outbox_common`).

use switchboard_store::SqliteStore;
use switchboard_store::outbox::SqliteOutbox;
use switchboard_store::sqlx;
use switchboard_store::testing::TempDir;

pub struct Env {
    pub outbox: SqliteOutbox,
    pub store: Arc<SqliteStore>,
    _dir: TempDir,
}

impl Env {
    /// The host's transaction, as a host opens one on SQLite (taking the write lock up front).
    pub async fn begin(&self) -> sqlx::Transaction<'static, sqlx::Sqlite> {
        self.store.pool().begin_with("BEGIN IMMEDIATE").await.unwrap()
    }
}

async fn setup() -> Option<Env> {
    let dir = TempDir::new("outbox-sqlite").unwrap();
    let store = SqliteStore::connect(&dir.sqlite_url("app.db")).await.unwrap();
    store.migrate().await.unwrap();
    Some(Env {
        outbox: SqliteOutbox::new(&store),
        store: Arc::new(store),
        _dir: dir,
    })
}

outbox_suite!(setup);

//! The outbox on PostgreSQL (a throwaway cluster, or `SWITCHBOARD_TEST_POSTGRES_URL`): the shared
//! suite (see `outbox_common`), each test in a schema of its own.

use switchboard_store::outbox::PostgresOutbox;
use switchboard_store::sqlx;
use switchboard_store::testing::{PostgresServer, postgres, unique_name};
use switchboard_store::{PostgresStore, StoreOptions};

pub struct Env {
    pub outbox: PostgresOutbox,
    pub store: Arc<PostgresStore>,
    schema: String,
    _server: Arc<PostgresServer>,
}

impl Env {
    /// The host's transaction, with the store's schema first on its search path (where the host's own
    /// test table goes).
    pub async fn begin(&self) -> sqlx::Transaction<'static, sqlx::Postgres> {
        let mut tx = self.store.pool().begin().await.unwrap();
        sqlx::query(&format!("SET LOCAL search_path TO \"{}\"", self.schema))
            .execute(&mut *tx)
            .await
            .unwrap();
        tx
    }
}

async fn setup() -> Option<Env> {
    let server = postgres()?;
    let schema = unique_name("outbox_");
    let store = PostgresStore::connect_with(server.url(), StoreOptions::new().schema(&schema))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    Some(Env {
        outbox: PostgresOutbox::new(&store),
        store: Arc::new(store),
        schema,
        _server: server,
    })
}

outbox_suite!(setup);

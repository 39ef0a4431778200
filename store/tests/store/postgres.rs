//! The PostgreSQL store against a real server (a throwaway cluster the tests start, or
//! `SWITCHBOARD_TEST_POSTGRES_URL`): the conformance suite, migrations, several pools and several
//! processes racing on the same keys and sequences.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::journal::{CursorStore as _, Journal as _};
use switchboard_core::message::MessageId;
use switchboard_core::store::{Claim, MessageKey, Store};
use switchboard_core::testkit::{StoreFixture, store_conformance};
use switchboard_core::{Dispatch, ErrorKind, Message};
use switchboard_store::testing::{PostgresServer, TempDir, postgres, unique_name};
use switchboard_store::{PostgresStore, StoreOptions};

use crate::common;

async fn open(server: &PostgresServer, schema: &str) -> PostgresStore {
    let store = PostgresStore::connect_with(server.url(), StoreOptions::new().schema(schema).max_connections(20))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    store
}

struct Schemas(Arc<PostgresServer>);

#[switchboard_core::async_trait]
impl StoreFixture for Schemas {
    async fn store(&self) -> Arc<dyn Store> {
        Arc::new(open(&self.0, &unique_name("conf_")).await)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_store_passes_the_conformance_suite() {
    let Some(server) = postgres() else { return };
    store_conformance(&Schemas(server)).await;
}

fn fingerprint() -> switchboard_core::store::Fingerprint {
    Message::sms("+355694123456".parse().unwrap(), "race").fingerprint()
}

/// Four pools (as four replicas would have) run 32 claimers over the same 50 keys, each in its own
/// random order, and reserve numbers from one sequence: one winner per key, no number twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_pools_race_on_the_same_keys() {
    let Some(server) = postgres() else { return };
    let schema = unique_name("pools_");
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(Arc::new(open(&server, &schema).await));
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(32));
    let mut tasks = Vec::new();
    for t in 0..32usize {
        let store = stores[t % 4].clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut order: Vec<usize> = (0..50).collect();
            switchboard_core::random::shuffle(order.as_mut_slice());
            barrier.wait().await;
            let (mut won, mut ids) = (Vec::new(), Vec::new());
            for k in order {
                let key = MessageKey::new(format!("k{k}")).unwrap();
                match store
                    .claim(&key, &fingerprint(), &format!("t{t}"), Duration::from_secs(60))
                    .await
                {
                    Ok(Claim::Acquired(_)) => won.push(k),
                    Ok(Claim::InFlight { .. }) => {}
                    other => panic!("claim k{k}: {other:?}"),
                }
                let n = 1 + (k as u32 % 3);
                ids.push((store.next_ids("dinstar:gw", n).await.unwrap(), n));
            }
            (won, ids)
        }));
    }
    let mut winners: HashMap<usize, usize> = HashMap::new();
    let mut ranges = Vec::new();
    for (t, task) in tasks.into_iter().enumerate() {
        let (won, ids) = task.await.unwrap();
        for k in won {
            assert!(winners.insert(k, t).is_none(), "key k{k} was acquired twice");
        }
        ranges.extend(ids);
    }
    assert_eq!(winners.len(), 50, "every key was acquired once");
    ranges.sort_unstable();
    let mut expect = 1;
    for (first, n) in &ranges {
        assert_eq!(*first, expect, "sequence ranges overlap or leave a gap");
        expect += u64::from(*n);
    }
}

/// Four processes claim the same 40 keys and reserve numbers from one sequence in one schema.
#[test]
fn several_processes_claim_each_key_once() {
    let Some(server) = postgres() else { return };
    let schema = unique_name("procs_");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        open(&server, &schema).await;
    });
    let dir = TempDir::new("postgres-processes").unwrap();
    common::race_processes(
        "postgres::child_process_entry",
        server.url(),
        Some(&schema),
        dir.path(),
        4,
        40,
    );
}

/// The body of each child process in the multi-process test (run by it with `--ignored`).
#[tokio::test]
#[ignore = "run by several_processes_claim_each_key_once as a child process"]
async fn child_process_entry() {
    common::child(|url, schema| async move {
        let options = StoreOptions::new().schema(schema.expect("child: schema"));
        let store = PostgresStore::connect_with(&url, options)
            .await
            .expect("child: connect");
        Arc::new(store) as Arc<dyn Store>
    })
    .await;
}

#[tokio::test]
async fn migrate_is_idempotent_concurrent_and_versioned() {
    let Some(server) = postgres() else { return };
    let schema = unique_name("mig_");
    let options = || StoreOptions::new().schema(schema.clone());
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(PostgresStore::connect_with(server.url(), options()).await.unwrap());
    }
    // Replicas starting together all migrate at once.
    let results = futures::future::join_all(stores.iter().map(|s| s.migrate())).await;
    for r in results {
        r.unwrap();
    }
    stores[0].migrate().await.unwrap();
    let versions: Vec<i64> =
        sqlx::query_scalar(&format!("SELECT version FROM \"{schema}\".switchboard_schema_version"))
            .fetch_all(stores[0].pool())
            .await
            .unwrap();
    assert_eq!(versions, vec![1, 2]);
    sqlx::query(&format!(
        "INSERT INTO \"{schema}\".switchboard_schema_version (version, description, applied_at) VALUES (42, 'future', 'x')"
    ))
    .execute(stores[0].pool())
    .await
    .unwrap();
    let e = stores[0].migrate().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("42"), "{e}");
}

#[tokio::test]
async fn a_host_pool_and_a_prefix_work_and_unmigrated_tables_say_so() {
    let Some(server) = postgres() else { return };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(server.url())
        .await
        .unwrap();
    let prefix = unique_name("host_") + "_";
    let store = PostgresStore::from_pool(pool, StoreOptions::new().table_prefix(prefix.clone())).unwrap();
    let key = MessageKey::new("k").unwrap();
    let e = store
        .claim(&key, &fingerprint(), "a", Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("migrate()"), "{e}");
    store.migrate().await.unwrap();
    assert!(matches!(
        store
            .claim(&key, &fingerprint(), "a", Duration::from_secs(5))
            .await
            .unwrap(),
        Claim::Acquired(_)
    ));
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE $1 || '%'")
            .bind(&prefix)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(
        tables, 6,
        "schema_version, keys, journal, cursors, sequences and outbox under the prefix"
    );
}

#[tokio::test]
async fn the_journal_and_cursors_read_back() {
    let Some(server) = postgres() else { return };
    let store = open(&server, &unique_name("journal_")).await;
    let id = MessageId::random();
    let m = Message::sms("+355694123456".parse().unwrap(), "hello");
    let entries = common::journal_entries(&id, &m);
    for e in entries.clone() {
        store.record(e).await.unwrap();
    }
    common::assert_same_entries(&store.journal_of(&id).await.unwrap(), &entries[..3], 2);
    let page = store.journal_page(0, 3).await.unwrap();
    assert_eq!(page.len(), 3);
    let rest = store.journal_page(page[2].0, 10).await.unwrap();
    common::assert_same_entries(&[rest[0].1.clone()], &entries[3..], 2);

    // PostgreSQL text cannot hold NUL: refused as bad input before the database sees it.
    let e = store.store("c", "a\0b").await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
}

#[tokio::test]
async fn connection_errors_never_show_the_password() {
    // Nothing listens on port 1: unavailable, and nothing was sent.
    let e = PostgresStore::connect("postgres://app:hunter2-secret@127.0.0.1:1/db")
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch()),
        (ErrorKind::Unavailable, Dispatch::NotSent),
        "{e}"
    );
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("127.0.0.1:1/db"), "{shown}");

    let Some(server) = postgres() else { return };
    let mut url = url::Url::parse(server.url()).unwrap();
    url.set_password(Some("hunter2-secret")).unwrap();
    // The throwaway cluster trusts local connections, so the password is accepted and ignored; the
    // store, its pool and its Debug output must still not show it.
    if let Ok(store) = PostgresStore::connect(url.as_str()).await {
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
    url.set_path("/no_such_database");
    let e = PostgresStore::connect(url.as_str()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("no_such_database"), "{shown}");
}

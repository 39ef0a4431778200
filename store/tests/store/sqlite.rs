//! The SQLite store against real files: the conformance suite, migrations, restarts, and several
//! processes claiming the same keys.

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::journal::{Journal as _, JournalRecord};
use switchboard_core::message::{MessageId, Receipt};
use switchboard_core::store::{Claim, MessageKey, Outcome, Store};
use switchboard_core::testkit::{StoreFixture, store_conformance};
use switchboard_core::{ErrorKind, Message};
use switchboard_store::testing::TempDir;
use switchboard_store::{SqliteStore, StoreOptions};

use crate::common;

struct Files(TempDir);

#[switchboard_core::async_trait]
impl StoreFixture for Files {
    async fn store(&self) -> Arc<dyn Store> {
        let url = self
            .0
            .sqlite_url(&format!("{}.db", switchboard_store::testing::unique_name("case-")));
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        Arc::new(store)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store_passes_the_conformance_suite() {
    store_conformance(&Files(TempDir::new("sqlite-conformance").unwrap())).await;
}

fn message() -> Message {
    Message::sms("+355694123456".parse().unwrap(), "Your order 72 is on its way")
}

#[tokio::test]
async fn an_accepted_key_survives_a_restart() {
    let dir = TempDir::new("sqlite-restart").unwrap();
    let url = dir.sqlite_url("store.db");
    let key = MessageKey::new("order-72").unwrap();
    let m = message();
    {
        let store = SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let Claim::Acquired(lease) = store
            .claim(&key, &m.fingerprint(), "p1", Duration::from_secs(30))
            .await
            .unwrap()
        else {
            panic!("not acquired")
        };
        store
            .finish(&lease, Outcome::Accepted(Box::new(Receipt::new("gsm", &m, "77"))))
            .await
            .unwrap();
        store.pool().close().await;
    }
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    match store
        .claim(&key, &m.fingerprint(), "p2", Duration::from_secs(30))
        .await
        .unwrap()
    {
        Claim::Accepted(r) => assert_eq!(r.provider_id(), "77"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn migrate_is_idempotent_and_versioned() {
    let dir = TempDir::new("sqlite-migrate").unwrap();
    let url = dir.sqlite_url("store.db");
    let a = SqliteStore::connect(&url).await.unwrap();
    let b = SqliteStore::connect(&url).await.unwrap();
    // Two processes starting at once both migrate.
    let (x, y) = tokio::join!(a.migrate(), b.migrate());
    x.unwrap();
    y.unwrap();
    a.migrate().await.unwrap();
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM switchboard_schema_version")
        .fetch_all(a.pool())
        .await
        .unwrap();
    assert_eq!(versions, vec![1, 2]);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(a.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");

    // A file migrated by a newer build is refused rather than misread.
    sqlx::query("INSERT INTO switchboard_schema_version (version, description, applied_at) VALUES (99, 'future', 'x')")
        .execute(a.pool())
        .await
        .unwrap();
    let e = a.migrate().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("99"), "{e}");
}

#[tokio::test]
async fn unmigrated_tables_say_to_migrate() {
    let dir = TempDir::new("sqlite-unmigrated").unwrap();
    let store = SqliteStore::connect(&dir.sqlite_url("store.db")).await.unwrap();
    let e = store
        .claim(
            &MessageKey::new("k").unwrap(),
            &message().fingerprint(),
            "p",
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("migrate()"), "{e}");
    assert_eq!(e.dispatch(), switchboard_core::Dispatch::NotSent);
}

#[tokio::test]
async fn prefixes_keep_stores_apart_in_one_file() {
    let dir = TempDir::new("sqlite-prefix").unwrap();
    let url = dir.sqlite_url("shared.db");
    let a = SqliteStore::connect_with(&url, StoreOptions::new().table_prefix("tenant_a_"))
        .await
        .unwrap();
    let b = SqliteStore::connect_with(&url, StoreOptions::new().table_prefix("tenant_b_"))
        .await
        .unwrap();
    a.migrate().await.unwrap();
    b.migrate().await.unwrap();
    let key = MessageKey::new("same-key").unwrap();
    let fp = message().fingerprint();
    assert!(matches!(
        a.claim(&key, &fp, "a", Duration::from_secs(30)).await.unwrap(),
        Claim::Acquired(_)
    ));
    assert!(matches!(
        b.claim(&key, &fp, "b", Duration::from_secs(30)).await.unwrap(),
        Claim::Acquired(_)
    ));
    assert_eq!(a.next_ids("s", 1).await.unwrap(), 1);
    assert_eq!(b.next_ids("s", 1).await.unwrap(), 1);

    let bad = SqliteStore::connect_with(&url, StoreOptions::new().table_prefix("x\"; DROP TABLE y; --")).await;
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::Config);
    let schema = SqliteStore::connect_with(&url, StoreOptions::new().schema("mail")).await;
    assert_eq!(schema.unwrap_err().kind(), ErrorKind::Config);
    let not_sqlite = SqliteStore::connect("postgres://u:secret@h/db").await.unwrap_err();
    assert_eq!(not_sqlite.kind(), ErrorKind::Config);
    assert!(!not_sqlite.to_string().contains("secret"), "{not_sqlite}");
}

#[tokio::test]
async fn the_journal_reads_back_in_order() {
    let dir = TempDir::new("sqlite-journal").unwrap();
    let store = SqliteStore::connect(&dir.sqlite_url("j.db")).await.unwrap();
    store.migrate().await.unwrap();
    let id = MessageId::random();
    let m = message();
    let entries = common::journal_entries(&id, &m);
    for e in entries.clone() {
        store.record(e).await.unwrap();
    }
    let mine = store.journal_of(&id).await.unwrap();
    common::assert_same_entries(&mine, &entries[..3], 1_000);
    let page = store.journal_page(0, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    let rest = store.journal_page(page[1].0, 10).await.unwrap();
    assert_eq!(rest.len(), 2);
    common::assert_same_entries(&[rest[1].1.clone()], &entries[3..], 1_000);
    assert!(matches!(rest[1].1.record, JournalRecord::Failed { .. }));
}

#[tokio::test]
async fn an_in_memory_database_works_on_one_connection() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let key = MessageKey::new("k").unwrap();
    let fp = message().fingerprint();
    assert!(matches!(
        store.claim(&key, &fp, "a", Duration::from_secs(30)).await.unwrap(),
        Claim::Acquired(_)
    ));
    assert!(matches!(
        store.claim(&key, &fp, "b", Duration::from_secs(30)).await.unwrap(),
        Claim::InFlight { .. }
    ));
}

/// Four processes claim the same 40 keys and reserve numbers from one sequence in one file: each key
/// is acquired by exactly one process, and no number is handed out twice.
#[test]
fn several_processes_claim_each_key_once() {
    let dir = TempDir::new("sqlite-processes").unwrap();
    let url = dir.sqlite_url("shared.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = SqliteStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
    });
    common::race_processes("sqlite::child_process_entry", &url, None, dir.path(), 4, 40);
}

/// The body of each child process in the multi-process tests (run by them with `--ignored`; on its
/// own it has nothing to do).
#[tokio::test]
#[ignore = "run by several_processes_claim_each_key_once as a child process"]
async fn child_process_entry() {
    common::child(|url, _schema| async move {
        let store = SqliteStore::connect(&url).await.expect("child: open the store");
        Arc::new(store) as Arc<dyn Store>
    })
    .await;
}

//! Worker processes killed with SIGKILL mid-batch lose nothing and send nothing twice.
//!
//! For each backend (PostgreSQL, then a SQLite file) and each of several runs: the test queues
//! messages, starts two worker processes (this binary, re-executed) that drain the outbox through the
//! Messenger's durable path to the SMS.ru simulator on loopback (every answer slowed a little, so
//! requests are in flight), kills one with SIGKILL once a quarter of the messages were accepted,
//! starts a replacement, waits for the outbox to settle, and then checks every message: accepted and
//! at the simulator exactly once, or flagged "may have been sent" (at the simulator at most once) —
//! never twice, never missing, never a dead letter.
//!
//! `SB_OUTBOX_CRASH_RUNS` (default 3) and `SB_OUTBOX_CRASH_MESSAGES` (default 200) size it.
//! The worker processes are this test binary re-executed on [`worker_process_entry`].

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::Fault;
use switchboard::store::MessageKey;
use switchboard::{Message, Messenger, transport_from_dsn};
use switchboard_store::outbox::{Job, JobState, PostgresOutbox, SqliteOutbox, WorkerOptions};
use switchboard_store::testing::{TempDir, postgres, unique_name};
use switchboard_store::{PostgresStore, SqliteStore, StoreOptions};

/// Set in a worker process: `backend|url|schema-or-empty|simulator DSN`.
const WORKER: &str = "SB_OUTBOX_CRASH_WORKER";

/// How long a worker holds a job, and the Messenger a key, before others may act on it: short, so
/// that the killed worker's jobs come back within the test.
const LEASE: Duration = Duration::from_secs(1);

/// The test: for PostgreSQL (when a server can be started) and a SQLite file, `SB_OUTBOX_CRASH_RUNS`
/// runs of [`crash_run`]. Its own runtime with two worker threads, as each worker process has.
#[test]
fn sigkilled_workers_lose_nothing_and_send_nothing_twice() {
    let runs: usize = env_number("SB_OUTBOX_CRASH_RUNS", 3);
    let messages: usize = env_number("SB_OUTBOX_CRASH_MESSAGES", 200);
    runtime().block_on(async {
        match postgres() {
            Some(server) => {
                for run in 0..runs {
                    let schema = unique_name("crash_");
                    crash_run(Db::Postgres(server.url().to_owned(), schema), run, messages).await;
                }
            }
            None => eprintln!("PostgreSQL runs skipped (see above)"),
        }
        let dir = TempDir::new("outbox-crash").expect("a temp dir");
        for run in 0..runs {
            let url = dir.sqlite_url(&format!("run-{run}.db"));
            crash_run(Db::Sqlite(url), run, messages).await;
        }
    });
}

/// The body of each worker process (the test re-executes this binary with `--ignored` and the worker's
/// spec in `SB_OUTBOX_CRASH_WORKER`; on its own it has nothing to do).
#[test]
#[ignore = "run by sigkilled_workers_lose_nothing_and_send_nothing_twice as a child process"]
fn worker_process_entry() {
    if let Ok(spec) = std::env::var(WORKER) {
        runtime().block_on(worker(&spec));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Clone)]
enum Db {
    Postgres(String, String),
    Sqlite(String),
}

/// One outbox, either backend, with just what this test needs.
enum Outbox {
    Postgres(PostgresOutbox, Arc<PostgresStore>),
    Sqlite(SqliteOutbox, Arc<SqliteStore>),
}

impl Db {
    fn spec(&self, dsn: &str) -> String {
        match self {
            Db::Postgres(url, schema) => format!("postgres|{url}|{schema}|{dsn}"),
            Db::Sqlite(url) => format!("sqlite|{url}||{dsn}"),
        }
    }

    async fn open(&self) -> Outbox {
        match self {
            Db::Postgres(url, schema) => {
                let store = PostgresStore::connect_with(url, StoreOptions::new().schema(schema).max_connections(12))
                    .await
                    .expect("connect");
                store.migrate().await.expect("migrate");
                Outbox::Postgres(PostgresOutbox::new(&store), Arc::new(store))
            }
            Db::Sqlite(url) => {
                let store = SqliteStore::connect(url).await.expect("open");
                store.migrate().await.expect("migrate");
                Outbox::Sqlite(SqliteOutbox::new(&store), Arc::new(store))
            }
        }
    }
}

impl Outbox {
    fn store(&self) -> Arc<dyn switchboard::Store> {
        match self {
            Outbox::Postgres(_, s) => s.clone(),
            Outbox::Sqlite(_, s) => s.clone(),
        }
    }

    async fn enqueue(&self, m: &Message) {
        match self {
            Outbox::Postgres(o, _) => o.enqueue_on_pool(m, None).await.map(drop),
            Outbox::Sqlite(o, _) => o.enqueue_on_pool(m, None).await.map(drop),
        }
        .expect("enqueue");
    }

    async fn open_jobs(&self) -> u64 {
        match self {
            Outbox::Postgres(o, _) => o.counts().await,
            Outbox::Sqlite(o, _) => o.counts().await,
        }
        .map_or(u64::MAX, |c| c.open())
    }

    async fn all(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for state in JobState::ALL {
            let mut after = None;
            loop {
                let page = match self {
                    Outbox::Postgres(o, _) => o.list(state, after, 500).await,
                    Outbox::Sqlite(o, _) => o.list(state, after, 500).await,
                }
                .expect("list");
                let Some(last) = page.last() else { break };
                after = Some(last.id);
                jobs.extend(page);
            }
        }
        jobs
    }

    fn worker(&self, sender: Arc<Messenger>, options: WorkerOptions) -> switchboard_store::outbox::Worker {
        match self {
            Outbox::Postgres(o, _) => o.worker(sender, options),
            Outbox::Sqlite(o, _) => o.worker(sender, options),
        }
    }
}

/// A worker process: drains the outbox until no job is open, then exits.
async fn worker(spec: &str) {
    let parts: Vec<&str> = spec.splitn(4, '|').collect();
    let [backend, url, schema, dsn] = parts.as_slice() else {
        panic!("worker: a malformed spec")
    };
    let db = match *backend {
        "postgres" => Db::Postgres((*url).to_owned(), (*schema).to_owned()),
        _ => Db::Sqlite((*url).to_owned()),
    };
    let outbox = db.open().await;
    let messenger = Arc::new(
        Messenger::builder()
            .transport("sms", transport_from_dsn(dsn).expect("worker: the simulator's DSN"))
            .store(outbox.store())
            .lease(LEASE)
            .build()
            .expect("worker: a messenger"),
    );
    let options = WorkerOptions::new()
        .concurrency(8)
        .lease(LEASE)
        .poll_interval(Duration::from_millis(20))
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(500));
    let worker = outbox.worker(messenger, options);
    worker
        .run(async {
            while outbox.open_jobs().await != 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
}

fn spawn_worker(spec: &str) -> Child {
    Command::new(std::env::current_exe().expect("this binary's path"))
        .args([
            "outbox_crash::worker_process_entry",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WORKER, spec)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn a worker process")
}

async fn crash_run(db: Db, run: usize, n: usize) {
    let label = match &db {
        Db::Postgres(..) => "postgres",
        Db::Sqlite(_) => "sqlite",
    };
    let outbox = db.open().await;
    let sim = switchboard_smsru::sim::Simulator::start().await;
    // Every answer comes 20 ms late, so a killed worker has requests in flight.
    sim.faults().push_n(Fault::Delay(Duration::from_millis(20)), 4 * n);
    for i in 0..n {
        let m = Message::sms("+79161234567".parse().expect("number"), format!("crash {run} {i}"))
            .with_key(MessageKey::new(format!("crash-{run}-{i}")).expect("key"));
        outbox.enqueue(&m).await;
    }
    let spec = db.spec(&sim.dsn());
    let mut victim = spawn_worker(&spec);
    let mut survivor = spawn_worker(&spec);
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.sent().len() < n / 4 {
        assert!(
            Instant::now() < deadline,
            "{label} run {run}: the workers accepted too little"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    victim.kill().expect("SIGKILL the worker");
    let killed_at = sim.sent().len();
    let _ = victim.wait();
    let mut restarted = spawn_worker(&spec);
    for (name, child) in [("survivor", &mut survivor), ("restarted", &mut restarted)] {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(status) = child.try_wait().expect("a worker's status") {
                assert!(
                    status.success(),
                    "{label} run {run}: the {name} worker failed: {status}"
                );
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{label} run {run}: the {name} worker did not finish");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let mut at_sim: HashMap<String, Vec<String>> = HashMap::new();
    for s in sim.sent() {
        at_sim.entry(s.text.clone()).or_default().push(s.id.clone());
    }
    let jobs = outbox.all().await;
    assert_eq!(jobs.len(), n, "{label} run {run}: every message is still there");
    let (mut accepted, mut maybe, mut maybe_landed) = (0, 0, 0);
    for job in &jobs {
        let landed = at_sim.get(&job.message.text).map_or(&[][..], Vec::as_slice);
        assert!(
            landed.len() <= 1,
            "{label} run {run}: '{}' reached the provider {} times",
            job.message.text,
            landed.len()
        );
        match job.state {
            JobState::Accepted => {
                accepted += 1;
                let receipt = job.receipt.as_ref().expect("an accepted job keeps its receipt");
                assert_eq!(
                    landed,
                    [receipt.provider_id().to_owned()],
                    "{label} run {run}: '{}' is accepted once, with the simulator's id",
                    job.message.text
                );
            }
            JobState::MaybeSent => {
                maybe += 1;
                maybe_landed += landed.len();
            }
            other => panic!(
                "{label} run {run}: '{}' ended {other}: {:?}",
                job.message.text, job.error
            ),
        }
    }
    let texts: std::collections::HashSet<&str> = jobs.iter().map(|j| j.message.text.as_str()).collect();
    assert!(
        at_sim.keys().all(|t| texts.contains(t.as_str())),
        "{label} run {run}: the simulator holds a stranger"
    );
    println!(
        "{label} run {run}: {n} messages, SIGKILL after {killed_at} accepted; {accepted} accepted once, \
         {maybe} flagged may-have-been-sent ({maybe_landed} of them had reached the provider), 0 twice, 0 lost"
    );
}

//! The outbox's throughput and memory, against the SMS.ru simulator on loopback (see BENCHMARKS.md).
//!
//! ```text
//! cargo run --release -p switchboard-store --features outbox,sqlite,postgres,testing --example outbox_bench -- send N
//! cargo run --release -p switchboard-store --features outbox,sqlite,postgres,testing --example outbox_bench -- sqlite N
//! cargo run --release -p switchboard-store --features outbox,sqlite,postgres,testing --example outbox_bench -- postgres N
//! cargo run --release -p switchboard-store --features outbox,sqlite,postgres,testing --example outbox_bench -- processes N P
//! ```
//!
//! * `send N`: `Messenger::send` without a store, 16 at a time — the baseline.
//! * `sqlite N` / `postgres N`: N messages queued (100 per transaction), then drained by one worker
//!   (16 sends at a time) through a Messenger on the same store: enqueue → accepted.
//! * `processes N P`: N messages on one PostgreSQL drained by P worker processes (this binary,
//!   re-executed); checks that every message was accepted exactly once at the simulator, and reports
//!   each worker's resident memory over time.
//!
//! PostgreSQL is a throwaway cluster (`switchboard_store::testing`), or `SWITCHBOARD_TEST_POSTGRES_URL`.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use switchboard::core::simulated::Simulated;
use switchboard::store::MessageKey;
use switchboard::{Message, Messenger, transport_from_dsn};
use switchboard_store::outbox::{PostgresOutbox, SqliteOutbox, WorkerOptions};
use switchboard_store::testing::{TempDir, postgres, unique_name};
use switchboard_store::{PostgresStore, SqliteStore, StoreOptions};

const WORKER: &str = "SB_OUTBOX_BENCH_WORKER";
const CONCURRENCY: usize = 16;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if let Ok(spec) = std::env::var(WORKER) {
        return rt.block_on(worker(&spec));
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    match args.first().map(String::as_str) {
        Some("send") => rt.block_on(baseline(n)),
        Some("sqlite") => rt.block_on(in_process(false, n)),
        Some("postgres") => rt.block_on(in_process(true, n)),
        Some("processes") => {
            let p: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(4);
            rt.block_on(processes(n, p))
        }
        _ => Err("usage: outbox_bench send|sqlite|postgres N | processes N P".into()),
    }
}

fn sms(i: usize) -> Message {
    Message::sms(
        "+79161234567".parse().expect("a valid number"),
        format!("bench message {i}"),
    )
}

fn messenger(dsn: &str, store: Option<Arc<dyn switchboard::Store>>) -> Res<Arc<Messenger>> {
    let mut b = Messenger::builder().transport("sms", transport_from_dsn(dsn)?);
    if let Some(s) = store {
        b = b.store(s);
    }
    Ok(Arc::new(b.build()?))
}

fn rate(n: usize, d: Duration) -> String {
    format!("{n} in {:.2}s = {:.0}/s", d.as_secs_f64(), n as f64 / d.as_secs_f64())
}

async fn baseline(n: usize) -> Res<()> {
    let sim = switchboard_smsru::sim::Simulator::start().await;
    // Enough balance for any run: the simulator refuses sends (code 201) once 1000 ₽ are spent.
    sim.set_balance_kopecks(i64::MAX / 4);
    let m = messenger(&sim.dsn(), None)?;
    let t = Instant::now();
    let results: Vec<_> = futures::stream::iter(0..n)
        .map(|i| {
            let m = m.clone();
            async move { m.send(sms(i)).await }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let took = t.elapsed();
    let failed = results.iter().filter(|r| r.is_err()).count();
    println!("Messenger::send, no store: {} ({failed} failed)", rate(n, took));
    Ok(())
}

async fn in_process(pg: bool, n: usize) -> Res<()> {
    let sim = switchboard_smsru::sim::Simulator::start().await;
    // Enough balance for any run: the simulator refuses sends (code 201) once 1000 ₽ are spent.
    sim.set_balance_kopecks(i64::MAX / 4);
    let dir = TempDir::new("outbox-bench")?;
    let server = if pg { postgres() } else { None };
    let t = Instant::now();
    let drained = if pg {
        let server = server.ok_or("no PostgreSQL")?;
        let store = PostgresStore::connect_with(
            server.url(),
            StoreOptions::new().schema(unique_name("bench_")).max_connections(20),
        )
        .await?;
        store.migrate().await?;
        let outbox = PostgresOutbox::new(&store);
        for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
            let mut tx = store.pool().begin().await?;
            for i in chunk {
                outbox.enqueue(&mut tx, &sms(*i)).await?;
            }
            tx.commit().await?;
        }
        println!("postgres enqueue: {}", rate(n, t.elapsed()));
        let sender = messenger(&sim.dsn(), Some(Arc::new(store)))?;
        let t = Instant::now();
        let done = outbox
            .worker(sender, WorkerOptions::new().concurrency(CONCURRENCY))
            .drain()
            .await?;
        (done, t.elapsed())
    } else {
        let store = SqliteStore::connect(&dir.sqlite_url("bench.db")).await?;
        store.migrate().await?;
        let outbox = SqliteOutbox::new(&store);
        for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
            let mut tx = store.pool().begin_with("BEGIN IMMEDIATE").await?;
            for i in chunk {
                outbox.enqueue(&mut tx, &sms(*i)).await?;
            }
            tx.commit().await?;
        }
        println!("sqlite enqueue: {}", rate(n, t.elapsed()));
        let sender = messenger(&sim.dsn(), Some(Arc::new(store)))?;
        let t = Instant::now();
        let done = outbox
            .worker(sender, WorkerOptions::new().concurrency(CONCURRENCY))
            .drain()
            .await?;
        (done, t.elapsed())
    };
    println!(
        "{} drain (queued → accepted, 1 worker, {CONCURRENCY} at a time): {}; end to end {}",
        if pg { "postgres" } else { "sqlite" },
        rate(drained.0 as usize, drained.1),
        rate(n, t.elapsed())
    );
    let at_sim = sim.sent().len();
    if at_sim != n || drained.0 as usize != n {
        return Err(format!("{at_sim} at the simulator, {} settled, {n} queued", drained.0).into());
    }
    Ok(())
}

/// This process's resident memory now and at its peak, in KiB (Linux).
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn worker(spec: &str) -> Res<()> {
    let (url, rest) = spec.split_once('|').ok_or("a malformed spec")?;
    let (schema, dsn) = rest.split_once('|').ok_or("a malformed spec")?;
    let store = PostgresStore::connect_with(url, StoreOptions::new().schema(schema).max_connections(20)).await?;
    let outbox = PostgresOutbox::new(&store);
    let sender = messenger(dsn, Some(Arc::new(store)))?;
    let w = outbox.worker(sender, WorkerOptions::new().concurrency(CONCURRENCY));
    let mut samples = Vec::new();
    let started = Instant::now();
    let settled = w
        .run(async {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                samples.push(rss().0);
                if outbox.counts().await.is_ok_and(|c| c.open() == 0) {
                    break;
                }
            }
        })
        .await;
    let (_, peak) = rss();
    let samples: Vec<String> = samples.iter().map(|s| (s / 1024).to_string()).collect();
    println!(
        "settled {settled} in {:.1}s; peak RSS {} MiB; RSS each second (MiB): {}",
        started.elapsed().as_secs_f64(),
        peak / 1024,
        samples.join(" ")
    );
    Ok(())
}

async fn processes(n: usize, p: usize) -> Res<()> {
    let server = postgres().ok_or("no PostgreSQL")?;
    let schema = unique_name("bench_");
    let store = PostgresStore::connect_with(server.url(), StoreOptions::new().schema(&schema)).await?;
    store.migrate().await?;
    let outbox = PostgresOutbox::new(&store);
    let sim = switchboard_smsru::sim::Simulator::start().await;
    // Enough balance for any run: the simulator refuses sends (code 201) once 1000 ₽ are spent.
    sim.set_balance_kopecks(i64::MAX / 4);
    let t = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut tx = store.pool().begin().await?;
        for i in chunk {
            let m = sms(*i).with_key(MessageKey::new(format!("bench-{i}"))?);
            outbox.enqueue(&mut tx, &m).await?;
        }
        tx.commit().await?;
    }
    println!("enqueue: {}", rate(n, t.elapsed()));
    let spec = format!("{}|{schema}|{}", server.url(), sim.dsn());
    let t = Instant::now();
    let children: Vec<_> = (0..p)
        .map(|_| {
            Command::new(std::env::current_exe().expect("this binary"))
                .env(WORKER, &spec)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let outputs: Vec<_> =
        tokio::task::spawn_blocking(move || children.into_iter().map(|c| c.wait_with_output()).collect::<Vec<_>>())
            .await?;
    let took = t.elapsed();
    for (i, out) in outputs.into_iter().enumerate() {
        let out = out?;
        println!(
            "worker {i} ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for s in sim.sent() {
        *seen.entry(s.text).or_default() += 1;
    }
    let duplicates: usize = seen.values().map(|c| c.saturating_sub(1)).sum();
    let lost = (0..n)
        .filter(|i| !seen.contains_key(&format!("bench message {i}")))
        .count();
    let counts = outbox.counts().await?;
    println!(
        "{p} processes drained {}: {duplicates} duplicates, {lost} lost; outbox: {} accepted, {} may have been sent, {} dead",
        rate(n, took),
        counts.accepted,
        counts.maybe_sent,
        counts.dead
    );
    if duplicates > 0 || lost > 0 {
        return Err("duplicates or losses".into());
    }
    Ok(())
}

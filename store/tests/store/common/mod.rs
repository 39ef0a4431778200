//! What the SQLite and PostgreSQL tests share: journal fixtures and the multi-process race, in which
//! the test binary re-runs itself as several child processes claiming the same keys.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard_core::journal::{JournalEntry, JournalRecord};
use switchboard_core::message::{Message, MessageId, Receipt};
use switchboard_core::store::{Claim, MessageKey, Store};
use switchboard_core::{Error, ErrorKind};

/// Four entries: three about `id` (attempt, failure, acceptance), one about nothing in particular.
pub fn journal_entries(id: &MessageId, m: &Message) -> Vec<JournalEntry> {
    vec![
        JournalEntry::new(
            Some(id.clone()),
            JournalRecord::Attempt {
                transport: "gsm".into(),
                attempt: 1,
                to: m.to.clone(),
            },
        ),
        JournalEntry::new(
            Some(id.clone()),
            JournalRecord::failed("gsm", &Error::new(ErrorKind::Timeout, "slow")),
        ),
        JournalEntry::new(
            Some(id.clone()),
            JournalRecord::Accepted {
                receipt: Box::new(Receipt::new("cloud", m, "c-1").with_raw(serde_json::json!({"nul": "a\u{0}b"}))),
            },
        ),
        JournalEntry::new(
            None,
            JournalRecord::failed("cloud", &Error::new(ErrorKind::Auth, "bad key")),
        ),
    ]
}

/// Journal entries read back equal those recorded, except that times are kept only to `precision_us`
/// microseconds (a millisecond on SQLite, a microsecond on PostgreSQL).
pub fn assert_same_entries(got: &[JournalEntry], recorded: &[JournalEntry], precision_us: i64) {
    assert_eq!(got.len(), recorded.len(), "{got:?}");
    for (g, r) in got.iter().zip(recorded) {
        assert_eq!(g.message_id, r.message_id);
        assert_eq!(g.record, r.record, "the record comes back as it was");
        let diff = (g.at - r.at).num_microseconds().unwrap_or(i64::MAX).abs();
        assert!(diff < precision_us, "time {} recorded as {}", g.at, r.at);
    }
}

const KEYS: &str = "SB_CHILD_KEYS";
const URL: &str = "SB_CHILD_URL";
const SCHEMA: &str = "SB_CHILD_SCHEMA";
const OUT: &str = "SB_CHILD_OUT";
const READY: &str = "SB_CHILD_READY";
const GO: &str = "SB_CHILD_GO";

/// Runs `processes` copies of this test binary's ignored test `entry` against the store at `url`
/// (tables in `schema` when given), each claiming the same `keys` keys and reserving numbers from one
/// sequence, all released at once. Asserts each key was acquired by exactly one process and the
/// reserved ranges neither overlap nor leave gaps.
pub fn race_processes(entry: &str, url: &str, schema: Option<&str>, dir: &Path, processes: usize, keys: usize) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let go = dir.join("go");
    let mut children = Vec::new();
    for i in 0..processes {
        let mut cmd = Command::new(&exe);
        cmd.args([entry, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(URL, url)
            .env(KEYS, keys.to_string())
            .env(OUT, dir.join(format!("out-{i}")))
            .env(READY, dir.join(format!("ready-{i}")))
            .env(GO, &go)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(s) = schema {
            cmd.env(SCHEMA, s);
        }
        children.push(cmd.spawn().expect("spawn a child process"));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(0..processes).all(|i| dir.join(format!("ready-{i}")).exists()) {
        assert!(Instant::now() < deadline, "the child processes did not get ready");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::fs::write(&go, b"go").expect("release the children");
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("wait for a child");
        assert!(
            out.status.success(),
            "child {i} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let mut owners: HashMap<String, Vec<usize>> = HashMap::new();
    let mut ranges: BTreeMap<u64, (u64, usize)> = BTreeMap::new();
    for i in 0..processes {
        let text = std::fs::read_to_string(dir.join(format!("out-{i}"))).expect("a child's results");
        for line in text.lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["key", k] => owners.entry((*k).to_owned()).or_default().push(i),
                ["ids", first, n] => {
                    let (first, n) = (first.parse().unwrap(), n.parse().unwrap());
                    assert!(
                        ranges.insert(first, (n, i)).is_none(),
                        "number {first} handed out twice"
                    );
                }
                _ => panic!("unexpected line from child {i}: {line}"),
            }
        }
    }
    assert_eq!(owners.len(), keys, "every key was acquired by someone: {owners:?}");
    for (k, who) in &owners {
        assert_eq!(who.len(), 1, "key {k} was acquired by processes {who:?}");
    }
    let winners: std::collections::HashSet<usize> = owners.values().map(|w| w[0]).collect();
    eprintln!("{} keys were won by {} of {processes} processes", keys, winners.len());
    let mut expect = 1;
    for (first, (n, _)) in &ranges {
        assert_eq!(*first, expect, "ranges overlap or leave a gap: {ranges:?}");
        expect += n;
    }
}

/// The child process's side of [`race_processes`]: opens the store with `open(url, schema)`, waits for
/// the start signal, claims every key, reserves numbers, and writes what it won.
pub async fn child<F, Fut>(open: F)
where
    F: FnOnce(String, Option<String>) -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let Ok(url) = std::env::var(URL) else {
        eprintln!("this entry point is run by the multi-process tests as a child; alone it does nothing");
        return;
    };
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("child: {k} is not set"));
    let keys: usize = env(KEYS).parse().expect("child: key count");
    let store = open(url, std::env::var(SCHEMA).ok()).await;
    std::fs::write(env(READY), b"ready").expect("child: signal ready");
    let go = env(GO);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !Path::new(&go).exists() {
        assert!(Instant::now() < deadline, "child: never released");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let fp = Message::sms("+355694123456".parse().expect("number"), "race").fingerprint();
    let me = format!("pid-{}", std::process::id());
    let mut out = String::new();
    // Each process goes through the keys in its own random order, so they collide all over the range
    // rather than one process winning the first key and staying ahead.
    let mut order: Vec<usize> = (0..keys).collect();
    switchboard_core::random::shuffle(order.as_mut_slice());
    for k in order {
        let key = MessageKey::new(format!("race-{k}")).expect("key");
        match store.claim(&key, &fp, &me, Duration::from_secs(60)).await {
            Ok(Claim::Acquired(_)) => out.push_str(&format!("key race-{k}\n")),
            Ok(Claim::InFlight { .. }) => {}
            other => panic!("child: claim of race-{k} gave {other:?}"),
        }
    }
    for i in 0..30u32 {
        let n = 1 + i % 3;
        let first = store.next_ids("race", n).await.expect("child: next_ids");
        out.push_str(&format!("ids {first} {n}\n"));
    }
    let mut f = std::fs::File::create(env(OUT)).expect("child: results file");
    f.write_all(out.as_bytes()).expect("child: write results");
}

//! `send --store --key`: each recipient's message goes out once across runs and across processes
//! running at the same time on one store.

use std::collections::HashMap;
use std::io::Write;

use switchboard::core::simulated::Simulated;
use switchboard::smsru::sim::Simulator;

use super::run::run_with;

#[tokio::test]
async fn three_processes_on_one_sqlite_store_send_each_recipient_once() {
    let sim = Simulator::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("keys.db").display());
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let numbers: Vec<String> = (0..12).map(|i| format!("+7925507{:04}", 2000 + i)).collect();
    for n in &numbers {
        writeln!(file, "{n}").unwrap();
    }
    file.flush().unwrap();
    let dsn = sim.dsn();
    let path = file.path().to_str().unwrap().to_owned();
    let args = |dsn: &str| {
        vec![
            "send".to_owned(),
            "--dsn".into(),
            dsn.into(),
            "--text".into(),
            "Your order is on its way".into(),
            "--to-file".into(),
            path.clone(),
            "--store".into(),
            store.clone(),
            "--key".into(),
            "order-72".into(),
        ]
    };
    let (a, b, c) = tokio::join!(
        run_with(args(&dsn), b"", &[]),
        run_with(args(&dsn), b"", &[]),
        run_with(args(&dsn), b"", &[])
    );
    let mut accepted: HashMap<String, usize> = HashMap::new();
    let mut ids: HashMap<String, Vec<String>> = HashMap::new();
    for o in [&a, &b, &c] {
        assert_eq!(o.code, 0, "{o:?}");
        assert_eq!(o.lines().len(), numbers.len(), "{o:?}");
        for l in o.lines() {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f[1] == "queued" || f[1] == "duplicate", "{l}");
            if f[1] == "queued" {
                *accepted.entry(f[0].to_owned()).or_default() += 1;
            }
            ids.entry(f[0].to_owned()).or_default().push(f[2].to_owned());
        }
    }
    // Each recipient: one process sent it, the others answered its id.
    for n in &numbers {
        assert_eq!(accepted.get(n), Some(&1), "{n}: {accepted:?}");
        let i = &ids[n];
        assert!(i.iter().all(|x| x == &i[0]), "{n}: {i:?}");
    }
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    for r in sim.sent() {
        *per_recipient.entry(r.to.clone()).or_default() += 1;
    }
    assert_eq!(per_recipient.len(), numbers.len(), "{per_recipient:?}");
    assert!(per_recipient.values().all(|n| *n == 1), "{per_recipient:?}");

    // A later run with the same key sends nothing again.
    let o = run_with(["-o", "json"].iter().map(|s| s.to_string()).chain(args(&dsn)), b"", &[]).await;
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.json()
            .iter()
            .all(|j| j["status"] == "duplicate" && j["ids"].as_array().is_some_and(|a| !a.is_empty()))
    );
    assert_eq!(sim.sent().len(), numbers.len());

    // --store and --key go together.
    let o = run_with(
        [
            "send",
            "--dsn",
            &dsn,
            "--text",
            "x",
            "--to",
            "+79255070602",
            "--key",
            "k",
        ],
        b"",
        &[],
    )
    .await;
    assert_eq!(o.code, 2, "{o:?}");
}

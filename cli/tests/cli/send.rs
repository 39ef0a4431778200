//! `send` (lines in input order, exit statuses, -o json, streamed files, dry run), `status`, and where
//! the DSN comes from (flag, environment, profile), with secrets never echoed.

use std::io::Write;

use switchboard::core::simulated::Simulated;
use switchboard::smsru::sim::Simulator;

use super::run::{run, run_with};

#[tokio::test]
async fn send_prints_one_line_per_recipient_in_input_order() {
    let sim = Simulator::start().await;
    let dsn = sim.dsn();
    let o = run(&[
        "send",
        "--dsn",
        &dsn,
        "--text",
        "Hi",
        "--to",
        "+79255070602",
        "--to",
        "nope",
        "--to",
        "8 925 507-06-03",
        "--default-region",
        "RU",
    ])
    .await;
    assert_eq!(o.code, 1, "an invalid recipient makes the exit status 1: {o:?}");
    let lines: Vec<Vec<&str>> = o.lines().iter().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 3, "{o:?}");
    // Sends run concurrently, so the simulator's order may differ from the input's: match by id.
    let sent = sim.sent();
    assert_eq!(sent.len(), 2);
    let to_of = |id: &str| {
        sent.iter()
            .find(|r| r.id == id)
            .map(|r| r.to.trim_start_matches('+').to_owned())
    };
    assert_eq!(&lines[0][..2], ["+79255070602", "queued"]);
    assert_eq!(to_of(lines[0][2]).as_deref(), Some("79255070602"));
    assert_eq!(&lines[1][..2], ["nope", "invalid"]);
    assert_eq!(&lines[2][..2], ["+79255070603", "queued"]);
    assert_eq!(to_of(lines[2][2]).as_deref(), Some("79255070603"));
    assert!(
        o.stderr.contains("3 recipient(s)") && o.stderr.contains("2 accepted"),
        "{}",
        o.stderr
    );

    let o = run(&["send", "--dsn", &dsn, "--text", "Hi", "--to", "+79255070604"]).await;
    assert_eq!(o.code, 0, "{o:?}");

    // A send the provider refuses: a failed line, exit 1, and in JSON the kind and dispatch fact.
    sim.fail_next(switchboard::core::testkit::Fault::Status(500));
    let o = run(&[
        "-o",
        "json",
        "send",
        "--dsn",
        &dsn,
        "--text",
        "Hi",
        "--to",
        "+79255070605",
        "--to",
        "x",
    ])
    .await;
    assert_eq!(o.code, 1, "{o:?}");
    let j = o.json();
    assert_eq!(j[0]["recipient"], "+79255070605");
    assert_eq!(j[0]["status"], "failed");
    assert!(j[0]["kind"].is_string() && j[0]["dispatch"].is_string(), "{}", j[0]);
    assert_eq!(
        (&j[1]["status"], &j[1]["kind"], &j[1]["dispatch"]),
        (&"invalid".into(), &"invalid_input".into(), &"not_sent".into())
    );
}

#[tokio::test]
async fn json_lines_carry_ids_and_transport_and_groups_work() {
    let a = Simulator::start().await;
    let b = Simulator::start().await;
    let dsn = format!("failover({} {})", a.dsn(), b.dsn());
    let o = run(&[
        "-o",
        "json",
        "send",
        "--dsn",
        &dsn,
        "--text",
        "Hi",
        "--to",
        "+79255070602",
    ])
    .await;
    assert_eq!(o.code, 0, "{o:?}");
    let j = &o.json()[0];
    assert_eq!(j["recipient"], "+79255070602");
    assert_eq!(j["status"], "queued");
    assert_eq!(j["transport"], "smsru");
    assert_eq!(j["ids"][0].as_str(), Some(a.sent()[0].id.as_str()));
    assert!(b.sent().is_empty());
}

#[tokio::test]
async fn a_streamed_file_keeps_input_order_under_concurrency() {
    let sim = Simulator::start().await;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let mut expected = Vec::new();
    for i in 0..40 {
        let n = format!("+7925507{:04}", 1000 + i);
        writeln!(file, "{n}").unwrap();
        if i == 3 {
            writeln!(file, "   ").unwrap();
            file.write_all(b"\xff\xfe\n").unwrap();
        }
        expected.push(n);
    }
    file.flush().unwrap();
    let path = file.path().to_str().unwrap();
    let o = run(&[
        "send",
        "--dsn",
        &sim.dsn(),
        "--text",
        "Hi",
        "--to-file",
        path,
        "--concurrency",
        "6",
    ])
    .await;
    assert_eq!(o.code, 1, "the line that is not UTF-8 is invalid: {o:?}");
    let lines = o.lines();
    assert_eq!(lines.len(), 41, "{o:?}");
    assert!(
        lines[4].ends_with("\tinvalid\tthe line is not valid UTF-8"),
        "{}",
        lines[4]
    );
    let numbers: Vec<&str> = lines
        .iter()
        .filter(|l| !l.contains("\tinvalid\t"))
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(numbers, expected);
    assert_eq!(sim.sent().len(), 40);

    // In batches through the bulk path: the same lines in the same order.
    let o = run(&[
        "send",
        "--dsn",
        &sim.dsn(),
        "--text",
        "Hi",
        "--to-file",
        path,
        "--batch",
        "7",
        "--concurrency",
        "3",
    ])
    .await;
    assert_eq!(o.code, 1, "{o:?}");
    let batched: Vec<&str> = o.lines().iter().map(|l| l.split('\t').next().unwrap()).collect();
    let first: Vec<&str> = lines.iter().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(batched, first);
    assert!(
        o.lines()[4].ends_with("\tinvalid\tthe line is not valid UTF-8"),
        "{}",
        o.lines()[4]
    );
    assert_eq!(sim.sent().len(), 80);
}

#[tokio::test]
async fn a_dry_run_sends_nothing_and_shows_route_segments_cost_and_smart_saving() {
    let sim = Simulator::start().await;
    let text = format!("“{}”", "a".repeat(98));
    let o = run(&[
        "-o",
        "json",
        "send",
        "--dsn",
        &sim.dsn(),
        "--text",
        &text,
        "--to",
        "+79255070602",
        "--dry-run",
        "--smart-encoding",
    ])
    .await;
    assert_eq!(o.code, 0, "{o:?}");
    let j = &o.json()[0];
    assert_eq!(j["status"], "planned");
    assert_eq!(j["route"], serde_json::json!(["smsru"]));
    assert_eq!(j["transport"], "smsru");
    assert_eq!(j["encoding"], "GSM-7");
    assert_eq!(
        (j["segments"].as_u64(), j["segments_without_smart"].as_u64()),
        (Some(1), Some(2)),
        "{j}"
    );
    assert!(j["cost"]["amount"].is_string() && j["cost"]["currency"] == "RUB", "{j}");

    let o = run(&[
        "send",
        "--dsn",
        &sim.dsn(),
        "--text",
        &text,
        "--to",
        "+79255070602",
        "--dry-run",
    ])
    .await;
    assert_eq!(o.code, 0, "{o:?}");
    let line = o.lines()[0];
    assert!(
        line.starts_with("+79255070602\tplanned\tsmsru (route smsru); UCS-2, 2 segment(s); cost "),
        "{line}"
    );
    assert!(
        sim.sent().is_empty(),
        "a dry run reached the send endpoint: {:?}",
        sim.sent()
    );
}

#[tokio::test]
async fn status_looks_an_id_up() {
    let sim = Simulator::start().await;
    let dsn = sim.dsn();
    let o = run(&["send", "--dsn", &dsn, "--text", "Hi", "--to", "+79255070602"]).await;
    let id = o.lines()[0].split('\t').nth(2).unwrap().to_owned();
    let o = run(&["status", "--dsn", &dsn, "--id", &id]).await;
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(o.stdout, format!("{id}\tqueued\t100\n"));
    let o = run(&["-o", "json", "status", "--dsn", &dsn, "--id", &id]).await;
    assert_eq!(
        o.json()[0],
        serde_json::json!({ "id": id, "status": "queued", "raw": "100", "code": null })
    );
    let o = run(&["status", "--dsn", &dsn, "--id", "999999-1"]).await;
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stdout.starts_with("999999-1\tfailed\t"), "{}", o.stdout);
}

#[tokio::test]
async fn the_dsn_comes_from_the_environment_then_a_profile() {
    let sim = Simulator::start().await;
    let dsn = sim.dsn();
    let args = ["send", "--text", "Hi", "--to", "+79255070602"];
    let o = run_with(args, b"", &[("SWITCHBOARD_DSN", &dsn)]).await;
    assert_eq!(o.code, 0, "{o:?}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!("[profiles.default]\ndsn = \"{dsn}\"\n\n[profiles.ru]\ndsn = \"{dsn}\"\ndefault_region = \"RU\"\n"),
    )
    .unwrap();
    let cfg = path.to_str().unwrap();
    let o = run_with(args, b"", &[("SWITCHBOARD_CONFIG", cfg)]).await;
    assert_eq!(o.code, 0, "the default profile: {o:?}");
    let local = ["send", "--text", "Hi", "--to", "8 925 507-06-09"];
    let o = run_with(
        local,
        b"",
        &[("SWITCHBOARD_CONFIG", cfg), ("SWITCHBOARD_PROFILE", "ru")],
    )
    .await;
    assert_eq!(
        o.lines()[0].split('\t').next(),
        Some("+79255070609"),
        "the profile's region: {o:?}"
    );
    let o = run_with(
        ["--profile", "ru"].iter().chain(&local),
        b"",
        &[("SWITCHBOARD_CONFIG", cfg)],
    )
    .await;
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(sim.sent().len(), 4);
    let o = run_with(
        ["--profile", "nosuch"].iter().chain(&args),
        b"",
        &[("SWITCHBOARD_CONFIG", cfg)],
    )
    .await;
    assert_eq!(o.code, 2, "{o:?}");
    assert!(o.stderr.contains("no profile 'nosuch'"), "{}", o.stderr);

    // `config show` says where it came from, with the secrets redacted.
    let o = run_with(["config", "show"], b"", &[("SWITCHBOARD_CONFIG", cfg)]).await;
    assert!(
        o.stdout.contains("dsn\tsmsru://5A1***@") && o.stdout.contains("profile 'default'"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("sim-callback-secret"), "{}", o.stdout);

    let o = run(&["send", "--text", "Hi", "--to", "+79255070602"]).await;
    assert_eq!(o.code, 2, "no DSN anywhere: {o:?}");
}

#[tokio::test]
async fn secrets_in_bad_dsns_and_config_files_never_reach_stderr() {
    for dsn in [
        "smsru://hunter2@",
        "nosuch://user:hunter2@host",
        "failover(smsru://hunter2@default?from=x nosuch://u:hunter2@h)",
        "twilio://AC1:hunter2@default",
    ] {
        let o = run(&["send", "--dsn", dsn, "--text", "Hi", "--to", "+79255070602"]).await;
        assert_eq!(o.code, 2, "{dsn}: {o:?}");
        assert!(
            !o.stderr.contains("hunter2") && !o.stdout.contains("hunter2"),
            "{dsn}: {o:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[profiles.default]\ndsn = \"smsru://hunter2@default\" oops\n").unwrap();
    let o = run_with(
        ["config", "show"],
        b"",
        &[("SWITCHBOARD_CONFIG", path.to_str().unwrap())],
    )
    .await;
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.stderr.contains("line 2") && !o.stderr.contains("hunter2"),
        "{}",
        o.stderr
    );
}

//! The commands that need no provider: normalize, segments, completions, --version, and what the
//! binary does with input that is not UTF-8.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use super::run::{run, run_with};

#[tokio::test]
async fn normalize_answers_each_line_in_place() {
    let o = run_with(
        ["normalize", "--default-region", "AL"],
        b"069 412 3456\nnope\n\xff\xfe\r\n+79255070602\r\n",
        &[],
    )
    .await;
    assert_eq!(o.code, 0, "{o:?}");
    let lines = o.lines();
    assert_eq!(lines.len(), 4, "{o:?}");
    assert_eq!(lines[0], "+355694123456");
    assert!(lines[1].starts_with("error: "), "{}", lines[1]);
    assert_eq!(lines[2], "error: the line is not valid UTF-8");
    assert_eq!(lines[3], "+79255070602");

    let o = run_with(
        ["-o", "json", "normalize", "--default-region", "AL"],
        b"069 412 3456\nnope\n",
        &[],
    )
    .await;
    let j = o.json();
    assert_eq!(
        j[0],
        serde_json::json!({ "input": "069 412 3456", "e164": "+355694123456" })
    );
    assert_eq!(j[1]["input"], "nope");
    assert!(j[1]["error"].as_str().is_some_and(|e| !e.is_empty()), "{}", j[1]);

    let o = run_with(["normalize", "--default-region", "XX1"], b"1\n", &[]).await;
    assert_eq!(o.code, 2, "{o:?}");
}

#[tokio::test]
async fn segments_json_lines_and_the_readable_summary() {
    let o = run_with(
        ["segments", "--json"],
        "\"Привет, мир\"\n\"hello\"\nnot json\n".as_bytes(),
        &[],
    )
    .await;
    assert_eq!(o.code, 0);
    let j = o.json();
    assert_eq!(
        j[0],
        serde_json::json!({ "encoding": "UCS-2", "segments": 1, "units": 11, "per_segment": 70 })
    );
    assert_eq!(j[1]["encoding"], "GSM-7");
    assert!(
        j[2]["error"].as_str().is_some_and(|e| e.contains("not a JSON string")),
        "{}",
        j[2]
    );

    let o = run(&["segments", "Привет,", "мир"]).await;
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("encoding:    UCS-2"), "{}", o.stdout);
    assert!(
        o.stdout.contains("segments:    1 (up to 70 units each)"),
        "{}",
        o.stdout
    );

    let o = run(&["-o", "json", "segments", "hello"]).await;
    assert_eq!(o.json()[0]["segments"], 1);

    // A curly quote makes 100 characters UCS-2 (two parts); its look-alike makes them GSM-7 (one).
    let text = format!("“{}”", "a".repeat(98));
    let o = run(&["-o", "json", "segments", "--smart-encoding", &text]).await;
    let j = &o.json()[0];
    assert_eq!(
        (j["segments"].as_u64(), j["segments_without_smart"].as_u64()),
        (Some(1), Some(2)),
        "{j}"
    );

    let o = run(&["segments"]).await;
    assert_eq!(o.code, 2, "{o:?}");
}

#[tokio::test]
async fn arguments_that_are_not_utf8_are_a_usage_error_not_a_panic() {
    for args in [
        vec![OsString::from("segments"), OsString::from_vec(b"caf\xe9".to_vec())],
        vec![
            OsString::from("send"),
            OsString::from("--dsn"),
            OsString::from_vec(b"smsru://\xff@default".to_vec()),
            OsString::from("--text"),
            OsString::from("x"),
            OsString::from("--to"),
            OsString::from("+79255070602"),
        ],
    ] {
        let o = run_with(args, b"", &[]).await;
        assert_eq!(o.code, 2, "{o:?}");
        assert!(o.stderr.contains("UTF-8"), "{}", o.stderr);
    }
}

#[tokio::test]
async fn version_and_completions() {
    let o = run(&["--version"]).await;
    assert_eq!(o.code, 0);
    assert_eq!(o.stdout.trim(), format!("switchboard {}", env!("CARGO_PKG_VERSION")));
    let o = run(&["completions", "bash"]).await;
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.contains("_switchboard()") && o.stdout.contains("normalize"),
        "{}",
        o.stdout
    );
}

//! Running the built binary: with arguments, stdin and environment, in a clean environment (no
//! `SWITCHBOARD_*` from the developer's shell, no configuration file unless a test writes one).

use std::ffi::OsStr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// What a finished run left.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    pub fn json(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
            .collect()
    }
}

/// A command in a clean environment: `SWITCHBOARD_CONFIG` points at a file that does not exist.
pub fn command<I, S>(args: I, env: &[(&str, &str)]) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("SWITCHBOARD_DSN")
        .env_remove("SWITCHBOARD_PROFILE")
        .env("SWITCHBOARD_CONFIG", "/nonexistent/switchboard-test/config.toml")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Runs to the end with `stdin`.
pub async fn run_with<I, S>(args: I, stdin: &[u8], env: &[(&str, &str)]) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = command(args, env).spawn().expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    let feed = tokio::spawn(async move {
        let _ = input.write_all(&stdin).await;
    });
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the binary finishes within a minute")
        .expect("its output is read");
    let _ = feed.await;
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!o.stderr.contains("panicked"), "the binary panicked: {}", o.stderr);
    o
}

/// Runs to the end with empty stdin.
pub async fn run(args: &[&str]) -> Out {
    run_with(args, b"", &[]).await
}

/// A binary that serves until dropped (`sim`, `listen`), with its stdout read line by line.
pub struct Serving {
    pub child: Child,
    pub lines: Lines<BufReader<ChildStdout>>,
}

impl Serving {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Serving {
        let mut child = command(args, env).spawn().expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        Serving {
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next stdout line, waiting up to ten seconds.
    pub async fn line(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("a line within ten seconds")
            .expect("stdout is readable")
            .expect("the binary is still running")
    }

    /// Stops it and answers what it wrote on stderr.
    pub async fn stop(mut self) -> String {
        let _ = self.child.start_kill();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ = tokio::time::timeout(Duration::from_secs(10), e.read_to_string(&mut err)).await;
        }
        let _ = self.child.wait().await;
        err
    }
}

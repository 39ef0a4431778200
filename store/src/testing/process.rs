//! Server processes for tests: finding binaries, dropping root, free ports, a watchdog that cleans up
//! after a test process that died, and a graceful stop.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The first directory among `dirs` holding every one of `names` (symlinks resolved, so `initdb` on
/// the `PATH` leads to the `postgres` next to its target).
pub(super) fn find_dir(names: &[&str], extra: &[PathBuf]) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut candidates = Vec::new();
    for dir in path_dirs {
        if let Ok(real) = std::fs::canonicalize(dir.join(names[0]))
            && let Some(parent) = real.parent()
        {
            candidates.push(parent.to_path_buf());
        }
        candidates.push(dir);
    }
    candidates.extend(extra.iter().cloned());
    candidates
        .into_iter()
        .find(|d| names.iter().all(|n| d.join(n).is_file()))
}

/// `/usr/lib/postgresql/*/bin`, newest version first (Debian and Ubuntu keep PostgreSQL there, off the
/// `PATH`).
pub(super) fn debian_postgres_dirs() -> Vec<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    versions.into_iter().map(|(_, p)| p).collect()
}

/// The user a server that refuses root runs as: `None` when we are not root, else the uid and gid of
/// `postgres` (or `nobody`) from `/etc/passwd`.
pub(super) fn unprivileged_user() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid: u32 = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    if uid != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let entry = |name: &str| {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
        })
    };
    entry("postgres").or_else(|| entry("nobody"))
}

/// Hands `path` and everything in it to `user`.
pub(super) fn give_to(path: &Path, user: Option<(u32, u32)>) -> std::io::Result<()> {
    let Some((uid, gid)) = user else { return Ok(()) };
    std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            give_to(&entry?.path(), user)?;
        }
    }
    Ok(())
}

/// A command that runs as `user` when given (root dropping to it).
pub(super) fn command_as(program: &Path, user: Option<(u32, u32)>) -> Command {
    let mut c = Command::new(program);
    if let Some((uid, gid)) = user {
        // As root, std also drops the supplementary groups when it switches the uid.
        c.uid(uid).gid(gid);
    }
    c
}

/// A loopback port nothing listens on right now.
pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// Waits until something accepts connections on `port`, or `child` exits, or `timeout` passes.
pub(super) fn wait_for_port(child: &mut Child, port: u16, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the server exited ({status}) before accepting connections"));
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the server did not accept connections within {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A server process with its watchdog: stopped gracefully (then killed) on drop, and stopped by the
/// watchdog if this process dies first.
#[derive(Debug)]
pub(super) struct Supervised {
    child: Child,
    watchdog: Option<Child>,
    /// The signal that stops it cleanly (`INT` for PostgreSQL's fast shutdown, `TERM` for Redis).
    stop_signal: &'static str,
}

impl Supervised {
    /// Supervises `child`; `marker` is a string in its command line (its data directory), so the
    /// watchdog never signals an unrelated process that reused the pid, and `dir` is deleted with it.
    pub(super) fn new(child: Child, stop_signal: &'static str, marker: &Path, dir: &Path) -> Self {
        let script = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
             if grep -q -- '{marker}' /proc/{pid}/cmdline 2>/dev/null; then \
               kill -{stop_signal} {pid}; sleep 3; kill -KILL {pid} 2>/dev/null; fi; \
             rm -rf -- '{dir}'",
            parent = std::process::id(),
            pid = child.id(),
            marker = marker.display(),
            dir = dir.display(),
        );
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok();
        Supervised {
            child,
            watchdog,
            stop_signal,
        }
    }

    /// The server's process.
    pub(super) fn child(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .arg(format!("-{}", self.stop_signal))
                .arg(self.child.id().to_string())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while let Ok(None) = self.child.try_wait() {
                if Instant::now() > deadline {
                    let _ = self.child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.wait();
        }
    }
}

/// The last lines of a log file, for a failure message.
pub(super) fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

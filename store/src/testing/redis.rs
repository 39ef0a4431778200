//! A throwaway Redis server.

use std::io::{Read as _, Write as _};
use std::process::Stdio;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::TempDir;
use super::process::{Supervised, find_dir, free_port, log_tail, wait_for_port};

/// A Redis server for tests: one this process started (no persistence; stopped and deleted on drop),
/// or the one `SWITCHBOARD_TEST_REDIS_URL` names.
#[derive(Debug)]
pub struct RedisServer {
    url: String,
    _process: Option<Supervised>,
    _dir: Option<TempDir>,
}

impl RedisServer {
    /// Its URL (`redis://127.0.0.1:PORT/` for a started server).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this process started the server (rather than using `SWITCHBOARD_TEST_REDIS_URL`).
    pub fn is_throwaway(&self) -> bool {
        self._process.is_some()
    }
}

static SHARED: Mutex<Weak<RedisServer>> = Mutex::new(Weak::new());

/// The Redis server for this test binary: the one already running for another test, a new one, or
/// `SWITCHBOARD_TEST_REDIS_URL`. `None` (after a loud message) when `redis-server` is missing and
/// servers are not required. Tests sharing it keep apart by key names ([`super::unique_name`]).
///
/// # Panics
///
/// When the server fails to start (the message carries its log), or `redis-server` is missing and
/// `SWITCHBOARD_REQUIRE_SERVERS=1`.
pub fn redis() -> Option<Arc<RedisServer>> {
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = shared.upgrade() {
        return Some(s);
    }
    let server = Arc::new(RedisServer::start()?);
    *shared = Arc::downgrade(&server);
    Some(server)
}

impl RedisServer {
    /// A server of the test's own, not shared (to stop it mid-test by dropping it), with the same
    /// fallbacks and panics as the shared one.
    pub fn start() -> Option<RedisServer> {
        start()
    }
}

fn start() -> Option<RedisServer> {
    if let Ok(url) = std::env::var("SWITCHBOARD_TEST_REDIS_URL") {
        return Some(RedisServer {
            url,
            _process: None,
            _dir: None,
        });
    }
    let Some(bin) = find_dir(&["redis-server"], &[]) else {
        super::missing(
            "redis-server",
            "apt-get install redis-server, or set SWITCHBOARD_TEST_REDIS_URL",
        );
        return None;
    };
    let mut last = String::new();
    for _ in 0..3 {
        match start_server(&bin.join("redis-server")) {
            Ok(server) => return Some(server),
            Err(e) if e.contains("already in use") => last = e,
            Err(e) => panic!("{e}"),
        }
    }
    panic!("{last}")
}

fn start_server(bin: &std::path::Path) -> Result<RedisServer, String> {
    let dir = TempDir::new("redis").map_err(|e| format!("cannot create a directory for Redis: {e}"))?;
    let log = dir.path().join("server.log");
    let port = free_port();
    let child = std::process::Command::new(bin)
        .current_dir(dir.path())
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir.path())
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start redis-server: {e}"))?;
    let mut process = Supervised::new(child, "TERM", dir.path(), dir.path());
    if let Err(e) = wait_for_port(process.child(), port, Duration::from_secs(30)) {
        return Err(format!("Redis {e}:\n{}", log_tail(&log)));
    }
    wait_for_pong(port).map_err(|e| format!("Redis {e}:\n{}", log_tail(&log)))?;
    Ok(RedisServer {
        url: format!("redis://127.0.0.1:{port}/"),
        _process: Some(process),
        _dir: Some(dir),
    })
}

/// Waits until the server answers `PING` (it may still be loading when the port opens).
fn wait_for_pong(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(1)))?;
            s.write_all(b"PING\r\n")?;
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf)?;
            Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
        });
        match answer {
            Ok(a) if a.starts_with("+PONG") => return Ok(()),
            _ if Instant::now() > deadline => return Err(format!("did not answer PING: {answer:?}")),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

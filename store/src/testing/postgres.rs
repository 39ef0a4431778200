//! A throwaway PostgreSQL cluster.

use std::process::Stdio;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::TempDir;
use super::process::{
    Supervised, command_as, debian_postgres_dirs, find_dir, free_port, give_to, log_tail, wait_for_port,
};

/// A PostgreSQL server for tests: a cluster this process started (stopped and deleted on drop), or
/// the one `SWITCHBOARD_TEST_POSTGRES_URL` names.
#[derive(Debug)]
pub struct PostgresServer {
    url: String,
    // Field order matters: the server stops before its directory is deleted.
    _process: Option<Supervised>,
    _dir: Option<TempDir>,
}

impl PostgresServer {
    /// A URL with full rights on a database of its own (`postgres://postgres@127.0.0.1:PORT/switchboard_test`
    /// for a started cluster).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this process started the server (rather than using `SWITCHBOARD_TEST_POSTGRES_URL`).
    pub fn is_throwaway(&self) -> bool {
        self._process.is_some()
    }
}

static SHARED: Mutex<Weak<PostgresServer>> = Mutex::new(Weak::new());

/// The PostgreSQL server for this test binary: the one already running for another test, a new
/// throwaway cluster, or `SWITCHBOARD_TEST_POSTGRES_URL`. `None` (after a loud message) when the
/// PostgreSQL binaries are missing and servers are not required.
///
/// Blocks while a cluster starts (a second or two). Tests sharing it must keep apart by schema or
/// table prefix ([`super::unique_name`]).
///
/// # Panics
///
/// When a cluster fails to start (the message carries its log), or the binaries are missing and
/// `SWITCHBOARD_REQUIRE_SERVERS=1`.
pub fn postgres() -> Option<Arc<PostgresServer>> {
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = shared.upgrade() {
        return Some(s);
    }
    let server = Arc::new(PostgresServer::start()?);
    *shared = Arc::downgrade(&server);
    Some(server)
}

impl PostgresServer {
    /// A server of the test's own, not shared (to stop it mid-test by dropping it), with the same
    /// fallbacks and panics as the shared one.
    pub fn start() -> Option<PostgresServer> {
        start()
    }
}

fn start() -> Option<PostgresServer> {
    if let Ok(url) = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL") {
        return Some(PostgresServer {
            url,
            _process: None,
            _dir: None,
        });
    }
    let Some(bin) = find_dir(&["initdb", "postgres"], &debian_postgres_dirs()) else {
        super::missing(
            "PostgreSQL (initdb and postgres)",
            "apt-get install postgresql, or set SWITCHBOARD_TEST_POSTGRES_URL",
        );
        return None;
    };
    let mut last = String::new();
    for _ in 0..3 {
        match start_cluster(&bin) {
            Ok(server) => return Some(server),
            // A port taken between choosing it and binding it: try another.
            Err(e) if e.contains("already in use") => last = e,
            Err(e) => panic!("{e}"),
        }
    }
    panic!("{last}")
}

fn start_cluster(bin: &std::path::Path) -> Result<PostgresServer, String> {
    let dir = TempDir::new("postgres").map_err(|e| format!("cannot create a directory for PostgreSQL: {e}"))?;
    let user = super::process::unprivileged_user();
    let data = dir.path().join("data");
    let socket = dir.path().join("sock");
    std::fs::create_dir_all(&socket).map_err(|e| format!("cannot create the socket directory: {e}"))?;
    give_to(dir.path(), user).map_err(|e| format!("cannot hand {} to the postgres user: {e}", dir.path().display()))?;

    let log = dir.path().join("server.log");
    let initdb = command_as(&bin.join("initdb"), user)
        .current_dir(dir.path())
        .args([
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "-D",
        ])
        .arg(&data)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed ({}): {}{}",
            initdb.status,
            String::from_utf8_lossy(&initdb.stdout),
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }

    let port = free_port();
    let log_file = std::fs::File::create(&log).map_err(|e| format!("cannot create the server log: {e}"))?;
    give_to(&log, user).map_err(|e| format!("cannot hand the log to the postgres user: {e}"))?;
    let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
    let child = command_as(&bin.join("postgres"), user)
        .current_dir(dir.path())
        .arg("-D")
        .arg(&data)
        .arg("-p")
        .arg(port.to_string())
        .arg("-k")
        .arg(&socket)
        // Throwaway data: no fsync, loopback only, room for the concurrency tests' connections.
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
        ])
        .args([
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=32MB",
        ])
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    let mut process = Supervised::new(child, "INT", &data, dir.path());
    if let Err(e) = wait_for_port(process.child(), port, Duration::from_secs(60)) {
        return Err(format!("PostgreSQL {e}:\n{}", log_tail(&log)));
    }

    // The port answers before the server accepts sessions; `createdb` is retried until it does.
    let createdb = bin.join("createdb");
    let database = if createdb.is_file() {
        create_database(&createdb, &socket, port, user).map_err(|e| format!("{e}\n{}", log_tail(&log)))?;
        "switchboard_test"
    } else {
        wait_until_accepting(&bin.join("pg_isready"), &socket, port);
        "postgres"
    };
    Ok(PostgresServer {
        url: format!("postgres://postgres@127.0.0.1:{port}/{database}"),
        _process: Some(process),
        _dir: Some(dir),
    })
}

fn create_database(
    createdb: &std::path::Path,
    socket: &std::path::Path,
    port: u16,
    user: Option<(u32, u32)>,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = command_as(createdb, user)
            .arg("-h")
            .arg(socket)
            .args(["-p", &port.to_string(), "-U", "postgres", "switchboard_test"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run createdb: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "createdb kept failing: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_until_accepting(pg_isready: &std::path::Path, socket: &std::path::Path, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let ok = std::process::Command::new(pg_isready)
            .arg("-h")
            .arg(socket)
            .args(["-p", &port.to_string()])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok || !pg_isready.is_file() {
            // Without pg_isready, the first query's retry (the pool's connect) covers the rest.
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

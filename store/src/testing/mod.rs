//! Real servers for tests (feature `testing`): this crate's, and any host's or sibling crate's that
//! needs a database or Redis without mocks.
//!
//! * [`postgres`] starts a throwaway PostgreSQL cluster (`initdb` into a temporary directory, a free
//!   port, a Unix socket in that directory), shared by the tests of one binary and stopped and deleted
//!   when the last one drops it — or uses `SWITCHBOARD_TEST_POSTGRES_URL` when set.
//! * [`redis`] does the same with `redis-server` (no persistence), or `SWITCHBOARD_TEST_REDIS_URL`.
//! * [`TempDir`] is a directory removed on drop, for SQLite files.
//!
//! When a server binary is missing, the helpers print a loud message naming the package to install
//! and return `None`, so the test can skip — unless `SWITCHBOARD_REQUIRE_SERVERS=1`, when they panic,
//! so CI cannot pass by skipping.
//!
//! ```no_run
//! # fn t() {
//! let Some(pg) = switchboard_store::testing::postgres() else { return }; // skipped: said why
//! let url = pg.url(); // postgres://postgres@127.0.0.1:PORT/switchboard_test
//! # let _ = url; }
//! ```
//!
//! Starting a server blocks for a second or two, which is fine in a test, async or not.
//!
//! PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user (or `nobody`)
//! with the temporary directory handed to it. A watchdog process stops the server and deletes its
//! directory if the test process dies without dropping it.
//!
//! The helpers panic on failures other than a missing binary (a server that will not start, with its
//! log in the message): they are for tests.

mod postgres;
mod process;
mod redis;

use std::path::{Path, PathBuf};

pub use postgres::{PostgresServer, postgres};
pub use redis::{RedisServer, redis};

/// Whether `SWITCHBOARD_REQUIRE_SERVERS=1`: a missing server binary fails the test instead of
/// skipping it.
pub fn servers_required() -> bool {
    std::env::var("SWITCHBOARD_REQUIRE_SERVERS").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Reports a missing server: panics when servers are required, otherwise prints why the test skips.
fn missing(what: &str, install: &str) {
    let msg = format!(
        "{what} was not found, so this test cannot run against a real server. Install it ({install}), \
         or point the test at a running one (see switchboard_store::testing)."
    );
    if servers_required() {
        panic!("SWITCHBOARD_REQUIRE_SERVERS=1: {msg}");
    }
    // Straight to the stream: the test harness captures `eprintln!` of passing tests, and a skip must
    // be seen.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {msg} ***\n");
}

/// A directory under the system's temporary directory, deleted with everything in it on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A new, empty directory named after `label`.
    pub fn new(label: &str) -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("switchboard-{label}-{}", unique_name("")));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir { path })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A `sqlite:` URL for a database file named `name` inside it.
    pub fn sqlite_url(&self, name: &str) -> String {
        format!("sqlite:{}", self.path.join(name).display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// `prefix` followed by 12 random lowercase letters and digits: a name no other test uses (a schema,
/// a table prefix, a Redis key).
pub fn unique_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = (0..12)
        .map(|_| char::from(ALPHABET[switchboard_core::random::below(ALPHABET.len() as u64) as usize]))
        .collect();
    format!("{prefix}{suffix}")
}

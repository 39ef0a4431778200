//! Database failures as switchboard errors.
//!
//! Every store error says `NotSent`: the dispatch fact describes the call that failed, and no store
//! call sends anything. (A caller whose `finish` fails *after* a provider accepted a message still
//! knows the message was sent; the store error does not change that.)
//!
//! Messages name the database by its URL with the user and password removed, and any text the
//! driver returns has the password blanked out in case it quotes the connection string.

use switchboard_core::secret::redact_url;
use switchboard_core::{Dispatch, Error, ErrorKind};

/// Which database a store talks to, for error messages: the URL without credentials, plus the password
/// to scrub from any driver text.
#[derive(Clone)]
pub(crate) struct Target {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The URL without user or password.
    pub shown: String,
    /// The password as written in the URL and percent-decoded, to scrub from driver text.
    passwords: Vec<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl Target {
    /// The target named by `url`.
    pub fn of_url(backend: &'static str, url: &str) -> Self {
        let mut passwords = Vec::new();
        if let Ok(u) = url::Url::parse(url) {
            if let Some(p) = u.password() {
                passwords.extend([p.to_owned(), percent_decode(p)]);
            }
            // libpq-style URLs may also carry it as a parameter.
            passwords.extend(
                u.query_pairs()
                    .filter(|(k, _)| k == "password")
                    .map(|(_, v)| v.into_owned()),
            );
        }
        passwords.retain(|p| !p.is_empty());
        let shown = if url.starts_with("sqlite:") {
            // SQLite URLs are paths; they carry no credentials, and `Url` would mangle `sqlite:file.db`.
            url.to_owned()
        } else {
            redact_url(url)
        };
        Target {
            backend,
            shown,
            passwords,
        }
    }

    /// A target for a pool the host handed in, known only by its backend.
    pub fn of_pool(backend: &'static str) -> Self {
        Target {
            backend,
            shown: format!("{backend} (the host's pool)"),
            passwords: Vec::new(),
        }
    }

    /// `text` with the password replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        self.passwords
            .iter()
            .fold(text.to_owned(), |t, p| t.replace(p.as_str(), "***"))
    }

    /// A switchboard error for a driver failure while doing `what` (`"claim a key"`).
    pub fn error(&self, what: &str, e: sqlx::Error) -> Error {
        let kind = kind_of(self.backend, &e);
        let advice = match kind {
            ErrorKind::Config if is_missing_table(&e) => "; call migrate() first",
            _ => "",
        };
        let text = self.scrub(&e.to_string());
        Error::new(
            kind,
            format!(
                "the {} store at {} could not {what}: {text}{advice}",
                self.backend, self.shown
            ),
        )
        .with_dispatch(Dispatch::NotSent)
        .with_provider(self.backend)
        .with_source(ScrubbedSource(text))
    }
}

/// The driver's error as text, scrubbed: the raw error stays out of the chain because some driver
/// errors quote their configuration.
#[derive(Debug)]
struct ScrubbedSource(String);

impl std::fmt::Display for ScrubbedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScrubbedSource {}

fn percent_decode(s: &str) -> String {
    // Passwords in URLs are percent-encoded; a driver may quote either form, so both are scrubbed.
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_missing_table(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            matches!(d.code().as_deref(), Some("42P01" | "3F000")) || d.message().contains("no such table")
        }
        _ => false,
    }
}

fn kind_of(backend: &str, e: &sqlx::Error) -> ErrorKind {
    match e {
        sqlx::Error::Configuration(_) => ErrorKind::Config,
        sqlx::Error::Database(d) => database_kind(backend, d.code().as_deref().unwrap_or(""), d.message()),
        sqlx::Error::ColumnNotFound(_) | sqlx::Error::TypeNotFound { .. } => ErrorKind::Config,
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnIndexOutOfBounds { .. } => {
            ErrorKind::Decode
        }
        sqlx::Error::RowNotFound => ErrorKind::NotFound,
        // Io, Tls, Protocol, PoolTimedOut, PoolClosed, WorkerCrashed and whatever comes next: the
        // database cannot be reached or used right now.
        _ => ErrorKind::Unavailable,
    }
}

/// The kind for a database's own error code: a PostgreSQL SQLSTATE, or a SQLite result code.
fn database_kind(backend: &str, code: &str, message: &str) -> ErrorKind {
    if backend == "sqlite" {
        // Result codes (https://www.sqlite.org/rescode.html); extended codes keep the primary code in
        // the low byte.
        return match code.parse::<u32>().map(|n| n & 0xff) {
            _ if message.contains("no such table") || message.contains("no such column") => ErrorKind::Config,
            Ok(19 | 20 | 25) => ErrorKind::InvalidInput, // constraint, mismatch, range
            _ => ErrorKind::Unavailable,                 // busy, locked, I/O, full, cannot open, corrupt…
        };
    }
    match code {
        // PostgreSQL SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
        c if c.starts_with("28") => ErrorKind::Auth, // invalid authorisation
        // Undefined table, schema, column, function or database; no privilege.
        "42P01" | "3F000" | "42703" | "42883" | "3D000" | "42501" => ErrorKind::Config,
        c if c.starts_with("22") => ErrorKind::InvalidInput, // data exception
        _ => ErrorKind::Unavailable, // serialisation failures, deadlocks, shutdowns, resources, the rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_credentials() {
        let t = Target::of_url(
            "postgres",
            "postgres://app:s3cr%40t@db.internal:5432/mail?sslmode=require",
        );
        assert!(!t.shown.contains("s3cr"), "{}", t.shown);
        assert!(t.shown.contains("db.internal:5432/mail"), "{}", t.shown);
        assert_eq!(t.scrub("failed for s3cr@t here"), "failed for *** here");
        let e = t.error("claim a key", sqlx::Error::Configuration("bad option in s3cr@t".into()));
        assert_eq!(e.kind(), ErrorKind::Config);
        assert_eq!(e.dispatch(), Dispatch::NotSent);
        let shown = format!(
            "{e} {e:?} {}",
            std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default()
        );
        assert!(!shown.contains("s3cr"), "{shown}");
        assert_eq!(format!("{t:?}"), t.shown);
    }

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            database_kind("sqlite", "5", "database is locked"),
            ErrorKind::Unavailable
        );
        assert_eq!(
            database_kind("sqlite", "517", "database is locked"),
            ErrorKind::Unavailable
        );
        assert_eq!(database_kind("sqlite", "1", "no such table: x"), ErrorKind::Config);
        assert_eq!(
            database_kind("sqlite", "2067", "UNIQUE constraint failed"),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            database_kind("postgres", "28P01", "password authentication failed"),
            ErrorKind::Auth
        );
        assert_eq!(
            database_kind("postgres", "42P01", "relation does not exist"),
            ErrorKind::Config
        );
        assert_eq!(
            database_kind("postgres", "40001", "could not serialize"),
            ErrorKind::Unavailable
        );
        assert_eq!(
            database_kind("postgres", "22021", "invalid byte sequence"),
            ErrorKind::InvalidInput
        );
        assert_eq!(kind_of("postgres", &sqlx::Error::PoolTimedOut), ErrorKind::Unavailable);
    }
}

//! How the email client is configured: the SMTP server and its security, or an offline mode.
//!
//! From a DSN ([`EmailConfig::from_dsn`]):
//!
//! ```text
//! smtp://USER:PASS@smtp.example.com?from=Shop%20<noreply@shop.example>     STARTTLS required, port 587
//! smtps://USER:PASS@smtp.example.com?from=noreply@shop.example             implicit TLS, port 465
//! smtp://127.0.0.1:1025?tls=none&from=…                                    plain, for a local relay or test server
//!     [&tls=starttls|opportunistic|none]   [&timeout=SECONDS]  whole send, default 60
//!     [&connect_timeout=SECONDS]           [&pool=N]           idle connections kept, default 4 (0: none)
//!     [&hello=client.example.com]          [&accept_invalid_certs=true]   (self-signed relay; dangerous)
//!     [&insecure_auth=true]                allow credentials over tls=none to a host that is not loopback
//! smtp://localhost?mode=memory&from=…      no network: messages are kept in an in-process outbox
//! smtp://localhost?mode=memory&outbox=NAME&from=…   …in the process-wide outbox NAME (`Outbox::named`)
//! smtp://localhost?mode=file&dir=/tmp/mail&from=…   no network: each message is written as an .eml file
//! ```
//!
//! The password is a secret from the moment the DSN is parsed; `Debug` and errors never show it.
//! `opportunistic` falls back to plain text if the server does not offer STARTTLS (a man in the
//! middle can force that), so credentials with it are refused off loopback too unless
//! `insecure_auth=true`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use crate::SCHEME;

/// The SMTP submission port with STARTTLS (RFC 6409).
pub const SUBMISSION_PORT: u16 = 587;
/// The SMTP submission port with implicit TLS (RFC 8314).
pub const SUBMISSIONS_PORT: u16 = 465;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte ("SMTPS", port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    StartTls,
    /// STARTTLS when the server offers it, plain text otherwise.
    Opportunistic,
    /// Plain text throughout: only for a relay on the same host or a test server.
    None,
}

/// Where messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// To the SMTP server.
    Smtp,
    /// Into an in-process [`Outbox`](crate::Outbox) (quickstarts, tests, dry runs): the client's
    /// own, or the process-wide one named by [`EmailConfig::outbox`].
    Memory,
    /// Into `<dir>/<message-id>.eml` files.
    File(PathBuf),
}

/// The email client's configuration. `Debug` never shows the password.
#[derive(Clone)]
#[non_exhaustive]
pub struct EmailConfig {
    /// Where messages go.
    pub mode: Mode,
    /// The SMTP server.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is protected.
    pub security: Security,
    /// The AUTH user.
    pub username: Option<String>,
    /// The AUTH password.
    pub password: Option<SecretString>,
    /// The default `From` (`Shop <noreply@shop.example>`), used when a message names none.
    pub from: Option<String>,
    /// The name sent in EHLO (default: this machine's host name).
    pub hello_name: Option<String>,
    /// The whole send, from connecting to the server's last reply. lettre's own timeout covers only
    /// connecting (lettre#1027); a server that stalls mid-conversation is cut off by this one.
    pub timeout: Duration,
    /// Connecting (TCP and implicit TLS).
    pub connect_timeout: Duration,
    /// Idle connections kept for the next sends (0 disables pooling).
    pub pool_max_idle: usize,
    /// An idle connection older than this is not reused.
    pub pool_idle_timeout: Duration,
    /// Accept any TLS certificate (a LAN relay with a self-signed one). Off by default.
    pub danger_accept_invalid_certs: bool,
    /// Allow credentials without TLS to a host that is not loopback. Off by default.
    pub insecure_auth: bool,
    /// Messages the memory outbox keeps (oldest dropped first).
    pub memory_capacity: usize,
    /// In memory mode, the name of the process-wide outbox messages go to ([`Outbox::named`](crate::Outbox::named)),
    /// so that code holding only the DSN and code reading the outbox meet; `None`: the client's own.
    pub outbox: Option<String>,
    /// Retry policy: a send is repeated only when the server certainly did not take the message
    /// (connection refused, a 4xx reply, a timeout before the message body was sent).
    pub retry: RetryPolicy,
}

impl fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailConfig")
            .field("mode", &self.mode)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("hello_name", &self.hello_name)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("pool_max_idle", &self.pool_max_idle)
            .field("danger_accept_invalid_certs", &self.danger_accept_invalid_certs)
            .field("insecure_auth", &self.insecure_auth)
            .field("outbox", &self.outbox)
            .finish_non_exhaustive()
    }
}

/// Whether a host name is this machine (where a plain-text relay is acceptable).
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
}

impl EmailConfig {
    /// An SMTP server with STARTTLS on port 587.
    pub fn builder(host: impl Into<String>) -> EmailConfigBuilder {
        EmailConfigBuilder {
            config: EmailConfig {
                mode: Mode::Smtp,
                host: host.into(),
                port: SUBMISSION_PORT,
                security: Security::StartTls,
                username: None,
                password: None,
                from: None,
                hello_name: None,
                timeout: Duration::from_secs(60),
                connect_timeout: Duration::from_secs(10),
                pool_max_idle: 4,
                pool_idle_timeout: Duration::from_secs(60),
                danger_accept_invalid_certs: false,
                insecure_auth: false,
                memory_capacity: 1000,
                outbox: None,
                retry: RetryPolicy::default(),
            },
        }
    }

    /// The offline in-memory mode.
    pub fn memory() -> EmailConfigBuilder {
        Self::builder("localhost").mode(Mode::Memory)
    }

    /// Reads an `smtp://` or `smtps://` DSN (see the [module docs](self)). Errors never show the
    /// password.
    pub fn from_dsn(dsn: &Dsn) -> Result<EmailConfig> {
        let implicit = match dsn.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => {
                return Err(Error::config(format!(
                    "an email DSN starts with smtp:// or smtps://, not {other}://"
                )));
            }
        };
        if dsn.is_default_host() {
            return Err(Error::config(
                "an SMTP DSN needs the server's host name ('default' means nothing for SMTP)",
            ));
        }
        let security = match dsn.option("tls").map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => {
                if implicit {
                    Security::Tls
                } else {
                    Security::StartTls
                }
            }
            Some("required" | "starttls" | "true") if !implicit => Security::StartTls,
            Some("opportunistic") if !implicit => Security::Opportunistic,
            Some("none" | "false" | "off") if !implicit => Security::None,
            Some("wrapper" | "implicit") => Security::Tls,
            Some(_) => {
                return Err(Error::config(
                    "the SMTP DSN option 'tls' must be starttls, opportunistic or none (smtps:// is always TLS)",
                ));
            }
        };
        let mut b = EmailConfig::builder(dsn.host()).security(security);
        b = b.port(dsn.port().unwrap_or(if security == Security::Tls {
            SUBMISSIONS_PORT
        } else {
            SUBMISSION_PORT
        }));
        if let Some(user) = dsn.user() {
            let pass = dsn.password().map(|p| p.expose_secret().to_owned()).unwrap_or_default();
            b = b.credentials(user, pass);
        }
        b = match dsn.option("mode").map(str::to_ascii_lowercase).as_deref() {
            None | Some("" | "smtp") => b,
            Some("memory") => b.mode(Mode::Memory),
            Some("file") => b.mode(Mode::File(PathBuf::from(dsn.require_option("dir")?))),
            Some(_) => return Err(Error::config("the SMTP DSN option 'mode' must be smtp, memory or file")),
        };
        if let Some(f) = dsn.option("from").filter(|f| !f.is_empty()) {
            b = b.from(f);
        }
        if let Some(o) = dsn.option("outbox").filter(|o| !o.is_empty()) {
            b = b.outbox(o);
        }
        if let Some(h) = dsn.option("hello").filter(|h| !h.is_empty()) {
            b = b.hello_name(h);
        }
        if let Some(t) = dsn.option_parse::<u64>("timeout")? {
            b = b.timeout(Duration::from_secs(t));
        }
        if let Some(t) = dsn.option_parse::<u64>("connect_timeout")? {
            b = b.connect_timeout(Duration::from_secs(t));
        }
        if let Some(n) = dsn.option_parse::<usize>("pool")? {
            b = b.pool_max_idle(n);
        }
        b.config.danger_accept_invalid_certs = dsn.option_bool("accept_invalid_certs", false)?;
        b.config.insecure_auth = dsn.option_bool("insecure_auth", false)?;
        b.build()
    }

    /// Checks what a builder may have got wrong.
    pub fn validate(&self) -> Result<()> {
        let cfg = |m: &'static str| Error::config(m).with_provider(SCHEME);
        if self.mode == Mode::Smtp {
            if self.host.is_empty() || self.host.contains(char::is_whitespace) {
                return Err(cfg("the SMTP host is empty or not a host name"));
            }
            if self.port == 0 {
                return Err(cfg("the SMTP port must be 1 to 65535"));
            }
            let clear = matches!(self.security, Security::None | Security::Opportunistic);
            if self.username.is_some() && clear && !is_loopback(&self.host) && !self.insecure_auth {
                return Err(cfg(
                    "refusing to send SMTP credentials without TLS to a remote host: use STARTTLS or smtps://, \
                     or set insecure_auth=true if you must",
                ));
            }
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(cfg("the SMTP timeouts must be longer than zero"));
        }
        if let Some(f) = &self.from
            && f.parse::<lettre::message::Mailbox>().is_err()
        {
            return Err(cfg(
                "the default 'from' is not an email address (name@domain or Name <name@domain>)",
            ));
        }
        Ok(())
    }
}

/// Builds an [`EmailConfig`]: the only way to make one.
#[derive(Debug, Clone)]
pub struct EmailConfigBuilder {
    config: EmailConfig,
}

impl EmailConfigBuilder {
    /// Sets where messages go.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.config.mode = mode;
        self
    }

    /// Sets the port.
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// Sets the connection security.
    pub fn security(mut self, security: Security) -> Self {
        self.config.security = security;
        self
    }

    /// Sets the AUTH credentials.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.config.username = Some(username.into());
        self.config.password = Some(SecretString::from(password.into()));
        self
    }

    /// Sets the default `From`.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.config.from = Some(from.into());
        self
    }

    /// Sets the EHLO name.
    pub fn hello_name(mut self, name: impl Into<String>) -> Self {
        self.config.hello_name = Some(name.into());
        self
    }

    /// Sets the whole-send timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.config.timeout = t;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.config.connect_timeout = t;
        self
    }

    /// Sets how many idle connections are kept.
    pub fn pool_max_idle(mut self, n: usize) -> Self {
        self.config.pool_max_idle = n;
        self
    }

    /// Accepts invalid TLS certificates (see the field's docs first).
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.config.danger_accept_invalid_certs = accept;
        self
    }

    /// Allows credentials without TLS to a remote host.
    pub fn insecure_auth(mut self, allow: bool) -> Self {
        self.config.insecure_auth = allow;
        self
    }

    /// In memory mode, sends into the process-wide outbox `name` ([`Outbox::named`](crate::Outbox::named)).
    pub fn outbox(mut self, name: impl Into<String>) -> Self {
        self.config.outbox = Some(name.into());
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Checks and returns the config.
    pub fn build(self) -> Result<EmailConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(s: &str) -> Result<EmailConfig> {
        EmailConfig::from_dsn(&Dsn::parse(s)?)
    }

    #[test]
    fn schemes_ports_and_security() {
        let c = cfg("smtp://me:p%40ss@smtp.example.com?from=Shop%20<noreply@shop.example>").unwrap();
        assert_eq!(
            (c.port, c.security, c.mode.clone()),
            (587, Security::StartTls, Mode::Smtp)
        );
        assert_eq!(c.password.as_ref().unwrap().expose_secret(), "p@ss");
        assert_eq!(c.from.as_deref(), Some("Shop <noreply@shop.example>"));
        let c = cfg("smtps://me:pw@smtp.example.com").unwrap();
        assert_eq!((c.port, c.security), (465, Security::Tls));
        let c = cfg("smtp://127.0.0.1:1025?tls=none").unwrap();
        assert_eq!((c.port, c.security), (1025, Security::None));
        let c = cfg("smtp://localhost?mode=memory&from=a@b.example").unwrap();
        assert_eq!(c.mode, Mode::Memory);
        let c = cfg("smtp://localhost?mode=memory&outbox=tests-1").unwrap();
        assert_eq!((c.mode.clone(), c.outbox.as_deref()), (Mode::Memory, Some("tests-1")));
        let c = cfg("smtp://localhost?mode=file&dir=/tmp/mail").unwrap();
        assert_eq!(c.mode, Mode::File("/tmp/mail".into()));
        assert!(cfg("smtp://localhost?mode=file").is_err());
        assert!(cfg("smtps://h?tls=none").is_err());
        assert!(cfg("smtp://default").is_err());
        assert!(cfg("smtp://h?from=not-an-address").is_err());
    }

    #[test]
    fn credentials_never_go_out_in_clear_to_a_remote_host() {
        let e = cfg("smtp://me:topsecret@mail.example.com:25?tls=none").unwrap_err();
        assert_eq!(e.kind(), switchboard_core::ErrorKind::Config);
        assert!(!format!("{e} {e:?}").contains("topsecret"));
        assert!(cfg("smtp://me:pw@mail.example.com:25?tls=opportunistic").is_err());
        assert!(cfg("smtp://me:pw@mail.example.com:25?tls=none&insecure_auth=true").is_ok());
        assert!(cfg("smtp://me:pw@127.0.0.1:25?tls=none").is_ok());
        let c = cfg("smtp://me:topsecret@mail.example.com").unwrap();
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}

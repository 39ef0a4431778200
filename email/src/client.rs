//! The [`EmailClient`]: sends over SMTP (or into the offline outbox / files).
//!
//! The SMTP conversation is driven here on lettre's `AsyncSmtpConnection` rather than through
//! `AsyncSmtpTransport`, for one reason: to know how far it got when it fails. lettre's transport
//! reports a dropped connection the same way whether it happened at `RCPT` (nothing sent) or after
//! the final dot (maybe accepted), and the whole difference between a safe retry and a duplicate
//! email is that distinction (see [`error`]). The stage is tracked as the conversation
//! moves, so even when the whole-send timeout cancels it mid-step, the error says whether the
//! message can have landed.
//!
//! Connections are kept in a small idle pool. A pooled connection the server closed while idle fails
//! at `MAIL`, before anything was sent, so that one case is retried at once on a fresh connection.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use switchboard_core::{Dispatch, Error, ErrorKind, ExposeSecret, Idempotence, Result};

use crate::SCHEME;
use crate::config::{EmailConfig, Mode, Security};
use crate::error::{self, Stage};
use crate::model::Email;
use crate::outbox::{Outbox, SentEmail};

/// What the server said when it took a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accepted {
    /// The message's `Message-ID`, without brackets.
    pub message_id: String,
    /// The reply code to the final dot (250), or 250 for the offline modes.
    pub code: u16,
    /// The reply text (`2.0.0 Ok: queued as 4Bc1`), which often carries the server's queue id.
    pub reply: String,
}

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// Sends email: one `pub async fn` per thing a mail client does ([`EmailClient::send`],
/// [`EmailClient::send_mime`], [`EmailClient::test_connection`]). Cheap to clone; clones share the
/// connection pool and the outbox.
#[derive(Clone)]
pub struct EmailClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: EmailConfig,
    tls: Option<TlsParameters>,
    hello: ClientId,
    credentials: Option<Credentials>,
    pool: Mutex<Vec<Idle>>,
    outbox: Option<Outbox>,
}

impl std::fmt::Debug for EmailClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Where the conversation is, shared with the timeout that may cancel it.
struct Progress(AtomicU8);

impl Progress {
    fn set(&self, s: Stage) {
        self.0.store(s as u8, Ordering::SeqCst);
    }
    fn get(&self) -> Stage {
        Stage::from_u8(self.0.load(Ordering::SeqCst))
    }
}

impl EmailClient {
    /// A client for this configuration.
    pub fn new(config: EmailConfig) -> Result<Self> {
        config.validate()?;
        let tls = match (&config.mode, config.security) {
            (Mode::Smtp, Security::Tls | Security::StartTls | Security::Opportunistic) => Some(
                TlsParameters::builder(config.host.clone())
                    .dangerous_accept_invalid_certs(config.danger_accept_invalid_certs)
                    .build_rustls()
                    .map_err(|e| {
                        Error::config("the SMTP TLS settings are invalid")
                            .with_provider(SCHEME)
                            .with_source(e)
                    })?,
            ),
            _ => None,
        };
        let hello = match &config.hello_name {
            Some(h) => ClientId::Domain(h.clone()),
            None => ClientId::default(),
        };
        let credentials = match (&config.username, &config.password) {
            (Some(u), p) => Some(Credentials::new(
                u.clone(),
                p.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default(),
            )),
            _ => None,
        };
        let outbox = (config.mode == Mode::Memory).then(|| match &config.outbox {
            Some(name) => Outbox::named_with_capacity(name, config.memory_capacity),
            None => Outbox::new(config.memory_capacity),
        });
        Ok(EmailClient {
            inner: Arc::new(Inner {
                config,
                tls,
                hello,
                credentials,
                pool: Mutex::new(Vec::new()),
                outbox,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EmailConfig {
        &self.inner.config
    }

    /// The outbox, in memory mode.
    pub fn outbox(&self) -> Option<&Outbox> {
        self.inner.outbox.as_ref()
    }

    /// Builds and sends an [`Email`], `From` defaulting to the config's.
    pub async fn send(&self, email: &Email) -> Result<Accepted> {
        let mime = email.to_mime(self.inner.config.from.as_deref())?;
        self.send_mime(&mime).await
    }

    /// Sends a message built with lettre's own builder.
    pub async fn send_mime(&self, message: &lettre::Message) -> Result<Accepted> {
        let message_id = message
            .headers()
            .get_raw("Message-ID")
            .map(|v| v.trim().trim_start_matches('<').trim_end_matches('>').to_owned())
            .unwrap_or_default();
        let envelope = message.envelope().clone();
        let raw = Bytes::from(message.formatted());
        match &self.inner.config.mode {
            Mode::Memory => {
                if let Some(o) = &self.inner.outbox {
                    o.take_in(sent_email(&message_id, &envelope, raw), self.inner.config.timeout)
                        .await?;
                }
                Ok(Accepted {
                    message_id,
                    code: 250,
                    reply: "kept in the memory outbox".into(),
                })
            }
            Mode::File(dir) => {
                let path = dir.join(format!("{}.eml", file_name(&message_id)));
                let dir = dir.clone();
                let bytes = raw.clone();
                let shown = path.display().to_string();
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::fs::create_dir_all(&dir)?;
                    let tmp = path.with_extension("eml.tmp");
                    std::fs::write(&tmp, &bytes)?;
                    std::fs::rename(&tmp, &path)
                })
                .await
                .map_err(|e| Error::new(ErrorKind::Unavailable, "the mail file writer stopped").with_source(e))?
                .map_err(|e| {
                    Error::new(ErrorKind::Unavailable, format!("could not write the mail file {shown}"))
                        .with_dispatch(Dispatch::NotSent)
                        .with_provider(SCHEME)
                        .with_source(e)
                })?;
                Ok(Accepted {
                    message_id,
                    code: 250,
                    reply: format!("written to {shown}"),
                })
            }
            Mode::Smtp => {
                let response = self
                    .inner
                    .config
                    .retry
                    .run(Idempotence::NotIdempotent, || self.attempt(&envelope, &raw))
                    .await?;
                Ok(Accepted {
                    message_id,
                    code: u16::from(response.code()),
                    reply: response.message().collect::<Vec<_>>().join(" "),
                })
            }
        }
    }

    /// Connects (TLS, AUTH) and keeps the connection for the next send: checks the configuration
    /// against the server without sending anything.
    pub async fn test_connection(&self) -> Result<()> {
        if self.inner.config.mode != Mode::Smtp {
            return Ok(());
        }
        let progress = Progress(AtomicU8::new(0));
        let timeout = self.inner.config.timeout;
        let conn = tokio::time::timeout(timeout, self.connect(&progress))
            .await
            .map_err(|_| error::timed_out(progress.get(), timeout))??;
        self.put_idle(conn);
        Ok(())
    }

    /// One attempt at the SMTP conversation, under the whole-send timeout; the retry policy decides
    /// whether there is another.
    async fn attempt(&self, envelope: &Envelope, raw: &[u8]) -> Result<Response> {
        let progress = Progress(AtomicU8::new(Stage::Connect as u8));
        let timeout = self.inner.config.timeout;
        match tokio::time::timeout(timeout, self.deliver(envelope, raw, &progress)).await {
            Ok(r) => r,
            Err(_) => Err(error::timed_out(progress.get(), timeout)),
        }
    }

    async fn deliver(&self, envelope: &Envelope, raw: &[u8], progress: &Progress) -> Result<Response> {
        if let Some(mut conn) = self.take_idle() {
            match self.transaction(&mut conn, envelope, raw, progress).await {
                Ok(r) => {
                    self.put_idle(conn);
                    return Ok(r);
                }
                // The server closed the idle connection: nothing was sent; use a fresh one.
                Err(e)
                    if progress.get() <= Stage::Envelope
                        && e.provider_code().is_none()
                        && e.kind() != ErrorKind::Unsupported =>
                {
                    tracing::debug!(provider = SCHEME, "a pooled SMTP connection was closed; reconnecting");
                    drop(conn);
                }
                Err(e) => {
                    discard(conn);
                    return Err(e);
                }
            }
        }
        progress.set(Stage::Connect);
        let mut conn = self.connect(progress).await?;
        match self.transaction(&mut conn, envelope, raw, progress).await {
            Ok(r) => {
                self.put_idle(conn);
                Ok(r)
            }
            Err(e) => {
                discard(conn);
                Err(e)
            }
        }
    }

    async fn connect(&self, progress: &Progress) -> Result<AsyncSmtpConnection> {
        let c = &self.inner.config;
        progress.set(Stage::Connect);
        let wrapper = match c.security {
            Security::Tls => self.inner.tls.clone(),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (c.host.as_str(), c.port),
            Some(c.connect_timeout),
            &self.inner.hello,
            wrapper,
            None,
        )
        .await
        .map_err(|e| error::parse_error(e, Stage::Connect))?;
        progress.set(Stage::Session);
        let starttls = match c.security {
            Security::StartTls => true,
            Security::Opportunistic => conn.can_starttls(),
            _ => false,
        };
        if starttls && let Some(tls) = self.inner.tls.clone() {
            conn.starttls(tls, &self.inner.hello)
                .await
                .map_err(|e| error::parse_error(e, Stage::Session))?;
        }
        if let Some(creds) = &self.inner.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], creds)
                .await
                .map_err(|e| error::parse_error(e, Stage::Session))?;
        }
        Ok(conn)
    }

    /// MAIL, RCPT…, DATA, the message. The stage moves before each step.
    async fn transaction(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &Envelope,
        raw: &[u8],
        progress: &Progress,
    ) -> Result<Response> {
        progress.set(Stage::Envelope);
        let mut params = Vec::new();
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !a.to_string().is_ascii());
        if non_ascii {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(unsupported(
                    "the server does not take non-ASCII addresses (no SMTPUTF8)",
                ));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        if !raw.is_ascii() {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                return Err(unsupported("the server does not take 8-bit messages (no 8BITMIME)"));
            }
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        let at = |s| move |e| error::parse_error(e, s);
        conn.command(Mail::new(envelope.from().cloned(), params))
            .await
            .map_err(at(Stage::Envelope))?;
        for to in envelope.to() {
            conn.command(Rcpt::new(to.clone(), Vec::new()))
                .await
                .map_err(at(Stage::Envelope))?;
        }
        progress.set(Stage::Data);
        conn.command(Data).await.map_err(at(Stage::Data))?;
        progress.set(Stage::Body);
        conn.message(raw).await.map_err(at(Stage::Body))
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let max_age = self.inner.config.pool_idle_timeout;
        let mut pool = self.inner.pool.lock().unwrap_or_else(|p| p.into_inner());
        pool.retain(|i| i.since.elapsed() < max_age && !i.conn.has_broken());
        pool.pop().map(|i| i.conn)
    }

    fn put_idle(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut pool = self.inner.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < self.inner.config.pool_max_idle {
            pool.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }
}

fn unsupported(msg: &'static str) -> Error {
    Error::unsupported(msg).with_provider(SCHEME)
}

/// Says QUIT politely in the background, never waiting long for a server that already misbehaved,
/// and never making the caller (or the whole-send timeout) wait for it.
fn discard(mut conn: AsyncSmtpConnection) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), conn.abort()).await;
    });
}

fn sent_email(message_id: &str, envelope: &Envelope, raw: Bytes) -> SentEmail {
    SentEmail::new(
        message_id,
        envelope.from().map(|a| a.to_string()),
        envelope.to().iter().map(|a| a.to_string()).collect(),
        raw,
    )
}

/// A Message-ID made safe as a file name.
fn file_name(message_id: &str) -> String {
    let s: String = message_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._=-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "message".into() } else { s }
}

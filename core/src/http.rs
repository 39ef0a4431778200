//! The one way switchboard talks HTTP: how a client is built, and how an answer becomes a value or an
//! [`Error`] with the right kind and dispatch fact.
//!
//! * TLS verification is always on. A gateway with a self-signed certificate gets
//!   [`HttpOptions::danger_accept_invalid_certs`], off by default and per client, never global.
//! * Every request has a whole-request timeout and a connect timeout.
//! * A reqwest failure is classified by *when* it happened: a failure to connect is
//!   [`Dispatch::NotSent`]; a timeout or a connection dropped after the request was written is
//!   [`Dispatch::MaybeSent`].
//! * Bodies are read with a cap, so a provider (or a man in the middle) answering gigabytes cannot
//!   exhaust memory.
//! * TLS is rustls (TLS 1.2 and 1.3, the operating system's root certificates through
//!   rustls-platform-verifier) with the process-wide rustls `CryptoProvider`. When the host has not
//!   installed one, building the first client installs ring's. A host that wants aws-lc-rs instead
//!   (post-quantum X25519MLKEM768 key exchange, FIPS) installs it at startup, before building any
//!   client: `rustls::crypto::aws_lc_rs::default_provider().install_default()`.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Dispatch, Error, ErrorKind, Result};

/// The `User-Agent` every switchboard client sends.
pub const USER_AGENT: &str = concat!("switchboard/", env!("CARGO_PKG_VERSION"));

/// The largest answer body read by default (4 MiB).
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;

/// How a provider client's HTTP connection behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpOptions {
    /// Whole-request timeout, from sending to the last byte of the answer.
    pub timeout: Duration,
    /// Timeout for establishing the connection (TCP + TLS).
    pub connect_timeout: Duration,
    /// Accept any TLS certificate. Only for a device on the LAN with a self-signed certificate
    /// that cannot be replaced; it makes the connection open to interception.
    pub danger_accept_invalid_certs: bool,
    /// Idle pooled connections are closed after this long.
    pub pool_idle_timeout: Duration,
    /// The most idle connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// The largest answer body read, in bytes.
    pub max_body: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            danger_accept_invalid_certs: false,
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 32,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

impl HttpOptions {
    /// Sets the whole-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Accepts invalid TLS certificates (see the field's docs before you do).
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.danger_accept_invalid_certs = accept;
        self
    }

    /// Builds a `reqwest::Client` with these options.
    pub fn build_client(&self) -> Result<reqwest::Client> {
        install_crypto_provider();
        let mut b = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .redirect(reqwest::redirect::Policy::none());
        if self.danger_accept_invalid_certs {
            tracing::warn!("TLS certificate verification is OFF for this client");
            b = b.tls_danger_accept_invalid_certs(true);
        }
        b.build()
            .map_err(|e| Error::config("could not build the HTTP client").with_source(e.without_url()))
    }
}

/// Installs ring as the process-wide rustls crypto provider unless one is installed already (by the
/// host, or by an earlier call). reqwest is built without a provider of its own (`rustls-no-provider`),
/// and takes the process default.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one in between, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Turns a reqwest failure into an [`Error`] with the right kind and dispatch fact.
///
/// The URL is stripped from the source, since URLs can carry credentials.
pub fn classify_reqwest_error(err: reqwest::Error) -> Error {
    // The endpoint (host and port only: paths and queries can carry secrets) and the innermost cause
    // (the operating system's reason), so the one-line message says what was tried and why it failed.
    let endpoint = err.url().and_then(|u| {
        let host = u.host_str()?;
        Some(match u.port_or_known_default() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        })
    });
    let reason = innermost(&err);
    let (kind, dispatch, what) = if err.is_builder() {
        (ErrorKind::Config, Dispatch::NotSent, "the request could not be built")
    } else if err.is_connect() {
        // Connect failures (refused, DNS, TLS handshake, connect timeout) happen before a byte of the
        // request is written.
        if err.is_timeout() {
            (ErrorKind::Timeout, Dispatch::NotSent, "timed out while connecting")
        } else {
            (ErrorKind::Transport, Dispatch::NotSent, "could not connect")
        }
    } else if err.is_timeout() {
        (ErrorKind::Timeout, Dispatch::MaybeSent, "no answer within the timeout")
    } else if err.is_decode() {
        (ErrorKind::Decode, Dispatch::Sent, "the answer could not be decoded")
    } else if err.is_body() {
        (
            ErrorKind::Transport,
            Dispatch::MaybeSent,
            "the connection failed while the answer was read",
        )
    } else {
        (
            ErrorKind::Transport,
            Dispatch::MaybeSent,
            "the connection failed after the request was sent",
        )
    };
    let mut message = what.to_owned();
    if let Some(e) = &endpoint {
        message.push_str(&format!(" ({e})"));
    }
    if let Some(r) = reason {
        message.push_str(&format!(": {r}"));
    }
    Error::new(kind, message)
        .with_dispatch(dispatch)
        .with_source(err.without_url())
}

/// The innermost cause's text, when it says more than reqwest's own wrapper ("Connection refused
/// (os error 111)", "dns error: failed to lookup address information"). URLs are cut out of it.
fn innermost(err: &reqwest::Error) -> Option<String> {
    let mut cur: &dyn std::error::Error = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    if std::ptr::addr_eq(cur as *const dyn std::error::Error, err as *const reqwest::Error) {
        return None;
    }
    let text = cur.to_string();
    let text = text.split(" for url (").next().unwrap_or(&text).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The kind and dispatch fact an HTTP error status stands for, by the usual HTTP meaning.
///
/// 401/403/407 (credentials refused), 408, 429 and 503 are refusals before the work was done, so
/// `NotSent`; 500, 502 and 504 can come after the provider acted (YooKassa documents its 500 as "no
/// definite answer"), so `MaybeSent`; every other status is the provider's final word (`Sent`).
pub fn status_kind(status: StatusCode) -> (ErrorKind, Dispatch) {
    match status.as_u16() {
        400 | 405 | 411 | 413 | 414 | 415 | 422 => (ErrorKind::InvalidInput, Dispatch::Sent),
        401 | 403 | 407 => (ErrorKind::Auth, Dispatch::NotSent),
        404 | 410 => (ErrorKind::NotFound, Dispatch::Sent),
        408 => (ErrorKind::Timeout, Dispatch::NotSent),
        429 => (ErrorKind::RateLimited, Dispatch::NotSent),
        503 => (ErrorKind::Unavailable, Dispatch::NotSent),
        500 | 502 | 504 => (ErrorKind::Unavailable, Dispatch::MaybeSent),
        s if s >= 500 => (ErrorKind::Unavailable, Dispatch::MaybeSent),
        _ => (ErrorKind::Rejected, Dispatch::Sent),
    }
}

/// Reads `Retry-After` (seconds or an HTTP date) from answer headers.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// A whole HTTP answer: status, headers and the (capped) body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The body bytes.
    pub body: Bytes,
    /// The last segment of the request's path (`send_sms`, `sendMessage`): the operation, for APIs
    /// whose error codes mean different things per operation (Dinstar's `error_code` 413). Only the
    /// last segment is kept, so a credential elsewhere in the path (Telegram's bot token) is not.
    pub endpoint: String,
}

impl Reply {
    /// An answer made by hand (a test's, or a simulator's), for no particular endpoint.
    pub fn new(status: StatusCode, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Reply {
            status,
            headers,
            body: body.into(),
            endpoint: String::new(),
        }
    }

    /// A hand-made answer with status `status` and body `body`, no headers (tests: feed it to a
    /// provider's `parse_error`). A status that is not a valid HTTP status becomes 500.
    pub fn of(status: u16, body: impl Into<Bytes>) -> Self {
        Reply::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            HeaderMap::new(),
            body,
        )
    }

    /// The same answer, as if it came from `endpoint`.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// Sends a request and reads the whole answer, capping the body at `max_body` bytes.
    pub async fn send(request: reqwest::RequestBuilder, max_body: usize) -> Result<Reply> {
        let resp = request.send().await.map_err(classify_reqwest_error)?;
        Reply::read(resp, max_body).await
    }

    /// Reads an answer already received, capping the body at `max_body` bytes. A connection dropped
    /// while the body is read is `Transport` + `MaybeSent`: the provider may well have acted.
    pub async fn read(mut resp: reqwest::Response, max_body: usize) -> Result<Reply> {
        let status = resp.status();
        let endpoint = resp
            .url()
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .unwrap_or_default()
            .to_owned();
        let headers = std::mem::take(resp.headers_mut());
        if let Some(len) = resp.content_length()
            && len as usize > max_body
        {
            return Err(
                Error::decode(format!("the answer is {len} bytes, more than the {max_body} allowed"))
                    .with_http_status(status.as_u16()),
            );
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > max_body {
                        return Err(
                            Error::decode(format!("the answer is more than the {max_body} bytes allowed"))
                                .with_http_status(status.as_u16()),
                        );
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    // reqwest reports a body cut short as a "decode" error; what it means for us is that
                    // the connection dropped mid-answer, after the provider had the request.
                    return Err(
                        Error::new(ErrorKind::Transport, "the connection dropped while the answer was read")
                            .with_dispatch(Dispatch::MaybeSent)
                            .with_http_status(status.as_u16())
                            .with_source(e.without_url()),
                    );
                }
            }
        }
        Ok(Reply {
            status,
            headers,
            body: Bytes::from(body),
            endpoint,
        })
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A short excerpt of the body for error messages.
    pub fn excerpt(&self) -> String {
        let t = String::from_utf8_lossy(&self.body[..self.body.len().min(512)]).into_owned();
        t.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The body decoded as JSON, or a `Decode` error (dispatch `Sent`: the provider answered) that
    /// carries an excerpt of what came.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(&self.body).map_err(|e| e.with_http_status(self.status.as_u16()))
    }

    /// `Ok(self)` for a 2xx answer, otherwise the error the status stands for, with `Retry-After` and
    /// a body excerpt kept. Providers with their own error envelope map it themselves first and use
    /// this as the fallback.
    pub fn error_for_status(self) -> Result<Reply> {
        if self.is_success() {
            return Ok(self);
        }
        Err(self.status_error())
    }

    /// The error that this answer's (non-2xx) status stands for.
    pub fn status_error(&self) -> Error {
        let (kind, dispatch) = status_kind(self.status);
        let mut e = Error::new(
            kind,
            format!(
                "HTTP {} {}",
                self.status.as_u16(),
                self.status.canonical_reason().unwrap_or("")
            )
            .trim_end()
            .to_owned(),
        )
        .with_dispatch(dispatch)
        .with_http_status(self.status.as_u16());
        if !self.body.is_empty() {
            e = e.with_provider_text(self.excerpt());
        }
        if let Some(after) = retry_after(&self.headers) {
            e = e.with_retry_after(after);
        }
        e
    }
}

/// Decodes JSON; on failure the error names the position and shows the start of the body.
pub fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let head = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        Error::decode(format!("the answer is not the JSON expected ({e})"))
            .with_provider_text(head)
            .with_source(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// reqwest is built without a crypto provider of its own, so building a client must install one:
    /// ring's (no post-quantum group: that is aws-lc-rs, which a host installs itself if it wants it),
    /// with TLS 1.2 and 1.3 suites.
    #[test]
    fn building_a_client_installs_ring_for_tls_1_2_and_1_3() {
        HttpOptions::default().build_client().unwrap();
        HttpOptions::default()
            .danger_accept_invalid_certs(true)
            .build_client()
            .unwrap();
        let p = rustls::crypto::CryptoProvider::get_default().expect("a crypto provider is installed");
        for v in [&rustls::version::TLS12, &rustls::version::TLS13] {
            assert!(p.cipher_suites.iter().any(|s| s.version() == v), "{v:?}");
        }
        assert!(p.kx_groups.iter().any(|g| g.name() == rustls::NamedGroup::X25519));
        assert!(
            !p.kx_groups
                .iter()
                .any(|g| g.name() == rustls::NamedGroup::X25519MLKEM768)
        );
    }

    #[test]
    fn every_status_class_maps() {
        let cases = [
            (400, ErrorKind::InvalidInput, Dispatch::Sent),
            (401, ErrorKind::Auth, Dispatch::NotSent),
            (403, ErrorKind::Auth, Dispatch::NotSent),
            (404, ErrorKind::NotFound, Dispatch::Sent),
            (408, ErrorKind::Timeout, Dispatch::NotSent),
            (409, ErrorKind::Rejected, Dispatch::Sent),
            (422, ErrorKind::InvalidInput, Dispatch::Sent),
            (429, ErrorKind::RateLimited, Dispatch::NotSent),
            (500, ErrorKind::Unavailable, Dispatch::MaybeSent),
            (502, ErrorKind::Unavailable, Dispatch::MaybeSent),
            (503, ErrorKind::Unavailable, Dispatch::NotSent),
            (504, ErrorKind::Unavailable, Dispatch::MaybeSent),
            (599, ErrorKind::Unavailable, Dispatch::MaybeSent),
            (402, ErrorKind::Rejected, Dispatch::Sent),
        ];
        for (s, k, d) in cases {
            assert_eq!(status_kind(StatusCode::from_u16(s).unwrap()), (k, d), "{s}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after", "1.5".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        h.insert("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn status_error_keeps_excerpt_and_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        let r = Reply::new(
            StatusCode::TOO_MANY_REQUESTS,
            headers,
            Bytes::from_static(b"slow\n  down"),
        );
        let e = r.error_for_status().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.dispatch(), Dispatch::NotSent);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(e.provider_text(), Some("slow down"));
        assert_eq!(e.http_status(), Some(429));
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_endpoint_and_the_os_reason() {
        // A port that was free a moment ago: nothing listens on it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = HttpOptions::default().build_client().unwrap();
        let url = format!("http://127.0.0.1:{port}/send?api_key=hunter2");
        let e = Reply::send(client.get(&url), 1024).await.unwrap_err();
        let line = e.to_string();
        assert_eq!(e.kind(), ErrorKind::Transport);
        assert_eq!(e.dispatch(), Dispatch::NotSent);
        assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
        assert!(line.to_lowercase().contains("refused"), "{line}");
        assert!(
            !line.contains("hunter2") && !format!("{e:?}").contains("hunter2"),
            "{line}"
        );
    }

    #[test]
    fn a_configuration_error_does_not_say_not_sent() {
        let line = Error::config("the DSN has no host").to_string();
        assert!(!line.contains("not sent"), "{line}");
        assert!(line.ends_with("fix the configuration"), "{line}");
    }

    #[test]
    fn garbage_json_is_a_decode_error() {
        let e = decode_json::<serde_json::Value>(b"<html>oops").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert_eq!(e.dispatch(), Dispatch::Sent);
        assert!(e.provider_text().unwrap().contains("<html>"));
    }
}

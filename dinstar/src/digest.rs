//! HTTP Digest authentication (RFC 7616) that a gateway which bans addresses can live with.
//!
//! Dinstar gateways want Digest (Basic fails on many units), count failed logins and ban the caller's
//! address after a few. So this module:
//!
//! * asks for a challenge **once** (one unauthenticated request per client, not per call as
//!   `curl --anyauth` does; a small GET, so an SMS body is never sent unauthenticated), and while
//!   the nonce lasts answers every request pre-emptively, without a 401;
//! * on a 401 to a pre-emptive answer (the nonce went stale, or the gateway rebooted and forgot it)
//!   answers the challenge that came *with* that 401 — one extra round trip, no unauthenticated probe;
//! * treats a second 401 in a row as refused credentials: an `Auth` error, and no further request for
//!   [`Config::auth_cooldown`](crate::Config::auth_cooldown) (a 403 too: it is how a ban looks);
//! * lets only one task at a time fetch or renew a challenge, so forty concurrent first calls do not
//!   make forty failed logins.
//!
//! The challenge cache is diqwest's [`DigestAuthSession`], driven through its public
//! [`DigestAuthCredentials`] trait rather than through `send_digest_auth`, because diqwest 3.2.0's own
//! flow has defects for this use (found by reading its source, confirmed by `tests/auth.rs` and
//! `tests/digest_rfc.rs`):
//!
//! 1. **A probe on every stale nonce.** On a 401 to a cached answer diqwest drops the cache and sends
//!    the request again *without* credentials, ignoring the fresh (`stale=true`) challenge it just
//!    got: two 401s instead of one, and the unauthenticated one counts as a failed login on units
//!    that count probes. Here that challenge is answered directly.
//! 2. **Only MD5 from the cache.** The cache keeps realm, nonce, opaque and qop but not the algorithm
//!    (nor `userhash`), so after a SHA-256 or `-sess` challenge every pre-emptive answer is plain MD5,
//!    refused — and each call costs a 401, a probe and a second challenge. Such challenges are kept
//!    here whole and answered with `digest_auth` directly; plain MD5 challenges (what Dinstar units
//!    send) go through diqwest's cache.
//! 3. **The first `WWW-Authenticate` only**, and a cache keyed by host without the port. Here the
//!    best Digest challenge among all of them is taken, and the key is `host:port`.
//!
//! Nonce counts are as diqwest makes them: the first answer to a challenge is computed from the
//! challenge itself (`nc=00000001`), later ones from the cache (2, 3, …); every answer carries a new
//! random `cnonce`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use digest_auth::{AuthContext, HttpMethod, WwwAuthenticateHeader};
use diqwest::{DigestAuthCredentials, DigestAuthSession};
use http::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use switchboard_core::http::Reply;
use switchboard_core::{Dispatch, Error, ErrorKind, ExposeSecret, Result, SecretString};
use tokio::time::Instant;

use crate::SCHEME;

/// The Digest state of one client: the cached challenge, the one-at-a-time gate, the cool-down.
pub(crate) struct DigestAuth {
    /// diqwest's cache of MD5 challenges (it also holds the credentials).
    session: DigestAuthSession,
    /// The cache key: `host:port` of the gateway.
    key: String,
    username: String,
    password: SecretString,
    /// A challenge diqwest's cache cannot represent (not plain MD5), answered with digest_auth.
    other: Mutex<Option<WwwAuthenticateHeader>>,
    /// The gateway answered without asking for credentials.
    open: AtomicBool,
    /// Bumped each time a challenge is stored, so a task can tell another one renewed it.
    generation: AtomicU64,
    /// Held while a challenge is fetched or renewed and its first answer is in flight.
    gate: tokio::sync::Mutex<()>,
    /// Requests are refused until then, after the credentials were refused.
    refused_until: Mutex<Option<Instant>>,
    cooldown: Duration,
}

impl std::fmt::Debug for DigestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestAuth")
            .field("key", &self.key)
            .field("username", &self.username)
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// An `Authorization` value and the generation of the challenge it answers.
type Answer = (HeaderValue, u64);

/// One HTTP exchange the Digest flow asks the caller to make.
#[derive(Debug, Clone)]
pub(crate) enum Exchange {
    /// A small idempotent GET that only fetches a challenge.
    Probe,
    /// The request without credentials.
    Plain,
    /// The request with this `Authorization` value.
    Answer(HeaderValue),
}

impl DigestAuth {
    pub(crate) fn new(key: String, username: &str, password: &SecretString, cooldown: Duration) -> Self {
        DigestAuth {
            session: DigestAuthSession::new(username, password.expose_secret()),
            key,
            username: username.to_owned(),
            password: password.clone(),
            other: Mutex::new(None),
            open: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            gate: tokio::sync::Mutex::new(()),
            refused_until: Mutex::new(None),
            cooldown,
        }
    }

    /// Sends a request through the Digest flow (see the [module docs](self)). `send` performs one
    /// HTTP exchange of the kind asked for.
    pub(crate) async fn send<F, Fut>(&self, method: &str, uri: &str, body: Option<&[u8]>, send: F) -> Result<Reply>
    where
        F: Fn(Exchange) -> Fut,
        Fut: std::future::Future<Output = Result<Reply>>,
    {
        self.check_cooldown()?;
        let mut gate = None;
        let mut fresh = false;
        let (mut auth, mut generation) = match self.answer(method, uri, body)? {
            Some(a) => a,
            None if self.open.load(Ordering::SeqCst) => {
                // The gateway asked for no credentials so far.
                let reply = send(Exchange::Plain).await?;
                if reply.status.as_u16() != 401 {
                    return self.pass(reply);
                }
                let g = self.gate.lock().await;
                self.check_cooldown()?;
                self.open.store(false, Ordering::SeqCst);
                let first = match self.answer(method, uri, body)? {
                    Some(a) => a,
                    None => self.renew(&reply.headers, method, uri, body)?,
                };
                fresh = true;
                gate = Some(g);
                first
            }
            None => {
                let g = self.gate.lock().await;
                self.check_cooldown()?;
                match self.answer(method, uri, body)? {
                    // Another task fetched a challenge while this one waited.
                    Some(a) => a,
                    None => {
                        // The one unauthenticated request. A GET is its own probe; anything else is
                        // preceded by a small GET, so an SMS body never goes out unauthenticated.
                        let is_get = method.eq_ignore_ascii_case("GET");
                        let probe = send(if is_get { Exchange::Plain } else { Exchange::Probe }).await?;
                        if probe.status.as_u16() == 401 {
                            let first = self.renew(&probe.headers, method, uri, body)?;
                            fresh = true;
                            gate = Some(g);
                            first
                        } else {
                            let probe = self.pass(probe)?;
                            self.open.store(true, Ordering::SeqCst);
                            if is_get {
                                return Ok(probe);
                            }
                            drop(g);
                            let reply = send(Exchange::Plain).await?;
                            if reply.status.as_u16() != 401 {
                                return self.pass(reply);
                            }
                            let g = self.gate.lock().await;
                            self.check_cooldown()?;
                            self.open.store(false, Ordering::SeqCst);
                            let first = self.renew(&reply.headers, method, uri, body)?;
                            fresh = true;
                            gate = Some(g);
                            first
                        }
                    }
                }
            }
        };
        loop {
            let reply = send(Exchange::Answer(auth.clone())).await?;
            if reply.status.as_u16() != 401 {
                return self.pass(reply);
            }
            if fresh {
                // A 401 to the answer of a challenge just received: the credentials are wrong.
                self.refuse();
                return Err(self.refused_error(&reply));
            }
            // A 401 to a cached answer: the nonce is stale (or forgotten). Renew once, from the
            // challenge that came with this 401, unless another task already did.
            let g = match gate.take() {
                Some(g) => g,
                None => self.gate.lock().await,
            };
            self.check_cooldown()?;
            (auth, generation) = if self.generation.load(Ordering::SeqCst) == generation {
                tracing::debug!(target: "switchboard_dinstar", "digest nonce refused; answering the new challenge");
                self.renew(&reply.headers, method, uri, body)?
            } else {
                self.answer(method, uri, body)?.ok_or_else(lost_challenge)?
            };
            fresh = true;
            gate = Some(g);
        }
    }

    /// Lets an answer through, except a 403, which is how a gateway's ban looks: stop there too.
    fn pass(&self, reply: Reply) -> Result<Reply> {
        if reply.status.as_u16() == 403 {
            self.refuse();
            let mut e = Error::new(
                ErrorKind::Auth,
                format!(
                    "the gateway forbids access (HTTP 403): it may have banned this address after failed logins; \
                     not trying again for {}s",
                    self.cooldown.as_secs()
                ),
            )
            .with_dispatch(Dispatch::NotSent)
            .with_http_status(403)
            .with_provider(SCHEME);
            if !reply.body.is_empty() {
                e = e.with_provider_text(reply.excerpt());
            }
            return Err(e);
        }
        Ok(reply)
    }

    /// The answer to the cached challenge for one request, `None` when no challenge is cached.
    fn answer(&self, method: &str, uri: &str, body: Option<&[u8]>) -> Result<Option<Answer>> {
        let generation = self.generation.load(Ordering::SeqCst);
        {
            let mut other = self.other.lock().map_err(|_| poisoned())?;
            if let Some(prompt) = other.as_mut() {
                let ctx = AuthContext::new_with_method(
                    self.username.as_str(),
                    self.password.expose_secret(),
                    uri,
                    body,
                    HttpMethod::from(method),
                );
                let h = prompt.respond(&ctx).map_err(digest_error)?;
                return header_value(&h.to_header_string()).map(|v| Some((v, generation)));
            }
        }
        let creds = &self.session;
        let cached = creds.cached_context(&self.key).map_err(diqwest_error)?.is_some();
        if !cached {
            return Ok(None);
        }
        match creds.calculate_authorization(&self.key, uri, HttpMethod::from(method), body, &HeaderMap::new()) {
            Ok(h) => header_value(&h.to_header_string()).map(|v| Some((v, generation))),
            // Cleared by another task between the two calls.
            Err(diqwest::error::Error::AuthHeaderMissing) => Ok(None),
            Err(e) => Err(diqwest_error(e)),
        }
    }

    /// Stores the challenge of a 401 and answers it: the first answer to a plain MD5 challenge comes
    /// from the challenge itself (`nc=1`; the cache then counts on from 2), anything else from the
    /// challenge kept aside.
    fn renew(&self, headers: &HeaderMap, method: &str, uri: &str, body: Option<&[u8]>) -> Result<Answer> {
        let fresh = self.store(headers)?;
        let generation = self.generation.load(Ordering::SeqCst);
        match fresh {
            Some(mut prompt) => {
                let ctx = AuthContext::new_with_method(
                    self.username.as_str(),
                    self.password.expose_secret(),
                    uri,
                    body,
                    HttpMethod::from(method),
                );
                let h = prompt.respond(&ctx).map_err(digest_error)?;
                Ok((header_value(&h.to_header_string())?, generation))
            }
            None => self.answer(method, uri, body)?.ok_or_else(lost_challenge),
        }
    }

    /// Stores the best Digest challenge of a 401: plain MD5 in diqwest's cache (and returned, to be
    /// answered first), anything else aside.
    fn store(&self, headers: &HeaderMap) -> Result<Option<WwwAuthenticateHeader>> {
        let (raw, prompt) = pick_challenge(headers)?;
        let creds = &self.session;
        let plain_md5 = prompt.algorithm == digest_auth::Algorithm::default() && !prompt.userhash;
        {
            let mut other = self.other.lock().map_err(|_| poisoned())?;
            let fresh = if plain_md5 {
                *other = None;
                creds.store_context(&self.key, &raw).map_err(diqwest_error)?;
                if creds.cached_context(&self.key).map_err(diqwest_error)?.is_none() {
                    return Err(
                        Error::new(ErrorKind::Auth, "the gateway's Digest challenge could not be read")
                            .with_provider(SCHEME),
                    );
                }
                Some(prompt)
            } else {
                creds.clear_context(&self.key).map_err(diqwest_error)?;
                *other = Some(prompt);
                None
            };
            self.generation.fetch_add(1, Ordering::SeqCst);
            Ok(fresh)
        }
    }

    fn check_cooldown(&self) -> Result<()> {
        let until = *self.refused_until.lock().map_err(|_| poisoned())?;
        match until {
            Some(t) if Instant::now() < t => Err(Error::new(
                ErrorKind::Auth,
                format!(
                    "the gateway refused these credentials; not trying again for another {}s so it does not \
                     ban this address (fix them, then call reset_auth)",
                    t.saturating_duration_since(Instant::now()).as_secs().max(1)
                ),
            )
            .with_dispatch(Dispatch::NotSent)
            .with_provider(SCHEME)),
            _ => Ok(()),
        }
    }

    /// Starts the cool-down and forgets the challenge.
    fn refuse(&self) {
        if let Ok(mut r) = self.refused_until.lock() {
            *r = (!self.cooldown.is_zero()).then(|| Instant::now() + self.cooldown);
        }
        self.forget();
    }

    fn refused_error(&self, reply: &Reply) -> Error {
        Error::new(
            ErrorKind::Auth,
            format!(
                "the gateway refused the user name or password (401 twice in a row); not trying again for {}s \
                 so it does not ban this address",
                self.cooldown.as_secs()
            ),
        )
        .with_dispatch(Dispatch::NotSent)
        .with_http_status(reply.status.as_u16())
        .with_provider(SCHEME)
    }

    fn forget(&self) {
        let _ = (&self.session).clear_context(&self.key);
        if let Ok(mut o) = self.other.lock() {
            *o = None;
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Ends a cool-down and forgets the challenge (after the credentials were fixed).
    pub(crate) fn reset(&self) {
        if let Ok(mut r) = self.refused_until.lock() {
            *r = None;
        }
        self.forget();
    }

    /// Whether requests are currently refused after a failed login.
    pub(crate) fn cooling_down(&self) -> bool {
        self.check_cooldown().is_err()
    }
}

/// The Digest challenge to answer among a 401's `WWW-Authenticate` headers: plain MD5 first (what
/// the cache represents and Dinstar units send), else the first one that parses.
fn pick_challenge(headers: &HeaderMap) -> Result<(String, WwwAuthenticateHeader)> {
    let values: Vec<&str> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let mut parsed = Vec::new();
    for v in &values {
        let v = v.trim();
        let Some((scheme, rest)) = v.split_once(char::is_whitespace) else {
            continue;
        };
        if !scheme.eq_ignore_ascii_case("digest") {
            continue;
        }
        let raw = format!("Digest {}", rest.trim());
        if let Ok(p) = digest_auth::parse(&raw) {
            parsed.push((raw, p));
        }
    }
    let md5 = parsed
        .iter()
        .position(|(_, p)| p.algorithm == digest_auth::Algorithm::default() && !p.userhash);
    match md5 {
        Some(i) => Ok(parsed.swap_remove(i)),
        None if !parsed.is_empty() => Ok(parsed.swap_remove(0)),
        None => {
            let basic = values
                .iter()
                .any(|v| v.trim_start().to_ascii_lowercase().starts_with("basic"));
            Err(Error::new(
                ErrorKind::Auth,
                if basic {
                    "the gateway asks for Basic authentication; this client answers Digest only, so the password \
                     never crosses the LAN in clear"
                } else {
                    "the gateway answered 401 without a Digest challenge this client can read"
                },
            )
            .with_dispatch(Dispatch::NotSent)
            .with_http_status(401)
            .with_provider(SCHEME))
        }
    }
}

fn header_value(s: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(s).map_err(|_| {
        Error::config("the Digest answer is not a valid header (a user name with control characters?)")
            .with_provider(SCHEME)
    })
}

fn lost_challenge() -> Error {
    Error::new(
        ErrorKind::Auth,
        "the Digest challenge was lost before it could be answered",
    )
    .with_dispatch(Dispatch::NotSent)
    .with_provider(SCHEME)
}

fn poisoned() -> Error {
    Error::new(ErrorKind::Unavailable, "the Digest state is poisoned by a panic")
        .with_dispatch(Dispatch::NotSent)
        .with_provider(SCHEME)
}

fn digest_error(e: digest_auth::Error) -> Error {
    Error::new(ErrorKind::Auth, "the gateway's Digest challenge could not be answered")
        .with_dispatch(Dispatch::NotSent)
        .with_provider(SCHEME)
        .with_source(e.to_string())
}

fn diqwest_error(e: diqwest::error::Error) -> Error {
    Error::new(ErrorKind::Auth, "the Digest session failed")
        .with_dispatch(Dispatch::NotSent)
        .with_provider(SCHEME)
        .with_source(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(WWW_AUTHENTICATE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn md5_is_preferred_and_basic_is_refused() {
        let h = headers(&[
            r#"Digest realm="r", nonce="n1", qop="auth", algorithm=SHA-256"#,
            r#"Digest realm="r", nonce="n2", qop="auth", algorithm=MD5"#,
        ]);
        let (_, p) = pick_challenge(&h).unwrap();
        assert_eq!(p.nonce, "n2");
        let h = headers(&[r#"digest realm="r", nonce="n3", qop="auth""#]);
        assert_eq!(pick_challenge(&h).unwrap().1.nonce, "n3");
        let e = pick_challenge(&headers(&[r#"Basic realm="x""#])).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(e.to_string().contains("Basic"));
        assert!(pick_challenge(&HeaderMap::new()).is_err());
    }

    #[test]
    fn counts_run_on_from_one_through_the_cache() {
        let a = DigestAuth::new(
            "h:1".into(),
            "Mufasa",
            &SecretString::from("Circle of Life"),
            Duration::ZERO,
        );
        assert!(a.answer("GET", "/x", None).unwrap().is_none());
        let h = headers(&[
            r#"Digest realm="http-auth@example.org", qop="auth", algorithm=MD5, nonce="7ypf", opaque="FQhe""#,
        ]);
        let first = a.renew(&h, "GET", "/x", None).unwrap().0;
        let second = a.answer("GET", "/x", None).unwrap().unwrap().0;
        let third = a.answer("GET", "/x", None).unwrap().unwrap().0;
        for (v, nc) in [
            (&first, "nc=00000001"),
            (&second, "nc=00000002"),
            (&third, "nc=00000003"),
        ] {
            assert!(v.to_str().unwrap().contains(nc), "{v:?}");
        }
        // A SHA-256 challenge is kept whole and answered with SHA-256, counting from 1.
        let h = headers(&[r#"Digest realm="r", qop="auth", algorithm=SHA-256, nonce="s1""#]);
        let sha = a.renew(&h, "GET", "/x", None).unwrap().0;
        let sha = sha.to_str().unwrap();
        assert!(
            sha.contains("algorithm=SHA-256") && sha.contains("nc=00000001"),
            "{sha}"
        );
        a.reset();
        assert!(a.answer("GET", "/x", None).unwrap().is_none());
    }
}

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
//!   [`DinstarConfig::auth_cooldown`](crate::DinstarConfig::auth_cooldown) (a 403 too: it is how a ban looks);
//! * lets only one task at a time fetch or renew a challenge, so forty concurrent first calls do not
//!   make forty failed logins.
//!
//! The Digest arithmetic (challenge parsing, MD5 / SHA-256 / SHA-512-256, `-sess`, `qop`, `userhash`)
//! is [`switchboard_core::digest`]; this module is the flow around it. It keeps the latest challenge
//! whole (algorithm included) with its nonce count: the first answer to a challenge is `nc=00000001`,
//! later ones count on (2, 3, …), and every answer carries a new random `cnonce`. Among several
//! `WWW-Authenticate` headers, plain MD5 is taken when offered (what Dinstar units send), else the first
//! Digest challenge that parses; the state is per client, so per `host:port`.
//!
//! (It replaces diqwest 3.2.0, whose own flow probed again without credentials on every stale nonce,
//! answered SHA-256 and `-sess` challenges with MD5 from its cache, read only the first
//! `WWW-Authenticate` header and keyed its cache by host without the port; `src/tests/auth.rs` and
//! `src/tests/digest_rfc.rs` show each against the same servers.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use switchboard_core::digest::{self, Algorithm, Challenge, Request};
use switchboard_core::http::Reply;
use switchboard_core::{Dispatch, Error, ErrorKind, ExposeSecret, Result, SecretString};
use tokio::time::Instant;

use crate::SCHEME;

/// The Digest state of one client: the cached challenge, the one-at-a-time gate, the cool-down.
pub(crate) struct DigestAuth {
    /// `host:port` of the gateway (for `Debug`).
    key: String,
    username: String,
    password: SecretString,
    /// The challenge being answered and the nonce count of its last answer.
    cached: Mutex<Option<(Challenge, u32)>>,
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
            key,
            username: username.to_owned(),
            password: password.clone(),
            cached: Mutex::new(None),
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
        let mut cached = self.cached.lock().map_err(|_| poisoned())?;
        let Some((challenge, nc)) = cached.as_mut() else {
            return Ok(None);
        };
        *nc += 1;
        let request = Request::new(method, uri).with_body(body);
        let value = challenge.authorization(
            &self.username,
            self.password.expose_secret(),
            &request,
            *nc,
            &digest::cnonce(),
        );
        header_value(&value).map(|v| Some((v, generation)))
    }

    /// Stores the challenge of a 401 and answers it (`nc=1`).
    fn renew(&self, headers: &HeaderMap, method: &str, uri: &str, body: Option<&[u8]>) -> Result<Answer> {
        self.store(headers)?;
        self.answer(method, uri, body)?.ok_or_else(lost_challenge)
    }

    /// Stores the best Digest challenge of a 401, its nonce count back at zero.
    fn store(&self, headers: &HeaderMap) -> Result<()> {
        let challenge = pick_challenge(headers)?;
        let mut cached = self.cached.lock().map_err(|_| poisoned())?;
        *cached = Some((challenge, 0));
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
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
        if let Ok(mut c) = self.cached.lock() {
            *c = None;
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
/// Dinstar units send), else the first one that parses.
fn pick_challenge(headers: &HeaderMap) -> Result<Challenge> {
    let values: Vec<&str> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let mut parsed: Vec<Challenge> = values.iter().filter_map(|v| Challenge::parse(v).ok()).collect();
    let md5 = parsed.iter().position(|c| c.algorithm == Algorithm::Md5 && !c.userhash);
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
        let p = pick_challenge(&h).unwrap();
        assert_eq!(p.nonce, "n2");
        let h = headers(&[r#"digest realm="r", nonce="n3", qop="auth""#]);
        assert_eq!(pick_challenge(&h).unwrap().nonce, "n3");
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

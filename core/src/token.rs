//! The access-token cache: one token shared by every call, refreshed before it expires, fetched by a
//! single flight.
//!
//! * **Refresh before expiry.** A token is used until `expires_in − margin` (margin: 5 minutes by
//!   default, at most half the lifetime). After that the next call refreshes it.
//! * **Single flight.** When many calls find no valid token at once, exactly one of them fetches; the
//!   others wait on the same lock and take its result — the new token, or the same failure (so fifty
//!   sends with a wrong key make one token request and fifty `Auth` errors, not fifty requests).
//! * **Invalidation.** A call answered 401 invalidates the token it used ([`TokenCache::invalidate`]
//!   names the token's generation, so fifty concurrent 401s on one token cause one refresh, not fifty).
//!
//! The cache does not know HTTP: [`TokenCache::get`] is given the fetch to run, which receives the
//! refresh token of the previous grant, if any, and decides between a refresh and a full
//! authentication.
//!
//! Every integration with an expiring credential uses it: MightyCall's 24-hour tokens, FCM's
//! service-account tokens, TeleCMI's user tokens.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::secret::SecretString;

use crate::clock::Clock;

/// What a token endpoint granted.
#[derive(Clone)]
pub struct Grant {
    /// The bearer token.
    pub access_token: SecretString,
    /// The refresh token, when one was given.
    pub refresh_token: Option<SecretString>,
    /// How long the access token lives.
    pub expires_in: Duration,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("access_token", &"***")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// An access token handed to a call, with the generation to name when the call is answered 401.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer token.
    pub secret: SecretString,
    /// Which grant it came from (1 for the first).
    pub generation: u64,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccessToken(generation {}, ***)", self.generation)
    }
}

struct Cached {
    token: AccessToken,
    refresh: Option<SecretString>,
    use_until: Instant,
    invalidated: bool,
}

/// Where the cache stands, for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenState {
    /// No token was ever fetched (or the cache was cleared).
    Empty,
    /// A token is in use for this much longer before it is refreshed.
    Valid {
        /// Time left before the proactive refresh.
        refresh_in: Duration,
        /// The token's generation.
        generation: u64,
    },
    /// The token is due for refresh (expired, near expiry, or refused by a call).
    Stale {
        /// The token's generation.
        generation: u64,
    },
}

/// The cache. See the [module docs](self).
pub struct TokenCache {
    current: RwLock<Option<Cached>>,
    /// Held by the one fetch in flight; holds the failure of the last flight, handed to its waiters.
    flight: tokio::sync::Mutex<Option<Error>>,
    /// Flights completed, so a waiter can tell that a flight ended while it waited.
    completed: AtomicU64,
    generations: AtomicU64,
    clock: Arc<dyn Clock>,
    margin: Duration,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("state", &self.state())
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// An empty cache that refreshes `margin` before expiry, reading `clock`.
    pub fn new(clock: Arc<dyn Clock>, margin: Duration) -> TokenCache {
        TokenCache {
            current: RwLock::new(None),
            flight: tokio::sync::Mutex::new(None),
            completed: AtomicU64::new(0),
            generations: AtomicU64::new(0),
            clock,
            margin,
        }
    }

    /// The valid token, or a fresh one from a single flight of `fetch` (see the [module docs](self)).
    /// `fetch` gets the previous grant's refresh token, if any.
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<AccessToken>
    where
        F: FnOnce(Option<SecretString>) -> Fut,
        Fut: Future<Output = Result<Grant>>,
    {
        let seen = self.completed.load(Ordering::Acquire);
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        let mut last_failure = self.flight.lock().await;
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        if self.completed.load(Ordering::Acquire) != seen
            && let Some(e) = last_failure.as_ref()
        {
            // A flight ended while we waited and failed: share its answer instead of asking again.
            return Err(e.replicate());
        }
        let refresh = self.read().as_ref().and_then(|c| c.refresh.clone());
        let result = match fetch(refresh).await {
            Ok(grant) => {
                *last_failure = None;
                Ok(self.store(grant))
            }
            Err(e) => {
                *last_failure = Some(e.replicate());
                Err(e)
            }
        };
        self.completed.fetch_add(1, Ordering::AcqRel);
        result
    }

    /// Marks the token of `generation` as refused, so the next [`TokenCache::get`] refreshes it. A later
    /// generation is left alone (another call already replaced the token).
    pub fn invalidate(&self, generation: u64) {
        let mut cur = self.current.write().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cur.as_mut()
            && c.token.generation == generation
        {
            c.invalidated = true;
        }
    }

    /// Forgets the token and its refresh token.
    pub fn clear(&self) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Where the cache stands.
    pub fn state(&self) -> TokenState {
        let now = self.clock.now();
        match self.read().as_ref() {
            None => TokenState::Empty,
            Some(c) if !c.invalidated && now < c.use_until => TokenState::Valid {
                refresh_in: c.use_until - now,
                generation: c.token.generation,
            },
            Some(c) => TokenState::Stale {
                generation: c.token.generation,
            },
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Option<Cached>> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    fn fresh(&self) -> Option<AccessToken> {
        let now = self.clock.now();
        self.read()
            .as_ref()
            .filter(|c| !c.invalidated && now < c.use_until)
            .map(|c| c.token.clone())
    }

    fn store(&self, grant: Grant) -> AccessToken {
        let margin = self.margin.min(grant.expires_in / 2);
        let generation = self.generations.fetch_add(1, Ordering::AcqRel) + 1;
        let token = AccessToken {
            secret: grant.access_token,
            generation,
        };
        let now = self.clock.now();
        let cached = Cached {
            token: token.clone(),
            refresh: grant.refresh_token,
            use_until: now.checked_add(grant.expires_in - margin).unwrap_or(now),
            invalidated: false,
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(cached);
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::{ErrorKind, ExposeSecret};
    use std::sync::atomic::AtomicUsize;

    fn grant(n: usize) -> Grant {
        Grant {
            access_token: SecretString::from(format!("access-{n}")),
            refresh_token: Some(SecretString::from(format!("refresh-{n}"))),
            expires_in: Duration::from_secs(86_400),
        }
    }

    #[tokio::test]
    async fn refreshes_before_expiry_with_the_refresh_token() {
        let clock = ManualClock::new();
        let cache = TokenCache::new(Arc::new(clock.clone()), Duration::from_secs(300));
        let t = cache
            .get(|r| async move {
                assert!(r.is_none());
                Ok(grant(1))
            })
            .await
            .unwrap();
        assert_eq!(t.generation, 1);
        clock.advance(Duration::from_secs(86_400 - 301));
        let t = cache.get(|_| async { panic!("still valid") }).await.unwrap();
        assert_eq!(t.secret.expose_secret(), "access-1");
        clock.advance(Duration::from_secs(2));
        let t = cache
            .get(|r| async move {
                assert_eq!(r.unwrap().expose_secret(), "refresh-1");
                Ok(grant(2))
            })
            .await
            .unwrap();
        assert_eq!((t.generation, t.secret.expose_secret()), (2, "access-2"));
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_flight_and_its_failure() {
        let cache = Arc::new(TokenCache::new(Arc::new(ManualClock::new()), Duration::from_secs(300)));
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|_| async move {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Err::<Grant, _>(Error::new(ErrorKind::Auth, "invalid_client"))
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap_err().kind(), ErrorKind::Auth);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // A later call tries again.
        assert!(cache.get(|_| async { Ok(grant(1)) }).await.is_ok());
    }

    #[tokio::test]
    async fn invalidation_names_a_generation() {
        let cache = TokenCache::new(Arc::new(ManualClock::new()), Duration::from_secs(300));
        let t1 = cache.get(|_| async { Ok(grant(1)) }).await.unwrap();
        cache.invalidate(t1.generation);
        assert_eq!(cache.state(), TokenState::Stale { generation: 1 });
        let t2 = cache.get(|_| async { Ok(grant(2)) }).await.unwrap();
        cache.invalidate(t1.generation); // stale 401 from an older call: ignored
        assert!(matches!(cache.state(), TokenState::Valid { generation: 2, .. }));
        assert_eq!(t2.generation, 2);
    }

    #[test]
    fn short_lived_tokens_keep_half_their_life() {
        let clock = ManualClock::new();
        let cache = TokenCache::new(Arc::new(clock.clone()), Duration::from_secs(300));
        cache.store(Grant {
            expires_in: Duration::from_secs(60),
            ..grant(1)
        });
        assert!(matches!(cache.state(), TokenState::Valid { refresh_in, .. } if refresh_in == Duration::from_secs(30)));
        clock.advance(Duration::from_secs(31));
        assert_eq!(cache.state(), TokenState::Stale { generation: 1 });
    }
}

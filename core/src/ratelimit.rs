//! Rate limits: a token bucket per transport, so a burst of sends does not trip a provider's limit.
//!
//! [`RateLimiter`] is a trait so that a host running many workers can share one limit through its own
//! store (Redis, say); [`TokenBucket`] is the in-process implementation on `governor`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota};

use crate::error::{Dispatch, Error, ErrorKind, Result};

/// Something that hands out permission to send.
#[async_trait]
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// Waits until one more request may go out.
    async fn acquire(&self);

    /// Takes a permit if one is free now; otherwise a `RateLimited`, `NotSent` error saying how long
    /// to wait.
    fn try_acquire(&self) -> Result<()>;
}

/// An in-process token bucket: `per_second` sustained, bursts up to `burst`.
#[derive(Clone)]
pub struct TokenBucket {
    inner: Arc<DefaultDirectRateLimiter>,
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl TokenBucket {
    /// A bucket allowing `per_second` requests a second with bursts of `burst`. Zero is taken as one.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        TokenBucket {
            inner: Arc::new(DefaultDirectRateLimiter::direct(quota)),
            per_second,
            burst,
        }
    }

    /// A bucket allowing one request every `period`, bursts of `burst`.
    pub fn every(period: Duration, burst: u32) -> Result<Self> {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .ok_or_else(|| Error::config("a rate-limit period must be longer than zero"))?
            .allow_burst(burst);
        let per_second =
            NonZeroU32::new((1.0 / period.as_secs_f64()).ceil().max(1.0) as u32).unwrap_or(NonZeroU32::MIN);
        Ok(TokenBucket {
            inner: Arc::new(DefaultDirectRateLimiter::direct(quota)),
            per_second,
            burst,
        })
    }
}

impl std::fmt::Debug for TokenBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBucket")
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .finish()
    }
}

#[async_trait]
impl RateLimiter for TokenBucket {
    async fn acquire(&self) {
        self.inner.until_ready().await;
    }

    fn try_acquire(&self) -> Result<()> {
        self.inner.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            Error::new(ErrorKind::RateLimited, "the local rate limit is reached")
                .with_dispatch(Dispatch::NotSent)
                .with_retry_after(wait)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_with_a_wait() {
        let b = TokenBucket::new(1, 3);
        for _ in 0..3 {
            b.try_acquire().unwrap();
        }
        let e = b.try_acquire().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.dispatch(), Dispatch::NotSent);
        assert!(e.retry_after().unwrap() <= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn acquire_waits_for_a_permit() {
        let b = TokenBucket::every(Duration::from_millis(20), 1).unwrap();
        let start = std::time::Instant::now();
        b.acquire().await;
        b.acquire().await;
        assert!(start.elapsed() >= Duration::from_millis(15));
    }

    #[test]
    fn zero_period_is_a_config_error() {
        assert_eq!(
            TokenBucket::every(Duration::ZERO, 1).unwrap_err().kind(),
            ErrorKind::Config
        );
    }
}

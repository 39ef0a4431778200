//! Rate limits: a token bucket per transport, so a burst of sends does not trip a provider's limit.
//!
//! [`RateLimiter`] is a trait so that a host running many workers can share one limit through its own
//! store (the store crate's Redis limiter, say); [`TokenBucket`] is the in-process implementation.
//!
//! The bucket is GCRA (the generic cell rate algorithm, ITU-T I.371): one timestamp, the "theoretical
//! arrival time" of the next request, instead of a token count refilled by a timer. A request at `now`
//! is allowed when that time is at most `burst - 1` intervals ahead of `now`, and pushes it one interval
//! further. It is the same algorithm as the Redis limiter, so a limit behaves alike in one process and
//! across replicas, and it needs no background task. Time is Tokio's clock, so a paused test clock
//! drives it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

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

/// An in-process token bucket: one request every `interval` sustained, bursts up to `burst`.
#[derive(Clone)]
pub struct TokenBucket {
    /// The theoretical arrival time of the next request; `None` until the first.
    next: Arc<Mutex<Option<Instant>>>,
    interval: Duration,
    burst: u32,
}

impl TokenBucket {
    /// A bucket allowing `per_second` requests a second with bursts of `burst`. Zero is taken as one.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let interval = Duration::from_secs(1) / per_second.max(1);
        Self::with_interval(interval, burst)
    }

    /// A bucket allowing one request every `period`, bursts of `burst` (zero is taken as one).
    pub fn every(period: Duration, burst: u32) -> Result<Self> {
        if period.is_zero() {
            return Err(Error::config("a rate-limit period must be longer than zero"));
        }
        Ok(Self::with_interval(period, burst))
    }

    fn with_interval(interval: Duration, burst: u32) -> Self {
        TokenBucket {
            next: Arc::new(Mutex::new(None)),
            interval,
            burst: burst.max(1),
        }
    }

    /// Takes a permit at `now`, or answers how long until one is free.
    fn take(&self, now: Instant) -> std::result::Result<(), Duration> {
        // How far ahead of `now` the next arrival may be: `burst - 1` intervals.
        let tolerance = self.interval.saturating_mul(self.burst - 1);
        // A poisoned lock only means another thread panicked between two plain assignments.
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let arrival = next.map_or(now, |t| t.max(now));
        let ahead = arrival - now;
        if ahead > tolerance {
            return Err(ahead - tolerance);
        }
        *next = Some(arrival + self.interval);
        Ok(())
    }
}

impl std::fmt::Debug for TokenBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenBucket")
            .field("interval", &self.interval)
            .field("burst", &self.burst)
            .finish()
    }
}

#[async_trait]
impl RateLimiter for TokenBucket {
    async fn acquire(&self) {
        // Another waiter may take the permit this one waited for; then it waits again.
        while let Err(wait) = self.take(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }

    fn try_acquire(&self) -> Result<()> {
        self.take(Instant::now()).map_err(|wait| {
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

    #[tokio::test(start_paused = true)]
    async fn the_sustained_rate_holds_after_the_burst() {
        let b = TokenBucket::new(10, 5);
        let start = Instant::now();
        for _ in 0..25 {
            b.acquire().await;
        }
        // 5 at once, then 20 more at 10 a second.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        let e = b.try_acquire().unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_millis(100)));
        tokio::time::advance(Duration::from_millis(100)).await;
        b.try_acquire().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bucket_refills_only_up_to_its_burst() {
        let b = TokenBucket::new(1, 2);
        tokio::time::advance(Duration::from_secs(60)).await;
        b.try_acquire().unwrap();
        b.try_acquire().unwrap();
        assert!(b.try_acquire().is_err(), "a minute idle does not bank 60 permits");
    }

    #[test]
    fn zero_period_is_a_config_error() {
        assert_eq!(
            TokenBucket::every(Duration::ZERO, 1).unwrap_err().kind(),
            ErrorKind::Config
        );
    }
}

//! Retrying by the rules: only temporary failures, and only when a repeat cannot duplicate anything.
//!
//! A [`RetryPolicy`] says how often and how long to wait (exponential backoff with jitter, capped,
//! honouring the provider's `Retry-After`). [`RetryPolicy::run`] applies it to an operation, and asks
//! the caller to state whether the operation is `idempotent`:
//!
//! * an error that is not temporary ([`Error::is_retryable`]) is returned at once;
//! * a temporary error with [`Dispatch::NotSent`](crate::Dispatch::NotSent) is retried;
//! * a temporary error with `MaybeSent`/`Sent` is retried only when the operation is idempotent (a read,
//!   a POST with an idempotency key the provider honours). A non-idempotent send that timed out is
//!   returned to the caller, who can reconcile it (look it up) before deciding anything.

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};

use crate::error::{Error, Result};

/// Whether repeating an operation can duplicate its effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotence {
    /// Repeating it can have its effect twice (sending an SMS, charging without a key).
    NotIdempotent,
    /// Repeating it is harmless (a read, a keyed POST, a cancel).
    Idempotent,
}

impl Idempotence {
    fn allows(self) -> bool {
        self == Idempotence::Idempotent
    }
}

/// How to retry. The default: 3 attempts in all, 200 ms doubling to at most 5 s, with jitter.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means never retry.
    pub max_attempts: usize,
    /// The first delay.
    pub min_delay: Duration,
    /// The longest delay between attempts (a longer `Retry-After` is still honoured up to
    /// [`RetryPolicy::max_retry_after`]).
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the error is returned instead.
    pub max_retry_after: Duration,
    /// Randomise delays so that many clients do not retry in lockstep.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts in all.
    pub fn with_max_attempts(mut self, attempts: usize) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first and the longest delay.
    pub fn with_delays(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max.max(min);
        self
    }

    /// Turns jitter on or off (off makes tests deterministic).
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    fn backoff(&self) -> ExponentialBuilder {
        let b = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_max_times(self.max_attempts.saturating_sub(1));
        if self.jitter { b.with_jitter() } else { b }
    }

    /// Whether an error may be retried under this policy for an operation of this idempotence.
    pub fn should_retry(&self, err: &Error, idempotence: Idempotence) -> bool {
        err.is_safe_to_retry(idempotence.allows())
            && err.retry_after().is_none_or(|after| after <= self.max_retry_after)
    }

    /// Runs `op`, retrying as the [module docs](self) say. The delays are those of the backoff, except
    /// that a provider's `Retry-After` replaces a shorter one.
    pub async fn run<T, F, Fut>(&self, idempotence: Idempotence, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if self.max_attempts <= 1 {
            let mut op = op;
            return op().await;
        }
        let backoff = self.backoff();
        op.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &Error| self.should_retry(e, idempotence))
            .adjust(
                |e: &Error, planned: Option<Duration>| match (planned, e.retry_after()) {
                    (Some(p), Some(after)) => Some(p.max(after)),
                    (p, _) => p,
                },
            )
            .notify(|e: &Error, after: Duration| {
                tracing::debug!(error = %e, wait_ms = after.as_millis() as u64, "retrying");
            })
            .await
    }

    /// The delays this policy would wait between attempts, ignoring `Retry-After` (for docs and tests).
    pub fn delays(&self) -> Vec<Duration> {
        self.backoff().build().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Dispatch, ErrorKind};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn fast() -> RetryPolicy {
        RetryPolicy::default()
            .with_max_attempts(4)
            .with_delays(Duration::from_millis(1), Duration::from_millis(2))
            .with_jitter(false)
    }

    async fn count_attempts(policy: &RetryPolicy, idem: Idempotence, err: fn() -> Error) -> (usize, Result<()>) {
        let n = AtomicUsize::new(0);
        let r = policy
            .run(idem, || {
                n.fetch_add(1, Ordering::SeqCst);
                async move { Err::<(), _>(err()) }
            })
            .await;
        (n.load(Ordering::SeqCst), r)
    }

    #[tokio::test]
    async fn not_sent_temporary_errors_are_retried() {
        let (n, r) = count_attempts(&fast(), Idempotence::NotIdempotent, || {
            Error::new(ErrorKind::Transport, "refused").with_dispatch(Dispatch::NotSent)
        })
        .await;
        assert_eq!(n, 4);
        assert!(r.is_err());
    }

    #[tokio::test]
    async fn maybe_sent_is_never_retried_unless_idempotent() {
        let e = || Error::new(ErrorKind::Timeout, "slow");
        let (n, _) = count_attempts(&fast(), Idempotence::NotIdempotent, e).await;
        assert_eq!(n, 1, "a timed-out send must not be repeated blindly");
        let (n, _) = count_attempts(&fast(), Idempotence::Idempotent, e).await;
        assert_eq!(n, 4);
    }

    #[tokio::test]
    async fn sent_temporary_only_when_idempotent() {
        let e = || Error::new(ErrorKind::Unavailable, "500").with_dispatch(Dispatch::Sent);
        assert_eq!(count_attempts(&fast(), Idempotence::NotIdempotent, e).await.0, 1);
        assert_eq!(count_attempts(&fast(), Idempotence::Idempotent, e).await.0, 4);
    }

    #[tokio::test]
    async fn permanent_errors_are_never_retried() {
        for kind in [
            ErrorKind::InvalidInput,
            ErrorKind::Auth,
            ErrorKind::Rejected,
            ErrorKind::Decode,
        ] {
            let policy = fast();
            let n = AtomicUsize::new(0);
            let _ = policy
                .run(Idempotence::Idempotent, || {
                    n.fetch_add(1, Ordering::SeqCst);
                    async move { Err::<(), _>(Error::new(kind, "x").with_dispatch(Dispatch::NotSent)) }
                })
                .await;
            assert_eq!(n.load(Ordering::SeqCst), 1, "{kind:?}");
        }
    }

    #[tokio::test]
    async fn success_after_a_transient_failure() {
        let n = AtomicUsize::new(0);
        let r = fast()
            .run(Idempotence::NotIdempotent, || {
                let k = n.fetch_add(1, Ordering::SeqCst);
                async move {
                    if k == 0 {
                        Err(Error::new(ErrorKind::RateLimited, "429").with_dispatch(Dispatch::NotSent))
                    } else {
                        Ok(k)
                    }
                }
            })
            .await;
        assert_eq!(r.unwrap(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured() {
        let start = tokio::time::Instant::now();
        let n = AtomicUsize::new(0);
        let _ = fast()
            .with_max_attempts(2)
            .run(Idempotence::NotIdempotent, || {
                let k = n.fetch_add(1, Ordering::SeqCst);
                async move {
                    if k == 0 {
                        Err(Error::new(ErrorKind::RateLimited, "429")
                            .with_dispatch(Dispatch::NotSent)
                            .with_retry_after(Duration::from_secs(7)))
                    } else {
                        Ok(())
                    }
                }
            })
            .await;
        assert!(start.elapsed() >= Duration::from_secs(7));
    }

    #[test]
    fn too_long_retry_after_is_not_waited_for() {
        let e = Error::new(ErrorKind::RateLimited, "429")
            .with_dispatch(Dispatch::NotSent)
            .with_retry_after(Duration::from_secs(3600));
        assert!(!RetryPolicy::default().should_retry(&e, Idempotence::Idempotent));
    }

    #[test]
    fn never_means_one_attempt() {
        assert!(RetryPolicy::never().delays().is_empty());
        assert_eq!(fast().delays().len(), 3);
    }
}

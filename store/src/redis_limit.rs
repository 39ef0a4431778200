//! Rate limits shared by every process through one Redis server; documented on [`RedisRateLimiter`],
//! where users see it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use switchboard_core::secret::redact_url;
use switchboard_core::{Dispatch, Error, ErrorKind, RateLimiter, Result, TokenBucket};

/// The script: `KEYS[1]` holds the limit's theoretical arrival time in microseconds since the epoch;
/// `ARGV` are the emission interval `T` in microseconds, the burst `B`, and the mode — `take` (only a
/// slot free now) or `reserve` (the next slot, however far ahead). Answers `{taken, wait_us}`.
const GCRA: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local next_tat = tat + interval
local wait = next_tat - interval * burst - now
if wait > 0 and ARGV[3] == 'take' then
  return {0, wait}
end
if wait < 0 then wait = 0 end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1000)
return {1, wait}
";

/// A named limit: one request every `interval`, bursts of up to `burst` at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLimit {
    name: String,
    interval: Duration,
    burst: u32,
}

impl SharedLimit {
    /// `per_second` requests a second, up to that many at once (`"telegram:bot-42"`, 30).
    pub fn per_second(name: impl Into<String>, per_second: u32) -> Self {
        let n = per_second.max(1);
        SharedLimit {
            name: name.into(),
            interval: Duration::from_secs(1) / n,
            burst: n,
        }
    }

    /// One request every `interval`, one at a time (`"gateway:sim-3"`, 6 seconds).
    pub fn every(name: impl Into<String>, interval: Duration) -> Self {
        SharedLimit {
            name: name.into(),
            interval,
            burst: 1,
        }
    }

    /// Allows bursts of up to `burst` requests at once (at least 1).
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }
}

/// A connection to the Redis server that holds the shared limits; [`RedisLimits::limit`] makes a
/// [`RedisRateLimiter`] for each named limit, all sharing the connection.
#[derive(Clone)]
pub struct RedisLimits {
    inner: Arc<Connection>,
}

struct Connection {
    manager: ConnectionManager,
    client: redis::Client,
    /// For `try_acquire`, which the trait makes synchronous: a blocking connection of its own.
    blocking: Mutex<Option<redis::Connection>>,
    timeout: Duration,
    shown: String,
    prefix: String,
    script: redis::Script,
}

impl std::fmt::Debug for RedisLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimits")
            .field("server", &self.inner.shown)
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLimits {
    /// Connects to `url` (`redis://[:password@]host:port/db`, `rediss://` is not built in), with keys
    /// under `switchboard:rate:` and a one-second answer timeout.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, "switchboard:rate:", Duration::from_secs(1)).await
    }

    /// Connects with keys named `{prefix}{limit name}` and `timeout` for each answer (past it, the
    /// call counts as Redis being unreachable).
    pub async fn connect_with(url: &str, prefix: &str, timeout: Duration) -> Result<Self> {
        let shown = redact_url(url);
        let client = redis::Client::open(url)
            .map_err(|e| Error::config(format!("the Redis URL {shown} is not usable: {}", e.category())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2);
        let manager = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| unavailable(&shown, &e))?;
        Ok(RedisLimits {
            inner: Arc::new(Connection {
                manager,
                client,
                blocking: Mutex::new(None),
                timeout,
                shown,
                prefix: prefix.to_owned(),
                script: redis::Script::new(GCRA),
            }),
        })
    }

    /// A limiter for one named limit. Every process asking for the same name (under the same prefix)
    /// shares it.
    ///
    /// Errors: `Config` for an empty name or a zero interval.
    pub fn limit(&self, limit: SharedLimit) -> Result<RedisRateLimiter> {
        if limit.name.is_empty() || limit.name.chars().any(char::is_control) {
            return Err(Error::config("a shared limit needs a printable name"));
        }
        let interval_us = u64::try_from(limit.interval.as_micros()).unwrap_or(u64::MAX);
        if interval_us == 0 {
            return Err(Error::config(format!(
                "the shared limit '{}' needs an interval of at least a microsecond",
                limit.name
            )));
        }
        Ok(RedisRateLimiter {
            fallback: TokenBucket::every(limit.interval, limit.burst)?,
            key: format!("{}{}", self.inner.prefix, limit.name),
            interval_us,
            limit,
            redis: self.inner.clone(),
            degraded: AtomicBool::new(false),
        })
    }
}

/// One shared limit, as a [`RateLimiter`] the Messenger applies to a transport: rate limits shared by
/// every process through one Redis server.
///
/// A limit that belongs to an account or a device — Telegram's 30 messages a second per bot, the
/// number of SMS a GSM gateway's SIM cards can take — is exceeded as soon as two processes each keep
/// their own in-process bucket. [`RedisRateLimiter`] keeps the bucket in Redis instead, as the generic
/// cell rate algorithm (GCRA): one key per named limit holding the "theoretical arrival time" of the
/// next request, read and advanced by one Lua script, which Redis runs atomically, against Redis's own
/// clock (`TIME`). Every process asking through the same key shares the one limit.
///
/// The algorithm: with one request allowed every `T` and bursts of `B`, a request at `now` conforms
/// when `max(tat, now) + T - B·T <= now`; taking it moves `tat` to `max(tat, now) + T`. In any span
/// of length `L`, at most `B + L/T` requests conform. (GCRA as described for ATM networks in ITU-T
/// I.371, and as rate limiters such as redis-cell use it.)
///
/// If Redis cannot be reached, the limiter falls back to an in-process bucket with the same rate
/// (logging a warning once), so sending slows to one process's share of the limit per process rather
/// than stopping — several processes may then exceed the shared limit together until Redis is back.
pub struct RedisRateLimiter {
    redis: Arc<Connection>,
    limit: SharedLimit,
    key: String,
    interval_us: u64,
    fallback: TokenBucket,
    degraded: AtomicBool,
}

impl std::fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("limit", &self.limit)
            .field("server", &self.redis.shown)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// Takes a permit if one is free now, asking Redis without blocking a thread: `Ok`, or
    /// `RateLimited` (`NotSent`) with how long to wait, or `Unavailable` (`NotSent`) when Redis cannot
    /// be reached (no fallback here: the caller asked Redis specifically).
    pub async fn check(&self) -> Result<()> {
        let (taken, wait_us) = self
            .run_async("take")
            .await
            .map_err(|e| unavailable(&self.redis.shown, &e))?;
        self.answer(taken, wait_us)
    }

    /// The limit's name.
    pub fn name(&self) -> &str {
        &self.limit.name
    }

    fn answer(&self, taken: i64, wait_us: i64) -> Result<()> {
        if taken == 1 {
            return Ok(());
        }
        let wait = Duration::from_micros(u64::try_from(wait_us).unwrap_or(0).max(1));
        Err(Error::new(
            ErrorKind::RateLimited,
            format!("the shared limit '{}' is reached", self.limit.name),
        )
        .with_dispatch(Dispatch::NotSent)
        .with_retry_after(wait))
    }

    fn invocation(&self, mode: &str) -> redis::ScriptInvocation<'_> {
        let mut inv = self.redis.script.prepare_invoke();
        inv.key(&self.key).arg(self.interval_us).arg(self.limit.burst).arg(mode);
        inv
    }

    async fn run_async(&self, mode: &str) -> redis::RedisResult<(i64, i64)> {
        let mut conn = self.redis.manager.clone();
        self.invocation(mode).invoke_async(&mut conn).await
    }

    /// One script call on the blocking connection, (re)connecting as needed.
    fn run_blocking(&self, mode: &str) -> redis::RedisResult<(i64, i64)> {
        let mut slot = self.redis.blocking.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            let conn = self.redis.client.get_connection_with_timeout(self.redis.timeout)?;
            conn.set_read_timeout(Some(self.redis.timeout))?;
            conn.set_write_timeout(Some(self.redis.timeout))?;
            *slot = Some(conn);
        }
        let Some(conn) = slot.as_mut() else {
            return Err(redis::RedisError::from(std::io::Error::other("no connection")));
        };
        let result = self.invocation(mode).invoke(conn);
        if result.is_err() {
            // A broken or timed-out connection may hold a late answer: start afresh next time.
            *slot = None;
        }
        result
    }

    fn note_health(&self, error: Option<&redis::RedisError>) {
        match error {
            Some(e) if !self.degraded.swap(true, Ordering::Relaxed) => tracing::warn!(
                limit = %self.limit.name,
                server = %self.redis.shown,
                error = %e.category(),
                "Redis is unreachable: the shared rate limit falls back to this process's own bucket"
            ),
            None if self.degraded.swap(false, Ordering::Relaxed) => {
                tracing::info!(limit = %self.limit.name, "Redis is back: the shared rate limit is shared again");
            }
            _ => {}
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    /// Reserves the next slot in Redis and sleeps until it comes. A caller that gives up while
    /// waiting leaves its slot unused (the limit is under-used, never exceeded).
    async fn acquire(&self) {
        match self.run_async("reserve").await {
            Ok((_, wait_us)) => {
                self.note_health(None);
                if wait_us > 0 {
                    tokio::time::sleep(Duration::from_micros(u64::try_from(wait_us).unwrap_or(0))).await;
                }
            }
            Err(e) => {
                self.note_health(Some(&e));
                self.fallback.acquire().await;
            }
        }
    }

    /// Asks Redis on a blocking connection of its own (the trait's method is synchronous), so it holds
    /// the calling thread for one round trip, at most the configured timeout; on a multi-threaded
    /// Tokio runtime it tells the runtime first, so other tasks move off this thread. Async code
    /// should prefer [`RedisRateLimiter::check`].
    fn try_acquire(&self) -> Result<()> {
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let result = if multi_thread {
            tokio::task::block_in_place(|| self.run_blocking("take"))
        } else {
            self.run_blocking("take")
        };
        match result {
            Ok((taken, wait_us)) => {
                self.note_health(None);
                self.answer(taken, wait_us)
            }
            Err(e) => {
                self.note_health(Some(&e));
                self.fallback.try_acquire()
            }
        }
    }
}

fn unavailable(shown: &str, e: &redis::RedisError) -> Error {
    // The kind's name only: a driver's text can quote the connection string.
    Error::new(
        ErrorKind::Unavailable,
        format!(
            "the Redis server at {shown} cannot be used for rate limits ({})",
            e.category()
        ),
    )
    .with_dispatch(Dispatch::NotSent)
    .with_provider("redis")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_built_sensibly() {
        let l = SharedLimit::per_second("telegram:bot", 30);
        assert_eq!(l.interval, Duration::from_secs(1) / 30);
        assert_eq!(l.burst, 30);
        assert_eq!(SharedLimit::per_second("x", 0).burst, 1);
        let g = SharedLimit::every("gw:sim-1", Duration::from_secs(6)).burst(0);
        assert_eq!((g.interval, g.burst), (Duration::from_secs(6), 1));
    }
}

//! The flood limits Telegram asks bots to keep, applied before each `sendMessage`: one global bucket
//! and one bucket per chat (plus a per-minute bucket for groups and channels), built on core's
//! [`TokenBucket`]. A send waits for its permits rather than failing, which is what a bot wants: the
//! alternative is Telegram's 429 with a flood wait far longer than the pause.
//!
//! Per-chat buckets are kept in a map that forgets chats idle for a minute once it grows past
//! [`MAX_TRACKED_CHATS`]; a forgotten bucket was full anyway, so forgetting it changes nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use switchboard_core::{RateLimiter, TokenBucket};

use crate::config::RateLimits;
use crate::model::ChatId;

/// Chats tracked before idle ones are forgotten.
pub const MAX_TRACKED_CHATS: usize = 10_000;

const IDLE: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct ChatBuckets {
    interval: TokenBucket,
    group: Option<TokenBucket>,
    last_used: Instant,
}

/// Global and per-chat buckets.
pub(crate) struct Limiter {
    limits: RateLimits,
    global: TokenBucket,
    chats: Mutex<HashMap<ChatId, ChatBuckets>>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Limiter {
            global: TokenBucket::new(limits.global_per_second, limits.global_per_second),
            limits,
            chats: Mutex::new(HashMap::new()),
        }
    }

    fn buckets(&self, chat: &ChatId) -> ChatBuckets {
        let mut map = self.chats.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if map.len() >= MAX_TRACKED_CHATS && !map.contains_key(chat) {
            map.retain(|_, b| now.duration_since(b.last_used) < IDLE);
        }
        let limits = &self.limits;
        let entry = map.entry(chat.clone()).or_insert_with(|| ChatBuckets {
            // `every` fails only for a zero period, which Config::validate refuses.
            interval: TokenBucket::every(limits.per_chat_interval, 1).unwrap_or_else(|_| TokenBucket::new(1, 1)),
            group: chat.is_group_or_channel().then(|| {
                let period = Duration::from_secs(60) / limits.per_group_per_minute.max(1);
                TokenBucket::every(period, limits.per_group_per_minute).unwrap_or_else(|_| TokenBucket::new(1, 1))
            }),
            last_used: now,
        });
        entry.last_used = now;
        entry.clone()
    }

    /// Waits until a message to `chat` may go out.
    pub(crate) async fn acquire(&self, chat: &ChatId) {
        let b = self.buckets(chat);
        b.interval.acquire().await;
        if let Some(g) = &b.group {
            g.acquire().await;
        }
        self.global.acquire().await;
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.chats.lock().map(|m| m.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_chat_is_paced_and_others_are_not() {
        let l = Limiter::new(RateLimits::default().per_chat_interval(Duration::from_millis(40)));
        let start = std::time::Instant::now();
        l.acquire(&ChatId::Id(1)).await;
        l.acquire(&ChatId::Id(2)).await;
        l.acquire(&ChatId::Id(3)).await;
        assert!(
            start.elapsed() < Duration::from_millis(30),
            "different chats do not wait"
        );
        l.acquire(&ChatId::Id(1)).await;
        l.acquire(&ChatId::Id(1)).await;
        assert!(start.elapsed() >= Duration::from_millis(75), "{:?}", start.elapsed());
        assert_eq!(l.tracked(), 3);
    }
}

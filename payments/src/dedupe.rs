//! Recognising a webhook delivered twice.
//!
//! Both providers deliver at least once: a slow acknowledgement, a network blip or their own retry
//! schedule means the same event can arrive again, and crediting an order twice is as bad as charging
//! twice. Which events were already handled is the host's knowledge, so it lives behind the small
//! [`EventStore`] trait the host implements over its own database (a unique index on the key is
//! enough). [`MemoryEventStore`] ships for tests, examples and single-process hosts.
//!
//! The gateways [`claim`](EventStore::claim) an event's key after verifying it and answer
//! [`WebhookOutcome::Duplicate`](crate::WebhookOutcome::Duplicate) when the claim fails. If the host then
//! cannot process the event, it calls [`release`](EventStore::release) and answers the provider with an
//! error, so the redelivery is processed.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use switchboard_core::{Error, ErrorKind, Result};

/// The host's record of webhook events already taken. See the [module docs](self).
#[async_trait]
pub trait EventStore: Send + Sync + std::fmt::Debug {
    /// Atomically records `key` if it is new. `true`: first time, process it; `false`: seen before.
    async fn claim(&self, key: &str) -> Result<bool>;

    /// Forgets `key`, so the next delivery of the event is processed (call it when processing failed).
    async fn release(&self, key: &str) -> Result<()>;
}

/// An [`EventStore`] in memory that remembers the most recent `capacity` keys (oldest forgotten first).
#[derive(Debug)]
pub struct MemoryEventStore {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl MemoryEventStore {
    /// The default capacity: enough for days of events of a busy shop, a few MiB at most.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store with [`Self::DEFAULT_CAPACITY`].
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// A store that remembers at most `capacity` keys (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryEventStore {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
        }
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.seen.len()).unwrap_or(0)
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryEventStore {
    fn default() -> Self {
        Self::new()
    }
}

fn poisoned() -> Error {
    Error::new(ErrorKind::Unavailable, "the in-memory event store is poisoned")
}

#[async_trait]
impl EventStore for MemoryEventStore {
    async fn claim(&self, key: &str) -> Result<bool> {
        let mut i = self.inner.lock().map_err(|_| poisoned())?;
        if i.seen.contains(key) {
            return Ok(false);
        }
        while i.order.len() >= self.capacity {
            match i.order.pop_front() {
                Some(old) => {
                    i.seen.remove(&old);
                }
                None => break,
            }
        }
        i.seen.insert(key.to_owned());
        i.order.push_back(key.to_owned());
        Ok(true)
    }

    async fn release(&self, key: &str) -> Result<()> {
        let mut i = self.inner.lock().map_err(|_| poisoned())?;
        if i.seen.remove(key) {
            i.order.retain(|k| k != key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn claim_release_and_capacity() {
        let s = MemoryEventStore::with_capacity(2);
        assert!(s.claim("a").await.unwrap());
        assert!(!s.claim("a").await.unwrap());
        s.release("a").await.unwrap();
        assert!(s.claim("a").await.unwrap());
        assert!(s.claim("b").await.unwrap());
        assert!(s.claim("c").await.unwrap()); // forgets "a"
        assert_eq!(s.len(), 2);
        assert!(s.claim("a").await.unwrap());
        assert!(!s.claim("c").await.unwrap());
    }
}

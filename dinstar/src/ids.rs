//! `user_id` allocation (see [`UserIds`]).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use switchboard_core::{Dispatch, Result, Store};

use crate::SCHEME;

/// The largest `user_id` handed out.
pub const MAX_USER_ID: u32 = i32::MAX as u32;

/// Ids reserved from the store at a time: one store round trip per this many SMS.
pub const STORE_BLOCK: u32 = 64;

/// A thread-safe source of unique `user_id`s for one gateway.
///
/// `user_id` is the caller's key for an SMS on the gateway: `query_sms_result` finds it by that id, so
/// it is what status lookups and the reconciliation of a send whose answer was lost use. Two messages
/// with the same id on one gateway would make a lookup find the wrong one, so an id must be unique
/// across processes and restarts for as long as the gateway keeps results.
///
/// * **With a store** ([`UserIds::use_store`], which the Messenger calls through
///   `Transport::use_store` when it has one): ids come from the store's sequence named after the
///   gateway's `host:port` ([`UserIds::sequence`]), reserved 64 at a time. Every process
///   on the store draws from the same sequence, so no two hand out the same id, across restarts too.
///   This is what production should use.
/// * **Without a store**: a per-process counter that starts at a random point of the range, so two
///   processes started at the same instant do not start at the same id (a counter seeded from the
///   clock alone did: two copies of a command started together sent different messages under the same
///   ids). The residual risk: two processes that together send `n` messages collide only if their
///   ranges overlap, with a probability of about `n / 2^31` per pair of processes; reconciliation also
///   checks the number and the part count, so a collision is never taken for the other message.
///
/// The gateway's manual types `user_id` as an integer of at least 0; ids stay within
/// `1..=i32::MAX` so a firmware storing a C `int` cannot overflow. The store sequence wraps into that
/// range after 2^31 − 1 ids.
pub struct UserIds {
    next: AtomicU32,
    sequence: String,
    store: OnceLock<Arc<dyn Store>>,
    /// The store block being handed out: the next sequence value and the end (exclusive).
    block: tokio::sync::Mutex<(u64, u64)>,
}

impl std::fmt::Debug for UserIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserIds")
            .field("sequence", &self.sequence)
            .field("store", &self.store.get().is_some())
            .field("next", &self.peek())
            .finish()
    }
}

impl UserIds {
    /// A counter for the gateway at `gateway` (`host:port`), starting at a random point of the range
    /// until a store is handed over.
    pub fn for_gateway(gateway: &str) -> Self {
        Self::with_start(
            gateway,
            switchboard_core::random::in_range(1, u64::from(MAX_USER_ID)) as u32,
        )
    }

    /// A counter starting at a random point of the range, for a gateway with no name (tests).
    pub fn random() -> Self {
        Self::for_gateway("unnamed")
    }

    /// A counter whose first id is `first` (clamped into `1..=MAX_USER_ID`).
    pub fn starting_at(first: u32) -> Self {
        Self::with_start("unnamed", first)
    }

    fn with_start(gateway: &str, first: u32) -> Self {
        UserIds {
            next: AtomicU32::new(first.clamp(1, MAX_USER_ID)),
            sequence: format!("{SCHEME}.user_id.{gateway}"),
            store: OnceLock::new(),
            block: tokio::sync::Mutex::new((0, 0)),
        }
    }

    /// The name of the store sequence ids come from (`dinstar.user_id.HOST:PORT`): one per gateway,
    /// so two gateways do not share one.
    pub fn sequence(&self) -> &str {
        &self.sequence
    }

    /// Draws every later id from `store` (the first store handed over stays).
    pub fn use_store(&self, store: Arc<dyn Store>) {
        let _ = self.store.set(store);
    }

    /// Whether ids come from a store.
    pub fn has_store(&self) -> bool {
        self.store.get().is_some()
    }

    /// `n` fresh ids: from the store when there is one (an error of the store is `NotSent`: nothing
    /// went out), else from the per-process counter.
    pub async fn take(&self, n: usize) -> Result<Vec<u32>> {
        let Some(store) = self.store.get() else {
            let first = self.reserve(n);
            let n = u32::try_from(n).unwrap_or(MAX_USER_ID);
            return Ok((0..n).map(|k| first + k).collect());
        };
        let mut out = Vec::with_capacity(n);
        let mut block = self.block.lock().await;
        while out.len() < n {
            if block.0 >= block.1 {
                let want = u32::try_from(n - out.len()).unwrap_or(u32::MAX).max(STORE_BLOCK);
                let first = store.next_ids(&self.sequence, want).await.map_err(|e| {
                    let msg = format!("could not reserve Dinstar user_ids in the store: {}", e.message());
                    e.with_message(msg)
                        .with_dispatch(Dispatch::NotSent)
                        .with_provider(SCHEME)
                })?;
                *block = (first, first.saturating_add(u64::from(want)));
            }
            let v = block.0;
            block.0 += 1;
            out.push(wrap(v));
        }
        Ok(out)
    }

    /// The id the next call to [`UserIds::next`] returns (without a store).
    pub fn peek(&self) -> u32 {
        self.next.load(Ordering::SeqCst)
    }

    /// One fresh id from the per-process counter.
    pub fn next(&self) -> u32 {
        self.reserve(1)
    }

    /// Reserves `n` consecutive ids of the per-process counter and returns the first; the range never
    /// crosses the wrap point.
    pub fn reserve(&self, n: usize) -> u32 {
        let n = u32::try_from(n.max(1)).unwrap_or(MAX_USER_ID).min(MAX_USER_ID);
        let mut first = 1;
        let _ = self.next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |cur| {
            let cur = cur.clamp(1, MAX_USER_ID);
            first = if MAX_USER_ID - cur + 1 >= n { cur } else { 1 };
            let after = first.saturating_add(n);
            Some(if after > MAX_USER_ID { 1 } else { after })
        });
        first
    }

    /// Makes sure every later id of the per-process counter is above `seen` (an id known to be in use).
    pub fn advance_past(&self, seen: u32) {
        let want = seen.saturating_add(1).min(MAX_USER_ID);
        self.next.fetch_max(want, Ordering::SeqCst);
    }
}

impl Default for UserIds {
    fn default() -> Self {
        Self::random()
    }
}

/// A store sequence value (from 1 up) as a `user_id` in `1..=MAX_USER_ID`.
fn wrap(v: u64) -> u32 {
    let span = u64::from(MAX_USER_ID);
    u32::try_from((v.max(1) - 1) % span + 1).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn unique_and_in_range() {
        let ids = UserIds::random();
        let mut seen = HashSet::new();
        for _ in 0..10_000 {
            let id = ids.next();
            assert!((1..=MAX_USER_ID).contains(&id));
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn reserve_is_contiguous_and_wraps_cleanly() {
        let ids = UserIds::starting_at(MAX_USER_ID - 2);
        assert_eq!(ids.reserve(2), MAX_USER_ID - 2);
        // Two do not fit before the end: start again at 1.
        assert_eq!(ids.reserve(2), 1);
        assert_eq!(ids.next(), 3);
        ids.advance_past(100);
        assert_eq!(ids.next(), 101);
        ids.advance_past(5);
        assert_eq!(ids.next(), 102);
    }

    #[test]
    fn two_counters_made_at_the_same_instant_start_apart() {
        // A clock seed gave both the same start; a random one does not (1 in 2^31 it does: retry once).
        let differ = || UserIds::for_gateway("h:1").peek() != UserIds::for_gateway("h:1").peek();
        assert!(differ() || differ());
    }

    #[test]
    fn store_values_wrap_into_the_range() {
        assert_eq!(wrap(1), 1);
        assert_eq!(wrap(u64::from(MAX_USER_ID)), MAX_USER_ID);
        assert_eq!(wrap(u64::from(MAX_USER_ID) + 1), 1);
        assert_eq!(wrap(0), 1);
    }

    #[test]
    fn the_sequence_is_named_after_the_gateway() {
        assert_eq!(
            UserIds::for_gateway("10.0.0.5:8081").sequence(),
            "dinstar.user_id.10.0.0.5:8081"
        );
    }
}

//! `user_id` allocation (see [`UserIds`]).

use std::sync::atomic::{AtomicU32, Ordering};

/// The largest `user_id` handed out.
pub const MAX_USER_ID: u32 = i32::MAX as u32;

/// Clock seeding: ids per second, and the epoch (2024-01-01T00:00:00Z) in seconds.
const IDS_PER_SECOND: i64 = 10;
const SEED_EPOCH_SECS: i64 = 1_704_067_200;

/// A thread-safe source of unique `user_id`s.
///
/// `user_id` is the caller's key for an SMS on the gateway: `query_sms_result` finds it by that id, so
/// it is what status lookups and the reconciliation of a timed-out send use. It must therefore be
/// unique for as long as the gateway keeps results — across the client's life and, as far as
/// possible, across restarts.
///
/// The gateway documents it only as "int ≥ 0" **[?]**; this client keeps ids within `1..=i32::MAX` so a
/// firmware storing a C `int` cannot overflow. The counter is seeded from the clock at 10 ids per second
/// since 2024-01-01 (it wraps after ~6.8 years), so a restarted process starts above the ids an earlier
/// run used unless that run averaged more than 10 SMS per second since it started; hosts that send
/// faster can persist [`UserIds::peek`] and restore it with [`UserIds::starting_at`] or
/// [`UserIds::advance_past`]. The numbers are also checked on reconciliation, so a stale collision is
/// not mistaken for the new message.
#[derive(Debug)]
pub struct UserIds {
    next: AtomicU32,
}

impl UserIds {
    /// A counter seeded from the clock (see [`UserIds`]).
    pub fn from_clock() -> Self {
        let now = chrono::Utc::now();
        let tenths = now.timestamp() * IDS_PER_SECOND + i64::from(now.timestamp_subsec_millis() / 100);
        let since = tenths - SEED_EPOCH_SECS * IDS_PER_SECOND;
        let span = i64::from(MAX_USER_ID) - 1;
        let seed = since.rem_euclid(span) + 1;
        Self::starting_at(u32::try_from(seed).unwrap_or(1))
    }

    /// A counter whose first id is `first` (clamped into `1..=MAX_USER_ID`).
    pub fn starting_at(first: u32) -> Self {
        UserIds {
            next: AtomicU32::new(first.clamp(1, MAX_USER_ID)),
        }
    }

    /// The id the next call to [`UserIds::next`] returns (persist it to survive restarts).
    pub fn peek(&self) -> u32 {
        self.next.load(Ordering::SeqCst)
    }

    /// One fresh id.
    pub fn next(&self) -> u32 {
        self.reserve(1)
    }

    /// Reserves `n` consecutive ids and returns the first; the range never crosses the wrap point.
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

    /// Makes sure every later id is above `seen` (an id known to be in use).
    pub fn advance_past(&self, seen: u32) {
        let want = seen.saturating_add(1).min(MAX_USER_ID);
        self.next.fetch_max(want, Ordering::SeqCst);
    }
}

impl Default for UserIds {
    fn default() -> Self {
        Self::from_clock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn unique_and_in_range() {
        let ids = UserIds::from_clock();
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
    fn a_later_clock_seed_is_higher() {
        let a = UserIds::from_clock().peek();
        std::thread::sleep(std::time::Duration::from_millis(120));
        let b = UserIds::from_clock().peek();
        assert!(b > a, "{a} {b}");
    }
}

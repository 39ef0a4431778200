//! Random values from the operating system's generator, for ids, nonces, idempotency keys and retry
//! jitter.
//!
//! This is ring's `SystemRandom` (the OS CSPRNG: `getrandom(2)` on Linux), which the TLS stack already
//! brings, rather than the `rand` crate: one generator instead of two (and one version of `getrandom`
//! instead of two in a host's build). Should the OS generator ever fail, the values come from std's
//! randomly keyed SipHash over a counter and the time, so a caller never has to handle an error for a
//! nonce.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use ring::rand::{SecureRandom, SystemRandom};

fn system() -> &'static SystemRandom {
    static RNG: OnceLock<SystemRandom> = OnceLock::new();
    RNG.get_or_init(SystemRandom::new)
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if system().fill(&mut out).is_err() {
        fallback_fill(&mut out);
    }
    out
}

/// A random `u64`.
pub fn u64() -> u64 {
    u64::from_le_bytes(bytes())
}

/// A random `u128` (a 32-hex-digit id or key).
pub fn u128() -> u128 {
    u128::from_le_bytes(bytes())
}

/// A uniformly random integer in `0..n` (`0` when `n` is `0`), without modulo bias.
pub fn below(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    // Lemire's multiply-and-reject: the high word of x·n is uniform once the low word clears the zone.
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// A uniformly random integer in `low..=high` (`low` when the range is empty).
pub fn in_range(low: u64, high: u64) -> u64 {
    if high <= low {
        return low;
    }
    match (high - low).checked_add(1) {
        Some(span) => low + below(span),
        None => u64(), // the whole u64 range
    }
}

/// A uniformly random `f64` in `[0, 1)`, for jitter.
pub fn unit() -> f64 {
    // 53 random bits: every value a double can hold in [0, 1) at that spacing.
    (u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Shuffles `items` in place (Fisher–Yates).
pub fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

fn fallback_fill(out: &mut [u8]) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    let keys = KEYS.get_or_init(RandomState::new);
    for chunk in out.chunks_mut(8) {
        let mut h = keys.build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_and_every_value_turns_up() {
        let mut seen = [0u32; 6];
        for _ in 0..6_000 {
            seen[below(6) as usize] += 1;
        }
        // Each of six values ~1000 times; 700 is more than 9 standard deviations away.
        assert!(seen.iter().all(|&n| n > 700), "{seen:?}");
        assert_eq!(below(0), 0);
        assert_eq!(in_range(5, 5), 5);
        assert_eq!(in_range(9, 3), 9);
        for _ in 0..1_000 {
            assert!((10..=12).contains(&in_range(10, 12)));
            let u = unit();
            assert!((0.0..1.0).contains(&u));
        }
        in_range(0, u64::MAX);
    }

    #[test]
    fn values_differ_and_the_fallback_fills_every_byte() {
        assert_ne!(u128(), u128());
        let mut a = [0u8; 20];
        let mut b = [0u8; 20];
        fallback_fill(&mut a);
        fallback_fill(&mut b);
        assert_ne!(a, b);
        let mut v: Vec<u32> = (0..50).collect();
        shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }
}

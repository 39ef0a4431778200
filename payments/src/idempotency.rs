//! Idempotency keys: what makes a repeated POST safe.
//!
//! Both providers remember the answer to a POST under the key it carried (YooKassa `Idempotence-Key`,
//! Stripe `Idempotency-Key`) and answer a repeat with the first answer instead of acting again. So a
//! request that timed out can be sent again *with the same key* and the customer is charged once.
//!
//! * Every POST a provider crate makes carries a key. Within one call, every retry reuses it.
//! * Across calls (your process crashed, your job runner retried) only *you* can reuse it: pass your own
//!   key built from something stable, such as the order id ([`IdempotencyKey::new`]), and derive the keys
//!   of follow-up operations from it ([`IdempotencyKey::derive`]). A key generated for you
//!   ([`IdempotencyKey::random`]) protects the retries inside one call only.
//! * A key is remembered for 24 hours by both providers; a key reused with *different* parameters is
//!   refused (YooKassa `400 invalid_request`, Stripe `idempotency_error`).

use std::fmt;

use serde::{Deserialize, Serialize};
use switchboard_core::{Error, Result};

/// The longest key accepted.
///
/// Stripe allows 255 characters; YooKassa 64 (its OpenAPI specification, parameter
/// `IdempotenceKey`: `maxLength: 64`). 64 is the limit both accept, and this is the one place it is set.
pub const MAX_KEY_LEN: usize = 64;

/// An idempotency key. See the [module docs](self).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A key chosen by the caller (an order id, `"order-72"`). It must be 1 to [`MAX_KEY_LEN`] visible
    /// ASCII characters (it travels in an HTTP header).
    pub fn new(key: impl Into<String>) -> Result<IdempotencyKey> {
        let key = key.into();
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid_input(format!(
                "an idempotency key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            )));
        }
        Ok(IdempotencyKey(key))
    }

    /// A fresh random key in UUID v4 form, as both providers recommend.
    pub fn random() -> IdempotencyKey {
        let mut b = switchboard_core::random::u128().to_be_bytes();
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let h = hex::encode(b);
        IdempotencyKey(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ))
    }

    /// A key for a follow-up operation of the same business object: `order-72` → `order-72/refund-1`.
    /// Deterministic, so a retry after a crash derives the same key. Too long a result is an error.
    pub fn derive(&self, purpose: &str) -> Result<IdempotencyKey> {
        IdempotencyKey::new(format!("{}/{purpose}", self.0))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        IdempotencyKey::new(s)
    }
}

impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> String {
        k.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

/// The caller's key, or a fresh one.
pub fn or_random(key: Option<&IdempotencyKey>) -> IdempotencyKey {
    key.cloned().unwrap_or_else(IdempotencyKey::random)
}

/// Adds the key to an error that may have left, so the caller can repeat safely with it.
pub fn note_key(err: Error, key: &IdempotencyKey) -> Error {
    // Only where the request may have been acted on, or repeating is the advice.
    if err.dispatch() != switchboard_core::Dispatch::MaybeSent && !err.is_retryable() {
        return err;
    }
    let msg = format!(
        "{}; repeat with idempotency key '{}' to be sure it happens once",
        err.message(),
        key
    );
    err.with_message(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_are_uuid_v4() {
        let k = IdempotencyKey::random();
        let s = k.as_str();
        assert_eq!(s.len(), 36);
        assert_eq!(s.as_bytes()[14], b'4');
        assert!(matches!(s.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(IdempotencyKey::random(), k);
    }

    #[test]
    fn caller_keys_are_checked() {
        assert!(IdempotencyKey::new("order-72").is_ok());
        assert!(IdempotencyKey::new("").is_err());
        assert!(IdempotencyKey::new("a b").is_err());
        assert!(IdempotencyKey::new("ключ").is_err());
        assert!(IdempotencyKey::new("x".repeat(MAX_KEY_LEN)).is_ok());
        assert!(IdempotencyKey::new("x".repeat(MAX_KEY_LEN + 1)).is_err());
        let k = IdempotencyKey::new("order-72").unwrap();
        assert_eq!(k.derive("refund-1").unwrap().as_str(), "order-72/refund-1");
        assert_eq!(k.derive("refund-1").unwrap(), k.derive("refund-1").unwrap());
    }
}

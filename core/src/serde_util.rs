//! Serde helpers that are not about any one provider: reading a `null` as the type's default, and a
//! [`Duration`](std::time::Duration) as whole seconds.
//!
//! ```
//! use std::time::Duration;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Answer {
//!     #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
//!     metadata: std::collections::BTreeMap<String, String>,
//!     #[serde(with = "switchboard_core::serde_util::duration_secs")]
//!     timeout: Duration,
//! }
//!
//! let a: Answer = serde_json::from_str(r#"{"metadata": null, "timeout": 30}"#)?;
//! assert!(a.metadata.is_empty());
//! assert_eq!(a.timeout, Duration::from_secs(30));
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Deserializer};

/// `null` read as the type's default, for answer fields a provider documents as a value but may send
/// as `null` (Stripe's `metadata` on a Refund is `Metadata | null` in its API reference). Without it,
/// one `null` makes the whole answer undecodable, after the provider acted on the request.
///
/// Use it as `#[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]`.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A [`Duration`](std::time::Duration) as whole seconds, for configuration files
/// (`#[serde(with = "switchboard_core::serde_util::duration_secs")]`). Fractions of a second are
/// dropped when writing.
pub mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the whole seconds.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    /// Reads whole seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct T {
        #[serde(default, deserialize_with = "super::null_as_default")]
        list: Vec<u8>,
        #[serde(with = "super::duration_secs")]
        after: Duration,
    }

    #[test]
    fn null_missing_and_present_values() {
        let t: T = serde_json::from_str(r#"{"list": null, "after": 5}"#).unwrap();
        assert_eq!(
            t,
            T {
                list: vec![],
                after: Duration::from_secs(5)
            }
        );
        let t: T = serde_json::from_str(r#"{"after": 0}"#).unwrap();
        assert!(t.list.is_empty());
        let t: T = serde_json::from_str(r#"{"list": [1, 2], "after": 7}"#).unwrap();
        assert_eq!(t.list, vec![1, 2]);
        assert!(serde_json::from_str::<T>(r#"{"list": "x", "after": 7}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"after": -1}"#).is_err());
        let written = serde_json::to_string(&T {
            list: vec![],
            after: Duration::from_millis(2500),
        })
        .unwrap();
        assert_eq!(written, r#"{"list":[],"after":2}"#);
    }
}

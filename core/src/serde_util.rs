//! Serde helpers that are not about any one provider: reading a `null` as the type's default, a
//! [`Duration`](std::time::Duration) as whole seconds, and integers that arrive as numbers or strings
//! ([`lenient`]).
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

/// Integers read leniently, for providers whose answers carry a number as a JSON number on one
/// firmware or release and as a numeric string on another (Dinstar gateways do both for the same
/// field): a JSON number, a numeric string, or an integral float; `null` or a blank string where the
/// field is optional. Out of range is an error naming the value, never a wrap.
///
/// Use them as `#[serde(default, deserialize_with = "switchboard_core::serde_util::lenient::opt_u32")]`.
pub mod lenient {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn to_i128(v: &Value) -> Option<i128> {
        match v {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 1e18)
                        .map(|f| f as i128)
                }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn opt<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Option<T>, D::Error> {
        let v = Value::deserialize(d)?;
        match v {
            Value::Null => Ok(None),
            Value::String(ref s) if s.trim().is_empty() => Ok(None),
            ref other => {
                let n = to_i128(other).ok_or_else(|| D::Error::custom(format!("expected an integer, got {other}")))?;
                T::try_from(n)
                    .map(Some)
                    .map_err(|_| D::Error::custom(format!("integer {n} out of range")))
            }
        }
    }

    fn req<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
        opt(d)?.ok_or_else(|| D::Error::custom("expected an integer, got null"))
    }

    /// An optional `u8`.
    pub fn opt_u8<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
        opt(d)
    }
    /// An optional `u32`.
    pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        opt(d)
    }
    /// An optional `u64`.
    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        opt(d)
    }
    /// An optional `i64`.
    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        opt(d)
    }
    /// A required `u8`.
    pub fn u8<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
        req(d)
    }
    /// A required `u16`.
    pub fn u16<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        req(d)
    }
    /// A required `u32`.
    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        req(d)
    }
    /// A required `u64`.
    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        req(d)
    }
    /// An `i64`, `0` when absent or `null`.
    pub fn i64_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Ok(opt(d)?.unwrap_or_default())
    }
    /// A `u64`, `0` when absent or `null`.
    pub fn u64_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        Ok(opt(d)?.unwrap_or_default())
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

    #[test]
    fn lenient_integers_take_numbers_and_numeric_strings_and_refuse_the_rest() {
        #[derive(serde::Deserialize)]
        struct R {
            #[serde(default, deserialize_with = "super::lenient::opt_u32")]
            a: Option<u32>,
            #[serde(deserialize_with = "super::lenient::u8")]
            b: u8,
            #[serde(default, deserialize_with = "super::lenient::i64_or_default")]
            c: i64,
        }
        let r: R = serde_json::from_str(r#"{"a":"42","b":7.0,"c":null}"#).unwrap();
        assert_eq!((r.a, r.b, r.c), (Some(42), 7, 0));
        let r: R = serde_json::from_str(r#"{"a":" ","b":"8"}"#).unwrap();
        assert_eq!((r.a, r.b), (None, 8));
        for bad in [
            r#"{"b":256}"#,
            r#"{"b":"x"}"#,
            r#"{"b":null}"#,
            r#"{"a":-1,"b":1}"#,
            r#"{"b":1.5}"#,
        ] {
            assert!(serde_json::from_str::<R>(bad).is_err(), "{bad}");
        }
    }
}

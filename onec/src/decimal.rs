//! [`Decimal`]: amounts, prices and quantities without binary floating point.
//!
//! 1C stores numbers as fixed-point decimals (`Число(15,2)` for sums, `(15,3)` for quantities) and its
//! OData interface writes them as JSON numbers. A `f64` would turn `0.1 + 0.2` into a wrong invoice
//! total, so amounts here are a 64-bit mantissa and a decimal scale. On the wire they are JSON numbers:
//! every decimal of at most 15 significant digits converts to the nearest `f64` and back to the same
//! digits, which covers every 1C numeric attribute (15 digits at most), so nothing is lost either way.
//! A value with more digits is refused when serialized rather than silently rounded.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use switchboard_core::{Error, Result};

/// The most fractional digits a [`Decimal`] keeps.
pub const MAX_SCALE: u32 = 18;

/// The most significant digits that survive a JSON (`f64`) round trip exactly.
pub const MAX_WIRE_DIGITS: u32 = 15;

/// A fixed-point decimal number. See the [module docs](self).
///
/// Values are kept normalised (no trailing fractional zeros), so `1.50 == 1.5` and hashing agrees.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    mantissa: i64,
    scale: u32,
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal { mantissa: 0, scale: 0 };

    /// `mantissa × 10^-scale`; `Decimal::new(150050, 2)` is `1500.50`.
    pub fn new(mantissa: i64, scale: u32) -> Result<Decimal> {
        if scale > MAX_SCALE {
            return Err(Error::invalid_input(format!(
                "a decimal keeps at most {MAX_SCALE} fractional digits"
            )));
        }
        Ok(Decimal { mantissa, scale }.normalised())
    }

    /// An amount in minor units of a currency with two decimals (kopecks, cents): `from_minor(150050)`
    /// is `1500.50`.
    pub fn from_minor(minor: i64) -> Decimal {
        Decimal {
            mantissa: minor,
            scale: 2,
        }
        .normalised()
    }

    /// A whole number.
    pub fn from_int(v: i64) -> Decimal {
        Decimal { mantissa: v, scale: 0 }
    }

    /// Parses `-1234.5678` (an optional sign, digits, an optional fraction; no exponent, no grouping).
    pub fn parse(input: &str) -> Result<Decimal> {
        let s = input.trim();
        let bad = || Error::invalid_input("a decimal looks like -1234.56");
        let (neg, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() as u32 > MAX_SCALE {
            return Err(bad());
        }
        let mut m: i64 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            m = m
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(|| Error::invalid_input("the decimal is too large"))?;
        }
        Ok(Decimal {
            mantissa: if neg { -m } else { m },
            scale: frac.len() as u32,
        }
        .normalised())
    }

    /// The mantissa (`150050` for `1500.5` at scale 2 is *not* what you get: values are normalised, so
    /// `1500.5` is mantissa `15005`, scale `1`).
    pub fn mantissa(&self) -> i64 {
        self.mantissa
    }

    /// The number of fractional digits.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// The value in minor units of a two-decimal currency, when it has no finer fraction.
    pub fn to_minor(&self) -> Option<i64> {
        self.rescaled(2).map(|d| d.0)
    }

    /// The nearest `f64` (for display and comparisons only).
    pub fn to_f64(&self) -> f64 {
        self.mantissa as f64 / 10f64.powi(self.scale as i32)
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// The sum, or `None` on overflow.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let (a, _) = self.rescaled(scale)?;
        let (b, _) = other.rescaled(scale)?;
        Some(
            Decimal {
                mantissa: a.checked_add(b)?,
                scale,
            }
            .normalised(),
        )
    }

    /// The product, or `None` on overflow or when it needs more than [`MAX_SCALE`] digits.
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let m = i128::from(self.mantissa) * i128::from(other.mantissa);
        let mut scale = self.scale + other.scale;
        let mut m = m;
        while scale > 0 && m % 10 == 0 {
            m /= 10;
            scale -= 1;
        }
        if scale > MAX_SCALE {
            return None;
        }
        Some(Decimal {
            mantissa: i64::try_from(m).ok()?,
            scale,
        })
    }

    /// Rounded to `scale` fractional digits, halves away from zero (how 1C's `Окр()` rounds by default).
    pub fn round(self, scale: u32) -> Decimal {
        if self.scale <= scale {
            return self;
        }
        let drop = self.scale - scale;
        let div = 10i128.pow(drop);
        let m = i128::from(self.mantissa);
        let q = m / div;
        let r = (m % div).abs();
        let q = if r * 2 >= div { q + m.signum() } else { q };
        Decimal {
            mantissa: i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN }),
            scale,
        }
        .normalised()
    }

    /// The mantissa at `scale` (must be ≥ the current scale), with the scale.
    fn rescaled(&self, scale: u32) -> Option<(i64, u32)> {
        if scale < self.scale {
            return None;
        }
        let factor = 10i64.checked_pow(scale - self.scale)?;
        Some((self.mantissa.checked_mul(factor)?, scale))
    }

    fn normalised(mut self) -> Decimal {
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        if self.mantissa == 0 {
            self.scale = 0;
        }
        self
    }

    fn significant_digits(&self) -> u32 {
        let mut m = self.mantissa.unsigned_abs();
        let mut n = 0;
        while m > 0 {
            m /= 10;
            n += 1;
        }
        n.max(1)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let abs = self.mantissa.unsigned_abs();
        let div = 10u64.pow(self.scale);
        let sign = if self.mantissa < 0 { "-" } else { "" };
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / div,
            abs % div,
            width = self.scale as usize
        )
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self})")
    }
}

impl FromStr for Decimal {
    type Err = Error;
    fn from_str(s: &str) -> Result<Decimal> {
        Decimal::parse(s)
    }
}

impl From<i64> for Decimal {
    fn from(v: i64) -> Decimal {
        Decimal::from_int(v)
    }
}

impl From<i32> for Decimal {
    fn from(v: i32) -> Decimal {
        Decimal::from_int(i64::from(v))
    }
}

impl From<u32> for Decimal {
    fn from(v: u32) -> Decimal {
        Decimal::from_int(i64::from(v))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let scale = self.scale.max(other.scale);
        let a = i128::from(self.mantissa) * 10i128.pow(scale - self.scale);
        let b = i128::from(other.mantissa) * 10i128.pow(scale - other.scale);
        a.cmp(&b)
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.scale == 0 {
            return s.serialize_i64(self.mantissa);
        }
        if self.significant_digits() > MAX_WIRE_DIGITS {
            return Err(serde::ser::Error::custom(format!(
                "{self} has more than {MAX_WIRE_DIGITS} significant digits, more than 1C stores"
            )));
        }
        // Exact: both operands are exact doubles and IEEE division rounds once, to the nearest double;
        // with at most 15 significant digits that double prints back as these digits.
        s.serialize_f64(self.mantissa as f64 / 10f64.powi(self.scale as i32))
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a decimal string")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Decimal, E> {
                Ok(Decimal::from_int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Decimal, E> {
                i64::try_from(v)
                    .map(Decimal::from_int)
                    .map_err(|_| E::custom("the number is too large"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Decimal, E> {
                if !v.is_finite() {
                    return Err(E::custom("not a finite number"));
                }
                // Rust prints the shortest digits that read back as the same double, without an
                // exponent: exactly the digits 1C wrote.
                Decimal::parse(&format!("{v}")).map_err(|_| E::custom("the number does not fit a decimal"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Decimal, E> {
                // OData v3 allows Edm.Decimal as a string.
                Decimal::parse(v).map_err(|_| E::custom("not a decimal number"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parse_display_normalise() {
        assert_eq!(d("1500.50").to_string(), "1500.5");
        assert_eq!(d("-0.05").to_string(), "-0.05");
        assert_eq!(d("007").to_string(), "7");
        assert_eq!(d(".5").to_string(), "0.5");
        assert_eq!(d("0.000"), Decimal::ZERO);
        assert_eq!(d("1.50"), d("1.5"));
        assert_eq!(Decimal::from_minor(150050), d("1500.5"));
        assert_eq!(d("1500.5").to_minor(), Some(150050));
        assert_eq!(d("1.005").to_minor(), None);
        for bad in ["", ".", "1e5", "1,5", "--1", "1.2.3", "abc", "99999999999999999999"] {
            assert!(Decimal::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_and_rounding() {
        assert_eq!(d("0.1").checked_add(d("0.2")), Some(d("0.3")));
        assert_eq!(d("3.000").checked_mul(d("1499.99")), Some(d("4499.97")));
        assert_eq!(d("2.345").round(2), d("2.35"));
        assert_eq!(d("-2.345").round(2), d("-2.35"));
        assert_eq!(d("2.344").round(2), d("2.34"));
        assert!(d("1.5") < d("1.51"));
        assert!(d("-1") < d("0.001"));
    }

    #[test]
    fn json_round_trip_is_exact() {
        for s in ["0.1", "1500.5", "123456789012.34", "-0.01", "999999999999.999", "42"] {
            let v = d(s);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, s, "{s}");
            let back: Decimal = serde_json::from_str(&json).unwrap();
            assert_eq!(back, v);
        }
        let from_str: Decimal = serde_json::from_str("\"12.30\"").unwrap();
        assert_eq!(from_str, d("12.3"));
        assert!(serde_json::to_string(&d("1234567890.1234567")).is_err());
        assert!(serde_json::from_str::<Decimal>("true").is_err());
    }
}

//! [`Price`]: what a provider charged for a message, kept exactly as the provider wrote it.
//!
//! Providers quote prices as decimal text with more places than a currency's minor unit (Twilio writes
//! `"-0.00750"` US dollars for one SMS segment), so a price is neither a float (rounding) nor an
//! integer count of cents (truncation): it is the decimal text, checked once, with exact conversions
//! on demand.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An amount of money a provider charged, and its currency.
///
/// The amount is a plain decimal (`"0.0079"`, `"3.50"`, `"-1"`): an optional `-`, digits, and an
/// optional `.` followed by digits. The currency is an ISO 4217 code, kept upper case (`"USD"`, `"RUB"`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PriceRepr", into = "PriceRepr")]
pub struct Price {
    amount: String,
    currency: String,
}

#[derive(Serialize, Deserialize)]
struct PriceRepr {
    amount: String,
    currency: String,
}

impl TryFrom<PriceRepr> for Price {
    type Error = Error;

    fn try_from(r: PriceRepr) -> Result<Price> {
        Price::new(&r.amount, &r.currency)
    }
}

impl From<Price> for PriceRepr {
    fn from(p: Price) -> PriceRepr {
        PriceRepr {
            amount: p.amount,
            currency: p.currency,
        }
    }
}

fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

impl Price {
    /// A price from the provider's decimal text and currency code. Surrounding spaces are dropped and
    /// the currency is upper-cased; anything that is not a plain decimal, or a currency that is not
    /// three ASCII letters, is refused.
    pub fn new(amount: &str, currency: &str) -> Result<Price> {
        let amount = amount.trim();
        let currency = currency.trim();
        if amount.len() > 64 || !is_decimal(amount) {
            return Err(Error::decode(format!(
                "'{}' is not a decimal amount",
                amount.chars().take(64).collect::<String>().escape_debug()
            )));
        }
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(Error::decode(format!(
                "'{}' is not an ISO 4217 currency code",
                currency.chars().take(16).collect::<String>().escape_debug()
            )));
        }
        Ok(Price {
            amount: amount.to_owned(),
            currency: currency.to_ascii_uppercase(),
        })
    }

    /// The amount, exactly as the provider wrote it (after trimming).
    pub fn amount(&self) -> &str {
        &self.amount
    }

    /// The ISO 4217 currency code, upper case.
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The amount in millionths of the currency unit (`"0.0079"` → 7900), when that is exact: `None`
    /// when the amount has non-zero digits past the sixth decimal place or does not fit an `i64`.
    pub fn to_micros(&self) -> Option<i64> {
        let (neg, s) = match self.amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, self.amount.as_str()),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if frac.len() > 6 && frac[6..].bytes().any(|b| b != b'0') {
            return None;
        }
        let mut micros = int.parse::<i64>().ok()?.checked_mul(1_000_000)?;
        let mut scale = 100_000;
        for b in frac.bytes().take(6) {
            micros = micros.checked_add(i64::from(b - b'0') * scale)?;
            scale /= 10;
        }
        Some(if neg { -micros } else { micros })
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Debug for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Price({} {})", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_checked_and_kept_exactly() {
        let p = Price::new(" 0.00790 ", "usd").unwrap();
        assert_eq!((p.amount(), p.currency()), ("0.00790", "USD"));
        assert_eq!(p.to_micros(), Some(7_900));
        assert_eq!(Price::new("-3", "RUB").unwrap().to_micros(), Some(-3_000_000));
        assert_eq!(Price::new("0.0000001", "USD").unwrap().to_micros(), None);
        assert_eq!(Price::new("1.5000000", "USD").unwrap().to_micros(), Some(1_500_000));
        assert_eq!(Price::new("99999999999999999999", "USD").unwrap().to_micros(), None);
        for bad in ["", "-", "1.", ".5", "1e3", "0x10", "1,5", "NaN", "--1"] {
            assert!(Price::new(bad, "USD").is_err(), "{bad}");
        }
        for bad in ["", "US", "USDT", "U$D"] {
            assert!(Price::new("1", bad).is_err(), "{bad}");
        }
        assert_eq!(p.to_string(), "0.00790 USD");
    }

    #[test]
    fn serde_checks_on_the_way_in() {
        let p = Price::new("3.50", "RUB").unwrap();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v, serde_json::json!({"amount": "3.50", "currency": "RUB"}));
        assert_eq!(serde_json::from_value::<Price>(v).unwrap(), p);
        assert!(serde_json::from_value::<Price>(serde_json::json!({"amount": "x", "currency": "RUB"})).is_err());
    }
}

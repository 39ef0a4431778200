//! Money as integer minor units of an ISO 4217 currency. No floating point anywhere.
//!
//! A binary float cannot hold `0.10` exactly, so `0.1 + 0.2` of a currency is not `0.3`; summed over a
//! ledger that is real money lost or invented. A [`Money`] is an `i64` count of the currency's minor
//! unit (kopecks, cents, fils) plus a [`Currency`] whose exponent is known, so every amount is exact and
//! every conversion to a provider's wire form is integer arithmetic:
//!
//! * YooKassa wants decimal strings with the currency's decimals: `"1000.00"` RUB
//!   ([`Money::to_decimal_string`], [`Money::parse`]).
//! * Stripe wants integers in *its* idea of the minor unit, which is ISO's except for a few currencies
//!   ([`Money::to_stripe_amount`], [`Money::from_stripe_amount`]).
//!
//! Decimal strings are parsed by hand: an amount with more decimals than the currency has is refused
//! rather than rounded, and an amount too large for `i64` is an error, never a wrap.
//!
//! ```
//! use switchboard_payments::{Currency, Money};
//!
//! let rub = Money::parse("1000.5", Currency::RUB)?;
//! assert_eq!(rub.minor(), 100_050);
//! assert_eq!(rub.to_decimal_string(), "1000.50");
//! assert_eq!(Money::parse("1.005", Currency::RUB).unwrap_err().kind(), switchboard_core::ErrorKind::InvalidInput);
//!
//! let yen = Money::from_minor(500, Currency::from_code("jpy")?);
//! assert_eq!(yen.to_decimal_string(), "500");
//! let kwd = Money::parse("1.25", Currency::KWD)?;
//! assert_eq!(kwd.minor(), 1250);
//! # Ok::<(), switchboard_core::Error>(())
//! ```

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use switchboard_core::{Error, Result};

/// An ISO 4217 currency with its minor-unit exponent (the number of decimals).
///
/// Only currencies in this crate's table are accepted: an exponent guessed wrong is an amount off by a
/// factor of 100, so an unknown code is an error rather than a default of 2.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// The currencies this crate knows: ISO 4217 code and exponent (ISO 4217 "minor unit" column).
///
/// It covers the currencies YooKassa accepts and Stripe's common presentment currencies. Add a line here
/// to support another one.
const TABLE: &[(&str, u8)] = &[
    // zero decimals
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    // three decimals
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    // two decimals
    ("AED", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BRL", 2),
    ("BYN", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("COP", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("KES", 2),
    ("KGS", 2),
    ("KZT", 2),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("NGN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PEN", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("SAR", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TRY", 2),
    ("TWD", 2),
    ("UAH", 2),
    ("USD", 2),
    ("UZS", 2),
    ("ZAR", 2),
];

/// Stripe's minor unit differs from ISO's for these currencies (docs.stripe.com/currencies, "zero-decimal"
/// and "special cases"): ISK is ISO zero-decimal but a two-decimal currency in Stripe's API (amounts in
/// multiples of 100); MGA is ISO two-decimal but zero-decimal at Stripe.
const STRIPE_EXPONENT_OVERRIDES: &[(&str, u8)] = &[("ISK", 2), ("MGA", 0)];

/// Stripe's three-decimal currencies must have a last digit of 0 (docs.stripe.com/currencies).
const STRIPE_ROUND_TO_TEN: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

impl Currency {
    /// Russian rouble (2 decimals).
    pub const RUB: Currency = Currency::known(*b"RUB", 2);
    /// US dollar (2 decimals).
    pub const USD: Currency = Currency::known(*b"USD", 2);
    /// Euro (2 decimals).
    pub const EUR: Currency = Currency::known(*b"EUR", 2);
    /// Pound sterling (2 decimals).
    pub const GBP: Currency = Currency::known(*b"GBP", 2);
    /// Japanese yen (0 decimals).
    pub const JPY: Currency = Currency::known(*b"JPY", 0);
    /// Kuwaiti dinar (3 decimals).
    pub const KWD: Currency = Currency::known(*b"KWD", 3);

    const fn known(code: [u8; 3], exponent: u8) -> Currency {
        Currency { code, exponent }
    }

    /// The currency with this ISO 4217 code, in any letter case (`"rub"`, `"RUB"`). Codes not in the
    /// table are an `InvalidInput` error.
    pub fn from_code(code: &str) -> Result<Currency> {
        let up = code.trim().to_ascii_uppercase();
        TABLE
            .iter()
            .find(|(c, _)| *c == up)
            .and_then(|(c, e)| {
                let b = c.as_bytes();
                Some(Currency {
                    code: [*b.first()?, *b.get(1)?, *b.get(2)?],
                    exponent: *e,
                })
            })
            .ok_or_else(|| {
                Error::invalid_input(format!(
                    "'{}' is not a currency this library knows (ISO 4217 code with a known number of decimals)",
                    code.chars().take(8).collect::<String>().escape_debug()
                ))
            })
    }

    /// The ISO code in upper case (`"RUB"`).
    pub fn code(&self) -> &str {
        // The bytes come from the ASCII table above.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// The ISO code in lower case, as Stripe writes it (`"usd"`).
    pub fn lowercase_code(&self) -> String {
        self.code().to_ascii_lowercase()
    }

    /// The number of decimals of the minor unit (RUB 2, JPY 0, KWD 3).
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// The exponent of Stripe's `amount` integers for this currency.
    pub fn stripe_exponent(&self) -> u8 {
        STRIPE_EXPONENT_OVERRIDES
            .iter()
            .find(|(c, _)| *c == self.code())
            .map(|(_, e)| *e)
            .unwrap_or(self.exponent)
    }

    /// Every currency in the table.
    pub fn all() -> impl Iterator<Item = Currency> {
        TABLE.iter().filter_map(|(c, _)| Currency::from_code(c).ok())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Currency> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::from_code(&s).map_err(serde::de::Error::custom)
    }
}

/// An exact amount: integer minor units of a [`Currency`]. See the [module docs](self).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

fn pow10(exp: u8) -> i64 {
    10_i64.pow(u32::from(exp))
}

fn too_large() -> Error {
    Error::invalid_input("the amount is too large to represent")
}

impl Money {
    /// An amount of `minor` units (kopecks, cents, yen).
    pub const fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Zero of a currency.
    pub const fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Parses a decimal string (`"1000"`, `"1000.5"`, `"1000.50"`, `"-3.10"`).
    ///
    /// Accepted: an optional `-`, ASCII digits, and optionally `.` followed by one to `exponent` digits.
    /// Refused with `InvalidInput`: more decimals than the currency has (never rounded), exponents,
    /// separators, spaces, `+`, a bare `.`, a decimal point in a zero-decimal currency, and values that
    /// do not fit in `i64` minor units.
    pub fn parse(text: &str, currency: Currency) -> Result<Money> {
        let bad = |why: &str| {
            Error::invalid_input(format!(
                "'{}' is not a {} amount: {why}",
                text.chars().take(40).collect::<String>().escape_debug(),
                currency.code()
            ))
        };
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (digits, None),
        };
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("expected digits with an optional '.' and decimals"));
        }
        let frac = match frac {
            None => "",
            Some("") => return Err(bad("a '.' must be followed by digits")),
            Some(f) if !f.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(bad("expected digits with an optional '.' and decimals"));
            }
            Some(f) if f.len() > usize::from(currency.exponent) => {
                return Err(bad(&format!(
                    "{} has {} decimal(s), this has {}",
                    currency.code(),
                    currency.exponent,
                    f.len()
                )));
            }
            Some(f) => f,
        };
        let mut minor: i64 = 0;
        for b in whole.bytes().chain(frac.bytes()) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(too_large)?;
        }
        // Pad the decimals that were left out ("1.5" RUB is 150 kopecks).
        let missing = currency.exponent - frac.len() as u8;
        minor = minor.checked_mul(pow10(missing)).ok_or_else(too_large)?;
        if negative {
            minor = -minor;
        }
        Ok(Money { minor, currency })
    }

    /// Parses `value` in the currency named by `code` (a YooKassa `{"value","currency"}` pair).
    pub fn parse_with_code(value: &str, code: &str) -> Result<Money> {
        Money::parse(value, Currency::from_code(code)?)
    }

    /// The amount in minor units.
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether the amount is above zero.
    pub const fn is_positive(&self) -> bool {
        self.minor > 0
    }

    /// Whether the amount is zero.
    pub const fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// The amount as a decimal string with exactly the currency's decimals: `"1000.00"` RUB, `"500"` JPY,
    /// `"1.250"` KWD. This is YooKassa's `amount.value`.
    pub fn to_decimal_string(&self) -> String {
        let exp = usize::from(self.currency.exponent);
        let sign = if self.minor < 0 { "-" } else { "" };
        // unsigned_abs so that i64::MIN formats too.
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let div = 10_u64.pow(exp as u32);
        format!("{sign}{}.{:0exp$}", abs / div, abs % div)
    }

    /// The sum, or `InvalidInput` for different currencies or an overflow.
    pub fn checked_add(self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let minor = self.minor.checked_add(other.minor).ok_or_else(too_large)?;
        Ok(Money { minor, ..self })
    }

    /// The difference, or `InvalidInput` for different currencies or an overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let minor = self.minor.checked_sub(other.minor).ok_or_else(too_large)?;
        Ok(Money { minor, ..self })
    }

    fn same_currency(&self, other: Money) -> Result<()> {
        if self.currency != other.currency {
            return Err(Error::invalid_input(format!(
                "cannot combine {} with {}",
                self.currency, other.currency
            )));
        }
        Ok(())
    }

    /// The amount as Stripe's `amount` integer.
    ///
    /// Equal to [`Money::minor`] except for Stripe's special cases: ISK is sent ×100 (Stripe keeps it a
    /// two-decimal currency), MGA must be whole ariary (Stripe treats it as zero-decimal), and the
    /// three-decimal currencies (BHD, JOD, KWD, OMR, TND) must end in 0. Amounts Stripe would refuse are
    /// an `InvalidInput` error here, before anything is sent.
    pub fn to_stripe_amount(&self) -> Result<i64> {
        let iso = self.currency.exponent;
        let stripe = self.currency.stripe_exponent();
        let amount = match stripe.cmp(&iso) {
            Ordering::Equal => self.minor,
            Ordering::Greater => self.minor.checked_mul(pow10(stripe - iso)).ok_or_else(too_large)?,
            Ordering::Less => {
                let div = pow10(iso - stripe);
                if self.minor % div != 0 {
                    return Err(Error::invalid_input(format!(
                        "Stripe accepts only whole units of {}",
                        self.currency
                    )));
                }
                self.minor / div
            }
        };
        if STRIPE_ROUND_TO_TEN.contains(&self.currency.code()) && amount % 10 != 0 {
            return Err(Error::invalid_input(format!(
                "Stripe requires {} amounts to end in 0 (round to the nearest ten minor units)",
                self.currency
            )));
        }
        Ok(amount)
    }

    /// An amount from Stripe's `amount` integer and lower-case `currency` (the inverse of
    /// [`Money::to_stripe_amount`]).
    ///
    /// Its input is what Stripe answered, so every failure is a [`Decode`](switchboard_core::ErrorKind)
    /// error (an unknown currency, an amount out of range), never `InvalidInput`: `InvalidInput` would
    /// say "nothing was sent" about a payment Stripe has already made.
    pub fn from_stripe_amount(amount: i64, currency: &str) -> Result<Money> {
        let c = Currency::from_code(currency).map_err(|e| {
            Error::decode(format!(
                "Stripe sent the currency '{}', which this library does not know",
                currency.chars().take(8).collect::<String>().escape_debug()
            ))
            .with_source(e)
        })?;
        let iso = c.exponent;
        let stripe = c.stripe_exponent();
        let minor = match stripe.cmp(&iso) {
            Ordering::Equal => amount,
            Ordering::Less => amount
                .checked_mul(pow10(iso - stripe))
                .ok_or_else(|| Error::decode(format!("Stripe sent {amount} {c}, too large to represent")))?,
            Ordering::Greater => {
                let div = pow10(stripe - iso);
                if amount % div != 0 {
                    return Err(Error::decode(format!(
                        "Stripe sent {amount} for {c}, which is not a whole number of {c}"
                    )));
                }
                amount / div
            }
        };
        Ok(Money { minor, currency: c })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

/// Ordering is defined within one currency only.
impl PartialOrd for Money {
    fn partial_cmp(&self, other: &Money) -> Option<Ordering> {
        (self.currency == other.currency).then(|| self.minor.cmp(&other.minor))
    }
}

/// Serialized as `{"value":"1000.00","currency":"RUB"}`: exact, readable, and YooKassa's own shape.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("value", &self.to_decimal_string())?;
        st.serialize_field("currency", self.currency.code())?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            value: String,
            currency: String,
        }
        let w = Wire::deserialize(d)?;
        Money::parse_with_code(&w.value, &w.currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_codes_are_unique_and_three_letters() {
        let mut seen = std::collections::HashSet::new();
        for (c, e) in TABLE {
            assert_eq!(c.len(), 3, "{c}");
            assert!(c.bytes().all(|b| b.is_ascii_uppercase()), "{c}");
            assert!(*e <= 3, "{c}");
            assert!(seen.insert(*c), "duplicate {c}");
        }
        assert_eq!(Currency::all().count(), TABLE.len());
        for (c, _) in STRIPE_EXPONENT_OVERRIDES {
            assert!(seen.contains(c));
        }
    }

    #[test]
    fn constants_match_the_table() {
        for c in [
            Currency::RUB,
            Currency::USD,
            Currency::EUR,
            Currency::GBP,
            Currency::JPY,
            Currency::KWD,
        ] {
            assert_eq!(Currency::from_code(c.code()).unwrap(), c);
        }
    }
}

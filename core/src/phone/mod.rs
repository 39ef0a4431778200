//! E.164 phone numbers.
//!
//! [`PhoneNumber`] is always a valid number in E.164 form. It is parsed from whatever people type —
//! national formats with trunk prefixes (`8 (912) 345-67-89` in Russia, `020 8366 1177` in the UK),
//! international prefixes (`00`, `810`, `011`), punctuation, spaces, unicode digits — and it is
//! accepted only when the number metadata says the number is valid. Parsing and validation are
//! delegated to a port of Google's libphonenumber (currently the `rlibphonenumber` crate), kept
//! behind these types so that it can be replaced.
//!
//! ## Storing a number and logging one
//!
//! A phone number is personal data that a host must both **store** (whole) and **log** (masked).
//! `to_string()` would have to pick one of the two and silently do the wrong thing for the other —
//! lose the number in a database column, or leak it into a log line — so [`PhoneNumber`] has **no
//! `Display`** on purpose, and the compiler makes the choice visible:
//!
//! - to store or send it: [`PhoneNumber::as_e164`] (`&str`), `String::from(number)`, or serde (which
//!   writes the E.164 string); [`PhoneNumber::digits`] for APIs that want no `+`;
//! - to log it: [`PhoneNumber::masked`] (`+35569*****56`). [`Debug`](fmt::Debug) is masked too, so
//!   `{:?}` of a message, a receipt or an error never carries a whole number.
//!
//! ```
//! use switchboard_core::phone::{PhoneNumber, Region};
//!
//! let ru = Region::parse("RU")?;
//! let number = PhoneNumber::parse("8 (912) 345-67-89", Some(ru))?;
//! assert_eq!(number.as_e164(), "+79123456789");
//! assert_eq!(number.digits(), "79123456789");
//! assert_eq!(number.country_code(), 7);
//! assert_eq!(number.national_number(), "9123456789");
//! assert_eq!(number.region(), Some(ru));
//! assert_eq!(number.masked(), "+791******89"); // for logs
//! assert_eq!(String::from(number.clone()), "+79123456789"); // for storage
//!
//! // A national number needs a region; an international one does not.
//! assert!(PhoneNumber::parse("069 412 3456", None).is_err());
//! let al: PhoneNumber = "+355 69 412 3456".parse()?;
//! assert_eq!(al.as_e164(), "+355694123456");
//! # Ok::<(), switchboard_core::phone::PhoneError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use rlibphonenumber as lib;
use rlibphonenumber::PHONE_NUMBER_UTIL;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest input handed to the parser, in bytes; longer input is [`PhoneError::TooLong`].
///
/// libphonenumber itself refuses input longer than 250 characters (`kMaxInputStringLength`).
pub const MAX_INPUT_LEN: usize = 250;

/// Longest national significant number libphonenumber accepts (ITU says 15; Germany has 17).
const MAX_NSN_LEN: usize = 17;
/// Longest country calling code.
const MAX_CC_LEN: usize = 3;
/// `+`, country code, national significant number.
const MAX_E164_LEN: usize = 1 + MAX_CC_LEN + MAX_NSN_LEN;

/// Why a phone number or region code was refused.
///
/// The message says what is wrong in one line and never repeats the number itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PhoneError {
    /// The input is empty or only whitespace.
    Empty,
    /// The input does not look like a phone number (letters, garbage, too few digits).
    NotANumber,
    /// The digits after `+` (or after an international prefix such as `00`) do not start with a
    /// country calling code that exists.
    InvalidCountryCode,
    /// A national number (no `+`) was given without a default region to read it in.
    MissingRegion,
    /// A region code that is not an ISO 3166-1 alpha-2 code known to the number metadata.
    /// Holds at most the first three characters of what was given.
    UnknownRegion(String),
    /// Fewer digits than any number of the country has.
    TooShort,
    /// More digits than any number of the country has, or input longer than [`MAX_INPUT_LEN`].
    TooLong,
    /// A digit count between the shortest and longest numbers of the country that no number of
    /// the country has.
    InvalidLength {
        /// The country calling code the number was read with.
        country_code: u16,
    },
    /// A possible length, but the number is in no range the metadata knows as assigned.
    NotValid {
        /// The country calling code the number was read with.
        country_code: u16,
    },
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneError::Empty => f.write_str("phone number is empty"),
            PhoneError::NotANumber => {
                f.write_str("not a phone number: use digits, optionally with a leading + and spaces or punctuation")
            }
            PhoneError::InvalidCountryCode => {
                f.write_str("unknown country calling code: check the digits after + or after the international prefix")
            }
            PhoneError::MissingRegion => {
                f.write_str("national number with no default region: pass a region or write it with +CC")
            }
            PhoneError::UnknownRegion(code) => write!(
                f,
                "unknown region code {code:?}: use an ISO 3166-1 alpha-2 code known to the phone metadata, such as \"GB\""
            ),
            PhoneError::TooShort => {
                f.write_str("phone number is too short: digits are missing (a local number needs its area code)")
            }
            PhoneError::TooLong => f.write_str(
                "phone number is too long: more digits than any number of its country has, or input over 250 bytes",
            ),
            PhoneError::InvalidLength { country_code } => write!(
                f,
                "phone number has a number of digits that no number of country code +{country_code} has: check the digits"
            ),
            PhoneError::NotValid { country_code } => write!(
                f,
                "not a valid number for country code +{country_code}: no such number range exists, check the digits"
            ),
        }
    }
}

impl std::error::Error for PhoneError {}

impl PhoneError {
    /// An `UnknownRegion` that keeps at most three characters of `code`, so that a phone number
    /// passed as a region by mistake does not end up in logs.
    fn unknown_region(code: &str) -> PhoneError {
        let mut kept: String = code.chars().take(3).collect();
        if kept.len() < code.len() {
            kept.push('…');
        }
        PhoneError::UnknownRegion(kept)
    }
}

/// A region (ISO 3166-1 alpha-2 code) that the number metadata knows, such as `AL`, `RU` or `GB`.
///
/// It tells [`PhoneNumber::parse`] how to read national numbers. Serialised as its code.
///
/// ```
/// use switchboard_core::phone::Region;
///
/// let gb: Region = "gb".parse()?;
/// assert_eq!(gb.as_str(), "GB");
/// assert_eq!(gb.country_code(), 44);
/// assert!(Region::parse("ZZ").is_err());
/// # Ok::<(), switchboard_core::phone::PhoneError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region([u8; 2]);

impl Region {
    /// Parses a two-letter region code (ASCII letters, either case) known to the number metadata.
    pub fn parse(code: &str) -> Result<Region, PhoneError> {
        let bytes = code.as_bytes();
        if bytes.len() != 2 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(PhoneError::unknown_region(code));
        }
        let region = Region([bytes[0].to_ascii_uppercase(), bytes[1].to_ascii_uppercase()]);
        match region.to_lib() {
            Some(lib_region) if PHONE_NUMBER_UTIL.get_country_code_for_region(lib_region).is_some() => Ok(region),
            _ => Err(PhoneError::unknown_region(code)),
        }
    }

    /// The upper-case code, such as `"GB"`.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters (checked in `parse` and `from_lib`).
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }

    /// The country calling code numbers of this region use (`44` for GB, `7` for RU and KZ).
    pub fn country_code(&self) -> u16 {
        self.to_lib()
            .and_then(|r| PHONE_NUMBER_UTIL.get_country_code_for_region(r))
            .and_then(|cc| u16::try_from(cc).ok())
            .unwrap_or(0)
    }

    fn to_lib(self) -> Option<lib::Region> {
        lib::Region::from_code(self.as_str()).ok()
    }

    /// `None` for the non-geographical "001" entity (+800, +882, …).
    fn from_lib(region: lib::Region) -> Option<Region> {
        match region.as_region_str().as_bytes() {
            &[a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Some(Region([a, b])),
            _ => None,
        }
    }
}

impl FromStr for Region {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Region, PhoneError> {
        Region::parse(s)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.as_str())
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Region, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Region;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 3166-1 alpha-2 region code")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Region, E> {
                Region::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A valid phone number in E.164 form (`+355694123456`).
///
/// It can only be made by [`parse`](PhoneNumber::parse), so it is always a number the metadata
/// knows as valid. It is small (no heap) and cheap to clone. Equality, hashing and ordering are
/// those of the E.164 string.
///
/// It has no `Display` (see [the module docs](self)): store it with [`as_e164`](PhoneNumber::as_e164)
/// or `String::from`, log it with [`masked`](PhoneNumber::masked). [`Debug`](fmt::Debug) prints it
/// masked. Serde writes the full E.164 string (it is data, not a log line) and reads only E.164
/// (`+` and the country code), through [`parse`](PhoneNumber::parse) with no region.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber {
    /// `+`, country code, national significant number; zero bytes after `len`.
    e164: [u8; MAX_E164_LEN],
    len: u8,
    cc_len: u8,
    /// The region the number belongs to; `None` for non-geographical numbers.
    region: Option<Region>,
}

impl PhoneNumber {
    /// Parses a number as libphonenumber does and keeps it only if it is valid.
    ///
    /// Accepts E.164 and international input (`+44 20 8366 1177`, `00 44 …` or `810 44 …` with the
    /// region that dials that prefix), national input read in `default_region` with its trunk
    /// prefix (`020 8366 1177` in GB, `8 912 345-67-89` in RU), punctuation, spaces, unicode
    /// digits and `tel:` URIs. An extension (`ext. 12`) is accepted and dropped, as in
    /// libphonenumber's E.164 output. Input longer than [`MAX_INPUT_LEN`] bytes is refused
    /// without being looked at.
    ///
    /// ```
    /// use switchboard_core::phone::{PhoneError, PhoneNumber, Region};
    ///
    /// let gb = Some(Region::parse("GB")?);
    /// assert_eq!(PhoneNumber::parse("020 8366 1177", gb)?.as_e164(), "+442083661177");
    /// assert_eq!(PhoneNumber::parse("+1 (201) 555-0123", gb)?.as_e164(), "+12015550123");
    /// assert_eq!(PhoneNumber::parse("+355 69 412", None), Err(PhoneError::TooShort));
    /// assert_eq!(PhoneNumber::parse("020 8366 1177", None), Err(PhoneError::MissingRegion));
    /// # Ok::<(), PhoneError>(())
    /// ```
    pub fn parse(input: &str, default_region: Option<Region>) -> Result<PhoneNumber, PhoneError> {
        if input.len() > MAX_INPUT_LEN {
            return Err(PhoneError::TooLong);
        }
        let lib_region = default_region.and_then(Region::to_lib);
        if is_plain_e164(input) {
            // Fast path: `+` and ASCII digits. The library has no entry point below `parse`
            // (its national-prefix metadata is private, and libphonenumber strips a national
            // prefix even after +CC), so we still call it, but skip our own scans. The region
            // still matters: `+00 44 …` is read as `00 44 …` in the region.
            return match PHONE_NUMBER_UTIL.parse(input, lib_region) {
                Ok(number) => PhoneNumber::validate(&number),
                Err(err) => Err(map_parse_error(err, input, lib_region)),
            };
        }
        if input.trim().is_empty() {
            return Err(PhoneError::Empty);
        }
        if tel_prefix_after_phone_context(input) {
            return Err(PhoneError::NotANumber);
        }
        match PHONE_NUMBER_UTIL.parse(input, lib_region) {
            Ok(number) => PhoneNumber::validate(&number),
            Err(err) => Err(map_parse_error(err, input, lib_region)),
        }
    }

    /// `is_valid_number`, then the E.164 form; on failure, the most precise reason.
    fn validate(number: &lib::PhoneNumber) -> Result<PhoneNumber, PhoneError> {
        // This is `PhoneNumberUtil::is_valid_number` spelled out, so that the region it looks up
        // is kept instead of being looked up a second time for `region()`.
        let valid_region = PHONE_NUMBER_UTIL
            .get_region_for_number(number)
            .filter(|&region| PHONE_NUMBER_UTIL.is_valid_number_for_region(number, region));
        let Some(lib_region) = valid_region else {
            return Err(invalid_reason(number));
        };
        PhoneNumber::from_parts(number, Region::from_lib(lib_region))
    }

    /// Writes `+{cc}{nsn}` as libphonenumber's E.164 format does, without allocating.
    fn from_parts(number: &lib::PhoneNumber, region: Option<Region>) -> Result<PhoneNumber, PhoneError> {
        let cc = u64::try_from(number.country_code).map_err(|_| PhoneError::InvalidCountryCode)?;
        let mut out = PhoneNumber {
            e164: [0; MAX_E164_LEN],
            len: 0,
            cc_len: 0,
            region,
        };
        out.push(b'+')?;
        out.push_u64(cc)?;
        out.cc_len = out.len - 1;
        if usize::from(out.cc_len) > MAX_CC_LEN {
            return Err(PhoneError::InvalidCountryCode);
        }
        if number.italian_leading_zero() {
            // As libphonenumber's `number_of_leading_zeros_safe_for_formatting`.
            let zeros = number.number_of_leading_zeros().clamp(0, 10);
            for _ in 0..zeros {
                out.push(b'0')?;
            }
        }
        out.push_u64(number.national_number)?;
        Ok(out)
    }

    fn push(&mut self, byte: u8) -> Result<(), PhoneError> {
        let slot = self.e164.get_mut(usize::from(self.len)).ok_or(PhoneError::TooLong)?;
        *slot = byte;
        self.len += 1;
        Ok(())
    }

    fn push_u64(&mut self, mut value: u64) -> Result<(), PhoneError> {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            // `value % 10` is below 10.
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        digits[start..].iter().try_for_each(|&d| self.push(d))
    }

    /// The E.164 form, `+355694123456`: what goes on the wire.
    pub fn as_e164(&self) -> &str {
        // Only ASCII `+` and digits are ever written.
        std::str::from_utf8(&self.e164[..usize::from(self.len)]).unwrap_or("")
    }

    /// E.164 without the `+`, `355694123456`: the form many gateways and TeleCMI want.
    pub fn digits(&self) -> &str {
        &self.as_e164()[1..]
    }

    /// The country calling code, `355`.
    pub fn country_code(&self) -> u16 {
        self.digits()[..usize::from(self.cc_len)]
            .bytes()
            .fold(0, |acc, d| acc * 10 + u16::from(d - b'0'))
    }

    /// The national significant number, `694123456`: the digits after the country code
    /// (with Italy's leading zero, `0612345678`, and without any trunk prefix).
    pub fn national_number(&self) -> &str {
        &self.digits()[usize::from(self.cc_len)..]
    }

    /// The region the number belongs to (`GB` for `+44 20…`, `CA` for `+1 604…`), or `None` for
    /// non-geographical numbers such as `+800` or `+882`.
    pub fn region(&self) -> Option<Region> {
        self.region
    }

    /// The number with its middle digits hidden, for logs: `+35569*****56`.
    ///
    /// Keeps `+`, the country code, the first two and the last two digits of the national
    /// number, and always hides at least half of the national number's digits (so short
    /// numbers show fewer).
    ///
    /// ```
    /// # use switchboard_core::phone::PhoneNumber;
    /// let n: PhoneNumber = "+355694123456".parse()?;
    /// assert_eq!(n.masked(), "+35569*****56");
    /// assert_eq!(format!("{n:?}"), "+35569*****56");
    /// # Ok::<(), switchboard_core::phone::PhoneError>(())
    /// ```
    pub fn masked(&self) -> String {
        let (buf, len) = self.masked_bytes();
        String::from_utf8_lossy(&buf[..len]).into_owned()
    }

    fn masked_bytes(&self) -> ([u8; MAX_E164_LEN], usize) {
        let mut buf = self.e164;
        let len = usize::from(self.len);
        let nsn_start = 1 + usize::from(self.cc_len);
        let nsn_len = len.saturating_sub(nsn_start);
        let hidden = nsn_len.saturating_sub(4).max(nsn_len.div_ceil(2));
        let shown = nsn_len - hidden;
        let head = shown / 2;
        for byte in &mut buf[nsn_start + head..nsn_start + head + hidden] {
            *byte = b'*';
        }
        (buf, len)
    }
}

/// `+` followed by ASCII digits only.
fn is_plain_e164(input: &str) -> bool {
    match input.as_bytes() {
        [b'+', rest @ ..] => !rest.is_empty() && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// `tel:` after `;phone-context=`: no valid RFC 3966 URI looks like that, and rlibphonenumber 2.2
/// slices the input between the two and panics (Java's libphonenumber throws there; the C++ and
/// Python ports read an empty national part).
fn tel_prefix_after_phone_context(input: &str) -> bool {
    if !input.as_bytes().contains(&b';') {
        return false;
    }
    match (input.find(";phone-context="), input.find("tel:")) {
        (Some(context), Some(tel)) => tel > context,
        _ => false,
    }
}

/// Why a number that parsed is not valid.
fn invalid_reason(number: &lib::PhoneNumber) -> PhoneError {
    let country_code = u16::try_from(number.country_code).unwrap_or(0);
    match PHONE_NUMBER_UTIL.is_possible_number_with_reason(number) {
        Ok(lib::NumberLengthType::IsPossible) => PhoneError::NotValid { country_code },
        Ok(lib::NumberLengthType::IsPossibleLocalOnly) => PhoneError::TooShort,
        Err(lib::ValidationError::TooShort) => PhoneError::TooShort,
        Err(lib::ValidationError::TooLong) => PhoneError::TooLong,
        Err(lib::ValidationError::InvalidLength) => PhoneError::InvalidLength { country_code },
        Err(lib::ValidationError::InvalidCountryCode) => PhoneError::InvalidCountryCode,
    }
}

fn map_parse_error(err: lib::ParseError, input: &str, region: Option<lib::Region>) -> PhoneError {
    match err {
        lib::ParseError::InvalidCountryCode => {
            // libphonenumber says "invalid country code" both for a bad code after `+` and for a
            // national number with no region to read it in.
            if region.is_none() && !input.contains(['+', '\u{FF0B}']) {
                PhoneError::MissingRegion
            } else {
                PhoneError::InvalidCountryCode
            }
        }
        lib::ParseError::NotANumber(_) => PhoneError::NotANumber,
        lib::ParseError::TooShortAfterIdd | lib::ParseError::TooShortNsn => PhoneError::TooShort,
        lib::ParseError::TooLongNsn => PhoneError::TooLong,
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneError;

    /// Parses with no default region, so only international input (`+CC…`) is accepted.
    fn from_str(s: &str) -> Result<PhoneNumber, PhoneError> {
        PhoneNumber::parse(s, None)
    }
}

/// Parses international input (`+CC…`), as [`FromStr`] does: `let to: PhoneNumber = "+355…".try_into()?;`.
impl TryFrom<&str> for PhoneNumber {
    type Error = PhoneError;

    fn try_from(s: &str) -> Result<PhoneNumber, PhoneError> {
        PhoneNumber::parse(s, None)
    }
}

/// Parses international input (`+CC…`), as [`FromStr`] does.
impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;

    fn try_from(s: String) -> Result<PhoneNumber, PhoneError> {
        PhoneNumber::parse(&s, None)
    }
}

impl fmt::Debug for PhoneNumber {
    /// The masked form, `+35569*****56`: the full number never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (buf, len) = self.masked_bytes();
        f.pad(std::str::from_utf8(&buf[..len]).unwrap_or(""))
    }
}

/// The E.164 form, for storage: `String::from(number)`.
impl From<PhoneNumber> for String {
    fn from(number: PhoneNumber) -> String {
        number.as_e164().to_owned()
    }
}

/// The E.164 form.
impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        self.as_e164()
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_e164())
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PhoneNumber, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = PhoneNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a phone number in E.164 form, such as \"+355694123456\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PhoneNumber, E> {
                PhoneNumber::parse(v, None).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Phone numbers in the forms people type, per region (300 lines of vectors).
#[cfg(test)]
mod forms_tests;
#[cfg(test)]
mod tests;

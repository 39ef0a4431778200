//! [`Guid`]: the `Ref_Key` of every 1C object and the value of every reference attribute (`*_Key`).
//!
//! 1C writes GUIDs in lower case, hyphenated (`1fa1a135-d89b-11e6-8343-40167e2531c3`); an empty
//! reference is the nil GUID ([`Guid::NIL`]). Parsing accepts either case and nothing else, so a value
//! that reaches a URL or a `$filter` as `guid'…'` can never carry anything but 32 hex digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use switchboard_core::{Error, Result};

/// A 1C reference key. See the [module docs](self).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid([u8; 16]);

impl Guid {
    /// The empty reference (`00000000-0000-0000-0000-000000000000`).
    pub const NIL: Guid = Guid([0; 16]);

    /// Parses the hyphenated form (`8-4-4-4-12` hex digits, any case).
    pub fn parse(input: &str) -> Result<Guid> {
        let s = input.trim();
        let bytes = s.as_bytes();
        let bad = || Error::invalid_input("a 1C GUID looks like 1fa1a135-d89b-11e6-8343-40167e2531c3");
        if bytes.len() != 36 {
            return Err(bad());
        }
        let mut out = [0u8; 16];
        let mut nibbles = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if b != b'-' {
                    return Err(bad());
                }
                continue;
            }
            let v = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return Err(bad()),
            };
            let byte = nibbles / 2;
            if nibbles.is_multiple_of(2) {
                out[byte] = v << 4;
            } else {
                out[byte] |= v;
            }
            nibbles += 1;
        }
        Ok(Guid(out))
    }

    /// A GUID from its 16 bytes, in written order.
    pub const fn from_bytes(bytes: [u8; 16]) -> Guid {
        Guid(bytes)
    }

    /// A GUID from a 128-bit number, most significant byte first.
    pub const fn from_u128(v: u128) -> Guid {
        Guid(v.to_be_bytes())
    }

    /// The 16 bytes in written order.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Whether this is the empty reference.
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }

    /// `None` for the empty reference, so "no counterparty" is not mistaken for one.
    pub fn non_nil(self) -> Option<Guid> {
        (!self.is_nil()).then_some(self)
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({self})")
    }
}

impl FromStr for Guid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Guid> {
        Guid::parse(s)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Guid, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        if s.is_empty() {
            // Some configurations answer "" for an unfilled reference of a composite type.
            return Ok(Guid::NIL);
        }
        Guid::parse(&s)
            .map_err(|_| serde::de::Error::custom("expected a GUID like 1fa1a135-d89b-11e6-8343-40167e2531c3"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_case() {
        let g = Guid::parse("1FA1A135-D89B-11E6-8343-40167E2531C3").unwrap();
        assert_eq!(g.to_string(), "1fa1a135-d89b-11e6-8343-40167e2531c3");
        assert_eq!(Guid::parse(&g.to_string()).unwrap(), g);
        assert_eq!(
            serde_json::to_string(&g).unwrap(),
            "\"1fa1a135-d89b-11e6-8343-40167e2531c3\""
        );
        assert_eq!(Guid::from_u128(1).to_string(), "00000000-0000-0000-0000-000000000001");
    }

    #[test]
    fn nil_and_rejects() {
        assert!(Guid::parse("00000000-0000-0000-0000-000000000000").unwrap().is_nil());
        assert_eq!(Guid::NIL.non_nil(), None);
        for bad in [
            "",
            "1fa1a135d89b11e6834340167e2531c3",
            "1fa1a135-d89b-11e6-8343-40167e2531c",
            "1fa1a135-d89b-11e6-8343-40167e2531cg",
            "1fa1a135-d89b-11e6-8343')or(1 eq 1",
            "1fa1a135_d89b-11e6-8343-40167e2531c3",
            "ффффффф-d89b-11e6-8343-40167e2531c3",
        ] {
            assert!(Guid::parse(bad).is_err(), "{bad}");
        }
        let empty: Guid = serde_json::from_str("\"\"").unwrap();
        assert!(empty.is_nil());
        assert!(serde_json::from_str::<Guid>("\"x\"").is_err());
    }
}

#![no_main]
//! `PhoneNumber::parse` with and without a default region, `Region::parse`, and the invariants of
//! an accepted number: E.164 shape, round trip, consistent accessors, masking.

use libfuzzer_sys::fuzz_target;
use switchboard_core::phone::{PhoneNumber, Region};

const REGIONS: &[&str] = &[
    "US", "GB", "RU", "AL", "DE", "IT", "FR", "IN", "KZ", "CN", "BR", "AU", "JP", "NZ", "AR", "MX",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let region = match sel % 20 {
        16 => None,
        17 | 18 => {
            // The first two characters as an arbitrary region code.
            let code: String = text.chars().take(2).collect();
            Region::parse(&code).ok()
        }
        19 => Region::parse(text).ok(),
        i => Region::parse(REGIONS[usize::from(i)]).ok(),
    };
    if let Some(r) = region {
        let _ = r.country_code();
        assert_eq!(Region::parse(r.as_str()).ok(), Some(r));
    }
    for region in [region, None] {
        let Ok(n) = PhoneNumber::parse(text, region) else {
            continue;
        };
        let e164 = n.as_e164();
        assert!(e164.starts_with('+'), "{e164}");
        // `+`, at most 3 country-code digits and 17 national digits (Germany has 17).
        assert!(e164.len() <= 21 && e164.len() >= 3, "{e164}");
        assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()), "{e164}");
        assert_eq!(n.digits(), &e164[1..]);
        let cc = n.country_code().to_string();
        assert_eq!(format!("+{cc}{}", n.national_number()), e164);
        let masked = n.masked();
        assert_eq!(masked.len(), e164.len());
        assert!(masked.contains('*'), "{masked}");
        assert_eq!(format!("{n:?}"), masked);
        // What we accepted, we accept again in E.164, as the same number.
        let again = PhoneNumber::parse(e164, None).unwrap_or_else(|e| panic!("{e164} re-parses: {e}"));
        assert_eq!(again.as_e164(), e164);
        let json = serde_json::to_string(&n).unwrap();
        let back: PhoneNumber = serde_json::from_str(&json).unwrap();
        assert_eq!(back.as_e164(), e164);
    }
    let _ = text.parse::<PhoneNumber>();
    let _ = serde_json::from_slice::<PhoneNumber>(rest);
});

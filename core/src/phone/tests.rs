//! Unit tests of phone-number parsing, formatting and masking.

use super::*;

fn region(code: &str) -> Option<Region> {
    Some(Region::parse(code).unwrap())
}

fn e164(input: &str, code: Option<&str>) -> Result<String, PhoneError> {
    PhoneNumber::parse(input, code.and_then(region)).map(|n| n.as_e164().to_owned())
}

#[test]
fn region_codes() {
    assert_eq!(Region::parse("AL").unwrap().as_str(), "AL");
    assert_eq!(Region::parse("ru").unwrap().as_str(), "RU");
    assert_eq!(Region::parse("Gb").unwrap().to_string(), "GB");
    assert_eq!(Region::parse("RU").unwrap().country_code(), 7);
    assert_eq!(Region::parse("KZ").unwrap().country_code(), 7);
    assert_eq!(Region::parse("AL").unwrap().country_code(), 355);
    assert_eq!(format!("{:?}", Region::parse("AL").unwrap()), "Region(AL)");
    for bad in ["", "A", "ZZ", "XX", "001", "GBR", "G1", "ÄÄ", "\0\0", "U S"] {
        assert!(
            matches!(Region::parse(bad), Err(PhoneError::UnknownRegion(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn unknown_region_does_not_echo_long_input() {
    let err = Region::parse("+355694123456").unwrap_err();
    assert_eq!(err, PhoneError::UnknownRegion("+35…".into()));
    assert!(!err.to_string().contains("694123456"));
}

#[test]
fn parses_e164_and_national_forms() {
    assert_eq!(e164("+355694123456", None).unwrap(), "+355694123456");
    assert_eq!(e164("069 412 3456", Some("AL")).unwrap(), "+355694123456");
    assert_eq!(e164("8 (912) 345-67-89", Some("RU")).unwrap(), "+79123456789");
    assert_eq!(e164("810 44 20 8366 1177", Some("RU")).unwrap(), "+442083661177");
    assert_eq!(e164("011 44 20 8366 1177", Some("US")).unwrap(), "+442083661177");
    assert_eq!(e164("00355694123456", Some("DE")).unwrap(), "+355694123456");
    // Region is ignored for `+` input…
    assert_eq!(e164("+355694123456", Some("GB")).unwrap(), "+355694123456");
    // …except where libphonenumber retries `+00…` as an international prefix.
    assert_eq!(e164("+00355694123456", Some("GB")).unwrap(), "+355694123456");
    assert_eq!(e164("+00355694123456", None), Err(PhoneError::InvalidCountryCode));
}

#[test]
fn accessors() {
    let n = PhoneNumber::parse("+355694123456", None).unwrap();
    assert_eq!(n.digits(), "355694123456");
    assert_eq!(n.country_code(), 355);
    assert_eq!(n.national_number(), "694123456");
    assert_eq!(n.region(), region("AL"));

    let it = PhoneNumber::parse("02 1234 5678", region("IT")).unwrap();
    assert_eq!(it.as_e164(), "+390212345678");
    assert_eq!(it.national_number(), "0212345678");
    assert_eq!(it.region(), region("IT"));
    assert_eq!(it.country_code(), 39);

    let ca = PhoneNumber::parse("+1 604 555 0123", None).unwrap();
    assert_eq!(ca.region(), region("CA"));
    assert_eq!(ca.country_code(), 1);

    let kz = PhoneNumber::parse("8 701 123 4567", region("KZ")).unwrap();
    assert_eq!(kz.as_e164(), "+77011234567");
    assert_eq!(kz.region(), region("KZ"));
}

#[test]
fn non_geographical_numbers_have_no_region() {
    let n = PhoneNumber::parse("+800 1234 5678", None).unwrap();
    assert_eq!(n.as_e164(), "+80012345678");
    assert_eq!(n.country_code(), 800);
    assert_eq!(n.region(), None);
}

#[test]
fn errors() {
    use PhoneError::*;
    assert_eq!(e164("", None), Err(Empty));
    assert_eq!(e164("   \t", Some("GB")), Err(Empty));
    assert_eq!(e164("hello", Some("GB")), Err(NotANumber));
    assert_eq!(e164("+0 123 456 789", None), Err(InvalidCountryCode));
    assert_eq!(e164("+999 123 456 789", None), Err(InvalidCountryCode));
    assert_eq!(e164("069 412 3456", None), Err(MissingRegion));
    assert_eq!(e164("00355694123456", None), Err(MissingRegion));
    assert_eq!(e164("+35569412", None), Err(TooShort));
    assert_eq!(e164("+7 912 345 67 89 00 11 22 33", None), Err(TooLong));
    assert_eq!(e164(&"1".repeat(MAX_INPUT_LEN + 1), Some("GB")), Err(TooLong));
    // 10 digits: a possible length in GB but not an assigned range.
    assert!(matches!(
        e164("+44 1000 000000", None),
        Err(NotValid { country_code: 44 } | InvalidLength { country_code: 44 })
    ));
}

#[test]
fn error_messages_are_one_line_and_never_echo_the_number() {
    let inputs = [
        "+355 69 412",
        "069 412 3456",
        "+0694123456",
        "+44 1000 000000",
        "+355 69 412 3456 789 123 456",
    ];
    for input in inputs {
        let err = PhoneNumber::parse(input, None).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(!msg.contains("412"), "{msg}");
        assert!(!format!("{err:?}").contains("412"));
    }
}

#[test]
fn masking() {
    let cases = [
        ("+355694123456", "+35569*****56"),
        ("+79123456789", "+791******89"),
        ("+12015550123", "+120******23"),
        ("+442083661177", "+4420******77"),
        // Short national numbers hide at least half their digits.
        ("+2908999", "+2908**9"),
        ("+6837012", "+6837**2"),
        ("+29022158", "+2902***8"),
        ("+37423123456", "+37423****56"),
    ];
    for (input, masked) in cases {
        let n = PhoneNumber::parse(input, None).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(n.masked(), masked);
        assert_eq!(format!("{n:?}"), masked);
        assert_eq!(String::from(n.clone()), n.as_e164());
        assert_eq!(format!("{:?}", Some(&n)), format!("Some({masked})"));
        assert_eq!(format!("{n:>16?}"), format!("{masked:>16}"));
    }
}

#[test]
fn masking_rule_for_every_nsn_length() {
    for nsn_len in 1..=MAX_NSN_LEN {
        let mut n = PhoneNumber {
            e164: [0; MAX_E164_LEN],
            len: 0,
            cc_len: 2,
            region: None,
        };
        n.push(b'+').unwrap();
        n.push_u64(44).unwrap();
        for d in 0..nsn_len {
            n.push(b'1' + (d % 9) as u8).unwrap();
        }
        let masked = n.masked();
        let nsn = &masked[3..];
        let hidden = nsn.bytes().filter(|&b| b == b'*').count();
        assert_eq!(masked.len(), n.as_e164().len());
        assert!(hidden * 2 >= nsn_len, "{masked}");
        assert!(nsn_len - hidden <= 4, "{masked}");
        if nsn_len >= 8 {
            assert_eq!(&nsn[..2], &n.national_number()[..2]);
            assert_eq!(&nsn[nsn_len - 2..], &n.national_number()[nsn_len - 2..]);
        }
    }
}

#[test]
fn e164_matches_the_library_formatter() {
    let inputs = [
        ("+390669821234", None),
        ("+39 3123 456789", None),
        ("+225 01 23 45 67 89", None),
        ("+44 20 8366 1177", None),
        ("06 6982 1234", Some("IT")),
        ("+88 2345 678 901", None),
    ];
    for (input, code) in inputs {
        let lib_region = code.map(|c| lib::Region::from_code(c).unwrap());
        let Ok(number) = PHONE_NUMBER_UTIL.parse(input, lib_region) else {
            continue;
        };
        let ours = PhoneNumber::from_parts(&number, None).unwrap();
        let theirs = PHONE_NUMBER_UTIL.format(&number, lib::PhoneNumberFormat::E164);
        assert_eq!(ours.as_e164(), theirs, "{input}");
    }
}

#[test]
fn equality_order_and_hash_follow_e164() {
    use std::collections::HashSet;
    let a = PhoneNumber::parse("8 912 345 67 89", region("RU")).unwrap();
    let b = PhoneNumber::parse("+7 (912) 345-67-89", None).unwrap();
    let c = PhoneNumber::parse("+355694123456", None).unwrap();
    let d = PhoneNumber::parse("+12015550123", None).unwrap();
    assert_eq!(a, b);
    assert_eq!(HashSet::from([a.clone(), b.clone()]).len(), 1);
    let mut v = [a.clone(), c.clone(), d.clone()];
    v.sort();
    let sorted: Vec<&str> = v.iter().map(PhoneNumber::as_e164).collect();
    let mut strings = [a.as_e164(), c.as_e164(), d.as_e164()];
    strings.sort();
    assert_eq!(sorted, strings);
}

#[test]
fn serde_round_trip() {
    let n = PhoneNumber::parse("069 412 3456", region("AL")).unwrap();
    let json = serde_json::to_string(&n).unwrap();
    assert_eq!(json, "\"+355694123456\"");
    let back: PhoneNumber = serde_json::from_str(&json).unwrap();
    assert_eq!(back, n);
    assert!(serde_json::from_str::<PhoneNumber>("\"0694123456\"").is_err());
    let err = serde_json::from_str::<PhoneNumber>("\"+35569412\"").unwrap_err();
    assert!(!err.to_string().contains("69412"), "{err}");

    let r = Region::parse("al").unwrap();
    assert_eq!(serde_json::to_string(&r).unwrap(), "\"AL\"");
    assert_eq!(serde_json::from_str::<Region>("\"AL\"").unwrap(), r);
    assert!(serde_json::from_str::<Region>("\"ZZ\"").is_err());
}

#[test]
fn clone_is_cheap() {
    assert!(std::mem::size_of::<PhoneNumber>() <= 32);
}

/// Deterministic xorshift, so the hostile-input test needs no extra dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

#[test]
fn hostile_input_never_panics() {
    let fixed = [
        "tel:",
        "tel:+",
        ";phone-context=",
        "tel:123;phone-context=",
        "tel:123;phone-context=+",
        "tel:123;phone-context=;phone-context=+44",
        "tel:+44-20-8366-1177;isub=12;phone-context=+44",
        "tel:0208366 1177;phone-context=+44;ext=12",
        "tel:0208366 1177;phone-context=example.com",
        "tel:0208366 1177;phone-context=-.",
        "tel:;phone-context=+4",
        "+",
        "++",
        "+\u{FF0B}4420",
        "\u{FF0B}\u{FF14}\u{FF14}2083661177",
        "+٤٤٢٠٨٣٦٦١١٧٧",
        "+44\u{0}2083661177",
        "\u{0}\u{0}\u{0}",
        "+44 20 8366 1177 ext. 123456789012345678901234567890",
        "(530) 583-6985 x302/x2303",
        "1800 MICROSOFT",
        "+1 800 FLOWERS",
        "#######",
        "+441234567890123456789",
        "999999999999999999999999999999",
        "00000000000000000",
        "+00000000000000000",
        "0",
        "x",
        "\u{200B}\u{2060}",
        "𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
    ];
    let regions = [
        None,
        region("GB"),
        region("RU"),
        region("US"),
        region("IT"),
        region("AR"),
    ];
    for input in fixed {
        for r in regions {
            let _ = PhoneNumber::parse(input, r);
        }
    }
    let long = "+".to_owned() + &"9".repeat(100_000);
    assert_eq!(PhoneNumber::parse(&long, None), Err(PhoneError::TooLong));

    let alphabet = [
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "+",
        "+",
        "(",
        ")",
        "-",
        " ",
        ".",
        "/",
        "x",
        "ext",
        "#",
        "*",
        ";",
        "tel:",
        ";phone-context=",
        ";isub=",
        ";ext=",
        "=",
        "\u{0}",
        "\u{FF10}",
        "٣",
        "€",
        "a",
        "Z",
        "\u{FF0B}",
        "~",
        "\\",
        "ー",
        "\u{3000}",
        "%",
        ":",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let mut s = String::new();
        let parts = rng.next() % 30;
        for _ in 0..parts {
            s.push_str(rng.pick::<&str>(&alphabet));
        }
        let r = *rng.pick(&regions);
        if let Ok(n) = PhoneNumber::parse(&s, r) {
            // Whatever was accepted must be a fixed point of E.164 parsing.
            let again = PhoneNumber::parse(n.as_e164(), None).unwrap();
            assert_eq!(again, n, "{s:?}");
        }
    }
}

//! `PhoneNumber::parse` over the forms people really type, in many regions.
//!
//! Every expectation here was confirmed with Python `phonenumbers` 9.0.42 (a libphonenumber port
//! on the same metadata release as rlibphonenumber 2.2.15): `format_number(parse(input, region),
//! E164)` where `is_valid_number` is true, an error otherwise.

use std::collections::BTreeSet;

use crate::phone::{PhoneError, PhoneNumber, Region};

/// (default region or "", input, E.164, region of the number)
const ACCEPTED: &[(&str, &str, &str, &str)] = &[
    // Russia: trunk prefix 8, international prefix 810.
    ("RU", "8 (912) 345-67-89", "+79123456789", "RU"),
    ("RU", "+7 912 345 67 89", "+79123456789", "RU"),
    ("RU", "8-912-345-67-89", "+79123456789", "RU"),
    ("RU", "8.912.345.67.89", "+79123456789", "RU"),
    ("RU", "89123456789", "+79123456789", "RU"),
    ("RU", "8 495 123-45-67", "+74951234567", "RU"),
    ("RU", "810 44 20 8366 1177", "+442083661177", "GB"),
    ("RU", "８ ９１２ ３４５ ６７ ８９", "+79123456789", "RU"),
    ("AL", "00 7 912 345 67 89", "+79123456789", "RU"),
    ("", "+79123456789", "+79123456789", "RU"),
    ("US", "+7 912 345 67 89", "+79123456789", "RU"),
    // United Kingdom.
    ("GB", "020 8366 1177", "+442083661177", "GB"),
    ("GB", "07400 123456", "+447400123456", "GB"),
    ("GB", "+44 20 8366 1177", "+442083661177", "GB"),
    ("GB", "+44 (0) 20 8366 1177", "+442083661177", "GB"),
    ("GB", "020-8366-1177", "+442083661177", "GB"),
    ("GB", "020.8366.1177", "+442083661177", "GB"),
    ("DE", "00 44 20 8366 1177", "+442083661177", "GB"),
    ("", "+447400123456", "+447400123456", "GB"),
    // Albania.
    ("AL", "069 412 3456", "+355694123456", "AL"),
    ("AL", "+355 69 412 3456", "+355694123456", "AL"),
    ("AL", "00355694123456", "+355694123456", "AL"),
    ("AL", "069-412-3456", "+355694123456", "AL"),
    ("AL", "069.412.3456", "+355694123456", "AL"),
    ("AL", "04 222 2345", "+35542222345", "AL"),
    ("", "+355694123456", "+355694123456", "AL"),
    ("", "+٣٥٥٦٩٤١٢٣٤٥٦", "+355694123456", "AL"),
    // United States and Canada: trunk prefix 1, international prefix 011.
    ("US", "(201) 555-0123", "+12015550123", "US"),
    ("US", "1-201-555-0123", "+12015550123", "US"),
    ("US", "201.555.0123", "+12015550123", "US"),
    ("US", "+1 201 555 0123", "+12015550123", "US"),
    ("US", "011 44 20 8366 1177", "+442083661177", "GB"),
    ("US", "011 355 69 412 3456", "+355694123456", "AL"),
    ("CA", "(506) 234-5678", "+15062345678", "CA"),
    ("CA", "1 506 234 5678", "+15062345678", "CA"),
    ("CA", "604-555-0123", "+16045550123", "CA"),
    // Germany.
    ("DE", "030 12345678", "+493012345678", "DE"),
    ("DE", "01512 3456789", "+4915123456789", "DE"),
    ("DE", "+49 30 12345678", "+493012345678", "DE"),
    ("FR", "0049 30 12345678", "+493012345678", "DE"),
    // France.
    ("FR", "01 23 45 67 89", "+33123456789", "FR"),
    ("FR", "06 12 34 56 78", "+33612345678", "FR"),
    ("FR", "+33 6 12 34 56 78", "+33612345678", "FR"),
    ("AL", "0033 6 12 34 56 78", "+33612345678", "FR"),
    // Italy: the leading 0 of fixed lines is part of the number.
    ("IT", "02 1234 5678", "+390212345678", "IT"),
    ("IT", "312 345 6789", "+393123456789", "IT"),
    ("IT", "+39 02 1234 5678", "+390212345678", "IT"),
    ("GB", "00 39 02 1234 5678", "+390212345678", "IT"),
    // Spain.
    ("ES", "912 34 56 78", "+34912345678", "ES"),
    ("ES", "612 34 56 78", "+34612345678", "ES"),
    ("ES", "+34 612 345 678", "+34612345678", "ES"),
    // India.
    ("IN", "81234 56789", "+918123456789", "IN"),
    ("IN", "081234 56789", "+918123456789", "IN"),
    ("IN", "+91 81234 56789", "+918123456789", "IN"),
    // Brazil: trunk prefix 0 with a carrier code.
    ("BR", "(11) 96123-4567", "+5511961234567", "BR"),
    ("BR", "0 15 11 96123-4567", "+5511961234567", "BR"),
    ("BR", "+55 11 96123-4567", "+5511961234567", "BR"),
    // China.
    ("CN", "139 1234 5678", "+8613912345678", "CN"),
    ("CN", "010 1234 5678", "+861012345678", "CN"),
    ("CN", "+86 139 1234 5678", "+8613912345678", "CN"),
    // Japan.
    ("JP", "03-1234-5678", "+81312345678", "JP"),
    ("JP", "090-1234-5678", "+819012345678", "JP"),
    ("JP", "+81 90 1234 5678", "+819012345678", "JP"),
    // Kazakhstan shares +7 with Russia.
    ("KZ", "8 701 123 4567", "+77011234567", "KZ"),
    ("KZ", "8 (727) 258-25-00", "+77272582500", "KZ"),
    ("KZ", "+7 701 123 45 67", "+77011234567", "KZ"),
    ("KZ", "810 7 912 345 67 89", "+79123456789", "RU"),
    // Belarus: trunk prefix "8 0", international prefix 810.
    ("BY", "8 029 491-19-11", "+375294911911", "BY"),
    ("BY", "8 017 123-45-67", "+375171234567", "BY"),
    ("BY", "+375 29 491 19 11", "+375294911911", "BY"),
    ("BY", "810 48 512 345 678", "+48512345678", "PL"),
    // Ukraine.
    ("UA", "050 123 4567", "+380501234567", "UA"),
    ("UA", "+380 50 123 45 67", "+380501234567", "UA"),
    ("UA", "0 44 123 4567", "+380441234567", "UA"),
    // Turkey.
    ("TR", "0532 123 45 67", "+905321234567", "TR"),
    ("TR", "+90 532 123 45 67", "+905321234567", "TR"),
    // United Arab Emirates.
    ("AE", "050 123 4567", "+971501234567", "AE"),
    ("AE", "02 234 5678", "+97122345678", "AE"),
    ("AE", "00971 50 123 4567", "+971501234567", "AE"),
    // Australia: international prefix 0011.
    ("AU", "0412 345 678", "+61412345678", "AU"),
    ("AU", "(02) 1234 5678", "+61212345678", "AU"),
    ("AU", "+61 412 345 678", "+61412345678", "AU"),
    ("AU", "0011 44 20 8366 1177", "+442083661177", "GB"),
    // Nigeria.
    ("NG", "0802 123 4567", "+2348021234567", "NG"),
    ("NG", "+234 802 123 4567", "+2348021234567", "NG"),
    // Mexico.
    ("MX", "55 1234 5678", "+525512345678", "MX"),
    ("MX", "+52 55 1234 5678", "+525512345678", "MX"),
    // Poland.
    ("PL", "512 345 678", "+48512345678", "PL"),
    ("PL", "12 345 67 89", "+48123456789", "PL"),
    ("PL", "+48 512-345-678", "+48512345678", "PL"),
    // Netherlands, Switzerland.
    ("NL", "06 12345678", "+31612345678", "NL"),
    ("NL", "+31 6 1234 5678", "+31612345678", "NL"),
    ("CH", "044 668 18 00", "+41446681800", "CH"),
    ("CH", "+41 44 668 18 00", "+41446681800", "CH"),
    // RFC 3966 and extensions (the extension is not part of E.164).
    ("", "tel:+44-20-8366-1177", "+442083661177", "GB"),
    ("GB", "tel:020-8366-1177;phone-context=+44", "+442083661177", "GB"),
    ("", "+44 20 8366 1177 ext. 123", "+442083661177", "GB"),
];

/// (default region or "", input, error)
const REJECTED: &[(&str, &str, PhoneError)] = &[
    ("GB", "", PhoneError::Empty),
    ("GB", "   ", PhoneError::Empty),
    ("GB", "hello", PhoneError::NotANumber),
    ("", "+0 123 456 789", PhoneError::InvalidCountryCode),
    ("", "+999 123 456 789", PhoneError::InvalidCountryCode),
    ("DE", "00 999 123 4567", PhoneError::InvalidCountryCode),
    ("", "069 412 3456", PhoneError::MissingRegion),
    ("", "00355694123456", PhoneError::MissingRegion),
    ("", "+355 69 412", PhoneError::TooShort),
    ("US", "(201) 555-012", PhoneError::TooShort),
    ("", "+7 912 345 67 89 12 34 56 78", PhoneError::TooLong),
    ("GB", "020 8366 1177 1", PhoneError::TooLong),
    ("AL", "069 412 34567", PhoneError::TooLong),
    (
        "RU",
        "+7 (912) 345-67-89-00",
        PhoneError::InvalidLength { country_code: 7 },
    ),
    ("GB", "020 8366 117", PhoneError::NotValid { country_code: 44 }),
    ("RU", "8 (912) 345-67-8", PhoneError::NotValid { country_code: 7 }),
    ("US", "(099) 555-0123", PhoneError::NotValid { country_code: 1 }),
    ("", "+44 1000 000000", PhoneError::NotValid { country_code: 44 }),
];

fn region(code: &str) -> Option<Region> {
    if code.is_empty() {
        None
    } else {
        Some(Region::parse(code).unwrap_or_else(|e| panic!("{code}: {e}")))
    }
}

#[test]
fn accepted_forms() {
    let mut failures = Vec::new();
    for &(default, input, e164, number_region) in ACCEPTED {
        match PhoneNumber::parse(input, region(default)) {
            Ok(n) => {
                if n.as_e164() != e164 || n.region() != region(number_region) {
                    failures.push(format!(
                        "{default} {input:?}: got {} in {:?}, want {e164} in {number_region}",
                        n.as_e164(),
                        n.region()
                    ));
                }
                assert_eq!(n.digits(), &e164[1..]);
                assert_eq!(format!("+{}{}", n.country_code(), n.national_number()), e164);
                // E.164 is a fixed point, whatever the region.
                assert_eq!(PhoneNumber::parse(e164, None).as_ref(), Ok(&n));
                assert_eq!(PhoneNumber::parse(e164, region("JP")).as_ref(), Ok(&n));
            }
            Err(e) => failures.push(format!("{default} {input:?}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_covers_at_least_twenty_regions() {
    let regions: BTreeSet<&str> = ACCEPTED
        .iter()
        .flat_map(|&(default, _, _, number_region)| [default, number_region])
        .filter(|r| !r.is_empty())
        .collect();
    assert!(regions.len() >= 20, "{regions:?}");
}

#[test]
fn rejected_forms() {
    let mut failures = Vec::new();
    for (default, input, want) in REJECTED {
        match PhoneNumber::parse(input, region(default)) {
            Err(e) if &e == want => {}
            other => failures.push(format!("{default} {input:?}: got {other:?}, want {want:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn overlong_input_is_refused_before_parsing() {
    let long = format!("+44 20 8366 1177{}", " ".repeat(300));
    assert_eq!(PhoneNumber::parse(&long, None), Err(PhoneError::TooLong));
    let digits = "7".repeat(300);
    assert_eq!(PhoneNumber::parse(&digits, region("RU")), Err(PhoneError::TooLong));
    let hostile = "tel:".repeat(75);
    assert!(PhoneNumber::parse(&hostile, region("GB")).is_err());
}

#[test]
fn unknown_region_codes() {
    for code in ["ZZ", "XX", "RUS", "", "1", "001", "G8"] {
        assert!(
            matches!(Region::parse(code), Err(PhoneError::UnknownRegion(_))),
            "{code:?}"
        );
        assert!(code.parse::<Region>().is_err());
    }
    assert_eq!("by".parse::<Region>().map(|r| r.to_string()), Ok("BY".into()));
}

#[test]
fn logs_never_show_the_full_number() {
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Contact {
        name: &'static str,
        phone: PhoneNumber,
    }
    for &(default, input, e164, _) in ACCEPTED {
        let n = PhoneNumber::parse(input, region(default)).unwrap();
        let contact = Contact {
            name: "x",
            phone: n.clone(),
        };
        for shown in [
            format!("{n:?}"),
            format!("{contact:?}"),
            format!("{contact:#?}"),
            n.masked(),
        ] {
            assert!(!shown.contains(e164), "{shown}");
            assert!(!shown.contains(n.national_number()), "{shown}");
        }
        assert_eq!(n.masked().len(), e164.len());
        assert!(n.masked().starts_with(&format!("+{}", n.country_code())));
    }
    assert_eq!(
        "+355694123456".parse::<PhoneNumber>().unwrap().masked(),
        "+35569*****56"
    );
}

#[test]
fn errors_never_show_the_number() {
    for (default, input, _) in REJECTED {
        let err = PhoneNumber::parse(input, region(default)).unwrap_err();
        for msg in [err.to_string(), format!("{err:?}")] {
            assert!(!msg.contains('\n'), "{msg}");
            // At most a country code (three digits) in a row.
            let longest_run = msg
                .split(|c: char| !c.is_ascii_digit())
                .map(str::len)
                .max()
                .unwrap_or(0);
            assert!(longest_run <= 3, "{msg}");
        }
    }
}

#[test]
fn serde_is_the_full_e164_string() {
    let numbers: Vec<PhoneNumber> = ACCEPTED
        .iter()
        .map(|&(default, input, _, _)| PhoneNumber::parse(input, region(default)).unwrap())
        .collect();
    let json = serde_json::to_string(&numbers).unwrap();
    for &(_, _, e164, _) in ACCEPTED {
        assert!(json.contains(&format!("\"{e164}\"")));
    }
    let back: Vec<PhoneNumber> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, numbers);

    // Only E.164 is read back: no region is known there.
    assert!(serde_json::from_str::<PhoneNumber>("\"020 8366 1177\"").is_err());
    assert!(serde_json::from_str::<PhoneNumber>("42").is_err());

    let regions: Vec<Region> = serde_json::from_str("[\"AL\", \"ru\"]").unwrap();
    assert_eq!(serde_json::to_string(&regions).unwrap(), "[\"AL\",\"RU\"]");
}

#![no_main]
//! Segmentation invariants on arbitrary text: the parts of `split` re-join to the input, their count
//! is `Segmentation::segments`, each fits its capacity, units agree with `encode_gsm7` / UTF-16,
//! and the encoding chosen by `of` is GSM-7 exactly when `is_gsm7`.

use libfuzzer_sys::fuzz_target;
use switchboard_core::segment::{Encoding, SegmentError, Segmentation, encode_gsm7, is_gsm7, split};

fn units(text: &str, encoding: Encoding) -> usize {
    match encoding {
        Encoding::Gsm7 => encode_gsm7(text).expect("a GSM-7 part encodes").len(),
        Encoding::Ucs2 => text.encode_utf16().count(),
    }
}

fn check(text: &str, encoding: Encoding, s: Segmentation) {
    assert_eq!(s.encoding, encoding);
    assert_eq!(s.units, units(text, encoding), "units of {text:?}");
    assert!(s.segments >= 1);
    if s.units <= encoding.single_capacity() {
        assert_eq!((s.segments, s.per_segment), (1, encoding.single_capacity()), "{text:?}");
    } else {
        assert_eq!(s.per_segment, encoding.multi_capacity());
        assert!(s.segments >= s.units.div_ceil(s.per_segment), "{text:?}: {s:?}");
        assert!(s.segments >= 2);
    }
    let parts = split(text, encoding).expect("split in a possible encoding");
    assert_eq!(parts.len(), s.segments, "{text:?}: {s:?}");
    assert_eq!(parts.concat(), text);
    let mut total = 0;
    for p in &parts {
        let u = units(p, encoding);
        assert!(u <= s.per_segment, "part {p:?} of {text:?}: {u} > {}", s.per_segment);
        if parts.len() > 1 {
            assert!(!p.is_empty(), "empty part in {text:?}");
        }
        total += u;
    }
    assert_eq!(total, s.units);
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Long GSM-7 texts are cheap to build from short inputs: repeat when the first byte says so.
    let text = match data.first() {
        Some(&b) if b & 0x80 != 0 && data.len() < 64 => text.repeat(usize::from(b & 0x1F) + 1),
        _ => text.into_owned(),
    };
    let s = Segmentation::of(&text);
    let gsm = is_gsm7(&text);
    assert_eq!(s.encoding == Encoding::Gsm7, gsm, "{text:?}");
    check(&text, s.encoding, s);
    let ucs2 = Segmentation::with_encoding(&text, Encoding::Ucs2).expect("UCS-2 carries anything");
    check(&text, Encoding::Ucs2, ucs2);
    match Segmentation::with_encoding(&text, Encoding::Gsm7) {
        Ok(g) => {
            assert!(gsm);
            assert_eq!(g, s);
            let septets = encode_gsm7(&text).unwrap();
            assert!(septets.iter().all(|&b| b < 0x80));
        }
        Err(e) => {
            assert!(!gsm);
            let SegmentError::NotGsm7 { ch, index } = e.clone() else {
                unreachable!()
            };
            assert!(text[index..].starts_with(ch), "{text:?} {index} {ch:?}");
            assert_eq!(encode_gsm7(&text).unwrap_err(), e);
            assert!(split(&text, Encoding::Gsm7).is_err());
            let _ = e.to_string();
        }
    }
});

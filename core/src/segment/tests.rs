//! Unit tests of segmentation.

use super::alphabet::*;
use super::pack::*;
use super::*;
use unicode_segmentation::UnicodeSegmentation;

/// The GSM 03.38 default alphabet in code order; position 0x1B is ESC.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1B}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                     ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENSION: [(char, u8); 10] = [
    ('\u{0C}', 0x0A),
    ('^', 0x14),
    ('{', 0x28),
    ('}', 0x29),
    ('\\', 0x2F),
    ('[', 0x3C),
    ('~', 0x3D),
    (']', 0x3E),
    ('|', 0x40),
    ('€', 0x65),
];

#[test]
fn alphabet_matches_3gpp_table() {
    assert_eq!(BASIC.chars().count(), 128);
    for (code, ch) in BASIC.chars().enumerate() {
        if code == 0x1B {
            assert_eq!(gsm_code(ch), NONE, "ESC itself is not a character");
            continue;
        }
        assert_eq!(gsm_code(ch), code as u8, "{ch:?}");
    }
    for (ch, code) in EXTENSION {
        assert_eq!(gsm_code(ch), EXT | code, "{ch:?}");
        assert_eq!(encode_gsm7(&ch.to_string()).unwrap(), [ESC, code]);
    }
    // Exactly 127 + 10 characters over the whole code space.
    let count = (0..=0x10FFFF_u32)
        .filter_map(char::from_u32)
        .filter(|&c| gsm_code(c) != NONE)
        .count();
    assert_eq!(count, 137);
}

#[test]
fn look_alikes_are_not_gsm() {
    for c in [
        'ç', 'ë', 'Ë', 'á', 'í', 'ó', 'ú', 'â', 'ê', 'õ', 'ã', '`', '\t', '\u{A0}', '\u{2018}', '\u{2019}', '\u{201C}',
        '\u{201D}', '\u{2013}', '\u{2026}', 'Α', 'Β', 'Ε', 'Ο', 'α', 'δ', '\u{2206}', '\u{1B}', '\0', '\u{7F}',
    ] {
        assert!(!is_gsm7(&c.to_string()), "{c:?} must not be GSM");
    }
    for c in ['Ç', 'Ä', 'ñ', 'à', 'é', 'Γ', 'Ω', '¤', '§', '¿', '¡'] {
        assert!(is_gsm7(&c.to_string()), "{c:?} must be GSM");
    }
}

#[test]
fn utf16_len_matches_std() {
    for s in ["", "a", "ж", "€", "👍", "👨‍👩‍👧‍👦", "a\u{301}x🇦🇱ё"] {
        assert_eq!(utf16_len(s), s.encode_utf16().count(), "{s:?}");
    }
}

#[test]
fn ascii_predicates_match_table() {
    for b in 0..=0x7F_u8 {
        let code = ASCII_TO_GSM[usize::from(b)];
        assert_eq!(ascii_is_gsm(b), code != NONE, "{b:#x}");
        assert_eq!(ascii_is_gsm_ext(b), code != NONE && code & EXT != 0, "{b:#x}");
    }
    for b in 0x80..=0xFF_u8 {
        assert!(!ascii_is_gsm(b) && !ascii_is_gsm_ext(b));
    }
}

#[test]
fn ascii_part_count_matches_packer() {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..3000 {
        let density = [0, 1, 5, 20, 50, 100][round % 6];
        let len = (next() % 1200) as usize;
        let text: String = (0..len)
            .map(|_| if (next() % 100) < density { '{' } else { 'a' })
            .collect();
        let mut packer = Packer::new(GSM_MULTI);
        for b in text.bytes() {
            packer.push(1 + usize::from(ascii_is_gsm_ext(b)));
        }
        assert_eq!(ascii_gsm7_parts(text.as_bytes()), packer.parts, "{text}");
    }
}

#[test]
fn lone_chars_never_join() {
    // A lone character is not joined to what follows or precedes it by any UAX #29 rule.
    let mut checked = 0;
    for c in (0..=0xFFFF_u32).filter_map(char::from_u32).filter(|&c| is_lone(c)) {
        assert_eq!(c.len_utf16(), 1);
        for (text, n) in [
            (format!("a{c}"), 2),
            (format!("{c}a"), 2),
            (format!("{c}{c}"), 2),
            (format!("{c}\u{1100}"), 2),  // Hangul L
            (format!("{c}\u{1161}"), 2),  // Hangul V
            (format!("{c}\u{11A8}"), 2),  // Hangul T
            (format!("{c}\u{1F1E6}"), 2), // regional indicator
            (format!("\u{1F600}{c}"), 2), // pictographic
        ] {
            assert_eq!(text.graphemes(true).count(), n, "{c:?} joins in {text:?}");
        }
        checked += 1;
    }
    assert!(checked > 22_000, "{checked}");
    // And what must stay out.
    for c in [
        '\u{300}', '\u{483}', '\u{200C}', '\u{200D}', '\u{FE0F}', '\u{64E}', '\u{1100}', '\u{AC00}',
    ] {
        assert!(!is_lone(c), "{c:?}");
    }
}

#[test]
fn all_lone_byte_check_is_sound() {
    // The byte-level fast path may only accept characters that `is_lone` accepts.
    for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
        let s = c.to_string();
        assert_eq!(all_lone(&s), is_lone(c), "{c:?}");
    }
}

#[test]
fn item_walk_matches_grapheme_iterator() {
    let samples = [
        "",
        "a",
        "\r\n",
        "ab\r\ncd\r",
        "e\u{301}",
        "Ж\u{483}",
        "ok 👍🏽 🇦🇱🇦 👨\u{200D}👩\u{200D}👧\u{200D}👦 \u{200D}x",
        "क्षत्रिय नि",
        "שָׁלוֹם مَرْحَبًا",
        "\u{600}1 \u{1100}\u{1161}\u{11A8}각",
        "™\u{FE0F}©\u{200D}😀",
    ];
    for s in samples {
        for big in [String::new(), format!("a{}", "\u{301}".repeat(90))] {
            let text = format!("{s}{big}{s}");
            let (mut fast, mut reference) = (Vec::new(), Vec::new());
            ucs2_items(&text, |at, cost| fast.push((at, cost)));
            ucs2_items_reference(&text, |at, cost| reference.push((at, cost)));
            assert_eq!(fast, reference, "{text:?}");
        }
    }
}

#[test]
fn empty_text_is_one_gsm_part() {
    let s = Segmentation::of("");
    assert_eq!(
        s,
        Segmentation {
            encoding: Encoding::Gsm7,
            units: 0,
            segments: 1,
            per_segment: 160
        }
    );
    assert_eq!(split("", Encoding::Gsm7).unwrap(), [""]);
    assert_eq!(split("", Encoding::Ucs2).unwrap(), [""]);
    assert_eq!(encode_gsm7("").unwrap(), Vec::<u8>::new());
}

#[test]
fn gsm_boundaries() {
    for (n, segments) in [(153, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)] {
        let s = Segmentation::of(&"x".repeat(n));
        assert_eq!((s.units, s.segments), (n, segments), "n={n}");
    }
}

#[test]
fn escape_pair_never_split() {
    // 152 basic + € + 10: the € would straddle septets 153/154.
    let text = format!("{}€{}", "a".repeat(152), "b".repeat(10));
    let parts = split(&text, Encoding::Gsm7).unwrap();
    assert_eq!(parts, [&text[..152], &text[152..]]);
    // With 151 basic it fits exactly: 151 + 2 = 153.
    let text = format!("{}€{}", "a".repeat(151), "b".repeat(10));
    let parts = split(&text, Encoding::Gsm7).unwrap();
    assert_eq!(parts[0], &text[..154]);
}

#[test]
fn ucs2_boundaries() {
    for (n, segments) in [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)] {
        let s = Segmentation::of(&"ж".repeat(n));
        assert_eq!(
            (s.encoding, s.units, s.segments),
            (Encoding::Ucs2, n, segments),
            "n={n}"
        );
    }
}

#[test]
fn forced_encodings() {
    let s = Segmentation::with_encoding("{x}", Encoding::Ucs2).unwrap();
    assert_eq!((s.encoding, s.units), (Encoding::Ucs2, 3));
    let s = Segmentation::with_encoding("{x}", Encoding::Gsm7).unwrap();
    assert_eq!((s.encoding, s.units), (Encoding::Gsm7, 5));
    assert_eq!(
        Segmentation::with_encoding("ok 👍", Encoding::Gsm7),
        Err(SegmentError::NotGsm7 { ch: '👍', index: 3 })
    );
    assert_eq!(
        split("abc\u{A0}d", Encoding::Gsm7),
        Err(SegmentError::NotGsm7 { ch: '\u{A0}', index: 3 })
    );
}

#[test]
fn error_display_is_one_line() {
    let e = SegmentError::NotGsm7 { ch: '\u{A0}', index: 7 };
    let msg = e.to_string();
    assert!(!msg.contains('\n'));
    assert!(msg.contains("U+00A0") && msg.contains("byte 7"), "{msg}");
}

#[test]
fn crlf_counts_two_and_may_be_cut() {
    let s = Segmentation::of("a\r\nb");
    assert_eq!((s.encoding, s.units), (Encoding::Gsm7, 4));
    // In UCS-2 too, CR and LF are separate items, as in Twilio's calculator.
    let text = format!("{}\r\n", "ж".repeat(66));
    let text = format!("{text}{}", "ж".repeat(10));
    let parts = split(&text, Encoding::Ucs2).unwrap();
    assert_eq!(parts[0], format!("{}\r", "ж".repeat(66)));
}

#[test]
fn oversized_cluster_is_cut_between_chars() {
    let zalgo = format!("e{}", "\u{301}".repeat(99));
    let text = format!("{}{zalgo}", "ж".repeat(10));
    let parts = split(&text, Encoding::Ucs2).unwrap();
    assert_eq!(parts.concat(), text);
    assert!(parts.iter().all(|p| utf16_len(p) <= UCS2_MULTI));
    assert_eq!(parts.len(), Segmentation::of(&text).segments);
}

#[test]
fn encoding_serde_and_display() {
    assert_eq!(serde_json::to_string(&Encoding::Gsm7).unwrap(), "\"GSM-7\"");
    assert_eq!(serde_json::from_str::<Encoding>("\"UCS-2\"").unwrap(), Encoding::Ucs2);
    assert_eq!(Encoding::Ucs2.to_string(), "UCS-2");
    let s = serde_json::to_value(Segmentation::of("hi")).unwrap();
    assert_eq!(
        s,
        serde_json::json!({"encoding": "GSM-7", "units": 2, "segments": 1, "per_segment": 160})
    );
}

//! Shared SMS segmentation vectors (3GPP TS 23.038, Twilio's segment calculator) and a
//! property-style test over random mixed-alphabet texts.

use crate::segment::{Encoding, SegmentError, Segmentation, encode_gsm7, is_gsm7, split};
use unicode_segmentation::UnicodeSegmentation;

const FAMILY: &str = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"; // 👨‍👩‍👧‍👦, 11 units
const FLAG_AL: &str = "\u{1F1E6}\u{1F1F1}"; // 🇦🇱, 4 units
const THUMB_SKIN: &str = "\u{1F44D}\u{1F3FD}"; // 👍🏽, 4 units
const GRIN: &str = "\u{1F600}"; // 😀, 2 units

fn rep(s: &str, n: usize) -> String {
    s.repeat(n)
}

/// Size of `part` in the units of `enc`.
fn cost(part: &str, enc: Encoding) -> usize {
    match enc {
        Encoding::Gsm7 => encode_gsm7(part).expect("GSM part").len(),
        Encoding::Ucs2 => part.encode_utf16().count(),
    }
}

/// Everything that must hold for any text in a given encoding; returns the parts.
fn check_invariants(text: &str, s: Segmentation) -> Vec<&str> {
    let enc = s.encoding;
    assert_eq!(Segmentation::with_encoding(text, enc).unwrap(), s, "{text:?}");
    assert_eq!(cost(text, enc), s.units, "units of {text:?}");
    let single = s.units <= enc.single_capacity();
    assert_eq!(s.is_single(), single, "{text:?}");
    assert_eq!(
        s.per_segment,
        if single {
            enc.single_capacity()
        } else {
            enc.multi_capacity()
        }
    );
    if !single {
        assert!(s.segments >= s.units.div_ceil(s.per_segment), "{text:?}");
    }

    let parts = split(text, enc).unwrap();
    assert_eq!(parts.len(), s.segments, "{text:?}");
    assert_eq!(parts.concat(), text);
    for p in &parts {
        assert!(cost(p, enc) <= s.per_segment, "part {p:?} over capacity in {text:?}");
        if parts.len() > 1 {
            assert!(!p.is_empty(), "empty part in {text:?}");
        }
    }
    // Parts end on grapheme boundaries (CR LF excepted: Twilio counts CR and LF separately),
    // unless a single cluster is larger than a whole part.
    let mut at = 0;
    for w in parts.windows(2) {
        at += w[0].len();
        let ok_boundary = is_grapheme_boundary(text, at);
        let crlf = text[..at].ends_with('\r') && text[at..].starts_with('\n');
        let oversized = grapheme_around(text, at).encode_utf16().count() > s.per_segment;
        assert!(
            ok_boundary || crlf || oversized,
            "part boundary at byte {at} cuts a grapheme in {text:?}"
        );
        // Greedy: the next part's first item did not fit in this part.
        let next = first_item(w[1], s.per_segment);
        assert!(
            cost(w[0], enc) + cost(next, enc) > s.per_segment,
            "part {:?} could have taken {next:?}",
            w[0]
        );
    }
    parts
}

fn is_grapheme_boundary(text: &str, at: usize) -> bool {
    text.grapheme_indices(true).any(|(i, _)| i == at)
}

/// The grapheme cluster containing byte `at` (the one that starts before it and ends after it).
fn grapheme_around(text: &str, at: usize) -> &str {
    text.grapheme_indices(true)
        .find(|(i, g)| *i < at && at < i + g.len())
        .map(|(_, g)| g)
        .unwrap_or("")
}

/// The first item placed whole at the start of `part`.
fn first_item(part: &str, capacity: usize) -> &str {
    let g = part.graphemes(true).next().unwrap_or("");
    if g == "\r\n" || g.encode_utf16().count() > capacity {
        let c = part.chars().next().map_or(0, char::len_utf8);
        &part[..c]
    } else {
        g
    }
}

struct Vector {
    name: &'static str,
    text: String,
    encoding: Encoding,
    units: usize,
    segments: usize,
    per_segment: usize,
    /// Expected part sizes in units, when the vector pins them.
    parts: Option<Vec<usize>>,
}

fn v(
    name: &'static str,
    text: impl Into<String>,
    encoding: Encoding,
    units: usize,
    segments: usize,
    per_segment: usize,
) -> Vector {
    Vector {
        name,
        text: text.into(),
        encoding,
        units,
        segments,
        per_segment,
        parts: None,
    }
}

impl Vector {
    fn parts(mut self, parts: &[usize]) -> Vector {
        self.parts = Some(parts.to_vec());
        self
    }
}

fn vectors() -> Vec<Vector> {
    use Encoding::{Gsm7, Ucs2};
    let albanian = "Përshëndetje! Porosia juaj nr. 4521 u dërgua sot. Faleminderit që zgjodhët \
                    dyqanin tonë. Për çdo pyetje na telefononi.";
    let russian = "Ваш код подтверждения: 4821. Никому не сообщайте его. Если вы не запрашивали \
                   код, просто проигнорируйте это сообщение.";
    vec![
        // GSM-7 limits.
        v("empty", "", Gsm7, 0, 1, 160).parts(&[0]),
        v("one char", "a", Gsm7, 1, 1, 160),
        v("160 gsm", rep("a", 160), Gsm7, 160, 1, 160).parts(&[160]),
        v("161 gsm", rep("a", 161), Gsm7, 161, 2, 153).parts(&[153, 8]),
        v("306 gsm", rep("a", 306), Gsm7, 306, 2, 153).parts(&[153, 153]),
        v("307 gsm", rep("a", 307), Gsm7, 307, 3, 153).parts(&[153, 153, 1]),
        v("600 gsm", rep("0123456789", 60), Gsm7, 600, 4, 153),
        v("80 euro", rep("€", 80), Gsm7, 160, 1, 160),
        v("81 euro", rep("€", 81), Gsm7, 162, 2, 153).parts(&[152, 10]),
        v("79 euro + 2", format!("{}ab", rep("€", 79)), Gsm7, 160, 1, 160),
        v("79 euro + 3", format!("{}abc", rep("€", 79)), Gsm7, 161, 2, 153).parts(&[152, 9]),
        v(
            "152 + euro",
            format!("{}€{}", rep("a", 152), rep("b", 10)),
            Gsm7,
            164,
            2,
            153,
        )
        .parts(&[152, 12]),
        v(
            "151 + euro",
            format!("{}€{}", rep("a", 151), rep("b", 10)),
            Gsm7,
            163,
            2,
            153,
        )
        .parts(&[153, 10]),
        // 2 × 153 septets but an escape pair straddles each boundary: 3 parts, not 2.
        v(
            "escape pairs force a third part",
            format!("{}€{}€", rep("a", 152), rep("b", 150)),
            Gsm7,
            306,
            3,
            153,
        )
        .parts(&[152, 152, 2]),
        v(
            "ascii escape pairs force a third part",
            format!("{}{{{}}}", rep("a", 152), rep("b", 150)),
            Gsm7,
            306,
            3,
            153,
        )
        .parts(&[152, 152, 2]),
        v("crlf", "\r\n", Gsm7, 2, 1, 160),
        v("crlf text", "Line one\r\nLine two\nLine three", Gsm7, 29, 1, 160),
        v("every extension char", "\u{0C}^{}\\[~]|€", Gsm7, 20, 1, 160),
        v(
            "gsm accents and greek",
            "Ça va? Ñoño à Äpfel Öl Übermäßig ÉÅÆØ ¿¡ §¤£¥ ΓΔΘΛΞΠΣΦΨΩ @_$",
            Gsm7,
            60,
            1,
            160,
        ),
        // UCS-2 limits.
        v("70 cyrillic", rep("ж", 70), Ucs2, 70, 1, 70).parts(&[70]),
        v("71 cyrillic", rep("ж", 71), Ucs2, 71, 2, 67).parts(&[67, 4]),
        v("134 cyrillic", rep("ж", 134), Ucs2, 134, 2, 67).parts(&[67, 67]),
        v("135 cyrillic", rep("ж", 135), Ucs2, 135, 3, 67).parts(&[67, 67, 1]),
        v("69 + emoji fits", format!("{}{GRIN}", rep("ж", 68)), Ucs2, 70, 1, 70),
        v("69 + emoji", format!("{}{GRIN}", rep("ж", 69)), Ucs2, 71, 2, 67).parts(&[67, 4]),
        // The surrogate pair would straddle units 67/68: it moves whole to part 2.
        v(
            "66 + emoji at 67",
            format!("{}{GRIN}{}", rep("ж", 66), rep("ж", 10)),
            Ucs2,
            78,
            2,
            67,
        )
        .parts(&[66, 12]),
        v(
            "66 + emoji + 66: three parts for 134 units",
            format!("{}{GRIN}{}", rep("ж", 66), rep("ж", 66)),
            Ucs2,
            134,
            3,
            67,
        )
        .parts(&[66, 67, 1]),
        v(
            "zwj family near boundary",
            format!("{}{FAMILY}{}", rep("ж", 60), rep("ж", 10)),
            Ucs2,
            81,
            2,
            67,
        )
        .parts(&[60, 21]),
        v(
            "zwj family costs a part",
            format!("{}{FAMILY}{}", rep("ж", 60), rep("ж", 63)),
            Ucs2,
            134,
            3,
            67,
        )
        .parts(&[60, 67, 7]),
        v(
            "flag near boundary",
            format!("{}{FLAG_AL}{}", rep("ж", 65), rep("ж", 5)),
            Ucs2,
            74,
            2,
            67,
        )
        .parts(&[65, 9]),
        v(
            "skin tone near boundary",
            format!("{}{THUMB_SKIN}{}", rep("a", 64), rep("a", 5)),
            Ucs2,
            73,
            2,
            67,
        )
        .parts(&[64, 9]),
        v(
            "combining accent stays with its letter",
            format!("{}e\u{301}{}", rep("a", 66), rep("a", 5)),
            Ucs2,
            73,
            2,
            67,
        )
        .parts(&[66, 7]),
        v("one emoji makes all ucs-2", format!("Hello {GRIN}"), Ucs2, 8, 1, 70),
        v(
            "long gsm + one emoji",
            format!("{}{GRIN}", rep("a", 100)),
            Ucs2,
            102,
            2,
            67,
        )
        .parts(&[67, 35]),
        v("crlf in ucs-2", "Привет\r\nмир", Ucs2, 11, 1, 70),
        // Characters that look like GSM but are not.
        v("c cedilla small", "ç", Ucs2, 1, 1, 70),
        v("c cedilla capital", "Ç", Gsm7, 1, 1, 160),
        v("e diaeresis", "ë", Ucs2, 1, 1, 70),
        v("a acute", "¿Cómo estás?", Ucs2, 12, 1, 70),
        v("nbsp", "10\u{A0}€", Ucs2, 4, 1, 70),
        v("curly quotes", "\u{201C}ok\u{201D} it\u{2019}s", Ucs2, 9, 1, 70),
        v("greek alpha looks latin", "\u{391}\u{392}\u{393}", Ucs2, 3, 1, 70),
        v("backtick", "`code`", Ucs2, 6, 1, 70),
        v("tab", "a\tb", Ucs2, 3, 1, 70),
        // Realistic texts.
        v("albanian short", "Porosia juaj u dërgua", Ucs2, 21, 1, 70),
        v("albanian", albanian, Ucs2, 118, 2, 67).parts(&[67, 51]),
        v(
            "albanian without e-diaeresis and c-cedilla",
            "Porosia juaj nr. 4521 u dergua sot. Faleminderit!",
            Gsm7,
            49,
            1,
            160,
        ),
        v("russian", russian, Ucs2, 118, 2, 67).parts(&[67, 51]),
        v(
            "mixed latin cyrillic emoji",
            format!("Order #123 готов {THUMB_SKIN} — спасибо!"),
            Ucs2,
            32,
            1,
            70,
        ),
    ]
}

#[test]
fn shared_vectors() {
    for vec in vectors() {
        let s = Segmentation::of(&vec.text);
        assert_eq!(
            (s.encoding, s.units, s.segments, s.per_segment),
            (vec.encoding, vec.units, vec.segments, vec.per_segment),
            "vector {:?}",
            vec.name
        );
        assert_eq!(is_gsm7(&vec.text), vec.encoding == Encoding::Gsm7, "{}", vec.name);
        let parts = check_invariants(&vec.text, s);
        if let Some(sizes) = &vec.parts {
            let got: Vec<usize> = parts.iter().map(|p| cost(p, s.encoding)).collect();
            assert_eq!(&got, sizes, "part sizes of {:?}", vec.name);
        }
        // UCS-2 can always be forced; its parts hold the same invariants.
        let forced = Segmentation::with_encoding(&vec.text, Encoding::Ucs2).unwrap();
        assert_eq!(forced.units, vec.text.encode_utf16().count());
        check_invariants(&vec.text, forced);
    }
}

#[test]
fn every_extension_char_costs_two_septets() {
    for (ch, code) in [
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
    ] {
        let text = ch.to_string();
        let s = Segmentation::of(&text);
        assert_eq!((s.encoding, s.units), (Encoding::Gsm7, 2), "{ch:?}");
        assert_eq!(encode_gsm7(&text).unwrap(), [0x1B, code]);
        // 80 of them fill a single SMS, 81 need two parts of 76 + 5.
        assert_eq!(Segmentation::of(&rep(&text, 80)).segments, 1, "{ch:?}");
        let long = rep(&text, 81);
        let parts = split(&long, Encoding::Gsm7).unwrap();
        let counts: Vec<usize> = parts.iter().map(|p| p.chars().count()).collect();
        assert_eq!(counts, [76, 5], "{ch:?}");
    }
}

#[test]
fn forcing_gsm7_names_the_first_offending_char() {
    let text = "Porosia juaj u dërgua, çmimi 5€";
    let err = Segmentation::with_encoding(text, Encoding::Gsm7).unwrap_err();
    assert_eq!(err, SegmentError::NotGsm7 { ch: 'ë', index: 16 });
    assert_eq!(&text[16..18], "ë");
    assert_eq!(split(text, Encoding::Gsm7).unwrap_err(), err);
    assert_eq!(encode_gsm7(text).unwrap_err(), err);
    let msg = err.to_string();
    assert!(msg.contains("'ë'") && msg.contains("U+00EB") && msg.contains("byte 16"));
    assert!(!msg.contains("Porosia"), "the message names the char, not the text");
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert!(boxed.source().is_none());
}

// ---------------------------------------------------------------------------------------------
// Property-style test: random texts from a mixed alphabet.

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const GSM_TOKENS: &[&str] = &[
    "a", "b", "Z", "0", "9", " ", " ", " ", ".", ",", "@", "$", "_", "\n", "\r", "\r\n", "€", "^", "{", "}", "\\", "[",
    "~", "]", "|", "\u{0C}", "é", "Ç", "Ä", "ñ", "à", "ü", "ß", "Δ", "Ω", "¿",
];

const OTHER_TOKENS: &[&str] = &[
    "ж",
    "Щ",
    "ë",
    "ç",
    "á",
    "\u{A0}",
    "\u{201C}",
    "\u{2019}",
    "—",
    "中",
    "\u{391}",
    "`",
    "\t",
    "e\u{301}",
    "\u{301}",
    "\u{200D}",
    "\u{1F600}",
    "\u{1F44D}\u{1F3FD}",
    "\u{1F1E6}\u{1F1F1}",
    "\u{1F1E6}",
    "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}",
    "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
    "1\u{FE0F}\u{20E3}",
    "क्ष",
    "\u{1100}\u{1161}\u{11A8}",
    "\u{10348}",
];

fn random_text(rng: &mut Rng) -> String {
    // A third of the texts stay GSM-7; the others mix in non-GSM tokens at various densities.
    let gsm_only = rng.below(3) == 0;
    let other_per_mille = [5, 50, 300, 900][rng.below(4)];
    let len = match rng.below(4) {
        0 => rng.below(80),
        1 => 60 + rng.below(120),
        2 => 140 + rng.below(40),
        _ => rng.below(700),
    };
    let mut text = String::new();
    for _ in 0..len {
        if !gsm_only && rng.below(1000) < other_per_mille {
            text.push_str(OTHER_TOKENS[rng.below(OTHER_TOKENS.len())]);
        } else {
            text.push_str(GSM_TOKENS[rng.below(GSM_TOKENS.len())]);
        }
    }
    // Now and then a degenerate cluster bigger than a part (stacked combining marks).
    if !gsm_only && rng.below(50) == 0 {
        let at = rng.below(text.chars().count() + 1);
        let at = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
        text.insert_str(at, &format!("a{}", "\u{301}".repeat(60 + rng.below(100))));
    }
    text
}

#[test]
fn random_texts_split_back_and_fit() {
    let mut rng = Rng(0x5EED_05B5_2024);
    let mut seen = [0usize; 2];
    for _ in 0..4000 {
        let text = random_text(&mut rng);
        let s = Segmentation::of(&text);
        seen[usize::from(s.encoding == Encoding::Ucs2)] += 1;
        assert_eq!(is_gsm7(&text), s.encoding == Encoding::Gsm7);
        check_invariants(&text, s);
        match s.encoding {
            Encoding::Gsm7 => {
                assert_eq!(encode_gsm7(&text).unwrap().len(), s.units);
                check_invariants(&text, Segmentation::with_encoding(&text, Encoding::Ucs2).unwrap());
            }
            Encoding::Ucs2 => {
                let Err(SegmentError::NotGsm7 { ch, index }) = Segmentation::with_encoding(&text, Encoding::Gsm7)
                else {
                    panic!("{text:?} is not GSM-7");
                };
                assert!(text[index..].starts_with(ch));
                assert!(!is_gsm7(&ch.to_string()));
                assert!(is_gsm7(&text[..index]));
            }
        }
    }
    assert!(seen[0] > 500 && seen[1] > 500, "both encodings exercised: {seen:?}");
}

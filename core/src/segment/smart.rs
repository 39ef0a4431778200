//! GSM-7 smart encoding: characters that force a whole SMS into UCS-2 but have a GSM-7 look-alike
//! (curly quotes, dashes, the ellipsis, unusual spaces) are replaced by it, so that a 150-character
//! English text with one curly quote costs one part instead of three.
//!
//! The replacement is all or nothing: it is used only when the whole result is GSM-7. A text that
//! needs UCS-2 anyway (Cyrillic, an emoji) keeps its typography, since replacing would save nothing.
//! It is opt-in, because it changes what the recipient reads (slightly): per message
//! (`Message::with_smart_encoding`) or per transport (the Messenger builder's `smart_encoding`).
//!
//! Only punctuation and spacing are replaced, never letters: `ç` → `c` would change a word, and a
//! look-alike letter from another script is not a look-alike to its reader.
//!
//! ```
//! use switchboard_core::segment::{Encoding, smart_gsm7};
//!
//! let text = format!("{} “soon” — thanks…", "x".repeat(130));
//! let smart = smart_gsm7(&text);
//! assert_eq!((smart.before.encoding, smart.before.segments), (Encoding::Ucs2, 3));
//! assert_eq!((smart.after.encoding, smart.after.segments), (Encoding::Gsm7, 1));
//! assert!(smart.text.ends_with(" \"soon\" - thanks..."));
//! assert_eq!(smart.replaced, 4);
//!
//! // Nothing to gain: the Cyrillic needs UCS-2 whatever happens to the quotes.
//! assert_eq!(smart_gsm7("«Привет»").text, "«Привет»");
//! ```

use std::borrow::Cow;

use super::{Segmentation, is_gsm7};

/// Each character with a GSM-7 look-alike, and what replaces it (empty: the character is invisible
/// and is dropped). Every source is outside the GSM 03.38 alphabet and every replacement inside it;
/// the unit tests check both against the alphabet tables.
pub const LOOK_ALIKES: &[(char, &str)] = &[
    // Spaces: no-break, typographic widths, narrow no-break, ideographic.
    ('\u{00A0}', " "),
    ('\u{2000}', " "),
    ('\u{2001}', " "),
    ('\u{2002}', " "),
    ('\u{2003}', " "),
    ('\u{2004}', " "),
    ('\u{2005}', " "),
    ('\u{2006}', " "),
    ('\u{2007}', " "),
    ('\u{2008}', " "),
    ('\u{2009}', " "),
    ('\u{200A}', " "),
    ('\u{202F}', " "),
    ('\u{205F}', " "),
    ('\u{3000}', " "),
    // Invisible: zero-width space, word joiner, byte-order mark, soft hyphen.
    ('\u{200B}', ""),
    ('\u{2060}', ""),
    ('\u{FEFF}', ""),
    ('\u{00AD}', ""),
    // Line and paragraph separators.
    ('\u{2028}', "\n"),
    ('\u{2029}', "\n"),
    // Single quotes, apostrophes, primes, the backtick and accents used as apostrophes.
    ('\u{0060}', "'"),
    ('\u{00B4}', "'"),
    ('\u{02BC}', "'"),
    ('\u{2018}', "'"),
    ('\u{2019}', "'"),
    ('\u{201A}', "'"),
    ('\u{201B}', "'"),
    ('\u{2032}', "'"),
    ('\u{2035}', "'"),
    ('\u{FF07}', "'"),
    // Double quotes, guillemets and double primes.
    ('\u{00AB}', "\""),
    ('\u{00BB}', "\""),
    ('\u{201C}', "\""),
    ('\u{201D}', "\""),
    ('\u{201E}', "\""),
    ('\u{201F}', "\""),
    ('\u{2033}', "\""),
    ('\u{2036}', "\""),
    ('\u{FF02}', "\""),
    ('\u{2039}', "<"),
    ('\u{203A}', ">"),
    // Hyphens, dashes and minus signs.
    ('\u{2010}', "-"),
    ('\u{2011}', "-"),
    ('\u{2012}', "-"),
    ('\u{2013}', "-"),
    ('\u{2014}', "-"),
    ('\u{2015}', "-"),
    ('\u{2212}', "-"),
    ('\u{FE58}', "-"),
    ('\u{FE63}', "-"),
    ('\u{FF0D}', "-"),
    // Dots.
    ('\u{2024}', "."),
    ('\u{2025}', ".."),
    ('\u{2026}', "..."),
    // Slashes, circumflex and tilde as spacing marks.
    ('\u{2044}', "/"),
    ('\u{2215}', "/"),
    ('\u{02C6}', "^"),
    ('\u{02DC}', "~"),
];

/// The GSM-7 look-alike of `c`, if it has one: from [`LOOK_ALIKES`], or the ASCII form of a
/// full-width character (`Ａ` → `A`) when that is GSM-7.
pub fn look_alike(c: char) -> Option<Cow<'static, str>> {
    if let Some((_, to)) = LOOK_ALIKES.iter().find(|(from, _)| *from == c) {
        return Some(Cow::Borrowed(to));
    }
    // Full-width forms U+FF01..=U+FF5E are ASCII 0x21..=0x7E shifted by 0xFEE0.
    let u = u32::from(c);
    if (0xFF01..=0xFF5E).contains(&u) {
        let ascii = char::from_u32(u - 0xFEE0)?;
        let mut buf = [0u8; 4];
        if is_gsm7(ascii.encode_utf8(&mut buf)) {
            return Some(Cow::Owned(ascii.to_string()));
        }
    }
    None
}

/// A text after smart encoding, with what it costs before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmartText<'a> {
    /// The text to send: the replaced one when that is all GSM-7, the original otherwise.
    pub text: Cow<'a, str>,
    /// How many characters were replaced (0 when the original is kept).
    pub replaced: usize,
    /// The original's segmentation.
    pub before: Segmentation,
    /// The segmentation of [`SmartText::text`].
    pub after: Segmentation,
}

impl SmartText<'_> {
    /// Parts saved by the replacement.
    pub fn saved(&self) -> usize {
        self.before.segments.saturating_sub(self.after.segments)
    }
}

/// Replaces look-alikes (see the [module docs](self)) when that makes the whole text GSM-7.
pub fn smart_gsm7(text: &str) -> SmartText<'_> {
    let before = Segmentation::of(text);
    let keep = |text| SmartText {
        text,
        replaced: 0,
        before,
        after: before,
    };
    if before.encoding == super::Encoding::Gsm7 {
        return keep(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut replaced = 0;
    for c in text.chars() {
        match look_alike(c) {
            Some(to) => {
                out.push_str(&to);
                replaced += 1;
            }
            None => out.push(c),
        }
    }
    if replaced == 0 || !is_gsm7(&out) {
        return keep(Cow::Borrowed(text));
    }
    let after = Segmentation::of(&out);
    SmartText {
        text: Cow::Owned(out),
        replaced,
        before,
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::Encoding;

    #[test]
    fn every_source_is_outside_the_gsm_alphabet_and_every_replacement_inside() {
        let mut seen = std::collections::HashSet::new();
        for (from, to) in LOOK_ALIKES {
            assert!(seen.insert(*from), "{from:?} is listed twice");
            assert!(
                !is_gsm7(&from.to_string()),
                "{from:?} is GSM-7 already: replacing it is a loss"
            );
            assert!(is_gsm7(to), "{from:?} -> {to:?} is not GSM-7");
        }
        for u in 0xFF01..=0xFF5E {
            let c = char::from_u32(u).unwrap();
            assert!(!is_gsm7(&c.to_string()));
            if let Some(to) = look_alike(c) {
                assert!(is_gsm7(&to), "{c:?}");
                assert_eq!(to.chars().count(), 1);
            }
        }
        // The full-width backtick maps to nothing: its ASCII form is not GSM-7 either.
        assert_eq!(look_alike('\u{FF40}'), None);
    }

    #[test]
    fn a_150_character_text_with_one_curly_quote_costs_one_part_instead_of_three() {
        let text = format!("{}’s ready", "a".repeat(142));
        assert_eq!(text.chars().count(), 150);
        let s = smart_gsm7(&text);
        assert_eq!((s.before.encoding, s.before.segments), (Encoding::Ucs2, 3));
        assert_eq!((s.after.encoding, s.after.segments), (Encoding::Gsm7, 1));
        assert_eq!(s.saved(), 2);
        assert_eq!(s.replaced, 1);
    }

    #[test]
    fn gsm_texts_and_texts_that_stay_ucs2_are_returned_untouched() {
        let plain = "Your code is 4821";
        assert!(matches!(smart_gsm7(plain).text, Cow::Borrowed(t) if t == plain));
        let emoji = "Thanks — see you 👍";
        let s = smart_gsm7(emoji);
        assert_eq!(s.text, emoji);
        assert_eq!((s.replaced, s.saved()), (0, 0));
        assert_eq!(smart_gsm7("Ça coûte 5€ — merci").text, "Ça coûte 5€ — merci");
    }

    #[test]
    fn invisible_characters_vanish_and_spaces_become_spaces() {
        let s = smart_gsm7("a\u{200B}b\u{00A0}c\u{FEFF}\u{2026}");
        assert_eq!(s.text, "ab c...");
        assert_eq!(s.replaced, 4);
        assert_eq!(s.after.encoding, Encoding::Gsm7);
    }
}

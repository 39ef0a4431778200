//! Counting and filling parts: the scans behind [`Segmentation`](super::Segmentation) and
//! [`split`](super::split).

use unicode_segmentation::UnicodeSegmentation;

use super::alphabet::{EXT, NONE, ascii_is_gsm, ascii_is_gsm_ext, gsm_code, gsm_cost};
use super::{Encoding, GSM_MULTI, SegmentError, Segmentation, UCS2_MULTI};

// ---------------------------------------------------------------------------------------------
// Filling parts.

/// Greedy filling of parts of a fixed capacity with items placed whole, in order.
///
/// This is what Twilio's `_buildSegments` / `Segment.addHeader` amount to once a message needs more
/// than one part: the first part keeps the longest prefix that fits next to the header, the rest
/// moves on, and every later part takes items while they fit.
pub(super) struct Packer {
    capacity: usize,
    fill: usize,
    pub(super) parts: usize,
}

impl Packer {
    pub(super) fn new(capacity: usize) -> Packer {
        Packer {
            capacity,
            fill: 0,
            parts: 1,
        }
    }

    /// Places an item of `cost <= capacity` units; true when it opened a new part.
    #[inline]
    pub(super) fn push(&mut self, cost: usize) -> bool {
        if self.fill + cost > self.capacity {
            self.parts += 1;
            self.fill = cost;
            true
        } else {
            self.fill += cost;
            false
        }
    }
}

/// A single-part segmentation, or a multi-part one whose part count `multi_parts` computes.
pub(super) fn finish(encoding: Encoding, units: usize, multi_parts: impl FnOnce() -> usize) -> Segmentation {
    if units <= encoding.single_capacity() {
        Segmentation {
            encoding,
            units,
            segments: 1,
            per_segment: encoding.single_capacity(),
        }
    } else {
        Segmentation {
            encoding,
            units,
            segments: multi_parts(),
            per_segment: encoding.multi_capacity(),
        }
    }
}

/// Segments `text` as GSM-7, or names its first character outside the alphabet.
///
/// One pass validates and counts septets (two for a non-ASCII text, whose ASCII check fails).
/// Parts need another, greedy pass only for a text longer than one SMS that holds extension
/// characters: otherwise every item costs one septet and the count is a plain division.
pub(super) fn scan_gsm7(text: &str) -> Result<Segmentation, SegmentError> {
    let bytes = text.as_bytes();
    if bytes.is_ascii() {
        // Branch-free over blocks of bytes with byte-wide counters, so that it vectorises.
        let (mut bad, mut escapes) = (false, 0usize);
        for block in bytes.chunks(128) {
            let (b_bad, b_ext) = block.iter().fold((0u8, 0u8), |(bad, ext), &b| {
                (bad | u8::from(!ascii_is_gsm(b)), ext + u8::from(ascii_is_gsm_ext(b)))
            });
            bad |= b_bad != 0;
            escapes += usize::from(b_ext);
        }
        if !bad {
            let septets = bytes.len() + escapes;
            return Ok(finish(Encoding::Gsm7, septets, || {
                if escapes == 0 {
                    septets.div_ceil(GSM_MULTI)
                } else {
                    ascii_gsm7_parts(bytes)
                }
            }));
        }
    }
    let mut septets = 0;
    let mut escapes = false;
    for (index, ch) in text.char_indices() {
        let code = gsm_code(ch);
        if code == NONE {
            return Err(SegmentError::NotGsm7 { ch, index });
        }
        septets += gsm_cost(code);
        escapes |= code & EXT != 0;
    }
    Ok(finish(Encoding::Gsm7, septets, || {
        if escapes {
            let mut packer = Packer::new(GSM_MULTI);
            gsm7_items(text, |_, cost| {
                packer.push(cost);
            });
            packer.parts
        } else {
            septets.div_ceil(GSM_MULTI)
        }
    }))
}

/// Greedy part count of a multi-part GSM-7 ASCII text, a part at a time rather than a byte at a
/// time: a part starting at `p` surely holds the `153 - e` bytes after it, where `e` counts the
/// escapes among the next 153 bytes, and at most `e` more bytes are tried one by one.
pub(super) fn ascii_gsm7_parts(bytes: &[u8]) -> usize {
    let escapes =
        |block: &[u8]| -> usize { usize::from(block.iter().fold(0u8, |n, &b| n + u8::from(ascii_is_gsm_ext(b)))) };
    let mut parts = 0;
    let mut p = 0;
    while p < bytes.len() {
        parts += 1;
        let window = &bytes[p..bytes.len().min(p + GSM_MULTI)];
        let mut q = p + window.len() - escapes(window);
        let mut fill = (q - p) + escapes(&bytes[p..q]);
        while let Some(&b) = bytes.get(q) {
            let cost = 1 + usize::from(ascii_is_gsm_ext(b));
            if fill + cost > GSM_MULTI {
                break;
            }
            fill += cost;
            q += 1;
        }
        p = q;
    }
    parts.max(1)
}

/// Segments `text` as UCS-2.
///
/// One pass counts UTF-16 units and checks whether every character is its own grapheme cluster
/// (see [`is_lone`]); then each item costs one unit and the count is a plain division. Otherwise a
/// greedy pass places clusters whole.
pub(super) fn segment_ucs2(text: &str) -> Segmentation {
    let units = utf16_len(text);
    finish(Encoding::Ucs2, units, || {
        if all_lone(text) {
            units.div_ceil(UCS2_MULTI)
        } else {
            let mut packer = Packer::new(UCS2_MULTI);
            ucs2_items(text, |_, cost| {
                packer.push(cost);
            });
            packer.parts
        }
    })
}

/// UTF-16 length of `text`, from its UTF-8 bytes: one unit per character, two for a character
/// encoded in 4 bytes (outside the BMP).
pub(super) fn utf16_len(text: &str) -> usize {
    // Byte-wide counters per block (at most 2 × 64 per block), so that it vectorises.
    text.as_bytes()
        .chunks(64)
        .map(|block| {
            let units = block
                .iter()
                .fold(0u8, |n, &b| n + u8::from((b & 0xC0) != 0x80) + u8::from(b >= 0xF0));
            usize::from(units)
        })
        .sum()
}

/// `c` is in the BMP and forms a grapheme cluster on its own next to any other such character:
/// its Grapheme_Cluster_Break is Other, Control, CR or LF (no Extend, ZWJ, SpacingMark, Prepend,
/// Hangul or regional indicator). Only common scripts are listed; anything else simply takes the
/// grapheme-cluster path. Checked over every listed character in the tests.
#[inline]
pub(super) fn is_lone(c: char) -> bool {
    matches!(u32::from(c),
        0x0000..=0x02FF       // ASCII, Latin-1, Latin Extended-A/B, IPA, spacing modifiers
        | 0x0370..=0x0482     // Greek and Coptic, Cyrillic letters
        | 0x048A..=0x053F     // Cyrillic, Cyrillic Supplement, Armenian capitals
        | 0x05D0..=0x05EA     // Hebrew letters
        | 0x0620..=0x064A     // Arabic letters
        | 0x2010..=0x2027     // dashes, quotes, bullets, ellipsis
        | 0x2030..=0x205E     // per mille, primes, other punctuation
        | 0x20A0..=0x20C0     // currency signs
        | 0x2100..=0x214F     // letterlike symbols (numero, trade mark)
        | 0x4E00..=0x9FFF     // CJK unified ideographs
    )
}

/// Every character of `text` is [`is_lone`]. A branch-free pass over the UTF-8 bytes settles the
/// common case (ASCII, Latin, Greek, Russian): ASCII, continuation bytes, and the lead bytes of
/// U+0080..=U+02FF, U+0380..=U+047F and U+04C0..=U+053F. Anything else is checked char by char.
pub(super) fn all_lone(text: &str) -> bool {
    let fast = text.as_bytes().chunks(128).all(|block| {
        block.iter().fold(true, |ok, &b| {
            ok & ((b < 0xCC) | (0xCE..=0xD1).contains(&b) | (b == 0xD3) | (b == 0xD4))
        })
    });
    fast || text.chars().all(is_lone)
}

/// Calls `f(byte_offset, septets)` for each character of a GSM-7 text.
pub(super) fn gsm7_items(text: &str, mut f: impl FnMut(usize, usize)) {
    if text.is_ascii() {
        for (at, &b) in text.as_bytes().iter().enumerate() {
            f(at, 1 + usize::from(ascii_is_gsm_ext(b)));
        }
        return;
    }
    for (at, ch) in text.char_indices() {
        let code = gsm_code(ch);
        // Callers checked the text first; a character without a code would not be sent as GSM-7.
        let cost = if code == NONE { 1 } else { gsm_cost(code) };
        f(at, cost);
    }
}

/// Calls `f(byte_offset, utf16_units)` for each item placed whole in a multi-part UCS-2 message.
///
/// An item is an extended grapheme cluster (UAX #29), except that `"\r\n"` counts as two items (as
/// in Twilio's calculator), and that a cluster too big for a part (only degenerate input, such as
/// dozens of stacked combining marks) is placed character by character so that a part never
/// exceeds its capacity. Surrogate pairs are never split, since items are whole characters.
pub(super) fn ucs2_items(text: &str, mut f: impl FnMut(usize, usize)) {
    if all_lone(text) {
        for (at, _) in text.char_indices() {
            f(at, 1);
        }
        return;
    }
    let mut chars = text.char_indices().peekable();
    // Everything before `end` has been placed; `end` is always a cluster boundary.
    let mut end = 0;
    while let Some((at, c)) = chars.next() {
        if at < end {
            continue;
        }
        if is_lone(c) && chars.peek().is_none_or(|&(_, next)| is_lone(next)) {
            f(at, 1);
            end = at + c.len_utf8();
            continue;
        }
        // Segmentation can restart at a boundary.
        let rest = &text[at..];
        let g = rest.graphemes(true).next().unwrap_or(rest);
        if g == "\r\n" {
            f(at, 1);
            f(at + 1, 1);
        } else {
            let cost = utf16_len(g);
            if cost <= UCS2_MULTI {
                f(at, cost);
            } else {
                for (i, ch) in g.char_indices() {
                    f(at + i, ch.len_utf16());
                }
            }
        }
        end = at + g.len();
    }
}

/// Reference implementation of [`ucs2_items`], straight over the grapheme iterator.
#[cfg(test)]
pub(super) fn ucs2_items_reference(text: &str, mut f: impl FnMut(usize, usize)) {
    for (at, g) in text.grapheme_indices(true) {
        if g == "\r\n" {
            f(at, 1);
            f(at + 1, 1);
        } else if utf16_len(g) <= UCS2_MULTI {
            f(at, utf16_len(g));
        } else {
            for (i, ch) in g.char_indices() {
                f(at + i, ch.len_utf16());
            }
        }
    }
}

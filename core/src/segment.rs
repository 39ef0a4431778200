//! SMS text segmentation: which encoding a text needs and how many parts it is sent in.
//!
//! The rules are those of 3GPP TS 23.038 as carriers apply them, and the results match Twilio's
//! reference calculator (`TwilioDevEd/message-segment-calculator`, npm `sms-segments-calculator`):
//!
//! * **GSM-7** when every character is in the GSM 03.38 default alphabet. A basic-table character
//!   costs one septet; an extension-table character (form feed and `` ^{}\[~]|€ ``) costs two
//!   (ESC `0x1B` plus its code). One SMS carries 160 septets; a multi-part message carries 153 per
//!   part, because each part spends 6 octets on the concatenation header (UDH).
//! * **UCS-2** as soon as one character is not GSM-7: the whole message then costs 16 bits per
//!   UTF-16 code unit (a character outside the BMP, such as most emoji, is a surrogate pair and costs
//!   two), 70 units for one SMS, 67 per part.
//! * Characters are placed whole, in order, into the parts: an escape pair, a surrogate pair or a
//!   grapheme cluster (a ZWJ emoji family, a flag, a letter with its combining accents) is never cut
//!   across two parts. A part may therefore hold less than its capacity, and the number of parts can
//!   be larger than `ceil(units / per_segment)`.
//!
//! The GSM alphabet is exactly the 3GPP default alphabet, without national shift tables and without
//! any "smart" replacement: `ç`, `ë`, NBSP, curly quotes, Greek capitals that look like Latin ones
//! (`Α`, `Β`, ...) and the backtick are **not** GSM-7, while `Ç`, `Ä`, `ñ`, `à`, `é` and the Greek
//! capitals `ΓΔΘΛΞΠΣΦΨΩ` are. The empty text is one (empty) GSM-7 part, as Twilio counts it.
//!
//! Grapheme clusters are those of the current Unicode standard (`unicode-segmentation`), except that
//! CR LF counts as two characters, as in Twilio's calculator. Twilio's calculator still uses rules
//! from around Unicode 10 (`grapheme-splitter`), so for Indic conjuncts (`क्ष`), ZWJ emoji made of
//! components added since 2018 (`👩‍🦰`) or a stray ZWJ, it may cut a cluster that is kept whole
//! here, and then its part count can differ.
//!
//! ```
//! use switchboard_core::segment::{split, Encoding, Segmentation};
//!
//! let s = Segmentation::of("Your code is 4821");
//! assert_eq!((s.encoding, s.units, s.segments, s.per_segment), (Encoding::Gsm7, 17, 1, 160));
//!
//! // One character outside the GSM alphabet turns the whole message into UCS-2.
//! let s = Segmentation::of("Porosia juaj u dërgua");
//! assert_eq!((s.encoding, s.units, s.segments), (Encoding::Ucs2, 21, 1));
//!
//! // 161 septets do not fit in one SMS: 153 + 8.
//! let text = "a".repeat(161);
//! let s = Segmentation::of(&text);
//! assert_eq!((s.segments, s.per_segment), (2, 153));
//! let parts = split(&text, s.encoding)?;
//! assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [153, 8]);
//! # Ok::<(), switchboard_core::segment::SegmentError>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// Septets in a single-part GSM-7 message (140 octets × 8 / 7).
const GSM_SINGLE: usize = 160;
/// Septets per part of a multi-part GSM-7 message ((140 − 6) octets × 8 / 7, rounded down).
const GSM_MULTI: usize = 153;
/// UTF-16 units in a single-part UCS-2 message (140 octets / 2).
const UCS2_SINGLE: usize = 70;
/// UTF-16 units per part of a multi-part UCS-2 message ((140 − 6) octets / 2).
const UCS2_MULTI: usize = 67;

/// The alphabet an SMS is sent in (3GPP TS 23.038 data coding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    /// The GSM 7-bit default alphabet with its extension table; written `"GSM-7"`.
    #[serde(rename = "GSM-7")]
    Gsm7,
    /// UCS-2, in practice UTF-16 (surrogate pairs included); written `"UCS-2"`.
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    /// The conventional name: `"GSM-7"` or `"UCS-2"` (the same strings serde uses).
    ///
    /// ```
    /// use switchboard_core::segment::Encoding;
    /// assert_eq!(Encoding::Ucs2.as_str(), "UCS-2");
    /// assert_eq!(Encoding::Gsm7.to_string(), "GSM-7");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }

    /// Units one SMS holds when the message fits in a single part: 160 septets or 70 UTF-16 units.
    pub const fn single_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => GSM_SINGLE,
            Encoding::Ucs2 => UCS2_SINGLE,
        }
    }

    /// Units each part holds in a multi-part message: 153 septets or 67 UTF-16 units.
    pub const fn multi_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => GSM_MULTI,
            Encoding::Ucs2 => UCS2_MULTI,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a text could not be segmented or encoded as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentError {
    /// GSM-7 was required but the text holds a character outside the GSM 03.38 alphabet.
    NotGsm7 {
        /// The first offending character.
        ch: char,
        /// Its byte offset in the text (`&text[index..]` starts with `ch`).
        index: usize,
    },
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SegmentError::NotGsm7 { ch, index } => write!(
                f,
                "character {ch:?} (U+{:04X}) at byte {index} is not in the GSM-7 alphabet; \
                 send the text as UCS-2 or replace the character",
                u32::from(*ch)
            ),
        }
    }
}

impl std::error::Error for SegmentError {}

/// How a text is sent as SMS: its encoding, its size and the number of parts.
///
/// ```
/// use switchboard_core::segment::{Encoding, Segmentation};
///
/// // 70 Cyrillic letters fill one UCS-2 SMS; one more makes two parts of at most 67.
/// let s = Segmentation::of(&"ж".repeat(71));
/// assert_eq!(
///     s,
///     Segmentation { encoding: Encoding::Ucs2, units: 71, segments: 2, per_segment: 67 }
/// );
/// assert!(!s.is_single());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segmentation {
    /// The encoding the text is sent in.
    pub encoding: Encoding,
    /// Size of the text: septets for GSM-7 (extension characters count 2), UTF-16 code units for
    /// UCS-2 (characters outside the BMP count 2).
    pub units: usize,
    /// Number of SMS parts (at least 1; the empty text is one empty part).
    pub segments: usize,
    /// Capacity of each part in `units`: 160 or 153 for GSM-7, 70 or 67 for UCS-2.
    pub per_segment: usize,
}

impl Segmentation {
    /// Segments `text` in the encoding it needs: GSM-7 when every character is in the GSM alphabet,
    /// UCS-2 otherwise.
    ///
    /// Never allocates. The GSM-7 check and septet count take one pass (branch-free for ASCII) and
    /// stop at the first non-GSM character; a UCS-2 text then takes one pass to count UTF-16
    /// units. Only a text longer than one SMS may need one more pass, to place escape pairs or
    /// grapheme clusters whole, and that pass is skipped when there are none to place.
    ///
    /// ```
    /// use switchboard_core::segment::{Encoding, Segmentation};
    ///
    /// // `€` is in the extension table: 2 septets each, 80 of them fill one SMS.
    /// assert_eq!(Segmentation::of(&"€".repeat(80)).segments, 1);
    /// assert_eq!(Segmentation::of(&"€".repeat(81)).segments, 2);
    /// // One emoji makes the whole message UCS-2; it is a surrogate pair, 2 units.
    /// let s = Segmentation::of("See you 👍");
    /// assert_eq!((s.encoding, s.units), (Encoding::Ucs2, 10));
    /// ```
    pub fn of(text: &str) -> Segmentation {
        match scan_gsm7(text) {
            Ok(s) => s,
            Err(_) => segment_ucs2(text),
        }
    }

    /// Segments `text` in the given encoding.
    ///
    /// UCS-2 can carry any text. GSM-7 fails with [`SegmentError::NotGsm7`] naming the first
    /// character outside the GSM alphabet and its byte offset.
    ///
    /// ```
    /// use switchboard_core::segment::{Encoding, SegmentError, Segmentation};
    ///
    /// let s = Segmentation::with_encoding("Hello", Encoding::Ucs2)?;
    /// assert_eq!((s.units, s.per_segment), (5, 70));
    ///
    /// let err = Segmentation::with_encoding("Faleminderit, Ç/ç", Encoding::Gsm7).unwrap_err();
    /// assert_eq!(err, SegmentError::NotGsm7 { ch: 'ç', index: 17 });
    /// # Ok::<(), SegmentError>(())
    /// ```
    pub fn with_encoding(text: &str, encoding: Encoding) -> Result<Segmentation, SegmentError> {
        match encoding {
            Encoding::Gsm7 => scan_gsm7(text),
            Encoding::Ucs2 => Ok(segment_ucs2(text)),
        }
    }

    /// True when the text goes out as one SMS, without a concatenation header.
    pub fn is_single(&self) -> bool {
        self.segments == 1
    }
}

/// True when every character of `text` is in the GSM 03.38 default alphabet or its extension
/// table, so that the text can be sent as GSM-7.
///
/// ```
/// use switchboard_core::segment::is_gsm7;
///
/// assert!(!is_gsm7("Ça coûte 5€?")); // `û` is not GSM
/// assert!(is_gsm7("Ça coute 5€ {ok}"));
/// assert!(!is_gsm7("“quoted”"));           // curly quotes are not GSM
/// ```
pub fn is_gsm7(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.is_ascii() {
        return bytes
            .chunks(128)
            .all(|block| block.iter().fold(true, |ok, &b| ok & ascii_is_gsm(b)));
    }
    text.chars().all(|c| gsm_code(c) != NONE)
}

/// Splits `text` into the parts it is sent in with `encoding`, as slices of `text`.
///
/// The parts are filled exactly as [`Segmentation`] counts them: `split(t, e)?.len()` equals
/// `Segmentation::with_encoding(t, e)?.segments`, the parts concatenate back to `text`, each part
/// fits its capacity, and no part cuts an escape pair, a surrogate pair or a grapheme cluster
/// (except CR LF, which counts as two characters, and a degenerate cluster too large for a whole
/// part, which is cut between characters). A text that fits in one SMS, the empty text included, is
/// returned as a single part. Gateways that need the text pre-split send each part with its own
/// concatenation header.
///
/// ```
/// use switchboard_core::segment::{split, Encoding, Segmentation};
///
/// // 152 letters and a `€`: the escape pair does not fit in the first part, so it moves whole.
/// let text = format!("{}€ and more", "a".repeat(152));
/// let s = Segmentation::of(&text);
/// assert_eq!((s.units, s.segments), (163, 2));
/// assert_eq!(split(&text, s.encoding)?, [&text[..152], "€ and more"]);
/// # Ok::<(), switchboard_core::segment::SegmentError>(())
/// ```
pub fn split(text: &str, encoding: Encoding) -> Result<Vec<&str>, SegmentError> {
    let seg = Segmentation::with_encoding(text, encoding)?;
    if seg.is_single() {
        return Ok(vec![text]);
    }
    let mut parts = Vec::with_capacity(seg.segments);
    let mut packer = Packer::new(seg.per_segment);
    let mut start = 0;
    let on_item = |at: usize, cost: usize| {
        if packer.push(cost) {
            parts.push(&text[start..at]);
            start = at;
        }
    };
    match encoding {
        Encoding::Gsm7 => gsm7_items(text, on_item),
        Encoding::Ucs2 => ucs2_items(text, on_item),
    }
    parts.push(&text[start..]);
    debug_assert_eq!(parts.len(), seg.segments);
    Ok(parts)
}

/// Encodes `text` as unpacked GSM-7 septets, one byte per septet: a basic-table character gives its
/// code, an extension-table character gives ESC (`0x1B`) followed by its code. Providers that take
/// "GSM bytes" want this; packing 8 septets into 7 octets is left to the radio layer.
///
/// ```
/// use switchboard_core::segment::{encode_gsm7, SegmentError};
///
/// assert_eq!(encode_gsm7("@£$")?, [0x00, 0x01, 0x02]);
/// assert_eq!(encode_gsm7("5€")?, [0x35, 0x1B, 0x65]);
/// assert_eq!(encode_gsm7("añb").unwrap(), [0x61, 0x7D, 0x62]);
/// assert!(matches!(encode_gsm7("añçb"), Err(SegmentError::NotGsm7 { ch: 'ç', index: 3 })));
/// # Ok::<(), SegmentError>(())
/// ```
pub fn encode_gsm7(text: &str) -> Result<Vec<u8>, SegmentError> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 8);
    for (index, ch) in text.char_indices() {
        let code = gsm_code(ch);
        if code == NONE {
            return Err(SegmentError::NotGsm7 { ch, index });
        }
        if code & EXT != 0 {
            out.push(ESC);
            out.push(code & !EXT);
        } else {
            out.push(code);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The GSM 03.38 alphabet.
//
// A table entry is the septet of a basic-table character, `EXT | code` for an extension-table
// character (sent as ESC, code), or `NONE`. This is the 3GPP TS 23.038 default alphabet, which is
// also exactly the 137-character map of Twilio's calculator (`UnicodeToGSM.ts`).

const NONE: u8 = 0xFF;
const EXT: u8 = 0x80;
const ESC: u8 = 0x1B;

/// GSM code of each ASCII character.
static ASCII_TO_GSM: [u8; 128] = ascii_to_gsm();

const fn ascii_to_gsm() -> [u8; 128] {
    let mut t = [NONE; 128];
    // Printable ASCII maps to itself, apart from the exceptions below.
    let mut c = 0x20;
    while c < 0x7F {
        t[c] = c as u8;
        c += 1;
    }
    t[0x0A] = 0x0A; // LF
    t[0x0D] = 0x0D; // CR
    t[0x0C] = EXT | 0x0A; // form feed (page break)
    t[0x24] = 0x02; // $
    t[0x40] = 0x00; // @
    t[0x5B] = EXT | 0x3C; // [
    t[0x5C] = EXT | 0x2F; // \
    t[0x5D] = EXT | 0x3E; // ]
    t[0x5E] = EXT | 0x14; // ^
    t[0x5F] = 0x11; // _
    t[0x60] = NONE; // ` is not in the alphabet
    t[0x7B] = EXT | 0x28; // {
    t[0x7C] = EXT | 0x40; // |
    t[0x7D] = EXT | 0x29; // }
    t[0x7E] = EXT | 0x3D; // ~
    t
}

/// GSM code of `c` (see the table notes above).
#[inline]
fn gsm_code(c: char) -> u8 {
    let u = u32::from(c);
    if u < 0x80 {
        return ASCII_TO_GSM[u as usize];
    }
    match c {
        '\u{A1}' => 0x40,         // ¡
        '\u{A3}' => 0x01,         // £
        '\u{A4}' => 0x24,         // ¤
        '\u{A5}' => 0x03,         // ¥
        '\u{A7}' => 0x5F,         // §
        '\u{BF}' => 0x60,         // ¿
        '\u{C4}' => 0x5B,         // Ä
        '\u{C5}' => 0x0E,         // Å
        '\u{C6}' => 0x1C,         // Æ
        '\u{C7}' => 0x09,         // Ç (capital only: ç is not GSM)
        '\u{C9}' => 0x1F,         // É
        '\u{D1}' => 0x5D,         // Ñ
        '\u{D6}' => 0x5C,         // Ö
        '\u{D8}' => 0x0B,         // Ø
        '\u{DC}' => 0x5E,         // Ü
        '\u{DF}' => 0x1E,         // ß
        '\u{E0}' => 0x7F,         // à
        '\u{E4}' => 0x7B,         // ä
        '\u{E5}' => 0x0F,         // å
        '\u{E6}' => 0x1D,         // æ
        '\u{E8}' => 0x04,         // è
        '\u{E9}' => 0x05,         // é
        '\u{EC}' => 0x07,         // ì
        '\u{F1}' => 0x7D,         // ñ
        '\u{F2}' => 0x08,         // ò
        '\u{F6}' => 0x7C,         // ö
        '\u{F8}' => 0x0C,         // ø
        '\u{F9}' => 0x06,         // ù
        '\u{FC}' => 0x7E,         // ü
        '\u{393}' => 0x13,        // Γ
        '\u{394}' => 0x10,        // Δ
        '\u{398}' => 0x19,        // Θ
        '\u{39B}' => 0x14,        // Λ
        '\u{39E}' => 0x1A,        // Ξ
        '\u{3A0}' => 0x16,        // Π
        '\u{3A3}' => 0x18,        // Σ
        '\u{3A6}' => 0x12,        // Φ
        '\u{3A8}' => 0x17,        // Ψ
        '\u{3A9}' => 0x15,        // Ω
        '\u{20AC}' => EXT | 0x65, // €
        _ => NONE,
    }
}

/// Septets `code` takes: 1, or 2 for an extension-table character.
#[inline]
fn gsm_cost(code: u8) -> usize {
    1 + usize::from(code >> 7)
}

// ---------------------------------------------------------------------------------------------
// Filling parts.

/// Greedy filling of parts of a fixed capacity with items placed whole, in order.
///
/// This is what Twilio's `_buildSegments` / `Segment.addHeader` amount to once a message needs more
/// than one part: the first part keeps the longest prefix that fits next to the header, the rest
/// moves on, and every later part takes items while they fit.
struct Packer {
    capacity: usize,
    fill: usize,
    parts: usize,
}

impl Packer {
    fn new(capacity: usize) -> Packer {
        Packer {
            capacity,
            fill: 0,
            parts: 1,
        }
    }

    /// Places an item of `cost <= capacity` units; true when it opened a new part.
    #[inline]
    fn push(&mut self, cost: usize) -> bool {
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
fn finish(encoding: Encoding, units: usize, multi_parts: impl FnOnce() -> usize) -> Segmentation {
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
fn scan_gsm7(text: &str) -> Result<Segmentation, SegmentError> {
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
fn ascii_gsm7_parts(bytes: &[u8]) -> usize {
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

/// `b` is an ASCII character of the GSM alphabet (same as the table, without a lookup).
#[inline]
fn ascii_is_gsm(b: u8) -> bool {
    // Non-short-circuit operators keep it branch-free.
    ((0x20..0x7F).contains(&b) & (b != 0x60)) | (b == 0x0A) | (b == 0x0C) | (b == 0x0D)
}

/// `b` is an ASCII character of the GSM extension table.
#[inline]
fn ascii_is_gsm_ext(b: u8) -> bool {
    (b == 0x0C) | (0x5B..=0x5E).contains(&b) | (0x7B..=0x7E).contains(&b)
}

/// Segments `text` as UCS-2.
///
/// One pass counts UTF-16 units and checks whether every character is its own grapheme cluster
/// (see [`is_lone`]); then each item costs one unit and the count is a plain division. Otherwise a
/// greedy pass places clusters whole.
fn segment_ucs2(text: &str) -> Segmentation {
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
fn utf16_len(text: &str) -> usize {
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
fn is_lone(c: char) -> bool {
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
fn all_lone(text: &str) -> bool {
    let fast = text.as_bytes().chunks(128).all(|block| {
        block.iter().fold(true, |ok, &b| {
            ok & ((b < 0xCC) | (0xCE..=0xD1).contains(&b) | (b == 0xD3) | (b == 0xD4))
        })
    });
    fast || text.chars().all(is_lone)
}

/// Calls `f(byte_offset, septets)` for each character of a GSM-7 text.
fn gsm7_items(text: &str, mut f: impl FnMut(usize, usize)) {
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
fn ucs2_items(text: &str, mut f: impl FnMut(usize, usize)) {
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
fn ucs2_items_reference(text: &str, mut f: impl FnMut(usize, usize)) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            'ç', 'ë', 'Ë', 'á', 'í', 'ó', 'ú', 'â', 'ê', 'õ', 'ã', '`', '\t', '\u{A0}', '\u{2018}', '\u{2019}',
            '\u{201C}', '\u{201D}', '\u{2013}', '\u{2026}', 'Α', 'Β', 'Ε', 'Ο', 'α', 'δ', '\u{2206}', '\u{1B}', '\0',
            '\u{7F}',
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
}

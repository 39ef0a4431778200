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

mod alphabet;
mod pack;
pub mod smart;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors_tests;

use alphabet::{ESC, EXT, NONE, ascii_is_gsm, gsm_code};
use pack::{Packer, gsm7_items, scan_gsm7, segment_ucs2, ucs2_items};
pub use smart::{SmartText, smart_gsm7};

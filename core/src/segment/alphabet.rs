//! The GSM 03.38 default alphabet and its extension table, as septet codes.

// ---------------------------------------------------------------------------------------------
// The GSM 03.38 alphabet.
//
// A table entry is the septet of a basic-table character, `EXT | code` for an extension-table
// character (sent as ESC, code), or `NONE`. This is the 3GPP TS 23.038 default alphabet, which is
// also exactly the 137-character map of Twilio's calculator (`UnicodeToGSM.ts`).

pub(super) const NONE: u8 = 0xFF;
pub(super) const EXT: u8 = 0x80;
pub(super) const ESC: u8 = 0x1B;

/// GSM code of each ASCII character.
pub(super) static ASCII_TO_GSM: [u8; 128] = ascii_to_gsm();

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
pub(super) fn gsm_code(c: char) -> u8 {
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
pub(super) fn gsm_cost(code: u8) -> usize {
    1 + usize::from(code >> 7)
}

/// `b` is an ASCII character of the GSM alphabet (same as the table, without a lookup).
#[inline]
pub(super) fn ascii_is_gsm(b: u8) -> bool {
    // Non-short-circuit operators keep it branch-free.
    ((0x20..0x7F).contains(&b) & (b != 0x60)) | (b == 0x0A) | (b == 0x0C) | (b == 0x0D)
}

/// `b` is an ASCII character of the GSM extension table.
#[inline]
pub(super) fn ascii_is_gsm_ext(b: u8) -> bool {
    (b == 0x0C) | (0x5B..=0x5E).contains(&b) | (0x7B..=0x7E).contains(&b)
}

//! PDF, written by hand (PDF 1.4, ISO 32000-1 structure): a title, a header row and the rows in the
//! standard Helvetica font, as many A4 landscape pages as the rows need, each with the header repeated,
//! and a cross-reference table whose offsets point at each object.
//!
//! Helvetica is one of the 14 standard fonts every reader has, so nothing is embedded; it is used with
//! `WinAnsiEncoding` (PDF 32000-1, Annex D), which has Latin letters but no Cyrillic. So text is
//! transliterated first ([`transliterate`]), and any character WinAnsi cannot show becomes `?`.
//!
//! Cyrillic → Latin follows the Russian table of ICAO Doc 9303 (machine-readable travel documents, part 3),
//! the one Russian passports use since 2013:
//!
//! | а б в г д е ё ж з и й к л м н о п р с т у ф х ц ч ш щ ъ ы ь э ю я |
//! |---|
//! | a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch ie y – e iu ia |
//!
//! (ь is dropped), capitals alike with the first letter capitalised (`Щ` → `Shch`); Ukrainian і ї є ґ
//! as i i ie g.

use super::{Cell, Table};

const PAGE_W: f64 = 842.0; // A4 landscape, points
const PAGE_H: f64 = 595.0;
const MARGIN: f64 = 36.0;
const FONT_SIZE: f64 = 8.0;
const LINE: f64 = 11.0;
/// Helvetica's average glyph width is about half the font size; cells are cut to fit their column.
const CHAR_W: f64 = FONT_SIZE * 0.52;

/// The file.
pub fn write(table: &Table) -> Vec<u8> {
    let usable = PAGE_H - 2.0 * MARGIN - 30.0; // below the title
    let per_page = ((usable / LINE) as usize).saturating_sub(1).max(1); // header row on every page
    let pages: Vec<&[Vec<Cell>]> = if table.rows.is_empty() {
        vec![&[]]
    } else {
        table.rows.chunks(per_page).collect()
    };
    let col_w = (PAGE_W - 2.0 * MARGIN) / table.columns.len().max(1) as f64;
    let max_chars = ((col_w - 4.0) / CHAR_W).max(1.0) as usize;

    // Objects: 1 catalog, 2 page tree, 3 font, then for page i: 4 + 2i the page, 5 + 2i its content.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()).into_bytes());
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec());
    for (i, rows) in pages.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        let mut s = Vec::new();
        let title = format!("{} - page {} of {}", table.title, i + 1, pages.len());
        text(&mut s, 14.0, MARGIN, PAGE_H - MARGIN - 14.0, &title);
        let mut y = PAGE_H - MARGIN - 40.0;
        for (c, col) in table.columns.iter().enumerate() {
            text(
                &mut s,
                FONT_SIZE,
                MARGIN + c as f64 * col_w,
                y,
                &cut(col.name, max_chars),
            );
        }
        // A rule under the header.
        s.extend_from_slice(
            format!("{MARGIN} {:.1} m {:.1} {:.1} l S\n", y - 3.0, PAGE_W - MARGIN, y - 3.0).as_bytes(),
        );
        for row in rows.iter() {
            y -= LINE;
            for (c, cell) in row.iter().enumerate() {
                let v = match cell {
                    Cell::Null => continue,
                    Cell::Int(i) => i.to_string(),
                    Cell::Text(t) | Cell::Time(t) => t.clone(),
                };
                text(&mut s, FONT_SIZE, MARGIN + c as f64 * col_w, y, &cut(&v, max_chars));
            }
        }
        let mut stream = format!("<< /Length {} >>\nstream\n", s.len()).into_bytes();
        stream.extend_from_slice(&s);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }

    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    // Each entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, and a two-byte EOL.
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// One line of text at (x, y).
fn text(out: &mut Vec<u8>, size: f64, x: f64, y: f64, s: &str) {
    out.extend_from_slice(format!("BT /F1 {size} Tf {x:.1} {y:.1} Td (").as_bytes());
    for b in win_ansi(&transliterate(s)) {
        match b {
            b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0x20..=0x7e => out.push(b),
            b => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
        }
    }
    out.extend_from_slice(b") Tj ET\n");
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(3)).collect();
        t.push_str("...");
        t
    }
}

/// Cyrillic letters spelt in Latin (see the module docs); everything else is kept.
pub fn transliterate(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let latin = match lower {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' | 'й' | 'і' | 'ї' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' | 'є' => "ie",
            'ы' => "y",
            'ь' => "",
            'ю' => "iu",
            'я' => "ia",
            'ґ' => "g",
            _ => {
                o.push(c);
                continue;
            }
        };
        if lower != c {
            let mut chars = latin.chars();
            if let Some(first) = chars.next() {
                o.extend(first.to_uppercase());
                o.push_str(chars.as_str());
            }
        } else {
            o.push_str(latin);
        }
    }
    o
}

/// A string in WinAnsiEncoding (PDF 32000-1, Annex D.2): ASCII and Latin-1 as themselves, the
/// typographic characters of 0x80–0x9F by their codes, anything else `?`.
pub fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8a,
            '‹' => 0x8b,
            'Œ' => 0x8c,
            'Ž' => 0x8e,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9a,
            '›' => 0x9b,
            'œ' => 0x9c,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_is_transliterated_and_the_rest_replaced() {
        assert_eq!(transliterate("ООО Ромашка"), "OOO Romashka");
        assert_eq!(transliterate("Щукин Юрий, Хабаровск"), "Shchukin Iurii, Khabarovsk");
        assert_eq!(transliterate("объём"), "obieem");
        assert_eq!(win_ansi("Café €5 — 中"), b"Caf\xe9 \x805 \x97 ?".to_vec());
        assert_eq!(win_ansi("\u{1F600}"), b"?".to_vec());
    }
}

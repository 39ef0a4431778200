//! CSV as Russian Excel opens it by double-click: UTF-8 with a byte-order mark (without it Excel reads
//! the file as the ANSI code page and Cyrillic turns to mojibake), `;` between fields (the list
//! separator of locales whose decimal separator is a comma), CRLF line ends and RFC 4180 quoting: a
//! field holding `;`, `"`, CR or LF is put in double quotes with its quotes doubled.
//!
//! Formula injection (OWASP, "CSV Injection"): a text cell that starts with `=`, `+`, `-` or `@` (or a
//! tab or CR, which some spreadsheets skip before looking) is run as a formula when the file is opened.
//! Such a cell gets a `'` in front, which spreadsheets show as text. Numbers are written as numbers and
//! are not touched (`-5` is a number, not a formula).

use super::{Cell, Table};

/// The file.
pub fn write(table: &Table) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let header: Vec<String> = table.columns.iter().map(|c| field(&text(c.name))).collect();
    out.push_str(&header.join(";"));
    out.push_str("\r\n");
    for row in &table.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Null => String::new(),
                Cell::Int(i) => i.to_string(),
                Cell::Text(s) | Cell::Time(s) => field(&text(s)),
            })
            .collect();
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// A text cell with the formula guard.
fn text(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

/// RFC 4180 quoting with `;` as the separator.
fn field(s: &str) -> String {
    if s.contains([';', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_the_formula_guard() {
        assert_eq!(field("a;b"), "\"a;b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\r\nlines"), "\"two\r\nlines\"");
        assert_eq!(field("plain"), "plain");
        assert_eq!(text("=1+2"), "'=1+2");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("-3"), "'-3");
        assert_eq!(text("+7 912"), "'+7 912");
        assert_eq!(text("Moscow"), "Moscow");
    }
}

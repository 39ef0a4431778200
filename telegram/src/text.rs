//! Message text: parse modes, escaping, and the length Telegram checks.
//!
//! Telegram limits `sendMessage` text to **4096 characters after entity parsing** (Bot API docs;
//! "message is too long" comes only past that, per the Bot API server's maintainer in
//! tdlib/telegram-bot-api#374), counted in **UTF-16 code units** like every offset in the Bot API. So
//! `<b>hi</b>` is 2 long, and an emoji outside the BMP is 2. [`visible_text`] parses HTML and
//! MarkdownV2 the way Telegram does closely enough to measure and to find the mistakes Telegram
//! refuses with "can't parse entities"; it also yields the entities (UTF-16 offsets), which the
//! simulator answers with. It is an approximation of Telegram's parser kept in this one module: the
//! rules are the documented ones (supported tags, the reserved MarkdownV2 characters, `\` escapes),
//! not every corner of the real implementation.
//!
//! To put untrusted text (a customer's name) into a formatted message, escape it for the mode:
//! [`escape_html`], [`escape_markdown_v2`] (and [`escape_markdown_v2_code`] inside code,
//! [`escape_markdown_v2_url`] inside a link's URL).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest text `sendMessage` takes, in UTF-16 code units after entity parsing.
pub const MAX_TEXT_UTF16: usize = 4096;

/// How Telegram reads formatting in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ParseMode {
    /// The HTML subset (`<b>`, `<i>`, `<a href>`, `<code>`, `<pre>`…).
    #[serde(rename = "HTML")]
    Html,
    /// MarkdownV2: every reserved character outside an entity is escaped with `\`.
    #[serde(rename = "MarkdownV2")]
    MarkdownV2,
    /// The legacy Markdown mode, kept for old bots.
    #[serde(rename = "Markdown")]
    Markdown,
}

impl ParseMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ParseMode::Html => "HTML",
            ParseMode::MarkdownV2 => "MarkdownV2",
            ParseMode::Markdown => "Markdown",
        }
    }

    /// Parses the wire name, case-insensitively as Telegram does.
    pub fn parse(s: &str) -> Option<ParseMode> {
        match s.to_ascii_lowercase().as_str() {
            "html" => Some(ParseMode::Html),
            "markdownv2" => Some(ParseMode::MarkdownV2),
            "markdown" => Some(ParseMode::Markdown),
            _ => None,
        }
    }
}

impl fmt::Display for ParseMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The characters MarkdownV2 reserves outside entities.
pub const MARKDOWN_V2_RESERVED: &str = "_*[]()~`>#+-=|{}.!";

/// Escapes text for HTML mode: `&`, `<`, `>` and `"` (so it is safe in an attribute too).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for MarkdownV2 outside entities: `\` before every reserved character and `\`.
pub fn escape_markdown_v2(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for c in text.chars() {
        if c == '\\' || MARKDOWN_V2_RESERVED.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes text for inside a MarkdownV2 `code` or `pre` entity: only `` ` `` and `\`.
pub fn escape_markdown_v2_code(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '`' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes a URL for inside a MarkdownV2 inline link's `(...)`: only `)` and `\`.
pub fn escape_markdown_v2_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if c == ')' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Length in UTF-16 code units, Telegram's unit for lengths and offsets.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// A formatting entity found while parsing (offsets and lengths in UTF-16 code units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedEntity {
    /// `bold`, `italic`, `underline`, `strikethrough`, `spoiler`, `code`, `pre`, `text_link`,
    /// `blockquote`, `custom_emoji`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Start.
    pub offset: usize,
    /// Length.
    pub length: usize,
    /// The link of a `text_link`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Why Telegram would refuse a text with "Bad Request: can't parse entities: …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Telegram's wording of the problem.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

fn perr(message: String) -> ParseError {
    ParseError { message }
}

/// The text a reader sees and its entities, after parsing `text` in `mode` (`None`: plain text).
pub fn visible_text(text: &str, mode: Option<ParseMode>) -> Result<(String, Vec<ParsedEntity>), ParseError> {
    match mode {
        None => Ok((text.to_owned(), Vec::new())),
        Some(ParseMode::Html) => parse_html(text),
        Some(ParseMode::MarkdownV2) => parse_markdown_v2(text),
        Some(ParseMode::Markdown) => parse_markdown_legacy(text),
    }
}

/// The length Telegram checks against [`MAX_TEXT_UTF16`]. A text that does not parse is measured as
/// written (parsing never makes a text longer, so this never refuses a text Telegram would take).
pub fn visible_len(text: &str, mode: Option<ParseMode>) -> usize {
    match visible_text(text, mode) {
        Ok((t, _)) => utf16_len(&t),
        Err(_) => utf16_len(text),
    }
}

struct Open {
    kind: &'static str,
    tag: String,
    start: usize,
    byte: usize,
    url: Option<String>,
}

const HTML_TAGS: &[(&str, &str)] = &[
    ("b", "bold"),
    ("strong", "bold"),
    ("i", "italic"),
    ("em", "italic"),
    ("u", "underline"),
    ("ins", "underline"),
    ("s", "strikethrough"),
    ("strike", "strikethrough"),
    ("del", "strikethrough"),
    ("span", "spoiler"),
    ("tg-spoiler", "spoiler"),
    ("a", "text_link"),
    ("code", "code"),
    ("pre", "pre"),
    ("blockquote", "blockquote"),
    ("tg-emoji", "custom_emoji"),
];

fn attr(attrs: &str, name: &str) -> Option<String> {
    let i = attrs.find(&format!("{name}="))?;
    let rest = &attrs[i + name.len() + 1..];
    let (q, rest) = match rest.chars().next()? {
        '"' => ('"', &rest[1..]),
        '\'' => ('\'', &rest[1..]),
        _ => (' ', rest),
    };
    let end = rest.find(q).unwrap_or(rest.len());
    Some(decode_html_entities(&rest[..end]))
}

fn decode_html_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        match decode_entity(tail) {
            Some((c, used)) => {
                out.push(c);
                rest = &tail[used..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes `&lt;`, `&gt;`, `&amp;`, `&quot;`, `&#N;` and `&#xH;` at the start of `s`.
fn decode_entity(s: &str) -> Option<(char, usize)> {
    let end = s.get(..12.min(s.len()))?.find(';')?;
    let name = &s[1..end];
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let n = name.strip_prefix('#')?;
            let code = match n.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

fn parse_html(text: &str) -> Result<(String, Vec<ParsedEntity>), ParseError> {
    let mut out = String::with_capacity(text.len());
    let mut len16 = 0usize;
    let mut stack: Vec<Open> = Vec::new();
    let mut entities = Vec::new();
    let mut i = 0usize;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let Some(close) = text[i..].find('>') else {
                    return Err(perr(format!("Unclosed start tag at byte offset {i}")));
                };
                let inner = &text[i + 1..i + close];
                if let Some(name) = inner.strip_prefix('/') {
                    let name = name.trim().to_ascii_lowercase();
                    match stack.pop() {
                        Some(open) if open.tag == name => {
                            if len16 > open.start {
                                entities.push(ParsedEntity {
                                    kind: open.kind.to_owned(),
                                    offset: open.start,
                                    length: len16 - open.start,
                                    url: open.url,
                                });
                            }
                        }
                        Some(open) => {
                            return Err(perr(format!(
                                "Unmatched end tag at byte offset {i}, expected \"</{}>\", found \"</{name}>\"",
                                open.tag
                            )));
                        }
                        None => return Err(perr(format!("Unexpected end tag at byte offset {i}"))),
                    }
                } else {
                    let (name, attrs) = match inner.find(char::is_whitespace) {
                        Some(p) => (&inner[..p], &inner[p..]),
                        None => (inner, ""),
                    };
                    let name = name.to_ascii_lowercase();
                    let Some((_, kind)) = HTML_TAGS.iter().find(|(t, _)| *t == name) else {
                        return Err(perr(format!("Unsupported start tag \"{name}\" at byte offset {i}")));
                    };
                    if name == "span" && attr(attrs, "class").as_deref() != Some("tg-spoiler") {
                        return Err(perr(format!(
                            "Tag \"span\" must have class \"tg-spoiler\" at byte offset {i}"
                        )));
                    }
                    let url = if name == "a" { attr(attrs, "href") } else { None };
                    stack.push(Open {
                        kind,
                        tag: name,
                        start: len16,
                        byte: i,
                        url,
                    });
                }
                i += close + 1;
            }
            b'&' => match decode_entity(&text[i..]) {
                Some((c, used)) => {
                    out.push(c);
                    len16 += c.len_utf16();
                    i += used;
                }
                None => {
                    out.push('&');
                    len16 += 1;
                    i += 1;
                }
            },
            _ => {
                let Some(c) = text[i..].chars().next() else { break };
                out.push(c);
                len16 += c.len_utf16();
                i += c.len_utf8();
            }
        }
    }
    if let Some(open) = stack.pop() {
        return Err(perr(format!(
            "Can't find end tag corresponding to start tag \"{}\" (byte offset {})",
            open.tag, open.byte
        )));
    }
    entities.sort_by_key(|e| e.offset);
    Ok((out, entities))
}

fn markdown_entity_name(kind: &str) -> &'static str {
    match kind {
        "bold" => "Bold",
        "italic" => "Italic",
        "underline" => "Underline",
        "strikethrough" => "Strikethrough",
        "spoiler" => "Spoiler",
        "code" => "Code",
        "pre" => "Pre",
        "text_link" => "TextUrl",
        _ => "entity",
    }
}

fn parse_markdown_v2(text: &str) -> Result<(String, Vec<ParsedEntity>), ParseError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut len16 = 0usize;
    let mut stack: Vec<Open> = Vec::new();
    let mut entities = Vec::new();
    let mut line_start = true;
    let mut k = 0usize;
    let push = |out: &mut String, len16: &mut usize, c: char| {
        out.push(c);
        *len16 += c.len_utf16();
    };
    let toggle = |stack: &mut Vec<Open>,
                  entities: &mut Vec<ParsedEntity>,
                  kind: &'static str,
                  tag: &str,
                  len16: usize,
                  byte: usize| {
        if stack.last().is_some_and(|o| o.tag == tag) {
            if let Some(open) = stack.pop()
                && len16 > open.start
            {
                entities.push(ParsedEntity {
                    kind: open.kind.to_owned(),
                    offset: open.start,
                    length: len16 - open.start,
                    url: None,
                });
            }
        } else {
            stack.push(Open {
                kind,
                tag: tag.to_owned(),
                start: len16,
                byte,
                url: None,
            });
        }
    };
    while k < chars.len() {
        let (byte, c) = chars[k];
        let next = chars.get(k + 1).map(|&(_, c)| c);
        let in_code = stack.last().is_some_and(|o| o.tag == "`" || o.tag == "```");
        if c == '\\' {
            match next {
                Some(n) if (n as u32) >= 1 && (n as u32) <= 126 => {
                    push(&mut out, &mut len16, n);
                    k += 2;
                    line_start = n == '\n';
                    continue;
                }
                _ => {
                    return Err(perr(format!(
                        "Character '\\' is reserved and must be escaped with the preceding '\\' (byte offset {byte})"
                    )));
                }
            }
        }
        if in_code {
            let closing_pre = c == '`' && next == Some('`') && chars.get(k + 2).map(|&(_, c)| c) == Some('`');
            if stack.last().is_some_and(|o| o.tag == "```") {
                if closing_pre {
                    toggle(&mut stack, &mut entities, "pre", "```", len16, byte);
                    k += 3;
                } else {
                    push(&mut out, &mut len16, c);
                    k += 1;
                }
            } else if c == '`' {
                toggle(&mut stack, &mut entities, "code", "`", len16, byte);
                k += 1;
            } else {
                push(&mut out, &mut len16, c);
                k += 1;
            }
            line_start = c == '\n';
            continue;
        }
        let was_line_start = line_start;
        line_start = c == '\n';
        match c {
            '`' if next == Some('`') && chars.get(k + 2).map(|&(_, c)| c) == Some('`') => {
                toggle(&mut stack, &mut entities, "pre", "```", len16, byte);
                k += 3;
                // An optional language name runs to the end of the opening line.
                let mut j = k;
                while j < chars.len() && chars[j].1 != '\n' && !chars[j].1.is_whitespace() {
                    j += 1;
                }
                if j < chars.len() && chars[j].1 == '\n' {
                    k = j + 1;
                }
            }
            '`' => {
                toggle(&mut stack, &mut entities, "code", "`", len16, byte);
                k += 1;
            }
            '*' => {
                toggle(&mut stack, &mut entities, "bold", "*", len16, byte);
                k += 1;
            }
            '_' if next == Some('_') => {
                toggle(&mut stack, &mut entities, "underline", "__", len16, byte);
                k += 2;
            }
            '_' => {
                toggle(&mut stack, &mut entities, "italic", "_", len16, byte);
                k += 1;
            }
            '~' => {
                toggle(&mut stack, &mut entities, "strikethrough", "~", len16, byte);
                k += 1;
            }
            '|' if next == Some('|') => {
                toggle(&mut stack, &mut entities, "spoiler", "||", len16, byte);
                k += 2;
            }
            '!' if next == Some('[') => {
                stack.push(Open {
                    kind: "custom_emoji",
                    tag: "[".into(),
                    start: len16,
                    byte,
                    url: None,
                });
                k += 2;
            }
            '[' => {
                stack.push(Open {
                    kind: "text_link",
                    tag: "[".into(),
                    start: len16,
                    byte,
                    url: None,
                });
                k += 1;
            }
            ']' if stack.last().is_some_and(|o| o.tag == "[") && next == Some('(') => {
                // The URL runs to the first unescaped ')'.
                let mut url = String::new();
                let mut j = k + 2;
                let mut closed = false;
                while j < chars.len() {
                    match chars[j].1 {
                        '\\' if j + 1 < chars.len() => {
                            url.push(chars[j + 1].1);
                            j += 2;
                        }
                        ')' => {
                            closed = true;
                            j += 1;
                            break;
                        }
                        ch => {
                            url.push(ch);
                            j += 1;
                        }
                    }
                }
                if !closed {
                    return Err(perr(format!(
                        "Can't find end of a url at byte offset {}",
                        chars[k + 1].0
                    )));
                }
                if let Some(open) = stack.pop()
                    && len16 > open.start
                {
                    entities.push(ParsedEntity {
                        kind: open.kind.to_owned(),
                        offset: open.start,
                        length: len16 - open.start,
                        url: Some(url),
                    });
                }
                k = j;
            }
            '>' if was_line_start => {
                // A blockquote line marker.
                k += 1;
                line_start = false;
            }
            c if MARKDOWN_V2_RESERVED.contains(c) => {
                return Err(perr(format!(
                    "Character '{c}' is reserved and must be escaped with the preceding '\\'"
                )));
            }
            c => {
                push(&mut out, &mut len16, c);
                k += 1;
            }
        }
    }
    if let Some(open) = stack.pop() {
        return Err(perr(format!(
            "Can't find end of {} entity at byte offset {}",
            markdown_entity_name(open.kind),
            open.byte
        )));
    }
    entities.sort_by_key(|e| e.offset);
    Ok((out, entities))
}

/// Legacy Markdown: `*bold*`, `_italic_`, `` `code` ``, ```` ```pre``` ````, `[text](url)`; anything
/// else is literal.
fn parse_markdown_legacy(text: &str) -> Result<(String, Vec<ParsedEntity>), ParseError> {
    let mut out = String::with_capacity(text.len());
    let mut len16 = 0usize;
    let mut entities = Vec::new();
    let mut rest = text;
    let mut byte = 0usize;
    while let Some(c) = rest.chars().next() {
        let (marker, kind) = match c {
            '*' => ("*", "bold"),
            '_' => ("_", "italic"),
            '`' if rest.starts_with("```") => ("```", "pre"),
            '`' => ("`", "code"),
            '[' => ("]", "text_link"),
            _ => {
                out.push(c);
                len16 += c.len_utf16();
                rest = &rest[c.len_utf8()..];
                byte += c.len_utf8();
                continue;
            }
        };
        let open_len = if marker == "```" { 3 } else { 1 };
        let body = &rest[open_len..];
        let Some(end) = body.find(marker) else {
            return Err(perr(format!(
                "Can't find end of the entity starting at byte offset {byte}"
            )));
        };
        let inner = &body[..end];
        let mut used = open_len + end + marker.len();
        let mut url = None;
        if kind == "text_link" {
            let after = &body[end + 1..];
            if let Some(u) = after.strip_prefix('(')
                && let Some(close) = u.find(')')
            {
                url = Some(u[..close].to_owned());
                used += close + 2;
            }
        }
        let start = len16;
        out.push_str(inner);
        len16 += utf16_len(inner);
        if len16 > start {
            entities.push(ParsedEntity {
                kind: kind.to_owned(),
                offset: start,
                length: len16 - start,
                url,
            });
        }
        rest = &rest[used..];
        byte += used;
    }
    Ok((out, entities))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_makes_any_text_parse_back_to_itself() {
        let nasty = r"Price: 1.5*2 = 3! (50% off) [a](b) _x_ ~y~ `z` |w| #1 +{}= > \ <b>&amp;";
        let md = escape_markdown_v2(nasty);
        assert_eq!(visible_text(&md, Some(ParseMode::MarkdownV2)).unwrap().0, nasty);
        let html = escape_html(nasty);
        assert_eq!(visible_text(&html, Some(ParseMode::Html)).unwrap().0, nasty);
    }

    #[test]
    fn unescaped_reserved_characters_are_refused_like_telegram_does() {
        let e = visible_text("Order 72 shipped.", Some(ParseMode::MarkdownV2)).unwrap_err();
        assert_eq!(
            e.message,
            "Character '.' is reserved and must be escaped with the preceding '\\'"
        );
        assert!(
            visible_text("*bold", Some(ParseMode::MarkdownV2))
                .unwrap_err()
                .message
                .contains("Bold")
        );
        assert!(visible_text("<b>x", Some(ParseMode::Html)).is_err());
        assert!(visible_text("<b>x</i>", Some(ParseMode::Html)).is_err());
        assert!(
            visible_text("<script>x</script>", Some(ParseMode::Html))
                .unwrap_err()
                .message
                .contains("Unsupported")
        );
        assert!(visible_text("a < b", Some(ParseMode::Html)).is_err());
    }

    #[test]
    fn entities_and_lengths_are_in_utf16() {
        let (t, e) = visible_text(
            "<b>hi</b> 👍 <a href=\"https://x.y/?a=1&amp;b=2\">link</a>",
            Some(ParseMode::Html),
        )
        .unwrap();
        assert_eq!(t, "hi 👍 link");
        assert_eq!(utf16_len(&t), 10);
        assert_eq!(
            e[0],
            ParsedEntity {
                kind: "bold".into(),
                offset: 0,
                length: 2,
                url: None
            }
        );
        assert_eq!(e[1].offset, 6);
        assert_eq!(e[1].url.as_deref(), Some("https://x.y/?a=1&b=2"));

        let (t, e) = visible_text(
            "*bold* _it_ __u__ ~s~ ||sp|| `c\\`` [l](https://x.y/a\\)b)",
            Some(ParseMode::MarkdownV2),
        )
        .unwrap();
        assert_eq!(t, "bold it u s sp c` l");
        let kinds: Vec<&str> = e.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "bold",
                "italic",
                "underline",
                "strikethrough",
                "spoiler",
                "code",
                "text_link"
            ]
        );
        assert_eq!(e[6].url.as_deref(), Some("https://x.y/a)b"));

        let (t, _) = visible_text("```rust\nlet x = 1;\n```", Some(ParseMode::MarkdownV2)).unwrap();
        assert_eq!(t, "let x = 1;\n");
        let (t, _) = visible_text("*b* _i_ [t](u)", Some(ParseMode::Markdown)).unwrap();
        assert_eq!(t, "b i t");
    }

    #[test]
    fn visible_len_counts_after_parsing() {
        let tags = format!("<b>{}</b>", "a".repeat(4096));
        assert_eq!(visible_len(&tags, Some(ParseMode::Html)), 4096);
        assert_eq!(visible_len(&"😀".repeat(2049), None), 4098);
        assert_eq!(visible_len("<b>unclosed", Some(ParseMode::Html)), 11);
    }

    #[test]
    fn hostile_input_never_panics() {
        for s in [
            "<",
            "&",
            "&#",
            "&#x;",
            "&#99999999999;",
            "\\",
            "[",
            "[a](",
            "```",
            "`",
            "<a href=",
            "<a href=\"",
            "!",
            "![",
            "é<é",
            "<b\u{0}>",
        ] {
            for m in [ParseMode::Html, ParseMode::MarkdownV2, ParseMode::Markdown] {
                let _ = visible_text(s, Some(m));
            }
        }
    }
}

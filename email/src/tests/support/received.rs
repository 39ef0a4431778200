//! What the SMTP sink accepted: the SMTP envelope, and the message as an independent MIME parser
//! (`mail-parser`, not lettre, which wrote it) reads it: decoded headers and every leaf MIME part.

use std::borrow::Cow;
use std::net::SocketAddr;

use mail_parser::{Address, MessageParser, MimeHeaders};

/// One message the sink accepted after the final dot.
#[derive(Debug, Clone)]
pub struct Received {
    /// The MAIL FROM reverse path.
    pub mail_from: String,
    /// The RCPT TO forward paths the sink accepted, in order.
    pub rcpt_tos: Vec<String>,
    /// The MAIL FROM parameters as sent (`BODY=8BITMIME`, `SMTPUTF8`).
    pub mail_options: Vec<String>,
    /// The user the session authenticated as, if it did.
    pub auth_login: Option<String>,
    /// The client's address: one per connection, so equal peers mean one reused connection.
    pub peer: SocketAddr,
    /// Header values, decoded (RFC 2047 encoded words read back); addresses as `Name <addr>`, joined
    /// by ", ".
    pub subject: Option<String>,
    /// The From header.
    pub from: Option<String>,
    /// The To header.
    pub to: Option<String>,
    /// The Cc header.
    pub cc: Option<String>,
    /// The Bcc header (never sent: Bcc recipients are envelope-only).
    pub bcc: Option<String>,
    /// The Reply-To header.
    pub reply_to: Option<String>,
    /// The Message-ID header as written, angle brackets included.
    pub message_id: Option<String>,
    /// The Date header, parsed, in RFC 3339 (`None` if missing or unparseable).
    pub date: Option<String>,
    /// The MIME-Version header as written.
    pub mime_version: Option<String>,
    /// The top-level content type, lower case, `text/plain` when there is none (RFC 2045 §5.2).
    pub content_type: String,
    /// Whether every byte of the message is 7-bit (no 8BITMIME needed).
    pub is_7bit: bool,
    /// The leaf MIME parts, in order (multipart containers are walked, not listed).
    pub parts: Vec<Part>,
}

/// One leaf MIME part.
#[derive(Debug, Clone)]
pub struct Part {
    /// The content type, lower case (`text/plain` when the part has none).
    pub content_type: String,
    /// The file name (Content-Disposition `filename`, else Content-Type `name`), decoded.
    pub filename: Option<String>,
    /// The disposition type, lower case (`attachment`, `inline`).
    pub disposition: Option<String>,
    /// The charset parameter, lower case.
    pub charset: Option<String>,
    /// The body with its transfer encoding (base64, quoted-printable) undone. Text parts are
    /// decoded from their charset to UTF-8.
    pub bytes: Vec<u8>,
}

/// The SMTP side of one accepted message, as the server saw it (see [`Received`]'s fields).
pub struct Envelope {
    /// The MAIL FROM reverse path.
    pub mail_from: String,
    /// The accepted RCPT TO forward paths.
    pub rcpt_tos: Vec<String>,
    /// The MAIL FROM parameters.
    pub mail_options: Vec<String>,
    /// The authenticated user.
    pub auth_login: Option<String>,
    /// The client's address.
    pub peer: SocketAddr,
}

impl Received {
    /// Reads `raw` with mail-parser; `None` if it is not a message at all.
    pub fn parse(envelope: Envelope, raw: Vec<u8>) -> Option<Received> {
        let msg = MessageParser::default().parse(&raw)?;
        let addresses = |a: Option<&Address<'_>>| a.map(format_addresses);
        let raw_header = |name: &'static str| msg.header_raw(name).map(unfold);
        let parts = msg
            .parts
            .iter()
            .filter(|p| !p.is_multipart())
            .map(|p| Part {
                content_type: content_type(p.content_type()),
                filename: p.attachment_name().map(str::to_owned),
                disposition: p.content_disposition().map(|d| d.ctype().to_ascii_lowercase()),
                charset: p
                    .content_type()
                    .and_then(|c| c.attribute("charset"))
                    .map(str::to_ascii_lowercase),
                bytes: p.contents().to_vec(),
            })
            .collect();
        Some(Received {
            mail_from: envelope.mail_from,
            rcpt_tos: envelope.rcpt_tos,
            mail_options: envelope.mail_options,
            auth_login: envelope.auth_login,
            peer: envelope.peer,
            subject: msg.subject().map(str::to_owned),
            from: addresses(msg.from()),
            to: addresses(msg.to()),
            cc: addresses(msg.cc()),
            bcc: addresses(msg.bcc()),
            reply_to: addresses(msg.reply_to()),
            message_id: raw_header("Message-ID"),
            date: msg.date().map(|d| d.to_rfc3339()),
            mime_version: raw_header("MIME-Version"),
            content_type: content_type(msg.root_part().content_type()),
            is_7bit: raw.is_ascii(),
            parts,
        })
    }

    /// The first leaf part of this content type; panics (failing the test) with the message's parts
    /// if there is none.
    pub fn part(&self, content_type: &str) -> &Part {
        self.parts
            .iter()
            .find(|p| p.content_type == content_type)
            .unwrap_or_else(|| panic!("no {content_type} part in {:?}", self.parts))
    }
}

impl Part {
    /// The decoded body as UTF-8 text; panics (failing the test) if it is not.
    pub fn text(&self) -> String {
        String::from_utf8(self.bytes.clone()).expect("the part decodes to UTF-8")
    }
}

fn content_type(ct: Option<&mail_parser::ContentType<'_>>) -> String {
    match ct {
        Some(ct) => format!(
            "{}/{}",
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or_default().to_ascii_lowercase()
        ),
        None => "text/plain".into(),
    }
}

fn format_addresses(a: &Address<'_>) -> String {
    a.iter()
        .map(|addr| {
            let name = addr.name.as_deref().filter(|n| !n.is_empty());
            match (name, addr.address.as_deref()) {
                (Some(n), Some(a)) => format!("{n} <{a}>"),
                (None, Some(a)) => a.to_owned(),
                (Some(n), None) => n.to_owned(),
                (None, None) => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A raw header value unfolded (RFC 5322 §2.2.3: a CRLF before white space is removed) and trimmed.
fn unfold(raw: &str) -> String {
    let unfolded: Cow<'_, str> = if raw.contains("\r\n") {
        raw.replace("\r\n", "").into()
    } else {
        raw.into()
    };
    unfolded.trim().to_owned()
}

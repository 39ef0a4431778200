//! What is mailed: [`Email`] (addresses, subject, plain and HTML alternatives, attachments) and the
//! MIME message it becomes.
//!
//! The MIME shape is the one mail clients expect: `multipart/mixed` (only when there are
//! attachments) around `multipart/alternative` (only when there is HTML) of `text/plain` and
//! `text/html`. Subjects and names outside ASCII are encoded (RFC 2047) and bodies are
//! quoted-printable or base64 as lettre chooses, so the message is 7-bit clean. The `Message-ID` is
//! derived from switchboard's message id, so a retried send carries the same id and receivers can
//! tell it is one message.

use std::fmt;

use bytes::Bytes;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart, SinglePart};
use switchboard_core::{Attachment, Error, Result};

use crate::SCHEME;

/// One email to one or more recipients.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Email {
    /// `From`; the client's default when `None`.
    pub from: Option<String>,
    /// `To` recipients (`name@domain` or `Name <name@domain>`).
    pub to: Vec<String>,
    /// `Cc` recipients.
    pub cc: Vec<String>,
    /// Blind copies: in the envelope, never in the headers.
    pub bcc: Vec<String>,
    /// `Reply-To`.
    pub reply_to: Option<String>,
    /// `Subject` (any Unicode).
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML alternative.
    pub html: Option<String>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// The `Message-ID` without angle brackets (`id@domain`); generated when `None`.
    pub message_id: Option<String>,
}

/// Debug shows counts, not addresses or content.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to.len())
            .field("cc", &self.cc.len())
            .field("bcc", &self.bcc.len())
            .field("html", &self.html.is_some())
            .field("attachments", &self.attachments)
            .field("message_id", &self.message_id)
            .finish_non_exhaustive()
    }
}

impl Email {
    /// An email to one recipient.
    pub fn new(to: impl Into<String>, subject: impl Into<String>, text: impl Into<String>) -> Self {
        Email {
            to: vec![to.into()],
            subject: subject.into(),
            text: text.into(),
            ..Self::default()
        }
    }

    /// Sets the sender.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Sets the HTML alternative.
    pub fn html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Adds an attachment.
    pub fn attach(
        mut self,
        filename: impl Into<String>,
        content_type: impl Into<String>,
        content: impl Into<Bytes>,
    ) -> Self {
        self.attachments.push(Attachment {
            filename: filename.into(),
            content_type: content_type.into(),
            content: content.into(),
        });
        self
    }

    /// Adds a `Cc`.
    pub fn cc(mut self, addr: impl Into<String>) -> Self {
        self.cc.push(addr.into());
        self
    }

    /// Adds a `Bcc`.
    pub fn bcc(mut self, addr: impl Into<String>) -> Self {
        self.bcc.push(addr.into());
        self
    }

    /// Sets `Reply-To`.
    pub fn reply_to(mut self, addr: impl Into<String>) -> Self {
        self.reply_to = Some(addr.into());
        self
    }

    /// Builds the MIME message, `From` defaulting to `default_from`. Address and content-type
    /// mistakes are `InvalidInput` errors naming the field, not the address.
    pub fn to_mime(&self, default_from: Option<&str>) -> Result<lettre::Message> {
        let from = self.from.as_deref().or(default_from).ok_or_else(|| {
            invalid("the email has no From: set one on the message or a default 'from' in the config")
        })?;
        let mut b = lettre::Message::builder().from(mailbox(from, "From")?);
        if self.to.is_empty() && self.cc.is_empty() && self.bcc.is_empty() {
            return Err(invalid("the email has no recipient"));
        }
        for t in &self.to {
            b = b.to(mailbox(t, "To")?);
        }
        for c in &self.cc {
            b = b.cc(mailbox(c, "Cc")?);
        }
        for c in &self.bcc {
            b = b.bcc(mailbox(c, "Bcc")?);
        }
        if let Some(r) = &self.reply_to {
            b = b.reply_to(mailbox(r, "Reply-To")?);
        }
        if self.subject.contains(['\r', '\n']) {
            return Err(invalid("the subject contains a line break"));
        }
        b = b.subject(self.subject.clone());
        let id = self
            .message_id
            .clone()
            .unwrap_or_else(|| message_id_for(&switchboard_core::MessageId::random(), from));
        b = b.message_id(Some(format!("<{}>", id.trim_start_matches('<').trim_end_matches('>'))));

        let plain = || SinglePart::plain(self.text.clone());
        let message = match (&self.html, self.attachments.is_empty()) {
            (None, true) => b.singlepart(plain()),
            (Some(html), true) => b.multipart(MultiPart::alternative_plain_html(self.text.clone(), html.clone())),
            (html, false) => {
                let mut mixed = match html {
                    Some(h) => {
                        MultiPart::mixed().multipart(MultiPart::alternative_plain_html(self.text.clone(), h.clone()))
                    }
                    None => MultiPart::mixed().singlepart(plain()),
                };
                for a in &self.attachments {
                    let ct = ContentType::parse(&a.content_type).map_err(|_| {
                        invalid(format!(
                            "the attachment '{}' has an invalid content type",
                            a.filename.escape_debug()
                        ))
                    })?;
                    mixed = mixed.singlepart(MimeAttachment::new(a.filename.clone()).body(a.content.to_vec(), ct));
                }
                b.multipart(mixed)
            }
        };
        message.map_err(|e| invalid("the email could not be built").with_source(e))
    }
}

fn invalid(msg: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::invalid_input(msg).with_provider(SCHEME)
}

fn mailbox(s: &str, field: &str) -> Result<Mailbox> {
    s.trim()
        .parse::<Mailbox>()
        .map_err(|_| invalid(format!("the {field} address is not a valid email address")))
}

/// The `Message-ID` (without brackets) for a switchboard message sent from `from`: the message id
/// made safe for the local part, `@`, the sender's domain.
pub fn message_id_for(id: &switchboard_core::MessageId, from: &str) -> String {
    let mut local = String::new();
    for b in id.as_str().bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
            local.push(b as char);
        } else {
            local.push_str(&format!("={b:02X}"));
        }
    }
    let domain = from
        .parse::<Mailbox>()
        .ok()
        .map(|m| m.email.domain().to_owned())
        .unwrap_or_else(|| "switchboard.invalid".to_owned());
    format!("{local}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_shapes() {
        let plain = Email::new("a@b.example", "Hi", "text")
            .from("s@shop.example")
            .to_mime(None)
            .unwrap();
        let raw = String::from_utf8(plain.formatted()).unwrap();
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        assert!(!raw.contains("multipart"));

        let alt = Email::new("a@b.example", "Hi", "text")
            .html("<b>x</b>")
            .to_mime(Some("s@shop.example"))
            .unwrap();
        let raw = String::from_utf8(alt.formatted()).unwrap();
        assert!(
            raw.contains("multipart/alternative") && !raw.contains("multipart/mixed"),
            "{raw}"
        );

        let all = Email::new("a@b.example", "Счёт №72", "текст")
            .html("<p>x</p>")
            .attach("invoice.pdf", "application/pdf", &b"%PDF-1.4"[..])
            .bcc("audit@shop.example")
            .to_mime(Some("Shop <s@shop.example>"))
            .unwrap();
        let raw = String::from_utf8(all.formatted()).unwrap();
        assert!(raw.contains("multipart/mixed") && raw.contains("multipart/alternative"));
        assert!(raw.is_ascii(), "7-bit clean");
        assert!(!raw.contains("audit@"), "Bcc never in the headers");
        assert_eq!(all.envelope().to().len(), 2);
    }

    #[test]
    fn bad_input_is_named_without_the_address() {
        let e = Email::new("not an address", "s", "t")
            .to_mime(Some("s@shop.example"))
            .unwrap_err();
        assert!(e.to_string().contains("To") && !e.to_string().contains("not an address"));
        assert!(Email::new("a@b.example", "s", "t").to_mime(None).is_err());
        assert!(
            Email::new("a@b.example", "s\r\nBcc: x@y.z", "t")
                .to_mime(Some("s@shop.example"))
                .is_err()
        );
        let bad_ct = Email::new("a@b.example", "s", "t").attach("f", "not a type", &b""[..]);
        assert!(bad_ct.to_mime(Some("s@shop.example")).is_err());
    }

    #[test]
    fn message_ids_follow_the_switchboard_id() {
        let id = switchboard_core::MessageId::new("order 72/a").unwrap();
        assert_eq!(
            message_id_for(&id, "Shop <s@shop.example>"),
            "order=2072=2Fa@shop.example"
        );
        let m = Email {
            message_id: Some("x1@shop.example".into()),
            ..Email::new("a@b.example", "s", "t")
        };
        let raw = String::from_utf8(m.to_mime(Some("s@shop.example")).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <x1@shop.example>"), "{raw}");
    }
}

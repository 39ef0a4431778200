//! What is sent and what comes back: [`Message`], [`Recipient`], [`Receipt`], [`DeliveryStatus`] and
//! the events providers push ([`Event`]).
//!
//! Every normalised value keeps the provider's raw one beside it, so nothing a provider says is lost
//! to the mapping.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::phone::PhoneNumber;
use crate::segment::Segmentation;
use crate::store::{Fingerprint, MessageKey};

mod event;
mod receipt;

pub use event::{CallEvent, CallState, Event, InboundMessage, PaymentEvent};
pub use receipt::{DeliveryStatus, Receipt, StatusReport};

/// Who a message goes to.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Recipient {
    /// A phone, for SMS and calls.
    Phone(PhoneNumber),
    /// An email address.
    Email(String),
    /// A device's push registration token (FCM).
    PushToken(String),
    /// A push topic all subscribed devices receive.
    PushTopic(String),
    /// A chat (a Telegram chat id or `@channel`).
    Chat(String),
}

impl Recipient {
    /// An email recipient, checked for the shape `local@domain` (deliverability is the server's
    /// business).
    pub fn email(address: impl Into<String>) -> Result<Recipient> {
        let a = address.into();
        let a = a.trim();
        match a.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !a
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
                    && !domain.contains('@') =>
            {
                Ok(Recipient::Email(a.to_owned()))
            }
            _ => Err(Error::invalid_input(
                "the email address is not of the form name@domain.tld",
            )),
        }
    }

    /// The kind of recipient as a word (`"phone"`, `"email"`…).
    pub fn kind(&self) -> &'static str {
        match self {
            Recipient::Phone(_) => "phone",
            Recipient::Email(_) => "email",
            Recipient::PushToken(_) => "push token",
            Recipient::PushTopic(_) => "push topic",
            Recipient::Chat(_) => "chat",
        }
    }

    /// The phone number, if this is a phone recipient.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        match self {
            Recipient::Phone(p) => Some(p),
            _ => None,
        }
    }

    /// The address as the provider takes it, for storage and the wire: the E.164 number, the email
    /// address, the token, the topic or the chat id. (`Recipient` has no `Display`, like
    /// [`PhoneNumber`]: a host picks [`address`](Recipient::address) to keep it or
    /// [`masked`](Recipient::masked) to log it.)
    pub fn address(&self) -> &str {
        match self {
            Recipient::Phone(p) => p.as_e164(),
            Recipient::Email(s) | Recipient::PushToken(s) | Recipient::PushTopic(s) | Recipient::Chat(s) => s,
        }
    }

    /// The recipient in a form safe for logs: numbers and addresses masked, tokens shortened.
    pub fn masked(&self) -> String {
        match self {
            Recipient::Phone(p) => p.masked(),
            Recipient::Email(e) => match e.split_once('@') {
                Some((l, d)) => format!("{}***@{d}", l.chars().next().unwrap_or('*')),
                None => "***".to_owned(),
            },
            Recipient::PushToken(t) => format!("token:{}…", t.chars().take(6).collect::<String>()),
            Recipient::PushTopic(t) => format!("topic:{t}"),
            Recipient::Chat(c) => format!("chat:{}", mask_tail(c)),
        }
    }
}

fn mask_tail(s: &str) -> String {
    let n = s.chars().count();
    let keep = n.saturating_sub(n / 2).min(4);
    s.chars().take(keep).chain(std::iter::repeat_n('*', n - keep)).collect()
}

impl From<PhoneNumber> for Recipient {
    fn from(p: PhoneNumber) -> Self {
        Recipient::Phone(p)
    }
}

/// Debug shows the masked form: recipients are personal data and end up in logs.
impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({})", self.masked())
    }
}

/// A file attached to an email. Serialised with its content in base64, so a message with
/// attachments can wait in an outbox.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file name shown to the reader.
    pub filename: String,
    /// The MIME type (`application/pdf`).
    pub content_type: String,
    /// The content.
    #[serde(with = "base64_bytes")]
    pub content: Bytes,
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map(Bytes::from)
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("bytes", &self.content.len())
            .finish()
    }
}

/// A unique id for one logical message, made when the message is made. It names the message in the
/// journal and is the seed of idempotency keys, so a retried send is recognisable as the same one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    /// A fresh random id (128 bits, hex).
    pub fn random() -> Self {
        MessageId(format!("{:032x}", crate::random::u128()))
    }

    /// An id chosen by the caller (an order id, a row id). Empty ids are refused.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_control()) {
            return Err(Error::invalid_input(
                "a message id must be 1 to 128 printable characters",
            ));
        }
        Ok(MessageId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One message to one recipient, over whatever transport fits it.
///
/// Serialisable (an outbox keeps messages as JSON); the serialised form holds the full recipient and
/// text, so treat it as the personal data it is.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// Identifies this logical message across retries, failover and the journal.
    pub id: MessageId,
    /// The host's idempotency key: with a [`Store`](crate::store::Store) configured, a key already
    /// accepted is answered with its earlier receipt and never sent again, by any process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<MessageKey>,
    /// Who receives it.
    pub to: Recipient,
    /// The text (SMS text, email plain part, push body, chat text).
    pub text: String,
    /// A subject or title (email subject, push title).
    pub subject: Option<String>,
    /// An HTML alternative (email).
    #[serde(default)]
    pub html: Option<String>,
    /// The sender to show, when the transport allows choosing (an alphanumeric SMS sender, an email
    /// `From`); the transport's configured default otherwise.
    pub from: Option<String>,
    /// Attachments (email).
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Key/value data (push data payload, template parameters).
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// GSM-7 smart encoding for this message (see [`crate::segment::smart`]): `Some(true)` replaces
    /// look-alike punctuation when that makes the SMS cheaper, `Some(false)` never does, `None` follows
    /// the transport's setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smart_encoding: Option<bool>,
    /// A provider-side reference chosen before sending ([`Transport::prepare`](crate::Transport::prepare)),
    /// which the transport sends under (Dinstar's `user_id`). Set by the Messenger; hosts leave it alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Message {
    fn new(to: Recipient, text: impl Into<String>) -> Self {
        Message {
            id: MessageId::random(),
            key: None,
            to,
            text: text.into(),
            subject: None,
            html: None,
            from: None,
            attachments: Vec::new(),
            data: BTreeMap::new(),
            smart_encoding: None,
            reference: None,
        }
    }

    /// An SMS.
    pub fn sms(to: PhoneNumber, text: impl Into<String>) -> Self {
        Self::new(Recipient::Phone(to), text)
    }

    /// An email to `address` with a subject and a plain-text body. Fails (`InvalidInput`, nothing
    /// sent) when the address is not of the form `name@domain.tld`, as [`Recipient::email`] checks.
    ///
    /// ```
    /// # use switchboard_core::Message;
    /// let mail = Message::email("ana@example.al", "Order #72", "Shipped today.")?.with_html("<b>Shipped</b> today.");
    /// assert!(Message::email("not an address", "s", "t").is_err());
    /// # Ok::<(), switchboard_core::Error>(())
    /// ```
    pub fn email(address: impl Into<String>, subject: impl Into<String>, text: impl Into<String>) -> Result<Self> {
        Ok(Self::email_to(Recipient::email(address)?, subject, text))
    }

    /// An email to a recipient already checked by [`Recipient::email`].
    pub fn email_to(to: Recipient, subject: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(to, text).with_subject(subject)
    }

    /// A push notification to a device token or topic.
    pub fn push(to: Recipient, title: impl Into<String>, body: impl Into<String>) -> Self {
        Self::new(to, body).with_subject(title)
    }

    /// A chat message.
    pub fn chat(chat_id: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(Recipient::Chat(chat_id.into()), text)
    }

    /// Any message to any recipient.
    pub fn to(to: Recipient, text: impl Into<String>) -> Self {
        Self::new(to, text)
    }

    /// Sets the id (for example to the host's own row id, so the journal and idempotency keys follow it).
    pub fn with_id(mut self, id: MessageId) -> Self {
        self.id = id;
        self
    }

    /// Sets the idempotency key (see [`Message::key`]): the same key is sent at most once across
    /// retries, restarts and processes sharing a store.
    ///
    /// ```
    /// # use switchboard_core::{Message, MessageKey};
    /// let m = Message::sms("+355694123456".parse()?, "Your order 72 is on its way")
    ///     .with_key(MessageKey::new("order-72-shipped")?);
    /// assert_eq!(m.key.as_ref().map(MessageKey::as_str), Some("order-72-shipped"));
    /// # Ok::<(), switchboard_core::Error>(())
    /// ```
    pub fn with_key(mut self, key: MessageKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Turns GSM-7 smart encoding on or off for this message, whatever the transport's setting: curly
    /// quotes, dashes, the ellipsis and unusual spaces are replaced by their GSM-7 look-alikes when that
    /// makes the whole text GSM-7 (see [`crate::segment::smart`]).
    pub fn with_smart_encoding(mut self, on: bool) -> Self {
        self.smart_encoding = Some(on);
        self
    }

    /// The message as it goes out when smart encoding is `on` (the transport's setting, unless the
    /// message says otherwise): its text with look-alikes replaced where that makes it GSM-7. Only SMS
    /// are touched.
    pub fn smart_encoded(&self, on: bool) -> std::borrow::Cow<'_, Message> {
        use std::borrow::Cow;
        if !self.smart_encoding.unwrap_or(on) || !matches!(self.to, Recipient::Phone(_)) {
            return Cow::Borrowed(self);
        }
        match crate::segment::smart_gsm7(&self.text).text {
            Cow::Borrowed(_) => Cow::Borrowed(self),
            Cow::Owned(text) => {
                let mut m = self.clone();
                m.text = text;
                Cow::Owned(m)
            }
        }
    }

    /// A digest of who the message goes to and everything it says (not its id or key), so a store can
    /// tell a retry of the same message from a different message reusing a key.
    pub fn fingerprint(&self) -> Fingerprint {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut field = |tag: &str, value: &[u8]| {
            h.update(tag.as_bytes());
            h.update((value.len() as u64).to_be_bytes());
            h.update(value);
        };
        field("to", serde_json::to_string(&self.to).unwrap_or_default().as_bytes());
        field("text", self.text.as_bytes());
        field("subject", self.subject.as_deref().unwrap_or("\u{0}none").as_bytes());
        field("html", self.html.as_deref().unwrap_or("\u{0}none").as_bytes());
        field("from", self.from.as_deref().unwrap_or("\u{0}none").as_bytes());
        for (k, v) in &self.data {
            field("data-key", k.as_bytes());
            field("data-value", v.as_bytes());
        }
        for a in &self.attachments {
            field("file", a.filename.as_bytes());
            field("type", a.content_type.as_bytes());
            field("content", &Sha256::digest(&a.content));
        }
        Fingerprint(hex::encode(h.finalize()))
    }

    /// Sets the subject or title.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets the HTML alternative.
    pub fn with_html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Sets the sender.
    pub fn with_from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Adds an attachment.
    pub fn with_attachment(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Adds one data entry.
    pub fn with_data(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    /// How the text splits into SMS segments.
    pub fn segmentation(&self) -> Segmentation {
        Segmentation::of(&self.text)
    }
}

/// Debug leaves the text out (it is private correspondence) and masks the recipient.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("to", &self.to)
            .field("text_chars", &self.text.chars().count())
            .field("subject", &self.subject.as_ref().map(|_| "…"))
            .field("html", &self.html.is_some())
            .field("from", &self.from)
            .field("attachments", &self.attachments.len())
            .field("data_keys", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::price::Price;

    fn al() -> PhoneNumber {
        PhoneNumber::parse("+355694123456", None).unwrap()
    }

    #[test]
    fn debug_hides_text_number_and_address() {
        let m = Message::sms(al(), "secret code 1234");
        let d = format!("{m:?}");
        assert!(!d.contains("1234") && !d.contains("694123456"), "{d}");
        let e = Recipient::email("ana.hoxha@example.al").unwrap();
        assert!(!format!("{e:?} {}", e.masked()).contains("ana.hoxha"));
        assert_eq!(e.address(), "ana.hoxha@example.al");
        assert_eq!(Recipient::Phone(al()).address(), "+355694123456");
    }

    #[test]
    fn email_shape() {
        assert!(Recipient::email("a@b.co").is_ok());
        for bad in ["", "a", "a@b", "@b.co", "a@.co", "a b@c.de", "a@b.co>", "a@b@c.de"] {
            assert!(Recipient::email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn receipt_carries_segments_for_sms_only() {
        let m = Message::sms(al(), "hello");
        let r = Receipt::new("gsm", &m, "42");
        assert_eq!(r.segments.unwrap().segments, 1);
        assert_eq!(r.provider_id(), "42");
        let e = Message::email_to(Recipient::email("a@b.co").unwrap(), "s", "t");
        assert!(Receipt::new("mail", &e, "x").segments.is_none());
    }

    #[test]
    fn final_statuses() {
        assert!(DeliveryStatus::Delivered.is_final());
        assert!(!DeliveryStatus::Sent.is_final());
        assert!(DeliveryStatus::Rejected.is_failure());
    }

    #[test]
    fn inbound_and_call_debug_mask_numbers() {
        let m = InboundMessage::new("7", "+355694123456", "hello there").with_to("+355691111111");
        let d = format!("{m:?}");
        assert!(
            !d.contains("694123456") && !d.contains("hello") && !d.contains("691111111"),
            "{d}"
        );
        let c = CallEvent::new("c1", CallState::Answered, "answered")
            .with_from("919876543210")
            .with_to("+12015550123")
            .with_raw(serde_json::json!({"from": "919876543210"}));
        let d = format!("{c:?}");
        assert!(!d.contains("9876543210") && !d.contains("5550123"), "{d}");
    }

    #[test]
    fn status_reports_carry_price_segments_and_error_text() {
        let r = StatusReport::new("SM1", DeliveryStatus::Failed, "undelivered")
            .with_error_code(30003)
            .with_error_message("Unreachable handset +355694123456")
            .with_price(Price::new("0.0079", "USD").unwrap())
            .with_segments(2);
        let d = format!("{r:?}");
        assert!(
            d.contains("0.0079 USD") && d.contains("segments: Some(2)") && !d.contains("694123456"),
            "{d}"
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            (v["segments"].as_u64(), v["price"]["currency"].as_str()),
            (Some(2), Some("USD"))
        );
        assert_eq!(serde_json::from_value::<StatusReport>(v).unwrap(), r);
        // A report stored before these fields existed still reads.
        let old = serde_json::json!({"provider_id": "SM1", "status": "sent", "raw_status": "sent", "error_code": null,
            "recipient": null, "at": null, "raw": null});
        let back: StatusReport = serde_json::from_value(old).unwrap();
        assert_eq!((back.price, back.segments, back.error_message), (None, None, None));
    }

    #[test]
    fn message_ids() {
        assert_ne!(MessageId::random(), MessageId::random());
        assert!(MessageId::new("").is_err());
        assert!(MessageId::new("order-17").is_ok());
    }
}

//! Mitto's requests and answers as they are on the wire.
//!
//! Answers keep every field they carry: known ones are typed, the rest stay in `extra`. Requests and
//! answers hold phone numbers and message text, so their `Debug` masks numbers and leaves text out.
//! Where Mitto's documentation is unsure of a shape, the choice is made here, once, and says so.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{DeliveryStatus, Encoding, PhoneNumber, Segmentation};

use switchboard_core::secret::mask_middle as mask;

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    // `textLength` is a number, except in one doc example where it is the string " 13".
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// An optional id: a string, or a number read as its digits; anything else reads as absent.
fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// A required id: a string, or a number read as its digits.
fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("an id must be a string or a number")),
    }
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------------
// Legacy API
// ---------------------------------------------------------------------------------------------------

/// The legacy API's `type`: the character set of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SmsType {
    /// GSM 03.38 (the default when `type` is absent).
    #[serde(rename = "GSM")]
    Gsm,
    /// UCS-2.
    #[serde(rename = "Unicode")]
    Unicode,
    /// Binary, with a `udh`. (One page calls it `Byte`.)
    #[serde(rename = "Binary")]
    Binary,
    /// Let Mitto detect it.
    #[serde(rename = "auto")]
    Auto,
}

impl SmsType {
    /// The type a text needs: `GSM` when every character is in the GSM alphabet, `Unicode` otherwise
    /// (by [`Segmentation::of`], the same rule the network applies).
    pub fn for_text(text: &str) -> SmsType {
        match Segmentation::of(text).encoding {
            Encoding::Gsm7 => SmsType::Gsm,
            Encoding::Ucs2 => SmsType::Unicode,
        }
    }
}

/// `POST /sms`: one SMS to one receiver.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SmsRequest {
    /// The sender (alphanumeric 3–11, numeric 3–14).
    pub from: String,
    /// The receiver: E.164 digits without `+`.
    pub to: String,
    /// The text; Mitto splits long texts itself.
    pub text: String,
    /// The character set.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<SmsType>,
    /// Test mode: nothing is delivered or charged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<bool>,
    /// Free text echoed in the delivery report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A custom User Data Header, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udh: Option<String>,
    /// Validity in minutes (default 2880).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity: Option<u32>,
    /// Protocol identifier (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u8>,
    /// Flash SMS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flash: Option<bool>,
    /// Delivery-report URL for this message, overriding the account's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
}

impl SmsRequest {
    /// An SMS from `from` to `to`, with `type` chosen from the text.
    pub fn new(from: impl Into<String>, to: &PhoneNumber, text: impl Into<String>) -> SmsRequest {
        let text = text.into();
        SmsRequest {
            from: from.into(),
            to: to.digits().to_owned(),
            kind: Some(SmsType::for_text(&text)),
            text,
            test: None,
            reference: None,
            udh: None,
            validity: None,
            pid: None,
            flash: None,
            callback: None,
        }
    }

    /// Sets the reference echoed in the delivery report.
    pub fn with_reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Sets the validity in minutes.
    pub fn with_validity(mut self, minutes: u32) -> Self {
        self.validity = Some(minutes);
        self
    }

    /// Sets the per-message delivery-report URL.
    pub fn with_callback(mut self, url: impl Into<String>) -> Self {
        self.callback = Some(url.into());
        self
    }

    /// Turns test mode on or off.
    pub fn with_test(mut self, test: bool) -> Self {
        self.test = Some(test);
        self
    }

    /// Sends as flash SMS.
    pub fn with_flash(mut self, flash: bool) -> Self {
        self.flash = Some(flash);
        self
    }

    /// Sets the character set explicitly.
    pub fn with_type(mut self, kind: SmsType) -> Self {
        self.kind = Some(kind);
        self
    }
}

impl fmt::Debug for SmsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsRequest")
            .field("from", &self.from)
            .field("to", &mask(&self.to))
            .field("text_chars", &self.text.chars().count())
            .field("type", &self.kind)
            .field("test", &self.test)
            .field("reference", &self.reference)
            .field("validity", &self.validity)
            .field(
                "callback",
                &self.callback.as_ref().map(|u| switchboard_core::secret::redact_url(u)),
            )
            .finish_non_exhaustive()
    }
}

/// The answer to `POST /sms`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SmsResponse {
    /// The message id (32 hex characters; for a long SMS, the first part's). Per the docs absent in test
    /// mode, although the docs' own test example has one.
    #[serde(default)]
    pub id: Option<String>,
    /// When Mitto accepted it (ISO 8601 with 7 fractional digits).
    #[serde(default)]
    pub timestamp: Option<String>,
    /// The receiver.
    #[serde(default)]
    pub to: Option<String>,
    /// 0 when sent; see [`ResponseCode`](crate::ResponseCode).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub response_code: Option<i64>,
    /// Mitto's words for the code.
    #[serde(default)]
    pub response_text: Option<String>,
    /// The text's length as Mitto counted it.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub text_length: Option<u64>,
    /// Whether this was a test call.
    #[serde(default)]
    pub test: Option<bool>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for SmsResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsResponse")
            .field("id", &self.id)
            .field("timestamp", &self.timestamp)
            .field("to", &self.to.as_deref().map(mask))
            .field("response_code", &self.response_code)
            .field("response_text", &self.response_text)
            .field("text_length", &self.text_length)
            .field("test", &self.test)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// `POST /smsbulk`: one text to many receivers (a receiver listed twice gets it twice).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BulkSmsRequest {
    /// The sender.
    pub from: String,
    /// The receivers, E.164 digits.
    ///
    /// Unsure shape: Mitto's own Power Platform connector sends a JSON array of strings, the generated
    /// OpenAPI text says "a list of strings separated by commas". We send the array (the vendor-written
    /// artefact); the simulator accepts both.
    pub to: Vec<String>,
    /// The text.
    pub text: String,
    /// The character set.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<SmsType>,
    /// Test mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<bool>,
    /// Free text echoed in every delivery report of the batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Validity in minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity: Option<u32>,
    /// Delivery-report URL for this batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
}

impl BulkSmsRequest {
    /// One text to many receivers, with `type` chosen from the text.
    pub fn new<'a>(
        from: impl Into<String>,
        to: impl IntoIterator<Item = &'a PhoneNumber>,
        text: impl Into<String>,
    ) -> BulkSmsRequest {
        let text = text.into();
        BulkSmsRequest {
            from: from.into(),
            to: to.into_iter().map(|p| p.digits().to_owned()).collect(),
            kind: Some(SmsType::for_text(&text)),
            text,
            test: None,
            reference: None,
            validity: None,
            callback: None,
        }
    }

    /// Sets the reference.
    pub fn with_reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Sets the validity in minutes.
    pub fn with_validity(mut self, minutes: u32) -> Self {
        self.validity = Some(minutes);
        self
    }

    /// Sets the delivery-report URL.
    pub fn with_callback(mut self, url: impl Into<String>) -> Self {
        self.callback = Some(url.into());
        self
    }

    /// Turns test mode on or off.
    pub fn with_test(mut self, test: bool) -> Self {
        self.test = Some(test);
        self
    }
}

impl fmt::Debug for BulkSmsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkSmsRequest")
            .field("from", &self.from)
            .field("to", &self.to.iter().map(|t| mask(t)).collect::<Vec<_>>())
            .field("text_chars", &self.text.chars().count())
            .field("type", &self.kind)
            .field("test", &self.test)
            .field("reference", &self.reference)
            .finish_non_exhaustive()
    }
}

/// The answer to `POST /smsbulk`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BulkSmsResponse {
    /// 0 when sent.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub response_code: Option<i64>,
    /// Mitto's words for the code.
    #[serde(default)]
    pub response_text: Option<String>,
    /// One entry per receiver, in the order of the request. An entry that does not read keeps its
    /// place (so positions still match the receivers) with no id and the raw entry under
    /// `extra["unreadable"]`: one odd entry costs that receiver's receipt, not the batch's.
    #[serde(default, deserialize_with = "entry_by_entry")]
    pub messages: Vec<BulkMessage>,
    /// Whether this was a test call.
    #[serde(default)]
    pub test: Option<bool>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for BulkSmsResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkSmsResponse")
            .field("response_code", &self.response_code)
            .field("response_text", &self.response_text)
            .field("messages", &self.messages)
            .field("test", &self.test)
            .finish_non_exhaustive()
    }
}

/// Reads a bulk answer's entries one by one (see [`BulkSmsResponse::messages`]).
fn entry_by_entry<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<BulkMessage>, D::Error> {
    let raw = Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .map(|v| {
            serde_json::from_value(v.clone()).unwrap_or_else(|_| {
                let mut m = BulkMessage::default();
                m.extra.insert("unreadable".to_owned(), v);
                m
            })
        })
        .collect())
}

/// One receiver's entry in a bulk answer.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BulkMessage {
    /// The message id (a number is read as its digits; another type reads as absent).
    #[serde(default, deserialize_with = "lenient_id")]
    pub id: Option<String>,
    /// The receiver (a number is read as its digits).
    #[serde(default, deserialize_with = "lenient_id")]
    pub to: Option<String>,
    /// When it was accepted.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// The text's length as Mitto counted it.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub text_length: Option<u64>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for BulkMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkMessage")
            .field("id", &self.id)
            .field("to", &self.to.as_deref().map(mask))
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

/// `POST /usage/bycountry`: messages and cost per country over a date range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UsageRequest {
    /// First day, inclusive (`2020-02-15`).
    pub start_date: chrono::NaiveDate,
    /// Last day, inclusive.
    pub end_date: chrono::NaiveDate,
    /// The (sub-)account to report on; the key's account when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
}

impl UsageRequest {
    /// Usage from `start` to `end`, both inclusive.
    pub fn new(start: chrono::NaiveDate, end: chrono::NaiveDate) -> UsageRequest {
        UsageRequest {
            start_date: start,
            end_date: end,
            account_name: None,
        }
    }

    /// Names the account.
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.account_name = Some(account.into());
        self
    }
}

/// One country's usage. Counts and costs come as strings in the docs; they are kept as strings (a cost
/// is money, never a float) with a parsing accessor for the count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UsageRow {
    /// ISO 3166 alpha-3 country (`DEU`).
    #[serde(default)]
    pub country: String,
    /// Messages sent, as Mitto wrote it.
    #[serde(default, deserialize_with = "lenient_string")]
    pub messages_count: Option<String>,
    /// Cost, as Mitto wrote it (a decimal in the account's currency).
    #[serde(default, deserialize_with = "lenient_string")]
    pub cost: Option<String>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UsageRow {
    /// The message count as a number, when it is one.
    pub fn messages(&self) -> Option<u64> {
        self.messages_count.as_deref().and_then(|s| s.trim().parse().ok())
    }
}

// ---------------------------------------------------------------------------------------------------
// Messaging API
// ---------------------------------------------------------------------------------------------------

/// The SMS part of a messaging-API send.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SmsContent {
    /// The text.
    pub text: String,
    /// The sender (numeric 1–16 or alphanumeric 1–11).
    pub sender: String,
}

impl SmsContent {
    /// An SMS body.
    pub fn new(text: impl Into<String>, sender: impl Into<String>) -> SmsContent {
        SmsContent {
            text: text.into(),
            sender: sender.into(),
        }
    }
}

impl fmt::Debug for SmsContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsContent")
            .field("text_chars", &self.text.chars().count())
            .field("sender", &self.sender)
            .finish()
    }
}

/// `POST /api/v1.1/Messages/send`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessagingSendRequest {
    /// The traffic account the message is billed to.
    pub traffic_account_id: String,
    /// The receiver, E.164 with `+`.
    pub destination: String,
    /// The SMS.
    pub sms: SmsContent,
}

impl MessagingSendRequest {
    /// An SMS through a traffic account.
    pub fn new(traffic_account_id: impl Into<String>, to: &PhoneNumber, sms: SmsContent) -> Self {
        MessagingSendRequest {
            traffic_account_id: traffic_account_id.into(),
            destination: to.as_e164().to_owned(),
            sms,
        }
    }
}

impl fmt::Debug for MessagingSendRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagingSendRequest")
            .field("traffic_account_id", &self.traffic_account_id)
            .field("destination", &mask(&self.destination))
            .field("sms", &self.sms)
            .finish()
    }
}

/// `POST /api/v1.1/Messages/sendbulk`: one SMS to many destinations.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessagingBulkRequest {
    /// The traffic account.
    pub traffic_account_id: String,
    /// The receivers, E.164 with `+`.
    pub destinations: Vec<String>,
    /// The SMS.
    pub sms: SmsContent,
}

impl MessagingBulkRequest {
    /// One SMS to many receivers.
    pub fn new<'a>(
        traffic_account_id: impl Into<String>,
        to: impl IntoIterator<Item = &'a PhoneNumber>,
        sms: SmsContent,
    ) -> Self {
        MessagingBulkRequest {
            traffic_account_id: traffic_account_id.into(),
            destinations: to.into_iter().map(|p| p.as_e164().to_owned()).collect(),
            sms,
        }
    }
}

impl fmt::Debug for MessagingBulkRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagingBulkRequest")
            .field("traffic_account_id", &self.traffic_account_id)
            .field(
                "destinations",
                &self.destinations.iter().map(|t| mask(t)).collect::<Vec<_>>(),
            )
            .field("sms", &self.sms)
            .finish()
    }
}

/// The answer to a messaging-API send: one entry per destination, in order (`bulkId` for bulk sends).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessagingSendResponse {
    /// The batch id of a bulk send.
    #[serde(default)]
    pub bulk_id: Option<String>,
    /// The accepted messages.
    #[serde(default)]
    pub messages: Vec<SentMessage>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SentMessage {
    /// The message id, the key of status lookups (a number is read as its digits).
    #[serde(deserialize_with = "id_text")]
    pub message_id: String,
    /// The traffic account.
    #[serde(default)]
    pub traffic_account_id: Option<String>,
    /// Fields not listed above (a destination, when Mitto adds one, lands here).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /api/v1.1/Messages/{messageId}`: a message as the messaging API keeps it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MessageRecord {
    /// The message id.
    pub message_id: String,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// A media URL (chat channels).
    #[serde(default)]
    pub media_url: Option<String>,
    /// The sender, as an object.
    #[serde(default)]
    pub sender: Option<Value>,
    /// The conversation, as an object.
    #[serde(default)]
    pub conversation: Option<Value>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When it last changed.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// The traffic account.
    #[serde(default)]
    pub traffic_account_id: Option<String>,
    /// The delivery status word; see [`map_delivery_status`].
    #[serde(default)]
    pub delivery_status: Option<String>,
    /// Free text about the status.
    #[serde(default)]
    pub description: Option<String>,
    /// The message this one quotes.
    #[serde(default)]
    pub quoted_message_id: Option<String>,
    /// SMS parts.
    #[serde(default)]
    pub message_parts: Option<Value>,
    /// What the send request carried.
    #[serde(default)]
    pub request_info: Option<Value>,
    /// The reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for MessageRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageRecord")
            .field("message_id", &self.message_id)
            .field("traffic_account_id", &self.traffic_account_id)
            .field("delivery_status", &self.delivery_status)
            .field("description", &self.description)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// Maps a Mitto delivery status word to [`DeliveryStatus`], case-insensitively.
///
/// Unsure mapping, kept here only: neither the messaging API's `deliveryStatus` enum nor the legacy
/// delivery report's statuses are documented publicly. Third-party code reads `delivered`, `sent`,
/// `failure` and `failed`; the other words are the ones SMS platforms commonly use for the same
/// states. Anything else is `Unknown`, and the raw word is always kept next to it.
pub fn map_delivery_status(raw: &str) -> DeliveryStatus {
    let w: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    match w.as_str() {
        "delivered" | "delivrd" | "read" => DeliveryStatus::Delivered,
        "sent" | "senttooperator" | "submitted" | "enroute" => DeliveryStatus::Sent,
        "accepted" | "created" | "new" => DeliveryStatus::Accepted,
        "queued" | "pending" | "buffered" | "scheduled" | "processing" => DeliveryStatus::Queued,
        "failed" | "failure" | "undeliverable" | "undelivered" | "undeliv" | "error" => DeliveryStatus::Failed,
        "rejected" | "rejectd" | "blocked" => DeliveryStatus::Rejected,
        "expired" => DeliveryStatus::Expired,
        _ => DeliveryStatus::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_request_wire_shape() {
        let to = PhoneNumber::parse("+41751231234", None).unwrap();
        let r = SmsRequest::new("MITTO SMS", &to, "Grüße, François")
            .with_reference("r1")
            .with_validity(60);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["to"], "41751231234");
        assert_eq!(v["type"], "Unicode");
        assert_eq!(v["reference"], "r1");
        assert_eq!(v["validity"], 60);
        assert!(v.get("test").is_none() && v.get("callback").is_none());
        let r = SmsRequest::new("Acme", &to, "Hello {world} €");
        assert_eq!(serde_json::to_value(&r).unwrap()["type"], "GSM");
        let d = format!("{r:?}");
        assert!(!d.contains("751231234") && !d.contains("Hello"), "{d}");
    }

    #[test]
    fn sms_response_reads_quirky_text_length_and_keeps_extras() {
        let r: SmsResponse = serde_json::from_str(
            r#"{"id":"715118ef01aa4480bbd67324a0459b0b","timestamp":"2019-04-13T12:07:57.8625574Z",
               "to":"41751231234","responseCode":0,"textLength":" 13","responseText":"SMS sent","price":"0.05"}"#,
        )
        .unwrap();
        assert_eq!(r.text_length, Some(13));
        assert_eq!(r.response_code, Some(0));
        assert_eq!(r.extra["price"], "0.05");
        assert!(!format!("{r:?}").contains("751231234"));
    }

    #[test]
    fn usage_rows_keep_money_as_text() {
        let rows: Vec<UsageRow> =
            serde_json::from_str(r#"[{"country":"DEU","messagesCount":"12","cost":"0.6000"},{"country":"CHE","messagesCount":3,"cost":0.15}]"#)
                .unwrap();
        assert_eq!(rows[0].messages(), Some(12));
        assert_eq!(rows[0].cost.as_deref(), Some("0.6000"));
        assert_eq!(rows[1].messages(), Some(3));
        assert_eq!(rows[1].cost.as_deref(), Some("0.15"));
    }

    #[test]
    fn status_words() {
        assert_eq!(map_delivery_status("Delivered"), DeliveryStatus::Delivered);
        assert_eq!(map_delivery_status("failure"), DeliveryStatus::Failed);
        assert_eq!(map_delivery_status("Undeliverable"), DeliveryStatus::Failed);
        assert_eq!(map_delivery_status("sent_to_operator"), DeliveryStatus::Sent);
        assert_eq!(map_delivery_status("EXPIRED"), DeliveryStatus::Expired);
        assert_eq!(map_delivery_status("zzz"), DeliveryStatus::Unknown);
    }
}

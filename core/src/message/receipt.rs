//! What a provider answers about a message: the [`Receipt`] of an accepted send and the
//! [`StatusReport`]s of lookups and delivery webhooks, with the normalised [`DeliveryStatus`].

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Message, MessageId, Recipient};
use crate::price::Price;
use crate::segment::Segmentation;

/// What a transport hands back when a provider accepted a message.
///
/// `Debug` leaves out the raw reply, which quotes the recipient in full (the recipient itself shows
/// masked).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Receipt {
    /// The transport's name as registered (`"gsm"`, `"cloud"`).
    pub transport: String,
    /// The message this is the receipt of.
    pub message_id: MessageId,
    /// The provider's id(s) for what it accepted: one per message, or one per part where the provider
    /// counts parts. Status lookups use these.
    pub provider_ids: Vec<String>,
    /// Who it went to.
    pub to: Recipient,
    /// When the provider accepted it.
    pub accepted_at: DateTime<Utc>,
    /// How the text was segmented (SMS), when it applies.
    pub segments: Option<Segmentation>,
    /// The status right after acceptance.
    pub status: DeliveryStatus,
    /// The provider's reply, as it came.
    pub raw: serde_json::Value,
    /// True when this receipt is an earlier send's, answered from the store for a message whose key
    /// was already accepted: nothing was sent this time.
    #[serde(default)]
    pub replayed: bool,
}

impl Receipt {
    /// A receipt for `message` over `transport` with one provider id.
    pub fn new(transport: impl Into<String>, message: &Message, provider_id: impl Into<String>) -> Self {
        Receipt {
            transport: transport.into(),
            message_id: message.id.clone(),
            provider_ids: vec![provider_id.into()],
            to: message.to.clone(),
            accepted_at: Utc::now(),
            segments: matches!(message.to, Recipient::Phone(_)).then(|| message.segmentation()),
            status: DeliveryStatus::Accepted,
            raw: serde_json::Value::Null,
            replayed: false,
        }
    }

    /// Keeps the provider's raw reply.
    pub fn with_raw(mut self, raw: serde_json::Value) -> Self {
        self.raw = raw;
        self
    }

    /// Sets the status known at acceptance.
    pub fn with_status(mut self, status: DeliveryStatus) -> Self {
        self.status = status;
        self
    }

    /// The first provider id.
    pub fn provider_id(&self) -> &str {
        self.provider_ids.first().map(String::as_str).unwrap_or("")
    }
}

impl fmt::Debug for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receipt")
            .field("transport", &self.transport)
            .field("message_id", &self.message_id)
            .field("provider_ids", &self.provider_ids)
            .field("to", &self.to)
            .field("accepted_at", &self.accepted_at)
            .field("segments", &self.segments)
            .field("status", &self.status)
            .field("replayed", &self.replayed)
            .finish_non_exhaustive()
    }
}

/// Where a message is, normalised across providers. The provider's own word is kept in
/// [`StatusReport::raw_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// The provider took it and will process it.
    Accepted,
    /// Waiting in the provider's or gateway's queue.
    Queued,
    /// Handed to the network (carrier, SMTP relay, push service).
    Sent,
    /// The recipient's device or mailbox has it.
    Delivered,
    /// It failed on the way.
    Failed,
    /// It expired before it could be delivered.
    Expired,
    /// The provider or carrier refused it.
    Rejected,
    /// The provider's status is not one we know.
    Unknown,
}

impl DeliveryStatus {
    /// Whether no further change is expected.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeliveryStatus::Delivered | DeliveryStatus::Failed | DeliveryStatus::Expired | DeliveryStatus::Rejected
        )
    }

    /// How far towards delivery this status is, failures lowest: what [`DeliveryStatus::worst`] and
    /// [`StatusReport::of_parts`] compare.
    fn progress(self) -> u8 {
        match self {
            DeliveryStatus::Rejected => 0,
            DeliveryStatus::Failed => 1,
            DeliveryStatus::Expired => 2,
            DeliveryStatus::Unknown => 3,
            DeliveryStatus::Accepted => 4,
            DeliveryStatus::Queued => 5,
            DeliveryStatus::Sent => 6,
            DeliveryStatus::Delivered => 7,
        }
    }

    /// The status of the two that is furthest from delivery (a failure beats any progress): the status
    /// of a message whose parts are at `self` and `other`.
    pub fn worst(self, other: DeliveryStatus) -> DeliveryStatus {
        if other.progress() < self.progress() {
            other
        } else {
            self
        }
    }

    /// Whether the message failed for good.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            DeliveryStatus::Failed | DeliveryStatus::Expired | DeliveryStatus::Rejected
        )
    }

    /// The status as a lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Accepted => "accepted",
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Expired => "expired",
            DeliveryStatus::Rejected => "rejected",
            DeliveryStatus::Unknown => "unknown",
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status observed for one provider message, by lookup or by webhook.
///
/// `Debug` leaves out the raw record, which quotes the recipient in full.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatusReport {
    /// The provider's id of the message.
    pub provider_id: String,
    /// The normalised status.
    pub status: DeliveryStatus,
    /// The provider's own status word or code, as it came.
    pub raw_status: String,
    /// The provider's error code, when it gave one.
    pub error_code: Option<String>,
    /// Who it was for, when the provider says.
    pub recipient: Option<Recipient>,
    /// When the provider says the status changed.
    pub at: Option<DateTime<Utc>>,
    /// The provider's description of the error, when it gave one. Providers reword these; match on
    /// [`StatusReport::error_code`], show this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// What the provider charged for the message, once it says (a charge is positive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    /// How many parts (SMS segments) the provider counted, and billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<u32>,
    /// The provider's record, as it came.
    pub raw: serde_json::Value,
    /// For a message the provider took as several parts (several provider ids), each part's own report;
    /// the report itself then stands for the part furthest from delivery ([`DeliveryStatus::worst`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<StatusReport>,
}

impl StatusReport {
    /// One report for a message of several parts: the part furthest from delivery, with every part's
    /// report in [`StatusReport::parts`]. `None` for no parts; a single part is answered as it is.
    pub fn of_parts(mut parts: Vec<StatusReport>) -> Option<StatusReport> {
        if parts.len() <= 1 {
            return parts.pop();
        }
        let worst = parts
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| p.status.progress())
            .map(|(i, _)| i)?;
        let mut report = parts[worst].clone();
        report.parts = parts;
        Some(report)
    }

    /// A report with the essentials; the rest defaults to empty.
    pub fn new(provider_id: impl Into<String>, status: DeliveryStatus, raw_status: impl Into<String>) -> Self {
        StatusReport {
            provider_id: provider_id.into(),
            status,
            raw_status: raw_status.into(),
            error_code: None,
            recipient: None,
            at: None,
            error_message: None,
            price: None,
            segments: None,
            raw: serde_json::Value::Null,
            parts: Vec::new(),
        }
    }

    /// Sets the provider's error code.
    pub fn with_error_code(mut self, code: impl ToString) -> Self {
        self.error_code = Some(code.to_string());
        self
    }

    /// Sets the recipient.
    pub fn with_recipient(mut self, r: Recipient) -> Self {
        self.recipient = Some(r);
        self
    }

    /// Sets the time of the change.
    pub fn with_at(mut self, at: DateTime<Utc>) -> Self {
        self.at = Some(at);
        self
    }

    /// Sets the provider's description of the error.
    pub fn with_error_message(mut self, message: impl Into<String>) -> Self {
        self.error_message = Some(message.into());
        self
    }

    /// Sets what the provider charged.
    pub fn with_price(mut self, price: Price) -> Self {
        self.price = Some(price);
        self
    }

    /// Sets the number of parts the provider counted.
    pub fn with_segments(mut self, segments: u32) -> Self {
        self.segments = Some(segments);
        self
    }

    /// Keeps the raw record.
    pub fn with_raw(mut self, raw: serde_json::Value) -> Self {
        self.raw = raw;
        self
    }
}

impl fmt::Debug for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusReport")
            .field("provider_id", &self.provider_id)
            .field("status", &self.status)
            .field("raw_status", &self.raw_status)
            .field("error_code", &self.error_code)
            .field("recipient", &self.recipient)
            .field("at", &self.at)
            .field(
                "error_message",
                &self.error_message.as_deref().map(crate::secret::scrub_numbers),
            )
            .field("price", &self.price)
            .field("segments", &self.segments)
            .finish_non_exhaustive()
    }
}

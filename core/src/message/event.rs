//! What providers push to the host, decoded: inbound messages, call events, payment events
//! ([`Event`]).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StatusReport;

/// A message someone sent to us (an SMS into the gateway, a chat message to the bot).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundMessage {
    /// The provider's id of the inbound message, the key to deduplicate on.
    pub provider_id: String,
    /// Who sent it, as the provider gave it (a phone number may be a short code or alphanumeric).
    pub from: String,
    /// The number or channel it came in on, when known.
    pub to: Option<String>,
    /// The text.
    pub text: String,
    /// When it was received.
    pub received_at: Option<DateTime<Utc>>,
    /// The provider's record.
    pub raw: serde_json::Value,
}

/// The state of a phone call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallState {
    /// The call is being set up or is ringing.
    Ringing,
    /// The first leg is up.
    Started,
    /// Both sides are talking.
    Answered,
    /// The call ended after being answered.
    Completed,
    /// Nobody answered.
    Missed,
    /// The call failed.
    Failed,
    /// A state we do not know.
    Unknown,
}

/// A call event or call record.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallEvent {
    /// The provider's call id.
    pub call_id: String,
    /// The normalised state.
    pub state: CallState,
    /// The provider's own state word.
    pub raw_state: String,
    /// The calling party.
    pub from: Option<String>,
    /// The called party.
    pub to: Option<String>,
    /// When it happened.
    pub at: Option<DateTime<Utc>>,
    /// Seconds of conversation, for ended calls.
    pub duration_secs: Option<u64>,
    /// What the host attached when it placed the call, echoed back.
    pub correlation: Option<String>,
    /// The provider's record.
    pub raw: serde_json::Value,
}

impl InboundMessage {
    /// An inbound message with the essentials; the rest defaults to empty.
    pub fn new(provider_id: impl Into<String>, from: impl Into<String>, text: impl Into<String>) -> Self {
        InboundMessage {
            provider_id: provider_id.into(),
            from: from.into(),
            to: None,
            text: text.into(),
            received_at: None,
            raw: serde_json::Value::Null,
        }
    }

    /// Sets the number or channel it came in on.
    pub fn with_to(mut self, to: impl Into<String>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// Sets when it was received.
    pub fn with_received_at(mut self, at: DateTime<Utc>) -> Self {
        self.received_at = Some(at);
        self
    }

    /// Keeps the provider's record.
    pub fn with_raw(mut self, raw: serde_json::Value) -> Self {
        self.raw = raw;
        self
    }
}

/// Debug masks the sender and leaves out the text and the raw record (personal data).
impl fmt::Debug for InboundMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundMessage")
            .field("provider_id", &self.provider_id)
            .field("from", &crate::secret::mask_middle(&self.from))
            .field("to", &self.to.as_deref().map(crate::secret::mask_middle))
            .field("text_chars", &self.text.chars().count())
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

impl CallEvent {
    /// A call event with the essentials; the rest defaults to empty.
    pub fn new(call_id: impl Into<String>, state: CallState, raw_state: impl Into<String>) -> Self {
        CallEvent {
            call_id: call_id.into(),
            state,
            raw_state: raw_state.into(),
            from: None,
            to: None,
            at: None,
            duration_secs: None,
            correlation: None,
            raw: serde_json::Value::Null,
        }
    }

    /// Sets the calling party.
    pub fn with_from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Sets the called party.
    pub fn with_to(mut self, to: impl Into<String>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// Sets when it happened.
    pub fn with_at(mut self, at: DateTime<Utc>) -> Self {
        self.at = Some(at);
        self
    }

    /// Sets the talk time in seconds.
    pub fn with_duration_secs(mut self, secs: u64) -> Self {
        self.duration_secs = Some(secs);
        self
    }

    /// Sets the host's correlation value echoed back by the provider.
    pub fn with_correlation(mut self, c: impl Into<String>) -> Self {
        self.correlation = Some(c.into());
        self
    }

    /// Keeps the provider's record.
    pub fn with_raw(mut self, raw: serde_json::Value) -> Self {
        self.raw = raw;
        self
    }
}

/// Debug masks both parties and leaves out the raw record, which carries them in full.
impl fmt::Debug for CallEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallEvent")
            .field("call_id", &self.call_id)
            .field("state", &self.state)
            .field("raw_state", &self.raw_state)
            .field("from", &self.from.as_deref().map(crate::secret::mask_middle))
            .field("to", &self.to.as_deref().map(crate::secret::mask_middle))
            .field("at", &self.at)
            .field("duration_secs", &self.duration_secs)
            .field("correlation", &self.correlation)
            .finish_non_exhaustive()
    }
}

impl PaymentEvent {
    /// A payment event.
    pub fn new(
        event_type: impl Into<String>,
        object_id: impl Into<String>,
        status: impl Into<String>,
        raw: serde_json::Value,
    ) -> Self {
        PaymentEvent {
            event_id: None,
            event_type: event_type.into(),
            object_id: object_id.into(),
            status: status.into(),
            raw,
        }
    }

    /// Sets the provider's event id.
    pub fn with_event_id(mut self, id: impl Into<String>) -> Self {
        self.event_id = Some(id.into());
        self
    }
}

/// A payment state change pushed by a payment provider.
///
/// `Debug` leaves out the raw record (customer contacts, addresses).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentEvent {
    /// The provider's event id (dedupe key), when it has one.
    pub event_id: Option<String>,
    /// The provider's event type (`payment.succeeded`, `payment_intent.succeeded`).
    pub event_type: String,
    /// The payment, refund or intent id.
    pub object_id: String,
    /// The object's status after the event.
    pub status: String,
    /// The provider's record (for YooKassa, the re-fetched object).
    pub raw: serde_json::Value,
}

impl fmt::Debug for PaymentEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentEvent")
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("object_id", &self.object_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Something a provider pushed to the host, decoded.
///
/// `Debug` of [`Event::Other`] shows the report's field names only: its values can hold phone numbers.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A message came in.
    Inbound(InboundMessage),
    /// A sent message changed status.
    Delivery(StatusReport),
    /// A call changed state or ended.
    Call(CallEvent),
    /// A payment changed state.
    Payment(PaymentEvent),
    /// The provider reported something that is none of the above (device status, port changes); kept
    /// whole so nothing is lost.
    Other {
        /// What kind of report it is, in the provider's words.
        kind: String,
        /// The report.
        raw: serde_json::Value,
    },
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Inbound(m) => f.debug_tuple("Inbound").field(m).finish(),
            Event::Delivery(r) => f.debug_tuple("Delivery").field(r).finish(),
            Event::Call(c) => f.debug_tuple("Call").field(c).finish(),
            Event::Payment(p) => f.debug_tuple("Payment").field(p).finish(),
            Event::Other { kind, raw } => f
                .debug_struct("Other")
                .field("kind", kind)
                .field("raw_keys", &raw.as_object().map(|o| o.keys().collect::<Vec<_>>()))
                .finish(),
        }
    }
}

//! MightyCall's requests and answers as they are on the wire.
//!
//! **Provisional shapes.** Only the token exchange is documented by the vendor. The SMS body
//! (`{"from","to":[…],"message","attachments":[]}`) is what every third-party client sends; the answer
//! envelope (`{"data":…,"isSuccess":true}`), the send answer's id field, the journal page
//! (`{currentPage, requests:[…]}`, sometimes inside an array) and the journal record's fields are not
//! established. Every answer type therefore keeps the whole record (`extra` or `raw`), and the
//! readers below accept each variant seen, in one place: [`unwrap_envelope`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{
    CallEvent, CallState, DeliveryStatus, Event, InboundMessage, PhoneNumber, Recipient, SecretString, StatusReport,
};

use crate::journal::{JournalParty, UndecodableEntry};

pub(crate) use switchboard_core::secret::mask_middle as mask;

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("an id must be a string or a number")),
    }
}

/// The answer of `POST /auth/token`.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The bearer token (valid 24 h).
    pub access_token: SecretString,
    /// `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds the token lives (86400 in every client seen).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub expires_in: Option<u64>,
    /// The refresh token.
    #[serde(default)]
    pub refresh_token: Option<SecretString>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"***")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Strips the response envelope, in the one place that knows its variants:
///
/// * `{"isSuccess": true, "data": X}` → `X` (the documented ping answer has this shape);
/// * `[X]` where `X` is an object holding `requests` → `X` (a journal page wrapped in an array);
/// * anything else is the value itself.
///
/// `Err(())` for `{"isSuccess": false, …}`, which callers turn into an error with the envelope's text.
#[allow(clippy::result_unit_err)]
pub fn unwrap_envelope(v: Value) -> Result<Value, ()> {
    match v {
        Value::Object(mut o) if o.contains_key("isSuccess") => {
            if o.get("isSuccess").and_then(Value::as_bool) == Some(false) {
                return Err(());
            }
            Ok(o.remove("data").unwrap_or(Value::Object(o)))
        }
        Value::Array(mut a) if a.len() == 1 && a.first().is_some_and(|x| x.get("requests").is_some()) => {
            Ok(a.pop().unwrap_or(Value::Null))
        }
        other => Ok(other),
    }
}

/// `POST …/messages/send`: an SMS (or MMS) from a business number.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendMessageRequest {
    /// The business number, E.164.
    pub from: String,
    /// The receivers, E.164. An array on the wire; switchboard sends one receiver per request (several
    /// may make a group conversation, which would show the receivers each other's numbers).
    pub to: Vec<String>,
    /// The text.
    pub message: String,
    /// MMS attachments (URLs); empty for SMS.
    #[serde(default)]
    pub attachments: Vec<String>,
}

impl SendMessageRequest {
    /// An SMS from a business number to one receiver.
    pub fn new(from: &PhoneNumber, to: &PhoneNumber, message: impl Into<String>) -> Self {
        SendMessageRequest {
            from: from.as_e164().to_owned(),
            to: vec![to.as_e164().to_owned()],
            message: message.into(),
            attachments: Vec::new(),
        }
    }
}

impl fmt::Debug for SendMessageRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendMessageRequest")
            .field("from", &mask(&self.from))
            .field("to", &self.to.iter().map(|t| mask(t)).collect::<Vec<_>>())
            .field("message_chars", &self.message.chars().count())
            .field("attachments", &self.attachments.len())
            .finish()
    }
}

/// What a send answered: the id, wherever the answer put it, and the answer itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendResult {
    /// The message id: the first of `id`, `messageId`, `requestId` found in the (unwrapped) answer.
    pub id: Option<String>,
    /// The answer as it came.
    pub raw: Value,
}

impl SendResult {
    pub(crate) fn from_answer(raw: Value, data: &Value) -> SendResult {
        let pick = |v: &Value| {
            ["id", "messageId", "requestId"].iter().find_map(|k| match v.get(*k) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
        };
        let id = pick(data).or_else(|| match data {
            Value::Array(a) => a.first().and_then(pick),
            _ => None,
        });
        SendResult { id, raw }
    }
}

/// One entry of the journal: a call, a message or a voicemail.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JournalRequest {
    /// The request id.
    #[serde(deserialize_with = "lenient_id")]
    pub id: String,
    /// `Call`, `Message`, `Voicemail`…
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// `Incoming` or `Outgoing`.
    #[serde(default)]
    pub origin: Option<String>,
    /// The state (`Connected`, `Missed`, `Sent`, `Delivered`…).
    #[serde(default)]
    pub state: Option<String>,
    /// When it happened (UTC, ISO 8601).
    #[serde(default)]
    pub date_time_utc: Option<String>,
    /// The calling or sending party.
    #[serde(default)]
    pub from: Option<String>,
    /// The called or receiving party.
    #[serde(default)]
    pub to: Option<String>,
    /// The business number involved, as a bare number or as an object (both are seen; see
    /// [`JournalParty`]).
    #[serde(default)]
    pub business_number: Option<JournalParty>,
    /// The customer's side (`client`), as a bare number or as an object with an `address`.
    #[serde(default)]
    pub client: Option<JournalParty>,
    /// The message text.
    #[serde(default)]
    pub text: Option<String>,
    /// Call duration in seconds.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub duration: Option<u64>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for JournalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalRequest")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("origin", &self.origin)
            .field("state", &self.state)
            .field("date_time_utc", &self.date_time_utc)
            .field("from", &self.from.as_deref().map(mask))
            .field("to", &self.to.as_deref().map(mask))
            .field("business_number", &self.business_number)
            .field("client", &self.client)
            .field("text_chars", &self.text.as_ref().map(|t| t.chars().count()))
            .field("duration", &self.duration)
            .finish_non_exhaustive()
    }
}

fn eq(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

impl JournalRequest {
    /// Whether this is a message (SMS/MMS).
    pub fn is_message(&self) -> bool {
        eq(self.kind.as_deref(), "message") || eq(self.kind.as_deref(), "sms") || eq(self.kind.as_deref(), "mms")
    }

    /// Whether this is a call (voicemails included).
    pub fn is_call(&self) -> bool {
        eq(self.kind.as_deref(), "call") || eq(self.kind.as_deref(), "voicemail")
    }

    /// Whether it came in.
    pub fn is_incoming(&self) -> bool {
        eq(self.origin.as_deref(), "incoming") || eq(self.origin.as_deref(), "inbound")
    }

    /// The business number's digits, whichever shape MightyCall wrote it in.
    pub fn business_phone(&self) -> Option<&str> {
        self.business_number.as_ref().and_then(JournalParty::number)
    }

    /// The customer's number (or address), whichever shape MightyCall wrote `client` in.
    pub fn client_address(&self) -> Option<&str> {
        self.client.as_ref().and_then(JournalParty::number)
    }

    /// The calling or sending party: `from`, else the customer (incoming) or the business number
    /// (outgoing).
    pub fn party_from(&self) -> Option<&str> {
        let fallback = if self.is_incoming() {
            self.client_address()
        } else {
            self.business_phone()
        };
        self.from.as_deref().or(fallback)
    }

    /// The called or receiving party: `to`, else the business number (incoming) or the customer
    /// (outgoing).
    pub fn party_to(&self) -> Option<&str> {
        let fallback = if self.is_incoming() {
            self.business_phone()
        } else {
            self.client_address()
        };
        self.to.as_deref().or(fallback)
    }

    /// When it happened, when readable.
    pub fn at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let s = self.date_time_utc.as_deref()?;
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&chrono::Utc))
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc()))
            .ok()
    }

    /// The delivery status of an outgoing message, by [`map_message_state`].
    pub fn delivery_status(&self) -> DeliveryStatus {
        self.state
            .as_deref()
            .map(map_message_state)
            .unwrap_or(DeliveryStatus::Unknown)
    }

    /// The entry as a core [`Event`], for history sync: an incoming message is [`Event::Inbound`], an
    /// outgoing one [`Event::Delivery`], a call or voicemail [`Event::Call`]. Other kinds are
    /// [`Event::Other`].
    pub fn to_event(&self) -> Event {
        let raw = serde_json::to_value(self).unwrap_or(Value::Null);
        if self.is_message() && self.is_incoming() {
            let mut m = InboundMessage::new(
                self.id.clone(),
                self.party_from().unwrap_or_default().to_owned(),
                self.text.clone().unwrap_or_default(),
            )
            .with_raw(raw);
            if let Some(to) = self.party_to() {
                m = m.with_to(to.to_owned());
            }
            if let Some(at) = self.at() {
                m = m.with_received_at(at);
            }
            return Event::Inbound(m);
        }
        if self.is_message() {
            let mut r = StatusReport::new(
                self.id.clone(),
                self.delivery_status(),
                self.state.clone().unwrap_or_default(),
            )
            .with_raw(raw);
            if let Some(p) = self.party_to().and_then(|t| PhoneNumber::parse(t, None).ok()) {
                r = r.with_recipient(Recipient::Phone(p));
            }
            if let Some(at) = self.at() {
                r = r.with_at(at);
            }
            return Event::Delivery(r);
        }
        if self.is_call() {
            let mut c = CallEvent::new(
                self.id.clone(),
                map_call_state(self.state.as_deref().unwrap_or("")),
                self.state.clone().unwrap_or_default(),
            )
            .with_raw(raw);
            if let Some(f) = self.party_from() {
                c = c.with_from(f.to_owned());
            }
            if let Some(t) = self.party_to() {
                c = c.with_to(t.to_owned());
            }
            if let Some(at) = self.at() {
                c = c.with_at(at);
            }
            if let Some(d) = self.duration {
                c = c.with_duration_secs(d);
            }
            return Event::Call(c);
        }
        Event::Other {
            kind: self.kind.clone().unwrap_or_else(|| "journal".to_owned()),
            raw,
        }
    }
}

/// Maps a journal message state to [`DeliveryStatus`], case-insensitively.
///
/// Unsure mapping: MightyCall's message states are not documented; these are the words SMS platforms
/// use. Anything else is `Unknown`, with the raw word kept.
pub fn map_message_state(raw: &str) -> DeliveryStatus {
    match raw.trim().to_ascii_lowercase().as_str() {
        "delivered" | "received" | "read" => DeliveryStatus::Delivered,
        "sent" => DeliveryStatus::Sent,
        "queued" | "pending" | "sending" | "scheduled" => DeliveryStatus::Queued,
        "accepted" | "new" | "created" => DeliveryStatus::Accepted,
        "failed" | "undelivered" | "error" => DeliveryStatus::Failed,
        "rejected" | "blocked" => DeliveryStatus::Rejected,
        "expired" => DeliveryStatus::Expired,
        _ => DeliveryStatus::Unknown,
    }
}

/// Maps a journal call state to [`CallState`] (unsure, as [`map_message_state`]).
pub fn map_call_state(raw: &str) -> CallState {
    match raw.trim().to_ascii_lowercase().as_str() {
        "connected" | "completed" | "answered" | "finished" => CallState::Completed,
        "missed" | "noanswer" | "no_answer" | "voicemail" | "abandoned" => CallState::Missed,
        "ringing" | "initiated" => CallState::Ringing,
        "active" | "inprogress" | "in_progress" => CallState::Answered,
        "failed" | "busy" | "error" | "rejected" => CallState::Failed,
        _ => CallState::Unknown,
    }
}

/// One page of the journal.
///
/// Entries are read one by one: an entry that does not read goes to
/// [`JournalPage::undecodable`] with its raw JSON, and the page keeps every other entry (see
/// [`crate::journal`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JournalPage {
    /// The page number, as MightyCall echoed it.
    pub current_page: Option<u64>,
    /// The entries that were read.
    pub requests: Vec<JournalRequest>,
    /// The entries that could not be read, as they came.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undecodable: Vec<UndecodableEntry>,
    /// Fields not listed above (totals, when given).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl JournalPage {
    /// How many entries MightyCall put on the page, read or not (what paging counts).
    pub fn entry_count(&self) -> usize {
        self.requests.len() + self.undecodable.len()
    }
}

/// A journal page as it is on the wire, entries unread.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawJournalPage {
    #[serde(default, deserialize_with = "lenient_u64")]
    current_page: Option<u64>,
    #[serde(default)]
    requests: Vec<Value>,
    #[serde(default)]
    undecodable: Vec<UndecodableEntry>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for JournalPage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawJournalPage::deserialize(d)?;
        let (requests, mut undecodable) = crate::journal::decode_entries(raw.requests);
        let mut kept = raw.undecodable;
        kept.append(&mut undecodable);
        Ok(JournalPage {
            current_page: raw.current_page,
            requests,
            undecodable: kept,
            extra: raw.extra,
        })
    }
}

/// Filters for journal listings; every field is optional. Dates are sent as ISO 8601 UTC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JournalQuery {
    /// Entries per page (MightyCall accepts up to 1000; 100 when absent).
    pub page_size: Option<u32>,
    /// From this instant (inclusive).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Until this instant (exclusive).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// `Call`, `Message`, `Voicemail`…
    pub kind: Option<String>,
    /// `Incoming` or `Outgoing`.
    pub origin: Option<String>,
    /// A state filter.
    pub state: Option<String>,
    /// The other party's number.
    pub phone: Option<String>,
    /// The business number.
    pub business_number: Option<String>,
}

/// The default page size of journal listings.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The largest page size MightyCall accepts.
pub const MAX_PAGE_SIZE: u32 = 1000;

impl JournalQuery {
    /// An empty filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size (clamped to 1..=1000).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n.clamp(1, MAX_PAGE_SIZE));
        self
    }

    /// Only entries of this type (`Message`, `Call`).
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// Only entries with this party.
    pub fn phone(mut self, phone: &PhoneNumber) -> Self {
        self.phone = Some(phone.as_e164().to_owned());
        self
    }

    /// Only entries on this business number.
    pub fn business_number(mut self, number: &PhoneNumber) -> Self {
        self.business_number = Some(number.as_e164().to_owned());
        self
    }

    /// Only entries in `[from, to)`.
    pub fn window(
        mut self,
        from: Option<chrono::DateTime<chrono::Utc>>,
        to: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Self {
        self.from = from;
        self.to = to;
        self
    }

    /// The effective page size.
    pub fn effective_page_size(&self) -> u32 {
        self.page_size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE)
    }

    /// The query parameters for page `page` (1-based).
    pub fn to_params(&self, page: u32) -> Vec<(&'static str, String)> {
        let iso = |d: &chrono::DateTime<chrono::Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut p = vec![
            ("pageSize", self.effective_page_size().to_string()),
            ("page", page.max(1).to_string()),
        ];
        if let Some(f) = &self.from {
            p.push(("from", iso(f)));
        }
        if let Some(t) = &self.to {
            p.push(("to", iso(t)));
        }
        for (k, v) in [
            ("type", &self.kind),
            ("origin", &self.origin),
            ("state", &self.state),
            ("phone", &self.phone),
            ("businessNumber", &self.business_number),
        ] {
            if let Some(v) = v {
                p.push((k, v.clone()));
            }
        }
        p
    }
}

/// A business number of the account.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BusinessNumber {
    /// The number, E.164 (also read from `phoneNumber`).
    #[serde(alias = "phoneNumber")]
    pub number: String,
    /// Its label, when it has one.
    #[serde(default, alias = "name")]
    pub label: Option<String>,
    /// Fields not listed above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for BusinessNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusinessNumber")
            .field("number", &mask(&self.number))
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl BusinessNumber {
    /// The number, parsed.
    pub fn phone(&self) -> Option<PhoneNumber> {
        PhoneNumber::parse(&self.number, None).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_variants() {
        assert_eq!(unwrap_envelope(json!({"data":"4","isSuccess":true})), Ok(json!("4")));
        assert_eq!(unwrap_envelope(json!({"isSuccess":false,"error":{}})), Err(()));
        let page = json!({"currentPage":1,"requests":[]});
        assert_eq!(unwrap_envelope(json!([page.clone()])), Ok(page.clone()));
        assert_eq!(unwrap_envelope(page.clone()), Ok(page));
    }

    #[test]
    fn send_result_finds_the_id() {
        for (data, id) in [
            (json!({"id":"a"}), Some("a")),
            (json!({"messageId":"b"}), Some("b")),
            (json!({"requestId":7}), Some("7")),
            (json!([{"id":"c"}]), Some("c")),
            (json!({"x":1}), None),
        ] {
            assert_eq!(SendResult::from_answer(json!({}), &data).id.as_deref(), id, "{data}");
        }
    }

    #[test]
    fn journal_entries_become_events() {
        let inbound: JournalRequest = serde_json::from_value(json!({
            "id": 17, "type": "Message", "origin": "Incoming", "state": "Received",
            "dateTimeUtc": "2024-05-01T10:00:00Z", "from": "+15551234567", "to": "+18444131701", "text": "hi"
        }))
        .unwrap();
        match inbound.to_event() {
            Event::Inbound(m) => {
                assert_eq!((m.provider_id.as_str(), m.text.as_str()), ("17", "hi"));
                assert!(m.received_at.is_some());
            }
            other => panic!("{other:?}"),
        }
        let call: JournalRequest = serde_json::from_value(json!({
            "id": "c1", "type": "Call", "origin": "Incoming", "state": "Missed", "duration": "0", "color": "red"
        }))
        .unwrap();
        assert_eq!(call.extra["color"], "red");
        match call.to_event() {
            Event::Call(c) => assert_eq!((c.state, c.duration_secs), (CallState::Missed, Some(0))),
            other => panic!("{other:?}"),
        }
        let out: JournalRequest = serde_json::from_value(json!({
            "id": "m1", "type": "Message", "origin": "Outgoing", "state": "Delivered", "to": "+15551234567"
        }))
        .unwrap();
        match out.to_event() {
            Event::Delivery(r) => assert_eq!(r.status, DeliveryStatus::Delivered),
            other => panic!("{other:?}"),
        }
        assert!(!format!("{out:?}").contains("5551234567"));
    }

    #[test]
    fn query_params() {
        let from = chrono::DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let q = JournalQuery::new()
            .page_size(5000)
            .kind("Message")
            .window(Some(from), None);
        let p = q.to_params(0);
        assert!(p.contains(&("pageSize", "1000".to_owned())));
        assert!(p.contains(&("page", "1".to_owned())));
        assert!(p.contains(&("from", "2024-05-01T00:00:00.000Z".to_owned())));
        assert!(p.contains(&("type", "Message".to_owned())));
    }
}

//! What the simulated Twilio account holds, and how a message moves: `queued` (or `accepted` with a
//! Messaging Service, `scheduled` with a schedule) → `sending` → `sent` → `delivered`, or
//! `undelivered`/`failed` with an error code for numbers given an [`Outcome`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use switchboard_core::{MessageId, Segmentation, WebhookRequest};

use super::{SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_FROM, SIM_MESSAGING_SERVICE_SID};
use crate::config::API_VERSION;
use crate::error::mask;

/// How messages to a number end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// `sent → delivered` (the default).
    Delivered,
    /// `sent → undelivered` with this error code (30003 unreachable, 30005 unknown number, 30006 landline…).
    Undelivered(i64),
    /// `queued → failed` with this error code (30008 unknown error, 30007 filtered…).
    Failed(i64),
}

/// An error the next request receives instead of its answer, in Twilio's envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimError {
    /// HTTP status (and the body's `status`).
    pub status: u16,
    /// Twilio's error code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// `Retry-After` in seconds.
    pub retry_after: Option<u64>,
}

impl SimError {
    /// An error with this status, code and message.
    pub fn new(status: u16, code: i64, message: impl Into<String>) -> Self {
        SimError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Twilio's 429 / 20429 "Too Many Requests", with `Retry-After`.
    pub fn rate_limited(retry_after: Option<u64>) -> Self {
        SimError {
            retry_after,
            ..SimError::new(429, 20429, "Too Many Requests")
        }
    }

    /// Adds `Retry-After`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
}

/// A message the simulator holds.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct SimMessage {
    /// `SM…`/`MM…`.
    pub sid: String,
    /// Recipient.
    pub to: String,
    /// Sender; `None` until a Messaging Service picks one.
    pub from: Option<String>,
    /// Text.
    pub body: String,
    /// The Messaging Service it went through.
    pub messaging_service_sid: Option<String>,
    /// Current status.
    pub status: String,
    /// Every status it had, in order.
    pub history: Vec<String>,
    /// Where status callbacks go.
    pub status_callback: Option<String>,
    /// Error code of a failed/undelivered message.
    pub error_code: Option<i64>,
    /// `outbound-api` or `inbound`.
    pub direction: String,
    /// Segments.
    pub num_segments: u32,
    /// Media URLs.
    pub media: Vec<String>,
    /// Created.
    pub date_created: DateTime<Utc>,
    /// Last change.
    pub date_updated: DateTime<Utc>,
    /// When it reached `sent`.
    pub date_sent: Option<DateTime<Utc>>,
}

impl SimMessage {
    /// A message from the account's number to `to` that the simulator never took: what a triggered
    /// status callback names when the account has sent nothing yet.
    pub(super) fn stand_in(from: &str, to: &str) -> SimMessage {
        let now = Utc::now();
        SimMessage {
            sid: new_sid("SM"),
            to: to.to_owned(),
            from: Some(from.to_owned()),
            body: String::new(),
            messaging_service_sid: None,
            status: "queued".into(),
            history: vec!["queued".into()],
            status_callback: None,
            error_code: None,
            direction: "outbound-api".into(),
            num_segments: 1,
            media: Vec::new(),
            date_created: now,
            date_updated: now,
            date_sent: None,
        }
    }

    /// Whether the account sent it (rather than received it).
    pub fn is_outbound(&self) -> bool {
        self.direction.starts_with("outbound")
    }
}

impl fmt::Debug for SimMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimMessage")
            .field("sid", &self.sid)
            .field("to", &mask(&self.to))
            .field("status", &self.status)
            .field("history", &self.history)
            .field("error_code", &self.error_code)
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

/// A webhook to push: where, and the parameters to sign and post.
pub(super) type Push = (String, Vec<(String, String)>);

/// A webhook the simulator pushed, and whether the host answered 2xx.
pub(super) struct Pushed {
    pub(super) request: WebhookRequest,
    pub(super) acknowledged: bool,
}

pub(super) struct State {
    pub(super) account_sid: String,
    pub(super) auth_token: String,
    pub(super) numbers: Vec<String>,
    pub(super) services: Vec<String>,
    pub(super) messages: Vec<SimMessage>,
    pub(super) outcomes: HashMap<String, Outcome>,
    pub(super) unsubscribed: HashSet<String>,
    pub(super) errors: VecDeque<SimError>,
    /// The account's status callback, for messages created without one.
    pub(super) status_callback: Option<String>,
    pub(super) pushed: Vec<Pushed>,
}

impl State {
    pub(super) fn new() -> Self {
        State {
            account_sid: SIM_ACCOUNT_SID.to_owned(),
            auth_token: SIM_AUTH_TOKEN.to_owned(),
            numbers: vec![SIM_FROM.to_owned()],
            services: vec![SIM_MESSAGING_SERVICE_SID.to_owned()],
            messages: Vec::new(),
            outcomes: HashMap::new(),
            unsubscribed: HashSet::new(),
            errors: VecDeque::new(),
            status_callback: None,
            pushed: Vec::new(),
        }
    }

    pub(super) fn message_mut(&mut self, sid: &str) -> Option<&mut SimMessage> {
        self.messages.iter_mut().find(|m| m.sid == sid)
    }

    pub(super) fn message(&self, sid: &str) -> Option<&SimMessage> {
        self.messages.iter().find(|m| m.sid == sid)
    }

    /// Moves one message one status on; the new status and the callback to push, if any.
    fn step(&mut self, sid: &str) -> Option<(String, Option<Push>)> {
        let account = self.account_sid.clone();
        let pool_number = self.numbers.first().cloned();
        let outcome = {
            let m = self.message(sid)?;
            self.outcomes.get(&m.to).copied().unwrap_or(Outcome::Delivered)
        };
        let m = self.message_mut(sid)?;
        if m.direction != "outbound-api" {
            return None;
        }
        let (next, error) = match (m.status.as_str(), outcome) {
            ("scheduled", _) => ("queued", None),
            ("accepted", _) => ("queued", None),
            ("queued", Outcome::Failed(code)) => ("failed", Some(code)),
            ("queued", _) => ("sending", None),
            ("sending", _) => ("sent", None),
            ("sent", Outcome::Undelivered(code)) => ("undelivered", Some(code)),
            ("sent", _) => ("delivered", None),
            _ => return None,
        };
        let now = Utc::now();
        m.status = next.to_owned();
        m.history.push(next.to_owned());
        m.error_code = error;
        m.date_updated = now;
        if next == "queued" && m.from.is_none() {
            // A Messaging Service picks the sender from its pool when the message leaves `accepted`.
            m.from = pool_number;
        }
        if next == "sent" {
            m.date_sent = Some(now);
        }
        let push = m
            .status_callback
            .clone()
            .map(|url| (url, status_params(&account, m, error)));
        Some((next.to_owned(), push))
    }

    /// Moves every message that is not final one status on; the callbacks to push.
    pub(super) fn step_all(&mut self) -> Vec<Push> {
        let sids: Vec<String> = self.messages.iter().map(|m| m.sid.clone()).collect();
        sids.iter()
            .filter_map(|sid| self.step(sid).and_then(|(_, p)| p))
            .collect()
    }

    /// Keeps an incoming message and answers the parameters Twilio posts to the number's messaging
    /// webhook for it.
    pub(super) fn receive(&mut self, from: &str, to: &str, body: &str) -> (String, Vec<(String, String)>) {
        let sid = new_sid("SM");
        let now = Utc::now();
        let segments = segments(body);
        self.messages.push(SimMessage {
            sid: sid.clone(),
            to: to.to_owned(),
            from: Some(from.to_owned()),
            body: body.to_owned(),
            messaging_service_sid: None,
            status: "received".into(),
            history: vec!["received".into()],
            status_callback: None,
            error_code: None,
            direction: "inbound".into(),
            num_segments: segments,
            media: Vec::new(),
            date_created: now,
            date_updated: now,
            date_sent: Some(now),
        });
        let num_segments = segments.to_string();
        let params = [
            ("AccountSid", self.account_sid.as_str()),
            ("ApiVersion", API_VERSION),
            ("Body", body),
            ("From", from),
            ("MessageSid", sid.as_str()),
            ("NumMedia", "0"),
            ("NumSegments", num_segments.as_str()),
            ("SmsMessageSid", sid.as_str()),
            ("SmsSid", sid.as_str()),
            ("SmsStatus", "received"),
            ("To", to),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        (sid, params)
    }
}

/// The parameters of a status callback for `m` at its current status, as Twilio posts them.
pub(super) fn status_params(account: &str, m: &SimMessage, error: Option<i64>) -> Vec<(String, String)> {
    let mut p = vec![
        ("AccountSid".to_owned(), account.to_owned()),
        ("ApiVersion".to_owned(), API_VERSION.to_owned()),
        ("From".to_owned(), m.from.clone().unwrap_or_default()),
        ("MessageSid".to_owned(), m.sid.clone()),
        ("MessageStatus".to_owned(), m.status.clone()),
        ("SmsSid".to_owned(), m.sid.clone()),
        ("SmsStatus".to_owned(), m.status.clone()),
        ("To".to_owned(), m.to.clone()),
    ];
    if let Some(ms) = &m.messaging_service_sid {
        p.push(("MessagingServiceSid".to_owned(), ms.clone()));
    }
    if let Some(code) = error {
        p.push(("ErrorCode".to_owned(), code.to_string()));
    }
    p
}

pub(super) fn new_sid(prefix: &str) -> String {
    format!("{prefix}{}", MessageId::random().as_str())
}

pub(super) fn segments(body: &str) -> u32 {
    u32::try_from(Segmentation::of(body).segments).unwrap_or(u32::MAX)
}

/// The state behind its lock, shared by the server's handler and the test's handle.
pub(super) struct Shared {
    state: Mutex<State>,
    pub(super) http: reqwest::Client,
}

impl Shared {
    pub(super) fn new(http: reqwest::Client) -> Self {
        Shared {
            state: Mutex::new(State::new()),
            http,
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

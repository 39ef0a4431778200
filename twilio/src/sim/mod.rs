//! A Twilio Messages simulator (feature `sim`), wire-compatible enough for Twilio's own helper
//! libraries pointed at it.
//!
//! What it models, following Twilio's Messages API reference
//! (<https://www.twilio.com/docs/messaging/api/message-resource>):
//!
//! * `POST/GET /2010-04-01/Accounts/{AccountSid}/Messages.json` (create; list with `To`, `From`,
//!   `DateSent`, `DateSent<`, `DateSent>`, `PageSize` (1–1000), `Page` and `next_page_uri` paging),
//!   `GET/POST/DELETE …/Messages/{Sid}.json` (fetch, cancel a scheduled message with
//!   `Status=canceled`, redact with `Body=`, delete → 204), and `GET /2010-04-01/Accounts/{AccountSid}.json`.
//! * HTTP Basic auth `AccountSid:AuthToken` (401, code 20003, otherwise); form-encoded PascalCase
//!   parameters; JSON answers with the real field names (string `num_segments`/`num_media`/`price`,
//!   RFC 2822 dates, `error_message` beside `error_code`, `uri`, `subresource_uris`); create answers 201.
//! * Errors as `{code, message, more_info, status}`. A create is refused as Twilio refuses it, with
//!   Twilio's codes: the table is in the `create` module. An unsubscribed recipient
//!   ([`Simulator::unsubscribe`]) gets 21610, an unknown SID 20404. Any other error, such as 429 /
//!   20429 with `Retry-After`, on demand with [`Simulator::queue_error`].
//! * State: `queued` (or `accepted` with a Messaging Service, `scheduled` with `ScheduleType=fixed`),
//!   then `sending → sent → delivered`, or `undelivered`/`failed` with an `ErrorCode` for numbers given
//!   an [`Outcome`]. States move when the test calls [`Simulator::advance`],
//!   [`Simulator::advance_all`] or [`Simulator::deliver`], or on a timer ([`Simulator::auto_advance`]).
//!   A message is priced ([`SIM_PRICE_PER_SEGMENT_MICROS`] a segment, USD) once it is sent.
//! * Every change after the initial status is pushed to the message's `StatusCallback` as a form POST
//!   signed with `X-Twilio-Signature` (the auth token over the URL and the sorted parameters), and the
//!   answer is recorded ([`Simulator::pushes`]). [`Simulator::send_inbound`] pushes a signed incoming
//!   message to a URL, as Twilio does for a number's messaging webhook.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{MessageId, SecretString, Segmentation};

use super::config::API_VERSION;
use super::error::mask;
use super::webhook::{SIGNATURE_HEADER, signature};

mod api;
mod create;

pub use create::{INVALID_PARAMETER, MAX_MEDIA};

/// The simulator's Account SID.
pub const SIM_ACCOUNT_SID: &str = "AC5e1a1e5e1a1e5e1a1e5e1a1e5e1a1e5e";
/// The simulator's auth token.
pub const SIM_AUTH_TOKEN: &str = "5e1a1e00000000000000000000c0ffee";
/// The number the simulated account owns (Twilio's own magic "valid From" test number).
pub const SIM_FROM: &str = "+15005550006";
/// The Messaging Service the simulated account has; its pool holds [`SIM_FROM`].
pub const SIM_MESSAGING_SERVICE_SID: &str = "MG5e1a1e5e1a1e5e1a1e5e1a1e5e1a1e5e";
/// The price of one segment in millionths of a dollar (Twilio shows prices negative, as strings).
pub const SIM_PRICE_PER_SEGMENT_MICROS: i64 = 7_900;

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

/// An error the next request receives instead of its answer.
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

/// A webhook the simulator pushed, and the host's answer. `Debug` shows parameter names only.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedWebhook {
    /// Where it went.
    pub url: String,
    /// The signed form parameters.
    pub params: Vec<(String, String)>,
    /// The `X-Twilio-Signature` sent.
    pub signature: String,
    /// The host's status; `None` when the connection failed.
    pub status: Option<u16>,
    /// The host's answer body.
    pub answer: String,
}

impl fmt::Debug for PushedWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushedWebhook")
            .field("url", &switchboard_core::secret::redact_url(&self.url))
            .field(
                "params",
                &self.params.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            )
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

struct State {
    account_sid: String,
    auth_token: String,
    numbers: Vec<String>,
    services: Vec<String>,
    messages: Vec<SimMessage>,
    outcomes: HashMap<String, Outcome>,
    unsubscribed: HashSet<String>,
    errors: VecDeque<SimError>,
    pushes: Vec<PushedWebhook>,
}

impl State {
    fn message_mut(&mut self, sid: &str) -> Option<&mut SimMessage> {
        self.messages.iter_mut().find(|m| m.sid == sid)
    }

    fn message(&self, sid: &str) -> Option<&SimMessage> {
        self.messages.iter().find(|m| m.sid == sid)
    }
}

struct Inner {
    state: Mutex<State>,
    http: reqwest::Client,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The Twilio simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    inner: Arc<Inner>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.uri())
            .finish_non_exhaustive()
    }
}

/// A webhook to push: URL and signed parameters.
type Push = (String, Vec<(String, String)>);

impl Simulator {
    fn inner() -> Arc<Inner> {
        let http = HttpOptions::default()
            .timeout(Duration::from_secs(5))
            .build_client()
            .unwrap_or_default();
        Arc::new(Inner {
            state: Mutex::new(State {
                account_sid: SIM_ACCOUNT_SID.to_owned(),
                auth_token: SIM_AUTH_TOKEN.to_owned(),
                numbers: vec![SIM_FROM.to_owned()],
                services: vec![SIM_MESSAGING_SERVICE_SID.to_owned()],
                messages: Vec::new(),
                outcomes: HashMap::new(),
                unsubscribed: HashSet::new(),
                errors: VecDeque::new(),
                pushes: Vec::new(),
            }),
            http,
        })
    }

    fn handler(inner: &Arc<Inner>) -> switchboard_core::testkit::Handler {
        let inner = inner.clone();
        Arc::new(move |req: &Request| {
            let mut st = inner.lock();
            api::handle(&mut st, req)
        })
    }

    fn finish(server: SimServer, inner: Arc<Inner>) -> Simulator {
        Simulator { server, inner }
    }

    /// Starts on a free loopback port.
    pub async fn start() -> Simulator {
        let inner = Self::inner();
        let server = SimServer::start(Self::handler(&inner)).await;
        Self::finish(server, inner)
    }

    /// Starts on `127.0.0.1:port` (for `switchboard sim twilio --port P`); request recording is off.
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let inner = Self::inner();
        let server = SimServer::start_on_port(port, Self::handler(&inner)).await?;
        Ok(Self::finish(server, inner))
    }

    /// The base URL, `http://127.0.0.1:PORT` (the equivalent of `https://api.twilio.com`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A DSN for this simulator: the simulated account's credentials and its number as sender.
    pub fn dsn(&self) -> String {
        let a = self.server.address();
        format!(
            "twilio://{SIM_ACCOUNT_SID}:{SIM_AUTH_TOKEN}@{}:{}?from=%2B{}",
            a.ip(),
            a.port(),
            SIM_FROM.trim_start_matches('+')
        )
    }

    /// HTTP-level faults for the next requests.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every request received (empty for a simulator started with [`Simulator::start_on_port`]).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// The Account SID.
    pub fn account_sid(&self) -> String {
        self.inner.lock().account_sid.clone()
    }

    /// The auth token, which also signs the webhooks the simulator pushes.
    pub fn auth_token(&self) -> SecretString {
        SecretString::from(self.inner.lock().auth_token.clone())
    }

    /// Gives the account another number it may send from.
    pub fn add_number(&self, number: &str) {
        self.inner.lock().numbers.push(number.to_owned());
    }

    /// Messages to `to` end this way.
    pub fn set_outcome(&self, to: &str, outcome: Outcome) {
        self.inner.lock().outcomes.insert(to.to_owned(), outcome);
    }

    /// The recipient replied STOP: creates to it fail with 21610.
    pub fn unsubscribe(&self, to: &str) {
        self.inner.lock().unsubscribed.insert(to.to_owned());
    }

    /// The next authenticated request gets this error.
    pub fn queue_error(&self, error: SimError) {
        self.inner.lock().errors.push_back(error);
    }

    /// Every message, oldest first.
    pub fn messages(&self) -> Vec<SimMessage> {
        self.inner.lock().messages.clone()
    }

    /// One message.
    pub fn message(&self, sid: &str) -> Option<SimMessage> {
        self.inner.lock().message(sid).cloned()
    }

    /// Every webhook pushed so far.
    pub fn pushes(&self) -> Vec<PushedWebhook> {
        self.inner.lock().pushes.clone()
    }

    /// Moves a message one status on and pushes the signed status callback. Returns the new status;
    /// `None` when the message is unknown or final.
    pub async fn advance(&self, sid: &str) -> Option<String> {
        let (status, push) = {
            let mut st = self.inner.lock();
            step(&mut st, sid)?
        };
        if let Some(p) = push {
            deliver_push(&self.inner, p).await;
        }
        Some(status)
    }

    /// Moves every message that is not final one status on. Returns how many moved.
    pub async fn advance_all(&self) -> usize {
        advance_all(&self.inner).await
    }

    /// Moves a message to its final status, pushing every change. Returns the final status.
    pub async fn deliver(&self, sid: &str) -> Option<String> {
        let mut last = None;
        while let Some(s) = self.advance(sid).await {
            last = Some(s);
        }
        last
    }

    /// Advances every message every `every`, until the simulator is dropped. Needs a Tokio runtime.
    pub fn auto_advance(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        switchboard_core::testkit::every(Arc::downgrade(&self.inner), every, |inner: Arc<Inner>| async move {
            advance_all(&inner).await;
        })
    }

    /// Pushes a signed incoming SMS to `url`, as Twilio calls a number's messaging webhook, and keeps it
    /// as an inbound message. Returns the message SID and the host's HTTP status (`None` when the
    /// connection failed).
    pub async fn send_inbound(&self, url: &str, from: &str, to: &str, body: &str) -> (String, Option<u16>) {
        let (sid, push) = {
            let mut st = self.inner.lock();
            let sid = new_sid("SM");
            let now = Utc::now();
            let segments = segments(body);
            st.messages.push(SimMessage {
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
            let params = vec![
                ("AccountSid".to_owned(), st.account_sid.clone()),
                ("ApiVersion".to_owned(), API_VERSION.to_owned()),
                ("Body".to_owned(), body.to_owned()),
                ("From".to_owned(), from.to_owned()),
                ("MessageSid".to_owned(), sid.clone()),
                ("NumMedia".to_owned(), "0".to_owned()),
                ("NumSegments".to_owned(), segments.to_string()),
                ("SmsMessageSid".to_owned(), sid.clone()),
                ("SmsSid".to_owned(), sid.clone()),
                ("SmsStatus".to_owned(), "received".to_owned()),
                ("To".to_owned(), to.to_owned()),
            ];
            (sid, (url.to_owned(), params))
        };
        let status = deliver_push(&self.inner, push).await;
        (sid, status)
    }
}

fn new_sid(prefix: &str) -> String {
    format!("{prefix}{}", MessageId::random().as_str())
}

fn segments(body: &str) -> u32 {
    u32::try_from(Segmentation::of(body).segments).unwrap_or(u32::MAX)
}

/// Moves one message one status on; returns the new status and the callback to push, if any.
fn step(st: &mut State, sid: &str) -> Option<(String, Option<Push>)> {
    let account = st.account_sid.clone();
    let pool_number = st.numbers.first().cloned();
    let outcome = {
        let m = st.message(sid)?;
        st.outcomes.get(&m.to).copied().unwrap_or(Outcome::Delivered)
    };
    let m = st.message_mut(sid)?;
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
    let push = m.status_callback.clone().map(|url| {
        let mut p = vec![
            ("AccountSid".to_owned(), account),
            ("ApiVersion".to_owned(), API_VERSION.to_owned()),
            ("From".to_owned(), m.from.clone().unwrap_or_default()),
            ("MessageSid".to_owned(), m.sid.clone()),
            ("MessageStatus".to_owned(), next.to_owned()),
            ("SmsSid".to_owned(), m.sid.clone()),
            ("SmsStatus".to_owned(), next.to_owned()),
            ("To".to_owned(), m.to.clone()),
        ];
        if let Some(ms) = &m.messaging_service_sid {
            p.push(("MessagingServiceSid".to_owned(), ms.clone()));
        }
        if let Some(code) = error {
            p.push(("ErrorCode".to_owned(), code.to_string()));
        }
        (url, p)
    });
    Some((next.to_owned(), push))
}

async fn advance_all(inner: &Arc<Inner>) -> usize {
    let pushes: Vec<Option<Push>> = {
        let mut st = inner.lock();
        let sids: Vec<String> = st.messages.iter().map(|m| m.sid.clone()).collect();
        sids.iter()
            .filter_map(|sid| step(&mut st, sid).map(|(_, p)| p))
            .collect()
    };
    let n = pushes.len();
    for p in pushes.into_iter().flatten() {
        deliver_push(inner, p).await;
    }
    n
}

/// Signs and posts a webhook, and records it with the host's answer.
async fn deliver_push(inner: &Arc<Inner>, (url, params): Push) -> Option<u16> {
    let token = SecretString::from(inner.lock().auth_token.clone());
    let sig = signature(&token, &url, &params);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let sent = inner
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .header(SIGNATURE_HEADER, &sig)
        .header("i-twilio-idempotency-token", MessageId::random().as_str())
        .header("user-agent", "TwilioProxy/1.1")
        .body(body)
        .send()
        .await;
    let (status, answer) = match sent {
        Ok(r) => {
            let s = r.status().as_u16();
            (Some(s), r.text().await.unwrap_or_default())
        }
        Err(_) => (None, String::new()),
    };
    inner.lock().pushes.push(PushedWebhook {
        url,
        params,
        signature: sig,
        status,
        answer,
    });
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulated_sids_are_well_formed() {
        use super::super::config::is_sid;
        assert!(is_sid(SIM_ACCOUNT_SID, "AC") && is_sid(SIM_MESSAGING_SERVICE_SID, "MG"));
    }

    #[test]
    fn price_format() {
        let st = State {
            account_sid: SIM_ACCOUNT_SID.into(),
            auth_token: SIM_AUTH_TOKEN.into(),
            numbers: vec![],
            services: vec![],
            messages: vec![],
            outcomes: HashMap::new(),
            unsubscribed: HashSet::new(),
            errors: VecDeque::new(),
            pushes: vec![],
        };
        let now = Utc::now();
        let m = SimMessage {
            sid: "SM1".into(),
            to: "+1".into(),
            from: None,
            body: String::new(),
            messaging_service_sid: None,
            status: "sent".into(),
            history: vec![],
            status_callback: None,
            error_code: None,
            direction: "outbound-api".into(),
            num_segments: 2,
            media: vec![],
            date_created: now,
            date_updated: now,
            date_sent: Some(now),
        };
        let v = api::resource(&st, &m);
        assert_eq!(v["price"], "-0.01580");
        assert_eq!(v["error_message"], serde_json::Value::Null);
    }
}

//! What TeleCMI pushes: call detail records (`"type":"cdr"`) and live call events (`"type":"event"`).
//!
//! TeleCMI does not sign its callbacks (its webhook pages on doc.telecmi.com describe no signature), so
//! the callback URLs configured in the
//! dashboard carry a shared secret (`https://crm.example/hooks/telecmi?token=SECRET`) and
//! [`TeleCmiWebhook`] believes only requests that carry it (core's
//! [`verify_url_token`], constant-time). Verification is on unless turned off explicitly, and
//! refuses to run without a secret.
//!
//! Decoding is tolerant of every documented inconsistency, because the same field arrives in
//! different shapes from one payload to the next:
//!
//! * `appid` in CDRs, `app_id` in live events; `cmiuuid` in webhooks, `cmiuid` in the pull APIs;
//! * `from`, `to`, `virtual_number` as JSON numbers or strings;
//! * `custom` and `extra_params` as JSON encoded into a string (or, defensively, as objects);
//! * `record`, `voicemail`, `click_to_call` as `true` or `"true"`;
//! * the dashboard can send callbacks by GET, so the fields may come as query parameters;
//! * a body may be one object or a list of them.
//!
//! Each push becomes a [`CallNotification`] (every field typed, the payload kept whole in `raw`) and a
//! core [`Event::Call`]. The correlation id the client put into `extra_params` when it placed the call
//! comes back as [`CallEvent::correlation`], so a host matches a webhook to the click that caused it.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use switchboard_core::webhook::{Handled, Webhook, WebhookRequest, verify_url_token};
use switchboard_core::{
    CallEvent, CallState, Error, ErrorKind, Event, Journal, JournalEntry, JournalRecord, MessageId, Result,
    SecretString,
};

use crate::SCHEME;
use crate::config::TeleCmiConfig;
use crate::event::{CallEventParts, call_event};
use crate::flex;
use crate::model::{CORRELATION_KEY, Party};

/// What kind of push it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PushKind {
    /// A call detail record, sent when a call (or one leg of it) ends.
    Cdr,
    /// A live call event (waiting, started, answered, hangup).
    Event,
    /// Something else, named as TeleCMI named it.
    Other(String),
}

/// The call's direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Direction {
    /// A customer called in.
    Inbound,
    /// An agent called out (click-to-call included).
    Outbound,
    /// Another word.
    Other(String),
}

/// Which leg of a bridged call a push is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Leg {
    /// Leg A: the agent's leg of an outgoing call, the caller's leg of an incoming one.
    A,
    /// Leg B: the customer's leg of an outgoing call, the agent's leg of an incoming one.
    B,
    /// Another word.
    Other(String),
}

/// TeleCMI's `status`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallStatus {
    /// Live: the call is waiting (queued, ringing).
    Waiting,
    /// Live: the first leg is up.
    Started,
    /// Live or CDR: answered.
    Answered,
    /// Live: the call ended.
    Hangup,
    /// CDR: nobody answered.
    Missed,
    /// Another word.
    Other(String),
}

impl CallStatus {
    /// TeleCMI's word for it.
    pub fn as_str(&self) -> &str {
        match self {
            CallStatus::Waiting => "waiting",
            CallStatus::Started => "started",
            CallStatus::Answered => "answered",
            CallStatus::Hangup => "hangup",
            CallStatus::Missed => "missed",
            CallStatus::Other(s) => s,
        }
    }

    fn parse(s: &str) -> CallStatus {
        match s.to_ascii_lowercase().as_str() {
            "waiting" => CallStatus::Waiting,
            "started" => CallStatus::Started,
            "answered" => CallStatus::Answered,
            "hangup" => CallStatus::Hangup,
            "missed" => CallStatus::Missed,
            _ => CallStatus::Other(s.to_owned()),
        }
    }
}

/// Why a call ended (`hangup_reason`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HangupReason {
    /// `sent_bye`: the agent hung up.
    SentBye,
    /// `recv_bye`: the other side hung up.
    RecvBye,
    /// `recv_cancel`: the agent did not answer.
    RecvCancel,
    /// `sent_reject`: the agent rejected the call.
    SentReject,
    /// Another word.
    Other(String),
}

impl HangupReason {
    fn parse(s: &str) -> HangupReason {
        match s {
            "sent_bye" => HangupReason::SentBye,
            "recv_bye" => HangupReason::RecvBye,
            "recv_cancel" => HangupReason::RecvCancel,
            "sent_reject" => HangupReason::SentReject,
            _ => HangupReason::Other(s.to_owned()),
        }
    }

    /// Whether the call ended without being answered.
    pub fn unanswered(&self) -> bool {
        matches!(self, HangupReason::RecvCancel | HangupReason::SentReject)
    }
}

/// One push from TeleCMI, decoded. Debug masks the numbers and leaves `raw` out.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct CallNotification {
    /// CDR or live event.
    pub kind: PushKind,
    /// TeleCMI's `status`.
    pub status: Option<CallStatus>,
    /// `direction`.
    pub direction: Option<Direction>,
    /// `leg`.
    pub leg: Option<Leg>,
    /// The app id (`appid` or `app_id`).
    pub app_id: Option<u64>,
    /// The leg's id (`cmiuuid` or `cmiuid`).
    pub cmiuuid: Option<String>,
    /// The conversation's id, shared by the legs of one call.
    pub conversation_uuid: Option<String>,
    /// `call_id` (outgoing calls).
    pub call_id: Option<String>,
    /// The click-to-call's `request_id`, as the click-to-call answer gave it.
    pub request_id: Option<String>,
    /// The caller.
    pub from: Option<Party>,
    /// The called party.
    pub to: Option<Party>,
    /// The TeleCMI number the call came in on.
    pub virtual_number: Option<Party>,
    /// The caller id shown.
    pub callerid: Option<Party>,
    /// The user (agent) on the call.
    pub user: Option<String>,
    /// The team the call went to.
    pub team: Option<String>,
    /// When it happened.
    pub time: Option<DateTime<Utc>>,
    /// Seconds of conversation (`answeredsec`).
    pub answered_secs: Option<u64>,
    /// Seconds the caller waited (`waitedsec`).
    pub waited_secs: Option<u64>,
    /// Why it ended.
    pub hangup_reason: Option<HangupReason>,
    /// Whether it was recorded.
    pub record: Option<bool>,
    /// The recording's file.
    pub filename: Option<String>,
    /// Whether a voicemail was left.
    pub voicemail: Option<bool>,
    /// The voicemail's file.
    pub voicename: Option<String>,
    /// The IVR the call went through.
    pub ivr_name: Option<String>,
    /// Whether it was a click-to-call.
    pub click_to_call: Option<bool>,
    /// `custom`, decoded from its JSON string.
    pub custom: Option<Value>,
    /// `extra_params`, decoded from its JSON string.
    pub extra_params: Option<Value>,
    /// The payload as it came.
    pub raw: Value,
}

impl CallNotification {
    /// Decodes one payload. Never fails: anything of an unexpected shape reads as absent and stays in
    /// `raw`; a payload that is not an object is kept as [`PushKind::Other`].
    pub fn from_value(raw: Value) -> CallNotification {
        let empty = Map::new();
        let m = raw.as_object().unwrap_or(&empty);
        let kind = match flex::string(m, &["type"]).map(|t| t.to_ascii_lowercase()) {
            Some(t) if t == "cdr" => PushKind::Cdr,
            Some(t) if t == "event" => PushKind::Event,
            Some(t) => PushKind::Other(t),
            None if raw.is_object() => infer_kind(m),
            None => PushKind::Other("not an object".to_owned()),
        };
        CallNotification {
            kind,
            status: flex::string(m, &["status"]).map(|s| CallStatus::parse(&s)),
            direction: flex::string(m, &["direction"]).map(|d| match d.to_ascii_lowercase().as_str() {
                "inbound" | "incoming" => Direction::Inbound,
                "outbound" | "outgoing" => Direction::Outbound,
                _ => Direction::Other(d),
            }),
            leg: flex::string(m, &["leg"]).map(|l| match l.to_ascii_lowercase().as_str() {
                "a" => Leg::A,
                "b" => Leg::B,
                _ => Leg::Other(l),
            }),
            app_id: flex::u64_of(m, &["appid", "app_id"]),
            cmiuuid: flex::string(m, &["cmiuuid", "cmiuid"]),
            conversation_uuid: flex::string(m, &["conversation_uuid"]),
            call_id: flex::string(m, &["call_id"]),
            request_id: flex::string(m, &["request_id"]),
            from: Party::read(m, &["from"]),
            to: Party::read(m, &["to"]),
            virtual_number: Party::read(m, &["virtual_number"]),
            callerid: Party::read(m, &["callerid"]),
            user: flex::string(m, &["user", "agent"]),
            team: flex::string(m, &["team"]),
            time: flex::time_of(m, &["time"]),
            answered_secs: flex::u64_of(m, &["answeredsec"]),
            waited_secs: flex::u64_of(m, &["waitedsec"]),
            hangup_reason: flex::string(m, &["hangup_reason"]).map(|r| HangupReason::parse(&r)),
            record: flex::bool_of(m, &["record"]),
            filename: flex::string(m, &["filename"]),
            voicemail: flex::bool_of(m, &["voicemail"]),
            voicename: flex::string(m, &["voicename"]),
            ivr_name: flex::string(m, &["ivr_name"]),
            click_to_call: flex::bool_of(m, &["click_to_call"]),
            custom: flex::json_of(m, &["custom"]),
            extra_params: flex::json_of(m, &["extra_params"]),
            raw,
        }
    }

    /// The id that names the whole call: the click-to-call's `request_id` when there is one (the click
    /// answer, every event and both CDR legs carry it), else the `conversation_uuid` the legs share,
    /// else `call_id`, else the leg's `cmiuuid`.
    pub fn call_key(&self) -> Option<&str> {
        self.request_id
            .as_deref()
            .or(self.conversation_uuid.as_deref())
            .or(self.call_id.as_deref())
            .or(self.cmiuuid.as_deref())
    }

    /// The correlation id the client sent with the call (under [`CORRELATION_KEY`] in `extra_params`,
    /// or in `custom` for legacy calls). When the call carries extra parameters without that key (a
    /// call placed elsewhere), their JSON text.
    pub fn correlation(&self) -> Option<String> {
        let from_key = |v: &Option<Value>| {
            v.as_ref().and_then(|v| v.get(CORRELATION_KEY)).and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        from_key(&self.extra_params)
            .or_else(|| from_key(&self.custom))
            .or_else(|| match &self.extra_params {
                Some(Value::String(s)) => Some(s.clone()),
                Some(v @ Value::Object(o)) if !o.is_empty() => Some(v.to_string()),
                _ => None,
            })
    }

    /// The normalised state: live `waiting` → `Ringing`, `started` → `Started`, `answered` →
    /// `Answered`, `hangup` → `Completed` (or `Missed` when the hangup reason says nobody answered);
    /// CDR `answered` → `Completed`, `missed` → `Missed`.
    pub fn state(&self) -> CallState {
        let unanswered = self.hangup_reason.as_ref().is_some_and(HangupReason::unanswered);
        match (&self.kind, &self.status) {
            (_, Some(CallStatus::Waiting)) => CallState::Ringing,
            (_, Some(CallStatus::Started)) => CallState::Started,
            (PushKind::Cdr, Some(CallStatus::Answered)) => CallState::Completed,
            (_, Some(CallStatus::Answered)) => CallState::Answered,
            (_, Some(CallStatus::Hangup)) if unanswered => CallState::Missed,
            (_, Some(CallStatus::Hangup)) => CallState::Completed,
            (_, Some(CallStatus::Missed)) => CallState::Missed,
            _ => CallState::Unknown,
        }
    }

    /// The push as a core call event.
    pub fn call_event(&self) -> CallEvent {
        call_event(CallEventParts {
            call_id: self.call_key().unwrap_or_default().to_owned(),
            state: self.state(),
            raw_state: self.status.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            from: self.from.as_ref().map(|p| p.as_str().to_owned()),
            to: self.to.as_ref().map(|p| p.as_str().to_owned()),
            at: self.time,
            duration_secs: self.answered_secs,
            correlation: self.correlation(),
            raw: self.raw.clone(),
        })
    }

    /// The push as a core event: a [`Event::Call`] for CDRs and live events, [`Event::Other`] for
    /// anything else.
    pub fn to_event(&self) -> Event {
        match &self.kind {
            PushKind::Cdr | PushKind::Event => Event::Call(self.call_event()),
            PushKind::Other(k) => Event::Other {
                kind: format!("telecmi:{k}"),
                raw: self.raw.clone(),
            },
        }
    }
}

/// A payload without `type`: a `status` of the live vocabulary makes it an event, a CDR-only field
/// (`answeredsec`, `waitedsec`, `hangup_reason`, `filename`) a CDR.
fn infer_kind(m: &Map<String, Value>) -> PushKind {
    let status = flex::string(m, &["status"]).map(|s| s.to_ascii_lowercase());
    match status.as_deref() {
        Some("waiting" | "started" | "hangup") => PushKind::Event,
        Some("missed") => PushKind::Cdr,
        _ if ["answeredsec", "waitedsec", "billedsec", "filename"]
            .iter()
            .any(|k| m.contains_key(*k)) =>
        {
            PushKind::Cdr
        }
        Some(_) => PushKind::Event,
        None => PushKind::Other("untyped".to_owned()),
    }
}

impl fmt::Debug for CallNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallNotification")
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("direction", &self.direction)
            .field("leg", &self.leg)
            .field("call_key", &self.call_key())
            .field("cmiuuid", &self.cmiuuid)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("user", &self.user)
            .field("time", &self.time)
            .field("answered_secs", &self.answered_secs)
            .field("hangup_reason", &self.hangup_reason)
            .field("correlation", &self.correlation())
            .finish()
    }
}

/// The payloads of a request: a JSON object or list of objects in the body, form fields, or (for
/// GET callbacks) the query parameters without the secret.
pub fn decode_payloads(request: &WebhookRequest, secret_param: &str) -> Result<Vec<Value>> {
    request.check_size()?;
    let invalid =
        |why: &str| Error::new(ErrorKind::InvalidInput, format!("the TeleCMI webhook {why}")).with_provider(SCHEME);
    let body = request.body.as_ref();
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        let fields: Map<String, Value> = request
            .query_pairs()
            .into_iter()
            .filter(|(k, _)| k != secret_param)
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        if fields.is_empty() {
            return Err(invalid("carries no payload (empty body and no query fields)"));
        }
        return Ok(vec![Value::Object(fields)]);
    }
    let form = request
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if form && !trimmed.starts_with(b"{") && !trimmed.starts_with(b"[") {
        let fields: Map<String, Value> = request
            .form_pairs()?
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        return Ok(vec![Value::Object(fields)]);
    }
    let v: Value = request.json().map_err(|e| e.with_provider(SCHEME))?;
    match v {
        Value::Object(_) => Ok(vec![v]),
        Value::Array(items) if items.is_empty() => Err(invalid("body is an empty list")),
        Value::Array(items) if items.iter().all(Value::is_object) => Ok(items),
        _ => Err(invalid("body is neither a JSON object nor a list of objects")),
    }
}

/// TeleCMI's webhook: verifies and decodes its pushes, and journals each call event. It answers TeleCMI
/// `200` with an empty body.
#[derive(Clone)]
pub struct TeleCmiWebhook {
    secret: Option<SecretString>,
    param: String,
    verify: bool,
    name: String,
    journal: Option<Arc<dyn Journal>>,
}

impl fmt::Debug for TeleCmiWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeleCmiWebhook")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("param", &self.param)
            .field("verify", &self.verify)
            .field("journal", &self.journal.is_some())
            .finish()
    }
}

impl TeleCmiWebhook {
    /// A webhook that checks `?{param}=secret` on every callback URL.
    pub fn new(secret: impl Into<String>) -> Self {
        TeleCmiWebhook {
            secret: Some(SecretString::from(secret.into())),
            param: "token".to_owned(),
            verify: true,
            name: SCHEME.to_owned(),
            journal: None,
        }
    }

    /// The webhook a configuration describes.
    pub fn from_config(config: &TeleCmiConfig) -> Self {
        TeleCmiWebhook {
            secret: config.webhook_secret.clone(),
            param: config.webhook_param.clone(),
            verify: config.verify_webhooks,
            name: config.name.clone(),
            journal: None,
        }
    }

    /// Sets the query parameter that carries the secret.
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = param.into();
        self
    }

    /// Journals each call event.
    pub fn with_journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Decodes every payload of a request into typed notifications, without verifying it.
    pub fn notifications(&self, request: &WebhookRequest) -> Result<Vec<CallNotification>> {
        Ok(decode_payloads(request, &self.param)?
            .into_iter()
            .map(CallNotification::from_value)
            .collect())
    }
}

#[switchboard_core::async_trait]
impl Webhook for TeleCmiWebhook {
    /// Checks the secret in the callback URL. `Config` error when no secret is configured (and
    /// verification was not turned off), `Auth` when the URL's secret is missing or wrong.
    fn verify(&self, request: &WebhookRequest) -> Result<()> {
        if !self.verify {
            return Ok(());
        }
        let Some(secret) = &self.secret else {
            return Err(Error::config(
                "no TeleCMI webhook secret is configured, so webhooks cannot be verified; set webhook_secret",
            )
            .with_provider(SCHEME));
        };
        verify_url_token(request, &self.param, secret).map_err(|e| e.with_provider(SCHEME))
    }

    /// One core event per payload: [`Event::Call`] for CDRs and live events.
    fn decode(&self, request: &WebhookRequest) -> Result<Vec<Event>> {
        Ok(self
            .notifications(request)?
            .iter()
            .map(CallNotification::to_event)
            .collect())
    }

    /// Verifies, decodes and journals: one core event per payload.
    ///
    /// Each call event is journaled as [`JournalRecord::Call`] (with the correlation id as the entry's
    /// message id) before this returns. A journal failure is returned as the error, so the host can
    /// answer TeleCMI with an error rather than acknowledge an event it did not store.
    async fn handle(&self, request: &WebhookRequest) -> Result<Handled> {
        self.verify(request)?;
        let events = self.decode(request)?;
        if let Some(journal) = &self.journal {
            for event in &events {
                if let Event::Call(call) = event {
                    let id = call.correlation.clone().and_then(|c| MessageId::new(c).ok());
                    let record = JournalRecord::Call {
                        transport: self.name.clone(),
                        event: call.clone(),
                    };
                    journal.record(JournalEntry::new(id, record)).await?;
                }
            }
        }
        Ok(Handled::new(events, self.answer()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documented_cdr_samples() {
        let inbound = CallNotification::from_value(json!({
            "virtual_number":440000000000u64,"custom":"{\"crm\":\"true\"}","appid":2222223,"type":"cdr",
            "direction":"inbound","cmiuuid":"16132200","user":"204_2222223","status":"answered","to":440000000001u64,
            "from":440000000002u64,"time":1634720920615u64,"answeredsec":11,"team":"Sales_2222223",
            "hangup_reason":"recv_bye","record":true,"filename":"x.mp3","conversation_uuid":"16132200",
            "ivr_name":"salesivr"}));
        assert_eq!(inbound.kind, PushKind::Cdr);
        assert_eq!(inbound.app_id, Some(2222223));
        assert_eq!(inbound.custom, Some(json!({"crm": "true"})));
        assert_eq!(inbound.state(), CallState::Completed);
        assert_eq!(inbound.call_key(), Some("16132200"));
        assert_eq!(inbound.correlation().as_deref(), None);

        let leg = CallNotification::from_value(json!({
            "virtual_number":"440000000000","call_id":"c4504776","custom":"{\"crm\":\"true\"}","leg":"a",
            "type":"cdr","appid":2222223,"to":442000000000u64,"cmiuuid":"10ee0eb6","status":"answered",
            "user":"202_2222223","time":1650630551178u64,"direction":"outbound","answeredsec":15,
            "hangup_reason":"recv_bye","request_id":"c0Sq3mby","extra_params":"{\"click2call\":\"true\",\"switchboard_ref\":\"deal-7\"}"}));
        assert_eq!(leg.leg, Some(Leg::A));
        assert_eq!(leg.virtual_number.as_ref().unwrap().as_str(), "440000000000");
        assert_eq!(leg.call_key(), Some("c0Sq3mby"));
        assert_eq!(leg.correlation().as_deref(), Some("deal-7"));
        let ev = leg.call_event();
        assert_eq!((ev.state, ev.duration_secs), (CallState::Completed, Some(15)));

        let missed = CallNotification::from_value(json!({
            "type":"cdr","appid":"2222223","to":442000000000u64,"cmiuuid":"m1","status":"missed",
            "user":"202_2222223","time":1650630551178u64,"direction":"outbound","click_to_call":"true"}));
        assert_eq!(missed.app_id, Some(2222223));
        assert_eq!(missed.click_to_call, Some(true));
        assert_eq!(missed.state(), CallState::Missed);
    }

    #[test]
    fn live_events() {
        let e = |status: &str, extra: Value| {
            let mut v = json!({"type":"event","app_id":1111112,"cmiuid":"u","status":status,"direction":"outbound"});
            if let (Some(o), Value::Object(x)) = (v.as_object_mut(), extra) {
                o.extend(x);
            }
            CallNotification::from_value(v)
        };
        assert_eq!(e("waiting", json!({})).state(), CallState::Ringing);
        assert_eq!(e("started", json!({})).state(), CallState::Started);
        assert_eq!(e("answered", json!({})).state(), CallState::Answered);
        assert_eq!(e("hangup", json!({})).state(), CallState::Completed);
        assert_eq!(
            e("hangup", json!({"hangup_reason":"recv_cancel"})).state(),
            CallState::Missed
        );
        assert_eq!(e("teleporting", json!({})).state(), CallState::Unknown);
        assert_eq!(e("waiting", json!({})).cmiuuid.as_deref(), Some("u"));
        assert_eq!(e("waiting", json!({})).app_id, Some(1111112));
    }

    #[test]
    fn kinds_are_inferred_and_garbage_is_kept() {
        assert_eq!(
            CallNotification::from_value(json!({"status":"waiting"})).kind,
            PushKind::Event
        );
        assert_eq!(
            CallNotification::from_value(json!({"status":"answered","answeredsec":3})).kind,
            PushKind::Cdr
        );
        let g = CallNotification::from_value(json!({"hello":"world"}));
        assert!(matches!(g.to_event(), Event::Other { .. }));
        let n = CallNotification::from_value(json!(42));
        assert!(matches!(n.kind, PushKind::Other(_)));
    }

    #[test]
    fn debug_masks_numbers() {
        let n = CallNotification::from_value(json!({"type":"cdr","from":919812345678u64,"to":"919898765432"}));
        let d = format!("{n:?}");
        assert!(!d.contains("9812345678") && !d.contains("9898765432"), "{d}");
    }
}

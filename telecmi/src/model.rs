//! Requests and answers, as the wire has them and as callers use them.
//!
//! Request bodies are `Serialize` structs named after their endpoint, field for field as TeleCMI
//! documents them. Answers are read field by field, tolerantly, into typed values that keep the whole
//! record in `raw`, so nothing TeleCMI sends is lost to the mapping.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{CallEvent, CallState, Error, MessageId, PhoneNumber, Region, Result};

use crate::config::{Flavour, split_user_id};
use crate::event::call_event;
use crate::flex;

/// The key under which the client puts the call's correlation id into `extra_params` (and the legacy
/// `custom`), so that every webhook and record of the call carries it back.
pub const CORRELATION_KEY: &str = "switchboard_ref";

/// One click-to-call: ring `agent`, and when they answer, bridge `to`.
#[derive(Clone)]
#[non_exhaustive]
pub struct CallRequest {
    /// The TeleCMI user id of the agent to ring, `<extension>_<appid>`.
    pub agent: String,
    /// The customer to bridge in.
    pub to: PhoneNumber,
    /// Names this call in the journal and comes back in every webhook of the call
    /// ([`CallEvent::correlation`]). A random id unless the host sets its own (a CRM activity id).
    pub correlation: String,
    /// Extra parameters TeleCMI echoes back in events and records (`extra_params`); the correlation id
    /// is added under [`CORRELATION_KEY`].
    pub extra_params: Map<String, Value>,
    /// `webrtc`: ring the agent's softphone (TeleCMI's default: yes).
    pub webrtc: Option<bool>,
    /// `followme`: ring the agent's mobile instead (TeleCMI's default: no; requires `webrtc` off).
    pub followme: Option<bool>,
    /// The caller id the customer sees (`callerid`), when not the agent's default.
    pub callerid: Option<PhoneNumber>,
    /// Who asked for the call, in the host's terms (a CRM user id). Never sent to TeleCMI; it is for
    /// the [`CallPolicy`](crate::CallPolicy) and the journal.
    pub requested_by: Option<String>,
}

impl CallRequest {
    /// A call from `agent` to `to` with a fresh correlation id.
    pub fn new(agent: impl Into<String>, to: PhoneNumber) -> Self {
        CallRequest {
            agent: agent.into(),
            to,
            correlation: MessageId::random().as_str().to_owned(),
            extra_params: Map::new(),
            webrtc: None,
            followme: None,
            callerid: None,
            requested_by: None,
        }
    }

    /// Sets the correlation id (1 to 128 printable characters; checked when the call is placed).
    pub fn with_correlation(mut self, id: impl Into<String>) -> Self {
        self.correlation = id.into();
        self
    }

    /// Adds one extra parameter.
    pub fn with_param(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra_params.insert(key.into(), value.into());
        self
    }

    /// Sets whether the agent's softphone rings.
    pub fn with_webrtc(mut self, webrtc: bool) -> Self {
        self.webrtc = Some(webrtc);
        self
    }

    /// Rings the agent's mobile (`followme: true`) rather than the softphone (`webrtc: false`), as
    /// TeleCMI requires the two together.
    pub fn ring_mobile(mut self) -> Self {
        self.followme = Some(true);
        self.webrtc = Some(false);
        self
    }

    /// Sets the caller id the customer sees.
    pub fn with_callerid(mut self, callerid: PhoneNumber) -> Self {
        self.callerid = Some(callerid);
        self
    }

    /// Records who asked for the call (for the policy and the journal).
    pub fn requested_by(mut self, who: impl Into<String>) -> Self {
        self.requested_by = Some(who.into());
        self
    }

    /// Checks what TeleCMI would refuse or misread, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        if split_user_id(&self.agent).is_none() {
            return Err(Error::invalid_input(
                "the agent must be a TeleCMI user id, <extension>_<appid> (101_1111112)",
            ));
        }
        MessageId::new(self.correlation.clone())
            .map_err(|_| Error::invalid_input("the correlation id must be 1 to 128 printable characters"))?;
        if self.followme == Some(true) && self.webrtc != Some(false) {
            return Err(Error::invalid_input(
                "TeleCMI requires webrtc=false when followme=true; use CallRequest::ring_mobile",
            ));
        }
        if self.extra_params.contains_key(CORRELATION_KEY) {
            return Err(Error::invalid_input(format!(
                "extra parameter '{CORRELATION_KEY}' is reserved for the correlation id; use with_correlation"
            )));
        }
        Ok(())
    }

    /// The `extra_params` object as sent: the host's parameters plus the correlation id.
    pub fn wire_extra_params(&self) -> Map<String, Value> {
        let mut m = self.extra_params.clone();
        m.insert(CORRELATION_KEY.to_owned(), Value::String(self.correlation.clone()));
        m
    }
}

/// Debug masks the number and leaves the extra parameters' values out (they may be personal data).
impl fmt::Debug for CallRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallRequest")
            .field("agent", &self.agent)
            .field("to", &self.to.masked())
            .field("correlation", &self.correlation)
            .field("extra_params", &self.extra_params.keys().collect::<Vec<_>>())
            .field("webrtc", &self.webrtc)
            .field("followme", &self.followme)
            .field("callerid", &self.callerid.as_ref().map(PhoneNumber::masked))
            .field("requested_by", &self.requested_by)
            .finish()
    }
}

/// A number as TeleCMI wants it: E.164 digits without `+`, as a JSON number (`919200000000`).
pub(crate) fn wire_number(p: &PhoneNumber) -> Result<u64> {
    p.digits()
        .parse::<u64>()
        .map_err(|_| Error::invalid_input("the phone number does not fit TeleCMI's numeric form"))
}

/// The destination as the legacy CHUB-India API wants it: a string.
///
/// Unsure: every legacy sample shows Indian numbers as ten national digits (`"9100000000"`) where the CHUB
/// docs write `919200000000`; Indian numbers therefore go without the `91`, others as full digits.
pub(crate) fn legacy_number(p: &PhoneNumber) -> String {
    if p.country_code() == 91 {
        p.national_number().to_owned()
    } else {
        p.digits().to_owned()
    }
}

/// `POST /v2/webrtc/click2call` (admin).
#[derive(Serialize)]
pub(crate) struct AdminClickToCall<'a> {
    pub user_id: &'a str,
    pub secret: &'a str,
    pub to: u64,
    pub extra_params: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webrtc: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followme: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callerid: Option<u64>,
}

/// `POST /v2/ind/click2call` (user token).
#[derive(Serialize)]
pub(crate) struct UserClickToCall<'a> {
    pub token: &'a str,
    pub to: u64,
    pub extra_params: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callerid: Option<u64>,
}

/// `POST /v1/adminConnect` (legacy, admin): the app secret travels as `token`, `custom` is a string.
#[derive(Serialize)]
pub(crate) struct LegacyAdminConnect<'a> {
    pub agent_id: &'a str,
    pub token: &'a str,
    pub to: String,
    pub custom: String,
}

/// `POST /v1/agentConnect` (legacy, agent token). It takes no custom parameters, so the correlation id
/// cannot travel with the call; match its webhooks by `request_id`.
#[derive(Serialize)]
pub(crate) struct LegacyAgentConnect<'a> {
    pub token: &'a str,
    pub to: String,
}

/// `POST /v2/user/login` and `/v1/agentLogin`.
#[derive(Serialize)]
pub(crate) struct Login<'a> {
    pub id: &'a str,
    pub password: &'a str,
}

/// What a successful click-to-call answered.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct CallPlaced {
    /// TeleCMI's id of the call (`request_id`); events and records of the call carry it too.
    pub request_id: Option<String>,
    /// The correlation id sent with the call.
    pub correlation: String,
    /// The agent rung first.
    pub agent: String,
    /// The customer.
    pub to: PhoneNumber,
    /// TeleCMI's `msg` ("Call initiated").
    pub message: Option<String>,
    /// The whole answer.
    pub raw: Value,
}

impl CallPlaced {
    pub(crate) fn from_answer(req: &CallRequest, body: Map<String, Value>) -> Self {
        CallPlaced {
            request_id: flex::string(&body, &["request_id"]),
            correlation: req.correlation.clone(),
            agent: req.agent.clone(),
            to: req.to.clone(),
            message: flex::string(&body, &["msg"]),
            raw: Value::Object(body),
        }
    }

    /// The call as a core event: ringing, keyed by `request_id` (the correlation id when TeleCMI gave
    /// no `request_id`).
    pub fn call_event(&self) -> CallEvent {
        call_event(crate::event::CallEventParts {
            call_id: self.request_id.clone().unwrap_or_else(|| self.correlation.clone()),
            state: CallState::Ringing,
            raw_state: "initiated".to_owned(),
            from: Some(self.agent.clone()),
            to: Some(self.to.digits().to_owned()),
            at: Some(Utc::now()),
            duration_secs: None,
            correlation: Some(self.correlation.clone()),
            raw: self.raw.clone(),
        })
    }
}

impl fmt::Debug for CallPlaced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallPlaced")
            .field("request_id", &self.request_id)
            .field("correlation", &self.correlation)
            .field("agent", &self.agent)
            .field("to", &self.to.masked())
            .field("message", &self.message)
            .finish()
    }
}

/// Who the client is logged in as (user credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginInfo {
    /// The user id.
    pub user_id: String,
    /// The app id (`inet_no`).
    pub app_id: Option<u64>,
    /// The user's name.
    pub name: Option<String>,
    /// The app's billing category (`inr` or `usd`).
    pub category: Option<String>,
}

impl LoginInfo {
    pub(crate) fn from_answer(user_id: &str, body: &Map<String, Value>) -> Self {
        let agent = body.get("agent").and_then(Value::as_object);
        LoginInfo {
            user_id: agent
                .and_then(|a| flex::string(a, &["id"]))
                .unwrap_or_else(|| user_id.to_owned()),
            app_id: agent.and_then(|a| flex::u64_of(a, &["inet_no"])),
            name: agent.and_then(|a| flex::string(a, &["name"])),
            category: agent.and_then(|a| flex::string(a, &["category"])),
        }
    }
}

/// A calling or called party as TeleCMI wrote it: a number (as digits, sometimes national) or a user id.
///
/// Debug and Display mask numbers; [`Party::as_str`] is the value as given.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Party(String);

impl Party {
    /// The value as TeleCMI gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it is a TeleCMI user id (`101_1111112`) rather than a number.
    pub fn is_user(&self) -> bool {
        split_user_id(&self.0).is_some()
    }

    /// The party as a phone number: read as international digits first, then as a national number of
    /// `region` (legacy CHUB-India writes Indian numbers as ten digits). `None` for user ids and for
    /// anything libphonenumber rejects.
    pub fn phone(&self, region: Option<Region>) -> Option<PhoneNumber> {
        let digits = self.0.trim_start_matches('+');
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        PhoneNumber::parse(&format!("+{digits}"), None)
            .ok()
            .or_else(|| region.and_then(|r| PhoneNumber::parse(digits, Some(r)).ok()))
    }

    pub(crate) fn read(map: &Map<String, Value>, keys: &[&str]) -> Option<Party> {
        flex::string(map, keys).map(Party)
    }
}

impl fmt::Debug for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Party({})", flex::mask_number(&self.0))
    }
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&flex::mask_number(&self.0))
    }
}

/// Which list of call records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CdrKind {
    /// Incoming calls that were answered.
    IncomingAnswered,
    /// Incoming calls nobody answered.
    IncomingMissed,
    /// Outgoing calls that were answered.
    OutgoingAnswered,
    /// Outgoing calls that were not answered.
    OutgoingMissed,
    /// Missed callers waiting for a call back (user APIs only).
    Callbacks,
}

impl CdrKind {
    /// Every kind.
    pub const ALL: [CdrKind; 5] = [
        CdrKind::IncomingAnswered,
        CdrKind::IncomingMissed,
        CdrKind::OutgoingAnswered,
        CdrKind::OutgoingMissed,
        CdrKind::Callbacks,
    ];

    /// A short name (`incoming_answered`).
    pub fn as_str(self) -> &'static str {
        match self {
            CdrKind::IncomingAnswered => "incoming_answered",
            CdrKind::IncomingMissed => "incoming_missed",
            CdrKind::OutgoingAnswered => "outgoing_answered",
            CdrKind::OutgoingMissed => "outgoing_missed",
            CdrKind::Callbacks => "callbacks",
        }
    }

    /// Whether calls of this kind were answered.
    pub fn answered(self) -> bool {
        matches!(self, CdrKind::IncomingAnswered | CdrKind::OutgoingAnswered)
    }
}

/// Whose records a query reads: the whole app's (admin credentials) or one user's (token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Admin,
    User,
}

/// How a list endpoint takes its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyStyle {
    /// `{appid, secret, start_date, end_date, page, limit}`
    Admin,
    /// `{appid, token: <app secret>, start_date, end_date, page, limit}`
    LegacyAdmin,
    /// `{token, from, to, page, limit}` (plus `type` for `/v2/user/out_cdr`)
    User { out_cdr_type: Option<u8> },
}

/// Where a list lives and how big its pages may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CdrEndpoint {
    pub path: &'static str,
    pub style: BodyStyle,
    pub max_limit: u32,
}

/// The one table of list endpoints (doc.telecmi.com: CHUB "Answered call", "Missed call", "Out answered",
/// "Out missed", the user lists, and the CHUB-India pages).
///
/// CHUB admin lists take `limit` up to 20, user lists up to 10 (400 above). The legacy host documents
/// no maximum: 10, its default (unsure),, is used. Combinations TeleCMI does not document are `Unsupported`
/// rather than guessed: CHUB has no user "incoming answered" list, and the legacy agent API documents
/// only `agentAnswered`, `agentOutMissed` and `callback`; unsure: the legacy admin `outmissed` path is
/// inferred from its `outanswered` sibling.
pub(crate) fn cdr_endpoint(flavour: Flavour, scope: Scope, kind: CdrKind) -> Result<CdrEndpoint> {
    use BodyStyle as B;
    use CdrKind as K;
    let e = |path, style, max_limit| Ok(CdrEndpoint { path, style, max_limit });
    let user = B::User { out_cdr_type: None };
    match (flavour, scope, kind) {
        (Flavour::Chub, Scope::Admin, K::IncomingAnswered) => e("/v2/answered", B::Admin, 20),
        (Flavour::Chub, Scope::Admin, K::IncomingMissed) => e("/v2/missed", B::Admin, 20),
        (Flavour::Chub, Scope::Admin, K::OutgoingAnswered) => e("/v2/out_answered", B::Admin, 20),
        (Flavour::Chub, Scope::Admin, K::OutgoingMissed) => e("/v2/out_missed", B::Admin, 20),
        (Flavour::Chub, Scope::User, K::OutgoingAnswered) => {
            e("/v2/user/out_cdr", B::User { out_cdr_type: Some(1) }, 10)
        }
        (Flavour::Chub, Scope::User, K::OutgoingMissed) => e("/v2/user/out_missed", user, 10),
        (Flavour::Chub, Scope::User, K::IncomingMissed) => e("/v2/user/missed", user, 10),
        (Flavour::Chub, Scope::User, K::Callbacks) => e("/v2/callback", user, 10),
        (Flavour::India, Scope::Admin, K::IncomingAnswered) => e("/v1/answered", B::LegacyAdmin, 10),
        (Flavour::India, Scope::Admin, K::IncomingMissed) => e("/v1/missed", B::LegacyAdmin, 10),
        (Flavour::India, Scope::Admin, K::OutgoingAnswered) => e("/v1/outanswered", B::LegacyAdmin, 10),
        (Flavour::India, Scope::Admin, K::OutgoingMissed) => e("/v1/outmissed", B::LegacyAdmin, 10),
        (Flavour::India, Scope::User, K::IncomingAnswered) => e("/v1/agentAnswered", user, 10),
        (Flavour::India, Scope::User, K::OutgoingMissed) => e("/v1/agentOutMissed", user, 10),
        (Flavour::India, Scope::User, K::Callbacks) => e("/v1/callback", user, 10),
        (_, scope, kind) => Err(Error::unsupported(format!(
            "TeleCMI offers no {} list to {} credentials on this host",
            kind.as_str(),
            match scope {
                Scope::Admin => "admin",
                Scope::User => "user",
            }
        ))
        .with_provider(crate::SCHEME)),
    }
}

/// A query over one list of call records, between two times.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CdrQuery {
    /// Which list.
    pub kind: CdrKind,
    /// From this time (inclusive).
    pub from: DateTime<Utc>,
    /// To this time (inclusive).
    pub to: DateTime<Utc>,
    /// Records per page; `None` = the most the endpoint allows (20 admin, 10 user). Larger values are
    /// lowered to that maximum rather than sent and refused.
    pub page_size: Option<u32>,
}

impl CdrQuery {
    /// Records of `kind` between two times.
    pub fn new(kind: CdrKind, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        CdrQuery {
            kind,
            from,
            to,
            page_size: None,
        }
    }

    /// Records of `kind` over the last `span` up to now.
    pub fn last(kind: CdrKind, span: chrono::Duration) -> Self {
        let to = Utc::now();
        Self::new(kind, to - span, to)
    }

    /// Sets the page size.
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.from > self.to {
            return Err(Error::invalid_input("the time range ends before it starts"));
        }
        if self.page_size == Some(0) {
            return Err(Error::invalid_input("the page size must be at least 1"));
        }
        Ok(())
    }

    pub(crate) fn limit(&self, endpoint: &CdrEndpoint) -> u32 {
        self.page_size
            .unwrap_or(endpoint.max_limit)
            .clamp(1, endpoint.max_limit)
    }
}

/// A note an agent left on a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallNote {
    /// The text.
    pub msg: String,
    /// When it was written.
    pub date: Option<DateTime<Utc>>,
    /// Who wrote it.
    pub agent: Option<String>,
}

/// One call record from a list API, read tolerantly (`cmiuid`/`cmiuuid`/`_id`, numbers as strings or
/// numbers, `record` as `true` or `"true"`, `rate` as number or string).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct CallRecord {
    /// Which list it came from.
    pub kind: CdrKind,
    /// TeleCMI's id of the call (`cmiuid`, `_id` on legacy lists).
    pub id: Option<String>,
    /// The caller (a number, or on outgoing legacy lists the agent's user id).
    pub from: Option<Party>,
    /// The called party.
    pub to: Option<Party>,
    /// The agent who took or made the call.
    pub agent: Option<String>,
    /// When the call started.
    pub time: Option<DateTime<Utc>>,
    /// Length of the call in seconds.
    pub duration_secs: Option<u64>,
    /// Billed seconds.
    pub billed_secs: Option<u64>,
    /// The per-minute rate as TeleCMI wrote it (`"0.49"`, `0.1001`): text, so no float rounding.
    pub rate: Option<String>,
    /// Whether the call was recorded.
    pub recorded: Option<bool>,
    /// The recording's file name.
    pub filename: Option<String>,
    /// The contact name TeleCMI has for the number (`unknown` when none).
    pub name: Option<String>,
    /// The destination's region (user outgoing lists).
    pub region: Option<String>,
    /// Notes agents left on the call.
    pub notes: Vec<CallNote>,
    /// The record as it came.
    pub raw: Value,
}

impl CallRecord {
    pub(crate) fn from_value(kind: CdrKind, v: Value) -> CallRecord {
        let empty = Map::new();
        let m = v.as_object().unwrap_or(&empty);
        let notes = m
            .get("notes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_object)
                    .filter_map(|n| {
                        Some(CallNote {
                            msg: flex::string(n, &["msg"])?,
                            date: flex::time_of(n, &["date"]),
                            agent: flex::string(n, &["agent"]),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        CallRecord {
            kind,
            id: flex::string(m, &["cmiuid", "cmiuuid", "_id"]),
            from: Party::read(m, &["from"]),
            to: Party::read(m, &["to"]),
            agent: flex::string(m, &["agent", "user"]),
            time: flex::time_of(m, &["time"]),
            duration_secs: flex::u64_of(m, &["duration", "answeredsec"]),
            billed_secs: flex::u64_of(m, &["billedsec"]),
            rate: flex::string(m, &["rate"]),
            recorded: flex::bool_of(m, &["record"]),
            filename: flex::string(m, &["filename"]),
            name: flex::string(m, &["name"]),
            region: flex::string(m, &["region"]),
            notes,
            raw: v,
        }
    }

    /// The record as a core call event: `Completed` for answered lists, `Missed` otherwise.
    pub fn call_event(&self) -> CallEvent {
        call_event(crate::event::CallEventParts {
            call_id: self.id.clone().unwrap_or_default(),
            state: if self.kind.answered() {
                CallState::Completed
            } else {
                CallState::Missed
            },
            raw_state: self.kind.as_str().to_owned(),
            from: self.from.as_ref().map(|p| p.as_str().to_owned()),
            to: self.to.as_ref().map(|p| p.as_str().to_owned()),
            at: self.time,
            duration_secs: self.duration_secs.or(self.billed_secs),
            correlation: None,
            raw: self.raw.clone(),
        })
    }
}

/// Debug leaves `raw` out (it holds the full numbers) and masks the parties.
impl fmt::Debug for CallRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallRecord")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("agent", &self.agent)
            .field("time", &self.time)
            .field("duration_secs", &self.duration_secs)
            .field("billed_secs", &self.billed_secs)
            .field("recorded", &self.recorded)
            .field("notes", &self.notes.len())
            .finish()
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CdrPage {
    /// The total number of records in the range (`count`, or `total` on legacy lists).
    pub total: Option<u64>,
    /// The page number (from 1).
    pub page: u32,
    /// The page size asked for.
    pub limit: u32,
    /// The records.
    pub records: Vec<CallRecord>,
}

impl CdrPage {
    pub(crate) fn from_answer(kind: CdrKind, page: u32, limit: u32, body: Map<String, Value>) -> Result<Self> {
        let total = flex::u64_of(&body, &["count", "total"]);
        let records = match body.get("cdr") {
            Some(Value::Array(a)) => a.iter().cloned().map(|v| CallRecord::from_value(kind, v)).collect(),
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(
                    Error::decode("TeleCMI's call list has a 'cdr' that is not a list").with_provider(crate::SCHEME)
                );
            }
        };
        Ok(CdrPage {
            total,
            page,
            limit,
            records,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> PhoneNumber {
        PhoneNumber::parse(s, None).unwrap()
    }

    #[test]
    fn wire_numbers() {
        assert_eq!(wire_number(&p("+919812345678")).unwrap(), 919812345678);
        assert_eq!(legacy_number(&p("+919812345678")), "9812345678");
        assert_eq!(legacy_number(&p("+442083661177")), "442083661177");
    }

    #[test]
    fn request_validation() {
        let to = p("+919812345678");
        CallRequest::new("101_1111112", to.clone()).validate().unwrap();
        CallRequest::new("101_1111112", to.clone())
            .ring_mobile()
            .validate()
            .unwrap();
        let bad = [
            CallRequest::new("bob", to.clone()),
            CallRequest::new("101_1111112", to.clone()).with_correlation(""),
            CallRequest::new("101_1111112", to.clone()).with_correlation("a\nb"),
            CallRequest::new("101_1111112", to.clone()).with_param(CORRELATION_KEY, "x"),
            {
                let mut r = CallRequest::new("101_1111112", to.clone());
                r.followme = Some(true);
                r
            },
        ];
        for r in bad {
            assert_eq!(
                r.validate().unwrap_err().kind(),
                switchboard_core::ErrorKind::InvalidInput
            );
        }
        let r = CallRequest::new("101_1111112", to)
            .with_param("crm", true)
            .with_correlation("deal-7");
        let w = r.wire_extra_params();
        assert_eq!(w.get("crm"), Some(&json!(true)));
        assert_eq!(w.get(CORRELATION_KEY), Some(&json!("deal-7")));
        assert!(!format!("{r:?}").contains("9812345678"));
    }

    #[test]
    fn records_tolerate_every_documented_shape() {
        let chub = CallRecord::from_value(
            CdrKind::OutgoingAnswered,
            json!({"cmiuid":"u1","duration":15,"billedsec":1,"rate":0.1001,"record":"true","from":"442000000000",
                   "to":37100000000u64,"time":1641787135771u64,"region":"LV",
                   "notes":[{"msg":"Support Query","date":1652105272029u64,"agent":"201_1111112"}, {"nomsg": 1}]}),
        );
        assert_eq!(chub.id.as_deref(), Some("u1"));
        assert_eq!(chub.from.as_ref().unwrap().as_str(), "442000000000");
        assert_eq!(chub.to.as_ref().unwrap().as_str(), "37100000000");
        assert_eq!(chub.rate.as_deref(), Some("0.1001"));
        assert_eq!(chub.recorded, Some(true));
        assert_eq!(chub.notes.len(), 1);
        let legacy = CallRecord::from_value(
            CdrKind::IncomingAnswered,
            json!({"_id":"5d95","to":9100000000u64,"from":"209_1111113","billedsec":"14","rate":"0.00","record":true}),
        );
        assert_eq!(legacy.id.as_deref(), Some("5d95"));
        assert!(legacy.from.as_ref().unwrap().is_user());
        assert_eq!(legacy.billed_secs, Some(14));
        let ev = legacy.call_event();
        assert_eq!(ev.state, CallState::Completed);
        assert_eq!(ev.duration_secs, Some(14));
        let garbage = CallRecord::from_value(CdrKind::IncomingMissed, json!([1, 2]));
        assert_eq!(garbage.id, None);
        assert_eq!(garbage.call_event().state, CallState::Missed);
    }

    #[test]
    fn parties() {
        let india = Party("9100000000".into());
        assert_eq!(india.phone(None), None);
        let _ = india.phone(Some(Region::parse("IN").unwrap()));
        let full = Party("919812345678".into());
        assert_eq!(full.phone(None).unwrap().as_e164(), "+919812345678");
        assert!(!format!("{full:?} {full}").contains("9812345678"));
        assert_eq!(Party("101_1".into()).phone(None), None);
    }

    #[test]
    fn endpoint_table() {
        let e = cdr_endpoint(Flavour::Chub, Scope::Admin, CdrKind::OutgoingMissed).unwrap();
        assert_eq!((e.path, e.max_limit), ("/v2/out_missed", 20));
        let e = cdr_endpoint(Flavour::Chub, Scope::User, CdrKind::OutgoingAnswered).unwrap();
        assert_eq!(e.style, BodyStyle::User { out_cdr_type: Some(1) });
        assert_eq!(e.max_limit, 10);
        let e = cdr_endpoint(Flavour::Chub, Scope::User, CdrKind::IncomingAnswered).unwrap_err();
        assert_eq!(e.kind(), switchboard_core::ErrorKind::Unsupported);
        assert!(cdr_endpoint(Flavour::Chub, Scope::Admin, CdrKind::Callbacks).is_err());
        let q = CdrQuery::last(CdrKind::IncomingMissed, chrono::Duration::hours(1)).with_page_size(50);
        let e = cdr_endpoint(Flavour::Chub, Scope::Admin, CdrKind::IncomingMissed).unwrap();
        assert_eq!(q.limit(&e), 20);
    }
}

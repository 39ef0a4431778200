//! A TeleCMI simulator (feature `sim`): the click-to-call, login and call-record APIs of both hosts,
//! calls that move through `waiting → started → answered → hangup`, and the live events and CDRs of
//! each call pushed to a URL, with TeleCMI's naming and typing quirks intact.
//!
//! What it models, from TeleCMI's API pages (doc.telecmi.com, CHUB and CHUB-India):
//!
//! * credentials in the JSON body, a `code` in every answer that mirrors the HTTP status, `404` for a
//!   bad secret or token, `401` on the legacy `adminConnect`, `404 "Invalid Number"`, `400` for missing
//!   parameters and for user-API `limit` above 10 (and, [?] undocumented, admin `limit` above 20);
//! * the user click-to-call's single 404 for a refused token and a refused number alike
//!   ([`USER_CLICK2CALL_404`]), so a client cannot tell them apart by the text;
//! * every parameter of its documented JSON type: a number sent as a string, `extra_params` sent as a
//!   string, `appid` as a string, are refused with `400` (see the `api` module);
//! * the legacy host's quirks: the app secret travels as `token`, `adminConnect` answers
//!   `"msg":"Call terminated"` on success, list answers say `total` and `_id` and write `rate` as text;
//! * user tokens that the simulator can expire ([`Simulator::expire_tokens`]) to exercise re-login;
//! * paging and time ranges over stored records, newest first;
//! * pushes: live events with `app_id`, CDRs with `appid`, `cmiuuid` (where the pull APIs say
//!   `cmiuid`), numbers sometimes as strings, `custom`/`extra_params` as JSON strings, `record` as
//!   `true` on one leg and `"true"` on the other, an outgoing answered call as two CDR legs, a missed
//!   one in the older form with `click_to_call: "true"`.
//!
//! A call moves when the test says so ([`Simulator::play`]) or, with [`Simulator::set_auto_play`], by
//! itself as soon as it is placed.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use http::Method;
use serde_json::{Value, json};
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_status};
use switchboard_core::{Error, ErrorKind, Result};

use crate::model::CdrKind;

mod api;
pub use api::USER_CLICK2CALL_404;

/// The simulated app id.
pub const SIM_APP_ID: u64 = 1111112;
/// The simulated app secret.
pub const SIM_SECRET: &str = "sim-app-secret";
/// The webhook secret [`Simulator::dsn`] configures.
pub const SIM_WEBHOOK_SECRET: &str = "sim-webhook-secret";
/// The simulated users and their passwords.
pub const SIM_USERS: [(&str, &str); 2] = [("101_1111112", "pass-101"), ("102_1111112", "pass-102")];
/// The TeleCMI number outgoing calls show and incoming calls arrive on.
pub const SIM_VIRTUAL_NUMBER: &str = "919800000000";

/// How a simulated call ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Both sides talk for this many seconds, then the agent hangs up.
    Answered {
        /// Seconds of conversation.
        talk_secs: u64,
    },
    /// Nobody picks up: the call ends unanswered.
    Missed,
}

/// Where a simulated call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimCallState {
    /// Accepted by the API; nothing pushed yet.
    Initiated,
    /// Played to the end, answered.
    Completed,
    /// Played to the end, unanswered.
    Missed,
}

/// A call the simulator accepted.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SimCall {
    /// The `request_id` it answered.
    pub request_id: String,
    /// The agent rung first.
    pub agent: String,
    /// The destination as it came on the wire.
    pub to: String,
    /// `extra_params` (or the legacy `custom`) as it came.
    pub extra_params: Value,
    /// `webrtc` as sent.
    pub webrtc: Option<bool>,
    /// `followme` as sent.
    pub followme: Option<bool>,
    /// `callerid` as sent.
    pub callerid: Option<String>,
    /// The path it came in on.
    pub via: String,
    /// Where it is.
    pub state: SimCallState,
}

#[derive(Debug, Clone)]
struct StoredCdr {
    kind: CdrKind,
    agent: Option<String>,
    time: i64,
    record: Value,
}

#[derive(Debug)]
struct State {
    users: BTreeMap<String, String>,
    tokens: HashMap<String, String>,
    logins: u64,
    calls: Vec<SimCall>,
    cdrs: Vec<StoredCdr>,
    event_url: Option<String>,
    cdr_url: Option<String>,
    push_method: Method,
    pushed: Vec<Value>,
    auto_play: Option<Outcome>,
    refused_numbers: Vec<String>,
}

static IDS: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    IDS.fetch_add(1, Ordering::Relaxed)
}

fn uuid() -> String {
    let n = next_id();
    let t = Utc::now().timestamp_millis() as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        t & 0xffff_ffff,
        (t >> 32) & 0xffff,
        n & 0xfff,
        (n >> 12) & 0xfff,
        n.wrapping_mul(0x9e37_79b9_7f4a_7c15) & 0xffff_ffff_ffff
    )
}

fn request_id() -> String {
    let n = next_id();
    format!(
        "sim{:x}{:x}",
        Utc::now().timestamp_millis(),
        n.wrapping_mul(0x2545_f491_4f6c_dd1d)
    )
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn reply(code: u16, msg: &str) -> ResponseTemplate {
    json_status(code, &json!({"code": code, "msg": msg}))
}

/// The simulator. See the [module docs](self).
#[derive(Debug)]
pub struct Simulator {
    server: SimServer,
    state: Arc<Mutex<State>>,
    pusher: reqwest::Client,
}

impl Simulator {
    /// Starts a simulator on a free loopback port.
    pub async fn start() -> Simulator {
        let (state, pusher) = Self::parts();
        let server = SimServer::start(Self::handler(state.clone(), pusher.clone())).await;
        Simulator { server, state, pusher }
    }

    /// Starts a simulator on `127.0.0.1:port` (request recording off, for a long-running one).
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let (state, pusher) = Self::parts();
        let server = SimServer::start_on_port(port, Self::handler(state.clone(), pusher.clone())).await?;
        Ok(Simulator { server, state, pusher })
    }

    fn parts() -> (Arc<Mutex<State>>, reqwest::Client) {
        let state = State {
            users: SIM_USERS
                .iter()
                .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
                .collect(),
            tokens: HashMap::new(),
            logins: 0,
            calls: Vec::new(),
            cdrs: Vec::new(),
            event_url: None,
            cdr_url: None,
            push_method: Method::POST,
            pushed: Vec::new(),
            auto_play: None,
            refused_numbers: Vec::new(),
        };
        let pusher = switchboard_core::http::HttpOptions::default()
            .build_client()
            .unwrap_or_default();
        (Arc::new(Mutex::new(state)), pusher)
    }

    fn handler(state: Arc<Mutex<State>>, pusher: reqwest::Client) -> switchboard_core::testkit::Handler {
        // Pushes of auto-played calls run on the runtime that started the simulator.
        let runtime = tokio::runtime::Handle::try_current().ok();
        Arc::new(move |req: &Request| {
            let (answer, placed) = api::handle(&state, req);
            if let (Some(id), Some(rt)) = (placed, &runtime) {
                let outcome = lock(&state).auto_play;
                if let Some(outcome) = outcome {
                    let (state, pusher) = (state.clone(), pusher.clone());
                    rt.spawn(async move {
                        if let Err(e) = play(&state, &pusher, &id, outcome).await {
                            tracing::warn!(error = %e, "simulated TeleCMI push failed");
                        }
                    });
                }
            }
            answer
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    fn host_port(&self) -> String {
        let a = self.server.address();
        format!("{}:{}", a.ip(), a.port())
    }

    /// A DSN with admin credentials for this simulator: the first user as default agent, both users
    /// allowed to call, and the webhook secret set.
    pub fn dsn(&self) -> String {
        format!(
            "telecmi://{}:{SIM_SECRET}@{}?webhook_secret={SIM_WEBHOOK_SECRET}&allow={},{}",
            SIM_USERS[0].0,
            self.host_port(),
            SIM_USERS[0].0,
            SIM_USERS[1].0
        )
    }

    /// A DSN that logs in as the first simulated user.
    pub fn user_dsn(&self) -> String {
        format!(
            "telecmi://{}:{}@{}?auth=user&webhook_secret={SIM_WEBHOOK_SECRET}&allow={}",
            SIM_USERS[0].0,
            SIM_USERS[0].1,
            self.host_port(),
            SIM_USERS[0].0
        )
    }

    /// [`Simulator::dsn`] on the legacy CHUB-India API.
    pub fn india_dsn(&self) -> String {
        format!("{}&flavour=india", self.dsn())
    }

    /// The fault queue.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// The requests received on one path (empty for a simulator started on a fixed port).
    pub async fn requests_to(&self, path: &str) -> Vec<Request> {
        self.server.requests_to(path).await
    }

    /// Every request received.
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// Sends live events and CDRs to this URL (with the secret in its query, as the host registered it).
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        let url = url.into();
        let mut s = lock(&self.state);
        s.event_url = Some(url.clone());
        s.cdr_url = Some(url);
    }

    /// Sends live events to this URL.
    pub fn set_event_url(&self, url: impl Into<String>) {
        lock(&self.state).event_url = Some(url.into());
    }

    /// Sends CDRs to this URL.
    pub fn set_cdr_url(&self, url: impl Into<String>) {
        lock(&self.state).cdr_url = Some(url.into());
    }

    /// Pushes by GET with the fields in the query (the dashboard allows it) instead of POSTing JSON.
    pub fn push_by_get(&self, get: bool) {
        lock(&self.state).push_method = if get { Method::GET } else { Method::POST };
    }

    /// Plays every call placed from now on to `outcome` as soon as it is placed (`None`: wait for
    /// [`Simulator::play`]).
    pub fn set_auto_play(&self, outcome: Option<Outcome>) {
        lock(&self.state).auto_play = outcome;
    }

    /// Makes TeleCMI answer `404 "Invalid Number"` for this destination (digits as sent: E.164 without
    /// `+` on CHUB, ten national digits for Indian numbers on the legacy host).
    pub fn refuse_number(&self, digits: &str) {
        lock(&self.state).refused_numbers.push(digits.to_owned());
    }

    /// Invalidates every user token, as their 30-day expiry would.
    pub fn expire_tokens(&self) {
        lock(&self.state).tokens.clear();
    }

    /// Changes a user's password (or adds a user).
    pub fn set_user_password(&self, user_id: &str, password: &str) {
        lock(&self.state).users.insert(user_id.to_owned(), password.to_owned());
    }

    /// How many successful logins there were.
    pub fn login_count(&self) -> u64 {
        lock(&self.state).logins
    }

    /// Every call placed so far.
    pub fn calls(&self) -> Vec<SimCall> {
        lock(&self.state).calls.clone()
    }

    /// One call by `request_id`.
    pub fn call(&self, request_id: &str) -> Option<SimCall> {
        lock(&self.state)
            .calls
            .iter()
            .find(|c| c.request_id == request_id)
            .cloned()
    }

    /// Every payload pushed so far (or that would have been, with no URL set), in order.
    pub fn pushed(&self) -> Vec<Value> {
        lock(&self.state).pushed.clone()
    }

    /// Moves a placed call to its end: pushes its live events (`waiting`, `started`, `answered`,
    /// `hangup`) and its CDRs (two legs when answered), stores the records for the list APIs, and
    /// returns the payloads in the order they were pushed.
    pub async fn play(&self, request_id: &str, outcome: Outcome) -> Result<Vec<Value>> {
        play(&self.state, &self.pusher, request_id, outcome).await
    }

    /// Simulates an incoming call from `from` (digits) to the virtual number, answered by `agent` or
    /// missed, with its live events and CDR; returns the payloads.
    pub async fn inbound_call(&self, from: &str, agent: &str, outcome: Outcome) -> Result<Vec<Value>> {
        let payloads = {
            let mut s = lock(&self.state);
            let p = inbound_payloads(from, agent, outcome);
            let now = Utc::now().timestamp_millis();
            let (kind, agent_field) = match outcome {
                Outcome::Answered { .. } => (CdrKind::IncomingAnswered, Some(agent.to_owned())),
                Outcome::Missed => (CdrKind::IncomingMissed, None),
            };
            let mut record = pull_record(from, SIM_VIRTUAL_NUMBER, agent_field.as_deref(), outcome, false);
            if let Some(o) = record.as_object_mut() {
                o.insert("time".to_owned(), json!(now));
            }
            s.cdrs.push(StoredCdr {
                kind,
                agent: agent_field,
                time: now,
                record,
            });
            if outcome == Outcome::Missed {
                s.cdrs.push(StoredCdr {
                    kind: CdrKind::Callbacks,
                    agent: None,
                    time: now,
                    record: json!({"_id": uuid(), "from": from.parse::<u64>().map(Value::from)
                        .unwrap_or_else(|_| Value::from(from)), "time": now}),
                });
            }
            p
        };
        push_all(&self.state, &self.pusher, payloads).await
    }

    /// Stores `count` records of `kind` for `agent`, one minute apart, the newest a minute ago, for the
    /// list APIs to page through.
    pub fn seed_records(&self, kind: CdrKind, count: usize, agent: Option<&str>) {
        let now = Utc::now().timestamp_millis();
        let mut s = lock(&self.state);
        for i in 0..count {
            let time = now - 60_000 * (i as i64 + 1);
            let outgoing = matches!(kind, CdrKind::OutgoingAnswered | CdrKind::OutgoingMissed);
            let outcome = if kind.answered() {
                Outcome::Answered {
                    talk_secs: 30 + i as u64,
                }
            } else {
                Outcome::Missed
            };
            let customer = format!("9198{:08}", i);
            let (from, to) = if outgoing {
                (SIM_VIRTUAL_NUMBER.to_owned(), customer)
            } else {
                (customer, SIM_VIRTUAL_NUMBER.to_owned())
            };
            let mut record = if kind == CdrKind::Callbacks {
                json!({"_id": uuid(), "from": from.parse::<u64>().unwrap_or(0)})
            } else {
                pull_record(&from, &to, agent, outcome, outgoing)
            };
            if let Some(o) = record.as_object_mut() {
                o.insert("time".to_owned(), json!(time));
            }
            s.cdrs.push(StoredCdr {
                kind,
                agent: agent.map(str::to_owned),
                time,
                record,
            });
        }
    }
}

/// A record as the pull APIs show it (`cmiuid`; `from` as a string on outgoing lists).
fn pull_record(from: &str, to: &str, agent: Option<&str>, outcome: Outcome, outgoing: bool) -> Value {
    let num = |s: &str| s.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(s));
    let secs = match outcome {
        Outcome::Answered { talk_secs } => talk_secs,
        Outcome::Missed => 0,
    };
    let mut r = json!({
        "cmiuid": uuid(),
        "duration": secs,
        "billedsec": secs,
        "rate": if outgoing { json!(0.1001) } else { json!(0) },
        "name": "unknown",
        "from": if outgoing { Value::from(from) } else { num(from) },
        "to": num(to),
    });
    if let Some(o) = r.as_object_mut() {
        if let Some(a) = agent {
            o.insert("agent".to_owned(), json!(a));
        }
        if secs > 0 {
            o.insert("record".to_owned(), json!("true"));
            o.insert("filename".to_owned(), json!(format!("{}_{SIM_APP_ID}.mp3", uuid())));
        }
        if outgoing {
            o.insert("region".to_owned(), json!("IN"));
        }
    }
    r
}

// ------------------------------------------------------------------------------------------ pushes

/// The payloads of a placed call, in order, and the records to store.
fn outbound_payloads(call: &SimCall, outcome: Outcome) -> (Vec<(bool, Value)>, Vec<StoredCdr>) {
    let t0 = Utc::now().timestamp_millis();
    let to_num = call
        .to
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(call.to.clone()));
    let legacy = call.via.starts_with("/v1/");
    // The host's parameters come back as a JSON string: in `extra_params` on CHUB, in `custom` on the
    // legacy host (where they were sent as `custom`).
    let params = match &call.extra_params {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        v => Some(v.to_string()),
    };
    let (conversation, call_id, leg_a, leg_b) = (uuid(), uuid(), uuid(), uuid());
    let event = |status: &str, dt: i64| {
        let mut e = json!({
            "type": "event", "direction": "outbound", "status": status, "leg": "a",
            "app_id": SIM_APP_ID, "user": call.agent, "to": to_num, "callerid": SIM_VIRTUAL_NUMBER,
            "cmiuuid": leg_a, "conversation_uuid": conversation, "call_id": call_id,
            "request_id": call.request_id, "time": t0 + dt,
        });
        if let (Some(o), Some(p)) = (e.as_object_mut(), &params) {
            o.insert("custom".to_owned(), json!(p));
            if !legacy {
                o.insert("extra_params".to_owned(), json!(p));
            }
        }
        e
    };
    let mut out = vec![(true, event("waiting", 0))];
    let mut stored = Vec::new();
    match outcome {
        Outcome::Answered { talk_secs } => {
            out.push((true, event("started", 2_000)));
            out.push((true, event("answered", 6_000)));
            let end = 6_000 + 1000 * talk_secs as i64;
            let mut hangup = event("hangup", end);
            let leg = |name: &str, uuid: &str| {
                let mut c = json!({
                    "type": "cdr", "appid": SIM_APP_ID, "direction": "outbound", "status": "answered",
                    "leg": name, "user": call.agent, "cmiuuid": uuid, "call_id": call_id,
                    "request_id": call.request_id, "time": t0, "answeredsec": talk_secs,
                    "hangup_reason": "sent_bye", "virtual_number": SIM_VIRTUAL_NUMBER,
                });
                if let Some(o) = c.as_object_mut() {
                    if let Some(p) = &params {
                        o.insert("custom".to_owned(), json!(p));
                        if !legacy {
                            o.insert("extra_params".to_owned(), json!(p));
                        }
                    }
                    if name == "a" {
                        o.insert("to".to_owned(), to_num.clone());
                    } else {
                        // Leg B: `to` as a string, `record` as the string "true", and the recording.
                        o.insert("to".to_owned(), json!(call.to));
                        o.insert("record".to_owned(), json!("true"));
                        o.insert("filename".to_owned(), json!(format!("{}_{SIM_APP_ID}.mp3", t0)));
                    }
                }
                c
            };
            let (a, b) = (leg("a", &leg_a), leg("b", &leg_b));
            if let Some(o) = hangup.as_object_mut() {
                o.insert("hangup_reason".to_owned(), json!("sent_bye"));
                o.insert("answeredsec".to_owned(), json!(talk_secs));
            }
            out.push((true, hangup));
            out.push((false, a));
            out.push((false, b));
            let mut record = pull_record(SIM_VIRTUAL_NUMBER, &call.to, Some(&call.agent), outcome, true);
            if let Some(o) = record.as_object_mut() {
                o.insert("cmiuid".to_owned(), json!(leg_b));
                o.insert("time".to_owned(), json!(t0));
            }
            stored.push(StoredCdr {
                kind: CdrKind::OutgoingAnswered,
                agent: Some(call.agent.clone()),
                time: t0,
                record,
            });
        }
        Outcome::Missed => {
            out.push((true, event("started", 2_000)));
            let mut hangup = event("hangup", 32_000);
            if let Some(o) = hangup.as_object_mut() {
                o.insert("hangup_reason".to_owned(), json!("recv_cancel"));
            }
            out.push((true, hangup));
            // The older outgoing-missed form, with `click_to_call` as a string.
            let mut c = json!({
                "type": "cdr", "appid": SIM_APP_ID, "to": to_num, "cmiuuid": leg_a, "status": "missed",
                "user": call.agent, "time": t0, "direction": "outbound", "click_to_call": "true",
                "request_id": call.request_id,
            });
            if let (Some(o), Some(p)) = (c.as_object_mut(), &params) {
                o.insert(if legacy { "custom" } else { "extra_params" }.to_owned(), json!(p));
            }
            out.push((false, c));
            let mut record = pull_record(SIM_VIRTUAL_NUMBER, &call.to, Some(&call.agent), outcome, true);
            if let Some(o) = record.as_object_mut() {
                o.insert("cmiuid".to_owned(), json!(leg_a));
                o.insert("time".to_owned(), json!(t0));
            }
            stored.push(StoredCdr {
                kind: CdrKind::OutgoingMissed,
                agent: Some(call.agent.clone()),
                time: t0,
                record,
            });
        }
    }
    (out, stored)
}

fn inbound_payloads(from: &str, agent: &str, outcome: Outcome) -> Vec<(bool, Value)> {
    let t0 = Utc::now().timestamp_millis();
    let from_num = from
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(from));
    let virtual_num = SIM_VIRTUAL_NUMBER.parse::<u64>().unwrap_or(0);
    let (conversation, leg_a, leg_b) = (uuid(), uuid(), uuid());
    let team = format!("Sales_{SIM_APP_ID}");
    let custom = "{\"crm\":\"true\"}";
    let mut out = vec![(
        true,
        json!({"type": "event", "direction": "inbound", "conversation_uuid": conversation, "cmiuuid": leg_a,
               "from": from_num, "app_id": SIM_APP_ID, "time": t0, "to": virtual_num, "status": "waiting"}),
    )];
    match outcome {
        Outcome::Answered { talk_secs } => {
            let b = |status: &str, dt: i64| {
                json!({"leg": "b", "type": "event", "team": team, "user": agent, "conversation_uuid": conversation,
                       "cmiuuid": leg_b, "direction": "outbound", "from": from, "app_id": SIM_APP_ID,
                       "time": t0 + dt, "custom": custom, "status": status})
            };
            out.push((
                true,
                json!({"type": "event", "direction": "inbound", "conversation_uuid": conversation,
                       "cmiuuid": leg_a, "from": from_num, "app_id": SIM_APP_ID, "time": t0 + 3_000,
                       "to": virtual_num, "custom": custom, "status": "answered"}),
            ));
            out.push((true, b("answered", 3_000)));
            out.push((true, b("hangup", 3_000 + 1000 * talk_secs as i64)));
            out.push((
                false,
                json!({"virtual_number": virtual_num, "custom": custom, "appid": SIM_APP_ID, "type": "cdr",
                       "direction": "inbound", "cmiuuid": leg_a, "user": agent, "status": "answered",
                       "to": virtual_num, "from": from_num, "time": t0, "answeredsec": talk_secs, "team": team,
                       "hangup_reason": "recv_bye", "record": true, "filename": format!("{t0}_{SIM_APP_ID}.mp3"),
                       "conversation_uuid": conversation, "ivr_name": "salesivr"}),
            ));
        }
        Outcome::Missed => {
            out.push((
                false,
                json!({"virtual_number": virtual_num, "custom": custom, "appid": SIM_APP_ID, "type": "cdr",
                       "direction": "inbound", "cmiuuid": leg_a, "status": "missed", "from": from_num,
                       "time": t0, "waitedsec": 27, "hangup_reason": "recv_bye", "voicemail": "false",
                       "conversation_uuid": conversation, "team": team, "ivr_name": "salesivr"}),
            ));
        }
    }
    out
}

async fn play(
    state: &Mutex<State>,
    pusher: &reqwest::Client,
    request_id: &str,
    outcome: Outcome,
) -> Result<Vec<Value>> {
    let payloads = {
        let mut s = lock(state);
        let Some(call) = s.calls.iter_mut().find(|c| c.request_id == request_id) else {
            return Err(Error::new(
                ErrorKind::NotFound,
                "the simulator placed no call with that request_id",
            ));
        };
        if call.state != SimCallState::Initiated {
            return Err(Error::new(ErrorKind::Rejected, "that simulated call has already ended"));
        }
        call.state = match outcome {
            Outcome::Answered { .. } => SimCallState::Completed,
            Outcome::Missed => SimCallState::Missed,
        };
        let call = call.clone();
        let (payloads, stored) = outbound_payloads(&call, outcome);
        s.cdrs.extend(stored);
        payloads
    };
    push_all(state, pusher, payloads).await
}

/// Pushes each payload in order (`true` = live event URL, `false` = CDR URL), waiting for each answer.
async fn push_all(state: &Mutex<State>, pusher: &reqwest::Client, payloads: Vec<(bool, Value)>) -> Result<Vec<Value>> {
    let mut sent = Vec::with_capacity(payloads.len());
    for (live, payload) in payloads {
        let (url, method) = {
            let mut s = lock(state);
            s.pushed.push(payload.clone());
            (
                if live { s.event_url.clone() } else { s.cdr_url.clone() },
                s.push_method.clone(),
            )
        };
        if let Some(url) = url {
            push(pusher, &url, &method, &payload).await?;
        }
        sent.push(payload);
    }
    Ok(sent)
}

async fn push(pusher: &reqwest::Client, url: &str, method: &Method, payload: &Value) -> Result<()> {
    let request = if *method == Method::GET {
        let mut u = url::Url::parse(url).map_err(|_| Error::config("the simulator's push URL is not a URL"))?;
        if let Some(o) = payload.as_object() {
            let mut q = u.query_pairs_mut();
            for (k, v) in o {
                match v {
                    Value::String(s) => q.append_pair(k, s),
                    other => q.append_pair(k, &other.to_string()),
                };
            }
        }
        pusher.get(u)
    } else {
        pusher.post(url).json(payload)
    };
    let resp = request
        .send()
        .await
        .map_err(switchboard_core::http::classify_reqwest_error)?;
    if !resp.status().is_success() {
        return Err(Error::new(
            ErrorKind::Rejected,
            format!("the webhook receiver answered HTTP {}", resp.status().as_u16()),
        ));
    }
    Ok(())
}

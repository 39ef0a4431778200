//! A TeleCMI simulator (feature `sim`): the click-to-call, login and call-record APIs of both hosts,
//! calls that move through `waiting → started → answered → hangup`, and the live events and CDRs of
//! each call pushed to a URL, with TeleCMI's naming and typing quirks intact.
//!
//! What it models, from TeleCMI's API pages (doc.telecmi.com, CHUB and CHUB-India):
//!
//! * credentials in the JSON body, a `code` in every answer that mirrors the HTTP status, `404` for a
//!   bad secret or token, `401` on the legacy `adminConnect`, `404 "Invalid Number"`, `400` for missing
//!   parameters and for user-API `limit` above 10 (and, undocumented, admin `limit` above 20);
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
//! A call moves when the test says so ([`Simulator::play`], or [`Simulator::advance`] for every call
//! placed) or, with [`Simulator::set_auto_play`], by itself as soon as it is placed.
//!
//! **The shared vocabulary** ([`Simulated`]): [`Simulator::sent`] lists the calls placed,
//! [`Simulator::advance`] plays every call still ringing to an answered end, [`Simulator::pushed`]
//! lists the pushes made, and `trigger` pushes one `call.answered`, `call.ended` or `cdr` payload;
//! the registry starts one through [`StartSim`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use http::Method;
use serde_json::{Value, json};
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{Error, ErrorKind, Result, WebhookRequest};

use crate::model::CdrKind;

mod api;
mod auth;
mod push;
mod state;

pub use api::USER_CLICK2CALL_404;
pub use state::{Outcome, SimCall, SimCallState};
use state::{State, StoredCdr, lock, request_id, uuid};

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

/// `url` with the webhook secret of [`Simulator::dsn`] in its query, as a host registers it.
fn with_secret(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}token={SIM_WEBHOOK_SECRET}")
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

    /// Starts with `options`: on `127.0.0.1:PORT` when it names a port (request recording off, for a
    /// long-running one), pushing live events and CDRs to its webhook URL when it names one (with the
    /// webhook secret of [`Simulator::dsn`] added to the URL, as a host registers it).
    pub async fn start_with(options: SimOptions) -> Result<Simulator> {
        let (state, pusher) = Self::parts();
        let handler = Self::handler(state.clone(), pusher.clone());
        let server = match options.port {
            Some(port) => SimServer::start_on_port(port, handler)
                .await
                .map_err(|e| Error::config(format!("the TeleCMI simulator cannot listen on port {port}: {e}")))?,
            None => SimServer::start(handler).await,
        };
        let sim = Simulator { server, state, pusher };
        if let Some(url) = options.webhook_url {
            sim.set_webhook_url(with_secret(&url));
        }
        Ok(sim)
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
                        if let Err(e) = push::play(&state, &pusher, &id, outcome).await {
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
        self.dsn_with(SIM_SECRET)
    }

    fn dsn_with(&self, secret: &str) -> String {
        format!(
            "telecmi://{}:{secret}@{}?webhook_secret={SIM_WEBHOOK_SECRET}&allow={},{}",
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

    /// One call by `request_id`, with everything the simulator keeps of it (agent, `extra_params`,
    /// `webrtc`, `followme`, `callerid`, the path it came in on).
    pub fn call(&self, request_id: &str) -> Option<SimCall> {
        lock(&self.state)
            .calls
            .iter()
            .find(|c| c.request_id == request_id)
            .cloned()
    }

    /// The calls placed so far, in order: `request_id`, destination as sent, the agent, and where the
    /// call is (`initiated`, `completed`, `missed`).
    pub fn sent(&self) -> Vec<SimRecord> {
        lock(&self.state)
            .calls
            .iter()
            .map(|c| {
                let state = match c.state {
                    SimCallState::Initiated => "initiated",
                    SimCallState::Completed => "completed",
                    SimCallState::Missed => "missed",
                };
                SimRecord::new(
                    c.request_id.clone(),
                    c.to.clone(),
                    format!("click-to-call by agent {}", c.agent),
                    state,
                )
            })
            .collect()
    }

    /// Plays every call still ringing to an answered end (30 seconds of talk), pushing its events.
    pub async fn advance(&self) {
        let ringing: Vec<String> = lock(&self.state)
            .calls
            .iter()
            .filter(|c| c.state == SimCallState::Initiated)
            .map(|c| c.request_id.clone())
            .collect();
        for id in ringing {
            if let Err(e) = self.play(&id, Outcome::Answered { talk_secs: 30 }).await {
                tracing::debug!(error = %e, "a simulated TeleCMI push failed");
            }
        }
    }

    /// Every push made so far, in order, as the requests made.
    pub fn pushed(&self) -> Vec<WebhookRequest> {
        lock(&self.state).pushed.clone()
    }

    /// Moves a placed call to its end: pushes its live events (`waiting`, `started`, `answered`,
    /// `hangup`) and its CDRs (two legs when answered), stores the records for the list APIs, and
    /// returns the payloads in the order they were pushed.
    pub async fn play(&self, request_id: &str, outcome: Outcome) -> Result<Vec<Value>> {
        push::play(&self.state, &self.pusher, request_id, outcome).await
    }

    /// Simulates an incoming call from `from` (digits) to the virtual number, answered by `agent` or
    /// missed, with its live events and CDR; returns the payloads.
    pub async fn inbound_call(&self, from: &str, agent: &str, outcome: Outcome) -> Result<Vec<Value>> {
        let payloads = {
            let mut s = lock(&self.state);
            let p = push::inbound_payloads(from, agent, outcome);
            let now = Utc::now().timestamp_millis();
            let (kind, agent_field) = match outcome {
                Outcome::Answered { .. } => (CdrKind::IncomingAnswered, Some(agent.to_owned())),
                Outcome::Missed => (CdrKind::IncomingMissed, None),
            };
            let mut record = push::pull_record(from, SIM_VIRTUAL_NUMBER, agent_field.as_deref(), outcome, false);
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
        push::push_all(&self.state, &self.pusher, payloads).await
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
                push::pull_record(&from, &to, agent, outcome, outgoing)
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

#[switchboard_core::async_trait]
impl Simulated for Simulator {
    fn provider(&self) -> &'static str {
        crate::SCHEME
    }

    fn uri(&self) -> String {
        Simulator::uri(self)
    }

    fn dsn(&self) -> String {
        Simulator::dsn(self)
    }

    fn faults(&self) -> &Faults {
        Simulator::faults(self)
    }

    fn sent(&self) -> Vec<SimRecord> {
        Simulator::sent(self)
    }

    async fn advance(&self) {
        Simulator::advance(self).await;
    }

    fn pushed(&self) -> Vec<WebhookRequest> {
        Simulator::pushed(self)
    }

    fn triggers(&self) -> &'static [&'static str] {
        &["call.answered", "call.ended", "cdr"]
    }

    /// Pushes one payload of the latest call (or of a call made up for it when none was placed) to
    /// `url`, with the webhook secret of [`Simulator::dsn`] added to its query: the live `answered`
    /// event, the live `hangup` event, or the CDR of the agent's leg of an answered call. The call
    /// itself does not move.
    async fn trigger(&self, event: &str, url: &str) -> Result<WebhookRequest> {
        let wanted = |p: &Value| match event {
            "call.answered" => p["type"] == "event" && p["status"] == "answered",
            "call.ended" => p["type"] == "event" && p["status"] == "hangup",
            _ => p["type"] == "cdr",
        };
        if !self.triggers().contains(&event) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "the TeleCMI simulator cannot push a '{event}' event; it knows: call.answered, call.ended, cdr"
                ),
            ));
        }
        let (call, method) = {
            let s = lock(&self.state);
            let call = s.calls.last().cloned().unwrap_or_else(|| SimCall {
                request_id: request_id(),
                agent: SIM_USERS[0].0.to_owned(),
                to: "919812345678".to_owned(),
                extra_params: Value::Null,
                webrtc: None,
                followme: None,
                callerid: None,
                via: "/v2/webrtc/click2call".to_owned(),
                state: SimCallState::Initiated,
            });
            (call, s.push_method.clone())
        };
        let (payloads, _) = push::outbound_payloads(&call, Outcome::Answered { talk_secs: 30 });
        let payload = payloads
            .into_iter()
            .map(|(_, p)| p)
            .find(|p| wanted(p))
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "the simulated call has no such payload"))?;
        let made = push::request_of(&with_secret(url), &method, &payload)?;
        lock(&self.state).pushed.push(made.clone());
        push::push(&self.pusher, &made).await?;
        Ok(made)
    }

    fn dsn_with_bad_credentials(&self) -> Option<String> {
        Some(self.dsn_with("not-the-app-secret"))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        Some(Simulator::dsn(self).replace(&self.host_port(), switchboard_core::simulated::host_port_of(base_url)))
    }
}

/// Starts TeleCMI simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "TeleCMI";
    type Error = switchboard_core::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, switchboard_core::Error> {
        Simulator::start_with(options).await
    }
}

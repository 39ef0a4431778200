//! A Mitto simulator (feature `sim`): both APIs on one loopback server, stateful, with fault
//! injection and delivery reports pushed to a URL.
//!
//! What it models, from Mitto's SMS API pages (docs.mitto.ch) and Mitto's own Power Platform connector
//! (`microsoft/PowerPlatformConnectors`, `certified-connectors/Mitto`):
//!
//! * **Legacy API**: `POST /sms` and `/smsbulk`, also under `.json` and with the `/v2` prefix seen in the
//!   vendor connector (`/v2/sms.json`); the `X-Mitto-API-Key` header (401 "Invalid or no API Key
//!   specified" otherwise, so `Authorization: Bearer` fails as it does for real); `responseCode` 0–8 with
//!   the documented meanings (empty/invalid sender, receiver, text, type, text invalid for encoding);
//!   test mode (nothing stored, no id, `"test":true`); the bulk `to` as a JSON array *or* a comma list
//!   (clients disagree, so both are taken); `POST /sms/converted`; `POST /usage/bycountry` computed from
//!   what was sent.
//! * **Strict bodies**: a legacy parameter of the wrong JSON type or out of range (`validity` as a
//!   string, `pid` above 255, `udh` not hex…) or a parameter the legacy API does not have is refused
//!   with `400` before anything else is looked at; messaging-API fields it knows must have their
//!   types (the `wire` module says where each type comes from).
//! * **Messaging API**: `POST /api/v1.1/Messages/send` and `sendbulk`, `GET /api/v1.1/Messages/{id}`,
//!   routes matched case-insensitively as ASP.NET does; 403 for a traffic account the key does not own.
//! * **State**: a message moves accepted → sent → delivered (or failed, for receivers marked with
//!   [`Simulator::fail_delivery_to`]); [`Simulator::advance`] moves every message one step and pushes a
//!   delivery report for each change; a messaging-API lookup moves its message one step when
//!   auto-advance is on (the default), so repeated `status` calls show progress.
//! * **Faults**: [`Simulator::faults`] (HTTP-level), [`Simulator::fail_next_with_code`] (any
//!   `responseCode`, including 1, which no input can provoke).
//!
//! **Unsure shapes, chosen here only**: the HTTP status that carries a non-zero `responseCode`
//! ([`DEFAULT_ERROR_HTTP_STATUS`], switchable with [`Simulator::set_error_http_status`]); the delivery
//! report's format ([`DlrMethod`]; fields `messageId`, `status`, `errorcode` after Mitto's Chat Apps
//! report, plus `reference` and `to`); the status words ([`status_word`]); test mode answering without
//! an `id` (as the docs' text says, though their example has one).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use switchboard_core::PhoneNumber;
use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};

use crate::config::Api;

mod api;
mod wire;

/// The API key the simulator accepts.
pub const SIM_API_KEY: &str = "sim-mitto-api-key";
/// The webhook secret [`Simulator::dsn`] configures.
pub const SIM_WEBHOOK_SECRET: &str = "sim-mitto-webhook-secret";
/// The traffic account the simulator's key owns.
pub const SIM_TRAFFIC_ACCOUNT: &str = "4ae53d46-5a1c-4c1e-9d7e-000000000001";
/// The sender [`Simulator::dsn`] configures.
pub const SIM_SENDER: &str = "Switchboard";

/// The HTTP status the simulator answers non-zero `responseCode`s with, by default.
///
/// Unsure: Mitto does not say whether they come with 200 or 400; the generated OpenAPI spec lists only
/// `400: Bad Request`, so 400 is the default. The client reads the code from the body either way.
pub const DEFAULT_ERROR_HTTP_STATUS: u16 = 400;

/// The price of one SMS part in the simulator's usage report, in ten-thousandths of a euro.
const PRICE_PER_PART: u64 = 500;

/// How delivery reports are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DlrMethod {
    /// `POST` with a JSON object body (the default).
    #[default]
    PostJson,
    /// `GET` with the fields as query parameters (Mitto lets accounts register GET callbacks).
    Get,
}

/// Where a simulated message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Taken, not yet handed on.
    Accepted,
    /// Handed to the network.
    Sent,
    /// On the handset.
    Delivered,
    /// Could not be delivered.
    Failed,
}

impl Stage {
    /// Whether no further change is expected.
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Delivered | Stage::Failed)
    }
}

/// The status word the simulator reports for a stage.
///
/// Unsure words: Mitto's status enums are not public. The messaging API's words are those third-party
/// code reads (`sent`, `delivered`, `failed`); the legacy reports use the same words capitalised.
pub fn status_word(api: Api, stage: Stage) -> &'static str {
    match (api, stage) {
        (Api::Legacy, Stage::Accepted) => "Accepted",
        (Api::Legacy, Stage::Sent) => "Sent",
        (Api::Legacy, Stage::Delivered) => "Delivered",
        (Api::Legacy, Stage::Failed) => "Failed",
        (Api::Messaging, Stage::Accepted) => "accepted",
        (Api::Messaging, Stage::Sent) => "sent",
        (Api::Messaging, Stage::Delivered) => "delivered",
        (Api::Messaging, Stage::Failed) => "failed",
    }
}

/// A message the simulator accepted.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct SimMessage {
    /// The id it answered.
    pub id: String,
    /// Which API took it.
    pub api: Api,
    /// The receiver's digits.
    pub to: String,
    /// The sender.
    pub from: String,
    /// The text.
    pub text: String,
    /// The legacy `type` as sent.
    pub kind: Option<String>,
    /// The legacy `reference`.
    pub reference: Option<String>,
    /// The per-message callback URL.
    pub callback: Option<String>,
    /// The messaging API's traffic account.
    pub traffic_account_id: Option<String>,
    /// The current stage.
    pub stage: Stage,
    /// The number of SMS parts.
    pub parts: usize,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// When its stage last changed.
    pub updated_at: DateTime<Utc>,
}

impl SimMessage {
    /// The status word of its stage.
    pub fn status(&self) -> &'static str {
        status_word(self.api, self.stage)
    }
}

impl std::fmt::Debug for SimMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimMessage")
            .field("id", &self.id)
            .field("api", &self.api)
            .field("to", &crate::model::mask(&self.to))
            .field("from", &self.from)
            .field("kind", &self.kind)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

/// A delivery report the simulator pushed, and how the receiver answered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Push {
    /// The message id.
    pub message_id: String,
    /// The status word reported.
    pub status: String,
    /// The receiver's HTTP status, or `None` when the push could not be delivered.
    pub answered: Option<u16>,
}

struct PendingPush {
    url: String,
    method: DlrMethod,
    payload: Map<String, Value>,
}

#[derive(Default)]
struct Counters {
    sms: usize,
    bulk: usize,
    messaging_sends: usize,
    lookups: usize,
    unauthorized: usize,
}

struct State {
    api_key: String,
    traffic_accounts: Vec<String>,
    messages: BTreeMap<String, SimMessage>,
    order: Vec<String>,
    seq: u64,
    seed: u64,
    error_http_status: u16,
    forced_codes: VecDeque<i64>,
    callback_url: Option<String>,
    dlr_method: DlrMethod,
    auto_advance: bool,
    conversions_enabled: bool,
    converted: HashSet<String>,
    failing: HashSet<String>,
    counters: Counters,
    pushes: Vec<Push>,
}

impl State {
    fn next_id(&mut self, api: Api) -> String {
        self.seq += 1;
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(self.seed ^ self.seq);
        let r = u128::from(h.finish()) << 64 | u128::from(self.seq);
        let hex = format!("{r:032x}");
        match api {
            Api::Legacy => hex,
            Api::Messaging => format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ),
        }
    }

    /// Moves one message a step; answers the push it causes, if any.
    fn step(&mut self, id: &str) -> Option<PendingPush> {
        let fail = {
            let m = self.messages.get(id)?;
            self.failing.contains(&m.to)
        };
        let (account_cb, method) = (self.callback_url.clone(), self.dlr_method);
        let m = self.messages.get_mut(id)?;
        let next = match m.stage {
            Stage::Accepted => Stage::Sent,
            Stage::Sent if fail => Stage::Failed,
            Stage::Sent => Stage::Delivered,
            s => s,
        };
        if next == m.stage {
            return None;
        }
        m.stage = next;
        m.updated_at = Utc::now();
        let url = m.callback.clone().or(account_cb)?;
        let mut payload = Map::new();
        payload.insert("messageId".into(), json!(m.id));
        payload.insert("status".into(), json!(m.status()));
        payload.insert("errorcode".into(), json!(if next == Stage::Failed { "1" } else { "0" }));
        payload.insert("to".into(), json!(m.to));
        if let Some(r) = &m.reference {
            payload.insert("reference".into(), json!(r));
        }
        if let Some(t) = &m.traffic_account_id {
            payload.insert("trafficAccountId".into(), json!(t));
        }
        payload.insert("timestamp".into(), json!(mitto_timestamp(m.updated_at)));
        Some(PendingPush { url, method, payload })
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
    ticker: Mutex<Option<tokio::task::AbortHandle>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.uri())
            .finish_non_exhaustive()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            t.abort();
        }
    }
}

impl Simulator {
    fn new_state() -> Arc<Mutex<State>> {
        let seed = std::collections::hash_map::RandomState::new().build_hasher().finish();
        Arc::new(Mutex::new(State {
            api_key: SIM_API_KEY.to_owned(),
            traffic_accounts: vec![SIM_TRAFFIC_ACCOUNT.to_owned()],
            messages: BTreeMap::new(),
            order: Vec::new(),
            seq: 0,
            seed,
            error_http_status: DEFAULT_ERROR_HTTP_STATUS,
            forced_codes: VecDeque::new(),
            callback_url: None,
            dlr_method: DlrMethod::default(),
            auto_advance: true,
            conversions_enabled: true,
            converted: HashSet::new(),
            failing: HashSet::new(),
            counters: Counters::default(),
            pushes: Vec::new(),
        }))
    }

    fn with(server: SimServer, state: Arc<Mutex<State>>) -> Simulator {
        let http = HttpOptions::default()
            .timeout(Duration::from_secs(5))
            .build_client()
            .unwrap_or_default();
        Simulator {
            server,
            state,
            http,
            ticker: Mutex::new(None),
        }
    }

    fn handler(state: &Arc<Mutex<State>>) -> switchboard_core::testkit::Handler {
        let s = state.clone();
        let http = HttpOptions::default()
            .timeout(Duration::from_secs(5))
            .build_client()
            .unwrap_or_default();
        Arc::new(move |req: &Request| {
            let (resp, pushes) = api::handle(&s, req);
            if !pushes.is_empty()
                && let Ok(rt) = tokio::runtime::Handle::try_current()
            {
                let (s, http) = (s.clone(), http.clone());
                rt.spawn(async move {
                    deliver(&http, &s, pushes).await;
                });
            }
            resp
        })
    }

    /// Starts on a free loopback port.
    pub async fn start() -> Simulator {
        let state = Self::new_state();
        let server = SimServer::start(Self::handler(&state)).await;
        Self::with(server, state)
    }

    /// Starts on `127.0.0.1:port` (for `switchboard sim mitto --port P`).
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let state = Self::new_state();
        let server = SimServer::start_on_port(port, Self::handler(&state)).await?;
        Ok(Self::with(server, state))
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    fn dsn_for(&self, api: Api) -> String {
        let addr = self.server.address();
        format!(
            "mitto://{SIM_API_KEY}@{}:{}?from={SIM_SENDER}&api={}&traffic_account={SIM_TRAFFIC_ACCOUNT}&webhook_secret={SIM_WEBHOOK_SECRET}",
            addr.ip(),
            addr.port(),
            api.as_str()
        )
    }

    /// A DSN for the legacy API on this simulator, with valid credentials and the webhook secret.
    pub fn dsn(&self) -> String {
        self.dsn_for(Api::Legacy)
    }

    /// A DSN for the messaging API on this simulator.
    pub fn dsn_messaging(&self) -> String {
        self.dsn_for(Api::Messaging)
    }

    /// The HTTP fault queue.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every request received (for assertions).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// The requests received on one path (for assertions).
    pub async fn requests_to(&self, path: &str) -> Vec<Request> {
        self.server.requests_to(path).await
    }

    /// The callback URL a host would register with Mitto for this simulator's webhook secret, on `base`
    /// (`https://host/hooks/mitto` → `https://host/hooks/mitto?token=…`).
    pub fn callback_url_for(base: &str) -> String {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}token={SIM_WEBHOOK_SECRET}")
    }

    /// Sets the account's delivery-report URL (a message's own `callback` wins over it).
    pub fn set_callback_url(&self, url: impl Into<String>) {
        lock(&self.state).callback_url = Some(url.into());
    }

    /// Sets how delivery reports are pushed.
    pub fn set_dlr_method(&self, method: DlrMethod) {
        lock(&self.state).dlr_method = method;
    }

    /// Answers the next send (legacy `/sms` or `/smsbulk`) with this `responseCode` instead of handling it.
    pub fn fail_next_with_code(&self, code: i64) {
        lock(&self.state).forced_codes.push_back(code);
    }

    /// Sets the HTTP status of answers with a non-zero `responseCode` (200 or 400; see
    /// [`DEFAULT_ERROR_HTTP_STATUS`]).
    pub fn set_error_http_status(&self, status: u16) {
        lock(&self.state).error_http_status = status;
    }

    /// Makes every message to `to` end as failed instead of delivered.
    pub fn fail_delivery_to(&self, to: &PhoneNumber) {
        lock(&self.state).failing.insert(to.digits().to_owned());
    }

    /// Whether a messaging-API lookup moves its message one step (on by default).
    pub fn set_auto_advance(&self, on: bool) {
        lock(&self.state).auto_advance = on;
    }

    /// Turns conversion tracking (`/sms/converted`) on or off for the account.
    pub fn set_conversions_enabled(&self, on: bool) {
        lock(&self.state).conversions_enabled = on;
    }

    /// Moves every message one step and pushes a delivery report for each change that has a callback
    /// URL. Answers the pushes made, in order.
    pub async fn advance(&self) -> Vec<Push> {
        let pushes = {
            let mut st = lock(&self.state);
            let ids = st.order.clone();
            ids.iter().filter_map(|id| st.step(id)).collect::<Vec<_>>()
        };
        deliver(&self.http, &self.state, pushes).await
    }

    /// Advances until every message is final; answers all pushes made.
    pub async fn deliver_all(&self) -> Vec<Push> {
        let mut all = Vec::new();
        for _ in 0..3 {
            all.extend(self.advance().await);
        }
        all
    }

    /// Advances every `period` in the background until the simulator is dropped (for a simulator a
    /// person uses through the command line, where nobody calls [`Simulator::advance`]).
    pub fn advance_every(&self, period: Duration) {
        let http = self.http.clone();
        let task = switchboard_core::testkit::every(Arc::downgrade(&self.state), period, move |state| {
            let http = http.clone();
            async move {
                let pushes = {
                    let mut st = lock(&state);
                    let ids = st.order.clone();
                    ids.iter().filter_map(|id| st.step(id)).collect::<Vec<_>>()
                };
                deliver(&http, &state, pushes).await;
            }
        });
        if let Some(old) = self
            .ticker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(task.abort_handle())
        {
            old.abort();
        }
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<SimMessage> {
        let st = lock(&self.state);
        st.order.iter().filter_map(|id| st.messages.get(id).cloned()).collect()
    }

    /// One message by id.
    pub fn message(&self, id: &str) -> Option<SimMessage> {
        lock(&self.state).messages.get(id).cloned()
    }

    /// Every delivery report pushed so far.
    pub fn pushes(&self) -> Vec<Push> {
        lock(&self.state).pushes.clone()
    }

    /// Requests to `/sms` handled (faulted ones excluded).
    pub fn sms_requests(&self) -> usize {
        lock(&self.state).counters.sms
    }

    /// Requests to `/smsbulk` handled.
    pub fn bulk_requests(&self) -> usize {
        lock(&self.state).counters.bulk
    }

    /// Messaging-API sends (single and bulk) handled.
    pub fn messaging_sends(&self) -> usize {
        lock(&self.state).counters.messaging_sends
    }

    /// Messaging-API lookups handled.
    pub fn lookups(&self) -> usize {
        lock(&self.state).counters.lookups
    }

    /// Requests refused for a missing or wrong API key.
    pub fn unauthorized(&self) -> usize {
        lock(&self.state).counters.unauthorized
    }
}

async fn deliver(http: &reqwest::Client, state: &Mutex<State>, pushes: Vec<PendingPush>) -> Vec<Push> {
    let mut done = Vec::with_capacity(pushes.len());
    for p in pushes {
        let req = match p.method {
            DlrMethod::PostJson => http.post(&p.url).json(&Value::Object(p.payload.clone())),
            DlrMethod::Get => match url::Url::parse(&p.url) {
                Ok(mut u) => {
                    {
                        let mut q = u.query_pairs_mut();
                        for (k, v) in &p.payload {
                            q.append_pair(k, v.as_str().unwrap_or(&v.to_string()));
                        }
                    }
                    http.get(u)
                }
                Err(_) => http.get(&p.url),
            },
        };
        let answered = req.send().await.ok().map(|r| r.status().as_u16());
        done.push(Push {
            message_id: p
                .payload
                .get("messageId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            status: p.payload.get("status").and_then(Value::as_str).unwrap_or("").to_owned(),
            answered,
        });
    }
    lock(state).pushes.extend(done.iter().cloned());
    done
}

/// Mitto's timestamp: ISO 8601 with 7 fractional digits and `Z`.
fn mitto_timestamp(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

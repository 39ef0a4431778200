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

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};
use switchboard_core::PhoneNumber;
use switchboard_core::http::HttpOptions;
use switchboard_core::segment::is_gsm7;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_response, json_status};

use crate::config::Api;
use crate::sender::{self, LEGACY_SENDER, MESSAGING_SENDER};

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
            let (resp, pushes) = handle(&s, req);
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

fn response_text(code: i64) -> &'static str {
    match code {
        0 => "SMS sent",
        1 => "Internal error",
        2 => "Invalid type",
        3 => "Empty message",
        4 => "Message text invalid for encoding",
        5 => "Empty sender",
        6 => "Invalid sender",
        7 => "Empty receiver",
        8 => "Invalid receiver",
        _ => "Error",
    }
}

fn code_answer(st: &State, code: i64) -> ResponseTemplate {
    json_status(
        st.error_http_status,
        &json!({"responseCode": code, "responseText": response_text(code)}),
    )
}

fn text_answer(status: u16, text: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(text.to_owned(), "text/plain; charset=utf-8")
}

fn message_error(status: u16, message: &str) -> ResponseTemplate {
    json_status(status, &json!({ "message": message }))
}

type Outcome = (ResponseTemplate, Vec<PendingPush>);

fn handle(state: &Mutex<State>, req: &Request) -> Outcome {
    let mut st = lock(state);
    let key_ok = req
        .headers
        .get("x-mitto-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| k == st.api_key);
    let raw_path = req.url.path().to_ascii_lowercase();
    let path = raw_path.trim_end_matches('/');
    if path.ends_with(".xml") {
        return (text_answer(415, "the simulator speaks JSON only"), vec![]);
    }
    let legacy = path.strip_prefix("/v2").unwrap_or(path);
    let legacy = legacy.strip_suffix(".json").unwrap_or(legacy);
    let post = req.method == http::Method::POST;
    let get = req.method == http::Method::GET;
    let route = match legacy {
        "/sms" | "/smsbulk" | "/sms/converted" | "/usage/bycountry" => Some(legacy),
        _ => None,
    };
    if let Some(route) = route {
        if !key_ok {
            st.counters.unauthorized += 1;
            return (text_answer(401, "Invalid or no API Key specified"), vec![]);
        }
        if !post {
            return (text_answer(405, "Method Not Allowed"), vec![]);
        }
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return (text_answer(400, "Bad Request: the body is not a JSON object"), vec![]),
        };
        return match route {
            "/sms" => (legacy_sms(&mut st, &body), vec![]),
            "/smsbulk" => (legacy_bulk(&mut st, &body), vec![]),
            "/sms/converted" => (converted(&mut st, &body), vec![]),
            _ => (usage(&st, &body), vec![]),
        };
    }
    if let Some(rest) = path.strip_prefix("/api/v1.1/messages") {
        if !key_ok {
            st.counters.unauthorized += 1;
            return (message_error(401, "Invalid or no API Key specified"), vec![]);
        }
        return match rest {
            "/send" | "/sendbulk" if post => {
                let body: Value = match serde_json::from_slice(&req.body) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => return (message_error(400, "The request body is not a JSON object"), vec![]),
                };
                (messaging_send(&mut st, &body, rest == "/sendbulk"), vec![])
            }
            r if get && r.len() > 1 && !r[1..].contains('/') => {
                // The id keeps its case: take it from the original path.
                let id = req.url.path().rsplit('/').next().unwrap_or("").to_owned();
                messaging_get(&mut st, &id)
            }
            _ => (message_error(405, "Method Not Allowed"), vec![]),
        };
    }
    (text_answer(404, "Not Found"), vec![])
}

/// Checks the legacy fields every send has; answers the first failing `responseCode`.
fn legacy_checks(body: &Value, receivers: &[String]) -> Result<(), i64> {
    let from = body.get("from").and_then(Value::as_str).unwrap_or("");
    if from.trim().is_empty() {
        return Err(5);
    }
    if sender::check(from, &LEGACY_SENDER).is_err() {
        return Err(6);
    }
    if receivers.is_empty() || receivers.iter().all(|r| r.trim().is_empty()) {
        return Err(7);
    }
    if receivers.iter().any(|r| !valid_receiver(r)) {
        return Err(8);
    }
    let text = body.get("text").and_then(Value::as_str).unwrap_or("");
    if text.is_empty() {
        return Err(3);
    }
    let kind = match body.get("type") {
        None | Some(Value::Null) => "gsm".to_owned(),
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(_) => return Err(2),
    };
    match kind.as_str() {
        "gsm" if !is_gsm7(text) => Err(4),
        "gsm" | "unicode" | "binary" | "byte" | "auto" => Ok(()),
        _ => Err(2),
    }
}

fn valid_receiver(r: &str) -> bool {
    let d = r.trim().strip_prefix('+').unwrap_or(r.trim());
    (6..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())
}

fn digits(r: &str) -> String {
    r.trim().trim_start_matches('+').to_owned()
}

fn parts_of(text: &str) -> usize {
    switchboard_core::Segmentation::of(text).segments
}

fn store(st: &mut State, api: Api, to: &str, body: &Value, text: &str, from: &str) -> SimMessage {
    let id = st.next_id(api);
    let now = Utc::now();
    let m = SimMessage {
        id: id.clone(),
        api,
        to: digits(to),
        from: from.to_owned(),
        text: text.to_owned(),
        kind: body.get("type").and_then(Value::as_str).map(str::to_owned),
        reference: body.get("reference").and_then(Value::as_str).map(str::to_owned),
        callback: body.get("callback").and_then(Value::as_str).map(str::to_owned),
        traffic_account_id: body.get("trafficAccountId").and_then(Value::as_str).map(str::to_owned),
        stage: Stage::Accepted,
        parts: parts_of(text),
        created_at: now,
        updated_at: now,
    };
    st.messages.insert(id.clone(), m.clone());
    st.order.push(id);
    m
}

fn legacy_sms(st: &mut State, body: &Value) -> ResponseTemplate {
    st.counters.sms += 1;
    if let Some(code) = st.forced_codes.pop_front() {
        return code_answer(st, code);
    }
    let to = body.get("to").and_then(Value::as_str).unwrap_or("").to_owned();
    if let Err(code) = legacy_checks(body, std::slice::from_ref(&to)) {
        return code_answer(st, code);
    }
    let text = body.get("text").and_then(Value::as_str).unwrap_or("");
    let from = body.get("from").and_then(Value::as_str).unwrap_or("");
    let test = body.get("test").and_then(Value::as_bool).unwrap_or(false);
    let now = mitto_timestamp(Utc::now());
    if test {
        return json_response(&json!({
            "timestamp": now, "to": digits(&to), "responseCode": 0, "responseText": "SMS sent",
            "textLength": text.chars().count(), "test": true
        }));
    }
    let m = store(st, Api::Legacy, &to, body, text, from);
    json_response(&json!({
        "id": m.id, "timestamp": now, "to": m.to, "responseCode": 0,
        "textLength": text.chars().count(), "responseText": "SMS sent"
    }))
}

fn legacy_bulk(st: &mut State, body: &Value) -> ResponseTemplate {
    st.counters.bulk += 1;
    if let Some(code) = st.forced_codes.pop_front() {
        return code_answer(st, code);
    }
    // Clients disagree on the shape of `to`: a JSON array, or one string of comma-separated numbers.
    let receivers: Vec<String> = match body.get("to") {
        Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap_or("").to_owned()).collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => s.split(',').map(|p| p.trim().to_owned()).collect(),
        _ => Vec::new(),
    };
    if let Err(code) = legacy_checks(body, &receivers) {
        return code_answer(st, code);
    }
    let text = body.get("text").and_then(Value::as_str).unwrap_or("");
    let from = body.get("from").and_then(Value::as_str).unwrap_or("");
    let test = body.get("test").and_then(Value::as_bool).unwrap_or(false);
    let now = mitto_timestamp(Utc::now());
    let messages: Vec<Value> = receivers
        .iter()
        .map(|to| {
            if test {
                json!({"to": digits(to), "timestamp": now, "textLength": text.chars().count()})
            } else {
                let m = store(st, Api::Legacy, to, body, text, from);
                json!({"id": m.id, "to": m.to, "timestamp": now, "textLength": text.chars().count()})
            }
        })
        .collect();
    json_response(&json!({
        "responseCode": 0, "responseText": "SMS sent", "messages": messages, "test": test
    }))
}

fn converted(st: &mut State, body: &Value) -> ResponseTemplate {
    let id = body.get("messageId").and_then(Value::as_str).unwrap_or("");
    if !st.conversions_enabled {
        return json_status(
            400,
            &json!("Conversion rate tracking is not enabled for this customer account"),
        );
    }
    if !st.messages.contains_key(id) {
        return json_status(404, &json!(format!("No convertible message found for id \"{id}\"")));
    }
    st.converted.insert(id.to_owned());
    json_response(&json!("OK"))
}

fn usage(st: &State, body: &Value) -> ResponseTemplate {
    let date = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    let (Some(start), Some(end)) = (date("startDate"), date("endDate")) else {
        return text_answer(400, "Bad Request: startDate and endDate must be dates (YYYY-MM-DD)");
    };
    let mut by_country: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for m in st.messages.values() {
        let day = m.created_at.date_naive();
        if day < start || day > end {
            continue;
        }
        let country = PhoneNumber::parse(&format!("+{}", m.to), None)
            .ok()
            .and_then(|p| p.region())
            .map(|r| alpha3(r.as_str()).to_owned())
            .unwrap_or_else(|| "ZZZ".to_owned());
        let e = by_country.entry(country).or_default();
        e.0 += 1;
        e.1 += m.parts as u64 * PRICE_PER_PART;
    }
    let rows: Vec<Value> = by_country
        .into_iter()
        .map(|(country, (n, cost))| {
            json!({"country": country, "messagesCount": n.to_string(), "cost": format!("{}.{:04}", cost / 10_000, cost % 10_000)})
        })
        .collect();
    json_response(&Value::Array(rows))
}

fn messaging_send(st: &mut State, body: &Value, bulk: bool) -> ResponseTemplate {
    st.counters.messaging_sends += 1;
    let ta = body.get("trafficAccountId").and_then(Value::as_str).unwrap_or("");
    if ta.is_empty() {
        return message_error(400, "trafficAccountId is required");
    }
    if !st.traffic_accounts.iter().any(|t| t == ta) {
        return message_error(403, "The traffic account does not belong to this API key");
    }
    let destinations: Vec<String> = if bulk {
        match body.get("destinations") {
            Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap_or("").to_owned()).collect(),
            _ => Vec::new(),
        }
    } else {
        body.get("destination")
            .and_then(Value::as_str)
            .map(|d| vec![d.to_owned()])
            .unwrap_or_default()
    };
    if destinations.is_empty() {
        return message_error(400, "destination is required");
    }
    if destinations.iter().any(|d| !valid_receiver(d)) {
        return message_error(400, "destination must be a phone number in E.164 format");
    }
    let sms = body.get("sms").cloned().unwrap_or(Value::Null);
    let text = sms.get("text").and_then(Value::as_str).unwrap_or("");
    let sender_id = sms.get("sender").and_then(Value::as_str).unwrap_or("");
    if text.is_empty() {
        return message_error(400, "sms.text is required");
    }
    if sender::check(sender_id, &MESSAGING_SENDER).is_err() {
        return message_error(400, "sms.sender must be numeric (1-16) or alphanumeric (1-11)");
    }
    let messages: Vec<Value> = destinations
        .iter()
        .map(|d| {
            let m = store(st, Api::Messaging, d, body, text, sender_id);
            json!({"messageId": m.id, "trafficAccountId": ta})
        })
        .collect();
    if bulk {
        let bulk_id = st.next_id(Api::Messaging);
        json_response(&json!({"bulkId": bulk_id, "messages": messages}))
    } else {
        json_response(&json!({ "messages": messages }))
    }
}

fn messaging_get(st: &mut State, id: &str) -> Outcome {
    st.counters.lookups += 1;
    let known = st.messages.get(id).is_some_and(|m| m.api == Api::Messaging);
    if !known {
        return (message_error(404, "Message not found"), vec![]);
    }
    let pushes = if st.auto_advance {
        st.step(id).into_iter().collect()
    } else {
        vec![]
    };
    let Some(m) = st.messages.get(id) else {
        return (message_error(404, "Message not found"), vec![]);
    };
    let record = json!({
        "messageId": m.id,
        "text": m.text,
        "mediaUrl": null,
        "sender": {"id": m.from, "type": "sms"},
        "conversation": {"channel": "SMS", "destination": format!("+{}", m.to)},
        "createdAt": m.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "updatedAt": m.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "trafficAccountId": m.traffic_account_id,
        "deliveryStatus": m.status(),
        "description": if m.stage == Stage::Failed { "Delivery failed" } else { "" },
        "quotedMessageId": null,
        "messageParts": m.parts,
        "requestInfo": {},
        "reference": m.reference,
    });
    (json_response(&record), pushes)
}

/// ISO 3166 alpha-2 → alpha-3 for the usage report (the countries a simulator is likely to see; others
/// are reported under their alpha-2 code).
fn alpha3(alpha2: &str) -> &str {
    match alpha2 {
        "AL" => "ALB",
        "AT" => "AUT",
        "AU" => "AUS",
        "BE" => "BEL",
        "BG" => "BGR",
        "BR" => "BRA",
        "BY" => "BLR",
        "CA" => "CAN",
        "CH" => "CHE",
        "CN" => "CHN",
        "CZ" => "CZE",
        "DE" => "DEU",
        "DK" => "DNK",
        "ES" => "ESP",
        "FI" => "FIN",
        "FR" => "FRA",
        "GB" => "GBR",
        "GR" => "GRC",
        "HR" => "HRV",
        "HU" => "HUN",
        "IE" => "IRL",
        "IN" => "IND",
        "IT" => "ITA",
        "JP" => "JPN",
        "KZ" => "KAZ",
        "LI" => "LIE",
        "LU" => "LUX",
        "ME" => "MNE",
        "MK" => "MKD",
        "NL" => "NLD",
        "NO" => "NOR",
        "PL" => "POL",
        "PT" => "PRT",
        "RO" => "ROU",
        "RS" => "SRB",
        "RU" => "RUS",
        "SE" => "SWE",
        "SG" => "SGP",
        "TR" => "TUR",
        "UA" => "UKR",
        "US" => "USA",
        "XK" => "XKX",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_seven_fractional_digits() {
        let t = DateTime::parse_from_rfc3339("2019-04-13T12:07:57.862557412Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(mitto_timestamp(t), "2019-04-13T12:07:57.8625574Z");
    }

    #[test]
    fn legacy_checks_follow_the_table() {
        let ok = json!({"from": "Acme", "text": "hi"});
        assert_eq!(legacy_checks(&ok, &["41751231234".into()]), Ok(()));
        assert_eq!(legacy_checks(&json!({"text": "hi"}), &["41751231234".into()]), Err(5));
        assert_eq!(
            legacy_checks(&json!({"from": "A", "text": "hi"}), &["41751231234".into()]),
            Err(6)
        );
        assert_eq!(legacy_checks(&ok, &[]), Err(7));
        assert_eq!(legacy_checks(&ok, &["41-75".into()]), Err(8));
        assert_eq!(
            legacy_checks(&json!({"from": "Acme", "text": ""}), &["41751231234".into()]),
            Err(3)
        );
        assert_eq!(
            legacy_checks(
                &json!({"from": "Acme", "text": "hi", "type": "fax"}),
                &["41751231234".into()]
            ),
            Err(2)
        );
        assert_eq!(
            legacy_checks(
                &json!({"from": "Acme", "text": "Привет", "type": "GSM"}),
                &["41751231234".into()]
            ),
            Err(4)
        );
    }
}

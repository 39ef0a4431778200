//! A MightyCall API v4 simulator (feature `sim`): token auth with expiry and refresh, SMS, the
//! journal, business numbers and ping, stateful, with fault injection.
//!
//! What it models, from MightyCall's "Authentication via API" support page (support.mightycall.com)
//! for auth and from what working third-party clients send and read for the rest:
//!
//! * **Auth**: `POST /v4/auth/token`, form-encoded, `x-api-key` header; `client_credentials` with
//!   `client_id` = API key and `client_secret` = User key; `refresh_token` grants (the refresh token
//!   rotates); tokens live 24 h on the simulator's own clock ([`Simulator::advance_clock`],
//!   [`Simulator::expire_tokens`], [`Simulator::revoke_refresh_tokens`]); bad credentials answer
//!   `{"error":"invalid_client"}` (HTTP 400 by default — unsure, one dashboard saw a 500:
//!   [`Simulator::set_invalid_client_status`]). Like the provider, it refuses as `invalid_request` a
//!   token request that is not form-encoded, and a refresh that carries anything but `grant_type` and
//!   `refresh_token` (the documented refresh has the other parameters removed). Every other call needs `Authorization: Bearer` and
//!   `x-api-key`, and answers 401 otherwise. Token grants are counted ([`Simulator::token_stats`]) so
//!   tests can prove single flight.
//! * **Paths**: both `/v4/api/…` and `/v4/…`, matched case-insensitively; both SMS paths
//!   (`contactcenter/messages/send` and `messages/send`).
//! * **SMS**: `{"from","to":[…],"message","attachments"}`, each of its JSON type (a number where a
//!   string belongs, a bare string for `to`, is `400 InvalidRequest`); `from` must be a business number; each
//!   receiver becomes an outgoing journal entry that moves Queued → Sent → Delivered (or Failed for
//!   receivers marked with [`Simulator::fail_delivery_to`]) on [`Simulator::advance`] and, when
//!   auto-advance is on, on each lookup of that entry.
//! * **Journal**: `GET journal/requests` with `page`, `pageSize` (≤ 1000), `from`, `to`, `type`, `origin`,
//!   `state`, `phone`, `businessNumber`, newest first; `GET journal/requests/{id}`. Seeded with a few calls
//!   and messages; add more with [`Simulator::add_inbound_message`] and [`Simulator::add_call`].
//!   Entries come with bare-string parties, or in the object shape also seen in the field
//!   ([`Simulator::set_object_parties`]); [`Simulator::add_raw_entry`] adds any entry verbatim.
//!
//! **Provisional shapes, chosen here only** (none is documented): answers are wrapped as
//! `{"isSuccess":true,"data":…}` (the documented ping shape) except journal pages, which come bare as
//! `{"currentPage","requests"}` as the n8n node reads them; the send answer is `data.id`; errors are
//! `{"isSuccess":false,"error":{"code","message"}}`; journal records have `id`, `type`, `origin`,
//! `state`, `dateTimeUtc`, `from`, `to`, `businessNumber`, `text`, `duration`.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use switchboard_core::PhoneNumber;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_response, json_status};

use crate::model::MAX_PAGE_SIZE;

/// The API key the simulator accepts.
pub const SIM_API_KEY: &str = "sim-mightycall-api-key";
/// The User key the simulator accepts.
pub const SIM_USER_KEY: &str = "sim-mightycall-user-key";
/// The simulator account's main business number.
pub const SIM_BUSINESS_NUMBER: &str = "+18444131701";
/// A second business number.
pub const SIM_BUSINESS_NUMBER_2: &str = "+18885550100";
/// How long the simulator's access tokens live (24 h, as documented).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// Token grants the simulator handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenStats {
    /// Successful `client_credentials` grants.
    pub client_credentials: usize,
    /// Successful `refresh_token` grants.
    pub refresh: usize,
    /// Refused token requests (bad keys, refused refresh tokens, malformed).
    pub refused: usize,
}

impl TokenStats {
    /// Every token request, granted or not.
    pub fn total(&self) -> usize {
        self.client_credentials + self.refresh + self.refused
    }
}

/// A journal entry of the simulator.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct SimEntry {
    /// The request id.
    pub id: String,
    /// `Message` or `Call`.
    pub kind: String,
    /// `Incoming` or `Outgoing`.
    pub origin: String,
    /// The state word.
    pub state: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The calling or sending party.
    pub from: String,
    /// The called or receiving party.
    pub to: String,
    /// The business number.
    pub business_number: String,
    /// The text of a message.
    pub text: Option<String>,
    /// The duration of a call.
    pub duration: Option<u64>,
    /// An entry added as raw JSON ([`Simulator::add_raw_entry`]), served exactly as given.
    pub raw: Option<Value>,
}

impl std::fmt::Debug for SimEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimEntry")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("origin", &self.origin)
            .field("state", &self.state)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl SimEntry {
    /// The entry as the journal lists it. With `object_parties`, in the other shape seen in
    /// third-party integrations: `businessNumber` as `{"number", "name"}` and the customer as
    /// `client: {"address"}`, without `from`/`to`.
    fn to_json(&self, object_parties: bool) -> Value {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let mut v = json!({
            "id": self.id,
            "type": self.kind,
            "origin": self.origin,
            "state": self.state,
            "dateTimeUtc": self.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        if object_parties {
            let customer = if self.origin.eq_ignore_ascii_case("incoming") {
                &self.from
            } else {
                &self.to
            };
            v["businessNumber"] = json!({"number": self.business_number, "name": "Main line"});
            v["client"] = json!({"address": customer});
        } else {
            v["from"] = json!(self.from);
            v["to"] = json!(self.to);
            v["businessNumber"] = json!(self.business_number);
        }
        if let Some(t) = &self.text {
            v["text"] = json!(t);
        }
        if let Some(d) = self.duration {
            v["duration"] = json!(d);
        }
        v
    }
}

/// Outgoing message states, in order (unsure words; see the [module docs](self)).
const OUT_QUEUED: &str = "Queued";
const OUT_SENT: &str = "Sent";
const OUT_DELIVERED: &str = "Delivered";
const OUT_FAILED: &str = "Failed";

struct SimToken {
    expires_at: Duration,
}

struct State {
    api_key: String,
    user_key: String,
    business_numbers: Vec<String>,
    now: Duration,
    token_lifetime: Duration,
    access: HashMap<String, SimToken>,
    refresh: HashSet<String>,
    seq: u64,
    seed: u64,
    stats: TokenStats,
    api_calls: usize,
    unauthorized: usize,
    sends: usize,
    always_unauthorized: bool,
    invalid_client_status: u16,
    journal: Vec<SimEntry>,
    auto_advance: bool,
    failing: HashSet<String>,
    object_parties: bool,
}

impl State {
    fn id(&mut self) -> String {
        self.seq += 1;
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(self.seed ^ self.seq);
        let hex = format!("{:016x}{:016x}", h.finish(), self.seq);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    fn issue(&mut self) -> Value {
        let access = format!("at-{}", self.id());
        let refresh = format!("rt-{}", self.id());
        let expires_at = self.now + self.token_lifetime;
        self.access.insert(access.clone(), SimToken { expires_at });
        self.refresh.insert(refresh.clone());
        json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.token_lifetime.as_secs(),
            "refresh_token": refresh,
        })
    }

    fn step(&mut self, id: &str) {
        let failing = self.failing.clone();
        if let Some(e) = self.journal.iter_mut().find(|e| e.id == id)
            && e.kind == "Message"
            && e.origin == "Outgoing"
        {
            e.state = match e.state.as_str() {
                OUT_QUEUED => OUT_SENT,
                OUT_SENT if failing.contains(&e.to) => OUT_FAILED,
                OUT_SENT => OUT_DELIVERED,
                _ => return,
            }
            .to_owned();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// The simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.uri())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    fn new_state() -> Arc<Mutex<State>> {
        let seed = std::collections::hash_map::RandomState::new().build_hasher().finish();
        let mut st = State {
            api_key: SIM_API_KEY.to_owned(),
            user_key: SIM_USER_KEY.to_owned(),
            business_numbers: vec![SIM_BUSINESS_NUMBER.to_owned(), SIM_BUSINESS_NUMBER_2.to_owned()],
            now: Duration::ZERO,
            token_lifetime: TOKEN_LIFETIME,
            access: HashMap::new(),
            refresh: HashSet::new(),
            seq: 0,
            seed,
            stats: TokenStats::default(),
            api_calls: 0,
            unauthorized: 0,
            sends: 0,
            always_unauthorized: false,
            invalid_client_status: 400,
            journal: Vec::new(),
            auto_advance: true,
            failing: HashSet::new(),
            object_parties: false,
        };
        // A little history, so a fresh simulator has something to list.
        let now = Utc::now();
        let seed_entries = [
            ("Call", "Incoming", "Connected", 180, "+15550001111", Some(125), None),
            (
                "Message",
                "Incoming",
                "Received",
                120,
                "+15550002222",
                None,
                Some("Do you open on Sunday?"),
            ),
            ("Call", "Incoming", "Missed", 60, "+15550003333", Some(0), None),
        ];
        for (kind, origin, state, mins_ago, party, duration, text) in seed_entries {
            let id = st.id();
            st.journal.push(SimEntry {
                id,
                kind: kind.to_owned(),
                origin: origin.to_owned(),
                state: state.to_owned(),
                at: now - chrono::Duration::minutes(mins_ago),
                from: party.to_owned(),
                to: SIM_BUSINESS_NUMBER.to_owned(),
                business_number: SIM_BUSINESS_NUMBER.to_owned(),
                text: text.map(str::to_owned),
                duration,
                raw: None,
            });
        }
        Arc::new(Mutex::new(st))
    }

    fn handler(state: &Arc<Mutex<State>>) -> switchboard_core::testkit::Handler {
        let s = state.clone();
        Arc::new(move |req: &Request| handle(&s, req))
    }

    /// Starts on a free loopback port.
    pub async fn start() -> Simulator {
        let state = Self::new_state();
        let server = SimServer::start(Self::handler(&state)).await;
        Simulator { server, state }
    }

    /// Starts on `127.0.0.1:port` (for `switchboard sim mightycall --port P`).
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let state = Self::new_state();
        let server = SimServer::start_on_port(port, Self::handler(&state)).await?;
        Ok(Simulator { server, state })
    }

    /// The base URL, `http://127.0.0.1:PORT` (the API is under `/v4`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    fn dsn_for(&self, flavour: &str, paths: &str) -> String {
        let a = self.server.address();
        format!(
            "mightycall://{SIM_API_KEY}:{SIM_USER_KEY}@{}:{}?from=%2B{}&flavour={flavour}&paths={paths}",
            a.ip(),
            a.port(),
            SIM_BUSINESS_NUMBER.trim_start_matches('+')
        )
    }

    /// A DSN (Contact Center flavour, `/v4/api/…` paths) pointing at this simulator with valid keys.
    pub fn dsn(&self) -> String {
        self.dsn_for("cc", "api")
    }

    /// A DSN for the Classic flavour with bare `/v4/…` paths.
    pub fn dsn_classic(&self) -> String {
        self.dsn_for("classic", "bare")
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

    /// Moves the simulator's token clock forward (tokens expire 24 h after issue on this clock).
    pub fn advance_clock(&self, by: Duration) {
        let mut st = lock(&self.state);
        st.now = st.now.saturating_add(by);
    }

    /// Expires every access token issued so far (refresh tokens stay valid).
    pub fn expire_tokens(&self) {
        let mut st = lock(&self.state);
        let now = st.now;
        for t in st.access.values_mut() {
            t.expires_at = now;
        }
    }

    /// Revokes every refresh token issued so far.
    pub fn revoke_refresh_tokens(&self) {
        lock(&self.state).refresh.clear();
    }

    /// Sets the lifetime of tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        lock(&self.state).token_lifetime = lifetime;
    }

    /// Answers every authenticated call 401, whatever the token (a revoked integration).
    pub fn set_always_unauthorized(&self, on: bool) {
        lock(&self.state).always_unauthorized = on;
    }

    /// The HTTP status of `invalid_client` answers (400 by default; 500 as one dashboard saw).
    pub fn set_invalid_client_status(&self, status: u16) {
        lock(&self.state).invalid_client_status = status;
    }

    /// Token grants handled so far.
    pub fn token_stats(&self) -> TokenStats {
        lock(&self.state).stats
    }

    /// Authenticated calls handled (401s included).
    pub fn api_calls(&self) -> usize {
        lock(&self.state).api_calls
    }

    /// Calls answered 401.
    pub fn unauthorized(&self) -> usize {
        lock(&self.state).unauthorized
    }

    /// SMS sends accepted.
    pub fn sends(&self) -> usize {
        lock(&self.state).sends
    }

    /// Whether looking up an outgoing message moves it one step (on by default).
    pub fn set_auto_advance(&self, on: bool) {
        lock(&self.state).auto_advance = on;
    }

    /// Makes messages to `to` end as failed.
    pub fn fail_delivery_to(&self, to: &PhoneNumber) {
        lock(&self.state).failing.insert(to.as_e164().to_owned());
    }

    /// Moves every outgoing message one step.
    pub fn advance(&self) {
        let mut st = lock(&self.state);
        let ids: Vec<String> = st.journal.iter().map(|e| e.id.clone()).collect();
        for id in ids {
            st.step(&id);
        }
    }

    /// Adds an incoming SMS to the main business number, now; answers its id.
    pub fn add_inbound_message(&self, from: &PhoneNumber, text: &str) -> String {
        self.add_entry(
            "Message",
            "Incoming",
            "Received",
            from,
            Some(text.to_owned()),
            None,
            Utc::now(),
        )
    }

    /// Adds an incoming call to the main business number, now; answers its id.
    pub fn add_call(&self, from: &PhoneNumber, state: &str, duration_secs: u64) -> String {
        self.add_entry("Call", "Incoming", state, from, None, Some(duration_secs), Utc::now())
    }

    /// Adds an entry at a given time (for paging and window tests); answers its id.
    #[allow(clippy::too_many_arguments)]
    pub fn add_entry(
        &self,
        kind: &str,
        origin: &str,
        state: &str,
        party: &PhoneNumber,
        text: Option<String>,
        duration: Option<u64>,
        at: DateTime<Utc>,
    ) -> String {
        let mut st = lock(&self.state);
        let id = st.id();
        let incoming = origin.eq_ignore_ascii_case("incoming");
        let (from, to) = if incoming {
            (party.as_e164().to_owned(), SIM_BUSINESS_NUMBER.to_owned())
        } else {
            (SIM_BUSINESS_NUMBER.to_owned(), party.as_e164().to_owned())
        };
        st.journal.push(SimEntry {
            id: id.clone(),
            kind: kind.to_owned(),
            origin: origin.to_owned(),
            state: state.to_owned(),
            at,
            from,
            to,
            business_number: SIM_BUSINESS_NUMBER.to_owned(),
            text,
            duration,
            raw: None,
        });
        id
    }

    /// Adds an entry served exactly as `raw` at time `at` (for entries of shapes the simulator does
    /// not produce, broken ones included); answers its id (`raw`'s own, when it is a string or a
    /// number). It is listed in time order with the others, whatever the filters.
    pub fn add_raw_entry(&self, at: DateTime<Utc>, raw: Value) -> String {
        let mut st = lock(&self.state);
        let id = match raw.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => st.id(),
        };
        let word = |k: &str| raw.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        st.journal.push(SimEntry {
            id: id.clone(),
            kind: word("type"),
            origin: word("origin"),
            state: word("state"),
            at,
            from: String::new(),
            to: String::new(),
            business_number: String::new(),
            text: None,
            duration: None,
            raw: Some(raw),
        });
        id
    }

    /// Lists journal entries in the object shape (`businessNumber: {"number"}`,
    /// `client: {"address"}`, no `from`/`to`) instead of bare strings.
    pub fn set_object_parties(&self, on: bool) {
        lock(&self.state).object_parties = on;
    }

    /// The whole journal, in insertion order.
    pub fn journal(&self) -> Vec<SimEntry> {
        lock(&self.state).journal.clone()
    }

    /// One journal entry.
    pub fn entry(&self, id: &str) -> Option<SimEntry> {
        lock(&self.state).journal.iter().find(|e| e.id == id).cloned()
    }
}

fn fail(status: u16, code: &str, message: &str) -> ResponseTemplate {
    json_status(
        status,
        &json!({"isSuccess": false, "error": {"code": code, "message": message}}),
    )
}

fn ok(data: Value) -> ResponseTemplate {
    json_response(&json!({"isSuccess": true, "data": data}))
}

fn handle(state: &Mutex<State>, req: &Request) -> ResponseTemplate {
    let mut st = lock(state);
    let lower = req.url.path().to_ascii_lowercase();
    let path = lower.trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/v4") else {
        return fail(404, "NotFound", "the API lives under /v4");
    };
    if rest == "/auth/token" {
        return if req.method == http::Method::POST {
            token(&mut st, req)
        } else {
            fail(405, "MethodNotAllowed", "use POST")
        };
    }
    let route = rest.strip_prefix("/api").unwrap_or(rest);
    if route == "/ping" {
        return json_response(&json!({"data": "4", "isSuccess": true}));
    }
    // Everything else needs the bearer token and the key.
    st.api_calls += 1;
    if !authorised(&st, req) {
        st.unauthorized += 1;
        return fail(401, "Unauthorized", "Authorization has been denied for this request.")
            .insert_header("www-authenticate", "Bearer");
    }
    let get = req.method == http::Method::GET;
    let post = req.method == http::Method::POST;
    match route {
        "/contactcenter/messages/send" | "/messages/send" if post => send(&mut st, req),
        "/journal/requests" if get => journal_list(&st, req),
        r if get && r.starts_with("/journal/requests/") => {
            let id = req
                .url
                .path()
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned();
            journal_get(&mut st, &id)
        }
        "/phonenumbers" if get => {
            let list: Vec<Value> = st
                .business_numbers
                .iter()
                .enumerate()
                .map(|(i, n)| json!({"number": n, "label": if i == 0 { "Main line" } else { "Sales" }, "isTollFree": true}))
                .collect();
            ok(Value::Array(list))
        }
        _ => fail(404, "NotFound", "no such endpoint"),
    }
}

fn authorised(st: &State, req: &Request) -> bool {
    if st.always_unauthorized {
        return false;
    }
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let key_ok = header("x-api-key").is_some_and(|k| k == st.api_key);
    let token = header("authorization")
        .and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer ")))
        .unwrap_or("");
    key_ok && st.access.get(token).is_some_and(|t| st.now < t.expires_at)
}

fn token(st: &mut State, req: &Request) -> ResponseTemplate {
    // The documented request is form-encoded (`Content-Type: application/x-www-form-urlencoded`); an
    // OAuth server refuses anything else as `invalid_request`.
    let form_encoded = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| {
            c.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        st.stats.refused += 1;
        return json_status(
            400,
            &json!({"error": "invalid_request", "error_description": "The request must be form-encoded"}),
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body).into_owned().collect();
    let key_ok = req
        .headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| k == st.api_key);
    let invalid_client = |st: &mut State| {
        st.stats.refused += 1;
        json_status(
            st.invalid_client_status,
            &json!({"error": "invalid_client", "error_description": "The client credentials are invalid"}),
        )
    };
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {
            let id_ok = form.get("client_id").is_some_and(|c| *c == st.api_key);
            let secret_ok = form.get("client_secret").is_some_and(|c| *c == st.user_key);
            if !(key_ok && id_ok && secret_ok) {
                return invalid_client(st);
            }
            st.stats.client_credentials += 1;
            json_response(&st.issue())
        }
        Some("refresh_token") => {
            if !key_ok {
                return invalid_client(st);
            }
            // MightyCall's refresh takes `grant_type` and `refresh_token` only, "other params removed"
            // (support.mightycall.com, "Authentication via API"): a refresh that still carries the
            // client credentials is refused.
            if form.keys().any(|k| k != "grant_type" && k != "refresh_token") {
                st.stats.refused += 1;
                return json_status(
                    400,
                    &json!({"error": "invalid_request",
                            "error_description": "A refresh_token grant takes only grant_type and refresh_token"}),
                );
            }
            let presented = form.get("refresh_token").cloned().unwrap_or_default();
            if !st.refresh.remove(&presented) {
                st.stats.refused += 1;
                return json_status(
                    400,
                    &json!({"error": "invalid_grant", "error_description": "The refresh token is invalid or expired"}),
                );
            }
            st.stats.refresh += 1;
            json_response(&st.issue())
        }
        _ => {
            st.stats.refused += 1;
            json_status(400, &json!({"error": "unsupported_grant_type"}))
        }
    }
}

fn valid_e164(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The JSON types of the send body, as every client sends them: `from` a string, `to` an array of
/// strings, `message` a string, `attachments` an array of strings. Anything else is refused before the
/// values are looked at.
fn send_shape_error(body: &Value) -> Option<&'static str> {
    let Some(o) = body.as_object() else {
        return Some("the body must be a JSON object");
    };
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    match (o.get("from"), o.get("to"), o.get("message"), o.get("attachments")) {
        (Some(f), _, _, _) if !f.is_string() => Some("'from' must be a string"),
        (_, Some(t), _, _) if !strings(t) => Some("'to' must be an array of strings"),
        (_, _, Some(m), _) if !m.is_string() => Some("'message' must be a string"),
        (_, _, _, Some(a)) if !strings(a) => Some("'attachments' must be an array of strings"),
        _ => None,
    }
}

fn send(st: &mut State, req: &Request) -> ResponseTemplate {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return fail(400, "InvalidRequest", "the body is not JSON");
    };
    if let Some(problem) = send_shape_error(&body) {
        return fail(400, "InvalidRequest", problem);
    }
    let from = body.get("from").and_then(Value::as_str).unwrap_or("");
    if !st.business_numbers.iter().any(|b| b == from) {
        return fail(
            400,
            "InvalidFrom",
            "'from' must be one of the account's business numbers",
        );
    }
    let to: Vec<String> = match body.get("to") {
        Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap_or("").to_owned()).collect(),
        _ => return fail(400, "InvalidTo", "'to' must be an array of phone numbers"),
    };
    if to.is_empty() || to.iter().any(|t| !valid_e164(t)) {
        return fail(400, "InvalidTo", "'to' must hold E.164 phone numbers");
    }
    let message = body.get("message").and_then(Value::as_str).unwrap_or("");
    let attachments = body.get("attachments").and_then(Value::as_array).map_or(0, Vec::len);
    if message.is_empty() && attachments == 0 {
        return fail(400, "EmptyMessage", "the message is empty");
    }
    st.sends += 1;
    let now = Utc::now();
    let ids: Vec<String> = to
        .iter()
        .map(|t| {
            let id = st.id();
            st.journal.push(SimEntry {
                id: id.clone(),
                kind: "Message".to_owned(),
                origin: "Outgoing".to_owned(),
                state: OUT_QUEUED.to_owned(),
                at: now,
                from: from.to_owned(),
                to: t.clone(),
                business_number: from.to_owned(),
                text: Some(message.to_owned()),
                duration: None,
                raw: None,
            });
            id
        })
        .collect();
    ok(json!({"id": ids.first(), "ids": ids}))
}

fn journal_list(st: &State, req: &Request) -> ResponseTemplate {
    let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
    let num = |k: &str, default: u32| -> Result<u32, ()> {
        match q.get(k) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| ()),
        }
    };
    let (Ok(page), Ok(size)) = (num("page", 1), num("pageSize", 100)) else {
        return fail(400, "InvalidRequest", "page and pageSize must be numbers");
    };
    if page == 0 || size == 0 || size > MAX_PAGE_SIZE {
        return fail(400, "InvalidRequest", "page must be ≥ 1 and pageSize 1 to 1000");
    }
    let date = |k: &str| -> Result<Option<DateTime<Utc>>, ()> {
        match q.get(k) {
            None => Ok(None),
            Some(v) => DateTime::parse_from_rfc3339(v)
                .map(|d| Some(d.to_utc()))
                .map_err(|_| ()),
        }
    };
    let (Ok(from), Ok(to)) = (date("from"), date("to")) else {
        return fail(400, "InvalidRequest", "from and to must be ISO 8601 dates");
    };
    let eq = |k: &str, v: &str| q.get(k).is_none_or(|want| want.eq_ignore_ascii_case(v));
    let mut hits: Vec<&SimEntry> = st
        .journal
        .iter()
        .filter(|e| from.is_none_or(|f| e.at >= f) && to.is_none_or(|t| e.at < t))
        .filter(|e| e.raw.is_some() || (eq("type", &e.kind) && eq("origin", &e.origin) && eq("state", &e.state)))
        .filter(|e| e.raw.is_some() || eq("businessNumber", &e.business_number))
        .filter(|e| e.raw.is_some() || q.get("phone").is_none_or(|p| *p == e.from || *p == e.to))
        .collect();
    // Newest first; ties by id so pages are stable.
    hits.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
    let start = (page as usize - 1).saturating_mul(size as usize);
    let requests: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(size as usize)
        .map(|e| e.to_json(st.object_parties))
        .collect();
    json_response(&json!({"currentPage": page, "requests": requests}))
}

fn journal_get(st: &mut State, id: &str) -> ResponseTemplate {
    if !st.journal.iter().any(|e| e.id == id) {
        return fail(404, "NotFound", "no journal request with this id");
    }
    if st.auto_advance {
        st.step(id);
    }
    match st.journal.iter().find(|e| e.id == id) {
        Some(e) => ok(e.to_json(st.object_parties)),
        None => fail(404, "NotFound", "no journal request with this id"),
    }
}

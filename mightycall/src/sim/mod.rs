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
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};

mod api;

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
        Arc::new(move |req: &Request| api::handle(&s, req))
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

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
//! * **Pushes**: none. MightyCall documents no webhooks, so the simulator pushes nothing
//!   ([`Simulator::pushed`] stays empty and no `trigger` kind exists); history comes from the journal.
//! * **The shared vocabulary** ([`Simulated`]): [`Simulator::sent`] (the outgoing messages),
//!   [`Simulator::advance`]; the registry starts one through [`StartSim`].
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

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{Error, PhoneNumber, Recipient, Result, WebhookRequest};

mod api;
mod auth;
mod state;

pub use state::{SimEntry, TokenStats};
use state::{State, lock};

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
/// The customer number [`Simulated::recipient`] names.
pub const SIM_RECIPIENT: &str = "+12025550143";

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
    fn handler(state: &Arc<Mutex<State>>) -> switchboard_core::testkit::Handler {
        let s = state.clone();
        Arc::new(move |req: &Request| api::handle(&s, req))
    }

    /// Starts on a free loopback port.
    pub async fn start() -> Simulator {
        let state = Arc::new(Mutex::new(State::new()));
        let server = SimServer::start(Self::handler(&state)).await;
        Simulator { server, state }
    }

    /// Starts with `options`: on `127.0.0.1:PORT` when it names a port (for `switchboard sim
    /// mightycall`). A webhook URL is ignored: MightyCall pushes nothing.
    pub async fn start_with(options: SimOptions) -> Result<Simulator> {
        let state = Arc::new(Mutex::new(State::new()));
        let server = match options.port {
            Some(port) => SimServer::start_on_port(port, Self::handler(&state))
                .await
                .map_err(|e| Error::config(format!("the MightyCall simulator cannot listen on port {port}: {e}")))?,
            None => SimServer::start(Self::handler(&state)).await,
        };
        Ok(Simulator { server, state })
    }

    /// The base URL, `http://127.0.0.1:PORT` (the API is under `/v4`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    fn dsn_for(&self, flavour: &str, paths: &str) -> String {
        self.dsn_with(SIM_API_KEY, flavour, paths)
    }

    fn dsn_with(&self, api_key: &str, flavour: &str, paths: &str) -> String {
        let a = self.server.address();
        format!(
            "mightycall://{api_key}:{SIM_USER_KEY}@{}:{}?from=%2B{}&flavour={flavour}&paths={paths}",
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

    /// Moves every outgoing message one step (Queued → Sent → Delivered or Failed).
    pub async fn advance(&self) {
        lock(&self.state).step_all();
    }

    /// The outgoing messages accepted so far, in order: journal id, receiver, text and state word.
    pub fn sent(&self) -> Vec<SimRecord> {
        lock(&self.state).records()
    }

    /// What the simulator pushed: nothing, ever (MightyCall documents no webhooks).
    pub fn pushed(&self) -> Vec<WebhookRequest> {
        Vec::new()
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

    /// One journal entry.
    pub fn entry(&self, id: &str) -> Option<SimEntry> {
        lock(&self.state).journal.iter().find(|e| e.id == id).cloned()
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

    fn recipient(&self) -> Option<Recipient> {
        PhoneNumber::parse(SIM_RECIPIENT, None).ok().map(Recipient::Phone)
    }

    fn dsn_with_bad_credentials(&self) -> Option<String> {
        Some(self.dsn_with("not-the-mightycall-api-key", "cc", "api"))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        use switchboard_core::simulated::host_port_of;
        let here = Simulator::uri(self);
        Some(Simulator::dsn(self).replace(host_port_of(&here), host_port_of(base_url)))
    }
}

/// Starts MightyCall simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "MightyCall";
    type Error = switchboard_core::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, switchboard_core::Error> {
        Simulator::start_with(options).await
    }
}

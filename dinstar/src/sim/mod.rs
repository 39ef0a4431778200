//! A Dinstar gateway on loopback (feature `sim`): the gateway's HTTP API as Dinstar's manual
//! ("Instructions for Using HTTP API", mirrored at wiki.ultiroam.com, "HTTP API - Send SMS" and the
//! pages after it) describes it, with its Digest auth, envelope, error codes, state and quirks, for
//! tests, examples and `switchboard sim dinstar`.
//!
//! What it models:
//!
//! * **Digest auth (RFC 7616, MD5, `qop=auth`)**, checked here independently of the client's library:
//!   realm, the response hash, the request URI, `opaque`, nonce expiry (a correct answer to an expired
//!   nonce gets `401` with `stale=true`), nonce-count replays (the same `nc` twice is refused). A wrong
//!   password gets `401` every time and counts as a failed login; after
//!   [`SimulatorBuilder::ban_after`] failures the "address" is banned and everything answers `403`,
//!   as real units do. A raw `,` in a query string is refused as a failed login too (one firmware
//!   answers "401 Wrong Password" unless it is sent as `%2C`).
//! * **The envelope**: HTTP 200 with `error_code` (202 for `send_sms`/`send_ussd`, 200 for the
//!   rest, 400/404/413/500/550 where the manual says) and `sn`. Malformed requests are `400`: a field
//!   of the wrong JSON type (a `user_id` or `number` of the other type, a `command` that is not a
//!   string), a number that is not a digit string of at most 24 bytes, a time that is not
//!   `YYYY-MM-DD HH:MM:SS`, a port above 31. `get_status` answers without an
//!   envelope (the only shape seen in the field), and `403` to a GET.
//! * **State**: ports with registration states (power, block, slot, SIM numbers), a queue of tasks
//!   whose SMS move `SENDING → SENT_OK → DELIVERED` on [`Simulator::advance`] (or on each status
//!   query, with [`SimulatorBuilder::auto_advance`]), delivery reports with TP-Status codes per
//!   number ([`SimOutcome`]), incoming SMS with read/unread flags (`flag=unread` marks them read),
//!   USSD per port (200 sent / 486 busy / 503 unregistered), CDRs.
//! * **Push** of all eight payload kinds to a URL ([`Simulator::set_push_url`]), on state changes and
//!   on demand.
//! * **Faults**: HTTP-level ones through [`Simulator::faults`], forced `error_code`s per endpoint
//!   ([`Simulator::fail_next_with_code`]), and connections dropped before or after the gateway took a request
//!   ([`Simulator::lossy_proxy`]).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value, json};
use switchboard_core::http::HttpOptions;
use switchboard_core::simulated::{SimOptions, SimRecord};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};

use crate::SCHEME;

mod api;
mod auth;
mod device;
mod proxy;
mod push;
mod simulated;
mod sms;
mod state;

pub use auth::{parse_digest, response_hash};

use api::{digits, handler, now, pct};
use state::{Incoming, SimPort, State, incoming_json};

/// The web user of a default simulator.
pub const SIM_USERNAME: &str = "admin";
/// The web password of a default simulator.
pub const SIM_PASSWORD: &str = "dinstar-sim";
/// The push secret the simulator's DSN carries (`webhook_secret=`); register push URLs with
/// `?token=` this value.
pub const SIM_WEBHOOK_SECRET: &str = "sim-push-secret";
/// The Digest realm. What real units send is not documented; any realm works for a client
/// that answers the challenge it gets.
pub const SIM_REALM: &str = "Dinstar Gateway";

/// What happens to SMS sent to a number (the default is [`SimOutcome::Deliver`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimOutcome {
    /// SENT_OK, then DELIVERED with TP-Status 0.
    Deliver,
    /// The module fails to send: FAILED.
    FailSending,
    /// SENT_OK, then a delivery report with this permanent TP-Status (64–255).
    Undeliverable(u8),
    /// SENT_OK, a report with this temporary TP-Status (32–63), then DELIVERED on the next step.
    Temporary(u8),
}

/// One SMS the simulator accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimSms {
    /// The caller's id.
    pub user_id: u64,
    /// The number as sent.
    pub number: String,
    /// The text with its parameters filled in.
    pub text: String,
    /// The port chosen.
    pub port: u8,
    /// `SENDING`, `SENT_OK`, `DELIVERED` or `FAILED`.
    pub status: String,
    /// The task it belongs to.
    pub task_id: u64,
    /// The encoding asked for (`unicode` by default).
    pub encoding: String,
    /// Parts.
    pub count: u32,
    /// Whether a delivery report was asked for.
    pub request_status_report: bool,
}

/// What the simulator has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimStats {
    /// Every request.
    pub requests: u64,
    /// `401` answers (challenges), whatever the reason.
    pub challenges: u64,
    /// `401` answers with `stale=true`.
    pub stale: u64,
    /// Requests whose Digest answer was accepted.
    pub authorized: u64,
    /// Failed logins: wrong credentials, replayed counts, raw commas.
    pub auth_failures: u64,
    /// Requests with no `Authorization` header.
    pub unauthenticated: u64,
    /// `403` answers.
    pub forbidden: u64,
    /// Requests per path.
    pub by_path: BTreeMap<String, u64>,
    /// Authorized requests per path.
    pub authorized_by_path: BTreeMap<String, u64>,
}

impl SimStats {
    /// Requests to one path (any outcome).
    pub fn path(&self, path: &str) -> u64 {
        self.by_path.get(path).copied().unwrap_or(0)
    }

    /// Authorized requests to one path (what the gateway acted on).
    pub fn authorized_path(&self, path: &str) -> u64 {
        self.authorized_by_path.get(path).copied().unwrap_or(0)
    }
}

/// How [`Simulator::lossy_proxy`] loses a request (core's testkit proxy, shared by every simulator).
pub use switchboard_core::testkit::LossMode;

/// Configures a [`Simulator`] before it starts.
#[derive(Debug, Clone)]
pub struct SimulatorBuilder {
    username: String,
    password: String,
    sn: String,
    ports: u8,
    ban_after: Option<u32>,
    count_probes: bool,
    auto_advance: bool,
    nonce_ttl: Duration,
    record_after: Duration,
}

impl Default for SimulatorBuilder {
    fn default() -> Self {
        SimulatorBuilder {
            username: SIM_USERNAME.to_owned(),
            password: SIM_PASSWORD.to_owned(),
            sn: "DG80-0000-0000-0001".to_owned(),
            ports: 4,
            ban_after: None,
            count_probes: false,
            auto_advance: false,
            nonce_ttl: Duration::from_secs(300),
            record_after: Duration::ZERO,
        }
    }
}

impl SimulatorBuilder {
    /// Sets the web credentials.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = username.into();
        self.password = password.into();
        self
    }

    /// Sets the serial number.
    pub fn sn(mut self, sn: impl Into<String>) -> Self {
        self.sn = sn.into();
        self
    }

    /// Sets the number of ports (1–32; default 4), all registered.
    pub fn ports(mut self, n: u8) -> Self {
        self.ports = n.clamp(1, 32);
        self
    }

    /// Bans the "address" after `n` failed logins in a row (everything answers 403 until
    /// [`Simulator::unban`]). Off by default.
    pub fn ban_after(mut self, n: u32) -> Self {
        self.ban_after = Some(n.max(1));
        self
    }

    /// Counts unauthenticated requests (probes) as failed logins, as some firmware does.
    pub fn count_probes(mut self, on: bool) -> Self {
        self.count_probes = on;
        self
    }

    /// Advances the SMS states one step on every result or delivery query.
    pub fn auto_advance(mut self, on: bool) -> Self {
        self.auto_advance = on;
        self
    }

    /// Records each accepted task `delay` after answering `202` (see [`Simulator::record_after`]).
    pub fn record_after(mut self, delay: Duration) -> Self {
        self.record_after = delay;
        self
    }

    /// How long a nonce lasts (default 300 s).
    pub fn nonce_ttl(mut self, ttl: Duration) -> Self {
        self.nonce_ttl = ttl;
        self
    }

    fn state(self) -> State {
        let ports = (0..self.ports)
            .map(|i| SimPort {
                reg: "REGISTER_OK",
                powered: true,
                blocked: false,
                busy: false,
                slot: 255,
                imei: format!("8645600000000{i:02}"),
                imsi: format!("2760100000000{i:02}"),
                iccid: format!("8935501000000000{i:02}"),
                number: format!("35569000{i:04}"),
                signal: 24,
                ussd_answer: format!("Port {i}: your balance is 10.00 ALL"),
                ussd_reply: None,
                call_forward: Map::new(),
                next_ref: 0,
            })
            .collect();
        State {
            username: self.username,
            password: self.password,
            realm: SIM_REALM.to_owned(),
            sn: self.sn,
            opaque: hex::encode(switchboard_core::random::bytes::<12>()),
            nonce_ttl: self.nonce_ttl,
            ban_after: self.ban_after,
            count_probes: self.count_probes,
            auto_advance: self.auto_advance,
            nonces: HashMap::new(),
            nonce_order: VecDeque::new(),
            failures_since_success: 0,
            banned: false,
            stats: SimStats::default(),
            ports,
            rr: 0,
            records: Vec::new(),
            reports: Vec::new(),
            next_task: 1,
            outcomes: HashMap::new(),
            incoming: Vec::new(),
            next_incoming: 1,
            cdrs: Vec::new(),
            forced: HashMap::new(),
            push_url: None,
            record_after: self.record_after,
            pushed: Vec::new(),
        }
    }

    /// Starts on a free loopback port.
    pub async fn start(self) -> Simulator {
        let state = Arc::new(Mutex::new(self.state()));
        let server = SimServer::start(handler(state.clone())).await;
        Simulator::with(server, state)
    }

    /// Starts on `127.0.0.1:port` (0 picks a free one), without recording requests.
    pub async fn start_on_port(self, port: u16) -> std::io::Result<Simulator> {
        let state = Arc::new(Mutex::new(self.state()));
        let server = SimServer::start_on_port(port, handler(state.clone())).await?;
        Ok(Simulator::with(server, state))
    }
}

/// A simulated gateway. See the [module docs](self).
#[derive(Debug)]
pub struct Simulator {
    server: SimServer,
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
}

impl Simulator {
    /// A default simulator (4 registered ports, no ban) on a free loopback port.
    pub async fn start() -> Simulator {
        SimulatorBuilder::default().start().await
    }

    /// Starts with `options`. On a chosen port (for a person to point a tool at) request recording is
    /// off and SMS states advance on each status query, so that `status` shows progress. A webhook URL
    /// becomes the push URL, with [`SIM_WEBHOOK_SECRET`] added as its `token`.
    pub async fn start_with(options: SimOptions) -> std::io::Result<Simulator> {
        let sim = match options.port {
            Some(port) => {
                SimulatorBuilder::default()
                    .auto_advance(true)
                    .start_on_port(port)
                    .await?
            }
            None => SimulatorBuilder::default().start().await,
        };
        if let Some(url) = &options.webhook_url {
            sim.set_push_url(push::with_token(url));
        }
        Ok(sim)
    }

    /// A builder for other settings.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder::default()
    }

    fn with(server: SimServer, state: Arc<Mutex<State>>) -> Simulator {
        let http = HttpOptions::default()
            .timeout(Duration::from_secs(5))
            .build_client()
            .unwrap_or_default();
        Simulator { server, state, http }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A DSN with valid credentials for this simulator, e.g.
    /// `dinstar://admin:dinstar-sim@127.0.0.1:PORT?sn=DG80-0000-0000-0001&webhook_secret=sim-push-secret`.
    pub fn dsn(&self) -> String {
        self.dsn_with(&self.uri(), None)
    }

    /// The DSN for `base_url` (this simulator's, or a [`Simulator::lossy_proxy`] in front of it), with
    /// another password when given.
    fn dsn_with(&self, base_url: &str, password: Option<&str>) -> String {
        let s = self.lock();
        let hostport = switchboard_core::simulated::host_port_of(base_url);
        format!(
            "{SCHEME}://{}:{}@{hostport}?sn={}&webhook_secret={SIM_WEBHOOK_SECRET}",
            pct(&s.username),
            pct(password.unwrap_or(&s.password)),
            s.sn
        )
    }

    /// The HTTP fault queue (statuses, delays, malformed bodies) for the next requests.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// The serial number.
    pub fn sn(&self) -> String {
        self.lock().sn.clone()
    }

    /// The web user.
    pub fn username(&self) -> String {
        self.lock().username.clone()
    }

    /// The web password.
    pub fn password(&self) -> String {
        self.lock().password.clone()
    }

    /// Requests recorded so far (none for [`SimulatorBuilder::start_on_port`]).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// What the simulator has seen.
    pub fn stats(&self) -> SimStats {
        self.lock().stats.clone()
    }

    /// Every SMS accepted, in order: the id is its `user_id`, the recipient the number as sent, the
    /// status the gateway's (`SENDING`, `SENT_OK`, `DELIVERED`, `FAILED`).
    pub fn sent(&self) -> Vec<SimRecord> {
        self.lock()
            .records
            .iter()
            .map(|r| SimRecord::new(r.sms.user_id.to_string(), &r.sms.number, &r.sms.text, &r.sms.status))
            .collect()
    }

    /// Everything the simulator knows of the SMS at position `index` of [`Simulator::sent`] (port,
    /// task, encoding, part count…).
    pub fn message(&self, index: usize) -> Option<SimSms> {
        self.lock().records.get(index).map(|r| r.sms.clone())
    }

    /// Marks every nonce issued so far expired: the next answer to one gets `401 stale=true`.
    pub fn expire_nonces(&self) {
        for n in self.lock().nonces.values_mut() {
            n.expired = true;
        }
    }

    /// Forgets every nonce, as a rebooted gateway does (answers to them get `stale=true`).
    pub fn forget_nonces(&self) {
        let mut s = self.lock();
        s.nonces.clear();
        s.nonce_order.clear();
    }

    /// Changes the web credentials (as an administrator changing the password would).
    pub fn set_credentials(&self, username: impl Into<String>, password: impl Into<String>) {
        let mut s = self.lock();
        s.username = username.into();
        s.password = password.into();
    }

    /// How many incoming SMS are unread (`flag=unread` marks them read; `flag=all` does not).
    pub fn unread(&self) -> usize {
        self.lock().incoming.iter().filter(|m| !m.read).count()
    }

    /// Whether the "address" is banned.
    pub fn banned(&self) -> bool {
        self.lock().banned
    }

    /// Lifts a ban and resets the failure count.
    pub fn unban(&self) {
        let mut s = self.lock();
        s.banned = false;
        s.failures_since_success = 0;
    }

    /// The next request to `path` (`"/api/send_sms"`) answers `error_code` = `code` (after auth).
    pub fn fail_next_with_code(&self, path: &str, code: i64) {
        self.lock().forced.entry(path.to_owned()).or_default().push_back(code);
    }

    /// What happens to SMS sent to `number` (as the client writes it, e.g. `355694123456`).
    pub fn set_outcome(&self, number: &str, outcome: SimOutcome) {
        self.lock().outcomes.insert(digits(number), outcome);
    }

    /// Sets a port's registration state (`"REGISTER_OK"`, `"UNREGISTER"`, `"NO_SIM"`…).
    pub fn set_port_reg(&self, port: u8, reg: &'static str) {
        if let Some(p) = self.lock().ports.get_mut(usize::from(port)) {
            p.reg = reg;
        }
    }

    /// Marks a port busy (USSD answers 486).
    pub fn set_port_busy(&self, port: u8, busy: bool) {
        if let Some(p) = self.lock().ports.get_mut(usize::from(port)) {
            p.busy = busy;
        }
    }

    /// What the network answers to USSD on a port.
    pub fn set_ussd_answer(&self, port: u8, text: impl Into<String>) {
        if let Some(p) = self.lock().ports.get_mut(usize::from(port)) {
            p.ussd_answer = text.into();
        }
    }

    /// Adds a call record (pushed as `cdr` when a push URL is set and the call was answered).
    pub async fn receive_cdr(&self, cdr: Value) {
        let answered = cdr.get("answer_date").is_some_and(|v| !v.is_null());
        let sn = {
            let mut s = self.lock();
            s.cdrs.push(cdr.clone());
            s.sn.clone()
        };
        if answered {
            let _ = self.push_if_configured(json!({"sn": sn, "cdr": [cdr]})).await;
        }
    }

    /// Receives an SMS on `port` from `from`; returns its `incoming_sms_id`. Pushed as `sms` when a
    /// push URL is set.
    pub async fn receive_inbound(&self, port: u8, from: &str, text: &str) -> u64 {
        let (id, item, sn) = {
            let mut s = self.lock();
            let id = s.next_incoming;
            s.next_incoming += 1;
            let m = Incoming {
                id,
                port,
                number: from.to_owned(),
                smsc: "+355692000000".to_owned(),
                timestamp: now(),
                text: text.to_owned(),
                read: false,
            };
            let item = incoming_json(&m);
            s.incoming.push(m);
            (id, item, s.sn.clone())
        };
        let _ = self.push_if_configured(json!({"sn": sn, "sms": [item]})).await;
        id
    }

    /// Moves every SMS one step (`SENDING → SENT_OK/FAILED`, `SENT_OK → DELIVERED` or a delivery
    /// report) and pushes the changes when a push URL is set. Returns how many changed.
    pub async fn advance(&self) -> usize {
        let (changed, results, reports, sn) = {
            let mut s = self.lock();
            let (c, r, d) = s.step();
            (c, r, d, s.sn.clone())
        };
        if !results.is_empty() {
            let _ = self.push_if_configured(json!({"sn": sn, "sms_result": results})).await;
        }
        if !reports.is_empty() {
            let _ = self
                .push_if_configured(json!({"sn": sn, "sms_deliver_status": reports}))
                .await;
        }
        changed
    }

    /// Records the tasks of later `send_sms` requests only `delay` after answering `202`, as a busy
    /// gateway does when its queue gets to them: until then `query_sms_result` does not show them and
    /// [`Simulator::advance`] does not move them. Zero (the default) records at once.
    pub fn record_after(&self, delay: Duration) {
        self.lock().record_after = delay;
    }
}

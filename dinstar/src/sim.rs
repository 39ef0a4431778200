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
//!   ([`Simulator::fail_next`]), and connections dropped before or after the gateway took a request
//!   ([`Simulator::lossy_proxy`]).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serde_json::{Map, Value, json};
use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_response};
use switchboard_core::{Encoding, Error, Result, Segmentation};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::SCHEME;

/// The web user of a default simulator.
pub const SIM_USERNAME: &str = "admin";
/// The web password of a default simulator.
pub const SIM_PASSWORD: &str = "dinstar-sim";
/// The push secret the simulator's DSN carries (`webhook_secret=`); register push URLs with
/// `?token=` this value.
pub const SIM_WEBHOOK_SECRET: &str = "sim-push-secret";
/// The Digest realm **[?]**: what real units send is not documented; any realm works for a client
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

/// How [`Simulator::lossy_proxy`] loses a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LossMode {
    /// The request never reaches the gateway; the client's connection is closed after it was sent.
    DropBeforeForward,
    /// The gateway takes and processes the request; its answer is thrown away and the client's
    /// connection closed.
    DropAfterAccept,
}

#[derive(Debug, Clone)]
struct SimPort {
    reg: &'static str,
    powered: bool,
    blocked: bool,
    busy: bool,
    slot: u8,
    imei: String,
    imsi: String,
    iccid: String,
    number: String,
    signal: u8,
    ussd_answer: String,
    ussd_reply: Option<String>,
    call_forward: Map<String, Value>,
    next_ref: u8,
}

#[derive(Debug, Clone)]
struct Record {
    sms: SimSms,
    time: String,
    ref_id: u8,
    imsi: String,
    succ_count: u32,
    outcome: SimOutcome,
    /// A temporary report was given; the next step delivers.
    temp_reported: bool,
    /// When the gateway gets round to recording the task: until then lookups do not show it.
    recorded_at: Instant,
}

#[derive(Debug, Clone)]
struct Report {
    port: u8,
    number: String,
    time: String,
    ref_id: u8,
    status_code: u8,
    imsi: String,
}

#[derive(Debug, Clone)]
struct Incoming {
    id: u64,
    port: u8,
    number: String,
    smsc: String,
    timestamp: String,
    text: String,
    read: bool,
}

struct NonceInfo {
    issued: Instant,
    expired: bool,
    seen: HashSet<u32>,
}

struct State {
    username: String,
    password: String,
    realm: String,
    sn: String,
    opaque: String,
    nonce_ttl: Duration,
    ban_after: Option<u32>,
    count_probes: bool,
    auto_advance: bool,
    nonces: HashMap<String, NonceInfo>,
    nonce_order: VecDeque<String>,
    failures_since_success: u32,
    banned: bool,
    stats: SimStats,
    ports: Vec<SimPort>,
    rr: usize,
    records: Vec<Record>,
    reports: Vec<Report>,
    next_task: u64,
    outcomes: HashMap<String, SimOutcome>,
    incoming: Vec<Incoming>,
    next_incoming: u64,
    cdrs: Vec<Value>,
    forced: HashMap<String, VecDeque<i64>>,
    push_url: Option<String>,
    record_after: Duration,
}

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
            opaque: hex::encode(rand::random::<[u8; 12]>()),
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

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("sn", &self.sn)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A default simulator (4 registered ports, no ban) on a free loopback port.
    pub async fn start() -> Simulator {
        SimulatorBuilder::default().start().await
    }

    /// A simulator on `127.0.0.1:port` for a person to point a tool at: request recording off, and
    /// SMS states advancing on each status query so that `status` shows progress.
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        SimulatorBuilder::default().auto_advance(true).start_on_port(port).await
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
        self.dsn_for(&self.uri())
    }

    /// The same DSN pointing at another base URL (a [`Simulator::lossy_proxy`]).
    pub fn dsn_for(&self, base_url: &str) -> String {
        let s = self.lock();
        let hostport = base_url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/');
        format!(
            "{SCHEME}://{}:{}@{hostport}?sn={}&webhook_secret={SIM_WEBHOOK_SECRET}",
            pct(&s.username),
            pct(&s.password),
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

    /// Requests recorded so far (none for [`Simulator::start_on_port`]).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// What the simulator has seen.
    pub fn stats(&self) -> SimStats {
        self.lock().stats.clone()
    }

    /// Every SMS accepted, in order.
    pub fn sent(&self) -> Vec<SimSms> {
        self.lock().records.iter().map(|r| r.sms.clone()).collect()
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
    pub fn fail_next(&self, path: &str, code: i64) {
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
    pub async fn inject_cdr(&self, cdr: Value) {
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
    pub async fn inject_incoming(&self, port: u8, from: &str, text: &str) -> u64 {
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

    /// Where pushes go (include the secret: `http://host/hook?token=…`).
    pub fn set_push_url(&self, url: impl Into<String>) {
        self.lock().push_url = Some(url.into());
    }

    async fn push_if_configured(&self, body: Value) -> Result<Option<u16>> {
        let url = self.lock().push_url.clone();
        match url {
            None => Ok(None),
            Some(_) => self.push(body).await.map(Some),
        }
    }

    /// POSTs a JSON body to the push URL; returns the receiver's HTTP status.
    pub async fn push(&self, body: Value) -> Result<u16> {
        let url = self
            .lock()
            .push_url
            .clone()
            .ok_or_else(|| Error::config("the simulator has no push URL (set_push_url)"))?;
        let resp = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(switchboard_core::http::classify_reqwest_error)?;
        Ok(resp.status().as_u16())
    }

    /// Pushes one example of each of the eight payload kinds (the manual's examples with this
    /// gateway's serial number), in the manual's order. Returns how many the receiver took (2xx).
    pub async fn push_all_kinds(&self) -> Result<usize> {
        let mut ok = 0;
        for body in self.sample_pushes() {
            if (200..300).contains(&self.push(body).await?) {
                ok += 1;
            }
        }
        Ok(ok)
    }

    /// The manual's example of each payload kind, with this gateway's `sn`.
    pub fn sample_pushes(&self) -> Vec<Value> {
        let sn = self.sn();
        vec![
            json!({"sn": sn, "sms": [{"incoming_sms_id": 1, "port": 1, "number": "6717", "smsc": "+8613800757511",
                "timestamp": "2016-07-12 15:46:18", "text": "test"}]}),
            json!({"sn": sn, "sms_result": [{"port": 1, "number": "10086", "time": "2016-07-12 01:46:02",
                "status": "DELIVERED", "count": 1, "succ_count": 1, "ref_id": 215, "imsi": "460004642148063"}]}),
            json!({"sn": sn, "sms_deliver_status": [{"port": 1, "number": "10086", "time": "2016-07-12 15:46:53",
                "ref_id": 215, "status_code": 0, "imsi": "460004642148063"}]}),
            json!({"sn": sn, "ussd": [{"port": 1, "text": "Thank you!"}]}),
            json!({"sn": sn, "register": [{"port": 8, "iccid": "89860040191844710023", "imsi": "460004642148063",
                "number": "13714637674", "status": "up", "sequence": 2, "slot": 2}]}),
            json!({"sn": sn, "cdr": [{"port": 2, "start_date": "2016-07-12 15:40:00", "answer_date": "2016-07-12 15:40:05",
                "duration": 42, "source_number": "10086", "destination_number": "800", "direction": "gsm->ip",
                "ip": "172.18.55.10", "codec": "G.711A", "hangup": "calling", "gsm_code": 16, "bcch": "37"}]}),
            json!({"sn": sn, "device": {"port_number": 32, "IP": "172.18.55.142", "MAC": "F8-A0-3D-48-E5-19",
                "status": "power_off"}}),
            json!({"sn": sn, "exception_info": {"port": 0, "type": "call_fail", "action": "reset"}}),
        ]
    }

    /// A loopback proxy in front of the simulator that loses the first `count` requests to `path`
    /// the way `mode` says and passes everything else through. Point a client at the returned base
    /// URL (or [`Simulator::dsn_for`] it).
    pub async fn lossy_proxy(&self, path: &str, mode: LossMode, count: usize) -> std::io::Result<String> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let upstream = self.server.address();
        let remaining = Arc::new(Mutex::new(count));
        let path = path.to_owned();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let remaining = remaining.clone();
                let path = path.clone();
                tokio::spawn(async move {
                    let _ = proxy_connection(client, upstream, &path, mode, remaining).await;
                });
            }
        });
        Ok(format!("http://{addr}"))
    }
}

// ---------------------------------------------------------------------------------------------
// The lossy proxy

async fn proxy_connection(
    mut client: TcpStream,
    upstream: std::net::SocketAddr,
    path: &str,
    mode: LossMode,
    remaining: Arc<Mutex<usize>>,
) -> std::io::Result<()> {
    loop {
        let Some(request) = read_http_message(&mut client, true).await? else {
            return Ok(());
        };
        let target = request_path(&request);
        let lose = target == path && {
            let mut r = remaining.lock().unwrap_or_else(|p| p.into_inner());
            if *r > 0 {
                *r -= 1;
                true
            } else {
                false
            }
        };
        if lose && mode == LossMode::DropBeforeForward {
            return Ok(()); // the connection closes with the request unanswered
        }
        let mut up = TcpStream::connect(upstream).await?;
        up.write_all(&request).await?;
        let Some(response) = read_http_message(&mut up, false).await? else {
            return Ok(());
        };
        if lose {
            return Ok(()); // the gateway processed it; the answer is lost
        }
        client.write_all(&response).await?;
    }
}

/// Reads one HTTP/1.1 message (headers and a `content-length` body). `None` at end of stream.
async fn read_http_message(stream: &mut TcpStream, request: bool) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let _ = request;
            return Ok(Some(buf));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn request_path(request: &[u8]) -> String {
    let line = request.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let target = line.split_whitespace().nth(1).unwrap_or_default();
    target.split('?').next().unwrap_or_default().to_owned()
}

// ---------------------------------------------------------------------------------------------
// The handler

fn handler(state: Arc<Mutex<State>>) -> switchboard_core::testkit::Handler {
    Arc::new(move |req: &Request| {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.handle(req)
    })
}

impl State {
    fn handle(&mut self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_owned();
        self.stats.requests += 1;
        *self.stats.by_path.entry(path.clone()).or_default() += 1;
        if let Err(answer) = self.authorize(req) {
            return *answer;
        }
        self.stats.authorized += 1;
        *self.stats.authorized_by_path.entry(path.clone()).or_default() += 1;
        if let Some(code) = self.forced.get_mut(&path).and_then(VecDeque::pop_front) {
            return self.envelope(code, Map::new());
        }
        let get = req.method.as_str() == "GET";
        let post = req.method.as_str() == "POST";
        let query: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        match path.as_str() {
            "/api/send_sms" if post => self.send_sms(&req.body),
            "/api/query_sms_result" if post => self.query_sms_result(&req.body),
            "/api/query_sms_deliver_status" if post => self.query_deliver_status(&req.body),
            "/api/query_incoming_sms" if get => self.query_incoming(&query),
            "/api/query_sms_in_queue" if get => {
                let n = self.in_queue();
                self.envelope(200, obj(json!({"in_queue": n})))
            }
            "/api/stop_sms" if get => self.stop_sms(&query),
            "/api/send_ussd" if post => self.send_ussd(&req.body),
            "/api/query_ussd_reply" if get => self.query_ussd_reply(&query),
            "/api/get_port_info" if get => self.get_port_info(&query),
            "/api/set_port_info" if get => self.set_port_info(&query),
            "/api/get_cdr" if post => self.get_cdr(&req.body),
            "/api/get_status" if post => self.get_status(&req.body),
            // A GET of get_status answered 403 on a UC2000-VE.
            "/api/get_status" => {
                self.stats.forbidden += 1;
                ResponseTemplate::new(403).set_body_string("403 Forbidden")
            }
            // A known path with the wrong method: the firmware cannot parse it [?].
            "/api/send_sms"
            | "/api/query_sms_result"
            | "/api/query_sms_deliver_status"
            | "/api/query_incoming_sms"
            | "/api/query_sms_in_queue"
            | "/api/stop_sms"
            | "/api/send_ussd"
            | "/api/query_ussd_reply"
            | "/api/get_port_info"
            | "/api/set_port_info"
            | "/api/get_cdr" => self.envelope(400, Map::new()),
            _ => ResponseTemplate::new(404).set_body_string("404 Not Found"),
        }
    }

    fn envelope(&self, code: i64, mut body: Map<String, Value>) -> ResponseTemplate {
        body.insert("error_code".into(), json!(code));
        body.insert("sn".into(), json!(self.sn));
        json_response(&Value::Object(body))
    }

    // -- Digest (RFC 7616, MD5, qop=auth), written from the RFC -----------------------------------

    fn authorize(&mut self, req: &Request) -> std::result::Result<(), Box<ResponseTemplate>> {
        if self.banned {
            self.stats.forbidden += 1;
            return Err(Box::new(
                ResponseTemplate::new(403).set_body_string("forbid to try again"),
            ));
        }
        if req.url.query().is_some_and(|q| q.contains(',')) {
            // One firmware's web server answers "401 Wrong Password" to an unencoded comma.
            return Err(Box::new(self.failed_login()));
        }
        let Some(header) = req.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            self.stats.unauthenticated += 1;
            if self.count_probes {
                return Err(Box::new(self.failed_login()));
            }
            return Err(Box::new(self.challenge(false)));
        };
        let Some(params) = parse_digest(header) else {
            return Err(Box::new(self.failed_login()));
        };
        let get = |k: &str| params.get(k).map(String::as_str).unwrap_or("");
        let target = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_owned(),
        };
        let algorithm_ok = matches!(params.get("algorithm").map(String::as_str), None | Some("MD5" | "md5"));
        let opaque_ok = params.get("opaque").is_none_or(|o| *o == self.opaque);
        let nc = u32::from_str_radix(get("nc"), 16).ok().filter(|_| get("nc").len() == 8);
        let shaped = get("username") == self.username
            && get("realm") == self.realm
            && get("uri") == target
            && get("qop") == "auth"
            && !get("cnonce").is_empty()
            && !get("nonce").is_empty()
            && nc.is_some()
            && algorithm_ok
            && opaque_ok;
        let expected = response_hash(
            &self.username,
            &self.realm,
            &self.password,
            req.method.as_str(),
            &target,
            get("nonce"),
            get("nc"),
            get("cnonce"),
            "auth",
        );
        if !shaped || !ct_eq(get("response"), &expected) {
            return Err(Box::new(self.failed_login()));
        }
        let ttl = self.nonce_ttl;
        let Some(info) = self.nonces.get_mut(get("nonce")) else {
            // A correct answer to a nonce this server does not know (reboot, or never issued).
            return Err(Box::new(self.challenge(true)));
        };
        if info.expired || info.issued.elapsed() > ttl {
            info.expired = true;
            return Err(Box::new(self.challenge(true)));
        }
        let nc = nc.unwrap_or_default();
        if !info.seen.insert(nc) {
            // The same count twice with one nonce: a replay (RFC 7616 §3.4).
            return Err(Box::new(self.failed_login()));
        }
        self.failures_since_success = 0;
        Ok(())
    }

    fn failed_login(&mut self) -> ResponseTemplate {
        self.stats.auth_failures += 1;
        self.failures_since_success += 1;
        if let Some(n) = self.ban_after
            && self.failures_since_success >= n
        {
            self.banned = true;
        }
        self.challenge(false)
    }

    fn challenge(&mut self, stale: bool) -> ResponseTemplate {
        self.stats.challenges += 1;
        if stale {
            self.stats.stale += 1;
        }
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        self.nonces.insert(
            nonce.clone(),
            NonceInfo {
                issued: Instant::now(),
                expired: false,
                seen: HashSet::new(),
            },
        );
        self.nonce_order.push_back(nonce.clone());
        while self.nonce_order.len() > 256 {
            if let Some(old) = self.nonce_order.pop_front() {
                self.nonces.remove(&old);
            }
        }
        let mut value = format!(
            r#"Digest realm="{}", qop="auth", nonce="{nonce}", opaque="{}", algorithm=MD5"#,
            self.realm, self.opaque
        );
        if stale {
            value.push_str(", stale=true");
        }
        ResponseTemplate::new(401)
            .insert_header("www-authenticate", value.as_str())
            .set_body_string("401 Unauthorized")
    }

    // -- SMS ------------------------------------------------------------------------------------

    fn in_queue(&self) -> usize {
        self.records.iter().filter(|r| r.sms.status == "SENDING").count()
    }

    fn usable_ports(&self, wanted: Option<&[u8]>) -> Vec<u8> {
        self.ports
            .iter()
            .enumerate()
            .filter_map(|(i, p)| u8::try_from(i).ok().map(|i| (i, p)))
            .filter(|(i, p)| p.powered && !p.blocked && p.reg == "REGISTER_OK" && wanted.is_none_or(|w| w.contains(i)))
            .map(|(i, _)| i)
            .collect()
    }

    fn send_sms(&mut self, body: &[u8]) -> ResponseTemplate {
        let Ok(Value::Object(b)) = serde_json::from_slice::<Value>(body) else {
            return self.envelope(400, Map::new());
        };
        let Some(text) = b.get("text").and_then(Value::as_str) else {
            return self.envelope(400, Map::new());
        };
        let Some(params) = b.get("param").and_then(Value::as_array).filter(|p| !p.is_empty()) else {
            return self.envelope(400, Map::new());
        };
        if params.len() > 128 || text.len() > 1500 {
            return self.envelope(413, Map::new());
        }
        let encoding = match b.get("encoding") {
            None => "unicode",
            Some(Value::String(e)) if e == "unicode" || e == "gsm-7bit" => e.as_str(),
            Some(_) => return self.envelope(400, Map::new()),
        };
        let report = match b.get("request_status_report") {
            None => true,
            Some(Value::Bool(v)) => *v,
            Some(_) => return self.envelope(400, Map::new()),
        };
        let wanted = match b.get("port") {
            None => None,
            Some(v) => match int_list(v, 31) {
                Some(p) => Some(p),
                None => return self.envelope(400, Map::new()),
            },
        };
        let mut items = Vec::with_capacity(params.len());
        for p in params {
            let number = p.get("number").and_then(Value::as_str).unwrap_or("");
            let valid_number = is_number(number);
            let user_id = p.get("user_id").and_then(Value::as_u64);
            let text_param = match p.get("text_param") {
                None => Some(Vec::new()),
                Some(Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_owned)).collect(),
                Some(_) => None,
            };
            match (valid_number, user_id, text_param) {
                (true, Some(id), Some(tp)) => items.push((number.to_owned(), id, tp)),
                _ => return self.envelope(400, Map::new()),
            }
        }
        let ports = self.usable_ports(wanted.as_deref());
        if ports.is_empty() {
            return self.envelope(550, Map::new());
        }
        let task_id = self.next_task;
        self.next_task += 1;
        let enc = if encoding == "gsm-7bit" {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        };
        for (number, user_id, tp) in items {
            let filled = fill(text, &tp);
            let count = Segmentation::with_encoding(&filled, enc)
                .unwrap_or_else(|_| Segmentation::of(&filled))
                .segments;
            let port = ports[self.rr % ports.len()];
            self.rr = self.rr.wrapping_add(1);
            let (ref_id, imsi) = match self.ports.get_mut(usize::from(port)) {
                Some(p) => {
                    let r = p.next_ref;
                    p.next_ref = p.next_ref.wrapping_add(u8::try_from(count).unwrap_or(1).max(1));
                    (r, p.imsi.clone())
                }
                None => (0, String::new()),
            };
            let outcome = self
                .outcomes
                .get(&digits(&number))
                .copied()
                .unwrap_or(SimOutcome::Deliver);
            self.records.push(Record {
                sms: SimSms {
                    user_id,
                    number,
                    text: filled,
                    port,
                    status: "SENDING".to_owned(),
                    task_id,
                    encoding: encoding.to_owned(),
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                    request_status_report: report,
                },
                time: now(),
                ref_id,
                imsi,
                succ_count: 0,
                outcome,
                temp_reported: false,
                recorded_at: Instant::now() + self.record_after,
            });
        }
        let queued = self.in_queue();
        self.envelope(202, obj(json!({"sms_in_queue": queued, "task_id": task_id})))
    }

    /// One step of every SMS; returns (changes, sms_result items, sms_deliver_status items).
    fn step(&mut self) -> (usize, Vec<Value>, Vec<Value>) {
        let mut changed = 0;
        let mut results = Vec::new();
        let mut new_reports = Vec::new();
        let t = now();
        let at = Instant::now();
        for r in self.records.iter_mut().filter(|r| r.recorded_at <= at) {
            match r.sms.status.as_str() {
                "SENDING" => {
                    if r.outcome == SimOutcome::FailSending {
                        r.sms.status = "FAILED".into();
                    } else {
                        r.sms.status = "SENT_OK".into();
                        r.succ_count = r.sms.count;
                    }
                    r.time = t.clone();
                    changed += 1;
                    results.push(result_push_json(r));
                }
                "SENT_OK" if r.sms.request_status_report => {
                    let code = match r.outcome {
                        SimOutcome::Deliver => Some(0),
                        SimOutcome::Undeliverable(c) if !r.temp_reported => {
                            r.temp_reported = true;
                            Some(c)
                        }
                        SimOutcome::Temporary(c) if !r.temp_reported => {
                            r.temp_reported = true;
                            Some(c)
                        }
                        SimOutcome::Temporary(_) => Some(0),
                        _ => None,
                    };
                    let Some(code) = code else { continue };
                    if code == 0 {
                        r.sms.status = "DELIVERED".into();
                        r.time = t.clone();
                        results.push(result_push_json(r));
                    }
                    changed += 1;
                    let rep = Report {
                        port: r.sms.port,
                        number: r.sms.number.clone(),
                        time: t.clone(),
                        ref_id: r.ref_id,
                        status_code: code,
                        imsi: r.imsi.clone(),
                    };
                    new_reports.push(report_json(&rep));
                    self.reports.push(rep);
                }
                _ => {}
            }
        }
        (changed, results, new_reports)
    }

    fn query_sms_result(&mut self, body: &[u8]) -> ResponseTemplate {
        let Some(f) = self.filters(body) else {
            return self.envelope(400, Map::new());
        };
        if f.numbers.as_ref().is_some_and(|n| n.len() > 32) {
            return self.envelope(413, Map::new());
        }
        if self.auto_advance {
            self.step();
        }
        let at = Instant::now();
        let result: Vec<Value> = self
            .records
            .iter()
            .filter(|r| r.recorded_at <= at)
            .filter(|r| f.numbers.as_ref().is_none_or(|n| n.contains(&digits(&r.sms.number))))
            .filter(|r| f.user_ids.as_ref().is_none_or(|u| u.contains(&r.sms.user_id)))
            .filter(|r| f.ports.as_ref().is_none_or(|p| p.contains(&r.sms.port)))
            .filter(|r| f.after.as_ref().is_none_or(|a| r.time > *a))
            .filter(|r| f.before.as_ref().is_none_or(|b| r.time < *b))
            .map(result_json)
            .collect();
        self.envelope(200, obj(json!({"result": result})))
    }

    fn query_deliver_status(&mut self, body: &[u8]) -> ResponseTemplate {
        let Some(f) = self.filters(body) else {
            return self.envelope(400, Map::new());
        };
        if f.numbers.as_ref().is_some_and(|n| n.len() > 32) {
            return self.envelope(413, Map::new());
        }
        if self.auto_advance {
            self.step();
        }
        let result: Vec<Value> = self
            .reports
            .iter()
            .filter(|r| f.numbers.as_ref().is_none_or(|n| n.contains(&digits(&r.number))))
            .filter(|r| f.ports.as_ref().is_none_or(|p| p.contains(&r.port)))
            .filter(|r| f.after.as_ref().is_none_or(|a| r.time > *a))
            .filter(|r| f.before.as_ref().is_none_or(|b| r.time < *b))
            .map(report_json)
            .collect();
        self.envelope(200, obj(json!({"result": result})))
    }

    fn filters(&self, body: &[u8]) -> Option<Filters> {
        let v: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body).ok()?
        };
        let b = v.as_object()?;
        let numbers = match b.get("number") {
            None => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|x| x.as_str().filter(|s| is_number(s)).map(digits))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Some(_) => return None,
        };
        let user_ids = match b.get("user_id") {
            None => None,
            Some(Value::Array(a)) => Some(a.iter().map(Value::as_u64).collect::<Option<Vec<_>>>()?),
            Some(_) => return None,
        };
        let ports = match b.get("port") {
            None => None,
            Some(v) => Some(int_list(v, 31)?),
        };
        // Times are the gateway's local time as "YYYY-MM-DD HH:MM:SS" (the manual's only format);
        // anything else is a malformed request.
        let time = |k: &str| match b.get(k) {
            None => Some(None),
            Some(Value::String(s)) if is_gateway_time(s) => Some(Some(s.clone())),
            Some(_) => None,
        };
        Some(Filters {
            numbers,
            user_ids,
            ports,
            after: time("time_after")?,
            before: time("time_before")?,
        })
    }

    fn stop_sms(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let Some(task) = q.get("task_id").and_then(|t| t.parse::<u64>().ok()) else {
            return self.envelope(400, Map::new());
        };
        if !self.records.iter().any(|r| r.sms.task_id == task) {
            return self.envelope(404, Map::new());
        }
        // Stopped messages not yet sent end as FAILED [?].
        for r in self
            .records
            .iter_mut()
            .filter(|r| r.sms.task_id == task && r.sms.status == "SENDING")
        {
            r.sms.status = "FAILED".into();
            r.time = now();
        }
        self.envelope(200, Map::new())
    }

    // -- Incoming -------------------------------------------------------------------------------

    fn query_incoming(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let after = match q.get("incoming_sms_id") {
            None => 0,
            Some(v) => match v.parse::<u64>() {
                Ok(v) => v,
                Err(_) => return self.envelope(500, Map::new()),
            },
        };
        let ports = match q.get("port") {
            None => None,
            Some(p) => match parse_list(p) {
                Some(p) => Some(p),
                None => return self.envelope(500, Map::new()),
            },
        };
        let flag = q.get("flag").map(String::as_str).unwrap_or("unread");
        if !matches!(flag, "unread" | "read" | "all") {
            return self.envelope(500, Map::new());
        }
        let mut sms = Vec::new();
        for m in self.incoming.iter_mut().filter(|m| m.id > after) {
            if ports.as_ref().is_some_and(|p| !p.contains(&m.port)) {
                continue;
            }
            let take = match flag {
                "unread" => !m.read,
                "read" => m.read,
                _ => true,
            };
            if take {
                sms.push(incoming_json(m));
                if flag == "unread" {
                    // The pitfall: reading unread messages marks them read.
                    m.read = true;
                }
            }
        }
        let read = self.incoming.iter().filter(|m| m.read).count();
        let unread = self.incoming.len() - read;
        self.envelope(200, obj(json!({"sms": sms, "read": read, "unread": unread})))
    }

    // -- USSD -----------------------------------------------------------------------------------

    fn send_ussd(&mut self, body: &[u8]) -> ResponseTemplate {
        let Ok(Value::Object(b)) = serde_json::from_slice::<Value>(body) else {
            return self.envelope(400, Map::new());
        };
        let Some(ports) = b.get("port").and_then(|p| int_list(p, 31)).filter(|p| !p.is_empty()) else {
            return self.envelope(400, Map::new());
        };
        // `command` and `text` are strings when present; another type is malformed, never a default.
        let (command, text) = match (b.get("command"), b.get("text")) {
            (Some(c), _) if !c.is_string() => return self.envelope(400, Map::new()),
            (_, Some(t)) if !t.is_string() => return self.envelope(400, Map::new()),
            (c, t) => (
                c.and_then(Value::as_str).unwrap_or("send"),
                t.and_then(Value::as_str).unwrap_or(""),
            ),
        };
        match command {
            "send" if text.is_empty() || text.len() > 60 => return self.envelope(400, Map::new()),
            "send" | "cancel" => {}
            _ => return self.envelope(400, Map::new()),
        }
        let mut result = Vec::new();
        for port in ports {
            let status = match self.ports.get_mut(usize::from(port)) {
                None => 503,
                Some(p) if !p.powered || p.reg != "REGISTER_OK" => 503,
                Some(p) if p.busy && command == "send" => 486,
                Some(p) => {
                    p.ussd_reply = (command == "send").then(|| p.ussd_answer.clone());
                    200
                }
            };
            result.push(json!({"port": port, "status": status}));
        }
        self.envelope(202, obj(json!({"result": result})))
    }

    fn query_ussd_reply(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let Some(ports) = q.get("port").and_then(|p| parse_list(p)).filter(|p| !p.is_empty()) else {
            return self.envelope(400, Map::new());
        };
        let reply: Vec<Value> = ports
            .iter()
            .map(|port| {
                let text = self
                    .ports
                    .get(usize::from(*port))
                    .and_then(|p| p.ussd_reply.clone())
                    .unwrap_or_else(|| " ".to_owned());
                json!({"port": port, "text": text})
            })
            .collect();
        self.envelope(200, obj(json!({"reply": reply})))
    }

    // -- Ports ----------------------------------------------------------------------------------

    fn get_port_info(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let Some(types) = q.get("info_type").filter(|t| !t.is_empty()) else {
            return self.envelope(400, Map::new());
        };
        let ports = match q.get("port") {
            None => (0..self.ports.len()).filter_map(|i| u8::try_from(i).ok()).collect(),
            Some(p) => match parse_list(p) {
                Some(p) => p,
                None => return self.envelope(400, Map::new()),
            },
        };
        let mut info = Vec::new();
        for port in ports {
            let Some(p) = self.ports.get(usize::from(port)) else {
                continue;
            };
            let reg = if p.powered { p.reg } else { "POWER_OFF" };
            let mut o = Map::new();
            o.insert("port".into(), json!(port));
            for t in types.split(',') {
                let v = match t.trim() {
                    "type" => json!("GSM"),
                    "imei" => json!(p.imei),
                    "imsi" => json!(p.imsi),
                    "iccid" => json!(p.iccid),
                    "number" => json!(p.number),
                    "reg" => json!(reg),
                    "slot" => json!(p.slot),
                    "callstate" => json!("Idle"),
                    "signal" => json!(if p.powered { p.signal } else { 0 }),
                    "gprs" => json!("attached"),
                    "remain_credit" | "remain_monthly_credit" | "remain_daily_credit" => json!("10.00"),
                    "remain_daily_calltime" | "remain_hourly_calltime" | "remain_daily_connect" => json!("unlimited"),
                    "CallForward" => {
                        o.insert("CallForwarding".into(), Value::Object(p.call_forward.clone()));
                        continue;
                    }
                    _ => continue,
                };
                o.insert(t.trim().to_owned(), v);
            }
            info.push(Value::Object(o));
        }
        self.envelope(200, obj(json!({"info": info})))
    }

    fn set_port_info(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let Some(port) = q.get("port").and_then(|p| p.parse::<u8>().ok()) else {
            return self.envelope(400, Map::new());
        };
        let action = q.get("action").map(String::as_str).unwrap_or("");
        let param = q.get("param").map(String::as_str);
        let number = q.get("number").cloned();
        let Some(p) = self.ports.get_mut(usize::from(port)) else {
            return self.envelope(400, Map::new());
        };
        let ok = match (action, param) {
            ("slot", Some(s)) => match s.parse::<u8>() {
                Ok(s) if s <= 3 => {
                    p.slot = s;
                    true
                }
                _ => false,
            },
            ("reset", _) => {
                p.powered = true;
                p.reg = "REGISTER_OK";
                true
            }
            ("power", Some("on")) => {
                p.powered = true;
                true
            }
            ("power", Some("off")) => {
                p.powered = false;
                true
            }
            ("imei", Some(v)) if v.len() == 15 && v.chars().all(|c| c.is_ascii_digit()) => {
                p.imei = v.to_owned();
                true
            }
            ("number", Some(v)) if !v.is_empty() => {
                p.number = v.to_owned();
                true
            }
            ("lock" | "unlock", Some(v)) if !v.is_empty() => true,
            ("block", _) => {
                p.blocked = true;
                true
            }
            ("unblock", _) => {
                p.blocked = false;
                true
            }
            ("CallForward", Some("CancelAll")) => {
                p.call_forward.clear();
                true
            }
            ("CallForward", Some(c @ ("Unconditional" | "NoReply" | "Busy" | "Not_Reachable"))) => match number {
                Some(n) if !n.is_empty() => {
                    p.call_forward.insert(c.to_owned(), json!(n));
                    true
                }
                _ => false,
            },
            ("CheckCallForward", _) => true,
            _ => false,
        };
        self.envelope(if ok { 200 } else { 400 }, Map::new())
    }

    fn get_cdr(&mut self, body: &[u8]) -> ResponseTemplate {
        let Some(f) = self.filters(body) else {
            return self.envelope(400, Map::new());
        };
        let cdr: Vec<Value> = self
            .cdrs
            .iter()
            .filter(|c| {
                let port = c.get("port").and_then(Value::as_u64).and_then(|p| u8::try_from(p).ok());
                f.ports.as_ref().is_none_or(|ps| port.is_some_and(|p| ps.contains(&p)))
            })
            .filter(|c| {
                let start = c.get("start_date").and_then(Value::as_str).unwrap_or("");
                f.after.as_deref().is_none_or(|a| start > a) && f.before.as_deref().is_none_or(|b| start < b)
            })
            .cloned()
            .collect();
        self.envelope(200, obj(json!({"cdr": cdr})))
    }

    fn get_status(&mut self, body: &[u8]) -> ResponseTemplate {
        let wants = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .is_some_and(|a| a.iter().any(|x| x == "performance"));
        if !wants {
            return self.envelope(400, Map::new());
        }
        // The only shape seen in the field: no error_code, no sn [?].
        json_response(
            &json!({"performance": {"cpu_used": "12", "flash_total": "27648", "flash_used": "17428",
            "memory_total": "109448", "memory_cached": "34192", "memory_buffers": "0", "memory_free": "58928",
            "memory_used": "50520"}}),
        )
    }
}

struct Filters {
    numbers: Option<Vec<String>>,
    user_ids: Option<Vec<u64>>,
    ports: Option<Vec<u8>>,
    after: Option<String>,
    before: Option<String>,
}

fn result_json(r: &Record) -> Value {
    json!({"port": r.sms.port, "user_id": r.sms.user_id, "number": r.sms.number, "time": r.time,
        "status": r.sms.status, "count": r.sms.count, "succ_count": r.succ_count, "ref_id": r.ref_id, "imsi": r.imsi})
}

/// The `sms_result` push: as the manual's example, without `user_id`.
fn result_push_json(r: &Record) -> Value {
    let mut v = result_json(r);
    if let Value::Object(m) = &mut v {
        m.remove("user_id");
    }
    v
}

fn report_json(r: &Report) -> Value {
    json!({"port": r.port, "number": r.number, "time": r.time, "ref_id": r.ref_id,
        "status_code": r.status_code, "imsi": r.imsi})
}

fn incoming_json(m: &Incoming) -> Value {
    json!({"incoming_sms_id": m.id, "port": m.port, "number": m.number, "smsc": m.smsc,
        "timestamp": m.timestamp, "text": m.text})
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A JSON array of integers 0..=max.
fn int_list(v: &Value, max: u64) -> Option<Vec<u8>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_u64().filter(|n| *n <= max).and_then(|n| u8::try_from(n).ok()))
        .collect()
}

/// `1,2,3` (already percent-decoded) into ports.
fn parse_list(s: &str) -> Option<Vec<u8>> {
    s.split(',')
        .map(|p| p.trim().parse::<u8>().ok().filter(|p| *p <= 31))
        .collect()
}

fn fill(text: &str, params: &[String]) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut it = params.iter();
    while let Some(i) = rest.find("#param#") {
        out.push_str(&rest[..i]);
        out.push_str(it.next().map(String::as_str).unwrap_or("#param#"));
        rest = &rest[i + "#param#".len()..];
    }
    out.push_str(rest);
    out
}

/// A number as the manual allows it: a digit string of at most 24 bytes (a leading `+` taken).
fn is_number(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 24
        && s.chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || (i == 0 && c == '+'))
}

/// `YYYY-MM-DD HH:MM:SS`, a real date and time.
fn is_gateway_time(s: &str) -> bool {
    s.len() == 19 && chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok()
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn pct(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// `response` of RFC 7616 §3.4.1 for MD5 with `qop=auth`:
/// `KD(H(A1), nonce:nc:cnonce:qop:H(A2))` with `A1 = user:realm:password`, `A2 = method:uri`.
#[allow(clippy::too_many_arguments)]
pub fn response_hash(
    username: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    nc: &str,
    cnonce: &str,
    qop: &str,
) -> String {
    let ha1 = md5_hex(&format!("{username}:{realm}:{password}"));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"))
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses `Digest k=v, k="v", …` (quoted strings may hold commas and `\"`). `None` when the scheme
/// is not Digest or the syntax is broken.
pub fn parse_digest(header: &str) -> Option<HashMap<String, String>> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.push(chars.next()?),
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.to_ascii_lowercase(), value);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7616_md5_example() {
        // RFC 7616 §3.9.1.
        assert_eq!(
            response_hash(
                "Mufasa",
                "http-auth@example.org",
                "Circle of Life",
                "GET",
                "/dir/index.html",
                "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                "00000001",
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                "auth",
            ),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
    }

    #[test]
    fn digest_header_parsing() {
        let p = parse_digest(r#"Digest username="Mu\"fasa", realm="a, b", nc=00000001, qop=auth"#).unwrap();
        assert_eq!(p["username"], "Mu\"fasa");
        assert_eq!(p["realm"], "a, b");
        assert_eq!(p["nc"], "00000001");
        assert!(parse_digest("Basic abc").is_none());
        assert!(parse_digest(r#"Digest realm="open"#).is_none());
        assert!(parse_digest("Digest =x").is_none());
    }

    #[test]
    fn request_paths() {
        assert_eq!(request_path(b"GET /api/x?y=1 HTTP/1.1\r\nhost: h\r\n\r\n"), "/api/x");
        assert_eq!(request_path(b""), "");
    }
}

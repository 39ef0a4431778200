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
//! * **The shared vocabulary** ([`Simulated`]): [`Simulator::sent`], [`Simulator::advance`],
//!   [`Simulator::pushed`], and `trigger` for the `delivered` and `failed` reports; the registry starts
//!   one through [`StartSim`].
//!
//! **Unsure shapes, chosen here only**: the HTTP status that carries a non-zero `responseCode`
//! ([`DEFAULT_ERROR_HTTP_STATUS`], switchable with [`Simulator::set_error_http_status`]); the delivery
//! report's format ([`DlrMethod`]; fields `messageId`, `status`, `errorcode` after Mitto's Chat Apps
//! report, plus `reference` and `to`); the status words ([`status_word`]); test mode answering without
//! an `id` (as the docs' text says, though their example has one).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use switchboard_core::http::HttpOptions;
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{Error, ErrorKind, PhoneNumber, Recipient, Result, WebhookRequest};

use crate::config::Flavour;

mod api;
mod auth;
mod push;
mod state;
mod wire;

pub use state::{DlrMethod, SimMessage, Stage, status_word};
use state::{PendingPush, State, lock};

/// The API key the simulator accepts.
pub const SIM_API_KEY: &str = "sim-mitto-api-key";
/// The webhook secret [`Simulator::dsn`] configures.
pub const SIM_WEBHOOK_SECRET: &str = "sim-mitto-webhook-secret";
/// The traffic account the simulator's key owns.
pub const SIM_TRAFFIC_ACCOUNT: &str = "4ae53d46-5a1c-4c1e-9d7e-000000000001";
/// The sender [`Simulator::dsn`] configures.
pub const SIM_SENDER: &str = "Switchboard";
/// The receiver [`Simulated::recipient`] names (a Swiss mobile number).
pub const SIM_RECIPIENT: &str = "+41751231234";

/// The HTTP status the simulator answers non-zero `responseCode`s with, by default.
///
/// Unsure: Mitto does not say whether they come with 200 or 400; the generated OpenAPI spec lists only
/// `400: Bad Request`, so 400 is the default. The client reads the code from the body either way.
pub const DEFAULT_ERROR_HTTP_STATUS: u16 = 400;

/// The price of one SMS part in the simulator's usage report, in ten-thousandths of a euro.
const PRICE_PER_PART: u64 = 500;

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

fn pusher() -> reqwest::Client {
    HttpOptions::default()
        .timeout(Duration::from_secs(5))
        .build_client()
        .unwrap_or_default()
}

impl Simulator {
    fn handler(state: &Arc<Mutex<State>>) -> switchboard_core::testkit::Handler {
        let (s, http) = (state.clone(), pusher());
        Arc::new(move |req: &Request| {
            let (resp, pushes) = api::handle(&s, req);
            if !pushes.is_empty()
                && let Ok(rt) = tokio::runtime::Handle::try_current()
            {
                let (s, http) = (s.clone(), http.clone());
                rt.spawn(async move { push::deliver(&http, &s, pushes).await });
            }
            resp
        })
    }

    /// Starts on a free loopback port.
    pub async fn start() -> Simulator {
        let state = Arc::new(Mutex::new(State::new(
            SIM_API_KEY,
            SIM_TRAFFIC_ACCOUNT,
            DEFAULT_ERROR_HTTP_STATUS,
        )));
        let server = SimServer::start(Self::handler(&state)).await;
        Self::with(server, state)
    }

    /// Starts with `options`: on `127.0.0.1:PORT` when it names a port (for `switchboard sim mitto`;
    /// requests are then not recorded), pushing delivery reports to its webhook URL when it names one
    /// (with the webhook secret of [`Simulator::dsn`] added to the URL, as a host registers it).
    pub async fn start_with(options: SimOptions) -> Result<Simulator> {
        let state = Arc::new(Mutex::new(State::new(
            SIM_API_KEY,
            SIM_TRAFFIC_ACCOUNT,
            DEFAULT_ERROR_HTTP_STATUS,
        )));
        let server = match options.port {
            Some(port) => SimServer::start_on_port(port, Self::handler(&state))
                .await
                .map_err(|e| Error::config(format!("the Mitto simulator cannot listen on port {port}: {e}")))?,
            None => SimServer::start(Self::handler(&state)).await,
        };
        let sim = Self::with(server, state);
        if let Some(url) = options.webhook_url {
            sim.set_callback_url(Self::callback_url_for(&url));
        }
        Ok(sim)
    }

    fn with(server: SimServer, state: Arc<Mutex<State>>) -> Simulator {
        Simulator {
            server,
            state,
            http: pusher(),
            ticker: Mutex::new(None),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    fn dsn_for(&self, api: Flavour, key: &str) -> String {
        let addr = self.server.address();
        format!(
            "mitto://{key}@{}:{}?from={SIM_SENDER}&api={}&traffic_account={SIM_TRAFFIC_ACCOUNT}&webhook_secret={SIM_WEBHOOK_SECRET}",
            addr.ip(),
            addr.port(),
            api.as_str()
        )
    }

    /// A DSN for the legacy API on this simulator, with valid credentials and the webhook secret.
    pub fn dsn(&self) -> String {
        self.dsn_for(Flavour::Legacy, SIM_API_KEY)
    }

    /// A DSN for the messaging API on this simulator.
    pub fn dsn_messaging(&self) -> String {
        self.dsn_for(Flavour::Messaging, SIM_API_KEY)
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

    /// Every message accepted so far, oldest first: id, receiver digits, text and status word.
    pub fn sent(&self) -> Vec<SimRecord> {
        lock(&self.state).records()
    }

    /// One message by id, with everything the simulator keeps of it (sender, `type`, reference,
    /// callback, stage).
    pub fn message(&self, id: &str) -> Option<SimMessage> {
        lock(&self.state).messages.get(id).cloned()
    }

    /// Moves every message one step (accepted → sent → delivered or failed) and pushes a delivery
    /// report for each change that has a callback URL, waiting for each push to be answered.
    pub async fn advance(&self) {
        let pushes = lock(&self.state).step_all();
        push::deliver(&self.http, &self.state, pushes).await;
    }

    /// Every delivery report pushed so far (by [`Simulator::advance`], a lookup or `trigger`), as the
    /// requests made.
    pub fn pushed(&self) -> Vec<WebhookRequest> {
        lock(&self.state).pushed.clone()
    }

    /// Advances every `period` in the background until the simulator is dropped (for a simulator a
    /// person uses through the command line, where nobody calls [`Simulator::advance`]).
    pub fn advance_every(&self, period: Duration) {
        let http = self.http.clone();
        let task = switchboard_core::testkit::every(Arc::downgrade(&self.state), period, move |state| {
            let http = http.clone();
            async move {
                let pushes = lock(&state).step_all();
                push::deliver(&http, &state, pushes).await;
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

    /// The report a `trigger` pushes: the latest message's, at `stage`, or a message made up for it when
    /// none was sent yet.
    fn triggered(&self, stage: Stage, url: &str) -> PendingPush {
        let mut st = lock(&self.state);
        let latest = st.order.last().and_then(|id| st.messages.get(id)).cloned();
        let mut m = match latest {
            Some(m) => m,
            None => {
                let now = chrono::Utc::now();
                SimMessage::made_up(st.next_id(Flavour::Legacy), SIM_RECIPIENT.trim_start_matches('+'), now)
            }
        };
        m.stage = stage;
        let mut payload = state::report(&m);
        if stage == Stage::Failed {
            payload.insert("errorcode".into(), json!("1"));
        }
        PendingPush {
            url: Self::callback_url_for(url),
            method: st.dlr_method,
            payload,
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
        &["delivered", "failed"]
    }

    /// Pushes one delivery report (`Delivered`, or `Failed` with error code 1) of the latest message to
    /// `url`, with the webhook secret of [`Simulator::dsn`] added to its query.
    async fn trigger(&self, event: &str, url: &str) -> Result<WebhookRequest> {
        let stage = match event {
            "delivered" => Stage::Delivered,
            "failed" => Stage::Failed,
            other => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("the Mitto simulator cannot push a '{other}' event; it knows: delivered, failed"),
                ));
            }
        };
        let p = self.triggered(stage, url);
        let made = push::request_of(&p);
        push::deliver(&self.http, &self.state, vec![p]).await;
        Ok(made)
    }

    fn recipient(&self) -> Option<Recipient> {
        PhoneNumber::parse(SIM_RECIPIENT, None).ok().map(Recipient::Phone)
    }

    fn dsn_with_bad_credentials(&self) -> Option<String> {
        Some(self.dsn_for(Flavour::Legacy, "not-the-mitto-api-key"))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        use switchboard_core::simulated::host_port_of;
        let here = Simulator::uri(self);
        Some(Simulator::dsn(self).replace(host_port_of(&here), host_port_of(base_url)))
    }
}

/// Starts Mitto simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "Mitto";
    type Error = switchboard_core::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, switchboard_core::Error> {
        Simulator::start_with(options).await
    }
}

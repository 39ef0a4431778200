//! An SMS.ru simulator (feature `sim`): the API on a loopback port, stateful, with delivery callbacks.
//! It speaks the shared simulator vocabulary ([`Simulated`]) and starts from the registry
//! ([`StartSim`]).
//!
//! What it models, following SMS.ru's API pages (<https://sms.ru/api>):
//!
//! * Methods as paths: `sms/send`, `sms/status`, `sms/cost`, `my/balance`, `my/limit`, `my/free`,
//!   `my/senders`, `auth/check`, `callback/add|del|get`, `stoplist/add|del|get`; anything else is
//!   code `211`. GET (query string) and POST (form body) are both accepted, as the official examples use
//!   GET and the method pages POST.
//! * Always HTTP 200; the outcome is in the body. With `json=1` the JSON envelope
//!   (`status`/`status_code`/`status_text`, per-number results under `sms`, `balance`); without it the
//!   legacy text reply (code line, one line per number, `balance=`).
//! * Auth by `api_id`, or `login` + `password` (`200` / `301` when wrong). Senders must be approved
//!   (`204`). Per number: a number not written as SMS.ru documents it (digits only, no `+`) `202`,
//!   stop-listed `209`, empty text `203`, more than 8 parts `205`; per request: no text `203`, more than
//!   100 numbers `207`, more than 5000 `213`, a bad `time` `208`, a `ttl` outside 1–1440 minutes, an
//!   `ip` that is not a public address `507`, text not UTF-8 `212`, not enough balance `201`. The
//!   rules are in the `send` module.
//! * `test=1` answers like a real send (ids included) but charges nothing.
//! * Ids look like SMS.ru's (`NNNNNN-NNNNNNNN`). Messages move `100 → 101 → 102 → 103` (or the final
//!   code set for the number with [`Simulator::set_outcome`]) on each [`Simulated::advance`], or on a
//!   timer ([`Simulator::advance_every`]). Each step is pushed to every URL registered with
//!   `callback/add` (or [`SimOptions::webhook_url`]) as one form body of `data[N]` records, and
//!   whether the host answered `100` is recorded ([`Simulator::acknowledged`]).
//! * Failures on demand: a refusal with an SMS.ru code after authentication
//!   ([`Simulator::refuse_next`], e.g. `220`, `500`), and HTTP-level faults
//!   ([`Simulated::fail_next`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::http::HttpOptions;
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{Error, PhoneNumber, Recipient, Result, WebhookRequest, async_trait};

use crate::SCHEME;

mod api;
mod auth;
mod push;
mod send;
mod state;

pub use push::callback_body;
pub use send::{TTL_REFUSAL_CODE, TTL_REFUSAL_TEXT};
pub use state::SimSms;

use state::Shared;

/// The simulator's `api_id`.
pub const SIM_API_ID: &str = "5A1E5A1E-0000-4000-8000-00000000C0DE";
/// The simulator's login (for login + password authentication).
pub const SIM_LOGIN: &str = "79000000000";
/// The simulator's password.
pub const SIM_PASSWORD: &str = "sim-password";
/// The approved sender the simulator starts with (also the default sender).
pub const SIM_SENDER: &str = "switchboard";
/// The webhook secret in [`Simulated::dsn`]: the callbacks the simulator pushes carry it in their URL.
pub const SIM_WEBHOOK_SECRET: &str = "sim-callback-secret-5A1E";
/// The balance the simulator starts with, in kopecks (1000 ₽).
pub const SIM_START_BALANCE: i64 = 100_000;
/// The price of one SMS part the simulator charges, in kopecks, until changed.
pub const SIM_PRICE_PER_PART: i64 = 350;

/// The number [`Simulated::recipient`] names.
const SIM_RECIPIENT: &str = "+79255070602";

/// The SMS.ru simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts on a free loopback port, recording every request.
    pub async fn start() -> Simulator {
        let shared = Self::shared();
        let server = SimServer::start(Self::handler(&shared)).await;
        Simulator { server, shared }
    }

    /// Starts with `options`: on the given port (request recording off, for a simulator a person
    /// points a tool at), pushing callbacks to the given URL (with [`SIM_WEBHOOK_SECRET`] added).
    pub async fn start_with(options: SimOptions) -> std::io::Result<Simulator> {
        let shared = Self::shared();
        let server = match options.port {
            Some(port) => SimServer::start_on_port(port, Self::handler(&shared)).await?,
            None => SimServer::start(Self::handler(&shared)).await,
        };
        let sim = Simulator { server, shared };
        if let Some(url) = &options.webhook_url {
            sim.add_callback(&push::with_token(url));
        }
        Ok(sim)
    }

    fn shared() -> Arc<Shared> {
        let http = HttpOptions::default()
            .timeout(Duration::from_secs(5))
            .build_client()
            .unwrap_or_default();
        Arc::new(Shared::new(http))
    }

    fn handler(shared: &Arc<Shared>) -> switchboard_core::testkit::Handler {
        let shared = shared.clone();
        Arc::new(move |req: &Request| api::handle(&mut shared.lock(), req))
    }

    /// A DSN for `host:port` with this `api_id`, the approved sender and the webhook secret.
    fn dsn_for(host_port: &str, api_id: &str) -> String {
        format!("smsru://{api_id}@{host_port}?from={SIM_SENDER}&webhook_secret={SIM_WEBHOOK_SECRET}")
    }

    fn host_port(&self) -> String {
        self.server.address().to_string()
    }

    /// Every request received (empty for a simulator started on a chosen port).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// The `api_id` the simulator accepts.
    pub fn api_id(&self) -> String {
        self.shared.lock().api_id.clone()
    }

    /// The balance in kopecks.
    pub fn balance_kopecks(&self) -> i64 {
        self.shared.lock().balance
    }

    /// Sets the balance in kopecks.
    pub fn set_balance_kopecks(&self, kopecks: i64) {
        self.shared.lock().balance = kopecks;
    }

    /// Sets the price of one SMS part in kopecks.
    pub fn set_price_per_part(&self, kopecks: i64) {
        self.shared.lock().price_per_part = kopecks;
    }

    /// Approves another sender name.
    pub fn approve_sender(&self, name: &str) {
        let mut st = self.shared.lock();
        if !st.senders.iter().any(|s| s == name) {
            st.senders.push(name.to_owned());
        }
    }

    /// Messages to this number end in `final_code` instead of `103` (delivered): `104` expired,
    /// `105`–`108`, `150` no route.
    pub fn set_outcome(&self, number: &str, final_code: i32) {
        self.shared.lock().outcomes.insert(api::digits(number), final_code);
    }

    /// `sms/send` refuses this number with `code` (a per-number `ERROR`, the rest of the request goes on).
    pub fn refuse_number(&self, number: &str, code: i32) {
        self.shared.lock().refusals.insert(api::digits(number), code);
    }

    /// The next request (any method, after authentication) is refused as a whole with this SMS.ru
    /// code, in SMS.ru's envelope.
    pub fn refuse_next(&self, code: i32) {
        self.shared.lock().refuse_next.push_back(code);
    }

    /// One message by id, with everything the simulator knows about it.
    pub fn message(&self, sms_id: &str) -> Option<SimSms> {
        self.shared.lock().messages.get(sms_id).cloned()
    }

    /// Registers a callback URL directly (what `callback/add` does).
    pub fn add_callback(&self, url: &str) {
        let mut st = self.shared.lock();
        if !st.callbacks.iter().any(|u| u == url) {
            st.callbacks.push(url.to_owned());
        }
    }

    /// The registered callback URLs.
    pub fn callbacks(&self) -> Vec<String> {
        self.shared.lock().callbacks.clone()
    }

    /// For every callback in [`Simulated::pushed`], in order: whether the host answered as SMS.ru
    /// requires (a 2xx with the body `100`). SMS.ru counts any other answer as a failed delivery.
    pub fn acknowledged(&self) -> Vec<bool> {
        self.shared.lock().pushed.iter().map(|p| p.acknowledged).collect()
    }

    /// Advances every message every `period`, until the simulator is dropped (for a simulator a person
    /// points a tool at). Needs a Tokio runtime.
    pub fn advance_every(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        switchboard_core::testkit::every(Arc::downgrade(&self.shared), period, |shared: Arc<Shared>| async move {
            advance(&shared).await;
        })
    }
}

/// Moves every message one state on and pushes the changes.
async fn advance(shared: &Shared) {
    let changes = shared.lock().step_all();
    push::push_changes(shared, &changes).await;
}

#[async_trait]
impl Simulated for Simulator {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn uri(&self) -> String {
        self.server.uri()
    }

    /// `smsru://API_ID@127.0.0.1:PORT?from=switchboard&webhook_secret=…`.
    fn dsn(&self) -> String {
        Self::dsn_for(&self.host_port(), SIM_API_ID)
    }

    fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every message taken, in id order; the status is SMS.ru's state code (`"103"`).
    fn sent(&self) -> Vec<SimRecord> {
        let st = self.shared.lock();
        st.messages
            .values()
            .map(|m| SimRecord::new(&m.sms_id, &m.to, &m.text, m.status_code.to_string()))
            .collect()
    }

    async fn advance(&self) {
        advance(&self.shared).await;
    }

    fn pushed(&self) -> Vec<WebhookRequest> {
        self.shared.lock().pushed.iter().map(|p| p.request.clone()).collect()
    }

    fn triggers(&self) -> &'static [&'static str] {
        &["delivered", "failed"]
    }

    /// Pushes one `sms_status` record to `url` (with [`SIM_WEBHOOK_SECRET`] added as its token): `103`
    /// for `"delivered"`, `107` (not delivered, unknown reason) for `"failed"`. The record names the
    /// newest message the simulator holds, or an id it never gave out; the message's state is not
    /// changed.
    async fn trigger(&self, event: &str, url: &str) -> Result<WebhookRequest> {
        let code = match event {
            "delivered" => 103,
            "failed" => 107,
            other => {
                return Err(Error::unsupported(format!(
                    "the SMS.ru simulator cannot push a '{}' event; it knows: {}",
                    other.escape_debug(),
                    self.triggers().join(", ")
                )));
            }
        };
        let id = {
            let mut st = self.shared.lock();
            match st.messages.keys().next_back().cloned() {
                Some(id) => id,
                None => st.new_id(),
            }
        };
        let body = callback_body(&[(&id, code)]);
        Ok(push::push(&self.shared, &push::with_token(url), body).await)
    }

    fn recipient(&self) -> Option<Recipient> {
        PhoneNumber::parse(SIM_RECIPIENT, None).ok().map(Recipient::Phone)
    }

    fn dsn_with_bad_credentials(&self) -> Option<String> {
        Some(Self::dsn_for(&self.host_port(), "00000000-0000-4000-8000-000000000BAD"))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        let host_port = switchboard_core::simulated::host_port_of(base_url);
        Some(Self::dsn_for(host_port, SIM_API_ID))
    }
}

/// Starts SMS.ru simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "SMS.ru";
    type Error = std::io::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, std::io::Error> {
        Simulator::start_with(options).await
    }
}

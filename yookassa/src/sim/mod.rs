//! A YooKassa API v3 simulator (feature `sim`).
//!
//! It speaks the real wire protocol, so the official SDKs could talk to it:
//!
//! * HTTP Basic `shopId:secretKey` on every `/v3/` call (`401 invalid_credentials` otherwise);
//! * `Idempotence-Key` required on every POST, 1 to 64 characters of YooKassa's pattern; the same key with
//!   the same body replays the first answer, with a different body it is `400 invalid_request`
//!   "Idempotence key duplicated";
//! * POST bodies must be `application/json` (`415` otherwise) and are checked as YooKassa's OpenAPI
//!   specification describes them (see `ops`): missing or mistyped fields, amounts out of range,
//!   currencies YooKassa does not take, over-long texts, metadata over its limits, unknown fields, are
//!   `400 invalid_request` naming the parameter; a known path with the wrong method is `405`;
//! * `POST /v3/payments`, `GET /v3/payments[/{id}]`, `POST /v3/payments/{id}/capture|cancel`,
//!   `POST /v3/refunds`, `GET /v3/refunds[/{id}]`, with YooKassa's error envelope;
//! * the lifecycle `pending → waiting_for_capture → succeeded | canceled` (or straight to `succeeded`
//!   with `capture: true`), partial capture, partial and full refunds; objects with every field the
//!   specification requires (see `objects`);
//! * a customer page at the `confirmation_url` (`GET /checkout/payments/v2/contract?orderId=…`) that pays
//!   the payment and redirects to `return_url`, as the customer would; [`Simulator::pay`] does the same
//!   from a test;
//! * unsigned JSON notifications (`payment.waiting_for_capture`, `payment.succeeded`,
//!   `payment.canceled`, `refund.succeeded`) pushed to [`Simulator::set_webhook_url`], and one of each
//!   on demand with [`Simulated::trigger`];
//! * [`Simulator::answer_500_after_processing`]: YooKassa's "no definite answer" HTTP 500, after the
//!   operation happened, so a client that repeats with the same key gets the real result;
//! * [`Simulator::alter_next_answer`] / [`Simulator::alter_next_lookup`]: the next POST / GET is carried
//!   out, and its answer carries the fields you give.
//!
//! Choices YooKassa's documentation leaves open, made here once: the fee behind `income_amount`
//! (3.5 %), the error texts, that a held payment's `paid` turns false when canceled, and that unknown
//! fields are refused.
//!
//! It speaks the shared simulator vocabulary ([`Simulated`]): [`Simulated::sent`] lists the payments,
//! [`Simulated::advance`] pays every pending one, [`Simulated::pushed`] is every notification sent.

mod api;
mod auth;
mod drive;
mod objects;
mod state;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Fault, Faults, SimServer};
use switchboard_core::{Error, ErrorKind, Result, WebhookRequest};
use switchboard_payments::simkit::{IdempotencyStore, Pusher, SimStats, start_server};

use self::drive::TRIGGERS;
use self::objects::SimRefund;
use self::state::{State, notification, notification_headers};
use crate::config::YooKassaConfigBuilder;
use crate::{SCHEME, YooKassaConfig};

/// The YooKassa simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    state: Arc<Mutex<State>>,
}

/// Shows where it listens, never its credentials.
impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("yookassa::Simulator")
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

/// Starts YooKassa simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "YooKassa";
    type Error = switchboard_core::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, switchboard_core::Error> {
        Simulator::start_with(options).await
    }
}

impl Simulator {
    /// The simulated shop's id.
    pub const SHOP_ID: &'static str = "100500";
    /// The simulated shop's secret key.
    pub const SECRET_KEY: &'static str = "test_SimulatorSecretKey_0000";
    /// A payment method saved in the simulated shop, to charge with `payment_method_id`.
    pub const SAVED_CARD: &'static str = "2bd4a4b5-000f-5000-8000-1f0e2d3c4b5a";

    /// Starts a simulator on a free loopback port.
    pub async fn start() -> Simulator {
        let state = Self::state();
        let server = SimServer::start(Self::handler(&state)).await;
        Self::finish(server, state)
    }

    /// Starts a simulator as `options` say: on `options.port` (for `switchboard sim yookassa --port
    /// P`; requests are then not recorded), notifying `options.webhook_url`.
    pub async fn start_with(options: SimOptions) -> Result<Simulator> {
        let state = Self::state();
        let server = start_server(&options, Self::handler(&state)).await?;
        let sim = Self::finish(server, state);
        if let Some(url) = options.webhook_url {
            sim.set_webhook_url(url);
        }
        Ok(sim)
    }

    fn state() -> Arc<Mutex<State>> {
        let mut saved = HashSet::new();
        saved.insert(Self::SAVED_CARD.to_owned());
        Arc::new(Mutex::new(State {
            shop_id: Self::SHOP_ID.to_owned(),
            secret_key: Self::SECRET_KEY.to_owned(),
            base: String::new(),
            payments: Vec::new(),
            refunds: Vec::new(),
            saved_methods: saved,
            idem: IdempotencyStore::default(),
            webhook_url: None,
            pusher: Pusher::start(),
            fail_after_processing: 0,
            stats: SimStats::default(),
            alter_next: None,
            alter_lookup: None,
        }))
    }

    fn handler(state: &Arc<Mutex<State>>) -> switchboard_core::testkit::Handler {
        let s = state.clone();
        Arc::new(move |req: &Request| api::handle(&s, req))
    }

    fn finish(server: SimServer, state: Arc<Mutex<State>>) -> Simulator {
        if let Ok(mut st) = state.lock() {
            st.base = server.uri();
        }
        Simulator { server, state }
    }

    /// A configuration builder for the simulator (as [`Simulated::dsn`]), to change the retry policy or
    /// the timeout before building.
    pub fn config_builder(&self) -> YooKassaConfigBuilder {
        YooKassaConfig::builder()
            .shop_id(Self::SHOP_ID)
            .secret_key(Self::SECRET_KEY)
            .endpoint(self.server.uri())
            .notification_ips(["127.0.0.1", "::1"])
    }

    /// Every request received (empty for a simulator started on a chosen port, which does not record).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// Sends notifications to `url` from now on.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        if let Ok(mut st) = self.state.lock() {
            st.webhook_url = Some(url.into());
        }
    }

    /// Pays a pending payment as the customer would on the confirmation page.
    pub fn pay(&self, payment_id: &str) -> Result<()> {
        self.with_state(|st| st.pay(payment_id))
    }

    /// The customer's bank declines a pending payment (`canceled`, `payment_network`/`insufficient_funds`).
    pub fn decline(&self, payment_id: &str) -> Result<()> {
        self.with_state(|st| st.cancel_by(payment_id, "payment_network", "insufficient_funds", &["pending"]))
    }

    /// Time runs out: a pending payment expires on confirmation, a held one on capture.
    pub fn expire(&self, payment_id: &str) -> Result<()> {
        self.with_state(|st| {
            let status = st.payments.iter().find(|p| p.id == payment_id).map(|p| p.status);
            match status {
                Some("waiting_for_capture") => {
                    st.cancel_by(payment_id, "yoo_money", "expired_on_capture", &["waiting_for_capture"])
                }
                _ => st.cancel_by(payment_id, "yoo_money", "expired_on_confirmation", &["pending"]),
            }
        })
    }

    /// The next `n` POSTs are answered with YooKassa's HTTP 500 "no definite answer" — after being carried
    /// out (a new one) or without replaying (a repeated key), so a client has to repeat with the same key
    /// until the 500s stop, and then gets the first result.
    pub fn answer_500_after_processing(&self, n: usize) {
        if let Ok(mut st) = self.state.lock() {
            st.fail_after_processing = n;
        }
    }

    /// The next POST that succeeds is carried out as usual, and its answer carries `fields` (a JSON
    /// object: each top-level field set to the value given) — an answer a client must survive
    /// (`{"metadata": null}`) or one it cannot use (`{"amount": {"value": "1.005", "currency": "RUB"}}`).
    /// The altered answer is also what its idempotence key replays.
    pub fn alter_next_answer(&self, fields: Value) {
        if let (Ok(mut st), Value::Object(m)) = (self.state.lock(), fields) {
            st.alter_next = Some(m);
        }
    }

    /// As [`Simulator::alter_next_answer`], for the next GET that succeeds.
    pub fn alter_next_lookup(&self, fields: Value) {
        if let (Ok(mut st), Value::Object(m)) = (self.state.lock(), fields) {
            st.alter_lookup = Some(m);
        }
    }

    /// A refund as the API would show it now.
    pub fn refund(&self, refund_id: &str) -> Option<Value> {
        let st = self.state.lock().ok()?;
        st.refunds.iter().find(|r| r.id == refund_id).map(SimRefund::to_json)
    }

    /// A payment as the API would show it now.
    pub fn payment(&self, payment_id: &str) -> Option<Value> {
        let st = self.state.lock().ok()?;
        st.payments
            .iter()
            .find(|p| p.id == payment_id)
            .map(|p| p.to_json(&st.shop_id))
    }

    /// Counters of what the simulator did.
    pub fn stats(&self) -> SimStats {
        self.state.lock().map(|s| s.stats.clone()).unwrap_or_default()
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| Error::new(ErrorKind::Unavailable, "the simulator's state is poisoned"))?;
        f(&mut st)
    }

    fn dsn_with(&self, host_port: &str, secret_key: &str) -> String {
        format!(
            "yookassa://{}:{secret_key}@{host_port}?notify_ips=127.0.0.1,::1",
            Self::SHOP_ID
        )
    }
}

#[async_trait::async_trait]
impl Simulated for Simulator {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn uri(&self) -> String {
        self.server.uri()
    }

    /// The shop's credentials, accepting notifications from loopback (where the simulator pushes from).
    fn dsn(&self) -> String {
        self.dsn_with(&self.server.address().to_string(), Self::SECRET_KEY)
    }

    fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// One record per payment, oldest first: its id, its amount (`"1000.00 RUB"`) as `to`, its
    /// description as `text`, and its status.
    fn sent(&self) -> Vec<SimRecord> {
        let Ok(st) = self.state.lock() else {
            return Vec::new();
        };
        st.payments
            .iter()
            .map(|p| {
                SimRecord::new(
                    p.id.clone(),
                    format!("{} {}", p.amount.to_decimal_string(), p.amount.currency().code()),
                    p.description.clone().unwrap_or_default(),
                    p.status,
                )
            })
            .collect()
    }

    /// Every pending payment is paid, as its customer would (captured, or held when created with
    /// `capture: false`), and notified.
    async fn advance(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.advance();
        }
    }

    fn pushed(&self) -> Vec<WebhookRequest> {
        self.state.lock().map(|s| s.pusher.pushed()).unwrap_or_default()
    }

    fn triggers(&self) -> &'static [&'static str] {
        TRIGGERS
    }

    /// Makes a real payment (or refund) that has just gone through `event` and pushes its notification
    /// to `url`, unsigned as YooKassa's are: re-fetching the object confirms it.
    async fn trigger(&self, event: &str, url: &str) -> Result<WebhookRequest> {
        let (object, pusher) = {
            let mut st = self
                .state
                .lock()
                .map_err(|_| Error::new(ErrorKind::Unavailable, "the simulator's state is poisoned"))?;
            (st.stage(event)?, st.pusher.clone())
        };
        Ok(pusher
            .push_now(url, notification_headers(), notification(event, object))
            .await)
    }

    fn dsn_with_bad_credentials(&self) -> Option<String> {
        Some(self.dsn_with(&self.server.address().to_string(), "test_WrongSecretKey_0000"))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        let host_port = base_url.split_once("://").map_or(base_url, |(_, rest)| rest);
        Some(self.dsn_with(host_port.trim_end_matches('/'), Self::SECRET_KEY))
    }

    /// YooKassa's `429 too_many_requests` in its error envelope.
    fn rate_limit_fault(&self, retry_after_secs: u64) -> Option<Fault> {
        let _ = retry_after_secs;
        let (_, body) = objects::error(429, Some("too_many_requests"), "Too many requests", None);
        Some(Fault::StatusJson(429, body.to_string()))
    }
}

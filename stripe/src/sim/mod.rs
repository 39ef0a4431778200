//! A Stripe API simulator (feature `sim`), test mode.
//!
//! It speaks the real wire protocol, so Stripe's official libraries could talk to it:
//!
//! * `Authorization: Bearer sk_test_…` (or Basic with the key as user name); `401` otherwise;
//! * form-encoded bodies with bracket nesting (`metadata[order_id]=72`), JSON answers, Stripe's error
//!   envelope, a `Request-Id` and the `Stripe-Version` used on every answer;
//! * requests checked as Stripe checks them: an unknown parameter at any depth (`parameter_unknown`,
//!   `line_items[0][price_data][product_dat]`), a hash where a value belongs and the other way round, an
//!   empty value that cannot be unset (`parameter_invalid_empty`), non-integers
//!   (`parameter_invalid_integer`), amounts out of range (`amount_too_small`, `amount_too_large`), bad
//!   enum words, URLs (`url_invalid`) and emails (`email_invalid`), mutually exclusive parameters
//!   (`parameters_exclusive`), fields that cannot be expanded, a body that is not form-encoded, an
//!   unknown path or method, and a malformed `Stripe-Version`;
//! * `Stripe-Version`: answers are shaped by the version asked for, or the account's
//!   ([`Simulator::set_account_api_version`]) without the header: before 2022-11-15 a PaymentIntent has
//!   a `charges` list and no `latest_charge`; before 2026-03-25 Checkout's `ui_mode` is `hosted`, after
//!   it `hosted_page`. Events are in the account's version;
//! * `Idempotency-Key`: the first answer of an executed request (2xx, 402, and 500) is saved and replayed
//!   with `Idempotent-Replayed: true`; the same key with other parameters is `400 idempotency_error`;
//!   validation errors are not saved, as Stripe documents;
//! * PaymentIntents (`requires_payment_method → requires_confirmation → requires_action →
//!   requires_capture | succeeded`, `canceled`), confirm with test methods (`pm_card_visa`,
//!   `pm_card_mastercard`, `pm_card_amex`, `pm_card_chargeDeclined`,
//!   `pm_card_chargeDeclinedInsufficientFunds`, and `pm_card_authenticationRequired`, which needs 3-D
//!   Secure: `next_action` `redirect_to_url` with a return URL, `use_stripe_sdk` without, completed on
//!   the page at `/3ds/{id}` or by [`Simulator::authenticate`]), partial capture, cancel; Checkout
//!   Sessions (`mode=payment` with `price_data` line items, expire) with a hosted page at `url` that pays
//!   as the customer would and redirects to `success_url`; charges; refunds (partial, full, listed, and
//!   [failed](Simulator::fail_refund)); events (`GET /v1/events/{id}`); `expand[]` of `latest_charge`,
//!   `payment_intent`, `charge` (and of the fields that are always `null` here);
//! * every object with every field Stripe's reference lists as always present (see `objects`);
//! * signed webhooks (`Stripe-Signature: t=…,v1=…`, one `v1` per active secret during
//!   [rotation](Simulator::rotate_webhook_secret)) pushed to [`Simulator::set_webhook_url`], and one
//!   event of a named kind on demand with [`Simulated::trigger`];
//! * [`Simulator::alter_next_answer`] / [`Simulator::alter_next_lookup`]: the next POST / GET is carried
//!   out, and its answer carries the fields you give (`currency: null`, `metadata: null`), as some
//!   accounts and versions answer.
//!
//! Not modelled: customers, prices and products (use `price_data`), asynchronous methods,
//! `mode=setup|subscription`, embedded Checkout, payment methods other than cards, the expansions of
//! fields that hold objects the simulator does not have (`payment_method`, `line_items`).
//!
//! It speaks the shared simulator vocabulary ([`Simulated`]): [`Simulated::sent`] lists the
//! PaymentIntents and Checkout Sessions, [`Simulated::advance`] does what each customer has left to do
//! (pays, authenticates), [`Simulated::pushed`] is every webhook sent.

mod api;
mod auth;
mod checkout;
mod drive;
mod objects;
mod pages;
mod params;
mod state;

use std::sync::{Arc, Mutex};

use serde_json::Value;
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Fault, Faults, SimServer};
use switchboard_core::{Error, ErrorKind, Result, WebhookRequest};
use switchboard_payments::Money;
use switchboard_payments::simkit::{IdempotencyStore, Pusher, SimStats, start_server};

use self::drive::TRIGGER_NAMES;
use self::params::err;
use self::state::State;
use crate::SCHEME;
use crate::config::{DEFAULT_STRIPE_VERSION, StripeConfig, StripeConfigBuilder};

/// The Stripe simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    state: Arc<Mutex<State>>,
}

/// Shows where it listens, never its credentials.
impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("stripe::Simulator")
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

/// Starts Stripe simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "Stripe";
    type Error = switchboard_core::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, switchboard_core::Error> {
        Simulator::start_with(options).await
    }
}

impl Simulator {
    /// The simulated account's secret key.
    pub const SECRET_KEY: &'static str = "sk_test_51SwitchboardSimulatorKey0000";
    /// The simulated webhook endpoint's signing secret.
    pub const WEBHOOK_SECRET: &'static str = "whsec_switchboardSimulatorSigningSecret";

    fn state() -> Arc<Mutex<State>> {
        Arc::new(Mutex::new(State {
            secret_key: Self::SECRET_KEY.to_owned(),
            webhook_secrets: vec![Self::WEBHOOK_SECRET.to_owned()],
            base: String::new(),
            intents: Vec::new(),
            charges: Vec::new(),
            sessions: Vec::new(),
            refunds: Vec::new(),
            events: Vec::new(),
            idem: IdempotencyStore::default(),
            webhook_url: None,
            pusher: Pusher::start(),
            fail_after_processing: 0,
            stats: SimStats::default(),
            current_request: None,
            account_version: DEFAULT_STRIPE_VERSION.to_owned(),
            request_version: DEFAULT_STRIPE_VERSION.to_owned(),
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

    /// Starts a simulator on a free loopback port.
    pub async fn start() -> Simulator {
        let state = Self::state();
        let server = SimServer::start(Self::handler(&state)).await;
        Self::finish(server, state)
    }

    /// Starts a simulator as `options` say: on `options.port` (for `switchboard sim stripe --port P`;
    /// requests are then not recorded), sending webhooks to `options.webhook_url`.
    pub async fn start_with(options: SimOptions) -> Result<Simulator> {
        let state = Self::state();
        let server = start_server(&options, Self::handler(&state)).await?;
        let sim = Self::finish(server, state);
        if let Some(url) = options.webhook_url {
            sim.set_webhook_url(url);
        }
        Ok(sim)
    }

    /// A configuration builder for the simulator (as [`Simulated::dsn`]: the key and the current
    /// webhook secrets), to change the retry policy, the timeout or the API version before building.
    pub fn config_builder(&self) -> StripeConfigBuilder {
        let mut c = StripeConfig::builder()
            .secret_key(Self::SECRET_KEY)
            .endpoint(self.server.uri());
        for s in self.webhook_secrets() {
            c = c.webhook_secret(s);
        }
        c
    }

    fn dsn_with(&self, host_port: &str, secret_key: &str) -> String {
        format!(
            "stripe://{secret_key}@{host_port}?webhook_secret={}",
            self.webhook_secrets().join(",")
        )
    }

    /// Every request received (empty for a simulator started on a chosen port, which does not record).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// Sends signed webhooks to `url` from now on.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        if let Ok(mut st) = self.state.lock() {
            st.webhook_url = Some(url.into());
        }
    }

    /// The signing secrets in use, oldest first.
    pub fn webhook_secrets(&self) -> Vec<String> {
        self.state.lock().map(|s| s.webhook_secrets.clone()).unwrap_or_default()
    }

    /// Starts rotating to a new signing secret: from now on webhooks carry one `v1` per secret, the old
    /// one and `new`, as Stripe does while both are active.
    pub fn rotate_webhook_secret(&self, new: impl Into<String>) {
        if let Ok(mut st) = self.state.lock() {
            st.webhook_secrets.push(new.into());
        }
    }

    /// Ends a rotation: only the newest secret signs from now on.
    pub fn retire_old_webhook_secrets(&self) {
        if let Ok(mut st) = self.state.lock() {
            let n = st.webhook_secrets.len();
            st.webhook_secrets.drain(..n.saturating_sub(1));
        }
    }

    /// Every event created so far, oldest first.
    pub fn events(&self) -> Vec<Value> {
        self.state.lock().map(|s| s.events.clone()).unwrap_or_default()
    }

    /// Pays as the customer would with the test card `pm_card_visa`: confirms a PaymentIntent (`pi_…`)
    /// or completes a Checkout Session (`cs_…`).
    pub fn pay(&self, id: &str) -> Result<()> {
        self.customer(id, "pm_card_visa")
    }

    /// The customer's card is declined (`pm_card_chargeDeclinedInsufficientFunds`): the PaymentIntent
    /// goes back to `requires_payment_method` with `last_payment_error`; a session stays open.
    pub fn decline(&self, id: &str) -> Result<()> {
        let r = self.customer(id, "pm_card_chargeDeclinedInsufficientFunds");
        match r {
            Err(e) if e.kind() == ErrorKind::Rejected => Ok(()),
            Err(e) => Err(e),
            Ok(()) => Err(Error::new(ErrorKind::Unavailable, "the decline did not happen")),
        }
    }

    /// An open Checkout Session expires.
    pub fn expire(&self, session_id: &str) -> Result<()> {
        self.with_state(|st| {
            st.current_request = None;
            st.request_version = st.account_version.clone();
            match st.expire_session(session_id) {
                (200, _) => Ok(()),
                (_, body) => Err(sim_error(&body)),
            }
        })
    }

    /// The next `n` POSTs are carried out, then answered `500 api_error` with `Stripe-Should-Retry:
    /// false`, and the 500 is what their idempotency key replays from then on (as Stripe does).
    pub fn answer_500_after_processing(&self, n: usize) {
        if let Ok(mut st) = self.state.lock() {
            st.fail_after_processing = n;
        }
    }

    /// A PaymentIntent as the API shows it now (in the account's version).
    pub fn payment_intent(&self, id: &str) -> Option<Value> {
        let st = self.state.lock().ok()?;
        st.intent(id).map(|i| i.to_json(&st, &[], &st.account_version))
    }

    /// A Checkout Session as the API shows it now (in the account's version).
    pub fn session(&self, id: &str) -> Option<Value> {
        let st = self.state.lock().ok()?;
        st.sessions
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.to_json(&st, &[], &st.account_version))
    }

    /// A Charge as the API shows it now.
    pub fn charge(&self, id: &str) -> Option<Value> {
        let st = self.state.lock().ok()?;
        st.charges.iter().find(|c| c.id == id).map(|c| c.to_json(&st, &[]))
    }

    /// A Refund as the API shows it now.
    pub fn refund(&self, id: &str) -> Option<Value> {
        let st = self.state.lock().ok()?;
        st.refunds.iter().find(|r| r.id == id).map(|r| r.to_json(&st, &[]))
    }

    /// The account's default API version (`2020-08-27`, `2026-08-26.dahlia`): what requests without a
    /// `Stripe-Version` header are answered in, and what events are rendered in. Starts at
    /// [`DEFAULT_STRIPE_VERSION`].
    pub fn set_account_api_version(&self, version: impl Into<String>) {
        if let Ok(mut st) = self.state.lock() {
            st.account_version = version.into();
        }
    }

    /// The next POST that succeeds is carried out as usual, and its answer carries `fields` (a JSON
    /// object: each top-level field set to the value given), as Stripe answers for some accounts and
    /// versions (`{"currency": null}`, `{"metadata": null}`) or as a broken answer would
    /// (`{"amount": "lots"}`). The altered answer is also what the request's idempotency key replays.
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

    /// The customer completes 3-D Secure for a PaymentIntent in `requires_action` (as on the page behind
    /// its `next_action`).
    pub fn authenticate(&self, payment_intent: &str) -> Result<()> {
        self.with_state(|st| {
            st.current_request = None;
            st.request_version = st.account_version.clone();
            match st.authenticate(payment_intent) {
                (200, _) => Ok(()),
                (_, body) => Err(sim_error(&body)),
            }
        })
    }

    /// A refund fails after it was accepted, with Stripe's `failure_reason` (`expired_or_canceled_card`,
    /// `lost_or_stolen_card`, `declined`, …): it becomes `failed` and `refund.failed` is sent.
    pub fn fail_refund(&self, refund_id: &str, failure_reason: &str) -> Result<()> {
        self.with_state(|st| {
            st.current_request = None;
            match st.fail_refund(refund_id, failure_reason) {
                (200, _) => Ok(()),
                (_, body) => Err(sim_error(&body)),
            }
        })
    }

    /// Counters of what the simulator did.
    pub fn stats(&self) -> SimStats {
        self.state.lock().map(|s| s.stats.clone()).unwrap_or_default()
    }

    fn customer(&self, id: &str, payment_method: &str) -> Result<()> {
        self.with_state(|st| {
            st.current_request = None;
            st.request_version = st.account_version.clone();
            let answer = if id.starts_with("cs_") {
                st.pay_session(id, payment_method)
            } else {
                st.confirm(id, Some(payment_method), None, &[])
            };
            match answer {
                (200, _) => Ok(()),
                (_, body) => Err(sim_error(&body)),
            }
        })
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| Error::new(ErrorKind::Unavailable, "the simulator's state is poisoned"))?;
        f(&mut st)
    }
}

/// An amount as Stripe's integer and currency, written for people (`"19.99 USD"`).
fn shown(amount: i64, currency: &str) -> String {
    match Money::from_stripe_amount(amount, currency) {
        Ok(m) => format!("{} {}", m.to_decimal_string(), m.currency().code()),
        Err(_) => format!("{amount} {currency}"),
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

    /// The account's key and the current webhook secret(s).
    fn dsn(&self) -> String {
        self.dsn_with(&self.server.address().to_string(), Self::SECRET_KEY)
    }

    fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// One record per Checkout Session and per PaymentIntent made outside Checkout, in that order:
    /// its id, its amount (`"19.99 USD"`) as `to`, its description as `text`, and its status.
    fn sent(&self) -> Vec<SimRecord> {
        let Ok(st) = self.state.lock() else {
            return Vec::new();
        };
        let behind_sessions: Vec<&str> = st.sessions.iter().filter_map(|s| s.payment_intent.as_deref()).collect();
        let sessions = st.sessions.iter().map(|s| {
            SimRecord::new(
                s.id.clone(),
                shown(s.amount_total, &s.currency),
                s.pi_description.clone().unwrap_or_default(),
                s.status,
            )
        });
        let intents = st
            .intents
            .iter()
            .filter(|i| !behind_sessions.contains(&i.id.as_str()))
            .map(|i| {
                SimRecord::new(
                    i.id.clone(),
                    shown(i.amount, &i.currency),
                    i.description.clone().unwrap_or_default(),
                    i.status,
                )
            });
        sessions.chain(intents).collect()
    }

    /// Every customer does what is left to do: open Checkout Sessions are paid, PaymentIntents waiting
    /// for a payment method are confirmed with `pm_card_visa`, 3-D Secure is completed; the events are
    /// sent as usual.
    async fn advance(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.advance();
        }
    }

    fn pushed(&self) -> Vec<WebhookRequest> {
        self.state.lock().map(|s| s.pusher.pushed()).unwrap_or_default()
    }

    fn triggers(&self) -> &'static [&'static str] {
        TRIGGER_NAMES
    }

    /// Makes the real objects behind `event` (`payment.succeeded` is a PaymentIntent paid by card,
    /// sent as Stripe's `payment_intent.succeeded`; `refund.succeeded` is `refund.created`, …) and
    /// pushes that one event to `url`, signed with the secrets of [`Simulated::dsn`].
    async fn trigger(&self, event: &str, url: &str) -> Result<WebhookRequest> {
        let (body, headers, pusher) = {
            let mut st = self
                .state
                .lock()
                .map_err(|_| Error::new(ErrorKind::Unavailable, "the simulator's state is poisoned"))?;
            let body = st.stage(event)?.to_string();
            let headers = st.signed_headers(&body);
            (body, headers, st.pusher.clone())
        };
        Ok(pusher.push_now(url, headers, body).await)
    }

    fn dsn_with_bad_credentials(&self) -> Option<String> {
        Some(self.dsn_with(
            &self.server.address().to_string(),
            "sk_test_51WrongSimulatorKey0000000000",
        ))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        let host_port = base_url.split_once("://").map_or(base_url, |(_, rest)| rest);
        Some(self.dsn_with(host_port.trim_end_matches('/'), Self::SECRET_KEY))
    }

    /// Stripe's `429 rate_limit` error envelope (the fault kinds carry no header, so no
    /// `Retry-After` comes with it).
    fn rate_limit_fault(&self, retry_after_secs: u64) -> Option<Fault> {
        let _ = retry_after_secs;
        let (_, body) = err(
            429,
            "invalid_request_error",
            Some("rate_limit"),
            "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
            None,
        );
        Some(Fault::StatusJson(429, body.to_string()))
    }
}

fn sim_error(body: &Value) -> Error {
    let e = body.get("error");
    let kind = match e.and_then(|e| e.get("type")).and_then(Value::as_str) {
        Some("card_error") => ErrorKind::Rejected,
        _ if e.and_then(|e| e.get("code")).and_then(Value::as_str) == Some("resource_missing") => ErrorKind::NotFound,
        _ => ErrorKind::InvalidInput,
    };
    let msg = e
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("the simulator refused")
        .to_owned();
    Error::new(kind, msg)
}

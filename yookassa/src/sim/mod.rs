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
//!   `payment.canceled`, `refund.succeeded`) pushed to [`Simulator::set_webhook_url`];
//! * [`Simulator::answer_500_after_processing`]: YooKassa's "no definite answer" HTTP 500, after the
//!   operation happened, so a client that repeats with the same key gets the real result;
//! * [`Simulator::alter_next_answer`] / [`Simulator::alter_next_lookup`]: the next POST / GET is carried
//!   out, and its answer carries the fields you give.
//!
//! Choices where the reference is unsure [?]: the fee behind `income_amount` (3.5 %), the error texts,
//! that a held payment's `paid` turns false when canceled, and that unknown fields are refused.

mod objects;
mod ops;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_status};
use switchboard_core::{Error, ErrorKind, Result};

use self::objects::{Answer, SimPayment, SimRefund, error, invalid};
use self::ops::{internal_error, key_pattern_ok, not_found_payment};
use super::config::Config;
pub use crate::simkit::{Delivery, SimStats};
use crate::simkit::{IdemCheck, IdempotencyStore, Pusher, basic_credentials, header};

struct State {
    shop_id: String,
    secret_key: String,
    base: String,
    payments: Vec<SimPayment>,
    refunds: Vec<SimRefund>,
    saved_methods: HashSet<String>,
    idem: IdempotencyStore,
    webhook_url: Option<String>,
    pusher: Pusher,
    fail_after_processing: usize,
    stats: SimStats,
    /// Fields to set in the next successful answer to a POST.
    alter_next: Option<Map<String, Value>>,
    /// Fields to set in the next successful answer to a GET.
    alter_lookup: Option<Map<String, Value>>,
}

/// The YooKassa simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    state: Arc<Mutex<State>>,
}

/// Shows where it listens, never its credentials.
impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("yookassa::Simulator")
            .field("uri", &self.uri())
            .finish_non_exhaustive()
    }
}

fn respond((status, body): Answer) -> ResponseTemplate {
    json_status(status, &body)
}

/// Sets the given top-level fields in a 2xx answer (and takes them, so they apply once).
fn altered(slot: &mut Option<Map<String, Value>>, answer: Answer) -> Answer {
    match (answer, slot.take()) {
        ((200, mut body), Some(fields)) => {
            if let Some(m) = body.as_object_mut() {
                m.extend(fields);
            }
            (200, body)
        }
        (a, fields) => {
            *slot = fields;
            a
        }
    }
}

fn get(st: &State, segs: &[&str], query: &[(String, String)]) -> Answer {
    let shop = st.shop_id.clone();
    match segs {
        ["payments"] => State::list(
            &st.payments,
            query,
            |p| {
                query
                    .iter()
                    .find(|(k, _)| k == "status")
                    .is_none_or(|(_, s)| p.status == s)
            },
            |p| p.to_json(&shop),
        ),
        ["payments", id] => match st.payments.iter().find(|p| p.id == *id) {
            Some(p) => (200, p.to_json(&shop)),
            None => not_found_payment(),
        },
        ["refunds"] => State::list(
            &st.refunds,
            query,
            |r| {
                query
                    .iter()
                    .find(|(k, _)| k == "payment_id")
                    .is_none_or(|(_, p)| r.payment_id == *p)
            },
            SimRefund::to_json,
        ),
        ["refunds", id] => match st.refunds.iter().find(|r| r.id == *id) {
            Some(r) => (200, r.to_json()),
            None => error(
                404,
                Some("not_found"),
                "Incorrect refund_id. Refund doesn't exist or access denied.",
                Some("refund_id"),
            ),
        },
        _ => error(404, Some("not_found"), "Unknown path", None),
    }
}

/// Whether `segs` is a path YooKassa serves with `method`; `Some(false)` for a known path and another
/// method (`405`), `None` for an unknown path.
fn route_allows(segs: &[&str], method: &str) -> Option<bool> {
    let (get, post) = match segs {
        ["payments"] | ["refunds"] => (true, true),
        ["payments", _] | ["refunds", _] => (true, false),
        ["payments", _, "capture" | "cancel"] => (false, true),
        _ => return None,
    };
    Some(match method {
        "GET" => get,
        "POST" => post,
        _ => false,
    })
}

fn handle(state: &Mutex<State>, req: &Request) -> ResponseTemplate {
    let Ok(mut st) = state.lock() else {
        return ResponseTemplate::new(500);
    };
    st.stats.requests += 1;
    let path = req.url.path().to_owned();
    let query: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();

    // The customer's payment page behind confirmation_url.
    if path == "/checkout/payments/v2/contract" {
        let id = query
            .iter()
            .find(|(k, _)| k == "orderId")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let ret = st
            .payments
            .iter()
            .find(|p| p.id == id)
            .and_then(|p| p.return_url.clone());
        return match st.pay(&id) {
            Ok(()) => match ret {
                Some(url) => ResponseTemplate::new(302).insert_header("location", url.as_str()),
                None => ResponseTemplate::new(200).set_body_string("Paid (YooKassa simulator)"),
            },
            Err(e) => ResponseTemplate::new(400).set_body_string(format!("Cannot pay: {}", e.message())),
        };
    }
    if !path.starts_with("/v3/") {
        return respond(error(404, Some("not_found"), "Unknown path", None));
    }
    let authed = basic_credentials(&req.headers).is_some_and(|(u, p)| u == st.shop_id && p == st.secret_key);
    if !authed {
        return respond(error(
            401,
            Some("invalid_credentials"),
            "Login or password is wrong, or the Authorization header is missing",
            Some("Authorization"),
        ));
    }
    let segs: Vec<&str> = path
        .trim_start_matches("/v3/")
        .trim_end_matches('/')
        .split('/')
        .collect();
    match route_allows(&segs, req.method.as_str()) {
        None => return respond(error(404, Some("not_found"), "Unknown path", None)),
        // YooKassa answers a known path with the wrong method 405, with no error code.
        Some(false) => return respond(error(405, None, "Method not allowed", None)),
        Some(true) => {}
    }
    if req.method.as_str() == "GET" {
        let answer = get(&st, &segs, &query);
        let answer = altered(&mut st.alter_lookup, answer);
        return respond(answer);
    }
    // POST. A body that is not JSON is 415, with no error code.
    let json_body =
        header(&req.headers, "content-type").is_some_and(|c| c.trim_start().starts_with("application/json"));
    if !json_body {
        return respond(error(
            415,
            None,
            "Unsupported Media Type: the body must be application/json",
            None,
        ));
    }
    let key = match header(&req.headers, "idempotence-key").map(str::to_owned) {
        None => return respond(invalid("Idempotence key isn't specified", "Idempotence-Key")),
        Some(k) if k.is_empty() => return respond(invalid("Idempotence key is empty", "Idempotence-Key")),
        Some(k) if k.len() > crate::idempotency::MAX_KEY_LEN => {
            return respond(invalid(
                &format!(
                    "Idempotence key is too long. Max. length is {}",
                    crate::idempotency::MAX_KEY_LEN
                ),
                "Idempotence-Key",
            ));
        }
        Some(k) if !key_pattern_ok(&k) => {
            return respond(invalid(
                "Idempotence key has characters it cannot have",
                "Idempotence-Key",
            ));
        }
        Some(k) => k,
    };
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => {
                return respond(error(
                    400,
                    Some("invalid_request"),
                    "Failed to parse request body",
                    None,
                ));
            }
        }
    };
    match st.idem.check(&key, &path, &body) {
        IdemCheck::Replay(s) => {
            if st.fail_after_processing > 0 {
                st.fail_after_processing -= 1;
                return respond(internal_error());
            }
            st.stats.replays += 1;
            return ResponseTemplate::new(s.status).set_body_raw(s.body, "application/json");
        }
        IdemCheck::Conflict => {
            st.stats.conflicts += 1;
            return respond(invalid("Idempotence key duplicated", "Idempotence-Key"));
        }
        IdemCheck::New => {}
    }
    let answer = match segs.as_slice() {
        ["payments"] => st.create_payment(&body),
        ["payments", id, "capture"] => st.capture(id, &body),
        ["payments", id, "cancel"] => st.cancel(id, &body),
        _ => st.create_refund(&body),
    };
    let answer = altered(&mut st.alter_next, answer);
    st.idem.store(&key, &path, body, answer.0, answer.1.to_string());
    if st.fail_after_processing > 0 {
        st.fail_after_processing -= 1;
        return respond(internal_error());
    }
    respond(answer)
}

impl Simulator {
    /// The simulated shop's id.
    pub const SHOP_ID: &'static str = "100500";
    /// The simulated shop's secret key.
    pub const SECRET_KEY: &'static str = "test_SimulatorSecretKey_0000";
    /// A payment method saved in the simulated shop, to charge with `payment_method_id`.
    pub const SAVED_CARD: &'static str = "2bd4a4b5-000f-5000-8000-1f0e2d3c4b5a";

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
        Arc::new(move |req: &Request| handle(&s, req))
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

    /// Starts a simulator on `127.0.0.1:port` (for `switchboard sim yookassa --port P`).
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let state = Self::state();
        let server = SimServer::start_on_port(port, Self::handler(&state)).await?;
        Ok(Self::finish(server, state))
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A DSN pointing at the simulator with valid credentials, accepting notifications from loopback.
    pub fn dsn(&self) -> String {
        let a = self.server.address();
        format!(
            "yookassa://{}:{}@{}:{}?notify_ips=127.0.0.1,::1",
            Self::SHOP_ID,
            Self::SECRET_KEY,
            a.ip(),
            a.port()
        )
    }

    /// A [`Config`] for the simulator (as [`Simulator::dsn`]).
    pub fn config(&self) -> Config {
        Config::new(Self::SHOP_ID, Self::SECRET_KEY)
            .endpoint(self.uri())
            .notification_ips(["127.0.0.1", "::1"])
    }

    /// The fault queue (answers the next requests get instead of the normal one).
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every request received (empty for [`Simulator::start_on_port`], which does not record).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// Sends notifications to `url` from now on.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        if let Ok(mut st) = self.state.lock() {
            st.webhook_url = Some(url.into());
        }
    }

    /// What notifications were delivered so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state.lock().map(|s| s.pusher.deliveries()).unwrap_or_default()
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
    /// object: each top-level field set to the value given) — an answer this crate must survive
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
}

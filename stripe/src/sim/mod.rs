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
//!   [rotation](Simulator::rotate_webhook_secret)) pushed to [`Simulator::set_webhook_url`];
//! * [`Simulator::alter_next_answer`] / [`Simulator::alter_next_lookup`]: the next POST / GET is carried
//!   out, and its answer carries the fields you give (`currency: null`, `metadata: null`), as some
//!   accounts and versions answer.
//!
//! Not modelled: customers, prices and products (use `price_data`), asynchronous methods,
//! `mode=setup|subscription`, embedded Checkout, payment methods other than cards, the expansions of
//! fields that hold objects the simulator does not have (`payment_method`, `line_items`).

mod checkout;
mod objects;
mod ops;
mod params;

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{Error, ErrorKind, Result};

use self::objects::{Charge, Intent, Session, SimRefund};
use self::ops::{CHARGE_EXPANDS, INTENT_EXPANDS, REFUND_EXPANDS, SESSION_EXPANDS};
use self::params::{
    Answer, PI_CONFIRM, REFUND_LIST, RETRIEVE, SESSION_EXPIRE, check, check_expand, err, expand_list, invalid, no_such,
    str_param, unrecognized_url, url_param,
};
use super::config::{Config, DEFAULT_STRIPE_VERSION, is_version};
use super::form;
pub use crate::simkit::{Delivery, SimStats};
use crate::simkit::{IdemCheck, IdempotencyStore, Pusher, alnum, basic_credentials, bearer, header};

struct State {
    secret_key: String,
    webhook_secrets: Vec<String>,
    base: String,
    intents: Vec<Intent>,
    charges: Vec<Charge>,
    sessions: Vec<Session>,
    refunds: Vec<SimRefund>,
    events: Vec<Value>,
    idem: IdempotencyStore,
    webhook_url: Option<String>,
    pusher: Pusher,
    fail_after_processing: usize,
    stats: SimStats,
    /// The request being handled (for events' `request` field).
    current_request: Option<(String, Option<String>)>,
    /// The account's default API version: what a request without `Stripe-Version` gets, and what
    /// events are rendered in.
    account_version: String,
    /// The version the request being answered asked for (or the account's).
    request_version: String,
    /// Fields to set in the next successful answer to a POST.
    alter_next: Option<Map<String, Value>>,
    /// Fields to set in the next successful answer to a GET.
    alter_lookup: Option<Map<String, Value>>,
}

/// The Stripe simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    state: Arc<Mutex<State>>,
}

/// Shows where it listens, never its credentials.
impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("stripe::Simulator")
            .field("uri", &self.uri())
            .finish_non_exhaustive()
    }
}

fn respond((status, body): Answer, request_id: &str, version: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("request-id", request_id)
        .insert_header("stripe-version", version)
        .set_body_raw(body.to_string(), "application/json")
}

fn auth_error(st: &State, headers: &http::HeaderMap) -> Option<Answer> {
    let presented = bearer(headers).or_else(|| basic_credentials(headers).map(|(u, _)| u));
    match presented {
        None => Some(err(
            401,
            "invalid_request_error",
            None,
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            None,
        )),
        Some(k) if k == st.secret_key => None,
        Some(k) => {
            let tail: String = k.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            Some(err(
                401,
                "invalid_request_error",
                None,
                &format!(
                    "Invalid API Key provided: {}****{tail}",
                    k.chars().take(8).collect::<String>()
                ),
                None,
            ))
        }
    }
}

/// The version a request is answered in: its `Stripe-Version`, or the account's. A malformed version,
/// or one dated after today, does not exist and is refused as Stripe refuses it.
fn request_version(st: &State, headers: &http::HeaderMap) -> std::result::Result<String, Answer> {
    let Some(v) = header(headers, "stripe-version").map(str::trim) else {
        return Ok(st.account_version.clone());
    };
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    if is_version(v) && v.get(..10).is_some_and(|d| d <= today.as_str()) {
        Ok(v.to_owned())
    } else {
        Err(invalid(
            None,
            &format!("Invalid Stripe API version: {}", v.chars().take(40).collect::<String>()),
            None,
        ))
    }
}

/// Sets the given top-level fields in an answer.
fn alter(body: &mut Value, fields: Map<String, Value>) {
    if let Some(m) = body.as_object_mut() {
        m.extend(fields);
    }
}

/// A page of the simulated site (the hosted Checkout page, 3-D Secure, receipts), when `path` is one.
fn page(st: &mut State, path: &str) -> Option<ResponseTemplate> {
    // The hosted Checkout page: the customer pays with a test card and goes to success_url.
    if let Some(id) = path.strip_prefix("/c/pay/") {
        let success = st.sessions.iter().find(|s| s.id == id).map(|s| s.success_url.clone());
        st.current_request = None;
        st.request_version = st.account_version.clone();
        let (status, _) = st.pay_session(id, "pm_card_visa");
        return Some(match (status, success) {
            (200, Some(url)) => {
                ResponseTemplate::new(303).insert_header("location", url.replace("{CHECKOUT_SESSION_ID}", id).as_str())
            }
            _ => ResponseTemplate::new(200).set_body_string("This Checkout Session is no longer available."),
        });
    }
    // The 3-D Secure page behind `next_action`: the customer authenticates and goes to return_url.
    if let Some(id) = path.strip_prefix("/3ds/") {
        let ret = st.intent(id).and_then(|p| p.return_url.clone());
        let secret = st.intent(id).map(|p| p.client_secret.clone()).unwrap_or_default();
        st.current_request = None;
        st.request_version = st.account_version.clone();
        let (status, _) = st.authenticate(id);
        return Some(match (status, ret) {
            (200 | 402, Some(url)) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let outcome = if status == 200 { "succeeded" } else { "failed" };
                let to = format!(
                    "{url}{sep}payment_intent={id}&payment_intent_client_secret={secret}&redirect_status={outcome}"
                );
                ResponseTemplate::new(302).insert_header("location", to.as_str())
            }
            (200 | 402, None) => ResponseTemplate::new(200).set_body_string("Authentication complete."),
            _ => ResponseTemplate::new(200).set_body_string("There is nothing to authenticate."),
        });
    }
    if path.starts_with("/receipts/") {
        return Some(ResponseTemplate::new(200).set_body_string("Receipt (Stripe simulator)"));
    }
    None
}

fn get(st: &State, segs: &[&str], params: &Value) -> Answer {
    let expand = expand_list(params);
    let expandable = |allowed: &[&str]| check(params, &RETRIEVE).and_then(|()| check_expand(&expand, allowed));
    let v = &st.request_version;
    match segs {
        ["payment_intents", id] => match (expandable(INTENT_EXPANDS), st.intent(id)) {
            (Err(a), _) => a,
            (_, Some(i)) => (200, i.to_json(st, &expand, v)),
            (_, None) => no_such("payment_intent", id, "intent"),
        },
        ["checkout", "sessions", id] => match (expandable(SESSION_EXPANDS), st.sessions.iter().find(|s| s.id == *id)) {
            (Err(a), _) => a,
            (_, Some(s)) => (200, s.to_json(st, &expand, v)),
            (_, None) => no_such("checkout.session", id, "session"),
        },
        ["charges", id] => match (expandable(CHARGE_EXPANDS), st.charges.iter().find(|c| c.id == *id)) {
            (Err(a), _) => a,
            (_, Some(c)) => (200, c.to_json(st, &expand)),
            (_, None) => no_such("charge", id, "charge"),
        },
        ["refunds"] => {
            let data: Vec<String> = REFUND_EXPANDS.iter().map(|e| format!("data.{e}")).collect();
            let data: Vec<&str> = data.iter().map(String::as_str).collect();
            match check(params, &REFUND_LIST).and_then(|()| check_expand(&expand, &data)) {
                Err(a) => a,
                Ok(()) => st.list_refunds(params),
            }
        }
        ["refunds", id] => match (expandable(REFUND_EXPANDS), st.refunds.iter().find(|r| r.id == *id)) {
            (Err(a), _) => a,
            (_, Some(r)) => (200, r.to_json(st, &expand)),
            (_, None) => no_such("refund", id, "id"),
        },
        ["events", id] => match (
            expandable(&[]),
            st.events
                .iter()
                .find(|e| e.get("id").and_then(Value::as_str) == Some(*id)),
        ) {
            (Err(a), _) => a,
            (_, Some(e)) => (200, e.clone()),
            (_, None) => no_such("event", id, "id"),
        },
        _ => unrecognized_url("GET", &format!("/v1/{}", segs.join("/"))),
    }
}

fn post(st: &mut State, segs: &[&str], params: &Value) -> Answer {
    let expand = expand_list(params);
    match segs {
        ["payment_intents"] => match check_expand(&expand, INTENT_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.create_intent(params),
        },
        ["payment_intents", id, "confirm"] => {
            match check(params, &PI_CONFIRM)
                .and_then(|()| check_expand(&expand, INTENT_EXPANDS))
                .and_then(|()| url_param(params, "return_url"))
            {
                Err(a) => a,
                Ok(ret) => st.confirm(id, str_param(params, "payment_method"), ret, &expand),
            }
        }
        ["payment_intents", id, "capture"] => match check_expand(&expand, INTENT_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.capture(id, params),
        },
        ["payment_intents", id, "cancel"] => match check_expand(&expand, INTENT_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.cancel(id, params),
        },
        ["checkout", "sessions"] => match check_expand(&expand, SESSION_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.create_session(params),
        },
        ["checkout", "sessions", id, "expire"] => {
            match check(params, &SESSION_EXPIRE).and_then(|()| check_expand(&expand, SESSION_EXPANDS)) {
                Err(a) => a,
                Ok(()) => match st.expire_session(id) {
                    (200, _) => (200, st.session_json(id, &expand)),
                    refused => refused,
                },
            }
        }
        ["refunds"] => match check_expand(&expand, REFUND_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.create_refund(params),
        },
        _ => unrecognized_url("POST", &format!("/v1/{}", segs.join("/"))),
    }
}

fn handle(state: &Mutex<State>, req: &Request) -> ResponseTemplate {
    let Ok(mut st) = state.lock() else {
        return ResponseTemplate::new(500);
    };
    st.stats.requests += 1;
    let request_id = format!("req_{}", alnum(14));
    let path = req.url.path().to_owned();
    if let Some(page) = page(&mut st, &path) {
        return page;
    }
    let account = st.account_version.clone();
    if !path.starts_with("/v1/") {
        return respond(unrecognized_url(req.method.as_str(), &path), &request_id, &account);
    }
    if let Some(a) = auth_error(&st, &req.headers) {
        return respond(a, &request_id, &account);
    }
    let version = match request_version(&st, &req.headers) {
        Ok(v) => v,
        Err(a) => return respond(a, &request_id, &account),
    };
    st.request_version = version.clone();
    let segs: Vec<String> = path
        .trim_start_matches("/v1/")
        .trim_end_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match req.method.as_str() {
        "GET" => {
            let answer = match form::decode(req.url.query().unwrap_or("").as_bytes()) {
                Err(m) => invalid(None, &m, None),
                Ok(params) => get(&st, &segs, &params),
            };
            let answer = match (answer, st.alter_lookup.take()) {
                ((200, mut body), Some(fields)) => {
                    alter(&mut body, fields);
                    (200, body)
                }
                (a, fields) => {
                    st.alter_lookup = fields;
                    a
                }
            };
            respond(answer, &request_id, &version)
        }
        "POST" => {
            // Stripe reads form-encoded bodies only.
            let form_body = header(&req.headers, "content-type")
                .is_none_or(|c| c.trim_start().starts_with("application/x-www-form-urlencoded"));
            if !form_body && !req.body.is_empty() {
                return respond(
                    invalid(
                        None,
                        "Invalid request (check that your POST content type is application/x-www-form-urlencoded). If you have any questions, we can help at https://support.stripe.com/.",
                        None,
                    ),
                    &request_id,
                    &version,
                );
            }
            let params = match form::decode(&req.body) {
                Ok(p) => p,
                Err(m) => return respond(invalid(None, &m, None), &request_id, &version),
            };
            let key = header(&req.headers, "idempotency-key").map(str::to_owned);
            if let Some(k) = &key {
                if k.is_empty() || k.len() > 255 {
                    return respond(
                        invalid(
                            None,
                            "Idempotency-Key must be 1 to 255 characters.",
                            Some("Idempotency-Key"),
                        ),
                        &request_id,
                        &version,
                    );
                }
                match st.idem.check(k, &path, &params) {
                    IdemCheck::Replay(s) => {
                        st.stats.replays += 1;
                        let mut t = ResponseTemplate::new(s.status)
                            .insert_header("request-id", request_id.as_str())
                            .insert_header("stripe-version", version.as_str())
                            .insert_header("idempotent-replayed", "true")
                            .set_body_raw(s.body, "application/json");
                        if s.status >= 500 {
                            t = t.insert_header("stripe-should-retry", "false");
                        }
                        return t;
                    }
                    IdemCheck::Conflict => {
                        st.stats.conflicts += 1;
                        return respond(
                            err(
                                400,
                                "idempotency_error",
                                None,
                                &format!(
                                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{k}' if you meant to execute a different request."
                                ),
                                None,
                            ),
                            &request_id,
                            &version,
                        );
                    }
                    IdemCheck::New => {}
                }
            }
            st.current_request = Some((request_id.clone(), key.clone()));
            let answer = post(&mut st, &segs, &params);
            st.current_request = None;
            // Stripe saves the answer once execution began (success, decline, server error); a request
            // refused by validation is not saved.
            let executed = matches!(answer.0, 200 | 402);
            let answer = if executed && st.fail_after_processing > 0 {
                st.fail_after_processing -= 1;
                err(
                    500,
                    "api_error",
                    None,
                    "An unknown error occurred while processing your request (simulated).",
                    None,
                )
            } else {
                answer
            };
            let answer = match (answer, st.alter_next.take()) {
                ((200, mut body), Some(fields)) => {
                    alter(&mut body, fields);
                    (200, body)
                }
                (a, fields) => {
                    st.alter_next = fields;
                    a
                }
            };
            if let Some(k) = &key
                && (executed || answer.0 >= 500)
            {
                st.idem.store(k, &path, params, answer.0, answer.1.to_string());
            }
            let t = respond(answer.clone(), &request_id, &version);
            if answer.0 >= 500 {
                t.insert_header("stripe-should-retry", "false")
            } else {
                t
            }
        }
        m => respond(unrecognized_url(m, &path), &request_id, &version),
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

    /// Starts a simulator on `127.0.0.1:port` (for `switchboard sim stripe --port P`).
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let state = Self::state();
        let server = SimServer::start_on_port(port, Self::handler(&state)).await?;
        Ok(Self::finish(server, state))
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A DSN pointing at the simulator with the valid key and the current webhook secret(s).
    pub fn dsn(&self) -> String {
        let a = self.server.address();
        let secrets = self.webhook_secrets().join(",");
        format!(
            "stripe://{}@{}:{}?webhook_secret={secrets}",
            Self::SECRET_KEY,
            a.ip(),
            a.port()
        )
    }

    /// A [`Config`] for the simulator (as [`Simulator::dsn`]).
    pub fn config(&self) -> Config {
        let mut c = Config::new(Self::SECRET_KEY).endpoint(self.uri());
        for s in self.webhook_secrets() {
            c = c.webhook_secret(s);
        }
        c
    }

    /// The fault queue (answers the next requests get instead of the normal one).
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every request received (empty for [`Simulator::start_on_port`], which does not record).
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

    /// What webhooks were delivered so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state.lock().map(|s| s.pusher.deliveries()).unwrap_or_default()
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

//! A YooKassa API v3 simulator (feature `sim`).
//!
//! It speaks the real wire protocol, so the official SDKs could talk to it:
//!
//! * HTTP Basic `shopId:secretKey` on every `/v3/` call (`401 invalid_credentials` otherwise);
//! * `Idempotence-Key` required on every POST; the same key with the same body replays the first
//!   answer, with a different body it is `400 invalid_request` "Idempotence key duplicated";
//! * `POST /v3/payments`, `GET /v3/payments[/{id}]`, `POST /v3/payments/{id}/capture|cancel`,
//!   `POST /v3/refunds`, `GET /v3/refunds[/{id}]`, with YooKassa's error envelope;
//! * the lifecycle `pending → waiting_for_capture → succeeded | canceled` (or straight to `succeeded`
//!   with `capture: true`), partial capture, partial and full refunds;
//! * a customer page at the `confirmation_url` (`GET /checkout/payments/v2/contract?orderId=…`) that pays
//!   the payment and redirects to `return_url`, as the customer would; [`Simulator::pay`] does the same
//!   from a test;
//! * unsigned JSON notifications (`payment.waiting_for_capture`, `payment.succeeded`,
//!   `payment.canceled`, `refund.succeeded`) pushed to [`Simulator::set_webhook_url`];
//! * [`Simulator::answer_500_after_processing`]: YooKassa's "no definite answer" HTTP 500, after the
//!   operation happened, so a client that repeats with the same key gets the real result.
//!
//! Choices where the reference is unsure [?]: the fee behind `income_amount` (3.5 %), the
//! `cancellation_details` words, the error texts, and that a held payment's `paid` turns false when
//! canceled.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_status};
use switchboard_core::{Error, ErrorKind, Result};

use super::config::Config;
use crate::money::{Currency, Money};
pub use crate::simkit::{Delivery, SimStats};
use crate::simkit::{IdemCheck, IdempotencyStore, Pusher, basic_credentials, header, hexs};

/// Currencies the simulated shop accepts (YooKassa's list is not in the reference [?]).
const ACCEPTED_CURRENCIES: &[&str] = &[
    "RUB", "USD", "EUR", "BYN", "CNY", "KZT", "UAH", "UZS", "TRY", "INR", "MDL", "AZN", "AMD",
];

/// YooKassa's fee in the simulator, in tenths of a percent (3.5 %) [?].
const FEE_PER_MILLE: i64 = 35;

#[derive(Debug, Clone)]
struct SimPayment {
    id: String,
    status: &'static str,
    paid: bool,
    amount: Money,
    capture: bool,
    description: Option<String>,
    metadata: Map<String, Value>,
    confirmation: Option<Value>,
    created_at: String,
    captured_at: Option<String>,
    expires_at: Option<String>,
    payment_method: Option<Value>,
    save_payment_method: bool,
    cancellation: Option<(&'static str, &'static str)>,
    refunded: Money,
    return_url: Option<String>,
}

#[derive(Debug, Clone)]
struct SimRefund {
    id: String,
    payment_id: String,
    amount: Money,
    description: Option<String>,
    created_at: String,
}

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

/// An API answer: status and JSON.
type Answer = (u16, Value);

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn uuid_like(kind: &str) -> String {
    // YooKassa ids look like 2f6a1c3b-000f-5000-8000-1b2c39026a5c (payment) / …-0015-… (refund).
    format!(
        "{}-{kind}-5000-{}-{}",
        hexs(8),
        ["8000", "9000", "a000", "b000"][rand::random_range(0..4)],
        hexs(12)
    )
}

fn error(status: u16, code: &str, description: &str, parameter: Option<&str>) -> Answer {
    let mut e = json!({
        "type": "error",
        "id": uuid_like("0000"),
        "code": code,
        "description": description,
    });
    if let (Some(p), Some(m)) = (parameter, e.as_object_mut()) {
        m.insert("parameter".into(), json!(p));
    }
    (status, e)
}

fn invalid(description: &str, parameter: &str) -> Answer {
    error(400, "invalid_request", description, Some(parameter))
}

fn amount_json(m: Money) -> Value {
    json!({"value": m.to_decimal_string(), "currency": m.currency().code()})
}

impl SimPayment {
    fn to_json(&self, shop_id: &str) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), json!(self.id));
        o.insert("status".into(), json!(self.status));
        o.insert("paid".into(), json!(self.paid));
        o.insert("amount".into(), amount_json(self.amount));
        if self.status == "succeeded" || self.status == "waiting_for_capture" {
            let fee = (self.amount.minor() * FEE_PER_MILLE + 500) / 1000;
            o.insert(
                "income_amount".into(),
                amount_json(Money::from_minor(self.amount.minor() - fee, self.amount.currency())),
            );
        }
        if let Some(c) = &self.confirmation
            && self.status == "pending"
        {
            o.insert("confirmation".into(), c.clone());
        }
        o.insert("created_at".into(), json!(self.created_at));
        if let Some(d) = &self.description {
            o.insert("description".into(), json!(d));
        }
        if let Some(t) = &self.captured_at {
            o.insert("captured_at".into(), json!(t));
        }
        if let Some(t) = &self.expires_at
            && self.status == "waiting_for_capture"
        {
            o.insert("expires_at".into(), json!(t));
        }
        o.insert("metadata".into(), Value::Object(self.metadata.clone()));
        if let Some(pm) = &self.payment_method {
            o.insert("payment_method".into(), pm.clone());
        }
        if let Some((party, reason)) = self.cancellation {
            o.insert("cancellation_details".into(), json!({"party": party, "reason": reason}));
        }
        o.insert(
            "recipient".into(),
            json!({"account_id": shop_id, "gateway_id": "2520642"}),
        );
        let refundable = self.status == "succeeded" && self.refunded.minor() < self.amount.minor();
        o.insert("refundable".into(), json!(refundable));
        if self.refunded.is_positive() {
            o.insert("refunded_amount".into(), amount_json(self.refunded));
        }
        o.insert("test".into(), json!(true));
        Value::Object(o)
    }
}

impl SimRefund {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "payment_id": self.payment_id,
            "status": "succeeded",
            "created_at": self.created_at,
            "amount": amount_json(self.amount),
        });
        if let (Some(d), Some(m)) = (&self.description, v.as_object_mut()) {
            m.insert("description".into(), json!(d));
        }
        v
    }
}

impl State {
    fn payment_mut(&mut self, id: &str) -> Option<&mut SimPayment> {
        self.payments.iter_mut().find(|p| p.id == id)
    }

    fn notify(&self, event: &str, object: Value) {
        if let Some(url) = &self.webhook_url {
            let body = json!({"type": "notification", "event": event, "object": object}).to_string();
            self.pusher.push(
                url,
                event,
                vec![("content-type".into(), "application/json".into())],
                body,
            );
        }
    }

    fn notify_payment(&self, id: &str) {
        if let Some(p) = self.payments.iter().find(|p| p.id == id) {
            self.notify(&format!("payment.{}", p.status), p.to_json(&self.shop_id));
        }
    }

    /// The customer pays a pending payment.
    fn pay(&mut self, id: &str) -> Result<()> {
        let p = self
            .payment_mut(id)
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such payment in the simulator"))?;
        if p.status != "pending" {
            return Err(Error::invalid_input(format!(
                "the payment is {}, not pending",
                p.status
            )));
        }
        let method_id = uuid_like("000f");
        p.payment_method = Some(json!({
            "type": "bank_card",
            "id": method_id,
            "saved": p.save_payment_method,
            "title": "Bank card *4444",
            "card": {"first6": "555555", "last4": "4444", "expiry_month": "12", "expiry_year": "2030",
                     "card_type": "MasterCard", "issuer_country": "RU"}
        }));
        p.paid = true;
        if p.capture {
            p.status = "succeeded";
            p.captured_at = Some(now());
        } else {
            p.status = "waiting_for_capture";
            p.expires_at = Some((Utc::now() + chrono::Duration::days(7)).to_rfc3339_opts(SecondsFormat::Millis, true));
        }
        let saved = p.save_payment_method;
        self.stats.charges += 1;
        if saved {
            self.saved_methods.insert(method_id);
        }
        self.notify_payment(id);
        Ok(())
    }

    fn cancel_by(&mut self, id: &str, party: &'static str, reason: &'static str, from: &[&str]) -> Result<()> {
        let p = self
            .payment_mut(id)
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such payment in the simulator"))?;
        if !from.contains(&p.status) {
            return Err(Error::invalid_input(format!("the payment is {}", p.status)));
        }
        p.status = "canceled";
        p.paid = false;
        p.cancellation = Some((party, reason));
        self.notify_payment(id);
        Ok(())
    }

    fn create_payment(&mut self, body: &Value) -> Answer {
        let Some(obj) = body.as_object() else {
            return invalid("The request body must be a JSON object", "body");
        };
        let amount = match parse_amount(obj.get("amount")) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let description = match obj.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.chars().count() <= 128 => Some(s.clone()),
            Some(_) => return invalid("Description must be a string of at most 128 characters", "description"),
        };
        let capture = match obj.get("capture") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return invalid("capture must be a boolean", "capture"),
        };
        let save_payment_method = obj.get("save_payment_method").and_then(Value::as_bool).unwrap_or(false);
        let metadata = match obj.get("metadata") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => {
                if m.len() > 16
                    || m.iter()
                        .any(|(k, v)| k.chars().count() > 32 || v.as_str().is_none_or(|s| s.chars().count() > 512))
                {
                    return invalid(
                        "Metadata takes at most 16 string values, keys up to 32 and values up to 512 characters",
                        "metadata",
                    );
                }
                m.clone()
            }
            Some(_) => return invalid("metadata must be an object", "metadata"),
        };
        let id = uuid_like("000f");
        let mut p = SimPayment {
            id: id.clone(),
            status: "pending",
            paid: false,
            amount,
            capture,
            description,
            metadata,
            confirmation: None,
            created_at: now(),
            captured_at: None,
            expires_at: None,
            payment_method: None,
            save_payment_method,
            cancellation: None,
            refunded: Money::zero(amount.currency()),
            return_url: None,
        };
        let saved = obj.get("payment_method_id").and_then(Value::as_str);
        match (saved, obj.get("confirmation")) {
            (Some(pm), _) => {
                if !self.saved_methods.contains(pm) {
                    return invalid("The payment method is not saved in this shop", "payment_method_id");
                }
                p.payment_method =
                    Some(json!({"type": "bank_card", "id": pm, "saved": true, "title": "Bank card *4444"}));
                p.paid = true;
                if capture {
                    p.status = "succeeded";
                    p.captured_at = Some(now());
                } else {
                    p.status = "waiting_for_capture";
                    p.expires_at =
                        Some((Utc::now() + chrono::Duration::days(7)).to_rfc3339_opts(SecondsFormat::Millis, true));
                }
            }
            (None, Some(Value::Object(c))) => {
                let url = format!("{}/checkout/payments/v2/contract?orderId={id}", self.base);
                match c.get("type").and_then(Value::as_str) {
                    Some("redirect") | Some("mobile_application") => {
                        let Some(ret) = c.get("return_url").and_then(Value::as_str) else {
                            return invalid(
                                "return_url is required for this confirmation",
                                "confirmation.return_url",
                            );
                        };
                        if url::Url::parse(ret).is_err() {
                            return invalid("return_url is not a URL", "confirmation.return_url");
                        }
                        p.return_url = Some(ret.to_owned());
                        p.confirmation = Some(json!({
                            "type": c.get("type").cloned().unwrap_or(Value::Null),
                            "return_url": ret,
                            "confirmation_url": url,
                        }));
                    }
                    Some("embedded") => {
                        p.confirmation = Some(
                            json!({"type": "embedded", "confirmation_token": format!("ct-{}", uuid_like("000f"))}),
                        );
                    }
                    Some("external") => p.confirmation = Some(json!({"type": "external"})),
                    Some("qr") => p.confirmation = Some(json!({"type": "qr", "confirmation_data": url})),
                    _ => return invalid("Unknown confirmation type", "confirmation.type"),
                }
            }
            (None, Some(_)) => return invalid("confirmation must be an object", "confirmation"),
            (None, None) => return invalid("Specify confirmation or payment_method_id", "confirmation"),
        }
        self.stats.payments_created += 1;
        let paid = p.paid;
        if paid {
            self.stats.charges += 1;
        }
        let json = p.to_json(&self.shop_id);
        self.payments.push(p);
        if paid {
            self.notify_payment(&id);
        }
        (200, json)
    }

    fn capture(&mut self, id: &str, body: &Value) -> Answer {
        let shop = self.shop_id.clone();
        let Some(p) = self.payment_mut(id) else {
            return not_found_payment();
        };
        if p.status != "waiting_for_capture" {
            return invalid(
                &format!(
                    "Payment is in status {}; only waiting_for_capture can be captured",
                    p.status
                ),
                "payment_id",
            );
        }
        let amount = match body.get("amount") {
            None | Some(Value::Null) => p.amount,
            some => match parse_amount(some) {
                Ok(a) => a,
                Err(e) => return e,
            },
        };
        if amount.currency() != p.amount.currency() {
            return invalid("The currency differs from the payment's", "amount.currency");
        }
        if amount.minor() > p.amount.minor() {
            return invalid("The amount is more than the payment holds", "amount.value");
        }
        // A partial capture: the payment is now for the captured amount; the rest goes back.
        p.amount = amount;
        p.refunded = Money::zero(amount.currency());
        p.status = "succeeded";
        p.captured_at = Some(now());
        let json = p.to_json(&shop);
        self.stats.captures += 1;
        self.notify_payment(id);
        (200, json)
    }

    fn cancel(&mut self, id: &str) -> Answer {
        match self.payments.iter().find(|p| p.id == id).map(|p| p.status) {
            None => not_found_payment(),
            Some("waiting_for_capture") => {
                let _ = self.cancel_by(id, "merchant", "canceled_by_merchant", &["waiting_for_capture"]);
                self.stats.cancellations += 1;
                let shop = self.shop_id.clone();
                (
                    200,
                    self.payments
                        .iter()
                        .find(|p| p.id == id)
                        .map(|p| p.to_json(&shop))
                        .unwrap_or(Value::Null),
                )
            }
            Some(status) => invalid(
                &format!("Payment is in status {status}; only waiting_for_capture can be canceled"),
                "payment_id",
            ),
        }
    }

    fn create_refund(&mut self, body: &Value) -> Answer {
        let Some(pid) = body.get("payment_id").and_then(Value::as_str) else {
            return invalid("payment_id is required", "payment_id");
        };
        let amount = match parse_amount(body.get("amount")) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let description = body.get("description").and_then(Value::as_str).map(str::to_owned);
        let Some(p) = self.payments.iter_mut().find(|p| p.id == pid) else {
            return invalid("Payment doesn't exist or access denied", "payment_id");
        };
        if p.status != "succeeded" {
            return invalid(
                &format!(
                    "Payment is in status {}; only succeeded payments can be refunded",
                    p.status
                ),
                "payment_id",
            );
        }
        if amount.currency() != p.amount.currency() {
            return invalid("The currency differs from the payment's", "amount.currency");
        }
        let left = p.amount.minor() - p.refunded.minor();
        if amount.minor() > left {
            return invalid("The refund amount is more than the payment has left", "amount.value");
        }
        p.refunded = Money::from_minor(p.refunded.minor() + amount.minor(), amount.currency());
        let r = SimRefund {
            id: uuid_like("0015"),
            payment_id: pid.to_owned(),
            amount,
            description,
            created_at: now(),
        };
        let json = r.to_json();
        self.refunds.push(r);
        self.stats.refunds_created += 1;
        self.notify("refund.succeeded", json.clone());
        (200, json)
    }

    fn list<T>(
        items: &[T],
        query: &[(String, String)],
        keep: impl Fn(&T) -> bool,
        render: impl Fn(&T) -> Value,
    ) -> Answer {
        let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let limit = match q("limit").map(str::parse::<usize>) {
            None => 10,
            Some(Ok(n)) if (1..=100).contains(&n) => n,
            Some(_) => return invalid("limit must be 1 to 100", "limit"),
        };
        let start = match q("cursor") {
            None => 0,
            Some(c) => match c.strip_prefix("c").and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => n,
                None => return invalid("Invalid cursor", "cursor"),
            },
        };
        // Newest first, as YooKassa lists.
        let all: Vec<&T> = items.iter().rev().filter(|x| keep(x)).collect();
        let page: Vec<Value> = all.iter().skip(start).take(limit).map(|x| render(x)).collect();
        let mut out = json!({"type": "list", "items": page});
        if start + limit < all.len()
            && let Some(m) = out.as_object_mut()
        {
            m.insert("next_cursor".into(), json!(format!("c{}", start + limit)));
        }
        (200, out)
    }
}

fn internal_error() -> Answer {
    error(
        500,
        "internal_server_error",
        "Internal server error. The operation result is unknown; repeat the request with the same Idempotence-Key",
        None,
    )
}

fn not_found_payment() -> Answer {
    error(
        404,
        "not_found",
        "Incorrect payment_id. Payment doesn't exist or access denied.",
        Some("payment_id"),
    )
}

fn parse_amount(v: Option<&Value>) -> std::result::Result<Money, Answer> {
    let Some(Value::Object(a)) = v else {
        return Err(invalid("amount is required", "amount"));
    };
    let Some(cur) = a.get("currency").and_then(Value::as_str) else {
        return Err(invalid("amount.currency is required", "amount.currency"));
    };
    if !ACCEPTED_CURRENCIES.contains(&cur) {
        return Err(invalid("The currency is not supported", "amount.currency"));
    }
    let currency = Currency::from_code(cur).map_err(|_| invalid("The currency is not supported", "amount.currency"))?;
    let Some(value) = a.get("value").and_then(Value::as_str) else {
        return Err(invalid("amount.value must be a string", "amount.value"));
    };
    match Money::parse(value, currency) {
        Ok(m) if m.is_positive() => Ok(m),
        _ => Err(invalid("Invalid amount value", "amount.value")),
    }
}

fn respond((status, body): Answer) -> ResponseTemplate {
    json_status(status, &body)
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
        return respond(error(404, "not_found", "Unknown path", None));
    }
    let authed = basic_credentials(&req.headers).is_some_and(|(u, p)| u == st.shop_id && p == st.secret_key);
    if !authed {
        return respond(error(
            401,
            "invalid_credentials",
            "Login or password is wrong, or the Authorization header is missing",
            Some("Authorization"),
        ));
    }
    let segs: Vec<&str> = path
        .trim_start_matches("/v3/")
        .trim_end_matches('/')
        .split('/')
        .collect();
    match req.method.as_str() {
        "GET" => {
            let shop = st.shop_id.clone();
            let answer = match segs.as_slice() {
                ["payments"] => State::list(
                    &st.payments,
                    &query,
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
                    &query,
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
                        "not_found",
                        "Incorrect refund_id. Refund doesn't exist or access denied.",
                        Some("refund_id"),
                    ),
                },
                _ => error(404, "not_found", "Unknown path", None),
            };
            respond(answer)
        }
        "POST" => {
            let Some(key) = header(&req.headers, "idempotence-key").map(str::to_owned) else {
                return respond(invalid("Idempotence key isn't specified", "Idempotence-Key"));
            };
            if key.is_empty() || key.len() > crate::idempotency::MAX_KEY_LEN {
                return respond(invalid("Idempotence key must be 1 to 64 characters", "Idempotence-Key"));
            }
            let body: Value = if req.body.is_empty() {
                json!({})
            } else {
                match serde_json::from_slice(&req.body) {
                    Ok(v) => v,
                    Err(_) => return respond(invalid("The request body is not valid JSON", "body")),
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
                ["payments", id, "cancel"] => st.cancel(id),
                ["refunds"] => st.create_refund(&body),
                _ => error(404, "not_found", "Unknown path", None),
            };
            st.idem.store(&key, &path, body, answer.0, answer.1.to_string());
            if st.fail_after_processing > 0 {
                st.fail_after_processing -= 1;
                return respond(internal_error());
            }
            respond(answer)
        }
        _ => respond(error(405, "invalid_request", "Method not allowed", None)),
    }
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

//! A Stripe API simulator (feature `sim`), test mode.
//!
//! It speaks the real wire protocol, so Stripe's official libraries could talk to it:
//!
//! * `Authorization: Bearer sk_test_…` (or Basic with the key as user name); `401` otherwise;
//! * form-encoded bodies with bracket nesting (`metadata[order_id]=72`), JSON answers, Stripe's error
//!   envelope (`invalid_request_error` with `parameter_missing`, `parameter_unknown`,
//!   `parameter_invalid_integer`, `resource_missing`, `amount_too_small`, …; `card_error` 402;
//!   `idempotency_error`), a `Request-Id` on every answer;
//! * `Idempotency-Key`: the first answer of an executed request (2xx, 402, and 500) is saved and replayed
//!   with `Idempotent-Replayed: true`; the same key with other parameters is `400 idempotency_error`;
//!   validation errors are not saved, as Stripe documents;
//! * PaymentIntents (`requires_payment_method → requires_confirmation → requires_capture | succeeded`,
//!   `canceled`), confirm with test methods (`pm_card_visa`, `pm_card_mastercard`,
//!   `pm_card_chargeDeclined`, `pm_card_chargeDeclinedInsufficientFunds`), partial capture, cancel;
//!   Checkout Sessions (`mode=payment` with `price_data` line items, expire) with a hosted page at `url`
//!   that pays as the customer would and redirects to `success_url`; charges; refunds (partial, full,
//!   listed); events (`GET /v1/events/{id}`); `expand[]` of `latest_charge` and `payment_intent`;
//! * signed webhooks (`Stripe-Signature: t=…,v1=…`, one `v1` per active secret during
//!   [rotation](Simulator::rotate_webhook_secret)) pushed to [`Simulator::set_webhook_url`].
//!
//! Not modelled: customers, prices and products (use `price_data`), 3-D Secure (`requires_action`),
//! asynchronous methods, `mode=setup|subscription`.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{Error, ErrorKind, Result};

use super::config::Config;
use super::form;
use super::webhook::signature_header;
use crate::money::Currency;
pub use crate::simkit::{Delivery, SimStats};
use crate::simkit::{IdemCheck, IdempotencyStore, Pusher, alnum, basic_credentials, bearer, header, now_unix};

/// The API version the simulator reports in events.
const API_VERSION: &str = "2024-06-20";

const PI_CREATE: &[&str] = &[
    "amount",
    "currency",
    "automatic_payment_methods",
    "capture_method",
    "confirm",
    "payment_method",
    "payment_method_types",
    "return_url",
    "description",
    "receipt_email",
    "customer",
    "metadata",
    "expand",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "setup_future_usage",
    "off_session",
    "confirmation_method",
    "shipping",
    "payment_method_options",
    "error_on_requires_action",
    "use_stripe_sdk",
    "mandate_data",
    "on_behalf_of",
    "transfer_data",
    "application_fee_amount",
    "transfer_group",
    "payment_method_data",
    "radar_options",
    "payment_method_configuration",
];
const PI_CONFIRM: &[&str] = &[
    "payment_method",
    "return_url",
    "expand",
    "receipt_email",
    "off_session",
    "setup_future_usage",
    "payment_method_options",
    "mandate_data",
    "use_stripe_sdk",
    "error_on_requires_action",
    "shipping",
    "payment_method_data",
    "capture_method",
];
const PI_CAPTURE: &[&str] = &[
    "amount_to_capture",
    "expand",
    "metadata",
    "final_capture",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "application_fee_amount",
    "transfer_data",
];
const PI_CANCEL: &[&str] = &["cancellation_reason", "expand"];
const SESSION_CREATE: &[&str] = &[
    "mode",
    "success_url",
    "cancel_url",
    "line_items",
    "payment_intent_data",
    "customer_email",
    "customer",
    "client_reference_id",
    "metadata",
    "expires_at",
    "expand",
    "locale",
    "payment_method_types",
    "submit_type",
    "billing_address_collection",
    "allow_promotion_codes",
    "currency",
    "ui_mode",
    "return_url",
    "automatic_tax",
    "custom_text",
    "phone_number_collection",
    "shipping_address_collection",
    "invoice_creation",
    "customer_creation",
    "consent_collection",
];
const SESSION_EXPIRE: &[&str] = &["expand"];
const REFUND_CREATE: &[&str] = &[
    "payment_intent",
    "charge",
    "amount",
    "reason",
    "metadata",
    "expand",
    "refund_application_fee",
    "reverse_transfer",
    "instructions_email",
    "origin",
];

#[derive(Debug, Clone)]
struct Intent {
    id: String,
    amount: i64,
    currency: String,
    status: &'static str,
    capture_method: String,
    client_secret: String,
    description: Option<String>,
    metadata: Map<String, Value>,
    payment_method: Option<String>,
    latest_charge: Option<String>,
    amount_capturable: i64,
    amount_received: i64,
    created: i64,
    canceled_at: Option<i64>,
    cancellation_reason: Option<String>,
    last_payment_error: Option<Value>,
    receipt_email: Option<String>,
    automatic_payment_methods: bool,
}

#[derive(Debug, Clone)]
struct Charge {
    id: String,
    amount: i64,
    amount_captured: i64,
    amount_refunded: i64,
    currency: String,
    payment_intent: String,
    payment_method: String,
    captured: bool,
    status: &'static str,
    created: i64,
}

#[derive(Debug, Clone)]
struct Session {
    id: String,
    status: &'static str,
    payment_status: &'static str,
    amount_total: i64,
    currency: String,
    success_url: String,
    cancel_url: Option<String>,
    metadata: Map<String, Value>,
    pi_capture_method: String,
    pi_description: Option<String>,
    pi_metadata: Map<String, Value>,
    payment_intent: Option<String>,
    client_reference_id: Option<String>,
    customer_email: Option<String>,
    created: i64,
    expires_at: i64,
}

#[derive(Debug, Clone)]
struct SimRefund {
    id: String,
    amount: i64,
    currency: String,
    charge: String,
    payment_intent: String,
    reason: Option<String>,
    created: i64,
    metadata: Map<String, Value>,
}

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

/// An answer: status and JSON.
type Answer = (u16, Value);

fn err(status: u16, kind: &str, code: Option<&str>, message: &str, param: Option<&str>) -> Answer {
    let mut e = Map::new();
    e.insert("type".into(), json!(kind));
    e.insert("message".into(), json!(message));
    if let Some(c) = code {
        e.insert("code".into(), json!(c));
        e.insert(
            "doc_url".into(),
            json!(format!("https://stripe.com/docs/error-codes/{}", c.replace('_', "-"))),
        );
    }
    if let Some(p) = param {
        e.insert("param".into(), json!(p));
    }
    (status, json!({ "error": e }))
}

fn invalid(code: Option<&str>, message: &str, param: Option<&str>) -> Answer {
    err(400, "invalid_request_error", code, message, param)
}

fn missing(param: &str) -> Answer {
    invalid(
        Some("parameter_missing"),
        &format!("Missing required param: {param}."),
        Some(param),
    )
}

fn no_such(what: &str, id: &str, param: &str) -> Answer {
    err(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such {what}: '{id}'"),
        Some(param),
    )
}

fn unexpected_state(message: &str) -> Answer {
    invalid(Some("payment_intent_unexpected_state"), message, None)
}

fn check_params(params: &Value, allowed: &[&str]) -> std::result::Result<(), Answer> {
    if let Some(m) = params.as_object() {
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(invalid(
                    Some("parameter_unknown"),
                    &format!("Received unknown parameter: {k}"),
                    Some(k),
                ));
            }
        }
    }
    Ok(())
}

fn str_param<'a>(p: &'a Value, key: &str) -> Option<&'a str> {
    p.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn int_param(p: &Value, key: &str) -> std::result::Result<Option<i64>, Answer> {
    match p.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => s.parse::<i64>().map(Some).map_err(|_| {
            invalid(
                Some("parameter_invalid_integer"),
                &format!("Invalid integer: {s}"),
                Some(key),
            )
        }),
        Some(_) => Err(invalid(Some("parameter_invalid_integer"), "Invalid integer", Some(key))),
    }
}

fn bool_param(p: &Value, key: &str) -> std::result::Result<Option<bool>, Answer> {
    match p.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(s) => Err(invalid(None, &format!("Invalid boolean: {s}"), Some(key))),
    }
}

fn metadata_param(p: &Value, key: &str) -> std::result::Result<Map<String, Value>, Answer> {
    match p.get(key) {
        None => Ok(Map::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Map::new()),
        Some(Value::Object(m)) => {
            if m.len() > 50 {
                return Err(invalid(None, "You can specify up to 50 keys in metadata.", Some(key)));
            }
            for (k, v) in m {
                if k.chars().count() > 40 {
                    return Err(invalid(
                        None,
                        "Metadata keys can be up to 40 characters long.",
                        Some(key),
                    ));
                }
                if v.as_str().is_none_or(|s| s.chars().count() > 500) {
                    return Err(invalid(
                        None,
                        "Metadata values can be strings of up to 500 characters.",
                        Some(key),
                    ));
                }
            }
            Ok(m.clone())
        }
        Some(_) => Err(invalid(None, "Invalid hash", Some(key))),
    }
}

fn expand_list(p: &Value) -> Vec<String> {
    match p.get("expand") {
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// Stripe's minimum charge amount per currency, in its minor unit (a few; 1 otherwise).
fn minimum(currency: &str) -> i64 {
    match currency {
        "usd" | "eur" | "cad" | "aud" | "chf" | "nzd" | "sgd" => 50,
        "gbp" => 30,
        "jpy" => 50,
        _ => 1,
    }
}

fn check_amount(amount: i64, currency: &str, param: &str) -> std::result::Result<(), Answer> {
    if amount < minimum(currency) {
        return Err(invalid(
            Some("amount_too_small"),
            &format!("Amount must be at least {} {currency}", minimum(currency)),
            Some(param),
        ));
    }
    if amount > 99_999_999 {
        return Err(invalid(
            Some("amount_too_large"),
            "Amount must be no more than 99999999",
            Some(param),
        ));
    }
    Ok(())
}

fn currency_param(p: &Value, key: &str) -> std::result::Result<String, Answer> {
    let Some(c) = str_param(p, key) else {
        return Err(missing(key));
    };
    let c = c.to_ascii_lowercase();
    if Currency::from_code(&c).is_err() {
        return Err(invalid(None, &format!("Invalid currency: {c}."), Some(key)));
    }
    Ok(c)
}

impl Intent {
    fn to_json(&self, st: &State, expand: &[String]) -> Value {
        let latest_charge = match &self.latest_charge {
            None => Value::Null,
            Some(id) if expand.iter().any(|e| e == "latest_charge") => st
                .charges
                .iter()
                .find(|c| &c.id == id)
                .map(Charge::to_json)
                .unwrap_or(Value::Null),
            Some(id) => json!(id),
        };
        json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": self.amount_capturable,
            "amount_received": self.amount_received,
            "automatic_payment_methods": if self.automatic_payment_methods { json!({"enabled": true}) } else { Value::Null },
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": self.capture_method,
            "client_secret": self.client_secret,
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": Value::Null,
            "description": self.description,
            "last_payment_error": self.last_payment_error,
            "latest_charge": latest_charge,
            "livemode": false,
            "metadata": self.metadata,
            "next_action": Value::Null,
            "payment_method": self.payment_method,
            "payment_method_types": ["card"],
            "receipt_email": self.receipt_email,
            "status": self.status,
        })
    }
}

impl Charge {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "captured": self.captured,
            "created": self.created,
            "currency": self.currency,
            "livemode": false,
            "paid": self.status == "succeeded",
            "payment_intent": self.payment_intent,
            "payment_method": self.payment_method,
            "refunded": self.amount_refunded > 0 && self.amount_refunded >= self.amount_captured.max(1),
            "status": self.status,
        })
    }
}

impl Session {
    fn to_json(&self, st: &State, expand: &[String]) -> Value {
        let url = if self.status == "open" {
            json!(format!("{}/c/pay/{}", st.base, self.id))
        } else {
            Value::Null
        };
        let pi = match &self.payment_intent {
            None => Value::Null,
            Some(id) if expand.iter().any(|e| e == "payment_intent") => {
                let inner: Vec<String> = expand
                    .iter()
                    .filter_map(|e| e.strip_prefix("payment_intent.").map(str::to_owned))
                    .collect();
                st.intents
                    .iter()
                    .find(|i| &i.id == id)
                    .map(|i| i.to_json(st, &inner))
                    .unwrap_or(Value::Null)
            }
            Some(id) => json!(id),
        };
        json!({
            "id": self.id,
            "object": "checkout.session",
            "amount_subtotal": self.amount_total,
            "amount_total": self.amount_total,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "created": self.created,
            "currency": self.currency,
            "customer_email": self.customer_email,
            "expires_at": self.expires_at,
            "livemode": false,
            "metadata": self.metadata,
            "mode": "payment",
            "payment_intent": pi,
            "payment_status": self.payment_status,
            "status": self.status,
            "success_url": self.success_url,
            "url": url,
        })
    }
}

impl SimRefund {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "metadata": self.metadata,
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "status": "succeeded",
        })
    }
}

impl State {
    fn intent(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }

    fn intent_mut(&mut self, id: &str) -> Option<&mut Intent> {
        self.intents.iter_mut().find(|i| i.id == id)
    }

    fn intent_json(&self, id: &str, expand: &[String]) -> Value {
        self.intent(id).map(|i| i.to_json(self, expand)).unwrap_or(Value::Null)
    }

    /// Records an event and pushes it, signed, to the webhook URL.
    fn emit(&mut self, kind: &str, object: Value) {
        let (req_id, key) = self.current_request.clone().unwrap_or_default();
        let event = json!({
            "id": format!("evt_3{}", alnum(24)),
            "object": "event",
            "api_version": API_VERSION,
            "created": now_unix(),
            "data": {"object": object},
            "livemode": false,
            "pending_webhooks": if self.webhook_url.is_some() { 1 } else { 0 },
            "request": {"id": if req_id.is_empty() { Value::Null } else { json!(req_id) }, "idempotency_key": key},
            "type": kind,
        });
        if let Some(url) = &self.webhook_url {
            let body = event.to_string();
            let secrets: Vec<&str> = self.webhook_secrets.iter().map(String::as_str).collect();
            let sig = signature_header(&secrets, now_unix(), body.as_bytes());
            self.pusher.push(
                url,
                kind,
                vec![
                    ("content-type".into(), "application/json; charset=utf-8".into()),
                    ("stripe-signature".into(), sig),
                    (
                        "user-agent".into(),
                        "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into(),
                    ),
                ],
                body,
            );
        }
        self.events.push(event);
    }

    fn new_intent(&mut self, amount: i64, currency: &str, capture_method: &str) -> String {
        let id = format!("pi_3{}", alnum(23));
        self.intents.push(Intent {
            client_secret: format!("{id}_secret_{}", alnum(25)),
            id: id.clone(),
            amount,
            currency: currency.to_owned(),
            status: "requires_payment_method",
            capture_method: capture_method.to_owned(),
            description: None,
            metadata: Map::new(),
            payment_method: None,
            latest_charge: None,
            amount_capturable: 0,
            amount_received: 0,
            created: now_unix(),
            canceled_at: None,
            cancellation_reason: None,
            last_payment_error: None,
            receipt_email: None,
            automatic_payment_methods: true,
        });
        id
    }

    /// Confirms an intent with a test payment method: the charge, or the decline.
    fn confirm(&mut self, id: &str, payment_method: Option<&str>, expand: &[String]) -> Answer {
        let Some(pi) = self.intent(id).cloned() else {
            return no_such("payment_intent", id, "intent");
        };
        if !matches!(pi.status, "requires_payment_method" | "requires_confirmation") {
            return unexpected_state(&format!(
                "This PaymentIntent's status is {}; it cannot be confirmed.",
                pi.status
            ));
        }
        let Some(pm) = payment_method.map(str::to_owned).or(pi.payment_method.clone()) else {
            return unexpected_state(
                "You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment method and then confirm it again.",
            );
        };
        let decline = match pm.as_str() {
            "pm_card_visa" | "pm_card_mastercard" | "pm_card_amex" => None,
            "pm_card_chargeDeclined" => Some(("generic_decline", "Your card was declined.")),
            "pm_card_chargeDeclinedInsufficientFunds" => {
                Some(("insufficient_funds", "Your card has insufficient funds."))
            }
            other => return no_such("PaymentMethod", other, "payment_method"),
        };
        let charge_id = format!("ch_3{}", alnum(23));
        let captured = pi.capture_method != "manual";
        self.charges.push(Charge {
            id: charge_id.clone(),
            amount: pi.amount,
            amount_captured: if decline.is_none() && captured { pi.amount } else { 0 },
            amount_refunded: 0,
            currency: pi.currency.clone(),
            payment_intent: pi.id.clone(),
            payment_method: pm.clone(),
            captured: decline.is_none() && captured,
            status: if decline.is_some() { "failed" } else { "succeeded" },
            created: now_unix(),
        });
        if let Some((decline_code, message)) = decline {
            let error = json!({
                "type": "card_error",
                "code": "card_declined",
                "decline_code": decline_code,
                "message": message,
                "charge": charge_id,
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            });
            if let Some(p) = self.intent_mut(id) {
                p.status = "requires_payment_method";
                p.payment_method = None;
                p.latest_charge = Some(charge_id);
                p.last_payment_error = Some(error.clone());
            }
            let obj = self.intent_json(id, &[]);
            self.emit("payment_intent.payment_failed", obj.clone());
            let mut body = error;
            if let Some(m) = body.as_object_mut() {
                m.insert("payment_intent".into(), obj);
            }
            return (402, json!({ "error": body }));
        }
        if let Some(p) = self.intent_mut(id) {
            p.payment_method = Some(pm);
            p.latest_charge = Some(charge_id);
            p.last_payment_error = None;
            if captured {
                p.status = "succeeded";
                p.amount_received = p.amount;
            } else {
                p.status = "requires_capture";
                p.amount_capturable = p.amount;
            }
        }
        self.stats.charges += 1;
        let obj = self.intent_json(id, &[]);
        if captured {
            self.emit("payment_intent.succeeded", obj);
        } else {
            self.emit("payment_intent.amount_capturable_updated", obj);
        }
        (200, self.intent_json(id, expand))
    }

    fn create_intent(&mut self, p: &Value) -> Answer {
        if let Err(a) = check_params(p, PI_CREATE) {
            return a;
        }
        let amount = match int_param(p, "amount") {
            Ok(Some(a)) => a,
            Ok(None) => return missing("amount"),
            Err(a) => return a,
        };
        let currency = match currency_param(p, "currency") {
            Ok(c) => c,
            Err(a) => return a,
        };
        if let Err(a) = check_amount(amount, &currency, "amount") {
            return a;
        }
        let capture_method = str_param(p, "capture_method").unwrap_or("automatic");
        if !matches!(capture_method, "automatic" | "automatic_async" | "manual") {
            return invalid(
                None,
                &format!("Invalid capture_method: {capture_method}"),
                Some("capture_method"),
            );
        }
        let confirm = match bool_param(p, "confirm") {
            Ok(c) => c.unwrap_or(false),
            Err(a) => return a,
        };
        let metadata = match metadata_param(p, "metadata") {
            Ok(m) => m,
            Err(a) => return a,
        };
        let payment_method = str_param(p, "payment_method").map(str::to_owned);
        let automatic = p
            .get("automatic_payment_methods")
            .and_then(|a| a.get("enabled"))
            .and_then(Value::as_str)
            == Some("true");
        let no_redirects = p
            .get("automatic_payment_methods")
            .and_then(|a| a.get("allow_redirects"))
            .and_then(Value::as_str)
            == Some("never");
        if confirm && automatic && !no_redirects && str_param(p, "return_url").is_none() {
            return invalid(
                None,
                "When automatic_payment_methods is enabled and confirm=true, return_url must be provided, or automatic_payment_methods[allow_redirects] set to never.",
                Some("return_url"),
            );
        }
        let id = self.new_intent(amount, &currency, capture_method);
        if let Some(pi) = self.intent_mut(&id) {
            pi.description = str_param(p, "description").map(str::to_owned);
            pi.receipt_email = str_param(p, "receipt_email").map(str::to_owned);
            pi.metadata = metadata;
            pi.automatic_payment_methods = automatic;
            if let Some(pm) = &payment_method {
                pi.payment_method = Some(pm.clone());
                pi.status = "requires_confirmation";
            }
        }
        self.stats.payments_created += 1;
        let created = self.intent_json(&id, &[]);
        self.emit("payment_intent.created", created);
        let expand = expand_list(p);
        if confirm {
            return self.confirm(&id, None, &expand);
        }
        (200, self.intent_json(&id, &expand))
    }

    fn capture(&mut self, id: &str, p: &Value) -> Answer {
        if let Err(a) = check_params(p, PI_CAPTURE) {
            return a;
        }
        let Some(pi) = self.intent(id).cloned() else {
            return no_such("payment_intent", id, "intent");
        };
        if pi.status != "requires_capture" {
            return unexpected_state(&format!(
                "This PaymentIntent could not be captured because it has a status of {}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                pi.status
            ));
        }
        let amount = match int_param(p, "amount_to_capture") {
            Ok(a) => a.unwrap_or(pi.amount_capturable),
            Err(a) => return a,
        };
        if amount <= 0 || amount > pi.amount_capturable {
            return invalid(
                Some("amount_too_large"),
                &format!(
                    "The amount_to_capture must be between 1 and the amount capturable ({}).",
                    pi.amount_capturable
                ),
                Some("amount_to_capture"),
            );
        }
        if let Some(ch) = pi
            .latest_charge
            .as_ref()
            .and_then(|c| self.charges.iter_mut().find(|x| &x.id == c))
        {
            ch.captured = true;
            ch.amount_captured = amount;
        }
        if let Some(x) = self.intent_mut(id) {
            x.status = "succeeded";
            x.amount_received = amount;
            x.amount_capturable = 0;
        }
        self.stats.captures += 1;
        let obj = self.intent_json(id, &[]);
        self.emit("payment_intent.succeeded", obj);
        (200, self.intent_json(id, &expand_list(p)))
    }

    fn cancel(&mut self, id: &str, p: &Value) -> Answer {
        if let Err(a) = check_params(p, PI_CANCEL) {
            return a;
        }
        let Some(pi) = self.intent(id).cloned() else {
            return no_such("payment_intent", id, "intent");
        };
        let reason = str_param(p, "cancellation_reason");
        if let Some(r) = reason
            && !matches!(r, "duplicate" | "fraudulent" | "requested_by_customer" | "abandoned")
        {
            return invalid(
                None,
                &format!("Invalid cancellation_reason: {r}"),
                Some("cancellation_reason"),
            );
        }
        if !matches!(
            pi.status,
            "requires_payment_method" | "requires_capture" | "requires_confirmation" | "requires_action" | "processing"
        ) {
            return unexpected_state(&format!(
                "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
                pi.status
            ));
        }
        if pi.status == "requires_capture"
            && let Some(ch) = pi
                .latest_charge
                .as_ref()
                .and_then(|c| self.charges.iter_mut().find(|x| &x.id == c))
        {
            // The hold is released.
            ch.amount_refunded = ch.amount;
        }
        if let Some(x) = self.intent_mut(id) {
            x.status = "canceled";
            x.canceled_at = Some(now_unix());
            x.cancellation_reason = reason.map(str::to_owned);
            x.amount_capturable = 0;
        }
        self.stats.cancellations += 1;
        let obj = self.intent_json(id, &[]);
        self.emit("payment_intent.canceled", obj);
        (200, self.intent_json(id, &expand_list(p)))
    }

    fn create_session(&mut self, p: &Value) -> Answer {
        if let Err(a) = check_params(p, SESSION_CREATE) {
            return a;
        }
        match str_param(p, "mode") {
            None => return missing("mode"),
            Some("payment") => {}
            Some(m @ ("setup" | "subscription")) => {
                return invalid(
                    None,
                    &format!("The simulator supports mode=payment only, not {m}."),
                    Some("mode"),
                );
            }
            Some(m) => return invalid(None, &format!("Invalid mode: {m}"), Some("mode")),
        }
        let Some(success_url) = str_param(p, "success_url") else {
            return missing("success_url");
        };
        let Some(Value::Array(items)) = p.get("line_items") else {
            return missing("line_items");
        };
        let mut total: i64 = 0;
        let mut currency: Option<String> = None;
        for (i, item) in items.iter().enumerate() {
            let param = |f: &str| format!("line_items[{i}][{f}]");
            if let Some(price) = str_param(item, "price") {
                return no_such("price", price, &param("price"));
            }
            let Some(pd) = item.get("price_data") else {
                return missing(&param("price_data"));
            };
            let c = match currency_param(pd, "currency") {
                Ok(c) => c,
                Err(_) => return missing(&format!("line_items[{i}][price_data][currency]")),
            };
            if currency.as_ref().is_some_and(|cur| cur != &c) {
                return invalid(
                    None,
                    "All line items must use the same currency.",
                    Some(&param("price_data")),
                );
            }
            let unit = match int_param(pd, "unit_amount") {
                Ok(Some(u)) if u >= 0 => u,
                Ok(_) => return missing(&format!("line_items[{i}][price_data][unit_amount]")),
                Err(a) => return a,
            };
            if pd.get("product_data").and_then(|d| str_param(d, "name")).is_none() && str_param(pd, "product").is_none()
            {
                return missing(&format!("line_items[{i}][price_data][product_data][name]"));
            }
            let qty = match int_param(item, "quantity") {
                Ok(Some(q)) if q >= 1 => q,
                Ok(_) => return missing(&param("quantity")),
                Err(a) => return a,
            };
            total = match unit.checked_mul(qty).and_then(|x| total.checked_add(x)) {
                Some(t) => t,
                None => return invalid(Some("amount_too_large"), "The total is too large.", Some("line_items")),
            };
            currency = Some(c);
        }
        let Some(currency) = currency else {
            return missing("line_items");
        };
        if let Err(a) = check_amount(total, &currency, "line_items") {
            return a;
        }
        let metadata = match metadata_param(p, "metadata") {
            Ok(m) => m,
            Err(a) => return a,
        };
        let pid = p.get("payment_intent_data").cloned().unwrap_or(Value::Null);
        let pi_metadata = match metadata_param(&pid, "metadata") {
            Ok(m) => m,
            Err(a) => return a,
        };
        let capture_method = str_param(&pid, "capture_method").unwrap_or("automatic").to_owned();
        let now = now_unix();
        let id = format!("cs_test_a1{}", alnum(56));
        self.sessions.push(Session {
            id: id.clone(),
            status: "open",
            payment_status: "unpaid",
            amount_total: total,
            currency,
            success_url: success_url.to_owned(),
            cancel_url: str_param(p, "cancel_url").map(str::to_owned),
            metadata,
            pi_capture_method: capture_method,
            pi_description: str_param(&pid, "description").map(str::to_owned),
            pi_metadata,
            payment_intent: None,
            client_reference_id: str_param(p, "client_reference_id").map(str::to_owned),
            customer_email: str_param(p, "customer_email").map(str::to_owned),
            created: now,
            expires_at: match int_param(p, "expires_at") {
                Ok(Some(t)) => t,
                Ok(None) => now + 24 * 3600,
                Err(a) => return a,
            },
        });
        self.stats.payments_created += 1;
        (200, self.session_json(&id, &expand_list(p)))
    }

    fn session_json(&self, id: &str, expand: &[String]) -> Value {
        self.sessions
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.to_json(self, expand))
            .unwrap_or(Value::Null)
    }

    fn expire_session(&mut self, id: &str) -> Answer {
        let Some(s) = self.sessions.iter_mut().find(|s| s.id == id) else {
            return no_such("checkout.session", id, "session");
        };
        if s.status != "open" {
            return invalid(
                None,
                &format!(
                    "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".",
                    s.status
                ),
                None,
            );
        }
        s.status = "expired";
        self.stats.cancellations += 1;
        let obj = self.session_json(id, &[]);
        self.emit("checkout.session.expired", obj.clone());
        (200, obj)
    }

    /// The customer pays an open session with `payment_method` on the hosted page.
    fn pay_session(&mut self, id: &str, payment_method: &str) -> Answer {
        let Some(s) = self.sessions.iter().find(|s| s.id == id).cloned() else {
            return no_such("checkout.session", id, "session");
        };
        if s.status != "open" {
            return invalid(None, &format!("This Checkout Session is {}.", s.status), None);
        }
        let pi_id = match &s.payment_intent {
            Some(pi) => pi.clone(),
            None => {
                let pi = self.new_intent(s.amount_total, &s.currency, &s.pi_capture_method);
                if let Some(x) = self.intent_mut(&pi) {
                    x.description = s.pi_description.clone();
                    x.metadata = s.pi_metadata.clone();
                    x.receipt_email = s.customer_email.clone();
                }
                if let Some(x) = self.sessions.iter_mut().find(|x| x.id == id) {
                    x.payment_intent = Some(pi.clone());
                }
                pi
            }
        };
        let answer = self.confirm(&pi_id, Some(payment_method), &[]);
        if answer.0 != 200 {
            return answer;
        }
        let paid = self.intent(&pi_id).is_some_and(|p| p.status == "succeeded");
        if let Some(x) = self.sessions.iter_mut().find(|x| x.id == id) {
            x.status = "complete";
            // A held (manual-capture) payment is not paid yet [?].
            x.payment_status = if paid { "paid" } else { "unpaid" };
        }
        let obj = self.session_json(id, &[]);
        self.emit("checkout.session.completed", obj.clone());
        (200, obj)
    }

    fn create_refund(&mut self, p: &Value) -> Answer {
        if let Err(a) = check_params(p, REFUND_CREATE) {
            return a;
        }
        let pi_id = match (str_param(p, "payment_intent"), str_param(p, "charge")) {
            (Some(pi), _) => pi.to_owned(),
            (None, Some(ch)) => match self.charges.iter().find(|c| c.id == ch) {
                Some(c) => c.payment_intent.clone(),
                None => return no_such("charge", ch, "charge"),
            },
            (None, None) => {
                return invalid(
                    None,
                    "One of the following params should be provided for this request: payment_intent or charge.",
                    None,
                );
            }
        };
        let Some(pi) = self.intent(&pi_id).cloned() else {
            return no_such("payment_intent", &pi_id, "payment_intent");
        };
        let charge = pi
            .latest_charge
            .as_ref()
            .and_then(|c| {
                self.charges
                    .iter()
                    .find(|x| &x.id == c && x.status == "succeeded" && x.captured)
            })
            .cloned();
        let Some(charge) = charge.filter(|_| pi.status == "succeeded") else {
            return invalid(
                None,
                "This PaymentIntent does not have a successful charge to refund.",
                Some("payment_intent"),
            );
        };
        let left = charge.amount_captured - charge.amount_refunded;
        if left <= 0 {
            return invalid(
                Some("charge_already_refunded"),
                &format!("Charge {} has already been refunded.", charge.id),
                None,
            );
        }
        let amount = match int_param(p, "amount") {
            Ok(Some(a)) if a <= 0 => {
                return invalid(
                    Some("parameter_invalid_integer"),
                    "Amount must be a positive integer.",
                    Some("amount"),
                );
            }
            Ok(Some(a)) => a,
            Ok(None) => left,
            Err(a) => return a,
        };
        if amount > left {
            return invalid(
                Some("amount_too_large"),
                &format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"),
                Some("amount"),
            );
        }
        let reason = str_param(p, "reason").map(str::to_owned);
        if let Some(r) = &reason
            && !matches!(r.as_str(), "duplicate" | "fraudulent" | "requested_by_customer")
        {
            return invalid(
                None,
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                Some("reason"),
            );
        }
        let metadata = match metadata_param(p, "metadata") {
            Ok(m) => m,
            Err(a) => return a,
        };
        if let Some(c) = self.charges.iter_mut().find(|c| c.id == charge.id) {
            c.amount_refunded += amount;
        }
        let r = SimRefund {
            id: format!("re_3{}", alnum(23)),
            amount,
            currency: charge.currency.clone(),
            charge: charge.id.clone(),
            payment_intent: pi_id,
            reason,
            created: now_unix(),
            metadata,
        };
        let json = r.to_json();
        self.refunds.push(r);
        self.stats.refunds_created += 1;
        self.emit("refund.created", json.clone());
        let ch = self
            .charges
            .iter()
            .find(|c| c.id == charge.id)
            .map(Charge::to_json)
            .unwrap_or(Value::Null);
        self.emit("charge.refunded", ch);
        (200, json)
    }

    fn list_refunds(&self, query: &[(String, String)]) -> Answer {
        let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let limit = match q("limit").map(str::parse::<usize>) {
            None => 10,
            Some(Ok(n)) if (1..=100).contains(&n) => n,
            Some(_) => return invalid(None, "Invalid limit: must be between 1 and 100", Some("limit")),
        };
        let all: Vec<&SimRefund> = self
            .refunds
            .iter()
            .rev()
            .filter(|r| q("payment_intent").is_none_or(|p| r.payment_intent == p))
            .filter(|r| q("charge").is_none_or(|c| r.charge == c))
            .collect();
        let start = match q("starting_after") {
            None => 0,
            Some(after) => match all.iter().position(|r| r.id == after) {
                Some(i) => i + 1,
                None => return no_such("refund", after, "starting_after"),
            },
        };
        let page: Vec<Value> = all.iter().skip(start).take(limit).map(|r| r.to_json()).collect();
        (
            200,
            json!({"object": "list", "data": page, "has_more": start + limit < all.len(), "url": "/v1/refunds"}),
        )
    }
}

fn respond((status, body): Answer, request_id: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("request-id", request_id)
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

fn handle(state: &Mutex<State>, req: &Request) -> ResponseTemplate {
    let Ok(mut st) = state.lock() else {
        return ResponseTemplate::new(500);
    };
    st.stats.requests += 1;
    let request_id = format!("req_{}", alnum(14));
    let path = req.url.path().to_owned();
    let query: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();

    // The hosted Checkout page: the customer pays with a test card and goes to success_url.
    if let Some(id) = path.strip_prefix("/c/pay/") {
        let success = st.sessions.iter().find(|s| s.id == id).map(|s| s.success_url.clone());
        st.current_request = None;
        let (status, _) = st.pay_session(id, "pm_card_visa");
        return match (status, success) {
            (200, Some(url)) => {
                ResponseTemplate::new(303).insert_header("location", url.replace("{CHECKOUT_SESSION_ID}", id).as_str())
            }
            _ => ResponseTemplate::new(200).set_body_string("This Checkout Session is no longer available."),
        };
    }
    if !path.starts_with("/v1/") {
        return respond(no_such("path", &path, "path"), &request_id);
    }
    if let Some(a) = auth_error(&st, &req.headers) {
        return respond(a, &request_id);
    }
    let segs: Vec<String> = path
        .trim_start_matches("/v1/")
        .trim_end_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match req.method.as_str() {
        "GET" => {
            let params = form::decode(req.url.query().unwrap_or("").as_bytes()).unwrap_or(Value::Null);
            let expand = expand_list(&params);
            let answer = match segs.as_slice() {
                ["payment_intents", id] => match st.intent(id) {
                    Some(i) => (200, i.to_json(&st, &expand)),
                    None => no_such("payment_intent", id, "intent"),
                },
                ["checkout", "sessions", id] => match st.sessions.iter().find(|s| s.id == *id) {
                    Some(s) => (200, s.to_json(&st, &expand)),
                    None => no_such("checkout.session", id, "session"),
                },
                ["charges", id] => match st.charges.iter().find(|c| c.id == *id) {
                    Some(c) => (200, c.to_json()),
                    None => no_such("charge", id, "charge"),
                },
                ["refunds"] => st.list_refunds(&query),
                ["refunds", id] => match st.refunds.iter().find(|r| r.id == *id) {
                    Some(r) => (200, r.to_json()),
                    None => no_such("refund", id, "id"),
                },
                ["events", id] => match st
                    .events
                    .iter()
                    .find(|e| e.get("id").and_then(Value::as_str) == Some(*id))
                {
                    Some(e) => (200, e.clone()),
                    None => no_such("event", id, "id"),
                },
                _ => no_such("path", &path, "path"),
            };
            respond(answer, &request_id)
        }
        "POST" => {
            let params = match form::decode(&req.body) {
                Ok(p) => p,
                Err(m) => return respond(invalid(None, &m, None), &request_id),
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
                    );
                }
                match st.idem.check(k, &path, &params) {
                    IdemCheck::Replay(s) => {
                        st.stats.replays += 1;
                        let mut t = ResponseTemplate::new(s.status)
                            .insert_header("request-id", request_id.as_str())
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
                        );
                    }
                    IdemCheck::New => {}
                }
            }
            st.current_request = Some((request_id.clone(), key.clone()));
            let expand = expand_list(&params);
            let answer = match segs.as_slice() {
                ["payment_intents"] => st.create_intent(&params),
                ["payment_intents", id, "confirm"] => match check_params(&params, PI_CONFIRM) {
                    Err(a) => a,
                    Ok(()) => st.confirm(id, str_param(&params, "payment_method"), &expand),
                },
                ["payment_intents", id, "capture"] => st.capture(id, &params),
                ["payment_intents", id, "cancel"] => st.cancel(id, &params),
                ["checkout", "sessions"] => st.create_session(&params),
                ["checkout", "sessions", id, "expire"] => match check_params(&params, SESSION_EXPIRE) {
                    Err(a) => a,
                    Ok(()) => st.expire_session(id),
                },
                ["refunds"] => st.create_refund(&params),
                _ => no_such("path", &path, "path"),
            };
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
            if let Some(k) = &key
                && (executed || answer.0 >= 500)
            {
                st.idem.store(k, &path, params, answer.0, answer.1.to_string());
            }
            let t = respond(answer.clone(), &request_id);
            if answer.0 >= 500 {
                t.insert_header("stripe-should-retry", "false")
            } else {
                t
            }
        }
        _ => respond(no_such("path", &path, "path"), &request_id),
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

    /// A PaymentIntent as the API shows it now.
    pub fn payment_intent(&self, id: &str) -> Option<Value> {
        let st = self.state.lock().ok()?;
        st.intent(id).map(|i| i.to_json(&st, &[]))
    }

    /// A Checkout Session as the API shows it now.
    pub fn session(&self, id: &str) -> Option<Value> {
        let st = self.state.lock().ok()?;
        st.sessions.iter().find(|s| s.id == id).map(|s| s.to_json(&st, &[]))
    }

    /// Counters of what the simulator did.
    pub fn stats(&self) -> SimStats {
        self.state.lock().map(|s| s.stats.clone()).unwrap_or_default()
    }

    fn customer(&self, id: &str, payment_method: &str) -> Result<()> {
        self.with_state(|st| {
            st.current_request = None;
            let answer = if id.starts_with("cs_") {
                st.pay_session(id, payment_method)
            } else {
                st.confirm(id, Some(payment_method), &[])
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

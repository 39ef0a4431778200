//! The simulator's payments and refunds, and how the API shows them.
//!
//! Fields as YooKassa's OpenAPI specification has them (yookassa.ru/developers/using-api/
//! openapi-specification; schemas `Payment`, `Refund`, `PaymentMethod`, `AuthorizationDetails`): the
//! required ones always (`id`, `status`, `amount`, `recipient{account_id, gateway_id}`, `created_at`,
//! `test`, `paid`, `refundable` for a payment; `id`, `payment_id`, `status`, `created_at`, `amount`
//! for a refund), the optional ones when they apply. YooKassa leaves an optional field out rather than
//! send `null`.

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use switchboard_payments::Money;
use switchboard_payments::simkit::hexs;

/// YooKassa's fee in the simulator, in tenths of a percent (3.5 %). The real fee depends on the shop's
/// contract and the payment method; the simulator charges one plausible rate so `income_amount` is
/// below `amount`, as it is in production.
const FEE_PER_MILLE: i64 = 35;

/// The simulated shop's sub-account (`recipient.gateway_id`).
const GATEWAY_ID: &str = "2520642";

/// An API answer: status and JSON.
pub(super) type Answer = (u16, Value);

pub(super) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn uuid_like(kind: &str) -> String {
    // YooKassa ids look like 2f6a1c3b-000f-5000-8000-1b2c39026a5c (payment) / …-0015-… (refund).
    format!(
        "{}-{kind}-5000-{}-{}",
        hexs(8),
        ["8000", "9000", "a000", "b000"][switchboard_core::random::below(4) as usize],
        hexs(12)
    )
}

/// YooKassa's error envelope: `{"type": "error", "id", "code", "description", "parameter"}`.
pub(super) fn error(status: u16, code: Option<&str>, description: &str, parameter: Option<&str>) -> Answer {
    let mut e = json!({
        "type": "error",
        "id": uuid_like("0000"),
        "description": description,
    });
    if let Some(m) = e.as_object_mut() {
        if let Some(c) = code {
            m.insert("code".into(), json!(c));
        }
        if let Some(p) = parameter {
            m.insert("parameter".into(), json!(p));
        }
    }
    (status, e)
}

pub(super) fn invalid(description: &str, parameter: &str) -> Answer {
    error(400, Some("invalid_request"), description, Some(parameter))
}

pub(super) fn amount_json(m: Money) -> Value {
    json!({"value": m.to_decimal_string(), "currency": m.currency().code()})
}

#[derive(Debug, Clone)]
pub(super) struct SimPayment {
    pub id: String,
    pub status: &'static str,
    pub paid: bool,
    pub amount: Money,
    pub capture: bool,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub confirmation: Option<Value>,
    pub created_at: String,
    pub captured_at: Option<String>,
    pub expires_at: Option<String>,
    pub payment_method: Option<Value>,
    pub save_payment_method: bool,
    pub cancellation: Option<(&'static str, &'static str)>,
    pub refunded: Money,
    pub return_url: Option<String>,
    pub merchant_customer_id: Option<String>,
    pub receipt: bool,
    /// The card's authorization (RRN and auth code), once the customer paid by card.
    pub authorization: Option<(String, String)>,
}

impl SimPayment {
    pub(super) fn to_json(&self, shop_id: &str) -> Value {
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
        if let Some((rrn, auth_code)) = &self.authorization {
            o.insert(
                "authorization_details".into(),
                json!({"rrn": rrn, "auth_code": auth_code, "three_d_secure": {"applied": false}}),
            );
        }
        o.insert(
            "recipient".into(),
            json!({"account_id": shop_id, "gateway_id": GATEWAY_ID}),
        );
        let refundable = self.status == "succeeded" && self.refunded.minor() < self.amount.minor();
        o.insert("refundable".into(), json!(refundable));
        if self.refunded.is_positive() {
            o.insert("refunded_amount".into(), amount_json(self.refunded));
        }
        if self.receipt {
            let state = if self.status == "succeeded" {
                "succeeded"
            } else {
                "pending"
            };
            o.insert("receipt_registration".into(), json!(state));
        }
        if let Some(c) = &self.merchant_customer_id {
            o.insert("merchant_customer_id".into(), json!(c));
        }
        o.insert("test".into(), json!(true));
        Value::Object(o)
    }
}

#[derive(Debug, Clone)]
pub(super) struct SimRefund {
    pub id: String,
    pub payment_id: String,
    pub amount: Money,
    pub description: Option<String>,
    pub created_at: String,
    pub metadata: Map<String, Value>,
    /// The card refund's RRN, for a payment made by card.
    pub rrn: Option<String>,
}

impl SimRefund {
    pub(super) fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "payment_id": self.payment_id,
            "status": "succeeded",
            "created_at": self.created_at,
            "amount": amount_json(self.amount),
        });
        if let Some(m) = v.as_object_mut() {
            if let Some(d) = &self.description {
                m.insert("description".into(), json!(d));
            }
            if !self.metadata.is_empty() {
                m.insert("metadata".into(), Value::Object(self.metadata.clone()));
            }
            if let Some(rrn) = &self.rrn {
                m.insert("refund_authorization_details".into(), json!({"rrn": rrn}));
            }
        }
        v
    }
}

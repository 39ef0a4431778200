//! Stripe API types, exactly as the wire has them.
//!
//! Requests are form-encoded with bracket nesting (each request type's `to_form`); answers are JSON.
//! Amounts are integers in Stripe's minor unit with a lower-case currency ([`Money::from_stripe_amount`]
//! converts them). Every answer type keeps the fields it does not name in `extra`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{Result, SecretString};

use super::form::Form;
use crate::money::Money;

/// A field Stripe answers either as an id or, when asked with `expand[]`, as the object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    /// Just the id.
    Id(String),
    /// The whole object.
    Object(Box<T>),
}

impl<T: HasId> Expandable<T> {
    /// The id either way.
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Object(o) => o.id(),
        }
    }

    /// The object, when expanded.
    pub fn object(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(o) => Some(o),
        }
    }
}

/// Objects with an id.
pub trait HasId {
    /// The id.
    fn id(&self) -> &str;
}

/// `POST /v1/payment_intents`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaymentIntentCreate {
    /// Amount in Stripe's minor unit.
    pub amount: i64,
    /// Lower-case ISO code.
    pub currency: String,
    /// `automatic_payment_methods[enabled]`.
    pub automatic_payment_methods: Option<bool>,
    /// `automatic_payment_methods[allow_redirects]` (`always` / `never`).
    pub allow_redirects: Option<String>,
    /// `automatic` / `automatic_async` / `manual`.
    pub capture_method: Option<String>,
    /// Confirm on creation.
    pub confirm: Option<bool>,
    /// The payment method to charge (`pm_…`).
    pub payment_method: Option<String>,
    /// Where a redirect-based method comes back.
    pub return_url: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Where the receipt goes.
    pub receipt_email: Option<String>,
    /// The customer (`cus_…`).
    pub customer: Option<String>,
    /// Your key/value data.
    pub metadata: BTreeMap<String, String>,
    /// Fields to expand in the answer.
    pub expand: Vec<String>,
    /// Other parameters, names already bracketed.
    pub extra: Vec<(String, String)>,
}

impl PaymentIntentCreate {
    /// An intent for `amount` with nothing else set.
    pub fn new(amount: Money) -> Result<Self> {
        Ok(PaymentIntentCreate {
            amount: amount.to_stripe_amount()?,
            currency: amount.currency().lowercase_code(),
            automatic_payment_methods: None,
            allow_redirects: None,
            capture_method: None,
            confirm: None,
            payment_method: None,
            return_url: None,
            description: None,
            receipt_email: None,
            customer: None,
            metadata: BTreeMap::new(),
            expand: Vec::new(),
            extra: Vec::new(),
        })
    }

    /// The form body.
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        f.push("amount", self.amount).push("currency", &self.currency);
        f.push_opt("automatic_payment_methods[enabled]", self.automatic_payment_methods);
        f.push_opt(
            "automatic_payment_methods[allow_redirects]",
            self.allow_redirects.as_ref(),
        );
        f.push_opt("capture_method", self.capture_method.as_ref());
        f.push_opt("confirm", self.confirm);
        f.push_opt("payment_method", self.payment_method.as_ref());
        f.push_opt("return_url", self.return_url.as_ref());
        f.push_opt("description", self.description.as_ref());
        f.push_opt("receipt_email", self.receipt_email.as_ref());
        f.push_opt("customer", self.customer.as_ref());
        f.push_map("metadata", &self.metadata);
        f.push_list("expand", &self.expand);
        f.extend(&self.extra);
        f
    }
}

/// `POST /v1/checkout/sessions` (mode `payment`, one line item built from an amount).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckoutSessionCreate {
    /// `success_url`.
    pub success_url: String,
    /// `cancel_url`.
    pub cancel_url: Option<String>,
    /// Unit amount in Stripe's minor unit.
    pub unit_amount: i64,
    /// Lower-case ISO code.
    pub currency: String,
    /// The product name shown on the page.
    pub product_name: String,
    /// `payment_intent_data[capture_method]`.
    pub capture_method: Option<String>,
    /// `payment_intent_data[description]`.
    pub description: Option<String>,
    /// `customer_email`.
    pub customer_email: Option<String>,
    /// `client_reference_id`.
    pub client_reference_id: Option<String>,
    /// `metadata` of the session, also copied to `payment_intent_data[metadata]` so the PaymentIntent
    /// carries it too.
    pub metadata: BTreeMap<String, String>,
    /// Other parameters, names already bracketed.
    pub extra: Vec<(String, String)>,
}

impl CheckoutSessionCreate {
    /// A session charging `amount` for one `product_name`.
    pub fn new(amount: Money, product_name: impl Into<String>, success_url: impl Into<String>) -> Result<Self> {
        Ok(CheckoutSessionCreate {
            success_url: success_url.into(),
            cancel_url: None,
            unit_amount: amount.to_stripe_amount()?,
            currency: amount.currency().lowercase_code(),
            product_name: product_name.into(),
            capture_method: None,
            description: None,
            customer_email: None,
            client_reference_id: None,
            metadata: BTreeMap::new(),
            extra: Vec::new(),
        })
    }

    /// The form body.
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        f.push("mode", "payment").push("success_url", &self.success_url);
        f.push_opt("cancel_url", self.cancel_url.as_ref());
        f.push("line_items[0][price_data][currency]", &self.currency)
            .push("line_items[0][price_data][unit_amount]", self.unit_amount)
            .push("line_items[0][price_data][product_data][name]", &self.product_name)
            .push("line_items[0][quantity]", 1);
        f.push_opt("payment_intent_data[capture_method]", self.capture_method.as_ref());
        f.push_opt("payment_intent_data[description]", self.description.as_ref());
        f.push_map("payment_intent_data[metadata]", &self.metadata);
        f.push_opt("customer_email", self.customer_email.as_ref());
        f.push_opt("client_reference_id", self.client_reference_id.as_ref());
        f.push_map("metadata", &self.metadata);
        f.extend(&self.extra);
        f
    }
}

/// `POST /v1/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RefundCreate {
    /// The PaymentIntent to refund.
    pub payment_intent: Option<String>,
    /// Or the charge.
    pub charge: Option<String>,
    /// A partial amount; absent refunds what is left.
    pub amount: Option<i64>,
    /// `duplicate`, `fraudulent`, `requested_by_customer`.
    pub reason: Option<String>,
    /// Your key/value data.
    pub metadata: BTreeMap<String, String>,
}

impl RefundCreate {
    /// A refund of a PaymentIntent.
    pub fn of_payment_intent(id: impl Into<String>) -> Self {
        RefundCreate {
            payment_intent: Some(id.into()),
            ..Self::default()
        }
    }

    /// The form body.
    pub fn to_form(&self) -> Form {
        let mut f = Form::new();
        f.push_opt("payment_intent", self.payment_intent.as_ref());
        f.push_opt("charge", self.charge.as_ref());
        f.push_opt("amount", self.amount);
        f.push_opt("reason", self.reason.as_ref());
        f.push_map("metadata", &self.metadata);
        f
    }
}

/// A PaymentIntent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentIntent {
    /// `pi_…`.
    pub id: String,
    /// The amount asked for.
    pub amount: i64,
    /// How much may still be captured.
    #[serde(default)]
    pub amount_capturable: i64,
    /// How much was received.
    #[serde(default)]
    pub amount_received: i64,
    /// `automatic`, `automatic_async`, `manual`.
    #[serde(default)]
    pub capture_method: Option<String>,
    /// For confirming in the browser. Never serialized back out.
    #[serde(default, skip_serializing)]
    pub client_secret: Option<SecretString>,
    /// Lower-case ISO code.
    pub currency: String,
    /// `requires_payment_method`, `requires_confirmation`, `requires_action`, `processing`,
    /// `requires_capture`, `canceled`, `succeeded`.
    pub status: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Your metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The latest charge (id, or the object with `expand[]=latest_charge`).
    #[serde(default)]
    pub latest_charge: Option<Expandable<Charge>>,
    /// Why the last attempt failed.
    #[serde(default)]
    pub last_payment_error: Option<Value>,
    /// Unix creation time.
    #[serde(default)]
    pub created: Option<i64>,
    /// Why it was canceled.
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HasId for PaymentIntent {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A Charge (what a PaymentIntent's confirmation creates).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Charge {
    /// `ch_…`.
    pub id: String,
    /// The amount.
    pub amount: i64,
    /// How much was captured.
    #[serde(default)]
    pub amount_captured: i64,
    /// How much was refunded.
    #[serde(default)]
    pub amount_refunded: i64,
    /// Lower-case ISO code.
    pub currency: String,
    /// Whether it is fully refunded.
    #[serde(default)]
    pub refunded: bool,
    /// `succeeded`, `pending`, `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// The PaymentIntent.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl HasId for Charge {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A Checkout Session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// The hosted page to send the customer to (while open).
    #[serde(default)]
    pub url: Option<String>,
    /// `open`, `complete`, `expired`.
    #[serde(default)]
    pub status: Option<String>,
    /// `paid`, `unpaid`, `no_payment_required`.
    #[serde(default)]
    pub payment_status: Option<String>,
    /// `payment`, `setup`, `subscription`.
    #[serde(default)]
    pub mode: Option<String>,
    /// The total.
    #[serde(default)]
    pub amount_total: Option<i64>,
    /// Lower-case ISO code.
    #[serde(default)]
    pub currency: Option<String>,
    /// The PaymentIntent (created when the customer pays; id, or object with `expand[]`).
    #[serde(default)]
    pub payment_intent: Option<Expandable<PaymentIntent>>,
    /// Your metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Your reference.
    #[serde(default)]
    pub client_reference_id: Option<String>,
    /// Unix creation time.
    #[serde(default)]
    pub created: Option<i64>,
    /// Unix expiry time.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Refund.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// How much.
    pub amount: i64,
    /// Lower-case ISO code.
    pub currency: String,
    /// The PaymentIntent.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// The charge.
    #[serde(default)]
    pub charge: Option<String>,
    /// `duplicate`, `fraudulent`, `requested_by_customer`, …
    #[serde(default)]
    pub reason: Option<String>,
    /// `pending`, `requires_action`, `succeeded`, `failed`, `canceled`.
    #[serde(default)]
    pub status: Option<String>,
    /// Unix creation time.
    #[serde(default)]
    pub created: Option<i64>,
    /// Your metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page of a list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct List<T> {
    /// The items, newest first.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Whether more pages follow (pass the last id as `starting_after`).
    #[serde(default)]
    pub has_more: bool,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An Event (what a webhook carries).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// `evt_…`: the key to deduplicate on.
    pub id: String,
    /// `payment_intent.succeeded`, `checkout.session.completed`, `charge.refunded`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix creation time.
    #[serde(default)]
    pub created: Option<i64>,
    /// The object and what changed.
    pub data: EventData,
    /// Live or test mode.
    #[serde(default)]
    pub livemode: bool,
    /// Everything else (`api_version`, `request`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An event's `data`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventData {
    /// The object after the change.
    pub object: Value,
    /// The fields that changed, with their old values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<Value>,
}

/// The error envelope: `{"error":{"type":…,"code":…,"message":…,"param":…}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ApiError,
}

/// An API error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// `api_error`, `card_error`, `idempotency_error`, `invalid_request_error`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `card_declined`, `parameter_missing`, `resource_missing`, …
    #[serde(default)]
    pub code: Option<String>,
    /// The issuer's reason for a card decline (`insufficient_funds`).
    #[serde(default)]
    pub decline_code: Option<String>,
    /// The human text.
    #[serde(default)]
    pub message: Option<String>,
    /// The parameter at fault.
    #[serde(default)]
    pub param: Option<String>,
    /// Everything else (`doc_url`, `payment_intent`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

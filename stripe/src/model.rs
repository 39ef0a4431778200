//! Stripe API types, exactly as the wire has them.
//!
//! Requests are form-encoded with bracket nesting (each request type's `to_form`); answers are JSON.
//! Amounts are integers in Stripe's minor unit with a lower-case currency ([`Money::from_stripe_amount`]
//! converts them). Every answer type keeps the fields it does not name in `extra`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{Result, SecretString};
use switchboard_payments::Money;

use crate::form::Form;

/// A Stripe enum on the wire: the documented words as variants, and any word Stripe adds later kept
/// as `Other` (Stripe's enums are open: new values appear on old API versions too), so a new value
/// never makes an answer undecodable.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $word:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vm])* $variant,)*
            /// A word this crate does not know, as Stripe sent it.
            Other(String),
        }

        impl $name {
            /// The word on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $word,)*
                    $name::Other(s) => s,
                }
            }

            /// The value a wire word stands for.
            pub fn from_word(word: &str) -> Self {
                match word {
                    $($word => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                Ok($name::from_word(&String::deserialize(d)?))
            }
        }
    };
}

mod next_action;
pub use next_action::{NextAction, NextActionKind, RedirectToUrl};

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
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
    pub metadata: BTreeMap<String, String>,
    /// The latest charge (id, or the object with `expand[]=latest_charge`). Present from API version
    /// 2022-11-15 on; older versions answer a `charges` list instead (kept in `extra`), which is why the
    /// client pins a [`Stripe-Version`](super::config::DEFAULT_STRIPE_VERSION).
    #[serde(default)]
    pub latest_charge: Option<Expandable<Charge>>,
    /// Why the last payment attempt failed (a declined card: `card_error` with `decline_code`); cleared
    /// when an attempt succeeds.
    #[serde(default)]
    pub last_payment_error: Option<ApiError>,
    /// What the customer must do next (`requires_action`): 3-D Secure, a voucher, a QR code, …
    #[serde(default)]
    pub next_action: Option<NextAction>,
    /// Unix creation time.
    #[serde(default)]
    pub created: Option<i64>,
    /// Unix time it was canceled.
    #[serde(default)]
    pub canceled_at: Option<i64>,
    /// Why it was canceled.
    #[serde(default)]
    pub cancellation_reason: Option<CancellationReason>,
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
    /// Your metadata (`null` in Stripe's reference reads as empty).
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
    pub metadata: BTreeMap<String, String>,
    /// Your reference.
    #[serde(default)]
    pub client_reference_id: Option<String>,
    /// Who paid, as the customer entered it on the page (`null` until then, unless you passed an email).
    #[serde(default)]
    pub customer_details: Option<CustomerDetails>,
    /// Unix creation time.
    #[serde(default)]
    pub created: Option<i64>,
    /// Unix time the session expires if unpaid (always present in Stripe's answers).
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
    /// Why a `failed` refund failed.
    #[serde(default)]
    pub failure_reason: Option<RefundFailureReason>,
    /// Unix creation time.
    #[serde(default)]
    pub created: Option<i64>,
    /// Your metadata (`null` in Stripe's reference reads as empty).
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
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
    /// The failed charge (`ch_…`) of a card error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge: Option<String>,
    /// The payment method type that failed (`card`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_type: Option<String>,
    /// The card network's advice code (`try_again_later`, `do_not_try_again`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice_code: Option<String>,
    /// The card network's own decline code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_decline_code: Option<String>,
    /// The page on Stripe's site about this error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
    /// Everything else (`payment_intent`, `request_log_url`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

wire_enum! {
    /// Why a PaymentIntent was canceled (Stripe API reference, The PaymentIntent object,
    /// `cancellation_reason`).
    CancellationReason {
        /// The customer abandoned it (you said so on cancel).
        Abandoned = "abandoned",
        /// Stripe canceled it (an uncaptured authorization expired).
        Automatic = "automatic",
        /// A duplicate (you said so on cancel).
        Duplicate = "duplicate",
        /// It expired.
        Expired = "expired",
        /// Its invoice could not be paid.
        FailedInvoice = "failed_invoice",
        /// Fraud (you said so on cancel).
        Fraudulent = "fraudulent",
        /// The customer asked (you said so on cancel).
        RequestedByCustomer = "requested_by_customer",
        /// Its invoice was voided.
        VoidInvoice = "void_invoice",
    }
}

wire_enum! {
    /// Why a Refund failed (Stripe API reference, The Refund object, `failure_reason`).
    RefundFailureReason {
        /// The charge was disputed while the refund was pending.
        ChargeForPendingRefundDisputed = "charge_for_pending_refund_disputed",
        /// The customer's bank declined it.
        Declined = "declined",
        /// The card expired or was canceled.
        ExpiredOrCanceledCard = "expired_or_canceled_card",
        /// Your Stripe balance could not cover it.
        InsufficientFunds = "insufficient_funds",
        /// The card was reported lost or stolen.
        LostOrStolenCard = "lost_or_stolen_card",
        /// You canceled it.
        MerchantRequest = "merchant_request",
        /// Stripe does not know.
        Unknown = "unknown",
    }
}

wire_enum! {
    /// A customer's tax status (`customer_details.tax_exempt`).
    TaxExempt {
        /// Taxed.
        None = "none",
        /// Exempt.
        Exempt = "exempt",
        /// Reverse charge.
        Reverse = "reverse",
    }
}

/// A postal address; every part may be `null`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Address {
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// Two-letter country code (ISO 3166-1 alpha-2).
    #[serde(default)]
    pub country: Option<String>,
    /// Street line 1.
    #[serde(default)]
    pub line1: Option<String>,
    /// Street line 2.
    #[serde(default)]
    pub line2: Option<String>,
    /// ZIP or postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// State, county, province or region.
    #[serde(default)]
    pub state: Option<String>,
}

/// Debug shows the country only: the rest is personal data.
impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Address")
            .field("country", &self.country)
            .finish_non_exhaustive()
    }
}

/// One tax id the customer gave (`customer_details.tax_ids[]`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaxId {
    /// Its type (`eu_vat`, `ru_inn`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// The id.
    #[serde(default)]
    pub value: Option<String>,
}

/// Debug shows the type only.
impl std::fmt::Debug for TaxId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaxId")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The customer as they filled in the Checkout page (Stripe API reference, The Checkout Session
/// object, `customer_details`). Every field is nullable.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerDetails {
    /// Billing address.
    #[serde(default)]
    pub address: Option<Address>,
    /// The business's name, when buying as a business.
    #[serde(default)]
    pub business_name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// The individual's name, when buying as a business.
    #[serde(default)]
    pub individual_name: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// Tax status.
    #[serde(default)]
    pub tax_exempt: Option<TaxExempt>,
    /// Tax ids.
    #[serde(default)]
    pub tax_ids: Option<Vec<TaxId>>,
}

/// Debug says which details are present, never their values (emails, names and phone numbers are
/// personal data).
impl std::fmt::Debug for CustomerDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerDetails")
            .field("address", &self.address)
            .field("business_name", &self.business_name.is_some())
            .field("email", &self.email.is_some())
            .field("individual_name", &self.individual_name.is_some())
            .field("name", &self.name.is_some())
            .field("phone", &self.phone.is_some())
            .field("tax_exempt", &self.tax_exempt)
            .field("tax_ids", &self.tax_ids)
            .finish()
    }
}

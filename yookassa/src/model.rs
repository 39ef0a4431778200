//! YooKassa API v3 types, exactly as the wire has them.
//!
//! Amounts stay wire strings here (`{"value":"1000.00","currency":"RUB"}`); [`Amount::to_money`] turns
//! them into exact [`Money`]. Every response type keeps the fields it does not name in `extra`, so
//! nothing YooKassa sends is lost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{Error, Result};

use switchboard_payments::Money;

/// An amount on the wire: a decimal string and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// The decimal amount, `"1000.00"`.
    pub value: String,
    /// The currency code, `"RUB"`.
    pub currency: String,
}

impl Amount {
    /// The wire form of `money`.
    pub fn from_money(money: Money) -> Amount {
        Amount {
            value: money.to_decimal_string(),
            currency: money.currency().code().to_owned(),
        }
    }

    /// The exact amount of an amount YooKassa sent; a malformed value or an unknown currency is a
    /// `Decode` error (the value came from YooKassa, so it is never the caller's `InvalidInput`, which
    /// would say nothing was sent).
    pub fn to_money(&self) -> Result<Money> {
        Money::parse_with_code(&self.value, &self.currency).map_err(|e| {
            Error::decode(format!(
                "YooKassa sent an amount this library cannot read: {}",
                e.message()
            ))
            .with_source(e)
        })
    }
}

impl From<Money> for Amount {
    fn from(m: Money) -> Amount {
        Amount::from_money(m)
    }
}

/// How the customer confirms a payment (request side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConfirmationRequest {
    /// Send the customer to YooKassa's page, then back to `return_url`.
    Redirect {
        /// Where the customer comes back.
        return_url: String,
        /// Insist on 3-D Secure.
        #[serde(skip_serializing_if = "Option::is_none")]
        enforce: Option<bool>,
        /// Page language (`ru_RU`, `en_US`).
        #[serde(skip_serializing_if = "Option::is_none")]
        locale: Option<String>,
    },
    /// Show YooKassa's widget on your page (answers a `confirmation_token`).
    Embedded {
        /// Widget language.
        #[serde(skip_serializing_if = "Option::is_none")]
        locale: Option<String>,
    },
    /// The customer confirms outside (SMS, bank app).
    External {
        /// Language.
        #[serde(skip_serializing_if = "Option::is_none")]
        locale: Option<String>,
    },
}

/// `POST /v3/payments`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CreatePaymentRequest {
    /// How much.
    pub amount: Amount,
    /// Shown to the customer (at most 128 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How the customer confirms; not needed with a saved `payment_method_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<ConfirmationRequest>,
    /// `true`: captured at once; `false`: held (`waiting_for_capture`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<bool>,
    /// A saved payment method to charge without the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_id: Option<String>,
    /// The method to use (`{"type":"bank_card"}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_data: Option<Value>,
    /// Save the method for later charges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub save_payment_method: Option<bool>,
    /// The customer's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// Your id of the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_customer_id: Option<String>,
    /// A 54-FZ receipt, as YooKassa documents it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Value>,
    /// Your key/value data.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Any other field, sent as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CreatePaymentRequest {
    /// A request for `amount` with nothing else set.
    pub fn new(amount: Amount) -> Self {
        CreatePaymentRequest {
            amount,
            description: None,
            confirmation: None,
            capture: None,
            payment_method_id: None,
            payment_method_data: None,
            save_payment_method: None,
            client_ip: None,
            merchant_customer_id: None,
            receipt: None,
            metadata: BTreeMap::new(),
            extra: Map::new(),
        }
    }
}

/// `POST /v3/payments/{id}/capture`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CaptureRequest {
    /// A partial amount; absent captures everything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// A 54-FZ receipt for the captured amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Value>,
}

impl CaptureRequest {
    /// Captures `amount`, or everything for `None`.
    pub fn new(amount: Option<Amount>) -> Self {
        CaptureRequest { amount, receipt: None }
    }
}

/// `POST /v3/refunds`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CreateRefundRequest {
    /// The payment to refund.
    pub payment_id: String,
    /// How much (YooKassa requires it even for a full refund).
    pub amount: Amount,
    /// A text for the refund.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A 54-FZ receipt for the refund.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Value>,
    /// Your key/value data (at most 16 keys, keys up to 32 and values up to 512 characters).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl CreateRefundRequest {
    /// Refunds `amount` of `payment_id`.
    pub fn new(payment_id: impl Into<String>, amount: Amount) -> Self {
        CreateRefundRequest {
            payment_id: payment_id.into(),
            amount,
            description: None,
            receipt: None,
            metadata: BTreeMap::new(),
        }
    }
}

/// How the payment is confirmed (answer side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Confirmation {
    /// `redirect`, `embedded`, `external`, `qr`, `mobile_application`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where to send the customer (redirect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_url: Option<String>,
    /// The widget token (embedded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_token: Option<String>,
    /// Where the customer comes back (redirect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Who canceled a payment and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CancellationDetails {
    /// Payments: `merchant`, `yoo_money`, `payment_network`; refunds: `yoo_money`, `refund_network`
    /// (YooKassa's OpenAPI specification, `PaymentCancellationDetails` / `RefundCancellationDetails`).
    /// Kept as text, since YooKassa adds values.
    pub party: String,
    /// `canceled_by_merchant`, `expired_on_confirmation`, `insufficient_funds`, `3d_secure_failed`, …
    /// (kept as text, as `party`).
    pub reason: String,
}

/// The method a payment was made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentMethod {
    /// `bank_card`, `yoo_money`, `sbp`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The method's id (charge it again with `payment_method_id` when `saved`).
    #[serde(default)]
    pub id: Option<String>,
    /// Whether it was saved for later charges.
    #[serde(default)]
    pub saved: Option<bool>,
    /// A human title (`Bank card *4444`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Everything else (`card`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A payment object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Payment {
    /// The payment id.
    pub id: String,
    /// `pending`, `waiting_for_capture`, `succeeded`, `canceled`.
    pub status: String,
    /// Whether the customer has paid (held or captured).
    #[serde(default)]
    pub paid: bool,
    /// The amount (after a partial capture, the captured amount).
    pub amount: Amount,
    /// What the shop receives after YooKassa's fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub income_amount: Option<Amount>,
    /// How much was refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_amount: Option<Amount>,
    /// Whether it can be refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refundable: Option<bool>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How the customer confirms (while pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
    /// The method used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<PaymentMethod>,
    /// Why it was canceled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_details: Option<CancellationDetails>,
    /// Your metadata (values are strings or `null`; anything else is kept as JSON).
    #[serde(
        default,
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "switchboard_core::serde_util::null_as_default"
    )]
    pub metadata: Map<String, Value>,
    /// ISO 8601 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// ISO 8601 capture time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// Until when a held payment may be captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Whether this is a test-shop payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<bool>,
    /// Everything else (`recipient`, `receipt_registration`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A refund object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// The refund id.
    pub id: String,
    /// The payment it refunds.
    pub payment_id: String,
    /// `pending`, `succeeded`, `canceled` (YooKassa's OpenAPI specification, `RefundStatus`).
    pub status: String,
    /// How much.
    pub amount: Amount,
    /// ISO 8601 creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Why it was canceled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_details: Option<CancellationDetails>,
    /// Your metadata, as given when the refund was created.
    #[serde(
        default,
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "switchboard_core::serde_util::null_as_default"
    )]
    pub metadata: Map<String, Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page of a list (`GET /v3/payments`, `GET /v3/refunds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct List<T> {
    /// `"list"`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The items.
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Query of a list call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListQuery {
    /// Items per page (1–100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Refunds of this payment only (refund lists).
    pub payment_id: Option<String>,
    /// Objects in this status only.
    pub status: Option<String>,
}

impl ListQuery {
    /// Sets the page size.
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n.clamp(1, 100));
        self
    }

    /// Sets the cursor.
    pub fn cursor(mut self, c: impl Into<String>) -> Self {
        self.cursor = Some(c.into());
        self
    }

    /// Filters by payment.
    pub fn payment_id(mut self, id: impl Into<String>) -> Self {
        self.payment_id = Some(id.into());
        self
    }

    /// Filters by status.
    pub fn status(mut self, s: impl Into<String>) -> Self {
        self.status = Some(s.into());
        self
    }

    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(l) = self.limit {
            q.push(("limit", l.to_string()));
        }
        if let Some(c) = &self.cursor {
            q.push(("cursor", c.clone()));
        }
        if let Some(p) = &self.payment_id {
            q.push(("payment_id", p.clone()));
        }
        if let Some(s) = &self.status {
            q.push(("status", s.clone()));
        }
        q
    }
}

/// The error envelope: `{"type":"error","id":…,"code":…,"description":…,"parameter":…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorBody {
    /// `"error"`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The error's id (quote it to YooKassa support).
    #[serde(default)]
    pub id: Option<String>,
    /// `invalid_request`, `invalid_credentials`, `forbidden`, `not_found`, `too_many_requests`,
    /// `internal_server_error`, `not_supported`.
    #[serde(default)]
    pub code: Option<String>,
    /// The human text.
    #[serde(default)]
    pub description: Option<String>,
    /// The request field at fault (`amount.value`, `Idempotence-Key`).
    #[serde(default)]
    pub parameter: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An HTTP notification: `{"type":"notification","event":"payment.succeeded","object":{…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notification {
    /// `"notification"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `payment.waiting_for_capture`, `payment.succeeded`, `payment.canceled`, `refund.succeeded`, …
    pub event: String,
    /// The object as the notification claims it (not authenticated: re-fetch it).
    pub object: Value,
}

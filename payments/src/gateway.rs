//! The [`PaymentGateway`] trait and the normalised types it speaks.
//!
//! Payments are not messages, so there is no `Transport` here: a gateway creates a payment, looks it
//! up, captures or cancels it, refunds it, and verifies what the provider pushes. Every normalised value
//! keeps the provider's own word beside it (`raw_status`, `raw`), so nothing is lost to the mapping.
//!
//! Every operation that changes something is a POST carrying an [`IdempotencyKey`]: the caller's when
//! given, a fresh one otherwise; retries inside the call reuse it (see [`crate::idempotency`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use switchboard_core::{Error, Event, Handled, PaymentEvent, Result, SecretString, WebhookAnswer, WebhookRequest};

use crate::idempotency::IdempotencyKey;
use crate::money::Money;

/// Where a payment is, normalised across providers. The provider's word is in [`Payment::raw_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentStatus {
    /// Created; waiting for the customer to pay or confirm (YooKassa `pending`; Stripe
    /// `requires_payment_method`, `requires_confirmation`, `requires_action`; an open Checkout Session).
    Pending,
    /// The provider is processing it (Stripe `processing`).
    Processing,
    /// The money is held; capture or cancel it (YooKassa `waiting_for_capture`, Stripe `requires_capture`).
    WaitingForCapture,
    /// Paid and captured (final).
    Succeeded,
    /// Canceled, declined for good or expired (final).
    Canceled,
    /// A status this crate does not know.
    Unknown,
}

impl PaymentStatus {
    /// Whether no further change is expected (refunds aside).
    pub fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Succeeded | PaymentStatus::Canceled)
    }

    /// The status as a snake_case word.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Processing => "processing",
            PaymentStatus::WaitingForCapture => "waiting_for_capture",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Canceled => "canceled",
            PaymentStatus::Unknown => "unknown",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a refund is, normalised. The provider's word is in [`Refund::raw_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefundStatus {
    /// Accepted, not finished yet.
    Pending,
    /// The customer must act (Stripe `requires_action`).
    RequiresAction,
    /// Done (final).
    Succeeded,
    /// It failed (final).
    Failed,
    /// It was canceled (final).
    Canceled,
    /// A status this crate does not know.
    Unknown,
}

impl RefundStatus {
    /// Whether no further change is expected.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RefundStatus::Succeeded | RefundStatus::Failed | RefundStatus::Canceled
        )
    }

    /// The status as a snake_case word.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::RequiresAction => "requires_action",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
            RefundStatus::Canceled => "canceled",
            RefundStatus::Unknown => "unknown",
        }
    }

    /// The status of a provider's refund status word (both providers use these words).
    pub fn from_word(s: &str) -> RefundStatus {
        match s {
            "pending" => RefundStatus::Pending,
            "requires_action" => RefundStatus::RequiresAction,
            "succeeded" => RefundStatus::Succeeded,
            "failed" => RefundStatus::Failed,
            "canceled" => RefundStatus::Canceled,
            _ => RefundStatus::Unknown,
        }
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the money is taken at once or held for a later [`PaymentGateway::capture_payment`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureMode {
    /// Captured as soon as the customer pays (YooKassa `capture: true`, Stripe `capture_method=automatic`).
    #[default]
    Automatic,
    /// Held until captured or canceled (two-stage payment).
    Manual,
}

/// What to charge. Build it with [`CreatePayment::new`] and the setters.
///
/// How each provider takes it:
///
/// | set | YooKassa | Stripe |
/// |---|---|---|
/// | `payment_method` | `payment_method_id` (a saved method; no confirmation step) | PaymentIntent with `payment_method` and `confirm=true` |
/// | `return_url` only | `confirmation: {type: redirect}`; send the customer to [`Payment::confirmation_url`] | a Checkout Session; send the customer to its `url` |
/// | neither | `confirmation: {type: embedded}` (a widget token in `raw`) | a PaymentIntent; confirm it in the browser with [`Payment::client_secret`] |
/// | `customer_email` | not sent: YooKassa takes it only inside a 54-FZ `receipt` (use `YooKassaClient` with `receipt`) | `receipt_email` / Checkout `customer_email` |
/// | `description` | `description` (at most 128 characters) | `description`; the Checkout line item's name |
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatePayment {
    /// The amount to charge.
    pub amount: Money,
    /// Automatic or two-stage capture.
    pub capture: CaptureMode,
    /// Shown to the customer (YooKassa: at most 128 characters).
    pub description: Option<String>,
    /// Where the customer comes back after paying.
    pub return_url: Option<String>,
    /// Where the customer goes after giving up (Stripe Checkout; defaults to `return_url`).
    pub cancel_url: Option<String>,
    /// A saved or test payment method to charge without the customer (`pm_card_visa`, a YooKassa
    /// saved method id).
    pub payment_method: Option<String>,
    /// The customer's email for the receipt.
    pub customer_email: Option<String>,
    /// Your key/value data, echoed back on the payment and in webhooks (`order_id`).
    pub metadata: BTreeMap<String, String>,
    /// The key that makes this creation happen once (pass one built from your order id).
    pub idempotency_key: Option<IdempotencyKey>,
}

impl CreatePayment {
    /// A payment of `amount`, captured automatically, with nothing else set.
    pub fn new(amount: Money) -> Self {
        CreatePayment {
            amount,
            capture: CaptureMode::Automatic,
            description: None,
            return_url: None,
            cancel_url: None,
            payment_method: None,
            customer_email: None,
            metadata: BTreeMap::new(),
            idempotency_key: None,
        }
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Sets the return URL (redirect confirmation / Checkout).
    pub fn return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }

    /// Sets the cancel URL (Stripe Checkout).
    pub fn cancel_url(mut self, url: impl Into<String>) -> Self {
        self.cancel_url = Some(url.into());
        self
    }

    /// Holds the money until [`PaymentGateway::capture_payment`] (two-stage payment).
    pub fn manual_capture(mut self) -> Self {
        self.capture = CaptureMode::Manual;
        self
    }

    /// Charges a saved (or test) payment method without the customer.
    pub fn payment_method(mut self, id: impl Into<String>) -> Self {
        self.payment_method = Some(id.into());
        self
    }

    /// Sets the customer's email.
    pub fn customer_email(mut self, email: impl Into<String>) -> Self {
        self.customer_email = Some(email.into());
        self
    }

    /// Adds one metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the idempotency key.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Checks what every provider refuses alike, before anything is sent: an amount of zero or less.
    pub fn check(&self) -> Result<()> {
        if !self.amount.is_positive() {
            return Err(Error::invalid_input("a payment amount must be above zero"));
        }
        Ok(())
    }
}

/// Debug leaves out the customer's email and the metadata values (personal data ends up in logs).
impl fmt::Debug for CreatePayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatePayment")
            .field("amount", &self.amount)
            .field("capture", &self.capture)
            .field("return_url", &self.return_url.is_some())
            .field("payment_method", &self.payment_method.is_some())
            .field("customer_email", &self.customer_email.as_ref().map(|_| "…"))
            .field("metadata_keys", &self.metadata.keys().collect::<Vec<_>>())
            .field("idempotency_key", &self.idempotency_key)
            .finish()
    }
}

/// What to refund. Build it with [`CreateRefund::full`] or [`CreateRefund::partial`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateRefund {
    /// The payment to refund (the id [`Payment::id`] carries).
    pub payment_id: String,
    /// How much; `None` refunds whatever is left.
    pub amount: Option<Money>,
    /// Why (Stripe accepts `duplicate`, `fraudulent`, `requested_by_customer`).
    pub reason: Option<String>,
    /// A text for the refund (YooKassa `description`).
    pub description: Option<String>,
    /// Your key/value data (the refund's `metadata` at both providers).
    pub metadata: BTreeMap<String, String>,
    /// The key that makes this refund happen once.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl CreateRefund {
    /// Refunds everything not refunded yet.
    pub fn full(payment_id: impl Into<String>) -> Self {
        CreateRefund {
            payment_id: payment_id.into(),
            amount: None,
            reason: None,
            description: None,
            metadata: BTreeMap::new(),
            idempotency_key: None,
        }
    }

    /// Refunds `amount`.
    pub fn partial(payment_id: impl Into<String>, amount: Money) -> Self {
        CreateRefund {
            amount: Some(amount),
            ..Self::full(payment_id)
        }
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Adds one metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the idempotency key.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Checks what every provider refuses alike, before anything is sent: an amount of zero or less.
    pub fn check(&self) -> Result<()> {
        if self.amount.is_some_and(|a| !a.is_positive()) {
            return Err(Error::invalid_input("a refund amount must be above zero"));
        }
        Ok(())
    }
}

/// A payment as a gateway reports it.
#[derive(Clone)]
#[non_exhaustive]
pub struct Payment {
    /// `"yookassa"` or `"stripe"`.
    pub provider: &'static str,
    /// The id to pass back to this gateway (YooKassa payment id; Stripe `pi_…` or, for a payment made
    /// through Checkout, the `cs_…` session id).
    pub id: String,
    /// Stripe: the PaymentIntent behind a Checkout Session, once the customer has paid.
    pub intent_id: Option<String>,
    /// The normalised status.
    pub status: PaymentStatus,
    /// The provider's status word, as it came.
    pub raw_status: String,
    /// The amount asked for (after a partial capture, YooKassa reports the captured amount here).
    pub amount: Money,
    /// How much was captured, when the provider says.
    pub captured: Option<Money>,
    /// How much was refunded, when the provider says (YooKassa `refunded_amount`).
    pub refunded: Option<Money>,
    /// Where to send the customer to pay (YooKassa redirect confirmation, Stripe Checkout).
    pub confirmation_url: Option<String>,
    /// Stripe: the PaymentIntent's client secret, for confirming in the browser. Handle it like a
    /// password: hand it to that customer's page only.
    pub client_secret: Option<SecretString>,
    /// Your metadata, echoed back.
    pub metadata: BTreeMap<String, String>,
    /// When the provider created it.
    pub created_at: Option<DateTime<Utc>>,
    /// The provider's object, as it came (Stripe's `client_secret` removed).
    pub raw: serde_json::Value,
}

impl Payment {
    /// A payment as a provider reported it, with what every provider has; set the other fields on the
    /// value (they start empty). For provider crates.
    pub fn new(
        provider: &'static str,
        id: impl Into<String>,
        status: PaymentStatus,
        raw_status: impl Into<String>,
        amount: Money,
        raw: serde_json::Value,
    ) -> Payment {
        Payment {
            provider,
            id: id.into(),
            intent_id: None,
            status,
            raw_status: raw_status.into(),
            amount,
            captured: None,
            refunded: None,
            confirmation_url: None,
            client_secret: None,
            metadata: BTreeMap::new(),
            created_at: None,
            raw,
        }
    }

    /// Whether the customer has paid (the money is held or taken).
    pub fn is_paid(&self) -> bool {
        matches!(self.status, PaymentStatus::WaitingForCapture | PaymentStatus::Succeeded)
    }
}

/// Debug leaves out metadata values, the client secret and the raw object.
impl fmt::Debug for Payment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payment")
            .field("provider", &self.provider)
            .field("id", &self.id)
            .field("intent_id", &self.intent_id)
            .field("status", &self.status)
            .field("raw_status", &self.raw_status)
            .field("amount", &self.amount)
            .field("captured", &self.captured)
            .field("refunded", &self.refunded)
            .field("confirmation_url", &self.confirmation_url.is_some())
            .field("metadata_keys", &self.metadata.keys().collect::<Vec<_>>())
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// A refund as a gateway reports it. `Debug` leaves out the raw object.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Refund {
    /// `"yookassa"` or `"stripe"`.
    pub provider: &'static str,
    /// The provider's refund id.
    pub id: String,
    /// The payment it refunds (YooKassa payment id, Stripe PaymentIntent id).
    pub payment_id: String,
    /// The normalised status.
    pub status: RefundStatus,
    /// The provider's status word.
    pub raw_status: String,
    /// How much.
    pub amount: Money,
    /// When the provider created it.
    pub created_at: Option<DateTime<Utc>>,
    /// The provider's object, as it came.
    pub raw: serde_json::Value,
}

impl Refund {
    /// A refund as a provider reported it; its status is read from `raw_status` with
    /// [`RefundStatus::from_word`], and `created_at` starts empty. For provider crates.
    pub fn new(
        provider: &'static str,
        id: impl Into<String>,
        payment_id: impl Into<String>,
        raw_status: impl Into<String>,
        amount: Money,
        raw: serde_json::Value,
    ) -> Refund {
        let raw_status = raw_status.into();
        Refund {
            provider,
            id: id.into(),
            payment_id: payment_id.into(),
            status: RefundStatus::from_word(&raw_status),
            raw_status,
            amount,
            created_at: None,
            raw,
        }
    }
}

impl fmt::Debug for Refund {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refund")
            .field("provider", &self.provider)
            .field("id", &self.id)
            .field("payment_id", &self.payment_id)
            .field("status", &self.status)
            .field("raw_status", &self.raw_status)
            .field("amount", &self.amount)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The object a verified webhook is about. `Debug` of [`WebhookObject::Other`] shows the object's
/// field names only (its values can hold customer contacts).
#[derive(Clone)]
#[non_exhaustive]
pub enum WebhookObject {
    /// A payment (YooKassa payment, Stripe PaymentIntent or Checkout Session).
    Payment(Box<Payment>),
    /// A refund.
    Refund(Refund),
    /// Anything else (Stripe charges, YooKassa payouts), kept whole.
    Other {
        /// The provider's object type (`"charge"`, `"payout"`).
        kind: String,
        /// The object.
        raw: serde_json::Value,
    },
}

impl fmt::Debug for WebhookObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookObject::Payment(p) => f.debug_tuple("Payment").field(p).finish(),
            WebhookObject::Refund(r) => f.debug_tuple("Refund").field(r).finish(),
            WebhookObject::Other { kind, raw } => f
                .debug_struct("Other")
                .field("kind", kind)
                .field("raw_keys", &raw.as_object().map(|o| o.keys().collect::<Vec<_>>()))
                .finish(),
        }
    }
}

/// A webhook that passed verification. `Debug` leaves out the raw body.
#[derive(Clone)]
#[non_exhaustive]
pub struct PaymentWebhook {
    /// `"yookassa"` or `"stripe"`.
    pub provider: &'static str,
    /// The key it is deduplicated on: Stripe's `evt_…` id; for YooKassa, which sends no event id,
    /// `"<event>:<object id>"` built from the *re-fetched* state (`payment.succeeded:2f…`).
    pub event_id: String,
    /// The event type to act on. Stripe: as signed. YooKassa: derived from the re-fetched object's
    /// status (`payment.succeeded`), since the notification body is not authenticated.
    pub event_type: String,
    /// YooKassa: the event type the notification claimed, when it differs from `event_type` (a stale
    /// or forged notification). Always `None` for Stripe.
    pub claimed_event_type: Option<String>,
    /// The object, in its trusted state (YooKassa: as re-fetched; Stripe: as signed).
    pub object: WebhookObject,
    /// The body as it came.
    pub raw: serde_json::Value,
}

impl fmt::Debug for PaymentWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentWebhook")
            .field("provider", &self.provider)
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("claimed_event_type", &self.claimed_event_type)
            .field("object", &self.object)
            .finish_non_exhaustive()
    }
}

impl PaymentWebhook {
    /// A verified event, as the provider's webhook module made it (`claimed_event_type` starts empty).
    /// For provider crates.
    pub fn new(
        provider: &'static str,
        event_id: impl Into<String>,
        event_type: impl Into<String>,
        object: WebhookObject,
        raw: serde_json::Value,
    ) -> PaymentWebhook {
        PaymentWebhook {
            provider,
            event_id: event_id.into(),
            event_type: event_type.into(),
            claimed_event_type: None,
            object,
            raw,
        }
    }

    /// The key this event was claimed under in the [`EventStore`](crate::EventStore)
    /// (`"<provider>:<event_id>"`); pass it to [`EventStore::release`](crate::EventStore::release) when
    /// you could not process the event, so its redelivery is not taken for a duplicate.
    pub fn dedupe_key(&self) -> String {
        dedupe_key(self.provider, &self.event_id)
    }

    /// The same event as switchboard-core's provider-neutral [`Event::Payment`].
    pub fn to_event(&self) -> Result<Event> {
        let (object_id, status, raw) = match &self.object {
            WebhookObject::Payment(p) => (p.id.clone(), p.raw_status.clone(), p.raw.clone()),
            WebhookObject::Refund(r) => (r.id.clone(), r.raw_status.clone(), r.raw.clone()),
            WebhookObject::Other { raw, .. } => (
                raw.get("id").and_then(|v| v.as_str()).unwrap_or("").to_owned(),
                raw.get("status").and_then(|v| v.as_str()).unwrap_or("").to_owned(),
                raw.clone(),
            ),
        };
        let event =
            PaymentEvent::new(self.event_type.clone(), object_id, status, raw).with_event_id(self.event_id.clone());
        Ok(Event::Payment(event))
    }
}

/// What a gateway's webhook handler made of a request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum WebhookOutcome {
    /// A verified event seen for the first time: act on it, then answer `200`.
    Event(Box<PaymentWebhook>),
    /// A verified event already taken (its key was claimed in the [`EventStore`](crate::EventStore)):
    /// answer `200` and do nothing.
    Duplicate {
        /// The event's key.
        event_id: String,
    },
}

impl WebhookOutcome {
    /// A verified event, claimed in `store` under its [`PaymentWebhook::dedupe_key`]: the event when
    /// the claim is new, a duplicate when it was taken before.
    pub async fn claim(store: &dyn crate::EventStore, event: PaymentWebhook) -> Result<WebhookOutcome> {
        if store.claim(&event.dedupe_key()).await? {
            Ok(WebhookOutcome::Event(Box::new(event)))
        } else {
            Ok(WebhookOutcome::Duplicate {
                event_id: event.event_id,
            })
        }
    }

    /// The event, unless this was a duplicate.
    pub fn event(&self) -> Option<&PaymentWebhook> {
        match self {
            WebhookOutcome::Event(e) => Some(e),
            WebhookOutcome::Duplicate { .. } => None,
        }
    }

    /// Whether this was a duplicate delivery.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, WebhookOutcome::Duplicate { .. })
    }

    /// What a Messenger gets: a new event as one core [`Event::Payment`], a duplicate as no event, and
    /// `200 OK` for both — a duplicate is acknowledged like a first delivery, so the provider stops
    /// sending it.
    pub fn into_handled(self) -> Result<Handled> {
        let events = match self {
            WebhookOutcome::Event(w) => vec![w.to_event()?],
            WebhookOutcome::Duplicate { .. } => Vec::new(),
        };
        Ok(Handled::new(events, WebhookAnswer::ok()))
    }
}

/// One payment provider account, configured. Implemented by `switchboard_yookassa::YooKassaGateway` and
/// `switchboard_stripe::StripeGateway`.
///
/// Every method that changes something sends one POST with an idempotency key (the caller's or a fresh
/// one) and retries it with the *same* key under the gateway's retry policy, so a timeout followed by a
/// retry is answered with the first result and never charges twice. A failure that may have reached the
/// provider is returned with [`Dispatch::MaybeSent`](switchboard_core::Dispatch) and the key in its
/// message: repeat with that key. Once the provider answered 2xx the change happened: a failure to use
/// the answer (one that does not decode, or holds a value this crate cannot represent) is
/// [`Dispatch::Sent`](switchboard_core::Dispatch), never `NotSent`, and its message names the object to
/// look up instead of doing it again. A lookup an operation makes before its POST (a partial refund
/// reads the payment's currency) that fails is `NotSent`: the POST never left.
#[async_trait]
pub trait PaymentGateway: Send + Sync + fmt::Debug {
    /// The provider's name (`"yookassa"`, `"stripe"`).
    fn provider(&self) -> &'static str;

    /// Creates a payment (see [`CreatePayment`] for how each provider takes it).
    async fn create_payment(&self, request: &CreatePayment) -> Result<Payment>;

    /// Looks a payment up.
    async fn get_payment(&self, payment_id: &str) -> Result<Payment>;

    /// Captures a held payment: all of it, or `amount` of it (the rest is released to the customer).
    async fn capture_payment(
        &self,
        payment_id: &str,
        amount: Option<Money>,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Result<Payment>;

    /// Cancels a payment that is not captured yet (releases held money; expires an open Checkout).
    async fn cancel_payment(&self, payment_id: &str, idempotency_key: Option<IdempotencyKey>) -> Result<Payment>;

    /// Refunds all or part of a captured payment.
    async fn refund(&self, request: &CreateRefund) -> Result<Refund>;

    /// Looks a refund up.
    async fn get_refund(&self, refund_id: &str) -> Result<Refund>;

    /// Every refund of a payment.
    async fn list_refunds(&self, payment_id: &str) -> Result<Vec<Refund>>;

    /// Verifies and decodes a webhook (see each provider's `webhook` module for how), and reports a
    /// repeated delivery as [`WebhookOutcome::Duplicate`]. Verification failures are `Auth` errors
    /// (answer 401/403), malformed bodies `InvalidInput` (answer 400).
    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<WebhookOutcome>;
}

/// The key an event is claimed under in the [`EventStore`](crate::EventStore): `"<provider>:<event_id>"`.
fn dedupe_key(provider: &str, event_id: &str) -> String {
    format!("{provider}:{event_id}")
}

/// Checks an id before it goes into a URL path: a payment id is letters, digits, `-` and `_`, so
/// nothing a caller passes can change the path (`../`, `?`).
pub fn check_id<'a>(what: &str, id: &'a str) -> Result<&'a str> {
    if id.is_empty() || id.len() > 255 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(Error::invalid_input(format!(
            "'{}' is not a valid {what} id",
            id.chars().take(40).collect::<String>().escape_debug()
        )));
    }
    Ok(id)
}

/// A payment gateway as a Messenger webhook source (`Messenger::builder().webhook_source(..)`): a new
/// verified event becomes one core [`Event::Payment`]; a duplicate delivery becomes no event at all.
#[derive(Debug, Clone)]
pub struct PaymentWebhooks(pub Arc<dyn PaymentGateway>);

#[async_trait]
impl switchboard_core::WebhookHandler for PaymentWebhooks {
    fn provider(&self) -> &'static str {
        self.0.provider()
    }

    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<Handled> {
        self.0.handle_webhook(request).await?.into_handled()
    }
}

//! [`PaymentGateway`] over Stripe.
//!
//! How the trait's operations map (see [`CreatePayment`] for creation):
//!
//! * a payment made through Checkout is addressed by its session id `cs_…`; the gateway finds the
//!   PaymentIntent behind it (once the customer has paid) for capture, cancel and refunds, and an open
//!   session is canceled by expiring it;
//! * PaymentIntents are read with `expand[]=latest_charge`, so [`Payment::refunded`] is known.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use switchboard_core::{Dsn, Error, Result, WebhookRequest};
use switchboard_payments::idempotency::or_random;
use switchboard_payments::outcome::{acted_but_unusable, nothing_sent, read_but_unusable};
use switchboard_payments::{
    CaptureMode, CreatePayment, CreateRefund, EventStore, IdempotencyKey, Money, Payment, PaymentGateway,
    PaymentStatus, Refund, WebhookOutcome,
};

use crate::SCHEME;
use crate::client::{RefundList, StripeClient, wrong_state};
use crate::config::StripeConfig;
use crate::model::{
    self, CheckoutSession, CheckoutSessionCreate, Expandable, PaymentIntent, PaymentIntentCreate, RefundCreate,
};
use crate::webhook::StripeWebhook;

const EXPAND_INTENT: &[&str] = &["latest_charge"];
const EXPAND_SESSION: &[&str] = &["payment_intent", "payment_intent.latest_charge"];

/// The most pages [`PaymentGateway::list_refunds`] follows (100 refunds each).
const MAX_PAGES: usize = 50;

/// Stripe behind the [`PaymentGateway`] trait. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StripeGateway {
    client: StripeClient,
    webhook: StripeWebhook,
}

impl StripeGateway {
    /// A gateway for this configuration, deduplicating webhooks in memory. Without a webhook secret
    /// the gateway works, and [`PaymentGateway::handle_webhook`] refuses every webhook.
    pub fn new(config: StripeConfig) -> Result<StripeGateway> {
        let webhook = StripeWebhook::new(&config)?;
        Ok(StripeGateway {
            client: StripeClient::new(config)?,
            webhook,
        })
    }

    /// A gateway from a `stripe://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<StripeGateway> {
        StripeGateway::new(StripeConfig::from_dsn(dsn)?)
    }

    /// Keeps the record of handled webhooks in the host's store.
    pub fn with_event_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.webhook = self.webhook.with_event_store(store);
        self
    }

    /// The wire-level client, for operations the trait does not cover.
    pub fn client(&self) -> &StripeClient {
        &self.client
    }

    /// The webhooks' verifier (what [`PaymentGateway::handle_webhook`] uses).
    pub fn webhook(&self) -> &StripeWebhook {
        &self.webhook
    }

    /// The event store.
    pub fn event_store(&self) -> &Arc<dyn EventStore> {
        self.webhook.event_store()
    }

    /// The session and the PaymentIntent behind a `cs_…` id; an error when the customer has not paid.
    async fn session_intent(&self, session_id: &str) -> Result<(CheckoutSession, String)> {
        let s = self
            .client
            .retrieve_checkout_session(session_id, EXPAND_SESSION)
            .await?;
        let pi =
            s.payment_intent.as_ref().map(|p| p.id().to_owned()).ok_or_else(|| {
                wrong_state("the Checkout Session has no payment yet (the customer has not paid)".into())
            })?;
        Ok((s, pi))
    }

    /// The PaymentIntent id for a payment id (`pi_…` as is, `cs_…` resolved).
    async fn intent_id(&self, payment_id: &str) -> Result<String> {
        if is_session(payment_id) {
            Ok(self.session_intent(payment_id).await?.1)
        } else {
            Ok(payment_id.to_owned())
        }
    }
}

fn is_session(id: &str) -> bool {
    id.starts_with("cs_")
}

/// The normalised status of a PaymentIntent status word.
pub fn intent_status(word: &str) -> PaymentStatus {
    match word {
        "requires_payment_method" | "requires_confirmation" | "requires_action" => PaymentStatus::Pending,
        "processing" => PaymentStatus::Processing,
        "requires_capture" => PaymentStatus::WaitingForCapture,
        "succeeded" => PaymentStatus::Succeeded,
        "canceled" => PaymentStatus::Canceled,
        _ => PaymentStatus::Unknown,
    }
}

/// The normalised status of a Checkout Session (`status`, `payment_status`) without its PaymentIntent.
pub fn session_status(status: Option<&str>, payment_status: Option<&str>) -> PaymentStatus {
    match (status, payment_status) {
        (Some("open"), _) => PaymentStatus::Pending,
        (Some("expired"), _) => PaymentStatus::Canceled,
        (Some("complete"), Some("paid" | "no_payment_required")) => PaymentStatus::Succeeded,
        // Complete but unpaid: an asynchronous method is still settling.
        (Some("complete"), _) => PaymentStatus::Processing,
        _ => PaymentStatus::Unknown,
    }
}

fn unix(t: Option<i64>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t, 0))
}

fn money(amount: i64, currency: &str) -> Result<Money> {
    Money::from_stripe_amount(amount, currency).map_err(|e| e.with_provider(SCHEME))
}

/// Removes every `client_secret` from a JSON value, so raw copies kept for logs and storage do not
/// carry one.
pub fn strip_client_secrets(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("client_secret");
            m.values_mut().for_each(strip_client_secrets);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_client_secrets),
        _ => {}
    }
}

/// A PaymentIntent, normalised.
pub fn normalise_intent(pi: &PaymentIntent) -> Result<Payment> {
    let status = intent_status(&pi.status);
    let refunded = match pi.latest_charge.as_ref().and_then(Expandable::object) {
        Some(ch) => Some(money(ch.amount_refunded, &ch.currency)?),
        None => None,
    };
    // Every kind of next action that has a page for the customer (3-D Secure, vouchers, QR codes, bank
    // transfer instructions) gives it here; `use_stripe_sdk` has none (Stripe.js handles it with the
    // client secret).
    let confirmation_url = pi
        .next_action
        .as_ref()
        .and_then(|n| n.customer_url())
        .map(str::to_owned);
    let mut raw = serde_json::to_value(pi)?;
    strip_client_secrets(&mut raw);
    let amount = money(pi.amount, &pi.currency)?;
    let mut out = Payment::new(SCHEME, pi.id.clone(), status, pi.status.clone(), amount, raw);
    out.captured = (pi.amount_received > 0)
        .then(|| money(pi.amount_received, &pi.currency))
        .transpose()?;
    out.refunded = refunded;
    out.confirmation_url = confirmation_url;
    out.client_secret = pi.client_secret.clone();
    out.metadata = pi.metadata.clone();
    out.created_at = unix(pi.created);
    Ok(out)
}

/// A Checkout Session, normalised; with its PaymentIntent when it was expanded (or given).
///
/// Stripe's reference has `currency` and `amount_total` nullable; they are then taken from the
/// PaymentIntent, and when there is none the session cannot be normalised (a `Decode` error).
pub fn normalise_session(s: &CheckoutSession, intent: Option<&PaymentIntent>) -> Result<Payment> {
    normalise_session_or(s, intent, None)
}

/// [`normalise_session`], falling back to `asked` (the amount the session was created for) where the
/// session and its PaymentIntent leave the amount or currency out.
fn normalise_session_or(s: &CheckoutSession, intent: Option<&PaymentIntent>, asked: Option<Money>) -> Result<Payment> {
    let intent = intent.or_else(|| s.payment_intent.as_ref().and_then(Expandable::object));
    let mut raw = serde_json::to_value(s)?;
    if let (Some(pi), Some(m)) = (intent, raw.as_object_mut()) {
        m.insert("payment_intent".into(), serde_json::to_value(pi)?);
    }
    strip_client_secrets(&mut raw);
    let currency = s
        .currency
        .clone()
        .or_else(|| intent.map(|p| p.currency.clone()))
        .or_else(|| asked.map(|m| m.currency().lowercase_code()));
    let total = s
        .amount_total
        .or_else(|| intent.map(|p| p.amount))
        .or_else(|| asked.and_then(|m| m.to_stripe_amount().ok()));
    let (Some(currency), Some(total)) = (currency, total) else {
        return Err(Error::decode(
            "the Checkout Session has no currency or amount_total and no PaymentIntent to take them from",
        )
        .with_provider(SCHEME));
    };
    let open = s.status.as_deref() == Some("open");
    let (status, raw_status, captured, refunded) = match intent {
        Some(pi) => {
            let p = normalise_intent(pi)?;
            (p.status, p.raw_status, p.captured, p.refunded)
        }
        None => (
            session_status(s.status.as_deref(), s.payment_status.as_deref()),
            s.status.clone().unwrap_or_default(),
            None,
            None,
        ),
    };
    let mut out = Payment::new(SCHEME, s.id.clone(), status, raw_status, money(total, &currency)?, raw);
    out.intent_id = s.payment_intent.as_ref().map(|p| p.id().to_owned());
    out.captured = captured;
    out.refunded = refunded;
    out.confirmation_url = if open { s.url.clone() } else { None };
    out.metadata = s.metadata.clone();
    out.created_at = unix(s.created);
    Ok(out)
}

/// A Refund, normalised.
pub fn normalise_refund(r: &model::Refund) -> Result<Refund> {
    let mut raw = serde_json::to_value(r)?;
    strip_client_secrets(&mut raw);
    let payment_id = r
        .payment_intent
        .clone()
        .or_else(|| r.charge.clone())
        .unwrap_or_default();
    let status = r.status.clone().unwrap_or_default();
    let mut out = Refund::new(
        SCHEME,
        r.id.clone(),
        payment_id,
        status,
        money(r.amount, &r.currency)?,
        raw,
    );
    out.created_at = unix(r.created);
    Ok(out)
}

fn stripe_amount(m: Money, against: &str) -> Result<i64> {
    if !m.currency().lowercase_code().eq_ignore_ascii_case(against) {
        return Err(Error::invalid_input(format!(
            "the amount is in {}, the payment in {}",
            m.currency(),
            against.to_ascii_uppercase()
        )));
    }
    m.to_stripe_amount()
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    async fn create_payment(&self, request: &CreatePayment) -> Result<Payment> {
        request.check()?;
        let key = or_random(request.idempotency_key.as_ref());
        let capture_method = (request.capture == CaptureMode::Manual).then(|| "manual".to_owned());
        if request.payment_method.is_some() || request.return_url.is_none() {
            let mut p = PaymentIntentCreate::new(request.amount)?;
            p.capture_method = capture_method;
            p.description = request.description.clone();
            p.receipt_email = request.customer_email.clone();
            p.metadata = request.metadata.clone();
            p.expand = EXPAND_INTENT.iter().map(|s| (*s).to_owned()).collect();
            p.automatic_payment_methods = Some(true);
            if let Some(pm) = &request.payment_method {
                p.payment_method = Some(pm.clone());
                p.confirm = Some(true);
                match &request.return_url {
                    Some(url) => p.return_url = Some(url.clone()),
                    // Charged without the customer: no page to come back to.
                    None => p.allow_redirects = Some("never".to_owned()),
                }
            }
            let pi = self.client.create_payment_intent(&p, &key).await?;
            return normalise_intent(&pi).map_err(|e| {
                acted_but_unusable(e, SCHEME, "Stripe created the PaymentIntent", Some(&pi.id), Some(&key))
            });
        }
        let success_url = request.return_url.clone().unwrap_or_default();
        let name = request.description.clone().unwrap_or_else(|| "Payment".to_owned());
        let mut s = CheckoutSessionCreate::new(request.amount, name, success_url.clone())?;
        s.cancel_url = Some(request.cancel_url.clone().unwrap_or(success_url));
        s.capture_method = capture_method;
        s.description = request.description.clone();
        s.customer_email = request.customer_email.clone();
        s.metadata = request.metadata.clone();
        let session = self.client.create_checkout_session(&s, &key).await?;
        // The session was made for exactly the amount asked: where Stripe leaves its currency or total
        // out (both are nullable in its reference), that amount stands in.
        normalise_session_or(&session, None, Some(request.amount)).map_err(|e| {
            acted_but_unusable(
                e,
                SCHEME,
                "Stripe created the Checkout Session",
                Some(&session.id),
                Some(&key),
            )
        })
    }

    async fn get_payment(&self, payment_id: &str) -> Result<Payment> {
        if is_session(payment_id) {
            let s = self
                .client
                .retrieve_checkout_session(payment_id, EXPAND_SESSION)
                .await?;
            normalise_session(&s, None)
                .map_err(|e| read_but_unusable(e, SCHEME, &format!("Stripe's Checkout Session {}", s.id)))
        } else {
            let pi = self.client.retrieve_payment_intent(payment_id, EXPAND_INTENT).await?;
            normalise_intent(&pi)
                .map_err(|e| read_but_unusable(e, SCHEME, &format!("Stripe's PaymentIntent {}", pi.id)))
        }
    }

    async fn capture_payment(
        &self,
        payment_id: &str,
        amount: Option<Money>,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Result<Payment> {
        let key = or_random(idempotency_key.as_ref());
        let (session, pi_id) = if is_session(payment_id) {
            let (s, pi) = self
                .session_intent(payment_id)
                .await
                .map_err(|e| nothing_sent(e, "looking up the Checkout Session's PaymentIntent"))?;
            (Some(s), pi)
        } else {
            (None, payment_id.to_owned())
        };
        let amount = match amount {
            None => None,
            Some(m) if !m.is_positive() => return Err(Error::invalid_input("a capture amount must be above zero")),
            Some(m) => {
                let currency = match session.as_ref().and_then(|s| s.currency.clone()) {
                    Some(c) => c,
                    None => {
                        self.client
                            .retrieve_payment_intent(&pi_id, &[])
                            .await
                            .map_err(|e| nothing_sent(e, "reading the payment's currency"))?
                            .currency
                    }
                };
                Some(stripe_amount(m, &currency)?)
            }
        };
        let pi = self
            .client
            .capture_payment_intent(&pi_id, amount, EXPAND_INTENT, &key)
            .await?;
        match session {
            Some(s) => normalise_session(&s, Some(&pi)),
            None => normalise_intent(&pi),
        }
        .map_err(|e| acted_but_unusable(e, SCHEME, "Stripe captured the PaymentIntent", Some(&pi.id), Some(&key)))
    }

    async fn cancel_payment(&self, payment_id: &str, idempotency_key: Option<IdempotencyKey>) -> Result<Payment> {
        let key = or_random(idempotency_key.as_ref());
        let canceled = |e: Error, id: &str| {
            acted_but_unusable(e, SCHEME, "Stripe canceled the PaymentIntent", Some(id), Some(&key))
        };
        if !is_session(payment_id) {
            let pi = self
                .client
                .cancel_payment_intent(payment_id, None, EXPAND_INTENT, &key)
                .await?;
            return normalise_intent(&pi).map_err(|e| canceled(e, &pi.id));
        }
        let s = self
            .client
            .retrieve_checkout_session(payment_id, EXPAND_SESSION)
            .await
            .map_err(|e| nothing_sent(e, "looking up the Checkout Session"))?;
        if s.status.as_deref() == Some("open") {
            let expired = self.client.expire_checkout_session(payment_id, &key).await?;
            return normalise_session(&expired, None).map_err(|e| {
                acted_but_unusable(
                    e,
                    SCHEME,
                    "Stripe expired the Checkout Session",
                    Some(&expired.id),
                    Some(&key),
                )
            });
        }
        let Some(pi) = s.payment_intent.as_ref().map(|p| p.id().to_owned()) else {
            return Err(wrong_state(format!(
                "the Checkout Session is {} and has no payment to cancel",
                s.status.as_deref().unwrap_or("in an unknown state")
            )));
        };
        let pi = self
            .client
            .cancel_payment_intent(&pi, None, EXPAND_INTENT, &key)
            .await?;
        normalise_session(&s, Some(&pi)).map_err(|e| canceled(e, &pi.id))
    }

    async fn refund(&self, request: &CreateRefund) -> Result<Refund> {
        request.check()?;
        let key = or_random(request.idempotency_key.as_ref());
        let pi = self
            .intent_id(&request.payment_id)
            .await
            .map_err(|e| nothing_sent(e, "looking up the Checkout Session's PaymentIntent"))?;
        let mut params = RefundCreate::of_payment_intent(pi.clone());
        params.amount = match request.amount {
            None => None,
            // The amount is read in the payment's currency: make sure it is that currency.
            Some(m) => {
                let intent = self
                    .client
                    .retrieve_payment_intent(&pi, &[])
                    .await
                    .map_err(|e| nothing_sent(e, "reading the payment's currency"))?;
                Some(stripe_amount(m, &intent.currency)?)
            }
        };
        params.reason = request.reason.clone();
        params.metadata = request.metadata.clone();
        let r = self.client.create_refund(&params, &key).await?;
        normalise_refund(&r)
            .map_err(|e| acted_but_unusable(e, SCHEME, "Stripe created the refund", Some(&r.id), Some(&key)))
    }

    async fn get_refund(&self, refund_id: &str) -> Result<Refund> {
        let r = self.client.retrieve_refund(refund_id).await?;
        normalise_refund(&r).map_err(|e| read_but_unusable(e, SCHEME, &format!("Stripe's refund {}", r.id)))
    }

    async fn list_refunds(&self, payment_id: &str) -> Result<Vec<Refund>> {
        let pi = self.intent_id(payment_id).await?;
        let mut query = RefundList::of_payment_intent(pi);
        query.limit = Some(100);
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.client.list_refunds(&query).await?;
            for r in &page.data {
                out.push(
                    normalise_refund(r)
                        .map_err(|e| read_but_unusable(e, SCHEME, &format!("Stripe's refund {}", r.id)))?,
                );
            }
            match page.data.last() {
                Some(last) if page.has_more => query.starting_after = Some(last.id.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<WebhookOutcome> {
        self.webhook.outcome(request).await
    }
}

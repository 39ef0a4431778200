//! [`PaymentGateway`] over YooKassa.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use switchboard_core::{Dsn, Error, Result, WebhookRequest};

use super::SCHEME;
use super::client::Client;
use super::config::Config;
use super::model::{self, Amount, CaptureRequest, ConfirmationRequest, CreatePaymentRequest, CreateRefundRequest};
use super::webhook::{Fetched, NotificationVerifier};
use crate::dedupe::{EventStore, MemoryEventStore};
use crate::gateway::{
    CaptureMode, CreatePayment, CreateRefund, Payment, PaymentGateway, PaymentStatus, PaymentWebhook, Refund,
    RefundStatus, WebhookObject, WebhookOutcome, dedupe_key,
};
use crate::idempotency::{IdempotencyKey, or_random};
use crate::money::Money;
use crate::outcome::{acted_but_unusable, nothing_sent, read_but_unusable};

/// The longest description YooKassa takes.
const MAX_DESCRIPTION: usize = 128;

/// The most pages [`PaymentGateway::list_refunds`] follows (100 refunds each).
const MAX_PAGES: usize = 50;

/// YooKassa behind the [`PaymentGateway`] trait. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Gateway {
    client: Client,
    verifier: NotificationVerifier,
    events: Arc<dyn EventStore>,
}

impl Gateway {
    /// A gateway for this configuration, deduplicating webhooks in memory.
    pub fn new(config: Config) -> Result<Gateway> {
        let verifier = NotificationVerifier::new(config.allow_list()?);
        Ok(Gateway {
            client: Client::new(config)?,
            verifier,
            events: Arc::new(MemoryEventStore::new()),
        })
    }

    /// A gateway from a `yookassa://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<Gateway> {
        Gateway::new(Config::from_dsn(dsn)?)
    }

    /// Keeps the record of handled webhooks in the host's store.
    pub fn with_event_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.events = store;
        self
    }

    /// The wire-level client, for operations the trait does not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The event store.
    pub fn event_store(&self) -> &Arc<dyn EventStore> {
        &self.events
    }

    /// What a payment has not refunded yet, read from YooKassa.
    async fn left_to_refund(&self, payment_id: &str) -> Result<Money> {
        let p = self.client.get_payment(payment_id).await?;
        let paid = p.amount.to_money()?;
        let refunded = match &p.refunded_amount {
            Some(r) => r.to_money()?,
            None => Money::zero(paid.currency()),
        };
        paid.checked_sub(refunded)
            .map_err(|e| Error::decode(format!("YooKassa's payment amounts do not add up: {}", e.message())))
    }
}

/// The normalised status of a YooKassa payment status word.
pub fn payment_status(word: &str) -> PaymentStatus {
    match word {
        "pending" => PaymentStatus::Pending,
        "waiting_for_capture" => PaymentStatus::WaitingForCapture,
        "succeeded" => PaymentStatus::Succeeded,
        "canceled" => PaymentStatus::Canceled,
        _ => PaymentStatus::Unknown,
    }
}

fn parse_time(t: Option<&String>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Metadata as strings. YooKassa's OpenAPI specification (schema `Metadata`) has the values as
/// nullable strings: a `null` value is no value, not the text "null".
fn metadata(m: &serde_json::Map<String, Value>) -> BTreeMap<String, String> {
    m.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// A YooKassa payment, normalised.
pub fn normalise_payment(p: &model::Payment) -> Result<Payment> {
    let amount = p.amount.to_money().map_err(|e| e.with_provider(SCHEME))?;
    let refunded = p
        .refunded_amount
        .as_ref()
        .map(Amount::to_money)
        .transpose()
        .map_err(|e| e.with_provider(SCHEME))?;
    let status = payment_status(&p.status);
    Ok(Payment {
        provider: SCHEME,
        id: p.id.clone(),
        intent_id: None,
        status,
        raw_status: p.status.clone(),
        amount,
        captured: (status == PaymentStatus::Succeeded).then_some(amount),
        refunded,
        confirmation_url: p.confirmation.as_ref().and_then(|c| c.confirmation_url.clone()),
        client_secret: None,
        metadata: metadata(&p.metadata),
        created_at: parse_time(p.created_at.as_ref()),
        raw: serde_json::to_value(p)?,
    })
}

/// A YooKassa refund, normalised.
pub fn normalise_refund(r: &model::Refund) -> Result<Refund> {
    Ok(Refund {
        provider: SCHEME,
        id: r.id.clone(),
        payment_id: r.payment_id.clone(),
        status: RefundStatus::from_word(&r.status),
        raw_status: r.status.clone(),
        amount: r.amount.to_money().map_err(|e| e.with_provider(SCHEME))?,
        created_at: parse_time(r.created_at.as_ref()),
        raw: serde_json::to_value(r)?,
    })
}

#[async_trait]
impl PaymentGateway for Gateway {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    async fn create_payment(&self, request: &CreatePayment) -> Result<Payment> {
        request.check()?;
        if let Some(d) = &request.description
            && d.chars().count() > MAX_DESCRIPTION
        {
            return Err(Error::invalid_input(format!(
                "YooKassa takes descriptions of at most {MAX_DESCRIPTION} characters"
            )));
        }
        let mut wire = CreatePaymentRequest::new(Amount::from_money(request.amount));
        wire.description = request.description.clone();
        wire.capture = Some(request.capture == CaptureMode::Automatic);
        wire.metadata = request.metadata.clone();
        match (&request.payment_method, &request.return_url) {
            (Some(pm), _) => wire.payment_method_id = Some(pm.clone()),
            (None, Some(url)) => {
                wire.confirmation = Some(ConfirmationRequest::Redirect {
                    return_url: url.clone(),
                    enforce: None,
                    locale: None,
                })
            }
            (None, None) => wire.confirmation = Some(ConfirmationRequest::Embedded { locale: None }),
        }
        let key = or_random(request.idempotency_key.as_ref());
        let p = self.client.create_payment(&wire, &key).await?;
        normalise_payment(&p)
            .map_err(|e| acted_but_unusable(e, SCHEME, "YooKassa created the payment", Some(&p.id), Some(&key)))
    }

    async fn get_payment(&self, payment_id: &str) -> Result<Payment> {
        let p = self.client.get_payment(payment_id).await?;
        normalise_payment(&p).map_err(|e| read_but_unusable(e, SCHEME, &format!("YooKassa's payment {}", p.id)))
    }

    async fn capture_payment(
        &self,
        payment_id: &str,
        amount: Option<Money>,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Result<Payment> {
        if amount.is_some_and(|a| !a.is_positive()) {
            return Err(Error::invalid_input("a capture amount must be above zero"));
        }
        let key = or_random(idempotency_key.as_ref());
        let req = CaptureRequest::new(amount.map(Amount::from_money));
        let p = self.client.capture_payment(payment_id, &req, &key).await?;
        normalise_payment(&p)
            .map_err(|e| acted_but_unusable(e, SCHEME, "YooKassa captured the payment", Some(&p.id), Some(&key)))
    }

    async fn cancel_payment(&self, payment_id: &str, idempotency_key: Option<IdempotencyKey>) -> Result<Payment> {
        let key = or_random(idempotency_key.as_ref());
        let p = self.client.cancel_payment(payment_id, &key).await?;
        normalise_payment(&p)
            .map_err(|e| acted_but_unusable(e, SCHEME, "YooKassa canceled the payment", Some(&p.id), Some(&key)))
    }

    /// YooKassa requires an amount on every refund: a full refund is what the payment has left, read
    /// from the payment first. Repeated after it succeeded, that is zero, and the call fails with
    /// `InvalidInput` ("nothing left to refund") rather than refund twice.
    async fn refund(&self, request: &CreateRefund) -> Result<Refund> {
        request.check()?;
        let amount = match request.amount {
            Some(a) => a,
            None => {
                let left = self
                    .left_to_refund(&request.payment_id)
                    .await
                    .map_err(|e| nothing_sent(e, "reading what the payment has left to refund"))?;
                if !left.is_positive() {
                    return Err(Error::invalid_input("the payment has nothing left to refund").with_provider(SCHEME));
                }
                left
            }
        };
        let mut wire = CreateRefundRequest::new(request.payment_id.clone(), Amount::from_money(amount));
        wire.description = request.description.clone().or_else(|| request.reason.clone());
        wire.metadata = request.metadata.clone();
        let key = or_random(request.idempotency_key.as_ref());
        let r = self.client.create_refund(&wire, &key).await?;
        normalise_refund(&r)
            .map_err(|e| acted_but_unusable(e, SCHEME, "YooKassa created the refund", Some(&r.id), Some(&key)))
    }

    async fn get_refund(&self, refund_id: &str) -> Result<Refund> {
        let r = self.client.get_refund(refund_id).await?;
        normalise_refund(&r).map_err(|e| read_but_unusable(e, SCHEME, &format!("YooKassa's refund {}", r.id)))
    }

    async fn list_refunds(&self, payment_id: &str) -> Result<Vec<Refund>> {
        let mut out = Vec::new();
        let mut query = model::ListQuery::default().payment_id(payment_id).limit(100);
        for _ in 0..MAX_PAGES {
            let page = self.client.list_refunds(&query).await?;
            for r in &page.items {
                out.push(
                    normalise_refund(r)
                        .map_err(|e| read_but_unusable(e, SCHEME, &format!("YooKassa's refund {}", r.id)))?,
                );
            }
            match page.next_cursor {
                Some(c) if !c.is_empty() && !page.items.is_empty() => query = query.cursor(c),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<WebhookOutcome> {
        let v = self.verifier.verify(&self.client, request).await?;
        let event_type = v.trusted_event();
        let claimed_event_type = (v.claimed.event != event_type).then(|| v.claimed.event.clone());
        if let Some(claimed) = &claimed_event_type {
            tracing::info!(
                provider = SCHEME,
                claimed = claimed.as_str(),
                fetched = event_type.as_str(),
                "notification's state differs from the fetched one; trusting the fetched state"
            );
        }
        // YooKassa sends no event id. "<trusted event>:<object id>" names the state change itself, so
        // repeats of it are recognised and a forged "succeeded" cannot shadow the real one later.
        let event_id = format!("{event_type}:{}", v.object_id());
        let object = match &v.fetched {
            Fetched::Payment(p) => WebhookObject::Payment(Box::new(normalise_payment(p)?)),
            Fetched::Refund(r) => WebhookObject::Refund(normalise_refund(r)?),
            Fetched::Unverified(raw) => WebhookObject::Other {
                kind: v.claimed.event.split('.').next().unwrap_or("").to_owned(),
                raw: raw.clone(),
            },
        };
        if !self.events.claim(&dedupe_key(SCHEME, &event_id)).await? {
            return Ok(WebhookOutcome::Duplicate { event_id });
        }
        Ok(WebhookOutcome::Event(Box::new(PaymentWebhook {
            provider: SCHEME,
            event_id,
            event_type,
            claimed_event_type,
            object,
            raw: serde_json::to_value(&v.claimed)?,
        })))
    }
}

//! [`PaymentGateway`] over YooKassa.

use std::collections::BTreeMap;
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
use crate::client::YooKassaClient;
use crate::config::YooKassaConfig;
use crate::model::{self, Amount, CaptureRequest, ConfirmationRequest, CreatePaymentRequest, CreateRefundRequest};
use crate::webhook::YooKassaWebhook;

/// The longest description YooKassa takes.
const MAX_DESCRIPTION: usize = 128;

/// The most pages [`PaymentGateway::list_refunds`] follows (100 refunds each).
const MAX_PAGES: usize = 50;

/// YooKassa behind the [`PaymentGateway`] trait. Cheap to clone.
#[derive(Debug, Clone)]
pub struct YooKassaGateway {
    client: YooKassaClient,
    webhook: YooKassaWebhook,
}

impl YooKassaGateway {
    /// A gateway for this configuration, deduplicating webhooks in memory.
    pub fn new(config: YooKassaConfig) -> Result<YooKassaGateway> {
        let client = YooKassaClient::new(config)?;
        Ok(YooKassaGateway {
            webhook: YooKassaWebhook::new(client.clone())?,
            client,
        })
    }

    /// A gateway from a `yookassa://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<YooKassaGateway> {
        YooKassaGateway::new(YooKassaConfig::from_dsn(dsn)?)
    }

    /// Keeps the record of handled webhooks in the host's store.
    pub fn with_event_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.webhook = self.webhook.with_event_store(store);
        self
    }

    /// The wire-level client, for operations the trait does not cover.
    pub fn client(&self) -> &YooKassaClient {
        &self.client
    }

    /// The notifications' verifier (what [`PaymentGateway::handle_webhook`] uses).
    pub fn webhook(&self) -> &YooKassaWebhook {
        &self.webhook
    }

    /// The event store.
    pub fn event_store(&self) -> &Arc<dyn EventStore> {
        self.webhook.event_store()
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
    let mut out = Payment::new(
        SCHEME,
        p.id.clone(),
        status,
        p.status.clone(),
        amount,
        serde_json::to_value(p)?,
    );
    out.captured = (status == PaymentStatus::Succeeded).then_some(amount);
    out.refunded = refunded;
    out.confirmation_url = p.confirmation.as_ref().and_then(|c| c.confirmation_url.clone());
    out.metadata = metadata(&p.metadata);
    out.created_at = parse_time(p.created_at.as_ref());
    Ok(out)
}

/// A YooKassa refund, normalised.
pub fn normalise_refund(r: &model::Refund) -> Result<Refund> {
    let amount = r.amount.to_money().map_err(|e| e.with_provider(SCHEME))?;
    let mut out = Refund::new(
        SCHEME,
        r.id.clone(),
        r.payment_id.clone(),
        r.status.clone(),
        amount,
        serde_json::to_value(r)?,
    );
    out.created_at = parse_time(r.created_at.as_ref());
    Ok(out)
}

#[async_trait]
impl PaymentGateway for YooKassaGateway {
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
        self.webhook.outcome(request).await
    }
}

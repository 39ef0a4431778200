//! `POST /webhooks/payments`: the provider's notifications, verified by the payment library
//! (YooKassa: source address and a re-fetch of the object; Stripe: the `Stripe-Signature` HMAC).
//!
//! - A request that fails verification is `401` and nothing is recorded.
//! - A verified event is claimed in `payment_events` under its event id (the table's UNIQUE index is
//!   the claim, so every replica on the database agrees); a redelivery finds the claim taken, answers
//!   `200` and changes nothing.
//! - The payment it is about (found by the provider's payment id, the PaymentIntent id behind a Stripe
//!   Checkout Session, or the `crm_payment_id` metadata) takes the verified status, in the same
//!   transaction that records the event. If that fails the claim is released and the provider gets a
//!   `503`, so it delivers the event again.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use switchboard::ErrorKind;
use switchboard::payments::{EventStore, PaymentWebhook, WebhookObject, WebhookOutcome};
use switchboard::store::sqlx::{self, SqlitePool};

use super::{gateway_of, store_payment};
use crate::app::AppState;
use crate::db::now;
use crate::error::{ApiError, ApiResult};

/// The payment library's [`EventStore`] over `payment_events`: a claim is a row.
#[derive(Debug, Clone)]
pub struct SqliteEventStore {
    pool: SqlitePool,
}

impl SqliteEventStore {
    /// A store on the CRM's database.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteEventStore { pool }
    }
}

#[async_trait::async_trait]
impl EventStore for SqliteEventStore {
    async fn claim(&self, key: &str) -> switchboard::Result<bool> {
        let done =
            sqlx::query("INSERT INTO payment_events (event_id, received_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
                .bind(key)
                .bind(now())
                .execute(&self.pool)
                .await
                .map_err(|e| {
                    switchboard::Error::new(ErrorKind::Unavailable, format!("claiming a payment event: {e}"))
                })?;
        Ok(done.rows_affected() == 1)
    }

    async fn release(&self, key: &str) -> switchboard::Result<()> {
        sqlx::query("DELETE FROM payment_events WHERE event_id = ?1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|e| switchboard::Error::new(ErrorKind::Unavailable, format!("releasing a payment event: {e}")))
    }
}

/// The handler.
pub async fn receive(State(app): State<AppState>, request: Request) -> Response {
    match handle(&app, request).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(app: &AppState, request: Request) -> ApiResult<()> {
    let gateway = gateway_of(app)?.clone();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, switchboard::core::webhook::MAX_WEBHOOK_BODY)
        .await
        .map_err(|_| ApiError::invalid("body", "larger than 1 MiB or cut off"))?;
    let mut request = crate::delivery::webhook_request(app, parts.method, &parts.uri, parts.headers, body);
    if let Some(ip) = peer {
        // YooKassa's notifications are verified by the address they come from.
        request = request.with_remote_addr(ip);
    }
    let outcome = gateway.handle_webhook(&request).await.map_err(|e| {
        if e.kind() == ErrorKind::Auth {
            tracing::warn!(error = %e, "payment webhook refused");
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "the notification could not be verified",
            )
        } else {
            ApiError::from(e)
        }
    })?;
    let event = match outcome {
        WebhookOutcome::Event(event) => event,
        WebhookOutcome::Duplicate { event_id } => {
            tracing::debug!(event_id, "payment webhook delivered again; already handled");
            return Ok(());
        }
        _ => return Ok(()),
    };
    if let Err(e) = apply(app.pool(), &event).await {
        // Let the provider deliver it again rather than lose it.
        let _ = SqliteEventStore::new(app.pool().clone())
            .release(&event.dedupe_key())
            .await;
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("could not record the event ({e}); deliver it again"),
        ));
    }
    Ok(())
}

/// Records the event's type and payment and moves the payment on, in one transaction.
async fn apply(pool: &SqlitePool, event: &PaymentWebhook) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let find = |provider_id: String, crm_id: Option<i64>| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT id FROM payments WHERE provider_payment_id = ?1 OR provider_intent_id = ?1 OR id = ?2 LIMIT 1",
        )
        .bind(provider_id)
        .bind(crm_id)
        .fetch_optional(pool)
        .await
    };
    let payment_id = match &event.object {
        WebhookObject::Payment(p) => {
            let crm_id = p.metadata.get("crm_payment_id").and_then(|v| v.parse().ok());
            let found = find(p.id.clone(), crm_id).await?;
            if let Some(id) = found {
                // A Checkout Session's PaymentIntent is known from here on, for its own events.
                store_payment(&mut *tx, id, p).await?;
            }
            found
        }
        WebhookObject::Refund(r) => {
            let found = find(r.payment_id.clone(), None).await?;
            if let Some(id) = found {
                sqlx::query("UPDATE payment_refunds SET status = ?2, updated_at = ?3 WHERE provider_refund_id = ?1")
                    .bind(&r.id)
                    .bind(r.status.as_str())
                    .bind(now())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE payments SET refunded_minor = (SELECT COALESCE(SUM(amount_minor), 0)
                     FROM payment_refunds WHERE payment_id = ?1 AND status = 'succeeded'), updated_at = ?2
                     WHERE id = ?1",
                )
                .bind(id)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            }
            found
        }
        _ => None,
    };
    sqlx::query("UPDATE payment_events SET type = ?2, payment_id = ?3 WHERE event_id = ?1")
        .bind(event.dedupe_key())
        .bind(&event.event_type)
        .bind(payment_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

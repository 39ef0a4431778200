//! Payments: the CRM charges customers through YooKassa or Stripe (`CRM_PAYMENTS`), refunds them, and
//! learns from the provider's webhooks when they paid.
//!
//! Endpoints:
//! - `POST /api/payments` `{"application_id"?, "amount_minor", "currency"?: "RUB", "description",
//!   "customer_email", "return_url"}`, optionally with an `Idempotency-Key` header: `201 {"id",
//!   "status", "confirmation_url", ...}`; send the customer to `confirmation_url`.
//! - `GET /api/payments/{id}`: the payment, refreshed from the provider first.
//! - `POST /api/payments/{id}/refunds` `{"amount_minor"}`: a partial (or the remaining) refund; more
//!   than what remains is `409` naming the remaining amount.
//! - `POST /webhooks/payments`: the provider's notifications (see [`webhook`]).
//!
//! **Never charge twice.** The row is written *first*, with the client's `Idempotency-Key` (unique),
//! and only then is the payment created at the provider, under a provider key derived from the row
//! (`crm-payment-<id>`). A client that repeats its POST with the same header finds the row; a crash
//! between the steps leaves a row in `creating`, and the repeat creates at the provider with the same
//! provider key, which the provider answers with the first payment instead of a second one. The same
//! header with a different body is `409`. Without the header every POST is a new payment: clients that
//! retry must send one. Refunds work the same way: the refund row (with its key
//! `crm-refund-<row id>`) is written before the provider is called, and a refund POST repeated with
//! the same `Idempotency-Key` answers the refund it made (asking the provider again, under the same key,
//! only while its first answer is missing).
//!
//! Payment ids in URLs are the CRM's; the provider's id is in `provider_payment_id`.

pub mod webhook;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use switchboard::payments::{
    CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, Payment, PaymentGateway, RefundStatus,
};
use switchboard::store::sqlx::{self, FromRow, SqlitePool};

use crate::app::{AppState, Wired};
use crate::config::{Config, Integration};
use crate::db::{Migration, now};
use crate::domain::text_field;
use crate::error::{ApiError, ApiResult, JsonBody};

/// The tables.
pub static MIGRATION: Migration = Migration {
    name: "0014_payments",
    statements: &[
        "CREATE TABLE payments (
            id INTEGER PRIMARY KEY,
            application_id INTEGER REFERENCES applications(id),
            provider TEXT NOT NULL,
            provider_payment_id TEXT,
            provider_intent_id TEXT,
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            currency TEXT NOT NULL,
            status TEXT NOT NULL,
            description TEXT NOT NULL,
            customer_email TEXT NOT NULL,
            return_url TEXT NOT NULL,
            confirmation_url TEXT,
            refunded_minor INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT NOT NULL UNIQUE,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)",
        "CREATE INDEX payments_by_provider_id ON payments (provider_payment_id)",
        "CREATE INDEX payments_by_intent_id ON payments (provider_intent_id)",
        "CREATE TABLE payment_refunds (
            id INTEGER PRIMARY KEY,
            payment_id INTEGER NOT NULL REFERENCES payments(id),
            provider_refund_id TEXT,
            amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
            status TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            client_key TEXT,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (payment_id, client_key))",
        "CREATE TABLE payment_events (
            id INTEGER PRIMARY KEY,
            event_id TEXT NOT NULL UNIQUE,
            type TEXT,
            payment_id INTEGER REFERENCES payments(id),
            received_at TEXT NOT NULL)",
    ],
};

/// The payment gateway for `CRM_PAYMENTS`, with its webhook deduplication kept in `payment_events`
/// (so every replica on the database recognises a redelivery). `None` when payments are off.
pub fn gateway(
    config: &Config,
    wired: &Option<Wired>,
    pool: &SqlitePool,
) -> switchboard::Result<Option<Arc<dyn PaymentGateway>>> {
    let Some(wired) = wired else { return Ok(None) };
    let dsn = match (&config.payments, &wired.simulator) {
        (_, Some(sim)) => sim.dsn(),
        (Integration::Dsn(dsn), None) => dsn.clone(),
        _ => return Ok(None),
    };
    let dsn = switchboard::Dsn::parse(&dsn)?;
    let events = Arc::new(webhook::SqliteEventStore::new(pool.clone()));
    Ok(Some(match dsn.scheme() {
        "yookassa" => Arc::new(switchboard::yookassa::YooKassaGateway::from_dsn(&dsn)?.with_event_store(events)),
        "stripe" => Arc::new(switchboard::stripe::StripeGateway::from_dsn(&dsn)?.with_event_store(events)),
        other => {
            return Err(switchboard::Error::config(format!(
                "CRM_PAYMENTS: {other} is not a payment provider (yookassa or stripe)"
            )));
        }
    }))
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/payments", post(create))
        .route("/api/payments/{id}", get(read))
        .route("/api/payments/{id}/refunds", post(refund))
        .route("/webhooks/payments", post(webhook::receive))
}

fn gateway_of(app: &AppState) -> ApiResult<&Arc<dyn PaymentGateway>> {
    app.payments
        .as_ref()
        .ok_or_else(|| ApiError::integration_off("payments", "CRM_PAYMENTS"))
}

/// A payment as stored and answered.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct PaymentRow {
    /// The CRM's id.
    pub id: i64,
    /// The application it pays for.
    pub application_id: Option<i64>,
    /// `yookassa` or `stripe`.
    pub provider: String,
    /// The provider's id, once created there.
    pub provider_payment_id: Option<String>,
    /// In minor units.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// `creating` until the provider answered, then the provider's normalised status.
    pub status: String,
    /// Shown to the customer.
    pub description: String,
    /// Where the customer pays.
    pub confirmation_url: Option<String>,
    /// Refunded so far, in minor units.
    pub refunded_minor: i64,
    /// Why the last provider call failed, if it did.
    pub last_error: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    #[serde(skip)]
    customer_email: String,
    #[serde(skip)]
    return_url: String,
}

const COLUMNS: &str = "id, application_id, provider, provider_payment_id, amount_minor, currency, status, description,
    confirmation_url, refunded_minor, last_error, created_at, updated_at, customer_email, return_url";

/// One payment, or `404`.
pub async fn payment(pool: &SqlitePool, id: i64) -> ApiResult<PaymentRow> {
    sqlx::query_as::<_, PaymentRow>(&format!("SELECT {COLUMNS} FROM payments WHERE id = ?1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("payment {id}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPayment {
    application_id: Option<i64>,
    amount_minor: i64,
    #[serde(default = "rub")]
    currency: String,
    description: String,
    customer_email: String,
    return_url: String,
}

fn rub() -> String {
    "RUB".into()
}

fn check_url(field: &str, url: &str) -> ApiResult<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| ApiError::invalid(field, "must be an http:// or https:// URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::invalid(
            field,
            "must be an absolute URL with a host, without spaces",
        ));
    }
    Ok(())
}

/// The client's `Idempotency-Key` ([`crate::delivery::idempotency_key`], the reader every endpoint
/// uses), also held to the payment model's rule for keys (1 to 64 visible ASCII characters).
fn client_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let key = crate::delivery::idempotency_key(headers)?;
    if let Some(k) = &key {
        IdempotencyKey::new(k.as_str()).map_err(|e| ApiError::invalid("Idempotency-Key", e))?;
    }
    Ok(key)
}

async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(p): JsonBody<NewPayment>,
) -> ApiResult<(StatusCode, Json<PaymentRow>)> {
    let gateway = gateway_of(&app)?.clone();
    if p.amount_minor <= 0 {
        return Err(ApiError::invalid("amount_minor", "must be above zero"));
    }
    let currency = Currency::from_code(&p.currency).map_err(|e| ApiError::invalid("currency", e))?;
    // YooKassa takes at most 128 characters; the same limit for every provider keeps them swappable.
    text_field("description", &p.description, 128)?;
    switchboard::Recipient::email(p.customer_email.as_str()).map_err(|e| ApiError::invalid("customer_email", e))?;
    check_url("return_url", &p.return_url)?;
    // Without the header every POST is a new payment.
    let key = client_key(&headers)?.unwrap_or_else(|| IdempotencyKey::random().as_str().to_owned());

    let at = now();
    let inserted = sqlx::query(
        "INSERT INTO payments (application_id, provider, amount_minor, currency, status, description, customer_email,
         return_url, idempotency_key, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'creating', ?5, ?6, ?7, ?8, ?9, ?9) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(p.application_id)
    .bind(gateway.provider())
    .bind(p.amount_minor)
    .bind(currency.code())
    .bind(&p.description)
    .bind(&p.customer_email)
    .bind(&p.return_url)
    .bind(&key)
    .bind(&at)
    .execute(app.pool())
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
            "application_id: no such record",
        ),
        _ => ApiError::internal(e),
    })?;
    let row: PaymentRow = sqlx::query_as(&format!("SELECT {COLUMNS} FROM payments WHERE idempotency_key = ?1"))
        .bind(&key)
        .fetch_one(app.pool())
        .await?;
    if inserted.rows_affected() == 0 {
        // A repeat: it must be the same request.
        let same = row.application_id == p.application_id
            && row.amount_minor == p.amount_minor
            && row.currency == currency.code()
            && row.description == p.description
            && row.customer_email == p.customer_email
            && row.return_url == p.return_url;
        if !same {
            return Err(ApiError::conflict(
                "Idempotency-Key was already used for a different payment; use a new key for a new payment",
            ));
        }
        if row.provider_payment_id.is_some() {
            return Ok((StatusCode::CREATED, Json(row)));
        }
    }
    // First attempt, or a repeat after the provider call failed or the process died: the provider
    // key comes from the row, so the provider answers a repeat with the payment it already made.
    let provider_key = IdempotencyKey::new(format!("crm-payment-{}", row.id)).map_err(ApiError::internal)?;
    let request = CreatePayment::new(Money::from_minor(row.amount_minor, currency))
        .description(row.description.clone())
        .return_url(row.return_url.clone())
        .customer_email(row.customer_email.clone())
        .metadata("crm_payment_id", row.id.to_string())
        .idempotency_key(provider_key);
    match gateway.create_payment(&request).await {
        Ok(created) => {
            store_payment(app.pool(), row.id, &created).await?;
            Ok((StatusCode::CREATED, Json(payment(app.pool(), row.id).await?)))
        }
        Err(e) => {
            sqlx::query("UPDATE payments SET last_error = ?2, updated_at = ?3 WHERE id = ?1")
                .bind(row.id)
                .bind(e.to_string())
                .bind(now())
                .execute(app.pool())
                .await?;
            Err(e.into())
        }
    }
}

/// Writes what the provider says about a payment into its row.
pub async fn store_payment<'e, E>(db: E, id: i64, p: &Payment) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "UPDATE payments SET provider_payment_id = COALESCE(provider_payment_id, ?2),
         provider_intent_id = COALESCE(?3, provider_intent_id), status = ?4,
         confirmation_url = COALESCE(?5, confirmation_url), refunded_minor = COALESCE(?6, refunded_minor),
         last_error = NULL, updated_at = ?7 WHERE id = ?1",
    )
    .bind(id)
    .bind(&p.id)
    .bind(&p.intent_id)
    .bind(p.status.as_str())
    .bind(&p.confirmation_url)
    .bind(p.refunded.map(|m| m.minor()))
    .bind(now())
    .execute(db)
    .await
    .map(drop)
}

async fn read(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<PaymentRow>> {
    let row = payment(app.pool(), id).await?;
    if let Some(provider_id) = &row.provider_payment_id {
        let fresh = gateway_of(&app)?.get_payment(provider_id).await?;
        store_payment(app.pool(), id, &fresh).await?;
    }
    Ok(Json(payment(app.pool(), id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRefund {
    amount_minor: i64,
}

/// A refund as answered.
#[derive(Debug, Serialize, FromRow)]
struct RefundRow {
    id: i64,
    payment_id: i64,
    provider_refund_id: Option<String>,
    amount_minor: i64,
    status: String,
}

async fn refund(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    JsonBody(r): JsonBody<NewRefund>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let gateway = gateway_of(&app)?.clone();
    if r.amount_minor <= 0 {
        return Err(ApiError::invalid("amount_minor", "must be above zero"));
    }
    let client = client_key(&headers)?;
    // BEGIN IMMEDIATE: two refunds of one payment at once cannot both pass the remaining-amount check.
    let mut tx = app.pool().begin_with("BEGIN IMMEDIATE").await?;
    let row = sqlx::query_as::<_, PaymentRow>(&format!("SELECT {COLUMNS} FROM payments WHERE id = ?1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("payment {id}")))?;
    let Some(provider_id) = row.provider_payment_id.clone() else {
        return Err(ApiError::conflict(format!(
            "payment {id} was not created at the provider"
        )));
    };
    // Refund rows that did not fail count against what is left, pending ones included.
    let taken: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(amount_minor), 0) FROM payment_refunds
         WHERE payment_id = ?1 AND status NOT IN ('failed', 'canceled')",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let mut remaining = row.amount_minor - taken.max(row.refunded_minor);

    // A retried POST (same Idempotency-Key) is the same refund: answered as it stands, or, when the
    // provider's answer was lost, asked again under the same provider key — never a second refund.
    let earlier: Option<(i64, i64, String)> = match &client {
        Some(k) => {
            sqlx::query_as(
                "SELECT id, amount_minor, status FROM payment_refunds WHERE payment_id = ?1 AND client_key = ?2",
            )
            .bind(id)
            .bind(k)
            .fetch_optional(&mut *tx)
            .await?
        }
        None => None,
    };
    let refund_id = match earlier {
        Some((_, amount, _)) if amount != r.amount_minor => {
            return Err(ApiError::conflict(
                "Idempotency-Key was already used for a different refund; use a new key for a new refund",
            ));
        }
        Some((refund_id, amount, status)) if status == "creating" => {
            // Still counted in `taken`; the answer's remainder is computed without it below.
            remaining += amount;
            refund_id
        }
        Some((refund_id, amount, status)) if status == "failed" => {
            // It proved not sent: asking again under the same provider key is safe, if it still fits.
            if amount > remaining {
                return Err(ApiError::conflict(format!(
                    "amount_minor: {amount} is more than the {remaining} that remains to refund"
                )));
            }
            sqlx::query("UPDATE payment_refunds SET status = 'creating', updated_at = ?2 WHERE id = ?1")
                .bind(refund_id)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            refund_id
        }
        Some((refund_id, _, _)) => {
            tx.commit().await?;
            return refund_answer(&app, refund_id, remaining, StatusCode::OK).await;
        }
        None => {
            if row.status != "succeeded" {
                return Err(ApiError::conflict(format!(
                    "payment {id} is {}; only a succeeded payment can be refunded",
                    row.status
                )));
            }
            if r.amount_minor > remaining {
                return Err(ApiError::conflict(format!(
                    "amount_minor: {} is more than the {remaining} that remains to refund",
                    r.amount_minor
                )));
            }
            let refund_id: i64 = sqlx::query_scalar(
                "INSERT INTO payment_refunds (payment_id, amount_minor, status, idempotency_key, client_key,
                 created_at, updated_at)
                 VALUES (?1, ?2, 'creating', ?3, ?4, ?5, ?5) RETURNING id",
            )
            .bind(id)
            .bind(r.amount_minor)
            .bind(format!("pending-{}", IdempotencyKey::random().as_str()))
            .bind(&client)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE payment_refunds SET idempotency_key = ?2 WHERE id = ?1")
                .bind(refund_id)
                .bind(format!("crm-refund-{refund_id}"))
                .execute(&mut *tx)
                .await?;
            refund_id
        }
    };
    tx.commit().await?;
    let key = format!("crm-refund-{refund_id}");

    let currency = Currency::from_code(&row.currency).map_err(ApiError::internal)?;
    let request = CreateRefund::partial(provider_id, Money::from_minor(r.amount_minor, currency))
        .idempotency_key(IdempotencyKey::new(key).map_err(ApiError::internal)?);
    match gateway.refund(&request).await {
        Ok(done) => {
            let status = match done.status {
                RefundStatus::Unknown => "pending",
                s => s.as_str(),
            };
            let mut tx = app.pool().begin().await?;
            sqlx::query(
                "UPDATE payment_refunds SET provider_refund_id = ?2, status = ?3, last_error = NULL, updated_at = ?4
                 WHERE id = ?1",
            )
            .bind(refund_id)
            .bind(&done.id)
            .bind(status)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE payments SET refunded_minor = (SELECT COALESCE(SUM(amount_minor), 0) FROM payment_refunds
                 WHERE payment_id = ?1 AND status = 'succeeded'), updated_at = ?2 WHERE id = ?1",
            )
            .bind(id)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Err(e) => {
            // Sent for sure not: the refund row is void and its amount free again. Otherwise it stays
            // `creating` (counted against the remainder) until someone looks at the provider.
            let status = if e.dispatch() == switchboard::Dispatch::NotSent {
                "failed"
            } else {
                "creating"
            };
            sqlx::query("UPDATE payment_refunds SET status = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1")
                .bind(refund_id)
                .bind(status)
                .bind(e.to_string())
                .bind(now())
                .execute(app.pool())
                .await?;
            return Err(e.into());
        }
    }
    refund_answer(&app, refund_id, remaining - r.amount_minor, StatusCode::CREATED).await
}

/// The refund as stored, with what remains refundable.
async fn refund_answer(
    app: &AppState,
    refund_id: i64,
    remaining: i64,
    status: StatusCode,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let refund: RefundRow = sqlx::query_as(
        "SELECT id, payment_id, provider_refund_id, amount_minor, status FROM payment_refunds WHERE id = ?1",
    )
    .bind(refund_id)
    .fetch_one(app.pool())
    .await?;
    Ok((
        status,
        Json(serde_json::json!({ "refund": refund, "remaining_minor": remaining })),
    ))
}

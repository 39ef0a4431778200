//! SMS to customers and drivers, each a row in `sms_messages` that follows its message from the
//! request to the handset.
//!
//! Endpoints:
//! - `POST /api/sms` `{"phone": "+7…", "text": "…", "application_id": 12}` (`application_id` optional,
//!   `Idempotency-Key` header optional): checks the number (`400` naming `phone`), the text (`400` when
//!   empty or longer than `CRM_SMS_MAX_SEGMENTS` parts) and the application (`422` when unknown), then
//!   stores the row and queues the SMS in the outbox in **one** transaction, under the key
//!   `sms-<row id>`. Answers `202` with the row (`status: queued`). A POST repeated with the same
//!   `Idempotency-Key` answers the first row with `200` and queues nothing; the same key with another
//!   number or text is `409`.
//! - `GET /api/sms/{id}`; `GET /api/sms?application_id=12` (newest first, at most 500).
//! - `POST /webhooks/sms`: the provider's delivery reports, verified and decoded by the Messenger
//!   (SMS.ru's token in the URL, Twilio's signature) and answered exactly as the provider wants
//!   (`100` for SMS.ru). A report that fails verification changes nothing.
//!
//! A row moves `queued` → `sent` (provider, provider message id(s), cost when known) or `failed`
//! (the dead letter's cause) or `maybe_sent` (a person checks) as the outbox settles its job (see
//! [`crate::delivery`]), then `sent` → `delivered` / `failed` by delivery report. Reports that arrive
//! before the row knows its provider id are kept in `sms_reports` and applied when it does.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `CRM_SMS_MAX_SEGMENTS` | `6` | the longest text accepted, in SMS parts (GSM-7 or UCS-2, as the library counts them) |

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use switchboard::core::segment::Segmentation;
use switchboard::store::MessageKey;
use switchboard::store::sqlx::{self, FromRow, SqliteConnection};
use switchboard::{DeliveryStatus, Event, Message, PhoneNumber, StatusReport, WebhookAnswer};

use crate::app::AppState;
use crate::db::{Migration, now};
use crate::delivery;
use crate::error::{ApiError, ApiResult, JsonBody, QueryParams};

/// The tables.
pub static MIGRATION: Migration = Migration {
    name: "0010_sms",
    statements: &[
        "CREATE TABLE sms_messages (
            id INTEGER PRIMARY KEY,
            application_id INTEGER REFERENCES applications(id),
            phone TEXT NOT NULL,
            text TEXT NOT NULL,
            segments INTEGER NOT NULL,
            encoding TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'maybe_sent')),
            idempotency_key TEXT UNIQUE,
            message_key TEXT,
            outbox_job INTEGER,
            provider TEXT,
            provider_message_id TEXT,
            provider_ids TEXT,
            cost TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            delivered_at TEXT,
            updated_at TEXT NOT NULL)",
        "CREATE INDEX sms_by_application ON sms_messages (application_id, id)",
        "CREATE INDEX sms_by_status ON sms_messages (status, id)",
        "CREATE INDEX sms_by_provider_id ON sms_messages (provider_message_id)",
        // Every delivery report, kept: the ones that beat the send's settling are applied later.
        "CREATE TABLE sms_reports (
            id INTEGER PRIMARY KEY,
            provider_message_id TEXT NOT NULL,
            status TEXT NOT NULL,
            raw_status TEXT NOT NULL,
            error TEXT,
            cost TEXT,
            received_at TEXT NOT NULL)",
        "CREATE INDEX sms_reports_by_id ON sms_reports (provider_message_id, id)",
    ],
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sms", post(send_sms).get(list_sms))
        .route("/api/sms/{id}", get(get_sms))
        .route("/webhooks/sms", post(webhook))
}

/// One SMS as stored.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Sms {
    /// Its id.
    pub id: i64,
    /// The application it is about.
    pub application_id: Option<i64>,
    /// The number, E.164.
    pub phone: String,
    /// The text.
    pub text: String,
    /// How many SMS parts it takes.
    pub segments: i64,
    /// `GSM-7` or `UCS-2`.
    pub encoding: String,
    /// `queued`, `sent`, `delivered`, `failed` or `maybe_sent`.
    pub status: String,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// The outbox key it is sent under.
    pub message_key: Option<String>,
    /// The outbox job.
    pub outbox_job: Option<i64>,
    /// The provider that took it (`smsru`, `twilio`).
    pub provider: Option<String>,
    /// The provider's id for it.
    pub provider_message_id: Option<String>,
    /// Every provider id (one per part where the provider numbers parts), as a JSON array.
    #[serde(serialize_with = "json_text")]
    pub provider_ids: Option<String>,
    /// What it cost, `"amount CURRENCY"`, when the provider said.
    pub cost: Option<String>,
    /// Why it failed, or the last attempt's error.
    pub error: Option<String>,
    /// When it was requested.
    pub created_at: String,
    /// When the provider took it.
    pub sent_at: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<String>,
    /// When it last changed.
    pub updated_at: String,
}

/// A JSON array kept as text, written out as the array.
fn json_text<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let value = v
        .as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .unwrap_or(serde_json::Value::Array(Vec::new()));
    value.serialize(s)
}

const COLUMNS: &str = "id, application_id, phone, text, segments, encoding, status, idempotency_key, message_key, \
     outbox_job, provider, provider_message_id, provider_ids, cost, error, created_at, sent_at, delivered_at, updated_at";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSms {
    phone: String,
    text: String,
    application_id: Option<i64>,
}

async fn send_sms(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<NewSms>,
) -> ApiResult<(StatusCode, Json<Sms>)> {
    app.integration(&app.integrations.sms, "SMS", "CRM_SMS")?;
    let idem = delivery::idempotency_key(&headers)?;
    let phone: PhoneNumber = req.phone.parse().map_err(|e| ApiError::invalid("phone", e))?;
    if req.text.trim().is_empty() {
        return Err(ApiError::invalid("text", "must not be empty"));
    }
    let max: usize = app
        .config
        .env
        .parse_or("CRM_SMS_MAX_SEGMENTS", 6)
        .map_err(ApiError::internal)?;
    let seg = Segmentation::of(&req.text);
    if seg.segments > max {
        return Err(ApiError::invalid(
            "text",
            format_args!(
                "takes {} SMS parts ({} characters in {}); at most {max} are sent",
                seg.segments,
                seg.units,
                seg.encoding.as_str()
            ),
        ));
    }

    let mut tx = app.pool().begin_with("BEGIN IMMEDIATE").await?;
    if let Some(key) = &idem
        && let Some(first) = by_idempotency_key(&mut tx, key).await?
    {
        if first.phone != phone.as_e164() || first.text != req.text || first.application_id != req.application_id {
            return Err(ApiError::conflict(
                "Idempotency-Key: already used for a different SMS; use a new key for a new message",
            ));
        }
        return Ok((StatusCode::OK, Json(first)));
    }
    if let Some(a) = req.application_id {
        let known: Option<i64> = sqlx::query_scalar("SELECT id FROM applications WHERE id = ?1")
            .bind(a)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_reference",
                format!("application_id: no application {a}"),
            ));
        }
    }
    let at = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sms_messages (application_id, phone, text, segments, encoding, status, idempotency_key,
            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?7) RETURNING id",
    )
    .bind(req.application_id)
    .bind(phone.as_e164())
    .bind(&req.text)
    .bind(i64::try_from(seg.segments).unwrap_or(i64::MAX))
    .bind(seg.encoding.as_str())
    .bind(&idem)
    .bind(&at)
    .fetch_one(&mut *tx)
    .await?;
    let key = format!("sms-{id}");
    let message = Message::sms(phone, req.text).with_key(MessageKey::new(key.clone())?);
    let job = app.outbox.enqueue(&mut tx, &message).await?;
    sqlx::query("UPDATE sms_messages SET message_key = ?2, outbox_job = ?3 WHERE id = ?1")
        .bind(id)
        .bind(&key)
        .bind(job.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(sms = id, job = %job, to = %message.to.masked(), "SMS queued");
    Ok((StatusCode::ACCEPTED, Json(sms(&app, id).await?)))
}

async fn by_idempotency_key(conn: &mut SqliteConnection, key: &str) -> ApiResult<Option<Sms>> {
    let sql = format!("SELECT {COLUMNS} FROM sms_messages WHERE idempotency_key = ?1");
    Ok(sqlx::query_as(&sql).bind(key).fetch_optional(conn).await?)
}

/// One SMS, or `404`.
pub async fn sms(app: &AppState, id: i64) -> ApiResult<Sms> {
    let sql = format!("SELECT {COLUMNS} FROM sms_messages WHERE id = ?1");
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(app.pool())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("sms {id}")))
}

async fn get_sms(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Sms>> {
    sms(&app, id).await.map(Json)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsFilter {
    application_id: Option<i64>,
}

async fn list_sms(State(app): State<AppState>, QueryParams(f): QueryParams<SmsFilter>) -> ApiResult<Json<Vec<Sms>>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM sms_messages WHERE (?1 IS NULL OR application_id = ?1) ORDER BY id DESC LIMIT 500"
    );
    Ok(Json(
        sqlx::query_as(&sql)
            .bind(f.application_id)
            .fetch_all(app.pool())
            .await?,
    ))
}

async fn webhook(State(app): State<AppState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let request = delivery::webhook_request(&app, method, &uri, headers, body);
    let handled = match app.messenger.handle_webhook("sms", &request).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "SMS webhook refused");
            return delivery::answer(WebhookAnswer::for_error(&e));
        }
    };
    for event in &handled.events {
        if let Event::Delivery(report) = &event.event
            && let Err(e) = record_report(&app, report).await
        {
            // Not acknowledged: the provider delivers the report again.
            tracing::error!(error = %e, "could not record an SMS delivery report");
            return delivery::answer(WebhookAnswer::text(503, "try again"));
        }
    }
    delivery::answer(handled.answer)
}

/// Keeps the report and applies it to the row it is about, if that row already knows its provider id.
async fn record_report(app: &AppState, report: &StatusReport) -> Result<(), sqlx::Error> {
    let error = report.status.is_failure().then(|| {
        let mut e = format!("{} ({})", report.status, report.raw_status);
        if let Some(code) = &report.error_code {
            e.push_str(&format!(", code {code}"));
        }
        if let Some(m) = &report.error_message {
            e.push_str(&format!(": {m}"));
        }
        e
    });
    let cost = report
        .price
        .as_ref()
        .map(|p| format!("{} {}", p.amount(), p.currency()));
    sqlx::query(
        "INSERT INTO sms_reports (provider_message_id, status, raw_status, error, cost, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(&report.provider_id)
    .bind(report.status.as_str())
    .bind(&report.raw_status)
    .bind(&error)
    .bind(&cost)
    .bind(now())
    .execute(app.pool())
    .await?;
    apply(app, &report.provider_id, report.status, error, cost).await
}

/// Moves the rows with provider id `provider_id` on: a delivered or failed report is final; other
/// statuses (queued at the carrier, sent) leave `sent` as it is. A final status is never overwritten.
async fn apply(
    app: &AppState,
    provider_id: &str,
    status: DeliveryStatus,
    error: Option<String>,
    cost: Option<String>,
) -> Result<(), sqlx::Error> {
    let new_status = match status {
        DeliveryStatus::Delivered => "delivered",
        s if s.is_failure() => "failed",
        _ => "sent",
    };
    let at = now();
    sqlx::query(
        "UPDATE sms_messages SET status = ?2, error = COALESCE(?3, error), cost = COALESCE(?4, cost),
            delivered_at = CASE WHEN ?2 = 'delivered' THEN ?5 ELSE delivered_at END, updated_at = ?5
         WHERE status = 'sent' AND (provider_message_id = ?1
            OR EXISTS (SELECT 1 FROM json_each(sms_messages.provider_ids) WHERE json_each.value = ?1))",
    )
    .bind(provider_id)
    .bind(new_status)
    .bind(error)
    .bind(cost)
    .bind(&at)
    .execute(app.pool())
    .await?;
    Ok(())
}

/// Applies the reports that arrived before row `id` learned its provider ids (called once it did).
pub async fn apply_early_reports(app: &AppState, id: i64) -> Result<(), sqlx::Error> {
    let reports: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT r.provider_message_id, r.status, r.error, r.cost FROM sms_reports r, sms_messages m
         WHERE m.id = ?1 AND (r.provider_message_id = m.provider_message_id
            OR EXISTS (SELECT 1 FROM json_each(m.provider_ids) WHERE json_each.value = r.provider_message_id))
         ORDER BY r.id",
    )
    .bind(id)
    .fetch_all(app.pool())
    .await?;
    for (provider_id, status, error, cost) in reports {
        let status = serde_json::from_value(serde_json::Value::String(status)).unwrap_or(DeliveryStatus::Unknown);
        apply(app, &provider_id, status, error, cost).await?;
    }
    Ok(())
}

//! Email: plain messages and the CRM's templates ([`templates`]), with attachments, each a row in
//! `email_messages` queued with its outbox job in one transaction (key `email-<row id>`).
//!
//! Endpoints:
//! - `POST /api/email` `{to, subject, text, html?, attachments?: [{filename, content_type,
//!   content_base64}]}`.
//! - `POST /api/email/template` `{to, template, data: {...}, attachments?}`: `400` naming a field the
//!   template needs and `data` lacks; `400` listing the known templates for an unknown one. Values in
//!   `data` are strings, numbers or booleans.
//! - `GET /api/email/{id}`: the row; it moves `queued` → `sent` / `failed` / `maybe_sent` as the
//!   outbox settles its job ([`crate::delivery`]).
//!
//! Both POSTs take an optional `Idempotency-Key` header (a repeat answers the first row with `200`
//! and queues nothing) and answer `202` with the row. Attachments together may hold at most
//! `CRM_EMAIL_MAX_ATTACHMENT_BYTES` decoded bytes (`413` beyond); the request body limit is raised
//! for these two routes to fit that much in base64.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `CRM_EMAIL_MAX_ATTACHMENT_BYTES` | `10485760` (10 MiB) | the attachments' total decoded size |

pub mod templates;

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use switchboard::core::message::Attachment;
use switchboard::store::MessageKey;
use switchboard::store::sqlx::{self, FromRow};
use switchboard::{Message, Recipient};

use crate::app::AppState;
use crate::db::{Migration, now};
use crate::delivery;
use crate::error::{ApiError, ApiResult, JsonBody};

/// The tables.
pub static MIGRATION: Migration = Migration {
    name: "0011_email",
    statements: &[
        "CREATE TABLE email_messages (
            id INTEGER PRIMARY KEY,
            to_address TEXT NOT NULL,
            subject TEXT NOT NULL,
            template TEXT,
            has_html INTEGER NOT NULL,
            attachments INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'maybe_sent')),
            idempotency_key TEXT UNIQUE,
            request_hash TEXT NOT NULL,
            message_key TEXT,
            outbox_job INTEGER,
            provider TEXT,
            provider_message_id TEXT,
            provider_ids TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            updated_at TEXT NOT NULL)",
        "CREATE INDEX email_by_status ON email_messages (status, id)",
    ],
};

/// Body limit of the two POSTs: 10 MiB of attachments in base64 (4/3) plus the rest.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/email", post(send_email).layer(DefaultBodyLimit::max(BODY_LIMIT)))
        .route(
            "/api/email/template",
            post(send_template).layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/api/email/{id}", get(get_email))
}

/// One email as stored (the content itself waits in the outbox job).
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Email {
    /// Its id.
    pub id: i64,
    /// The recipient.
    pub to_address: String,
    /// The subject as sent.
    pub subject: String,
    /// The template it was rendered from.
    pub template: Option<String>,
    /// Whether it has an HTML part.
    pub has_html: bool,
    /// How many files are attached.
    pub attachments: i64,
    /// `queued`, `sent`, `failed` or `maybe_sent`.
    pub status: String,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// The outbox key it is sent under.
    pub message_key: Option<String>,
    /// The outbox job.
    pub outbox_job: Option<i64>,
    /// The provider (`smtp`).
    pub provider: Option<String>,
    /// The `Message-ID` it was sent with.
    pub provider_message_id: Option<String>,
    /// Why it failed, or the last attempt's error.
    pub error: Option<String>,
    /// When it was requested.
    pub created_at: String,
    /// When the relay took it.
    pub sent_at: Option<String>,
    /// When it last changed.
    pub updated_at: String,
}

const COLUMNS: &str = "id, to_address, subject, template, has_html, attachments, status, idempotency_key, \
     message_key, outbox_job, provider, provider_message_id, error, created_at, sent_at, updated_at";

/// An attachment as a client sends it.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewAttachment {
    filename: String,
    content_type: String,
    content_base64: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewEmail {
    to: String,
    subject: String,
    text: String,
    html: Option<String>,
    #[serde(default)]
    attachments: Vec<NewAttachment>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct NewTemplated {
    to: String,
    template: String,
    #[serde(default)]
    data: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    attachments: Vec<NewAttachment>,
}

async fn send_email(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<NewEmail>,
) -> ApiResult<(StatusCode, Json<Email>)> {
    app.integration(&app.integrations.email, "Email", "CRM_EMAIL")?;
    let to = recipient(&req.to)?;
    crate::domain::text_field("subject", &req.subject, 500)?;
    if req.text.trim().is_empty() {
        return Err(ApiError::invalid("text", "must not be empty"));
    }
    let mut message = Message::email_to(to, req.subject.clone(), req.text.clone());
    if let Some(html) = &req.html {
        message = message.with_html(html.clone());
    }
    let message = attach(&app, message, &req.attachments)?;
    queue(&app, &headers, message, None, hash(&req)).await
}

async fn send_template(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<NewTemplated>,
) -> ApiResult<(StatusCode, Json<Email>)> {
    app.integration(&app.integrations.email, "Email", "CRM_EMAIL")?;
    let to = recipient(&req.to)?;
    let template = templates::template(&req.template).ok_or_else(|| {
        ApiError::invalid(
            "template",
            format_args!(
                "no template {:?}; known: {}",
                req.template,
                templates::names().join(", ")
            ),
        )
    })?;
    let mut vars = BTreeMap::new();
    for (k, v) in &req.data {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => {
                return Err(ApiError::invalid(
                    &format!("data.{k}"),
                    "must be a string, a number or a boolean",
                ));
            }
        };
        vars.insert(k.clone(), v);
    }
    // The renderer names the placeholder that has no value: "the template uses {{driver}} but…".
    let message = template.message(to, &vars).map_err(|e| ApiError::invalid("data", e))?;
    let message = attach(&app, message, &req.attachments)?;
    queue(&app, &headers, message, Some(&req.template), hash(&req)).await
}

fn recipient(to: &str) -> ApiResult<Recipient> {
    Recipient::email(to).map_err(|e| ApiError::invalid("to", e))
}

/// A digest of the request, so that an `Idempotency-Key` reused for another email is refused.
fn hash(req: &impl Serialize) -> String {
    let body = serde_json::to_vec(req).unwrap_or_default();
    switchboard::core::webhook::sha256_hex(&body)
}

/// Decodes and checks the attachments; `413` past the size limit.
fn attach(app: &AppState, mut message: Message, files: &[NewAttachment]) -> ApiResult<Message> {
    let max: usize = app
        .config
        .env
        .parse_or("CRM_EMAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
        .map_err(ApiError::internal)?;
    let mut total = 0usize;
    for (i, f) in files.iter().enumerate() {
        let field = |name: &str| format!("attachments[{i}].{name}");
        crate::domain::text_field(&field("filename"), &f.filename, 255)?;
        if f.filename.contains(['/', '\\', '\r', '\n']) {
            return Err(ApiError::invalid(&field("filename"), "must be a bare file name"));
        }
        let ct = f.content_type.trim();
        let valid_ct = ct.split_once('/').is_some_and(|(t, s)| {
            let token = |x: &str| {
                !x.is_empty()
                    && x.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            token(t) && token(s.split(';').next().unwrap_or("").trim())
        });
        if !valid_ct {
            return Err(ApiError::invalid(
                &field("content_type"),
                "expected a MIME type like application/pdf",
            ));
        }
        let content = STANDARD
            .decode(f.content_base64.trim())
            .map_err(|e| ApiError::invalid(&field("content_base64"), format_args!("not base64: {e}")))?;
        total = total.saturating_add(content.len());
        if total > max {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("attachments: more than {max} bytes in all"),
            ));
        }
        message = message.with_attachment(Attachment {
            filename: f.filename.clone(),
            content_type: ct.to_owned(),
            content: content.into(),
        });
    }
    Ok(message)
}

/// Stores the row and queues the message in one transaction; a repeated `Idempotency-Key` answers
/// the first row.
async fn queue(
    app: &AppState,
    headers: &HeaderMap,
    message: Message,
    template: Option<&str>,
    request_hash: String,
) -> ApiResult<(StatusCode, Json<Email>)> {
    let idem = delivery::idempotency_key(headers)?;
    let mut tx = app.pool().begin_with("BEGIN IMMEDIATE").await?;
    if let Some(key) = &idem {
        let first: Option<(i64, String)> =
            sqlx::query_as("SELECT id, request_hash FROM email_messages WHERE idempotency_key = ?1")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((id, h)) = first {
            drop(tx);
            if h != request_hash {
                return Err(ApiError::conflict(
                    "Idempotency-Key: already used for a different email; use a new key for a new message",
                ));
            }
            return Ok((StatusCode::OK, Json(email(app, id).await?)));
        }
    }
    let at = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO email_messages (to_address, subject, template, has_html, attachments, status, idempotency_key,
            request_hash, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8, ?8) RETURNING id",
    )
    .bind(message.to.address())
    .bind(message.subject.as_deref().unwrap_or_default())
    .bind(template)
    .bind(message.html.is_some())
    .bind(i64::try_from(message.attachments.len()).unwrap_or(i64::MAX))
    .bind(&idem)
    .bind(&request_hash)
    .bind(&at)
    .fetch_one(&mut *tx)
    .await?;
    let key = format!("email-{id}");
    let message = message.with_key(MessageKey::new(key.clone())?);
    let job = app.outbox.enqueue(&mut tx, &message).await?;
    sqlx::query("UPDATE email_messages SET message_key = ?2, outbox_job = ?3 WHERE id = ?1")
        .bind(id)
        .bind(&key)
        .bind(job.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(email = id, job = %job, to = %message.to.masked(), "email queued");
    Ok((StatusCode::ACCEPTED, Json(email(app, id).await?)))
}

/// One email, or `404`.
pub async fn email(app: &AppState, id: i64) -> ApiResult<Email> {
    let sql = format!("SELECT {COLUMNS} FROM email_messages WHERE id = ?1");
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(app.pool())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("email {id}")))
}

async fn get_email(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Email>> {
    email(&app, id).await.map(Json)
}

//! The dispatchers' Telegram bot: a webhook that answers commands, chat linking, and broadcasts.
//!
//! Endpoints:
//! - `POST /webhooks/telegram`: verified by the Messenger the way Telegram secures webhooks (the
//!   `X-Telegram-Bot-Api-Secret-Token` header set with `setWebhook`, compared in constant time); a
//!   forged update is `401` and nothing is done. Each update is recorded by `update_id` in
//!   `telegram_updates` in the same transaction that queues its reply in the outbox under the key
//!   `tg-<update_id>`, so an update Telegram delivers again is answered once. Commands are in
//!   [`commands`].
//! - `POST /api/telegram/link` `{user_id}` → `201 {code, expires_at}`: a single-use code the user
//!   sends as `/start CODE` to link the chat to the account.
//! - `POST /api/telegram/send` `{user_ids: [..]}` or `{role: "dispatcher"}`, with `text`: one message
//!   to each linked chat of those users, queued in one transaction (keys
//!   `tg-send-<broadcast id>-<chat id>`); answers `202 {broadcast_id, chats, users_without_chat}`.
//!   An `Idempotency-Key` repeat answers the first broadcast and queues nothing.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `CRM_TELEGRAM_LINK_TTL_MINUTES` | `15` | how long a link code is valid |

pub mod commands;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use switchboard::store::MessageKey;
use switchboard::store::sqlx;
use switchboard::{Event, Message, WebhookAnswer};

use crate::app::AppState;
use crate::db::{Migration, now, stamp};
use crate::delivery;
use crate::error::{ApiError, ApiResult, JsonBody};

/// The tables.
pub static MIGRATION: Migration = Migration {
    name: "0013_telegram",
    statements: &[
        "CREATE TABLE telegram_link_codes (
            code TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            expires_at TEXT NOT NULL,
            used_at TEXT,
            created_at TEXT NOT NULL)",
        "CREATE TABLE telegram_links (
            chat_id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            linked_at TEXT NOT NULL)",
        "CREATE INDEX telegram_links_by_user ON telegram_links (user_id)",
        "CREATE TABLE telegram_updates (
            update_id INTEGER PRIMARY KEY,
            chat_id TEXT,
            outbox_job INTEGER,
            received_at TEXT NOT NULL)",
        "CREATE TABLE telegram_broadcasts (
            id INTEGER PRIMARY KEY,
            idempotency_key TEXT UNIQUE,
            text TEXT NOT NULL,
            chats INTEGER NOT NULL,
            users_without_chat INTEGER NOT NULL,
            created_at TEXT NOT NULL)",
    ],
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/telegram", post(webhook))
        .route("/api/telegram/link", post(link_code))
        .route("/api/telegram/send", post(broadcast))
}

async fn webhook(State(app): State<AppState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let request = delivery::webhook_request(&app, method, &uri, headers, body);
    let handled = match app.messenger.handle_webhook("telegram", &request).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "Telegram webhook refused");
            return delivery::answer(WebhookAnswer::for_error(&e));
        }
    };
    for event in &handled.events {
        let result = match &event.event {
            Event::Inbound(m) => match (m.raw["update_id"].as_i64(), m.to.as_deref()) {
                (Some(update), Some(chat)) => answer_update(&app, update, chat, &m.text).await,
                _ => Ok(()),
            },
            _ => Ok(()),
        };
        if let Err(e) = result {
            // Not acknowledged: Telegram delivers the update again, and the update id makes it safe.
            tracing::error!(error = %e.message, "could not answer a Telegram update");
            return delivery::answer(WebhookAnswer::text(503, "try again"));
        }
    }
    delivery::answer(handled.answer)
}

/// Records the update and queues its reply, once per `update_id`.
async fn answer_update(app: &AppState, update: i64, chat: &str, text: &str) -> Result<(), ApiError> {
    let mut tx = app.pool().begin_with("BEGIN IMMEDIATE").await?;
    let fresh = sqlx::query(
        "INSERT INTO telegram_updates (update_id, chat_id, received_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (update_id) DO NOTHING",
    )
    .bind(update)
    .bind(chat)
    .bind(now())
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        tracing::debug!(update, "Telegram delivered an update again; it was answered before");
        return Ok(());
    }
    let reply = commands::reply(app, &mut tx, chat, text).await?;
    let message = Message::chat(chat, reply).with_key(MessageKey::new(format!("tg-{update}"))?);
    let job = app.outbox.enqueue(&mut tx, &message).await?;
    sqlx::query("UPDATE telegram_updates SET outbox_job = ?2 WHERE update_id = ?1")
        .bind(update)
        .bind(job.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkRequest {
    user_id: i64,
}

#[derive(Debug, Serialize)]
struct LinkCode {
    code: String,
    expires_at: String,
}

async fn link_code(
    State(app): State<AppState>,
    JsonBody(req): JsonBody<LinkRequest>,
) -> ApiResult<(StatusCode, Json<LinkCode>)> {
    let minutes: i64 = app
        .config
        .env
        .parse_or("CRM_TELEGRAM_LINK_TTL_MINUTES", 15)
        .map_err(ApiError::internal)?;
    let known: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = ?1")
        .bind(req.user_id)
        .fetch_optional(app.pool())
        .await?;
    if known.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
            format!("user_id: no user {}", req.user_id),
        ));
    }
    // 10 characters of an unambiguous alphabet (no 0/O, 1/I): about 50 bits, single use, short-lived.
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let code: String = (0..10)
        .map(|_| char::from(ALPHABET[switchboard::core::random::below(ALPHABET.len() as u64) as usize]))
        .collect();
    let expires_at = stamp(chrono::Utc::now() + chrono::Duration::minutes(minutes.max(1)));
    sqlx::query("INSERT INTO telegram_link_codes (code, user_id, expires_at, created_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(&code)
        .bind(req.user_id)
        .bind(&expires_at)
        .bind(now())
        .execute(app.pool())
        .await?;
    Ok((StatusCode::CREATED, Json(LinkCode { code, expires_at })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BroadcastRequest {
    user_ids: Option<Vec<i64>>,
    role: Option<String>,
    text: String,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct BroadcastAnswer {
    broadcast_id: i64,
    chats: i64,
    users_without_chat: i64,
}

async fn broadcast(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<BroadcastRequest>,
) -> ApiResult<(StatusCode, Json<BroadcastAnswer>)> {
    app.integration(&app.integrations.telegram, "Telegram", "CRM_TELEGRAM")?;
    let idem = delivery::idempotency_key(&headers)?;
    crate::domain::text_field("text", &req.text, 4096)?;
    let users: Vec<i64> = match (&req.user_ids, &req.role) {
        (Some(ids), None) if !ids.is_empty() && ids.len() <= 1000 => ids.clone(),
        (None, Some(role)) => {
            if !["admin", "dispatcher", "driver", "customer"].contains(&role.as_str()) {
                return Err(ApiError::invalid(
                    "role",
                    "must be admin, dispatcher, driver or customer",
                ));
            }
            sqlx::query_scalar("SELECT id FROM users WHERE role = ?1")
                .bind(role)
                .fetch_all(app.pool())
                .await?
        }
        _ => {
            return Err(ApiError::invalid(
                "user_ids",
                "give either user_ids (1 to 1000 ids) or role, not both",
            ));
        }
    };

    let mut tx = app.pool().begin_with("BEGIN IMMEDIATE").await?;
    if let Some(key) = &idem {
        let first: Option<BroadcastAnswer> = sqlx::query_as(
            "SELECT id AS broadcast_id, chats, users_without_chat FROM telegram_broadcasts WHERE idempotency_key = ?1",
        )
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(first) = first {
            return Ok((StatusCode::OK, Json(first)));
        }
    }
    let mut chats: Vec<String> = Vec::new();
    let mut without = 0i64;
    for user in &users {
        let of_user: Vec<String> = sqlx::query_scalar("SELECT chat_id FROM telegram_links WHERE user_id = ?1")
            .bind(user)
            .fetch_all(&mut *tx)
            .await?;
        if of_user.is_empty() {
            without += 1;
        }
        chats.extend(of_user);
    }
    chats.sort();
    chats.dedup();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO telegram_broadcasts (idempotency_key, text, chats, users_without_chat, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    )
    .bind(&idem)
    .bind(&req.text)
    .bind(i64::try_from(chats.len()).unwrap_or(i64::MAX))
    .bind(without)
    .bind(now())
    .fetch_one(&mut *tx)
    .await?;
    for chat in &chats {
        let message =
            Message::chat(chat.as_str(), req.text.clone()).with_key(MessageKey::new(format!("tg-send-{id}-{chat}"))?);
        app.outbox.enqueue(&mut tx, &message).await?;
    }
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(BroadcastAnswer {
            broadcast_id: id,
            chats: i64::try_from(chats.len()).unwrap_or(i64::MAX),
            users_without_chat: without,
        }),
    ))
}

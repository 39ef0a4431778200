//! Push notifications to the CRM users' phones and browsers (FCM).
//!
//! Endpoints:
//! - `POST /api/push/devices` `{user_id, token, platform: android|ios|web, name}`: registers a device,
//!   or moves a known token to this user and name (a token is one app install, so it is the key).
//!   `201` new, `200` updated; `422` for an unknown user.
//! - `GET /api/users/{id}/devices`; `DELETE /api/push/devices/{token}` (`204`, `404`).
//! - `POST /api/push/send` `{user_id, title, body, data: {k: "v"}}` (optional `Idempotency-Key`):
//!   one push per device of the user, each under the key `push-<notification id>-<device id>`, and
//!   the answer lists each device's outcome: `sent` (with the provider's message id), `token_removed`
//!   (FCM said the token is dead: `UNREGISTERED`, `SENDER_ID_MISMATCH` or a malformed token, see
//!   [`switchboard::fcm::is_invalid_token`]; the device is deleted) or `failed` (with the error and
//!   whether it may have gone out).
//!
//! ## Why synchronous, not through the outbox
//!
//! The answer must say which devices got it and which tokens are dead, and the dead-token cleanup
//! needs FCM's answer per device; the outbox would give it only later, to a worker with no client to
//! tell. A push is also worth little once stale, where the outbox would retry it for minutes. So the
//! handler sends through the Messenger directly, still under deterministic keys in the shared key
//! store: a client that repeats the request with the same `Idempotency-Key` reuses the notification
//! and so the keys, and gets the first receipts back instead of a second push (a refused key keeps
//! answering its refusal).

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use switchboard::store::MessageKey;
use switchboard::store::sqlx::{self, FromRow};
use switchboard::{Dispatch, Message, Recipient};

use crate::app::AppState;
use crate::db::{Migration, now};
use crate::delivery;
use crate::error::{ApiError, ApiResult, JsonBody};

/// The tables.
pub static MIGRATION: Migration = Migration {
    name: "0012_push",
    statements: &[
        "CREATE TABLE push_devices (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            token TEXT NOT NULL UNIQUE,
            platform TEXT NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
            name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)",
        "CREATE INDEX push_devices_by_user ON push_devices (user_id)",
        "CREATE TABLE push_notifications (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            data TEXT NOT NULL,
            idempotency_key TEXT UNIQUE,
            created_at TEXT NOT NULL)",
        "CREATE TABLE push_deliveries (
            notification_id INTEGER NOT NULL REFERENCES push_notifications(id),
            device_id INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            provider_message_id TEXT,
            error TEXT,
            at TEXT NOT NULL,
            PRIMARY KEY (notification_id, device_id))",
    ],
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/push/devices", post(register_device))
        .route("/api/push/devices/{token}", delete(delete_device))
        .route("/api/users/{id}/devices", get(user_devices))
        .route("/api/push/send", post(send_push))
}

/// A registered device.
#[derive(Debug, Clone, Serialize, Deserialize, FromRow)]
pub struct Device {
    /// Its id (ignored on register).
    #[serde(default)]
    pub id: i64,
    /// Whose it is.
    pub user_id: i64,
    /// The FCM registration token.
    pub token: String,
    /// `android`, `ios` or `web`.
    pub platform: String,
    /// A name for people ("Ivan's Pixel").
    pub name: String,
}

async fn register_device(
    State(app): State<AppState>,
    JsonBody(d): JsonBody<Device>,
) -> ApiResult<(StatusCode, Json<Device>)> {
    crate::domain::text_field("token", &d.token, 4096)?;
    if d.token.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid("token", "must not contain whitespace"));
    }
    if !["android", "ios", "web"].contains(&d.platform.as_str()) {
        return Err(ApiError::invalid("platform", "must be android, ios or web"));
    }
    crate::domain::text_field("name", &d.name, 200)?;
    user_exists(&app, d.user_id).await?;
    let at = now();
    let mut tx = app.pool().begin_with("BEGIN IMMEDIATE").await?;
    let existed: Option<i64> = sqlx::query_scalar("SELECT id FROM push_devices WHERE token = ?1")
        .bind(&d.token)
        .fetch_optional(&mut *tx)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO push_devices (user_id, token, platform, name, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
            name = excluded.name, updated_at = excluded.updated_at
         RETURNING id",
    )
    .bind(d.user_id)
    .bind(&d.token)
    .bind(&d.platform)
    .bind(&d.name)
    .bind(&at)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let status = if existed.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(Device { id, ..d })))
}

async fn user_exists(app: &AppState, user_id: i64) -> ApiResult<()> {
    let known: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = ?1")
        .bind(user_id)
        .fetch_optional(app.pool())
        .await?;
    known.map(|_| ()).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
            format!("user_id: no user {user_id}"),
        )
    })
}

async fn devices_of(app: &AppState, user_id: i64) -> ApiResult<Vec<Device>> {
    Ok(
        sqlx::query_as("SELECT id, user_id, token, platform, name FROM push_devices WHERE user_id = ?1 ORDER BY id")
            .bind(user_id)
            .fetch_all(app.pool())
            .await?,
    )
}

async fn user_devices(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Vec<Device>>> {
    user_exists(&app, id)
        .await
        .map_err(|_| ApiError::not_found(format!("user {id}")))?;
    devices_of(&app, id).await.map(Json)
}

async fn delete_device(State(app): State<AppState>, Path(token): Path<String>) -> ApiResult<StatusCode> {
    let done = sqlx::query("DELETE FROM push_devices WHERE token = ?1")
        .bind(&token)
        .execute(app.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("no device with that token"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPush {
    user_id: i64,
    title: String,
    body: String,
    #[serde(default)]
    data: BTreeMap<String, String>,
}

/// What became of one device's push.
#[derive(Debug, Serialize)]
struct DeviceOutcome {
    device_id: i64,
    name: String,
    /// `sent`, `token_removed` or `failed`.
    outcome: &'static str,
    provider_message_id: Option<String>,
    error: Option<String>,
    /// For `failed`: `not_sent`, `maybe_sent` or `sent`.
    dispatch: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct PushAnswer {
    notification_id: i64,
    devices: Vec<DeviceOutcome>,
}

async fn send_push(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<NewPush>,
) -> ApiResult<Json<PushAnswer>> {
    app.integration(&app.integrations.push, "Push", "CRM_PUSH")?;
    let idem = delivery::idempotency_key(&headers)?;
    crate::domain::text_field("title", &req.title, 200)?;
    crate::domain::text_field("body", &req.body, 2000)?;
    user_exists(&app, req.user_id).await?;
    let data = serde_json::to_string(&req.data).map_err(ApiError::internal)?;

    let mut tx = app.pool().begin_with("BEGIN IMMEDIATE").await?;
    let first: Option<(i64, i64, String, String, String)> = match &idem {
        Some(k) => {
            sqlx::query_as("SELECT id, user_id, title, body, data FROM push_notifications WHERE idempotency_key = ?1")
                .bind(k)
                .fetch_optional(&mut *tx)
                .await?
        }
        None => None,
    };
    let notification = match first {
        Some((id, user, title, body, d)) => {
            if (user, &title, &body, &d) != (req.user_id, &req.title, &req.body, &data) {
                return Err(ApiError::conflict(
                    "Idempotency-Key: already used for a different push; use a new key for a new notification",
                ));
            }
            id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO push_notifications (user_id, title, body, data, idempotency_key, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            )
            .bind(req.user_id)
            .bind(&req.title)
            .bind(&req.body)
            .bind(&data)
            .bind(&idem)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?
        }
    };
    tx.commit().await?;

    let mut outcomes = Vec::new();
    for device in devices_of(&app, req.user_id).await? {
        let mut message = Message::push(Recipient::PushToken(device.token.clone()), &req.title, &req.body)
            .with_key(MessageKey::new(format!("push-{notification}-{}", device.id))?);
        for (k, v) in &req.data {
            message = message.with_data(k.clone(), v.clone());
        }
        let outcome = match app.messenger.send(message).await {
            Ok(receipt) => DeviceOutcome {
                device_id: device.id,
                name: device.name,
                outcome: "sent",
                provider_message_id: Some(receipt.provider_id().to_owned()),
                error: None,
                dispatch: None,
            },
            Err(e) if switchboard::fcm::is_invalid_token(&e) => {
                sqlx::query("DELETE FROM push_devices WHERE id = ?1")
                    .bind(device.id)
                    .execute(app.pool())
                    .await?;
                tracing::info!(
                    device = device.id,
                    user = req.user_id,
                    "FCM said the token is dead; device removed"
                );
                DeviceOutcome {
                    device_id: device.id,
                    name: device.name,
                    outcome: "token_removed",
                    provider_message_id: None,
                    error: Some(e.to_string()),
                    dispatch: None,
                }
            }
            Err(e) => DeviceOutcome {
                device_id: device.id,
                name: device.name,
                outcome: "failed",
                provider_message_id: None,
                error: Some(e.to_string()),
                dispatch: Some(match e.dispatch() {
                    Dispatch::NotSent => "not_sent",
                    Dispatch::Sent => "sent",
                    _ => "maybe_sent",
                }),
            },
        };
        sqlx::query(
            "INSERT INTO push_deliveries (notification_id, device_id, outcome, provider_message_id, error, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (notification_id, device_id) DO UPDATE SET outcome = excluded.outcome,
                provider_message_id = excluded.provider_message_id, error = excluded.error, at = excluded.at",
        )
        .bind(notification)
        .bind(outcome.device_id)
        .bind(outcome.outcome)
        .bind(&outcome.provider_message_id)
        .bind(&outcome.error)
        .bind(now())
        .execute(app.pool())
        .await?;
        outcomes.push(outcome);
    }
    Ok(Json(PushAnswer {
        notification_id: notification,
        devices: outcomes,
    }))
}

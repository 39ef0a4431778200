//! 1C sync: pushes the CRM's records into 1C:Enterprise over its standard OData interface
//! (`CRM_ONEC`), creating each object once and updating that same object afterwards.
//!
//! Endpoints:
//! - `POST /api/onec/sync/{entity}/{id}` with `entity` one of `application`, `company`, `driver`,
//!   `payment`: syncs one record now; answers its link (`ref_key`, `status`, `action`). A failure is
//!   recorded (`status: failed`, the reason in the log) and answered with the provider's error.
//! - `GET /api/onec/sync/{entity}/{id}`: the record's link (`404` when never synced).
//! - `GET /api/onec/log?entity=&limit=`: the attempts, newest first (`limit` default 50, at most 500).
//!
//! Mapping (the objects of a standard trade base, БП 3.0 / УТ 11):
//!
//! | CRM | 1C object | fields |
//! |---|---|---|
//! | company | `Catalog_Контрагенты` (a legal entity) | `Description`, `НаименованиеПолное` = name, `ИНН` = inn |
//! | driver | `Catalog_Контрагенты` (a natural person: drivers are paid as contractors) | `Description`, `НаименованиеПолное` = name |
//! | application | `Document_ЗаказКлиента` (customer order) | `Контрагент_Key` = the company's object (synced first), `СуммаДокумента` = price |
//! | payment | `Document_ПоступлениеНаРасчетныйСчет` (incoming bank payment) | `СуммаДокумента` = amount, `НазначениеПлатежа` = description |
//!
//! Every object carries `Комментарий = "crm:<entity>:<id>"`. The link table remembers each object's
//! `Ref_Key`, so a second sync `PATCH`es that object. When there is no link yet (first sync, or a
//! create whose answer was lost before the key was stored), the object is first looked up by that
//! comment, so a repeat never makes a duplicate; a create whose answer is lost in flight is reconciled
//! by the onec crate's `Syncer::create_or_recover` the same way.

use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use switchboard::onec::{EntitySet, Guid, MemorySyncLog, OneCClient, SyncAction, Syncer, field};
use switchboard::store::sqlx::{self, FromRow};

use crate::app::AppState;
use crate::db::{Migration, now};
use crate::error::{ApiError, ApiResult, QueryParams};

/// The tables.
pub static MIGRATION: Migration = Migration {
    name: "0030_onec",
    statements: &[
        "CREATE TABLE onec_links (
            entity TEXT NOT NULL,
            entity_id INTEGER NOT NULL,
            ref_key TEXT,
            status TEXT NOT NULL,
            last_error TEXT,
            synced_at TEXT NOT NULL,
            PRIMARY KEY (entity, entity_id))",
        "CREATE TABLE onec_sync_log (
            id INTEGER PRIMARY KEY,
            entity TEXT NOT NULL,
            entity_id INTEGER NOT NULL,
            action TEXT NOT NULL,
            outcome TEXT NOT NULL,
            error TEXT,
            duration_ms INTEGER NOT NULL,
            at TEXT NOT NULL)",
        "CREATE INDEX onec_sync_log_by_entity ON onec_sync_log (entity, id)",
    ],
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/onec/sync/{entity}/{id}", get(status).post(sync))
        .route("/api/onec/log", get(log))
}

const ENTITIES: &[&str] = &["application", "company", "driver", "payment"];

fn check_entity(entity: &str) -> ApiResult<()> {
    if ENTITIES.contains(&entity) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "entity",
            format_args!("{entity:?} is not one of {}", ENTITIES.join(", ")),
        ))
    }
}

/// A record's link to its 1C object.
#[derive(Debug, Serialize, FromRow)]
pub struct Link {
    /// `application`, `company`, `driver` or `payment`.
    pub entity: String,
    /// The CRM's id.
    pub entity_id: i64,
    /// The 1C object's `Ref_Key`, once created.
    pub ref_key: Option<String>,
    /// `synced` or `failed`.
    pub status: String,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was last attempted.
    pub synced_at: String,
}

async fn link(app: &AppState, entity: &str, id: i64) -> ApiResult<Option<Link>> {
    Ok(sqlx::query_as::<_, Link>(
        "SELECT entity, entity_id, ref_key, status, last_error, synced_at FROM onec_links
         WHERE entity = ?1 AND entity_id = ?2",
    )
    .bind(entity)
    .bind(id)
    .fetch_optional(app.pool())
    .await?)
}

async fn status(State(app): State<AppState>, Path((entity, id)): Path<(String, i64)>) -> ApiResult<Json<Link>> {
    check_entity(&entity)?;
    link(&app, &entity, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("{entity} {id} was never synced to 1C")))
}

/// The 1C object for a record: its set and body. `None` when the record does not exist.
async fn object(app: &AppState, sync: &Syncer, entity: &str, id: i64) -> ApiResult<Option<(EntitySet, Value)>> {
    let pool = app.pool();
    let comment = format!("crm:{entity}:{id}");
    Ok(match entity {
        "company" => {
            let row: Option<(String, Option<String>)> = sqlx::query_as("SELECT name, inn FROM companies WHERE id = ?1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(|(name, inn)| {
                let mut body = json!({"Description": name, "НаименованиеПолное": name,
                    "ЮридическоеФизическоеЛицо": "ЮридическоеЛицо", "Комментарий": comment});
                if let Some(inn) = inn {
                    body["ИНН"] = json!(inn);
                }
                (EntitySet::catalog("Контрагенты"), body)
            })
        }
        "driver" => {
            let row: Option<(String,)> = sqlx::query_as("SELECT name FROM drivers WHERE id = ?1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(|(name,)| {
                let body = json!({"Description": name, "НаименованиеПолное": name,
                    "ЮридическоеФизическоеЛицо": "ФизическоеЛицо", "Комментарий": comment});
                (EntitySet::catalog("Контрагенты"), body)
            })
        }
        "application" => {
            let row: Option<(Option<i64>, i64, String, String)> =
                sqlx::query_as("SELECT company_id, price_minor, pickup, dropoff FROM applications WHERE id = ?1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?;
            let Some((company, price, pickup, dropoff)) = row else {
                return Ok(None);
            };
            let mut body = json!({"СуммаДокумента": minor_to_decimal(price), "Комментарий": comment});
            if let Some(company) = company {
                // The order points at its customer: sync the company first and use its object.
                let key = Box::pin(sync_one(app, sync, "company", company)).await?;
                body["Контрагент_Key"] = json!(key.to_string());
            }
            let _ = (pickup, dropoff); // carried in the CRM only; 1C's order has no route fields
            Some((EntitySet::document("ЗаказКлиента"), body))
        }
        _ => {
            let row: Option<(i64, String)> =
                sqlx::query_as("SELECT amount_minor, description FROM payments WHERE id = ?1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?;
            row.map(|(amount, description)| {
                let body = json!({"СуммаДокумента": minor_to_decimal(amount), "НазначениеПлатежа": description,
                    "ВидОперации": "ОплатаПокупателя", "Комментарий": comment});
                (EntitySet::document("ПоступлениеНаРасчетныйСчет"), body)
            })
        }
    })
}

/// Minor units as 1C's decimal number (`150000` → `1500.00`), without a float.
fn minor_to_decimal(minor: i64) -> Value {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    serde_json::from_str(&format!("{sign}{}.{:02}", m / 100, m % 100)).unwrap_or(Value::Null)
}

/// Syncs one record; answers its object's `Ref_Key`. Logs the attempt and updates the link either way.
async fn sync_one(app: &AppState, sync: &Syncer, entity: &str, id: i64) -> ApiResult<Guid> {
    let (set, body) = object(app, sync, entity, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{entity} {id}")))?;
    let known = link(app, entity, id).await?.and_then(|l| l.ref_key);
    let started = Instant::now();
    let action = if known.is_some() { "update" } else { "create" };
    let result = push(sync, &set, &body, known.as_deref(), &format!("crm:{entity}:{id}")).await;
    let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let at = now();
    let (action, outcome, error, ref_key) = match &result {
        Ok((key, act)) => (*act, "ok", None, Some(key.to_string())),
        Err(e) => (action, "failed", Some(e.to_string()), known.clone()),
    };
    let mut tx = app.pool().begin().await?;
    sqlx::query(
        "INSERT INTO onec_sync_log (entity, entity_id, action, outcome, error, duration_ms, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(entity)
    .bind(id)
    .bind(action)
    .bind(outcome)
    .bind(&error)
    .bind(ms)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO onec_links (entity, entity_id, ref_key, status, last_error, synced_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (entity, entity_id) DO UPDATE SET ref_key = COALESCE(excluded.ref_key, ref_key),
         status = excluded.status, last_error = excluded.last_error, synced_at = excluded.synced_at",
    )
    .bind(entity)
    .bind(id)
    .bind(&ref_key)
    .bind(if result.is_ok() { "synced" } else { "failed" })
    .bind(&error)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    result.map(|(key, _)| key).map_err(ApiError::from)
}

/// Creates or updates the object; answers its key and what was done (`create`, `update`).
async fn push(
    sync: &Syncer,
    set: &EntitySet,
    body: &Value,
    known: Option<&str>,
    comment: &str,
) -> switchboard::Result<(Guid, &'static str)> {
    let client: &OneCClient = sync.client();
    let existing = match known {
        Some(k) => Some(Guid::parse(k)?),
        None => sync
            .find_by_key(set, &field("Комментарий").eq(comment))
            .await?
            .and_then(|v| {
                v.get("Ref_Key")
                    .and_then(Value::as_str)
                    .and_then(|k| Guid::parse(k).ok())
            }),
    };
    if let Some(key) = existing {
        client.update::<Value>(set, key, body).await?;
        return Ok((key, "update"));
    }
    let (created, action) = sync
        .create_or_recover(set, body, &field("Комментарий").eq(comment))
        .await?;
    let key = created
        .get("Ref_Key")
        .and_then(Value::as_str)
        .and_then(|k| Guid::parse(k).ok())
        .ok_or_else(|| {
            switchboard::Error::new(switchboard::ErrorKind::Decode, "1C answered a create without a Ref_Key")
                .with_dispatch(switchboard::Dispatch::Sent)
        })?;
    Ok((
        key,
        if action == SyncAction::Recovered {
            "update"
        } else {
            "create"
        },
    ))
}

async fn sync(State(app): State<AppState>, Path((entity, id)): Path<(String, i64)>) -> ApiResult<Json<Link>> {
    check_entity(&entity)?;
    let wired = app.integration(&app.integrations.onec, "1C", "CRM_ONEC")?;
    let client = wired
        .connection
        .downcast::<OneCClient>()
        .ok_or_else(|| ApiError::internal("CRM_ONEC did not connect to a 1C client"))?;
    let sync = Syncer::new(client.as_ref().clone(), std::sync::Arc::new(MemorySyncLog::new()));
    // A record that does not exist is 404 before anything is logged.
    sync_one(&app, &sync, &entity, id).await?;
    status(State(app), Path((entity, id))).await
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    entity: Option<String>,
    limit: Option<u32>,
}

/// One attempt.
#[derive(Debug, Serialize, FromRow)]
struct LogEntry {
    entity: String,
    entity_id: i64,
    action: String,
    outcome: String,
    error: Option<String>,
    duration_ms: i64,
    at: String,
}

async fn log(State(app): State<AppState>, QueryParams(q): QueryParams<LogQuery>) -> ApiResult<Json<Vec<LogEntry>>> {
    if let Some(e) = q.entity.as_deref().filter(|e| !e.is_empty()) {
        check_entity(e)?;
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", format_args!("{limit} is outside 1..=500")));
    }
    let rows = sqlx::query_as::<_, LogEntry>(
        "SELECT entity, entity_id, action, outcome, error, duration_ms, at FROM onec_sync_log
         WHERE (?1 IS NULL OR entity = ?1) ORDER BY id DESC LIMIT ?2",
    )
    .bind(q.entity.filter(|e| !e.is_empty()))
    .bind(i64::from(limit))
    .fetch_all(app.pool())
    .await?;
    Ok(Json(rows))
}

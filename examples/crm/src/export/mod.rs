//! Exports: a file of applications, drivers, vehicles or payments in CSV, XLSX, PDF or JSON, written
//! to disk and downloaded once or several times until it expires.
//!
//! Endpoints:
//! - `POST /api/exports` `{"entity": "applications|drivers|vehicles|payments", "format":
//!   "csv|xlsx|pdf|json", "status"?: "...", "from"?: "YYYY-MM-DD", "to"?: "YYYY-MM-DD", "limit"?: n}`:
//!   writes the file and answers `201 {"id", "rows", "download_url", "expires_at"}`. `from`/`to` are
//!   UTC days of `created_at`, both inclusive; `status` filters entities that have one (vehicles have
//!   none: `400`). A `limit` above `CRM_EXPORT_MAX_ROWS` is `400` naming the maximum; without one, at
//!   most that many rows are written, newest last.
//! - `GET /api/exports/{id}`: the file, streamed, with its content type and an attachment
//!   `Content-Disposition`. After `expires_at` it is `410 Gone` and the file is deleted.
//!
//! The id is 128 random bits in hex: the download URL is the only thing guarding the file, so it must
//! not be guessable (sequential ids would hand every export to anyone who counts). A background sweep
//! deletes expired files and their rows.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `CRM_EXPORT_DIR` | `<temp dir>/crm-exports` | where files are written (created if missing) |
//! | `CRM_EXPORT_TTL_SECS` | `3600` | how long a file can be downloaded (`0`: expires at once, for tests) |
//! | `CRM_EXPORT_MAX_ROWS` | `10000` | the most rows one export may hold |
//! | `CRM_EXPORT_SWEEP_SECS` | `300` | how often expired files are swept |
//!
//! Formats: [`csv`] (Excel-friendly, formula-injection guarded), [`xlsx`] (a real workbook),
//! [`pdf`] (Helvetica, Cyrillic transliterated), [`json`] (an array of objects).

pub mod csv;
pub mod json;
pub mod pdf;
pub mod xlsx;

use std::path::PathBuf;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use switchboard::store::sqlx::{self, Row};

use crate::app::AppState;
use crate::config::{ConfigError, Env};
use crate::db::{Migration, now, stamp};
use crate::error::{ApiError, ApiResult, JsonBody};

/// The table of written files.
pub static MIGRATION: Migration = Migration {
    name: "0040_exports",
    statements: &[
        "CREATE TABLE exports (
            id TEXT PRIMARY KEY,
            entity TEXT NOT NULL,
            format TEXT NOT NULL,
            rows INTEGER NOT NULL,
            path TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL)",
        "CREATE INDEX exports_by_expiry ON exports (expires_at)",
    ],
};

/// Export settings.
#[derive(Debug, Clone)]
pub struct Exports {
    /// Where files go.
    pub dir: PathBuf,
    /// How long a file lives.
    pub ttl: Duration,
    /// The most rows per export.
    pub max_rows: u32,
    /// How often the sweep runs.
    pub sweep_every: Duration,
}

impl Exports {
    /// Reads the `CRM_EXPORT_*` variables.
    pub fn from_env(env: &Env) -> Result<Exports, ConfigError> {
        let dir = env
            .get("CRM_EXPORT_DIR")?
            .map_or_else(|| std::env::temp_dir().join("crm-exports"), PathBuf::from);
        let max_rows: u32 = env.parse_or("CRM_EXPORT_MAX_ROWS", 10_000)?;
        if max_rows == 0 {
            return Err(ConfigError::new("CRM_EXPORT_MAX_ROWS", "must be at least 1"));
        }
        let sweep: u64 = env.parse_or("CRM_EXPORT_SWEEP_SECS", 300)?;
        Ok(Exports {
            dir,
            ttl: Duration::from_secs(env.parse_or("CRM_EXPORT_TTL_SECS", 3600)?),
            max_rows,
            sweep_every: Duration::from_secs(sweep.max(1)),
        })
    }

    /// Deletes every expired file and its row; answers how many went.
    pub async fn sweep(&self, pool: &sqlx::SqlitePool) -> Result<u64, sqlx::Error> {
        let expired: Vec<(String, String)> = sqlx::query_as("SELECT id, path FROM exports WHERE expires_at <= ?1")
            .bind(now())
            .fetch_all(pool)
            .await?;
        let mut n = 0;
        for (id, path) in expired {
            remove(&path).await;
            n += sqlx::query("DELETE FROM exports WHERE id = ?1")
                .bind(&id)
                .execute(pool)
                .await?
                .rows_affected();
        }
        Ok(n)
    }
}

/// Deletes a file; one already gone is fine.
async fn remove(path: &str) {
    if let Err(e) = tokio::fs::remove_file(path).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(error = %e, "could not delete an expired export");
    }
}

/// The sweep, every `CRM_EXPORT_SWEEP_SECS`, until `stop` resolves.
pub async fn sweep_loop(state: AppState, stop: impl std::future::Future<Output = ()>) {
    let mut tick = tokio::time::interval(state.exports.sweep_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => if let Err(e) = state.exports.sweep(state.pool()).await {
                tracing::warn!(error = %e, "export sweep failed; trying again later");
            },
        }
    }
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/exports", post(create))
        .route("/api/exports/{id}", get(download))
}

/// What a column holds, which decides how each format writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer (ids, minor units).
    Int,
    /// Text.
    Text,
    /// An RFC 3339 UTC time.
    Time,
}

/// A column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its name (the header).
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
}

/// One value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Empty.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// An RFC 3339 UTC time.
    Time(String),
}

/// What a format writes: a title, the columns and the rows.
#[derive(Debug, Clone)]
pub struct Table {
    /// The title (PDF heading, XLSX sheet name).
    pub title: String,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<Cell>>,
}

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

/// The exportable entities: table, columns, whether it has a `status`.
fn entity(name: &str) -> Option<(&'static str, &'static [Column], bool)> {
    use Kind::*;
    const APPLICATIONS: &[Column] = &[
        col("id", Int),
        col("company_id", Int),
        col("driver_id", Int),
        col("status", Text),
        col("pickup", Text),
        col("dropoff", Text),
        col("price_minor", Int),
        col("created_at", Time),
    ];
    const DRIVERS: &[Column] = &[
        col("id", Int),
        col("user_id", Int),
        col("name", Text),
        col("phone", Text),
        col("status", Text),
        col("created_at", Time),
    ];
    const VEHICLES: &[Column] = &[
        col("id", Int),
        col("driver_id", Int),
        col("plate", Text),
        col("model", Text),
        col("created_at", Time),
    ];
    // The customer's email is left out: an export file travels further than the CRM.
    const PAYMENTS: &[Column] = &[
        col("id", Int),
        col("application_id", Int),
        col("provider", Text),
        col("provider_payment_id", Text),
        col("amount_minor", Int),
        col("currency", Text),
        col("status", Text),
        col("refunded_minor", Int),
        col("description", Text),
        col("created_at", Time),
    ];
    Some(match name {
        "applications" => ("applications", APPLICATIONS, true),
        "drivers" => ("drivers", DRIVERS, true),
        "vehicles" => ("vehicles", VEHICLES, false),
        "payments" => ("payments", PAYMENTS, true),
        _ => return None,
    })
}

/// The formats: content type and file extension.
fn format(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "csv" => ("text/csv; charset=utf-8", "csv"),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        "pdf" => ("application/pdf", "pdf"),
        "json" => ("application/json", "json"),
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportRequest {
    entity: String,
    format: String,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
}

fn day(field: &str, v: &str) -> ApiResult<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|e| ApiError::invalid(field, format_args!("{v:?} is not YYYY-MM-DD ({e})")))
}

/// Reads the rows a request selects.
async fn select(app: &AppState, r: &ExportRequest, max: u32) -> ApiResult<Table> {
    let (table, columns, has_status) = entity(&r.entity).ok_or_else(|| {
        ApiError::invalid(
            "entity",
            format_args!("{:?} is not one of applications, drivers, vehicles, payments", r.entity),
        )
    })?;
    if r.status.is_some() && !has_status {
        return Err(ApiError::invalid("status", format_args!("{} have no status", r.entity)));
    }
    let from = r.from.as_deref().map(|v| day("from", v)).transpose()?;
    let to = r.to.as_deref().map(|v| day("to", v)).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::invalid("to", "is before from"));
    }
    let limit = match r.limit {
        Some(0) => return Err(ApiError::invalid("limit", "must be at least 1")),
        Some(l) if l > max => {
            return Err(ApiError::invalid(
                "limit",
                format_args!("{l} is above the maximum of {max} rows (CRM_EXPORT_MAX_ROWS)"),
            ));
        }
        Some(l) => l,
        None => max,
    };
    let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    // Only fixed names go into the SQL text; every value is bound.
    let by_status = if has_status {
        "(?1 IS NULL OR status = ?1)"
    } else {
        "?1 IS NULL"
    };
    let sql = format!(
        "SELECT {} FROM {table} WHERE {by_status} AND (?2 IS NULL OR created_at >= ?2)
         AND (?3 IS NULL OR created_at < ?3) ORDER BY id LIMIT ?4",
        names.join(", ")
    );
    let rows = sqlx::query(&sql)
        .bind(r.status.clone())
        .bind(from.map(|d| format!("{d}T00:00:00.000Z")))
        .bind(to.and_then(|d| d.succ_opt()).map(|d| format!("{d}T00:00:00.000Z")))
        .bind(i64::from(limit))
        .fetch_all(app.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = Vec::with_capacity(columns.len());
        for (i, c) in columns.iter().enumerate() {
            cells.push(match c.kind {
                Kind::Int => row.try_get::<Option<i64>, _>(i)?.map_or(Cell::Null, Cell::Int),
                Kind::Text => row.try_get::<Option<String>, _>(i)?.map_or(Cell::Null, Cell::Text),
                Kind::Time => row.try_get::<Option<String>, _>(i)?.map_or(Cell::Null, Cell::Time),
            });
        }
        out.push(cells);
    }
    Ok(Table {
        title: format!("{} export", r.entity),
        columns: columns.to_vec(),
        rows: out,
    })
}

async fn create(
    State(app): State<AppState>,
    JsonBody(r): JsonBody<ExportRequest>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let (_, ext) = format(&r.format).ok_or_else(|| {
        ApiError::invalid(
            "format",
            format_args!("{:?} is not one of csv, xlsx, pdf, json", r.format),
        )
    })?;
    let table = select(&app, &r, app.exports.max_rows).await?;
    let bytes = match ext {
        "csv" => csv::write(&table),
        "xlsx" => xlsx::write(&table),
        "pdf" => pdf::write(&table),
        _ => json::write(&table),
    };
    let id = format!("{:032x}", switchboard::core::random::u128());
    tokio::fs::create_dir_all(&app.exports.dir)
        .await
        .map_err(ApiError::internal)?;
    let path = app.exports.dir.join(format!("{id}.{ext}"));
    tokio::fs::write(&path, &bytes).await.map_err(ApiError::internal)?;
    let created = chrono::Utc::now();
    let ttl = chrono::Duration::from_std(app.exports.ttl).unwrap_or(chrono::Duration::MAX);
    let expires = stamp(
        created
            .checked_add_signed(ttl)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
    );
    let path_text = path.to_string_lossy().into_owned();
    let stored = sqlx::query(
        "INSERT INTO exports (id, entity, format, rows, path, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&id)
    .bind(&r.entity)
    .bind(ext)
    .bind(table.rows.len() as i64)
    .bind(&path_text)
    .bind(stamp(created))
    .bind(&expires)
    .execute(app.pool())
    .await;
    if let Err(e) = stored {
        remove(&path_text).await;
        return Err(e.into());
    }
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "id": id,
            "rows": table.rows.len(),
            "download_url": format!("{}/api/exports/{id}", app.public_url),
            "expires_at": expires,
        })),
    ))
}

async fn download(State(app): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let row: Option<(String, String, String, String)> =
        sqlx::query_as("SELECT entity, format, path, expires_at FROM exports WHERE id = ?1")
            .bind(&id)
            .fetch_optional(app.pool())
            .await?;
    let (entity, fmt, path, expires) = row.ok_or_else(|| ApiError::not_found(format!("export {id}")))?;
    if expires <= now() {
        remove(&path).await;
        return Err(ApiError::new(
            StatusCode::GONE,
            "expired",
            format!("export {id} expired at {expires}; create a new one"),
        ));
    }
    let (content_type, ext) = format(&fmt).ok_or_else(|| ApiError::internal(format!("export format {fmt}")))?;
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ApiError::new(StatusCode::GONE, "expired", format!("export {id} is no longer on disk"))
        } else {
            ApiError::internal(e)
        }
    })?;
    // 64 KiB at a time; a read error ends the body (the client sees a cut download, not a wrong file).
    let stream = futures::stream::unfold(Some(file), |f| async move {
        use tokio::io::AsyncReadExt;
        let mut f = f?;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some(f)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{entity}-{id}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

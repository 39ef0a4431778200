//! GPS tracking: drivers' phones report where they are, dispatchers read a driver's track for a day.
//!
//! Endpoints:
//! - `POST /api/drivers/{id}/locations` with one point, or `{"points": [...]}` (at most
//!   [`MAX_BATCH`] points). A point is `latitude` (-90..=90), `longitude` (-180..=180), `accuracy_m`
//!   (0..=10000), optional `speed_kmh` (0..=400), `heading_deg` (0..<360), `battery_pct` (0..=100), and
//!   `recorded_at` (RFC 3339; at most 5 minutes ahead of the server's clock, not older than the
//!   retention). The whole batch is checked before anything is written and written in one transaction:
//!   a bad point answers `400` naming it (`points[3].latitude: 91.2 is outside -90..=90`) and nothing
//!   of the batch is stored. `201 {"stored": n}`; `404` for an unknown driver.
//! - `GET /api/drivers/{id}/locations?date=YYYY-MM-DD`: the driver's points of that UTC day, in the
//!   order they were recorded. `GET /api/drivers/{id}/locations/latest`: the last one recorded.
//! - `POST /api/gps/cleanup`: deletes points older than the retention now; `{"deleted": n}`. The same
//!   runs hourly in the background.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `CRM_GPS_MAX_PER_MINUTE` | `120` | points one driver may report per minute (a batch counts each point); more is `429` with `Retry-After` |
//! | `CRM_GPS_RETENTION_DAYS` | `90` | how long points are kept |
//!
//! The rate limit is a token bucket per driver held **in this process**: with several replicas behind a
//! load balancer each replica counts on its own, so a driver can reach up to `replicas ×` the limit. It
//! protects the database from a phone stuck in a loop; it is not an accounting limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use switchboard::store::sqlx::{self, FromRow};
use tokio::time::Instant;

use crate::app::AppState;
use crate::config::{ConfigError, Env};
use crate::db::{Migration, now, stamp};
use crate::error::{ApiError, ApiResult, JsonBody, QueryParams};

/// The most points one request may carry.
pub const MAX_BATCH: usize = 500;

/// How far ahead of the server's clock a point may be stamped (phones' clocks drift).
const MAX_FUTURE: chrono::Duration = chrono::Duration::minutes(5);

/// The table, with the index history reads and the cleanup use.
pub static MIGRATION: Migration = Migration {
    name: "0020_gps",
    statements: &[
        "CREATE TABLE driver_locations (
            id INTEGER PRIMARY KEY,
            driver_id INTEGER NOT NULL REFERENCES drivers(id),
            latitude REAL NOT NULL,
            longitude REAL NOT NULL,
            accuracy_m REAL NOT NULL,
            speed_kmh REAL,
            heading_deg REAL,
            battery_pct INTEGER,
            recorded_at TEXT NOT NULL,
            received_at TEXT NOT NULL)",
        "CREATE INDEX driver_locations_by_driver_time ON driver_locations (driver_id, recorded_at)",
        "CREATE INDEX driver_locations_by_time ON driver_locations (recorded_at)",
    ],
};

/// GPS settings and the per-driver limiter.
#[derive(Debug)]
pub struct Gps {
    /// Points per driver per minute.
    pub max_per_minute: u32,
    /// Days points are kept.
    pub retention_days: u32,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Gps {
    /// Reads `CRM_GPS_MAX_PER_MINUTE` and `CRM_GPS_RETENTION_DAYS`.
    pub fn from_env(env: &Env) -> Result<Gps, ConfigError> {
        let max_per_minute: u32 = env.parse_or("CRM_GPS_MAX_PER_MINUTE", 120)?;
        let retention_days: u32 = env.parse_or("CRM_GPS_RETENTION_DAYS", 90)?;
        if max_per_minute == 0 {
            return Err(ConfigError::new("CRM_GPS_MAX_PER_MINUTE", "must be at least 1"));
        }
        if retention_days == 0 {
            return Err(ConfigError::new("CRM_GPS_RETENTION_DAYS", "must be at least 1"));
        }
        Ok(Gps {
            max_per_minute,
            retention_days,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes `n` tokens from the driver's bucket (full at `max_per_minute`, refilled evenly over a
    /// minute), or says how many seconds until there are enough.
    fn take(&self, driver: i64, n: u32) -> Result<(), u64> {
        let capacity = f64::from(self.max_per_minute);
        let per_sec = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        // Drivers idle for a minute have a full bucket again: forget them, so the map stays small.
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.duration_since(b.at) < Duration::from_secs(60));
        }
        let b = buckets.entry(driver).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec).min(capacity);
        b.at = now;
        let need = f64::from(n);
        if b.tokens >= need {
            b.tokens -= need;
            Ok(())
        } else {
            Err(((need - b.tokens) / per_sec).ceil().max(1.0) as u64)
        }
    }

    fn oldest_kept(&self) -> DateTime<Utc> {
        Utc::now() - chrono::Duration::days(i64::from(self.retention_days))
    }

    /// Deletes points older than the retention; answers how many went.
    pub async fn cleanup(&self, pool: &sqlx::SqlitePool) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM driver_locations WHERE recorded_at < ?1")
            .bind(stamp(self.oldest_kept()))
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// The hourly cleanup, until `stop` resolves.
pub async fn cleanup_loop(state: AppState, stop: impl std::future::Future<Output = ()>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => match state.gps.cleanup(state.pool()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "gps cleanup"),
                Err(e) => tracing::warn!(error = %e, "gps cleanup failed; next hour again"),
            },
        }
    }
}

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/drivers/{id}/locations", post(report).get(history))
        .route("/api/drivers/{id}/locations/latest", get(latest))
        .route("/api/gps/cleanup", post(cleanup))
}

/// One reported point, as it comes (numbers are checked by hand so the error names the point).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointIn {
    latitude: f64,
    longitude: f64,
    accuracy_m: f64,
    speed_kmh: Option<f64>,
    heading_deg: Option<f64>,
    battery_pct: Option<f64>,
    recorded_at: String,
}

/// One point or a batch.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Report {
    Batch { points: Vec<PointIn> },
    One(PointIn),
}

/// A stored point.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Location {
    /// Degrees, -90..=90.
    pub latitude: f64,
    /// Degrees, -180..=180.
    pub longitude: f64,
    /// Metres.
    pub accuracy_m: f64,
    /// km/h.
    pub speed_kmh: Option<f64>,
    /// Degrees clockwise from north, 0..<360.
    pub heading_deg: Option<f64>,
    /// Percent.
    pub battery_pct: Option<i64>,
    /// When the phone took it (RFC 3339 UTC, ms).
    pub recorded_at: String,
}

fn range(field: &str, v: f64, lo: f64, hi: f64, hi_open: bool) -> ApiResult<()> {
    let ok = v.is_finite() && v >= lo && if hi_open { v < hi } else { v <= hi };
    if ok {
        Ok(())
    } else {
        let dots = if hi_open { "..<" } else { "..=" };
        Err(ApiError::invalid(field, format_args!("{v} is outside {lo}{dots}{hi}")))
    }
}

/// Checks one point; `at` prefixes the field names (`points[3].`).
fn check(p: &PointIn, at: &str, oldest: DateTime<Utc>, newest: DateTime<Utc>) -> ApiResult<Location> {
    let f = |name: &str| format!("{at}{name}");
    range(&f("latitude"), p.latitude, -90.0, 90.0, false)?;
    range(&f("longitude"), p.longitude, -180.0, 180.0, false)?;
    range(&f("accuracy_m"), p.accuracy_m, 0.0, 10_000.0, false)?;
    if let Some(v) = p.speed_kmh {
        range(&f("speed_kmh"), v, 0.0, 400.0, false)?;
    }
    if let Some(v) = p.heading_deg {
        range(&f("heading_deg"), v, 0.0, 360.0, true)?;
    }
    if let Some(v) = p.battery_pct {
        range(&f("battery_pct"), v, 0.0, 100.0, false)?;
        if v.fract() != 0.0 {
            return Err(ApiError::invalid(
                &f("battery_pct"),
                format_args!("{v} is not a whole number"),
            ));
        }
    }
    let recorded = DateTime::parse_from_rfc3339(&p.recorded_at)
        .map_err(|e| {
            ApiError::invalid(
                &f("recorded_at"),
                format_args!("{:?} is not an RFC 3339 time ({e})", p.recorded_at),
            )
        })?
        .with_timezone(&Utc);
    if recorded > newest {
        return Err(ApiError::invalid(
            &f("recorded_at"),
            format_args!("{} is more than 5 minutes in the future", p.recorded_at),
        ));
    }
    if recorded < oldest {
        return Err(ApiError::invalid(
            &f("recorded_at"),
            format_args!(
                "{} is older than the retention (kept from {})",
                p.recorded_at,
                stamp(oldest)
            ),
        ));
    }
    Ok(Location {
        latitude: p.latitude,
        longitude: p.longitude,
        accuracy_m: p.accuracy_m,
        speed_kmh: p.speed_kmh,
        heading_deg: p.heading_deg,
        battery_pct: p.battery_pct.map(|v| v as i64),
        recorded_at: stamp(recorded),
    })
}

async fn driver_exists(app: &AppState, id: i64) -> ApiResult<()> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM drivers WHERE id = ?1")
        .bind(id)
        .fetch_optional(app.pool())
        .await?;
    found
        .map(drop)
        .ok_or_else(|| ApiError::not_found(format!("driver {id}")))
}

async fn report(
    State(app): State<AppState>,
    Path(driver): Path<i64>,
    JsonBody(report): JsonBody<Report>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let (points, batch) = match report {
        Report::One(p) => (vec![p], false),
        Report::Batch { points } => (points, true),
    };
    if points.is_empty() {
        return Err(ApiError::invalid("points", "must hold at least one point"));
    }
    if points.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "points",
            format_args!("{} points; at most {MAX_BATCH} per request", points.len()),
        ));
    }
    let now_t = Utc::now();
    let (oldest, newest) = (app.gps.oldest_kept(), now_t + MAX_FUTURE);
    let checked = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            check(
                p,
                &if batch { format!("points[{i}].") } else { String::new() },
                oldest,
                newest,
            )
        })
        .collect::<ApiResult<Vec<_>>>()?;
    driver_exists(&app, driver).await?;
    let n = u32::try_from(checked.len()).unwrap_or(u32::MAX);
    if n > app.gps.max_per_minute {
        return Err(ApiError::invalid(
            "points",
            format_args!(
                "{n} points is more than a driver may report in a minute ({})",
                app.gps.max_per_minute
            ),
        ));
    }
    app.gps.take(driver, n).map_err(|wait| {
        ApiError::rate_limited(
            format!(
                "driver {driver} reported more than {} points in a minute; retry later",
                app.gps.max_per_minute
            ),
            wait,
        )
    })?;
    let received = now();
    let mut tx = app.pool().begin().await?;
    for p in &checked {
        sqlx::query(
            "INSERT INTO driver_locations (driver_id, latitude, longitude, accuracy_m, speed_kmh, heading_deg,
             battery_pct, recorded_at, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(driver)
        .bind(p.latitude)
        .bind(p.longitude)
        .bind(p.accuracy_m)
        .bind(p.speed_kmh)
        .bind(p.heading_deg)
        .bind(p.battery_pct)
        .bind(&p.recorded_at)
        .bind(&received)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "stored": checked.len() })),
    ))
}

#[derive(Debug, Deserialize)]
struct DayQuery {
    date: String,
}

const COLUMNS: &str = "latitude, longitude, accuracy_m, speed_kmh, heading_deg, battery_pct, recorded_at";

async fn history(
    State(app): State<AppState>,
    Path(driver): Path<i64>,
    QueryParams(q): QueryParams<DayQuery>,
) -> ApiResult<Json<Vec<Location>>> {
    let day = NaiveDate::parse_from_str(&q.date, "%Y-%m-%d")
        .map_err(|e| ApiError::invalid("date", format_args!("{:?} is not YYYY-MM-DD ({e})", q.date)))?;
    let next = day
        .succ_opt()
        .ok_or_else(|| ApiError::invalid("date", "is out of range"))?;
    driver_exists(&app, driver).await?;
    // Stored times are RFC 3339 UTC text, so a day is a string range.
    let rows = sqlx::query_as::<_, Location>(&format!(
        "SELECT {COLUMNS} FROM driver_locations WHERE driver_id = ?1 AND recorded_at >= ?2 AND recorded_at < ?3
         ORDER BY recorded_at, id"
    ))
    .bind(driver)
    .bind(format!("{day}T00:00:00.000Z"))
    .bind(format!("{next}T00:00:00.000Z"))
    .fetch_all(app.pool())
    .await?;
    Ok(Json(rows))
}

async fn latest(State(app): State<AppState>, Path(driver): Path<i64>) -> ApiResult<Json<Location>> {
    driver_exists(&app, driver).await?;
    sqlx::query_as::<_, Location>(&format!(
        "SELECT {COLUMNS} FROM driver_locations WHERE driver_id = ?1 ORDER BY recorded_at DESC, id DESC LIMIT 1"
    ))
    .bind(driver)
    .fetch_optional(app.pool())
    .await?
    .map(Json)
    .ok_or_else(|| ApiError::not_found(format!("driver {driver} has reported no location")))
}

async fn cleanup(State(app): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let deleted = app.gps.cleanup(app.pool()).await?;
    Ok(Json(serde_json::json!({ "deleted": deleted })))
}

//! The CRM's own records, which every integration refers to: users (dispatchers, drivers, customers),
//! companies (the customers' firms), drivers and their vehicles, and applications (transport orders).
//!
//! Endpoints (JSON in, JSON out):
//! - `POST /api/users`, `/api/companies`, `/api/drivers`, `/api/vehicles`, `/api/applications` create one
//!   and answer `201` with it; `GET /api/{kind}/{id}` reads one.
//! - `PATCH /api/applications/{id}` `{"status": "assigned", "driver_id": 3}` changes an application.
//!
//! Amounts are integer minor units (kopecks, cents): a CRM never stores money as a float.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use switchboard::store::sqlx::{self, FromRow};

use crate::app::AppState;
use crate::db::{Migration, now};
use crate::error::{ApiError, ApiResult, JsonBody};

/// The tables.
pub static MIGRATION: Migration = Migration {
    name: "0001_domain",
    statements: &[
        "CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT,
            phone TEXT,
            role TEXT NOT NULL CHECK (role IN ('admin', 'dispatcher', 'driver', 'customer')),
            created_at TEXT NOT NULL)",
        "CREATE TABLE companies (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            inn TEXT,
            email TEXT,
            created_at TEXT NOT NULL)",
        "CREATE TABLE drivers (
            id INTEGER PRIMARY KEY,
            user_id INTEGER REFERENCES users(id),
            name TEXT NOT NULL,
            phone TEXT,
            status TEXT NOT NULL CHECK (status IN ('active', 'off_duty', 'blocked')),
            created_at TEXT NOT NULL)",
        "CREATE TABLE vehicles (
            id INTEGER PRIMARY KEY,
            driver_id INTEGER REFERENCES drivers(id),
            plate TEXT NOT NULL,
            model TEXT NOT NULL,
            created_at TEXT NOT NULL)",
        "CREATE TABLE applications (
            id INTEGER PRIMARY KEY,
            company_id INTEGER REFERENCES companies(id),
            driver_id INTEGER REFERENCES drivers(id),
            status TEXT NOT NULL CHECK (status IN ('new', 'assigned', 'in_progress', 'done', 'cancelled')),
            pickup TEXT NOT NULL,
            dropoff TEXT NOT NULL,
            price_minor INTEGER NOT NULL CHECK (price_minor >= 0),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)",
        "CREATE INDEX applications_by_status ON applications (status, created_at)",
    ],
};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", post(create_user))
        .route("/api/users/{id}", get(get_user))
        .route("/api/companies", post(create_company))
        .route("/api/companies/{id}", get(get_company))
        .route("/api/drivers", post(create_driver))
        .route("/api/drivers/{id}", get(get_driver))
        .route("/api/vehicles", post(create_vehicle))
        .route("/api/vehicles/{id}", get(get_vehicle))
        .route("/api/applications", post(create_application))
        .route("/api/applications/{id}", get(get_application).patch(update_application))
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize, FromRow)]
pub struct User {
    /// Its id (ignored on create).
    #[serde(default)]
    pub id: i64,
    /// Full name.
    pub name: String,
    /// Email address, for notifications.
    pub email: Option<String>,
    /// Phone in E.164, for SMS.
    pub phone: Option<String>,
    /// `admin`, `dispatcher`, `driver` or `customer`.
    pub role: String,
}

/// A customer's company.
#[derive(Debug, Clone, Serialize, Deserialize, FromRow)]
pub struct Company {
    /// Its id (ignored on create).
    #[serde(default)]
    pub id: i64,
    /// Name.
    pub name: String,
    /// Russian taxpayer number (ИНН), which 1C matches counterparties by.
    pub inn: Option<String>,
    /// Billing email.
    pub email: Option<String>,
}

/// A driver.
#[derive(Debug, Clone, Serialize, Deserialize, FromRow)]
pub struct Driver {
    /// Its id (ignored on create).
    #[serde(default)]
    pub id: i64,
    /// The driver's CRM login, which push tokens and Telegram chats hang off.
    pub user_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Phone in E.164.
    pub phone: Option<String>,
    /// `active`, `off_duty` or `blocked`.
    #[serde(default = "active")]
    pub status: String,
}

fn active() -> String {
    "active".into()
}

/// A vehicle.
#[derive(Debug, Clone, Serialize, Deserialize, FromRow)]
pub struct Vehicle {
    /// Its id (ignored on create).
    #[serde(default)]
    pub id: i64,
    /// Its driver.
    pub driver_id: Option<i64>,
    /// Registration plate.
    pub plate: String,
    /// Make and model.
    pub model: String,
}

/// An application: a transport order from a company.
#[derive(Debug, Clone, Serialize, Deserialize, FromRow)]
pub struct Application {
    /// Its id (ignored on create).
    #[serde(default)]
    pub id: i64,
    /// The customer's company.
    pub company_id: Option<i64>,
    /// The assigned driver.
    pub driver_id: Option<i64>,
    /// `new`, `assigned`, `in_progress`, `done` or `cancelled`.
    #[serde(default = "new_status")]
    pub status: String,
    /// Where to pick up.
    pub pickup: String,
    /// Where to deliver.
    pub dropoff: String,
    /// The price in minor units (kopecks).
    pub price_minor: i64,
    /// When it was created (set by the service).
    #[serde(default)]
    pub created_at: String,
    /// When it last changed (set by the service).
    #[serde(default)]
    pub updated_at: String,
}

fn new_status() -> String {
    "new".into()
}

/// The statuses an application can be in.
pub const APPLICATION_STATUSES: &[&str] = &["new", "assigned", "in_progress", "done", "cancelled"];

/// A name or address: present, not blank, at most `max` characters.
pub fn text_field(field: &str, value: &str, max: usize) -> ApiResult<()> {
    if value.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(field, format_args!("longer than {max} characters")));
    }
    Ok(())
}

/// A phone number as the CRM stores it: parsed and written back in E.164.
pub fn phone_field(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    value
        .map(|v| {
            v.parse::<switchboard::PhoneNumber>()
                .map(|p| p.as_e164().to_owned())
                .map_err(|e| ApiError::invalid(field, e))
        })
        .transpose()
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> ApiResult<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format_args!("{value:?} is not one of {}", allowed.join(", ")),
        ))
    }
}

async fn create_user(
    State(app): State<AppState>,
    JsonBody(mut u): JsonBody<User>,
) -> ApiResult<(StatusCode, Json<User>)> {
    text_field("name", &u.name, 200)?;
    one_of("role", &u.role, &["admin", "dispatcher", "driver", "customer"])?;
    u.phone = phone_field("phone", u.phone.as_deref())?;
    if let Some(email) = &u.email {
        switchboard::Recipient::email(email.as_str()).map_err(|e| ApiError::invalid("email", e))?;
    }
    u.id = sqlx::query_scalar(
        "INSERT INTO users (name, email, phone, role, created_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    )
    .bind(&u.name)
    .bind(&u.email)
    .bind(&u.phone)
    .bind(&u.role)
    .bind(now())
    .fetch_one(app.pool())
    .await?;
    Ok((StatusCode::CREATED, Json(u)))
}

async fn get_user(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<User>> {
    fetch(
        &app,
        "SELECT id, name, email, phone, role FROM users WHERE id = ?1",
        id,
        "user",
    )
    .await
}

async fn create_company(
    State(app): State<AppState>,
    JsonBody(mut c): JsonBody<Company>,
) -> ApiResult<(StatusCode, Json<Company>)> {
    text_field("name", &c.name, 200)?;
    if let Some(inn) = &c.inn
        && !(matches!(inn.len(), 10 | 12) && inn.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::invalid(
            "inn",
            "an INN is 10 (a company) or 12 (a person) digits",
        ));
    }
    c.id =
        sqlx::query_scalar("INSERT INTO companies (name, inn, email, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id")
            .bind(&c.name)
            .bind(&c.inn)
            .bind(&c.email)
            .bind(now())
            .fetch_one(app.pool())
            .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

async fn get_company(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Company>> {
    fetch(
        &app,
        "SELECT id, name, inn, email FROM companies WHERE id = ?1",
        id,
        "company",
    )
    .await
}

async fn create_driver(
    State(app): State<AppState>,
    JsonBody(mut d): JsonBody<Driver>,
) -> ApiResult<(StatusCode, Json<Driver>)> {
    text_field("name", &d.name, 200)?;
    one_of("status", &d.status, &["active", "off_duty", "blocked"])?;
    d.phone = phone_field("phone", d.phone.as_deref())?;
    d.id = sqlx::query_scalar(
        "INSERT INTO drivers (user_id, name, phone, status, created_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    )
    .bind(d.user_id)
    .bind(&d.name)
    .bind(&d.phone)
    .bind(&d.status)
    .bind(now())
    .fetch_one(app.pool())
    .await
    .map_err(|e| reference_error(e, "user_id"))?;
    Ok((StatusCode::CREATED, Json(d)))
}

async fn get_driver(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Driver>> {
    fetch(
        &app,
        "SELECT id, user_id, name, phone, status FROM drivers WHERE id = ?1",
        id,
        "driver",
    )
    .await
}

async fn create_vehicle(
    State(app): State<AppState>,
    JsonBody(mut v): JsonBody<Vehicle>,
) -> ApiResult<(StatusCode, Json<Vehicle>)> {
    text_field("plate", &v.plate, 20)?;
    text_field("model", &v.model, 100)?;
    v.id = sqlx::query_scalar(
        "INSERT INTO vehicles (driver_id, plate, model, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
    )
    .bind(v.driver_id)
    .bind(&v.plate)
    .bind(&v.model)
    .bind(now())
    .fetch_one(app.pool())
    .await
    .map_err(|e| reference_error(e, "driver_id"))?;
    Ok((StatusCode::CREATED, Json(v)))
}

async fn get_vehicle(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Vehicle>> {
    fetch(
        &app,
        "SELECT id, driver_id, plate, model FROM vehicles WHERE id = ?1",
        id,
        "vehicle",
    )
    .await
}

const APPLICATION_COLUMNS: &str =
    "id, company_id, driver_id, status, pickup, dropoff, price_minor, created_at, updated_at";

async fn create_application(
    State(app): State<AppState>,
    JsonBody(a): JsonBody<Application>,
) -> ApiResult<(StatusCode, Json<Application>)> {
    text_field("pickup", &a.pickup, 500)?;
    text_field("dropoff", &a.dropoff, 500)?;
    one_of("status", &a.status, APPLICATION_STATUSES)?;
    if a.price_minor < 0 {
        return Err(ApiError::invalid("price_minor", "must not be negative"));
    }
    let at = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO applications (company_id, driver_id, status, pickup, dropoff, price_minor, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
    )
    .bind(a.company_id)
    .bind(a.driver_id)
    .bind(&a.status)
    .bind(&a.pickup)
    .bind(&a.dropoff)
    .bind(a.price_minor)
    .bind(&at)
    .fetch_one(app.pool())
    .await
    .map_err(|e| reference_error(e, "company_id or driver_id"))?;
    Ok((StatusCode::CREATED, Json(application(&app, id).await?)))
}

/// One application, or `404`.
pub async fn application(app: &AppState, id: i64) -> ApiResult<Application> {
    let sql = format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = ?1");
    fetch(app, &sql, id, "application").await.map(|Json(a)| a)
}

async fn get_application(State(app): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Application>> {
    application(&app, id).await.map(Json)
}

/// A change to an application.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationChange {
    status: Option<String>,
    driver_id: Option<i64>,
}

async fn update_application(
    State(app): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(change): JsonBody<ApplicationChange>,
) -> ApiResult<Json<Application>> {
    if let Some(s) = &change.status {
        one_of("status", s, APPLICATION_STATUSES)?;
    }
    let done = sqlx::query(
        "UPDATE applications SET status = COALESCE(?2, status), driver_id = COALESCE(?3, driver_id), updated_at = ?4
         WHERE id = ?1",
    )
    .bind(id)
    .bind(&change.status)
    .bind(change.driver_id)
    .bind(now())
    .execute(app.pool())
    .await
    .map_err(|e| reference_error(e, "driver_id"))?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(format!("application {id}")));
    }
    application(&app, id).await.map(Json)
}

async fn fetch<T>(app: &AppState, sql: &str, id: i64, what: &str) -> ApiResult<Json<T>>
where
    T: for<'r> FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
{
    sqlx::query_as::<_, T>(sql)
        .bind(id)
        .fetch_optional(app.pool())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("{what} {id}")))
}

/// A foreign key that points nowhere is the client's mistake (`422`), not ours.
fn reference_error(e: sqlx::Error, field: &str) -> ApiError {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_reference",
            format!("{field}: no such record"),
        ),
        _ => ApiError::internal(e),
    }
}

//! An axum service that confirms orders and texts the customer through the outbox: the order row and
//! its SMS commit in **one** SQLite transaction, and a worker sends the SMS afterwards, at most once,
//! through a Messenger built on the same store. Run several copies of the service on one database file
//! (or on PostgreSQL with `PostgresOutbox`) and each SMS still goes out once: the store claims every
//! message key before a request leaves.
//!
//! ```text
//! cargo run --example outbox_axum --features store             # places three orders (one twice), waits for the SMS, exits
//! cargo run --example outbox_axum --features store -- --serve  # keeps serving on the printed address
//! ```
//!
//! What it shows:
//! - `POST /orders` `{"id":72,"phone":"+355694123456"}`: the order and its SMS in one transaction. A
//!   retried request (same order) queues nothing twice: the SMS's key is `order-72-confirmed`, and the
//!   outbox answers a repeated key with the first job.
//! - `GET /outbox`: how many jobs are queued, accepted, may have been sent (alert on it) or dead.
//! - The worker runs in the same process here; in production it can run in every replica, or in
//!   processes of its own.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use switchboard::core::simulated::Simulated;
use switchboard::store::outbox::{SqliteOutbox, WorkerOptions};
use switchboard::store::{MessageKey, SqliteStore, sqlx};
use switchboard::{Message, Messenger, PhoneNumber};

/// What the handlers share.
#[derive(Clone)]
struct App {
    store: Arc<SqliteStore>,
    outbox: Arc<SqliteOutbox>,
}

#[derive(Deserialize)]
struct NewOrder {
    id: i64,
    phone: String,
}

/// `POST /orders`: the order row and the SMS that confirms it, committed together or not at all.
async fn place_order(State(app): State<App>, Json(order): Json<NewOrder>) -> (StatusCode, String) {
    // A number that cannot be read is the client's mistake, said before anything is written.
    let phone = match order.phone.parse::<PhoneNumber>() {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("phone: {e}")),
    };
    match confirm(&app, order.id, phone).await {
        Ok(job) => (
            StatusCode::CREATED,
            format!("order {} confirmed, SMS job {job}", order.id),
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn confirm(app: &App, order: i64, phone: PhoneNumber) -> Result<i64, BoxError> {
    let sms = Message::sms(phone, format!("Order {order} is confirmed. Thank you!"))
        .with_key(MessageKey::new(format!("order-{order}-confirmed"))?);
    // BEGIN IMMEDIATE: SQLite takes the write lock now rather than failing at the first write when
    // another process wrote in between.
    let mut tx = app.store.pool().begin_with("BEGIN IMMEDIATE").await?;
    // A retried request finds its order already there; the outbox answers the same key with the same job.
    sqlx::query("INSERT INTO orders (id, phone_e164, status) VALUES (?1, ?2, 'confirmed') ON CONFLICT (id) DO NOTHING")
        .bind(order)
        .bind(sms.to.address())
        .execute(&mut *tx)
        .await?;
    let job = app.outbox.enqueue(&mut tx, &sms).await?;
    tx.commit().await?;
    Ok(job.0)
}

/// `GET /outbox`: the jobs by state, for a dashboard or an alert on `maybe_sent`.
async fn outbox_counts(State(app): State<App>) -> (StatusCode, String) {
    match app.outbox.counts().await {
        Ok(c) => (
            StatusCode::OK,
            format!(
                "queued {} running {} accepted {} maybe_sent {} dead {} cancelled {}",
                c.queued, c.running, c.accepted, c.maybe_sent, c.dead, c.cancelled
            ),
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let serve = std::env::args().any(|a| a == "--serve");

    // The database: the host's own tables and the store's, in one file.
    let dir = std::env::temp_dir().join(format!("switchboard-outbox-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite:{}", dir.join("app.db").display());
    let store = Arc::new(SqliteStore::connect(&url).await?);
    store.migrate().await?; // the key store's tables and the outbox's
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, phone_e164 TEXT NOT NULL, status TEXT NOT NULL)",
    )
    .execute(store.pool())
    .await?;

    // The SMS provider: SMS.ru's simulator here; `smsru://API_ID@default?from=Shop` in production.
    let sms = switchboard::smsru::sim::Simulator::start().await;
    let messenger = Arc::new(
        Messenger::builder()
            .transport("sms", switchboard::transport_from_dsn(&sms.dsn())?)
            .store(store.clone()) // the same store as the outbox: each key goes out at most once
            .build()?,
    );

    let outbox = Arc::new(SqliteOutbox::new(&store));
    let worker = outbox.worker(messenger, WorkerOptions::new().poll_interval(Duration::from_millis(50)));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(async move {
        worker
            .run(async {
                let _ = stopped.await;
            })
            .await
    });

    let app = Router::new()
        .route("/orders", post(place_order))
        .route("/outbox", get(outbox_counts))
        .with_state(App {
            store: store.clone(),
            outbox: outbox.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    println!("orders service on http://{addr} (database {url})");

    if serve {
        println!("POST /orders {{\"id\":72,\"phone\":\"+355694123456\"}}, GET /outbox; Ctrl-C stops");
        tokio::signal::ctrl_c().await?;
    } else {
        // Three orders, the second posted twice (a client retry after a lost answer).
        let http = reqwest::Client::new();
        for (id, phone) in [
            (71, "+355694123401"),
            (72, "+355694123402"),
            (72, "+355694123402"),
            (73, "+355694123403"),
        ] {
            let r = http
                .post(format!("http://{addr}/orders"))
                .json(&serde_json::json!({ "id": id, "phone": phone }))
                .send()
                .await?;
            println!("POST /orders {id}: {} {}", r.status().as_u16(), r.text().await?);
        }
        let r = http
            .post(format!("http://{addr}/orders"))
            .json(&serde_json::json!({ "id": 74, "phone": "not a number" }))
            .send()
            .await?;
        println!("POST /orders 74: {} {}", r.status().as_u16(), r.text().await?);

        // Wait (bounded) for the worker to settle every job.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while outbox.counts().await?.open() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "GET /outbox: {}",
            http.get(format!("http://{addr}/outbox")).send().await?.text().await?
        );
        let sent = sms.sent();
        println!(
            "the provider received {} SMS (three orders, one posted twice):",
            sent.len()
        );
        for s in &sent {
            println!("  {} {:?}", s.id, s.text);
        }
    }

    let _ = stop.send(());
    let settled = worker.await?;
    println!("the worker settled {settled} jobs and stopped");
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

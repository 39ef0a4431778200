//! Assembling the service: the database, each integration (a real provider or its simulator), one
//! [`Messenger`] for everything that sends a message, the outbox worker that drains it, and the routes.
//!
//! Messages leave through the outbox: a handler writes its own row and queues the message in **one**
//! transaction, and the worker sends it afterwards under the message's idempotency key. A crash between
//! the two loses nothing, a retried HTTP request queues nothing twice, and several replicas on one
//! database file send each message once.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use switchboard::core::simulated::{SimOptions, Simulated};
use switchboard::registry::Connection;
use switchboard::store::SqliteStore;
use switchboard::store::outbox::{SqliteOutbox, WorkerOptions};
use switchboard::store::sqlx::SqlitePool;
use switchboard::{Messenger, Route};

use crate::config::{Config, Integration};
use crate::error::ApiError;

/// One configured integration: its connection, and its simulator when it runs in test mode.
#[derive(Clone, Debug)]
pub struct Wired {
    /// What the provider's DSN connected to.
    pub connection: Arc<Connection>,
    /// The simulator it talks to, in test mode (tests and the load test look at what it received).
    pub simulator: Option<Arc<dyn Simulated>>,
}

/// Every integration, `None` when it is off.
#[derive(Clone, Debug, Default)]
pub struct Integrations {
    /// SMS (`CRM_SMS`).
    pub sms: Option<Wired>,
    /// Email (`CRM_EMAIL`).
    pub email: Option<Wired>,
    /// Payments (`CRM_PAYMENTS`).
    pub payments: Option<Wired>,
    /// Push (`CRM_PUSH`).
    pub push: Option<Wired>,
    /// Telegram (`CRM_TELEGRAM`).
    pub telegram: Option<Wired>,
    /// 1C (`CRM_ONEC`).
    pub onec: Option<Wired>,
}

/// What every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts, reached through [`AppState`]'s `Deref`.
pub struct Inner {
    /// The configuration it started with.
    pub config: Config,
    /// The base URL webhooks arrive at.
    pub public_url: String,
    /// The database (switchboard's tables and the CRM's).
    pub store: Arc<SqliteStore>,
    /// Messages queued in the host's transactions.
    pub outbox: Arc<SqliteOutbox>,
    /// Sends through the configured integrations, claiming each message key in the store first.
    pub messenger: Arc<Messenger>,
    /// The integrations.
    pub integrations: Integrations,
    /// The payment gateway (`CRM_PAYMENTS`), deduplicating webhooks in the database.
    pub payments: Option<Arc<dyn switchboard::payments::PaymentGateway>>,
    /// GPS settings and the per-driver rate limiter.
    pub gps: crate::gps::Gps,
    /// Export settings.
    pub exports: crate::export::Exports,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// The database pool.
    pub fn pool(&self) -> &SqlitePool {
        self.store.pool()
    }

    /// The integration, or `503` naming the variable that turns it on.
    pub fn integration<'a>(&self, wired: &'a Option<Wired>, name: &str, var: &str) -> Result<&'a Wired, ApiError> {
        wired.as_ref().ok_or_else(|| ApiError::integration_off(name, var))
    }
}

/// Connects one integration; a simulator is started with its webhooks pointed at `webhook_path` (for
/// providers that push webhooks).
async fn wire(
    integration: &Integration,
    public_url: &str,
    webhook_path: Option<&str>,
) -> switchboard::Result<Option<Wired>> {
    let (dsn, simulator) = match integration {
        Integration::Off => return Ok(None),
        Integration::Dsn(dsn) => (dsn.clone(), None),
        Integration::Simulator(scheme) => {
            let factory = switchboard::registry()
                .find(scheme)
                .and_then(|p| p.simulator())
                .ok_or_else(|| {
                    switchboard::Error::config(format!(
                        "sim:{scheme}: no simulator for that scheme; known: {}",
                        switchboard::known_schemes().join(", ")
                    ))
                })?;
            let mut options = SimOptions::default();
            if let Some(path) = webhook_path {
                options = options.webhook_url(format!("{public_url}{path}"));
            }
            let sim = factory.start(options).await?;
            (sim.dsn(), Some(sim))
        }
    };
    let connection = Arc::new(switchboard::connect(&dsn)?);
    Ok(Some(Wired { connection, simulator }))
}

/// The service, built and not yet serving.
pub struct App {
    /// The routes, with their state.
    pub router: Router,
    /// The shared state (tests reach the simulators through it).
    pub state: AppState,
}

impl App {
    /// Opens the database, connects every integration and builds the routes. `public_url` is where
    /// providers (and simulators) post webhooks.
    pub async fn build(config: Config, public_url: String) -> switchboard::Result<App> {
        let store = crate::db::open(&config.database).await?;
        let integrations = Integrations {
            sms: wire(&config.sms, &public_url, Some("/webhooks/sms")).await?,
            email: wire(&config.email, &public_url, None).await?,
            payments: wire(&config.payments, &public_url, Some("/webhooks/payments")).await?,
            push: wire(&config.push, &public_url, None).await?,
            telegram: wire(&config.telegram, &public_url, Some("/webhooks/telegram")).await?,
            onec: wire(&config.onec, &public_url, None).await?,
        };

        // One Messenger for every message integration, each under the name its webhooks arrive at.
        let mut builder = Messenger::builder().store(store.clone());
        for (name, wired, route) in [
            ("sms", &integrations.sms, Route::any_phone()),
            ("email", &integrations.email, Route::email()),
            ("push", &integrations.push, Route::push()),
            ("telegram", &integrations.telegram, Route::chat()),
        ] {
            if let Some(w) = wired {
                builder = builder
                    .transport(name, w.connection.as_ref().clone().into_transport()?)
                    .route(route.via([name]));
            }
        }
        let messenger = Arc::new(builder.build()?);
        let outbox = Arc::new(SqliteOutbox::new(&store));
        let payments = crate::payments::gateway(&config, &integrations.payments, store.pool())?;
        let gps = crate::gps::Gps::from_env(&config.env).map_err(|e| switchboard::Error::config(e.to_string()))?;
        let exports =
            crate::export::Exports::from_env(&config.env).map_err(|e| switchboard::Error::config(e.to_string()))?;

        let state = AppState(Arc::new(Inner {
            config,
            public_url,
            store,
            outbox,
            messenger,
            integrations,
            payments,
            gps,
            exports,
        }));
        let router = Router::new()
            .route("/health", axum::routing::get(|| async { "ok" }))
            .merge(crate::domain::router())
            .merge(crate::sms::router())
            .merge(crate::email::router())
            .merge(crate::push::router())
            .merge(crate::telegram::router())
            .merge(crate::payments::router())
            .merge(crate::onec::router())
            .merge(crate::gps::router())
            .merge(crate::export::router())
            .with_state(state.clone());
        Ok(App { router, state })
    }

    /// The outbox worker: sends what handlers queued, until `shutdown` resolves.
    pub fn worker(&self) -> switchboard::store::outbox::Worker {
        self.state.outbox.worker(
            self.state.messenger.clone(),
            WorkerOptions::new()
                .name("crm")
                .poll_interval(Duration::from_millis(100)),
        )
    }
}

/// A running service (tests, the load test): its address and state; stops when dropped or
/// [`stop`](Running::stop)ped.
pub struct Running {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The shared state.
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops serving and lets the worker finish the message it is sending.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds `config.listen` (`127.0.0.1:0` for any port), builds the service and serves it in the
/// background with its outbox worker.
pub async fn spawn(config: Config) -> Result<Running, Box<dyn std::error::Error + Send + Sync>> {
    let listener = tokio::net::TcpListener::bind(&config.listen).await?;
    let url = config.public_url.clone().unwrap_or_else(|| {
        format!(
            "http://{}",
            listener
                .local_addr()
                .map_or_else(|_| config.listen.clone(), |a| a.to_string())
        )
    });
    let app = App::build(config, url.clone()).await?;
    let state = app.state.clone();
    let worker = app.worker();
    let settle_every = crate::delivery::interval(&state)?;
    let settler_state = state.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stopped = async {
        let _ = stopped.await;
    };
    let task = tokio::spawn(async move {
        let stopped = futures_shared(stopped);
        // Connect info: the YooKassa webhook is verified by the address it comes from.
        let serving = axum::serve(
            listener,
            app.router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(stopped.clone());
        let (served, ..) = tokio::join!(
            serving,
            worker.run(stopped.clone()),
            crate::delivery::run(settler_state, settle_every, stopped.clone()),
            crate::gps::cleanup_loop(app.state.clone(), stopped.clone()),
            crate::export::sweep_loop(app.state.clone(), stopped),
        );
        served
    });
    Ok(Running {
        url,
        state,
        stop: Some(stop),
        task,
    })
}

/// Serves until `shutdown` resolves (Ctrl-C in `main`).
pub async fn serve(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let running = spawn(config).await?;
    tracing::info!(url = %running.url, "crm serving");
    println!("crm serving on {}", running.url);
    shutdown.await;
    running.stop().await;
    Ok(())
}

/// One shutdown signal awaited by both the server and the worker.
fn futures_shared(
    f: impl std::future::Future<Output = ()> + Send + 'static,
) -> futures::future::Shared<futures::future::BoxFuture<'static, ()>> {
    use futures::FutureExt;
    f.boxed().shared()
}

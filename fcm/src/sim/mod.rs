//! An FCM HTTP v1 simulator (feature `sim`): Google's OAuth token endpoint and `messages:send`, close
//! enough to the wire that Google's Admin SDKs could be pointed at it through the key file's
//! `token_uri` and an FCM endpoint override.
//!
//! What it models, following FCM's HTTP v1 reference
//! (<https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages>, the `ErrorCode` page
//! and <https://firebase.google.com/docs/cloud-messaging/error-codes>) and Google's OAuth 2.0
//! service-account flow:
//!
//! * `POST /token` (module `auth`): the JWT bearer grant. The assertion is **verified**: RS256 signature with the
//!   service account's public key, `kid`, `iss` (a known account), `aud` (this token URI), `scope`,
//!   `iat`/`exp` (at most 60 minutes, not in the future beyond 5 minutes of skew, not expired). Bad
//!   assertions get OAuth errors (`invalid_grant`, `invalid_scope`, `unsupported_grant_type`); good
//!   ones `{access_token, expires_in: 3599, token_type: "Bearer"}`. Requests are counted.
//! * `POST /v1/projects/{id}/messages:send`: needs a Bearer token the simulator issued and that has
//!   not expired or been revoked (401 `UNAUTHENTICATED`), with the FCM or cloud-platform scope (403),
//!   for this project (403 `PERMISSION_DENIED`). The body is checked as FCM does (the `message`
//!   module): as protobuf JSON, so an unknown field anywhere or a value of the wrong type is 400
//!   `INVALID_ARGUMENT` (`Invalid value at 'message.data[0].value' (TYPE_STRING)`); then exactly one
//!   target, reserved data keys, Android TTL, topic names, payload size, HTTPS web push links and
//!   analytics labels. Tokens: registered devices are
//!   accepted, [`Simulator::unregister`]ed ones get 404 `UNREGISTERED`, tokens of another project 403
//!   `SENDER_ID_MISMATCH`, malformed ones 400 `INVALID_ARGUMENT` with a `message.token` field
//!   violation; well-formed unknown tokens are accepted unless [`Simulator::set_strict_tokens`].
//!   `validate_only` answers `…/messages/fake_message_id` and delivers nothing. Any other error
//!   (`QUOTA_EXCEEDED` with `Retry-After`, `UNAVAILABLE`, `INTERNAL`, `THIRD_PARTY_AUTH_ERROR`) on
//!   demand with [`Simulator::queue_error`].
//! * `POST /fcm/send`, the legacy API shut down in 2024: 404.
//!
//! The simulator writes its own service-account key file (a throwaway RSA key made once per
//! process) so [`Simulated::dsn`] works as is, and a second one naming an account it does not know
//! (for [`Simulated::dsn_with_bad_credentials`]); both are removed when the simulator is dropped.
//!
//! It is driven like every simulator, through [`Simulated`]: [`Simulated::sent`] lists the messages
//! accepted for delivery (read one whole with [`Simulator::message`]), [`Simulated::fail_next`]
//! queues an HTTP fault. FCM pushes nothing back to the sender — no delivery receipts, no callbacks —
//! so there is nothing to [`Simulated::advance`] or [`Simulated::trigger`], and
//! [`Simulated::pushed`] stays empty. Its rate-limit answer (429 `QUOTA_EXCEEDED` in Google's
//! envelope with a `Retry-After` header) cannot be written as a core `Fault`, which has no headers
//! beside a body: queue it with [`SimError::quota_exceeded`].
//!
//! Files: `state` (the project's state and what tests queue), `auth` (the token endpoint), `api`
//! (routes and `messages:send`), `message` (the body checks).

// Handlers return the HTTP answer itself as their error; its size does not matter here.
#![allow(clippy::result_large_err)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{Error, Recipient, Result, WebhookRequest};

use self::auth::{SimKey, other_key, sim_key};
use self::state::{Inner, device_token, new_inner};
use crate::SCHEME;
use crate::auth::JwtClaims;
use crate::config::{FcmConfig, ServiceAccount};

mod api;
mod auth;
mod message;
mod state;

pub use state::{SimError, SimMessage};

/// The simulated Firebase project.
pub const SIM_PROJECT_ID: &str = "switchboard-sim";
/// The simulated service account's key id.
pub const SIM_KEY_ID: &str = "5e1a1e0000000000000000000000000000c0ffee";
/// The cloud-platform scope, which also allows FCM.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The FCM simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    inner: Arc<Inner>,
    credentials_path: PathBuf,
    stranger_path: PathBuf,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.uri())
            .finish_non_exhaustive()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.credentials_path);
        let _ = std::fs::remove_file(&self.stranger_path);
    }
}

impl Simulator {
    /// Starts on a free loopback port.
    pub async fn start() -> Simulator {
        let inner = new_inner();
        let server = SimServer::start(api::handler(inner.clone())).await;
        Self::finish(server, inner)
    }

    /// Starts with `options`: on [`SimOptions::port`] when given (a port that cannot be had is a
    /// `Config` error). FCM pushes nothing, so [`SimOptions::webhook_url`] is not used.
    pub async fn start_with(options: SimOptions) -> Result<Simulator> {
        let inner = new_inner();
        let handler = api::handler(inner.clone());
        let server = match options.port {
            None => SimServer::start(handler).await,
            Some(port) => SimServer::start_on_port(port, handler).await.map_err(|e| {
                Error::config(format!("the FCM simulator cannot listen on 127.0.0.1:{port}: {e}")).with_provider(SCHEME)
            })?,
        };
        Ok(Self::finish(server, inner))
    }

    fn finish(server: SimServer, inner: Arc<Inner>) -> Simulator {
        inner.lock().token_uri = format!("{}/token", server.uri());
        static FILES: AtomicU64 = AtomicU64::new(0);
        let file = |what: &str| {
            std::env::temp_dir().join(format!(
                "switchboard-fcm-sim-{}-{}-{}{what}.json",
                std::process::id(),
                server.address().port(),
                FILES.fetch_add(1, Ordering::Relaxed)
            ))
        };
        let (credentials_path, stranger_path) = (file(""), file("-stranger"));
        let sim = Simulator {
            server,
            inner,
            credentials_path,
            stranger_path,
        };
        let mut stranger: Value = serde_json::from_str(&sim.service_account_json()).unwrap_or_default();
        stranger["client_email"] = json!("stranger@elsewhere.iam.gserviceaccount.com");
        for (path, json) in [
            (&sim.credentials_path, sim.service_account_json()),
            (&sim.stranger_path, stranger.to_string()),
        ] {
            if let Err(e) = std::fs::write(path, json) {
                tracing::warn!(error = %e, "the FCM simulator could not write a key file");
            }
        }
        sim
    }

    /// The token endpoint, `{uri}/token`.
    pub fn token_uri(&self) -> String {
        format!("{}/token", self.uri())
    }

    /// Where the key file is.
    pub fn credentials_path(&self) -> &std::path::Path {
        &self.credentials_path
    }

    /// The service-account key file's JSON, pointing its `token_uri` at the simulator.
    pub fn service_account_json(&self) -> String {
        self.key_file(sim_key())
    }

    fn key_file(&self, key: &SimKey) -> String {
        let s = self.inner.lock();
        json!({
            "type": "service_account",
            "project_id": s.project_id,
            "private_key_id": SIM_KEY_ID,
            "private_key": key.pkcs8_pem,
            "client_email": s.client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": s.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com"
        })
        .to_string()
    }

    /// The simulated service account.
    pub fn service_account(&self) -> ServiceAccount {
        #[allow(clippy::expect_used)]
        ServiceAccount::from_json(&self.service_account_json()).expect("the simulator's own key file parses")
    }

    /// The same account and key id, with a private key the simulator does not know: its assertions
    /// fail the signature check.
    pub fn foreign_service_account(&self) -> ServiceAccount {
        #[allow(clippy::expect_used)]
        ServiceAccount::from_json(&self.key_file(other_key())).expect("the simulator's own key file parses")
    }

    /// A client config pointing at the simulator, without retries (tests see every answer).
    pub fn config(&self) -> FcmConfig {
        #[allow(clippy::expect_used)]
        FcmConfig::builder(self.service_account())
            .base_url(self.uri())
            .retry(switchboard_core::RetryPolicy::never())
            .build()
            .expect("the simulator's config is valid")
    }

    /// A new device's registration token.
    pub fn register_device(&self) -> String {
        let t = device_token();
        self.inner.lock().devices.insert(t.clone());
        t
    }

    /// A token of another Firebase project (sends get `SENDER_ID_MISMATCH`).
    pub fn register_foreign_device(&self) -> String {
        let t = device_token();
        self.inner.lock().foreign.insert(t.clone());
        t
    }

    /// The app was uninstalled: sends to `token` get `UNREGISTERED`.
    pub fn unregister(&self, token: &str) {
        let mut s = self.inner.lock();
        s.devices.remove(token);
        s.unregistered.insert(token.to_owned());
    }

    /// Refuse well-formed tokens that were never registered (as real FCM does).
    pub fn set_strict_tokens(&self, strict: bool) {
        self.inner.lock().strict_tokens = strict;
    }

    /// The next send gets this error (after authentication).
    pub fn queue_error(&self, e: SimError) {
        self.inner.lock().errors.push_back(e);
    }

    /// Invalidates every access token issued so far.
    pub fn revoke_tokens(&self) {
        self.inner.lock().tokens.clear();
    }

    /// `expires_in` of tokens issued from now on (3599 by default).
    pub fn set_token_lifetime(&self, secs: u64) {
        self.inner.lock().token_lifetime = secs;
    }

    /// Token requests received (good and bad).
    pub fn token_requests(&self) -> usize {
        self.inner.lock().token_requests
    }

    /// Send requests received (good and bad).
    pub fn send_requests(&self) -> usize {
        self.inner.lock().send_requests
    }

    /// The claims of every assertion accepted.
    pub fn accepted_assertions(&self) -> Vec<JwtClaims> {
        self.inner.lock().assertions.clone()
    }

    /// A message accepted for delivery, by its name (`projects/…/messages/…`, a [`SimRecord`]'s id),
    /// as it came. Dry runs are not kept.
    pub fn message(&self, name: &str) -> Option<SimMessage> {
        self.inner.lock().sent.iter().find(|m| m.name == name).cloned()
    }

    /// Every request received, as wiremock recorded it.
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }
}

/// `fcm://PROJECT@host:port?credentials=<key file>`.
fn dsn_for(host_port: &str, key_file: &Path) -> String {
    let path: String = url::form_urlencoded::byte_serialize(key_file.to_string_lossy().as_bytes()).collect();
    format!("fcm://{SIM_PROJECT_ID}@{host_port}?credentials={path}")
}

/// Starts FCM simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "FCM";
    type Error = switchboard_core::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, switchboard_core::Error> {
        Simulator::start_with(options).await
    }
}

#[switchboard_core::async_trait]
impl Simulated for Simulator {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// The base URL (FCM and the token endpoint share it).
    fn uri(&self) -> String {
        self.server.uri()
    }

    /// `fcm://switchboard-sim@127.0.0.1:PORT?credentials=/tmp/…json`, the simulator's own key file.
    fn dsn(&self) -> String {
        let addr = self.server.address();
        dsn_for(&format!("{}:{}", addr.ip(), addr.port()), &self.credentials_path)
    }

    /// The fault queue (applies to the token endpoint and sends alike).
    fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// One record per message accepted for delivery: its name, its target (token, topic or
    /// condition), its notification body (or title), `accepted`.
    fn sent(&self) -> Vec<SimRecord> {
        self.inner
            .lock()
            .sent
            .iter()
            .map(|m| {
                let to = m.token().or(m.topic()).or(m.condition()).unwrap_or_default();
                let text = m.body().or(m.title()).unwrap_or_default();
                SimRecord::new(m.name.clone(), to, text, "accepted")
            })
            .collect()
    }

    /// FCM reports nothing back about a message after it accepted it.
    async fn advance(&self) {}

    /// FCM pushes nothing to the sender.
    fn pushed(&self) -> Vec<WebhookRequest> {
        Vec::new()
    }

    /// A newly registered device.
    fn recipient(&self) -> Option<Recipient> {
        Some(Recipient::PushToken(self.register_device()))
    }

    /// The DSN with a key file naming an account the token endpoint does not know (`invalid_grant`).
    fn dsn_with_bad_credentials(&self) -> Option<String> {
        let addr = self.server.address();
        Some(dsn_for(&format!("{}:{}", addr.ip(), addr.port()), &self.stranger_path))
    }

    /// The DSN with FCM at `base_url`; the key file's token endpoint stays the simulator's.
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        let url = url::Url::parse(base_url).ok()?;
        let host_port = format!("{}:{}", url.host_str()?, url.port_or_known_default()?);
        Some(dsn_for(&host_port, &self.credentials_path))
    }
}

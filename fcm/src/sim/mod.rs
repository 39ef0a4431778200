//! An FCM HTTP v1 simulator (feature `sim`): Google's OAuth token endpoint and `messages:send`, close
//! enough to the wire that Google's Admin SDKs could be pointed at it through the key file's
//! `token_uri` and an FCM endpoint override.
//!
//! What it models, following FCM's HTTP v1 reference
//! (<https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages>, the `ErrorCode` page
//! and <https://firebase.google.com/docs/cloud-messaging/error-codes>) and Google's OAuth 2.0
//! service-account flow:
//!
//! * `POST /token`: the JWT bearer grant. The assertion is **verified**: RS256 signature with the
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
//! process) so [`Simulator::dsn`] works as is; the file is removed when the simulator is dropped.

// Handlers return the HTTP answer itself as their error; its size does not matter here.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use switchboard_core::MessageId;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_status};

use super::auth::{JWT_BEARER_GRANT, JwtClaims, JwtHeader, pem_encode};
use super::config::{Config, FCM_SCOPE, ServiceAccount};

mod message;

/// The simulated Firebase project.
pub const SIM_PROJECT_ID: &str = "switchboard-sim";
/// The simulated service account's key id.
pub const SIM_KEY_ID: &str = "5e1a1e0000000000000000000000000000c0ffee";
/// The cloud-platform scope, which also allows FCM.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Allowed clock skew on `iat` (Google's exact figure is not published; five minutes is common).
const CLOCK_SKEW_SECS: i64 = 300;

struct SimKey {
    pkcs8_pem: String,
    public_der: Vec<u8>,
}

fn make_key() -> SimKey {
    // A failure here means the crypto library itself is broken; there is nothing to fall back to.
    #[allow(clippy::expect_used)]
    let kp = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation failed");
    #[allow(clippy::expect_used)]
    let der = kp.as_der().expect("RSA key export failed");
    SimKey {
        pkcs8_pem: pem_encode("PRIVATE KEY", der.as_ref()),
        public_der: kp.public_key().as_ref().to_vec(),
    }
}

/// The account's key, made once per process (RSA key generation is slow in debug builds).
fn sim_key() -> &'static SimKey {
    static KEY: OnceLock<SimKey> = OnceLock::new();
    KEY.get_or_init(make_key)
}

/// Another key, for "signed with the wrong key" cases.
fn other_key() -> &'static SimKey {
    static KEY: OnceLock<SimKey> = OnceLock::new();
    KEY.get_or_init(make_key)
}

/// An error the next send receives instead of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimError {
    /// HTTP status.
    pub http: u16,
    /// Canonical status (`UNAVAILABLE`).
    pub status: String,
    /// FCM error code for the `FcmError` detail, if any.
    pub fcm_code: Option<String>,
    /// Message.
    pub message: String,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
}

impl SimError {
    /// Any error.
    pub fn new(http: u16, status: &str, fcm_code: Option<&str>, message: &str) -> Self {
        SimError {
            http,
            status: status.into(),
            fcm_code: fcm_code.map(str::to_owned),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429 `RESOURCE_EXHAUSTED` / `QUOTA_EXCEEDED`.
    pub fn quota_exceeded(retry_after: Option<u64>) -> Self {
        SimError {
            retry_after,
            ..Self::new(
                429,
                "RESOURCE_EXHAUSTED",
                Some("QUOTA_EXCEEDED"),
                "Quota exceeded for quota metric 'Send messages'.",
            )
        }
    }

    /// 503 `UNAVAILABLE`.
    pub fn unavailable(retry_after: Option<u64>) -> Self {
        SimError {
            retry_after,
            ..Self::new(
                503,
                "UNAVAILABLE",
                Some("UNAVAILABLE"),
                "The service is currently unavailable.",
            )
        }
    }

    /// 500 `INTERNAL`.
    pub fn internal() -> Self {
        Self::new(500, "INTERNAL", Some("INTERNAL"), "Internal error encountered.")
    }

    /// 401 `THIRD_PARTY_AUTH_ERROR` (bad APNs certificate or web push key).
    pub fn third_party_auth_error() -> Self {
        Self::new(
            401,
            "UNAUTHENTICATED",
            Some("THIRD_PARTY_AUTH_ERROR"),
            "Auth error from APNS or Web Push Service",
        )
    }

    /// 500 `UNSPECIFIED_ERROR`.
    pub fn unspecified() -> Self {
        Self::new(500, "UNKNOWN", Some("UNSPECIFIED_ERROR"), "Unknown error.")
    }
}

/// A message the simulator accepted.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct SimPush {
    /// `projects/{id}/messages/{message_id}`.
    pub name: String,
    /// The message as it came.
    pub message: Value,
}

impl std::fmt::Debug for SimPush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimPush")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SimPush {
    /// The device token it went to.
    pub fn token(&self) -> Option<&str> {
        self.message.get("token").and_then(Value::as_str)
    }

    /// The topic it went to.
    pub fn topic(&self) -> Option<&str> {
        self.message.get("topic").and_then(Value::as_str)
    }

    /// One data value.
    pub fn data(&self, key: &str) -> Option<&str> {
        self.message.get("data")?.get(key)?.as_str()
    }

    /// The notification title.
    pub fn title(&self) -> Option<&str> {
        self.message.get("notification")?.get("title")?.as_str()
    }

    /// The notification body.
    pub fn body(&self) -> Option<&str> {
        self.message.get("notification")?.get("body")?.as_str()
    }
}

struct Issued {
    expires: Instant,
    scopes: Vec<String>,
}

struct State {
    project_id: String,
    client_email: String,
    token_uri: String,
    tokens: HashMap<String, Issued>,
    token_lifetime: u64,
    token_requests: usize,
    send_requests: usize,
    sent: Vec<SimPush>,
    devices: HashSet<String>,
    unregistered: HashSet<String>,
    foreign: HashSet<String>,
    strict_tokens: bool,
    errors: VecDeque<SimError>,
    assertions: Vec<JwtClaims>,
}

struct Inner {
    state: Mutex<State>,
    counter: AtomicU64,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// The FCM simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    inner: Arc<Inner>,
    credentials_path: PathBuf,
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
    }
}

impl Simulator {
    /// Starts on a free loopback port.
    pub async fn start() -> Simulator {
        let inner = new_inner();
        let server = SimServer::start(handler(inner.clone())).await;
        Self::finish(server, inner)
    }

    /// Starts on `127.0.0.1:port`.
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let inner = new_inner();
        let server = SimServer::start_on_port(port, handler(inner.clone())).await?;
        Ok(Self::finish(server, inner))
    }

    fn finish(server: SimServer, inner: Arc<Inner>) -> Simulator {
        inner.lock().token_uri = format!("{}/token", server.uri());
        static FILES: AtomicU64 = AtomicU64::new(0);
        let credentials_path = std::env::temp_dir().join(format!(
            "switchboard-fcm-sim-{}-{}-{}.json",
            std::process::id(),
            server.address().port(),
            FILES.fetch_add(1, Ordering::Relaxed)
        ));
        let sim = Simulator {
            server,
            inner,
            credentials_path,
        };
        if let Err(e) = std::fs::write(&sim.credentials_path, sim.service_account_json()) {
            tracing::warn!(error = %e, "the FCM simulator could not write its key file");
        }
        sim
    }

    /// The base URL (FCM and the token endpoint share it).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The token endpoint, `{uri}/token`.
    pub fn token_uri(&self) -> String {
        format!("{}/token", self.uri())
    }

    /// `fcm://switchboard-sim@127.0.0.1:PORT?credentials=/tmp/…json`, the simulator's own key file.
    pub fn dsn(&self) -> String {
        let path: String =
            url::form_urlencoded::byte_serialize(self.credentials_path.to_string_lossy().as_bytes()).collect();
        let addr = self.server.address();
        format!(
            "fcm://{SIM_PROJECT_ID}@{}:{}?credentials={path}",
            addr.ip(),
            addr.port()
        )
    }

    /// Where the key file is.
    pub fn credentials_path(&self) -> &std::path::Path {
        &self.credentials_path
    }

    /// The fault queue (applies to the token endpoint and sends alike).
    pub fn faults(&self) -> &Faults {
        self.server.faults()
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
    pub fn config(&self) -> Config {
        #[allow(clippy::expect_used)]
        Config::builder(self.service_account())
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

    /// Messages accepted for delivery (dry runs excluded).
    pub fn sent(&self) -> Vec<SimPush> {
        self.inner.lock().sent.clone()
    }

    /// Every request received, as wiremock recorded it.
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }
}

fn new_inner() -> Arc<Inner> {
    Arc::new(Inner {
        state: Mutex::new(State {
            project_id: SIM_PROJECT_ID.into(),
            client_email: format!("firebase-adminsdk-sim@{SIM_PROJECT_ID}.iam.gserviceaccount.com"),
            token_uri: String::new(),
            tokens: HashMap::new(),
            token_lifetime: 3599,
            token_requests: 0,
            send_requests: 0,
            sent: Vec::new(),
            devices: HashSet::new(),
            unregistered: HashSet::new(),
            foreign: HashSet::new(),
            strict_tokens: false,
            errors: VecDeque::new(),
            assertions: Vec::new(),
        }),
        counter: AtomicU64::new(0),
    })
}

/// A token shaped like FCM's: an instance id, `:APA91b`, and a long tail.
fn device_token() -> String {
    let a = MessageId::random();
    let tail: String = (0..4).map(|_| MessageId::random().as_str().to_owned()).collect();
    format!("{}:APA91b{}", &a.as_str()[..22], tail)
}

fn handler(inner: Arc<Inner>) -> switchboard_core::testkit::Handler {
    Arc::new(move |req: &Request| {
        let path = req.url.path();
        let post = req.method == http::Method::POST;
        if post && path == "/token" {
            return token_endpoint(&inner, req);
        }
        if post
            && let Some(project) = path
                .strip_prefix("/v1/projects/")
                .and_then(|r| r.strip_suffix("/messages:send"))
        {
            return send_endpoint(&inner, req, project);
        }
        if path == "/fcm/send" {
            // The legacy API is gone: Firebase shut it down in 2024 (its migration guide,
            // https://firebase.google.com/docs/cloud-messaging/migrate-v1).
            return ResponseTemplate::new(404).set_body_raw(
                "<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>",
                "text/html; charset=UTF-8",
            );
        }
        ResponseTemplate::new(404).set_body_raw("<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>", "text/html")
    })
}

fn oauth_error(status: u16, error: &str, description: &str) -> ResponseTemplate {
    json_status(status, &json!({"error": error, "error_description": description}))
}

fn token_endpoint(inner: &Inner, req: &Request) -> ResponseTemplate {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body).into_owned().collect();
    let mut s = inner.lock();
    s.token_requests += 1;
    match form.get("grant_type").map(String::as_str) {
        Some(JWT_BEARER_GRANT) => {}
        Some(other) => return oauth_error(400, "unsupported_grant_type", &format!("Invalid grant_type: {other}")),
        None => return oauth_error(400, "invalid_request", "Missing required parameter: grant_type"),
    }
    let Some(assertion) = form.get("assertion") else {
        return oauth_error(400, "invalid_request", "Missing required parameter: assertion");
    };
    let claims = match verify_assertion(&s, assertion) {
        Ok(c) => c,
        Err((code, desc)) => return oauth_error(400, code, desc),
    };
    let token = format!("ya29.c.sim{}{}", MessageId::random(), inner.next());
    let scopes: Vec<String> = claims
        .scope
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let lifetime = s.token_lifetime;
    s.tokens.insert(
        token.clone(),
        Issued {
            expires: Instant::now() + Duration::from_secs(lifetime),
            scopes,
        },
    );
    s.assertions.push(claims);
    json_status(
        200,
        &json!({"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}),
    )
}

const SHORT_LIVED: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. \
                           Check your iat and exp values in the JWT claim.";

/// Verifies a JWT bearer assertion as Google's token endpoint does. The error texts follow Google's
/// where they are known; exact wording is not documented (**NV**).
fn verify_assertion(s: &State, jwt: &str) -> Result<JwtClaims, (&'static str, &'static str)> {
    let malformed = ("invalid_grant", "Invalid JWT: the assertion is not a signed JWT.");
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed);
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok();
    let header: JwtHeader = decode(h)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(malformed)?;
    let claims: JwtClaims = decode(c)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(malformed)?;
    let sig = decode(sig).ok_or(malformed)?;
    if header.alg != "RS256" {
        return Err(("invalid_grant", "Invalid JWT: only RS256 is accepted."));
    }
    if claims.iss != s.client_email {
        return Err(("invalid_grant", "Invalid grant: account not found"));
    }
    if header.kid.as_deref().is_some_and(|k| k != SIM_KEY_ID) {
        return Err(("invalid_grant", "Invalid JWT Signature."));
    }
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &sim_key().public_der);
    let signed = format!("{h}.{c}");
    if public.verify(signed.as_bytes(), &sig).is_err() {
        return Err(("invalid_grant", "Invalid JWT Signature."));
    }
    if claims.aud != s.token_uri {
        return Err(("invalid_grant", "Invalid JWT: Failed audience check."));
    }
    let now = chrono::Utc::now().timestamp();
    if claims.exp <= claims.iat
        || claims.exp - claims.iat > 3600
        || claims.iat > now + CLOCK_SKEW_SECS
        || claims.exp <= now
    {
        return Err(("invalid_grant", SHORT_LIVED));
    }
    if claims.scope.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(("invalid_scope", "Invalid OAuth scope or ID token audience provided."));
    }
    Ok(claims)
}

/// Google's error envelope.
fn google_error(http: u16, status: &str, message: &str, details: Vec<Value>) -> ResponseTemplate {
    json_status(
        http,
        &json!({"error": {"code": http, "message": message, "status": status, "details": details}}),
    )
}

fn fcm_detail(code: &str) -> Value {
    json!({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code})
}

fn bad_request(field: &str, description: &str) -> Value {
    json!({"@type": "type.googleapis.com/google.rpc.BadRequest",
           "fieldViolations": [{"field": field, "description": description}]})
}

fn invalid_argument(message: &str, field: Option<&str>) -> ResponseTemplate {
    let mut details = vec![fcm_detail("INVALID_ARGUMENT")];
    if let Some(f) = field {
        details.push(bad_request(f, message));
    }
    google_error(400, "INVALID_ARGUMENT", message, details)
}

fn send_endpoint(inner: &Inner, req: &Request, project: &str) -> ResponseTemplate {
    let mut s = inner.lock();
    s.send_requests += 1;
    let bearer = req
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let now = Instant::now();
    let Some(issued) = bearer.and_then(|t| s.tokens.get(t)).filter(|i| i.expires > now) else {
        return google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other \
             valid authentication credential.",
            vec![],
        )
        .insert_header("www-authenticate", "Bearer realm=\"https://accounts.google.com/\"");
    };
    if !issued
        .scopes
        .iter()
        .any(|sc| sc == FCM_SCOPE || sc == CLOUD_PLATFORM_SCOPE)
    {
        return google_error(
            403,
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
            vec![],
        );
    }
    if project != s.project_id {
        return google_error(
            403,
            "PERMISSION_DENIED",
            &format!(
                "Permission 'cloudmessaging.messages.create' denied on resource \
                 '//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
            ),
            vec![],
        );
    }
    if let Some(e) = s.errors.pop_front() {
        let details = e.fcm_code.as_deref().map(fcm_detail).into_iter().collect();
        let t = google_error(e.http, &e.status, &e.message, details);
        return match e.retry_after {
            Some(r) => t.insert_header("retry-after", r.to_string().as_str()),
            None => t,
        };
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => return invalid_argument("Invalid JSON payload received.", None),
    };
    if let Err(r) = message::check_request(&body) {
        return r;
    }
    let Some(message) = body.get("message").filter(|m| m.is_object()) else {
        return invalid_argument("Request contains an invalid argument.", Some("message"));
    };
    let validate_only = message::field(&body, "validate_only")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Err(r) = message::check_message(&s, message) {
        return r;
    }
    let name = if validate_only {
        format!("projects/{project}/messages/fake_message_id")
    } else if message.get("token").is_some() {
        let n = inner.next();
        format!(
            "projects/{project}/messages/0:{}%{:016x}",
            chrono::Utc::now().timestamp_micros(),
            n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        )
    } else {
        format!(
            "projects/{project}/messages/{}",
            7_000_000_000_000_000_000u64 + inner.next()
        )
    };
    if !validate_only {
        s.sent.push(SimPush {
            name: name.clone(),
            message: message.clone(),
        });
    }
    json_status(200, &json!({"name": name}))
}

//! How an FCM client is configured: the service account and where to send.
//!
//! From a DSN ([`FcmConfig::from_dsn`]):
//!
//! ```text
//! fcm://PROJECT_ID@default?credentials=/etc/app/service-account.json
//! fcm://default?credentials=/path.json            project id taken from the service-account file
//! fcm://PROJECT_ID@default                        key file from $GOOGLE_APPLICATION_CREDENTIALS
//!      [&validate_only=true]                       dry run: FCM checks every message, delivers none
//!      [&priority=high|normal][&ttl=SECONDS]       Android defaults for transport sends
//!      [&concurrency=16]                           sends in flight in send_many
//! fcm://PROJECT_ID@127.0.0.1:8080?credentials=…    a simulator (http on loopback)
//! ```
//!
//! The key file is read once, when the config is made. The OAuth token endpoint is the file's
//! `token_uri` (that is what Google's own libraries do, and how a simulator's file points at the
//! simulator); it must be HTTPS unless it is a loopback address.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use crate::SCHEME;
use crate::model::AndroidPriority;

/// FCM's public API.
pub const BASE_URL: &str = "https://fcm.googleapis.com";

/// Google's OAuth 2.0 token endpoint, used when a key file has no `token_uri`.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The OAuth scope FCM HTTP v1 needs.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// The environment variable Google's libraries read the key file's path from.
pub const CREDENTIALS_ENV: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// A Google service-account key, as the JSON file downloaded from the Cloud console holds it.
///
/// `Debug` shows the account and key id, never the private key.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceAccount {
    /// Always `service_account` for this kind of key.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The Google Cloud / Firebase project the account belongs to.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The key's id, sent as the JWT header's `kid`.
    #[serde(default)]
    pub private_key_id: Option<String>,
    /// The RSA private key, PKCS#8 PEM.
    #[serde(serialize_with = "expose")]
    pub private_key: SecretString,
    /// The account's email: the JWT's issuer.
    pub client_email: String,
    /// The account's numeric id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Where the signed assertion is exchanged for an access token.
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
    /// Every other field of the file, kept as it came.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Serialises the key for writing a key file (the simulator writes its own); only ever called by
/// serde, never by `Debug`.
fn expose<S: serde::Serializer>(s: &SecretString, ser: S) -> std::result::Result<S::Ok, S::Error> {
    ser.serialize_str(s.expose_secret())
}

fn default_token_uri() -> String {
    GOOGLE_TOKEN_URI.to_owned()
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("project_id", &self.project_id)
            .field("private_key_id", &self.private_key_id)
            .field("private_key", &"[REDACTED]")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccount {
    /// Parses a key file's JSON. Errors never quote the file (it holds the private key).
    pub fn from_json(json: &str) -> Result<ServiceAccount> {
        let sa: ServiceAccount = serde_json::from_str(json).map_err(|e| {
            Error::config(format!(
                "the FCM credentials are not a service-account key file (JSON error at line {}, column {})",
                e.line(),
                e.column()
            ))
            .with_provider(SCHEME)
        })?;
        sa.validate()?;
        Ok(sa)
    }

    /// Reads and parses a key file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<ServiceAccount> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "could not read the FCM credentials file {}: {}",
                path.display(),
                e.kind()
            ))
            .with_provider(SCHEME)
            .with_source(e)
        })?;
        Self::from_json(&json)
    }

    /// Checks the fields the JWT needs. The key itself is checked when the client is built.
    pub fn validate(&self) -> Result<()> {
        match self.kind.as_deref() {
            None | Some("service_account") => {}
            Some(other) => {
                return Err(Error::config(format!(
                    "FCM needs a service-account key file, not credentials of type '{}'",
                    other.escape_debug()
                ))
                .with_provider(SCHEME));
            }
        }
        if !self.client_email.contains('@') {
            return Err(
                Error::config("the service account's client_email is missing or not an email").with_provider(SCHEME),
            );
        }
        if self.private_key.expose_secret().trim().is_empty() {
            return Err(Error::config("the service account's private_key is empty").with_provider(SCHEME));
        }
        check_http_url(&self.token_uri, "token_uri")?;
        Ok(())
    }
}

/// An `https` URL, or `http` on a loopback host (a simulator).
fn check_http_url(raw: &str, what: &str) -> Result<()> {
    let url = url::Url::parse(raw)
        .map_err(|_| Error::config(format!("the FCM {what} is not a URL")).with_provider(SCHEME))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(Error::config(format!(
            "the FCM {what} must be https (http only on a loopback address)"
        ))
        .with_provider(SCHEME)),
    }
}

/// An FCM client's configuration. `Debug` never shows the private key.
#[derive(Clone)]
#[non_exhaustive]
pub struct FcmConfig {
    /// The Firebase project messages are sent for (`projects/{project_id}/messages:send`).
    pub project_id: String,
    /// The service account that signs the token requests.
    pub service_account: ServiceAccount,
    /// FCM's base URL.
    pub base_url: String,
    /// The OAuth scope asked for.
    pub scope: String,
    /// Send every message with `validate_only`: FCM checks it and delivers nothing.
    pub validate_only: bool,
    /// Android priority for messages the transport builds.
    pub android_priority: Option<AndroidPriority>,
    /// Android time to live for messages the transport builds.
    pub ttl: Option<Duration>,
    /// Messages in flight at once in `send_many` (FCM has no batch endpoint since 2024).
    pub concurrency: usize,
    /// HTTP behaviour.
    pub http: HttpOptions,
    /// Retry policy. A send is repeated only when FCM certainly did not take it (UNAVAILABLE,
    /// QUOTA_EXCEEDED, connection refused), honouring `Retry-After`.
    pub retry: RetryPolicy,
}

impl fmt::Debug for FcmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FcmConfig")
            .field("project_id", &self.project_id)
            .field("service_account", &self.service_account)
            .field("base_url", &redact_url(&self.base_url))
            .field("scope", &self.scope)
            .field("validate_only", &self.validate_only)
            .field("android_priority", &self.android_priority)
            .field("ttl", &self.ttl)
            .field("concurrency", &self.concurrency)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish()
    }
}

impl FcmConfig {
    /// A config for this service account; the project is the account's own unless set.
    pub fn builder(service_account: ServiceAccount) -> FcmConfigBuilder {
        FcmConfigBuilder {
            config: FcmConfig {
                project_id: service_account.project_id.clone().unwrap_or_default(),
                service_account,
                base_url: BASE_URL.to_owned(),
                scope: FCM_SCOPE.to_owned(),
                validate_only: false,
                android_priority: None,
                ttl: None,
                concurrency: 16,
                http: HttpOptions::default(),
                retry: RetryPolicy::default(),
            },
        }
    }

    /// Reads an `fcm://` DSN (see the [module docs](self)). The key file is read here.
    pub fn from_dsn(dsn: &Dsn) -> Result<FcmConfig> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "an FCM DSN starts with fcm://, not {}://",
                dsn.scheme()
            )));
        }
        let path = match dsn.option("credentials").filter(|p| !p.is_empty()) {
            Some(p) => p.to_owned(),
            None => std::env::var(CREDENTIALS_ENV)
                .ok()
                .filter(|p| !p.is_empty())
                .ok_or_else(|| {
                    Error::config(format!(
                        "an FCM DSN needs '?credentials=/path/to/service-account.json' (or ${CREDENTIALS_ENV})"
                    ))
                    .with_provider(SCHEME)
                })?,
        };
        let sa = ServiceAccount::from_file(&path)?;
        let mut b = FcmConfig::builder(sa);
        if let Some(p) = dsn.user().filter(|p| !p.is_empty()) {
            b = b.project_id(p);
        }
        if !dsn.is_default_host() {
            b = b.base_url(dsn.endpoint_or(BASE_URL)?);
        }
        b = b.validate_only(dsn.option_bool("validate_only", false)?);
        if let Some(p) = dsn.option("priority") {
            b = b.android_priority(match p.to_ascii_lowercase().as_str() {
                "high" => AndroidPriority::High,
                "normal" => AndroidPriority::Normal,
                _ => return Err(Error::config("the FCM DSN option 'priority' must be high or normal")),
            });
        }
        if let Some(ttl) = dsn.option_parse::<u64>("ttl")? {
            b = b.ttl(Duration::from_secs(ttl));
        }
        if let Some(c) = dsn.option_parse::<usize>("concurrency")? {
            b = b.concurrency(c);
        }
        b.build()
    }

    /// Checks what a builder may have got wrong.
    pub fn validate(&self) -> Result<()> {
        self.service_account.validate()?;
        if self.project_id.is_empty() {
            return Err(Error::config(
                "the FCM project id is missing: put it in the DSN (fcm://PROJECT_ID@default) or the key file",
            )
            .with_provider(SCHEME));
        }
        if !self
            .project_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':')
        {
            return Err(
                Error::config("the FCM project id has characters a project id cannot have").with_provider(SCHEME),
            );
        }
        check_http_url(&self.base_url, "base URL")?;
        if let Some(ttl) = self.ttl
            && ttl > crate::model::MAX_TTL
        {
            return Err(Error::config("the FCM ttl is longer than the 4 weeks FCM allows").with_provider(SCHEME));
        }
        if self.concurrency == 0 {
            return Err(Error::config("the FCM concurrency must be at least 1").with_provider(SCHEME));
        }
        Ok(())
    }

    /// `{base}/v1/projects/{project}/messages:send`.
    pub(crate) fn send_url(&self) -> String {
        format!(
            "{}/v1/projects/{}/messages:send",
            self.base_url.trim_end_matches('/'),
            self.project_id
        )
    }
}

/// Builds an [`FcmConfig`]: the only way to make one.
#[derive(Debug, Clone)]
pub struct FcmConfigBuilder {
    config: FcmConfig,
}

impl FcmConfigBuilder {
    /// Sets the project messages are sent for.
    pub fn project_id(mut self, project_id: impl Into<String>) -> Self {
        self.config.project_id = project_id.into();
        self
    }

    /// Sets FCM's base URL (a simulator's).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = url.into();
        self
    }

    /// Sets the OAuth scope (default [`FCM_SCOPE`]).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.config.scope = scope.into();
        self
    }

    /// Sends every message as a dry run.
    pub fn validate_only(mut self, on: bool) -> Self {
        self.config.validate_only = on;
        self
    }

    /// Sets the Android priority of transport sends.
    pub fn android_priority(mut self, p: AndroidPriority) -> Self {
        self.config.android_priority = Some(p);
        self
    }

    /// Sets the Android time to live of transport sends.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.config.ttl = Some(ttl);
        self
    }

    /// Sets how many sends `send_many` keeps in flight.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.config.concurrency = n;
        self
    }

    /// Sets the HTTP options.
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.config.http = http;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Checks and returns the config.
    pub fn build(self) -> Result<FcmConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa_json(token_uri: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "demo-proj",
            "private_key_id": "k1",
            "private_key": "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n",
            "client_email": "sender@demo-proj.iam.gserviceaccount.com",
            "token_uri": token_uri,
            "universe_domain": "googleapis.com"
        })
        .to_string()
    }

    #[test]
    fn debug_never_shows_the_key() {
        let sa = ServiceAccount::from_json(&sa_json(GOOGLE_TOKEN_URI)).unwrap();
        let c = FcmConfig::builder(sa).build().unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("TOPSECRET"), "{d}");
        assert!(d.contains("sender@demo-proj"));
        assert_eq!(c.project_id, "demo-proj");
        assert_eq!(c.service_account.extra["universe_domain"], "googleapis.com");
        assert_eq!(
            c.send_url(),
            "https://fcm.googleapis.com/v1/projects/demo-proj/messages:send"
        );
    }

    #[test]
    fn token_uri_must_be_https_off_loopback() {
        assert!(ServiceAccount::from_json(&sa_json("http://evil.example/token")).is_err());
        assert!(ServiceAccount::from_json(&sa_json("http://127.0.0.1:9/token")).is_ok());
        assert!(ServiceAccount::from_json(&sa_json("http://localhost:9/token")).is_ok());
    }

    #[test]
    fn bad_files_never_echo_the_key() {
        let broken = sa_json(GOOGLE_TOKEN_URI).replace("\"client_email\"", "\"client_emial\"");
        let e = ServiceAccount::from_json(&broken).unwrap_err();
        assert!(!e.to_string().contains("TOPSECRET"), "{e}");
        let e =
            ServiceAccount::from_json("{\"type\":\"authorized_user\",\"private_key\":\"x\",\"client_email\":\"a@b\"}")
                .unwrap_err();
        assert!(e.to_string().contains("authorized_user"));
    }

    #[test]
    fn dsn_reads_the_file_and_options() {
        let dir = std::env::temp_dir().join(format!("sb-fcm-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sa.json");
        std::fs::write(&path, sa_json(GOOGLE_TOKEN_URI)).unwrap();
        let dsn = Dsn::parse(&format!(
            "fcm://other-proj@default?credentials={}&validate_only=true&priority=high&ttl=60",
            path.display()
        ))
        .unwrap();
        let c = FcmConfig::from_dsn(&dsn).unwrap();
        assert_eq!(c.project_id, "other-proj");
        assert!(c.validate_only);
        assert_eq!(c.android_priority, Some(AndroidPriority::High));
        assert_eq!(c.ttl, Some(Duration::from_secs(60)));
        let dsn = Dsn::parse(&format!("fcm://default?credentials={}", path.display())).unwrap();
        assert_eq!(FcmConfig::from_dsn(&dsn).unwrap().project_id, "demo-proj");
        let missing = Dsn::parse("fcm://p@default?credentials=/nonexistent/sa.json").unwrap();
        assert_eq!(
            FcmConfig::from_dsn(&missing).unwrap_err().kind(),
            switchboard_core::ErrorKind::Config
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

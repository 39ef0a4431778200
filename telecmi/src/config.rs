//! Configuration: which TeleCMI host, which credentials, who may place calls, and the webhook secret.
//!
//! # DSN
//!
//! ```text
//! telecmi://APP_ID:APP_SECRET@default?webhook_secret=S                     admin credentials
//! telecmi://101_1111112:APP_SECRET@default?webhook_secret=S&allow=101_1111112,102_1111112
//! telecmi://101_1111112:USER_PASSWORD@default?auth=user&webhook_secret=S   one user's login
//! telecmi://1111112:APP_SECRET@default?flavour=india                       CHUB-India / PIOPIY host
//! telecmi://101_1111112:SECRET@127.0.0.1:8080?webhook_secret=S             a simulator
//! ```
//!
//! | part | meaning |
//! |---|---|
//! | user | admin mode: the numeric app id, or a user id `<ext>_<appid>` (the app id is its suffix and the user becomes the default agent); user mode: the user id |
//! | password | admin mode: the app secret; user mode: the user's password |
//! | host | `default` = TeleCMI's public API for the flavour; anything else is used as is (`tls=false` for plain HTTP; loopback is plain HTTP) |
//! | `auth` | `admin` (default): app secret, any agent; `user`: log in as one user and keep its token |
//! | `flavour` | `chub` (default, `rest.telecmi.com/v2`) or `india` (legacy CHUB-India / PIOPIY, `piopiy.telecmi.com/v1`; also `legacy`, `piopiy`, `chub-india`) |
//! | `allow` | who may place calls when the host supplies no [`CallPolicy`](crate::CallPolicy): a comma list of agent ids, or `*` for everyone. Absent: **no one** |
//! | `agent` | the default agent for [`TeleCmiClient::request`](crate::TeleCmiClient::request) |
//! | `webhook_secret` | the secret the callback URLs carry; webhooks are refused without it |
//! | `webhook_param` | the query parameter that carries it (default `token`) |
//! | `verify_webhooks` | `false` turns the check off; only for a host that authenticates webhooks itself |
//! | `timeout` | whole-request timeout in seconds, fractions allowed (default 30) |
//! | `token_ttl` | seconds a user token is used before logging in again (default 29 days: TeleCMI's tokens expire after 30) |
//! | `name` | the name journal entries carry (default `telecmi`) |

use std::time::Duration;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, SecretString};

use crate::SCHEME;

/// TeleCMI's current public API (CHUB, `/v2/...`).
pub const CHUB_API: &str = "https://rest.telecmi.com";
/// The legacy CHUB-India / PIOPIY host (`/v1/...`).
pub const INDIA_API: &str = "https://piopiy.telecmi.com";

/// TeleCMI's tokens expire after 30 days (doc.telecmi.com, "Login token"); renewing one day early means a token is
/// never used in its last hours, whatever the clocks say.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(29 * 24 * 3600);

/// Which generation of TeleCMI's API the account lives on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Flavour {
    /// CHUB on `rest.telecmi.com`: `/v2/webrtc/click2call`, `/v2/user/login`, `/v2/answered`…
    #[default]
    Chub,
    /// Legacy CHUB-India on `piopiy.telecmi.com`: `/v1/adminConnect`, `/v1/agentLogin`, `/v1/answered`…
    India,
}

impl Flavour {
    /// The public base URL of this flavour.
    pub fn public_api(self) -> &'static str {
        match self {
            Flavour::Chub => CHUB_API,
            Flavour::India => INDIA_API,
        }
    }

    fn parse(s: &str) -> Result<Flavour> {
        match s.to_ascii_lowercase().as_str() {
            "chub" | "global" | "v2" => Ok(Flavour::Chub),
            "india" | "chub-india" | "chub_india" | "legacy" | "piopiy" | "v1" => Ok(Flavour::India),
            _ => Err(Error::config("telecmi DSN option 'flavour' must be 'chub' or 'india'")),
        }
    }
}

/// The credentials a client uses. TeleCMI takes them in the JSON body, never in a header.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Credentials {
    /// The app id and app secret from the dashboard: places calls for any agent (hence the
    /// [`CallPolicy`](crate::CallPolicy)) and reads the whole app's call records.
    Admin {
        /// The numeric app id (`1111112`).
        app_id: u64,
        /// The app secret.
        secret: SecretString,
    },
    /// One user's id and password: the client logs in, keeps the token and renews it.
    User {
        /// The user id, `<extension>_<appid>` (`101_1111112`).
        user_id: String,
        /// The user's password.
        password: SecretString,
    },
}

impl Credentials {
    /// Admin credentials: the app id and the app secret.
    pub fn admin(app_id: u64, secret: impl Into<String>) -> Credentials {
        Credentials::Admin {
            app_id,
            secret: SecretString::from(secret.into()),
        }
    }

    /// One user's login: the user id (`<extension>_<appid>`) and the password.
    pub fn user(user_id: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials::User {
            user_id: user_id.into(),
            password: SecretString::from(password.into()),
        }
    }

    /// Whether these are admin credentials.
    pub fn is_admin(&self) -> bool {
        matches!(self, Credentials::Admin { .. })
    }
}

/// Who may place calls when the host supplies no [`CallPolicy`](crate::CallPolicy) of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Allow {
    /// No one: every click-to-call is refused until the host says otherwise. The default, because the
    /// integration this replaces let the wrong people call.
    #[default]
    Nobody,
    /// Only these agent ids.
    Agents(Vec<String>),
    /// Every agent; the host takes responsibility.
    Everyone,
}

/// The client's configuration. Build it with [`TeleCmiConfig::builder`] or [`TeleCmiConfig::from_dsn`]
/// (which goes through the builder). `Debug` never shows a secret (they are [`SecretString`]s) and
/// shows the endpoint redacted.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct TeleCmiConfig {
    /// The credentials.
    pub credentials: Credentials,
    /// Which API generation.
    #[serde(default)]
    pub flavour: Flavour,
    /// The base URL; `None` means the flavour's public API.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The agent [`TeleCmiClient::request`](crate::TeleCmiClient::request) places calls for.
    #[serde(default)]
    pub default_agent: Option<String>,
    /// Who may call when the host supplies no policy.
    #[serde(default)]
    pub allow: Allow,
    /// The secret the webhook callback URLs carry.
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
    /// The query parameter of the callback URL that carries the secret.
    #[serde(default = "default_webhook_param")]
    pub webhook_param: String,
    /// Whether webhooks are verified (on unless the host turns it off explicitly).
    #[serde(default = "yes")]
    pub verify_webhooks: bool,
    /// Whole-request timeout in milliseconds.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Seconds a user token is used before the client logs in again.
    #[serde(default = "default_token_ttl")]
    pub token_ttl_secs: u64,
    /// The name journal entries carry as their transport.
    #[serde(default = "default_name")]
    pub name: String,
}

fn default_webhook_param() -> String {
    "token".to_owned()
}
fn yes() -> bool {
    true
}
fn default_timeout() -> u64 {
    30_000
}
fn default_token_ttl() -> u64 {
    DEFAULT_TOKEN_TTL.as_secs()
}
fn default_name() -> String {
    SCHEME.to_owned()
}

/// Splits a user id `<ext>_<appid>` into its parts; `None` when it is not of that form.
pub(crate) fn split_user_id(id: &str) -> Option<(&str, u64)> {
    let (ext, app) = id.rsplit_once('_')?;
    let ok_ext = !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    let app_id = app
        .parse::<u64>()
        .ok()
        .filter(|_| app.bytes().all(|b| b.is_ascii_digit()))?;
    ok_ext.then_some((ext, app_id))
}

impl std::fmt::Debug for TeleCmiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeleCmiConfig")
            .field("credentials", &self.credentials)
            .field("flavour", &self.flavour)
            .field("endpoint", &self.endpoint.as_deref().map(redact_url))
            .field("default_agent", &self.default_agent)
            .field("allow", &self.allow)
            .field("webhook_secret", &self.webhook_secret)
            .field("webhook_param", &self.webhook_param)
            .field("verify_webhooks", &self.verify_webhooks)
            .field("timeout_ms", &self.timeout_ms)
            .field("token_ttl_secs", &self.token_ttl_secs)
            .field("name", &self.name)
            .finish()
    }
}

impl TeleCmiConfig {
    /// A builder with `credentials` ([`Credentials::admin`], [`Credentials::user`]); everything else
    /// defaults. A user login is also the default agent.
    pub fn builder(credentials: Credentials) -> TeleCmiConfigBuilder {
        let default_agent = match &credentials {
            Credentials::User { user_id, .. } => Some(user_id.clone()),
            Credentials::Admin { .. } => None,
        };
        TeleCmiConfigBuilder {
            config: TeleCmiConfig {
                credentials,
                flavour: Flavour::default(),
                endpoint: None,
                default_agent,
                allow: Allow::default(),
                webhook_secret: None,
                webhook_param: default_webhook_param(),
                verify_webhooks: true,
                timeout_ms: default_timeout(),
                token_ttl_secs: default_token_ttl(),
                name: default_name(),
            },
        }
    }

    /// The base URL in use.
    pub fn base_url(&self) -> String {
        self.endpoint
            .as_deref()
            .unwrap_or(self.flavour.public_api())
            .trim_end_matches('/')
            .to_owned()
    }

    /// The HTTP options of the client.
    pub fn http_options(&self) -> HttpOptions {
        let timeout = Duration::from_millis(self.timeout_ms.max(1));
        HttpOptions::default()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
    }

    /// The token lifetime.
    pub fn token_ttl(&self) -> Duration {
        Duration::from_secs(self.token_ttl_secs)
    }

    /// Checks the configuration for mistakes that would only show on the first request.
    pub fn validate(&self) -> Result<()> {
        match &self.credentials {
            Credentials::Admin { app_id, secret } => {
                if *app_id == 0 {
                    return Err(Error::config("the TeleCMI app id must be a positive number"));
                }
                if secret.expose_secret().is_empty() {
                    return Err(Error::config("the TeleCMI app secret is empty"));
                }
            }
            Credentials::User { user_id, password } => {
                if split_user_id(user_id).is_none() {
                    return Err(Error::config(
                        "a TeleCMI user id looks like <extension>_<appid>, e.g. 101_1111112",
                    ));
                }
                if password.expose_secret().is_empty() {
                    return Err(Error::config("the TeleCMI user password is empty"));
                }
            }
        }
        if let Some(a) = &self.default_agent
            && split_user_id(a).is_none()
        {
            return Err(Error::config(
                "the default agent must be a TeleCMI user id, <extension>_<appid>",
            ));
        }
        let base = self.base_url();
        let url = url::Url::parse(&base).map_err(|_| Error::config("the TeleCMI endpoint is not a valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config("the TeleCMI endpoint must be an http(s) URL"));
        }
        if self.webhook_param.is_empty() {
            return Err(Error::config("the webhook secret parameter name is empty"));
        }
        Ok(())
    }

    /// Reads a configuration from a DSN; see the [module docs](self). Errors never show the secret.
    pub fn from_dsn(dsn: &Dsn) -> Result<TeleCmiConfig> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "a TeleCMI DSN starts with '{SCHEME}://', not '{}://'",
                dsn.scheme()
            )));
        }
        let flavour = match dsn.option("flavour").or(dsn.option("flavor")) {
            Some(f) => Flavour::parse(f)?,
            None => Flavour::Chub,
        };
        let user = dsn.require_user("the app id or a user id")?;
        let secret = dsn
            .require_password("the app secret (or, with auth=user, the user's password)")?
            .expose_secret()
            .to_owned();
        let mut b = match dsn.option("auth").map(str::to_ascii_lowercase).as_deref() {
            None | Some("admin") => {
                if let Ok(app_id) = user.parse::<u64>() {
                    TeleCmiConfig::builder(Credentials::admin(app_id, secret))
                } else if let Some((_, app_id)) = split_user_id(user) {
                    TeleCmiConfig::builder(Credentials::admin(app_id, secret)).default_agent(user)
                } else {
                    return Err(Error::config(
                        "telecmi DSN user must be the numeric app id or a user id <extension>_<appid>",
                    ));
                }
            }
            Some("user") => TeleCmiConfig::builder(Credentials::user(user, secret)),
            Some(_) => return Err(Error::config("telecmi DSN option 'auth' must be 'admin' or 'user'")),
        };
        b = b.flavour(flavour);
        if !dsn.is_default_host() {
            b = b.endpoint(dsn.endpoint_or(flavour.public_api())?);
        }
        if let Some(agent) = dsn.option("agent").filter(|a| !a.is_empty()) {
            b = b.default_agent(agent);
        }
        b = b.allow(match dsn.option("allow").map(str::trim) {
            None | Some("") => Allow::Nobody,
            Some("*") => Allow::Everyone,
            Some(list) => Allow::Agents(
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
        });
        if let Some(s) = dsn.option("webhook_secret").filter(|s| !s.is_empty()) {
            b = b.webhook_secret(s);
        }
        if let Some(p) = dsn.option("webhook_param") {
            b = b.webhook_param(p);
        }
        if !dsn.option_bool("verify_webhooks", true)? {
            b = b.dangerously_skip_webhook_verification();
        }
        if let Some(t) = dsn.option_parse::<f64>("timeout")? {
            if !(t.is_finite() && t > 0.0 && t < 86_400.0) {
                return Err(Error::config(
                    "telecmi DSN option 'timeout' must be a number of seconds",
                ));
            }
            b = b.timeout(Duration::from_millis(((t * 1000.0) as u64).max(1)));
        }
        if let Some(t) = dsn.option_parse::<u64>("token_ttl")? {
            b = b.token_ttl(Duration::from_secs(t));
        }
        if let Some(n) = dsn.option("name").filter(|n| !n.is_empty()) {
            b = b.name(n);
        }
        b.build()
    }

    /// Parses a DSN string and reads a configuration from it.
    pub fn from_dsn_str(dsn: &str) -> Result<TeleCmiConfig> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }
}

/// Builds a [`TeleCmiConfig`]; [`TeleCmiConfigBuilder::build`] checks it.
#[derive(Debug, Clone)]
#[must_use]
pub struct TeleCmiConfigBuilder {
    config: TeleCmiConfig,
}

impl TeleCmiConfigBuilder {
    /// Sets the API generation.
    pub fn flavour(mut self, flavour: Flavour) -> Self {
        self.config.flavour = flavour;
        self
    }

    /// Sets the base URL (a simulator, a proxy).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.config.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the default agent.
    pub fn default_agent(mut self, agent: impl Into<String>) -> Self {
        self.config.default_agent = Some(agent.into());
        self
    }

    /// Sets who may call when the host supplies no policy.
    pub fn allow(mut self, allow: Allow) -> Self {
        self.config.allow = allow;
        self
    }

    /// Sets the webhook secret.
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.webhook_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// Sets the query parameter that carries the webhook secret.
    pub fn webhook_param(mut self, param: impl Into<String>) -> Self {
        self.config.webhook_param = param.into();
        self
    }

    /// Turns webhook verification off. Only for a host that authenticates the callbacks itself (a
    /// gateway in front of it); anyone who can reach the URL can then forge call events.
    pub fn dangerously_skip_webhook_verification(mut self) -> Self {
        self.config.verify_webhooks = false;
        self
    }

    /// Sets the whole-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX).max(1);
        self
    }

    /// Sets how long a user token is used before logging in again.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.config.token_ttl_secs = ttl.as_secs();
        self
    }

    /// Sets the name journal entries carry.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.config.name = name.into();
        self
    }

    /// Checks and returns the configuration.
    pub fn build(self) -> Result<TeleCmiConfig> {
        self.config.validate().map_err(|e| e.with_provider(SCHEME))?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_dsn_with_app_id_or_user_id() {
        let c = TeleCmiConfig::from_dsn_str("telecmi://1111112:s3cr3t@default?webhook_secret=hook").unwrap();
        assert!(matches!(c.credentials, Credentials::Admin { app_id: 1111112, .. }));
        assert_eq!(c.base_url(), CHUB_API);
        assert_eq!(c.allow, Allow::Nobody);
        assert!(c.verify_webhooks);
        assert_eq!(c.default_agent, None);

        let c = TeleCmiConfig::from_dsn_str("telecmi://101_1111112:s3cr3t@default?allow=101_1111112,%20102_1111112")
            .unwrap();
        assert!(matches!(c.credentials, Credentials::Admin { app_id: 1111112, .. }));
        assert_eq!(c.default_agent.as_deref(), Some("101_1111112"));
        assert_eq!(c.allow, Allow::Agents(vec!["101_1111112".into(), "102_1111112".into()]));
    }

    #[test]
    fn user_dsn_flavour_and_endpoint() {
        let c = TeleCmiConfig::from_dsn_str("telecmi://103_1111112:pw@127.0.0.1:9000?auth=user&flavour=india&allow=*")
            .unwrap();
        assert!(matches!(c.credentials, Credentials::User { .. }));
        assert_eq!(c.flavour, Flavour::India);
        assert_eq!(c.base_url(), "http://127.0.0.1:9000");
        assert_eq!(c.allow, Allow::Everyone);
        assert_eq!(c.default_agent.as_deref(), Some("103_1111112"));
        let c = TeleCmiConfig::from_dsn_str("telecmi://1:pw@default?flavour=legacy").unwrap();
        assert_eq!(c.base_url(), INDIA_API);
    }

    #[test]
    fn bad_dsns_are_config_errors_without_the_secret() {
        for bad in [
            "telecmi://abc:topsecret@default",
            "telecmi://1111112@default",
            "telecmi://0:topsecret@default",
            "telecmi://1111112:topsecret@default?flavour=mars",
            "telecmi://1111112:topsecret@default?auth=root",
            "telecmi://nope:topsecret@default?auth=user",
            "telecmi://1111112:topsecret@default?timeout=soon",
            "mitto://1111112:topsecret@default",
        ] {
            let e = TeleCmiConfig::from_dsn_str(bad).unwrap_err();
            assert_eq!(e.kind(), switchboard_core::ErrorKind::Config, "{bad}");
            assert!(!e.to_string().contains("topsecret"), "{e}");
        }
    }

    #[test]
    fn debug_redacts() {
        let c = TeleCmiConfig::builder(Credentials::admin(1, "topsecret"))
            .webhook_secret("hooksecret")
            .endpoint("https://proxy-user:proxypass@proxy.example/telecmi")
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("topsecret") && !d.contains("hooksecret"), "{d}");
        assert!(!d.contains("proxypass") && d.contains("proxy.example"), "{d}");
    }

    #[test]
    fn serde_reads_a_config() {
        let c: TeleCmiConfig = serde_json::from_value(serde_json::json!({
            "credentials": {"mode": "admin", "app_id": 5, "secret": "x"},
            "allow": {"agents": ["101_5"]},
        }))
        .unwrap();
        assert_eq!(c.allow, Allow::Agents(vec!["101_5".into()]));
        assert_eq!(c.webhook_param, "token");
        c.validate().unwrap();
    }

    #[test]
    fn user_ids() {
        assert_eq!(split_user_id("101_1111112"), Some(("101", 1111112)));
        assert_eq!(split_user_id("Sales_2222223"), Some(("Sales", 2222223)));
        assert_eq!(split_user_id("101_"), None);
        assert_eq!(split_user_id("_5"), None);
        assert_eq!(split_user_id("101-5"), None);
        assert_eq!(split_user_id("101_+5"), None);
    }
}

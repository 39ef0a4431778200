//! How a Mitto client is configured: the API key, which of Mitto's two APIs to use, the hosts, the
//! default sender and the webhook secret.
//!
//! Read it from a DSN ([`Config::from_dsn`]):
//!
//! ```text
//! mitto://API_KEY@default?from=SENDER[&api=legacy|messaging][&traffic_account=ID][&webhook_secret=S]
//!        [&validity=MINUTES][&callback=URL][&test=true][&tls=false]
//! ```
//!
//! `default` as host means Mitto's public hosts ([`LEGACY_BASE_URL`], [`MESSAGING_BASE_URL`]); any
//! other host (a regional host such as `rest-fra.mittoapi.net`, or a simulator on loopback) is used as
//! it is for the API the DSN selects.

use std::fmt;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use crate::sender::{self, LEGACY_SENDER, MESSAGING_SENDER};

/// The legacy SMS API's public host.
///
/// Mitto's docs disagree across revisions: the "Get Started" page and the vendor-written Power Platform
/// connector use `rest.mittoapi.com`, another revision recommends the geo-resolving
/// [`LEGACY_GEO_BASE_URL`] and lists regional hosts (`rest-fra`, `rest-sgp`/`rest-sg`, `rest-hkg`/`rest-hk`,
/// `rest-useast`/`rest-us` under `.mittoapi.net`; the two revisions name them differently). We default to
/// the host of the "Get Started" page; choose another with [`ConfigBuilder::legacy_base_url`] or a DSN
/// host. Source IPs must be whitelisted by Mitto whichever host is used.
pub const LEGACY_BASE_URL: &str = "https://rest.mittoapi.com";

/// The geo-resolving legacy host one revision of Mitto's docs recommends.
pub const LEGACY_GEO_BASE_URL: &str = "https://rest.mittoapi.net";

/// The messaging ("Chat Apps") API's public host.
pub const MESSAGING_BASE_URL: &str = "https://messaging.mittoapi.com";

/// The query parameter of the callback URL that carries the webhook secret, by default.
pub const DEFAULT_WEBHOOK_TOKEN_PARAM: &str = "token";

/// Which of Mitto's APIs sends the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// The legacy SMS / bulk SMS REST API (`POST /sms`, `POST /smsbulk`). It has no status lookup;
    /// delivery reports are pushed to a callback URL.
    #[default]
    Legacy,
    /// The messaging API (`POST /api/v1.1/Messages/send`, `GET /api/v1.1/Messages/{id}`), which needs a
    /// traffic account id and can look up a message's delivery status.
    Messaging,
}

impl Api {
    /// The name used in DSNs (`legacy`, `messaging`).
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Legacy => "legacy",
            Api::Messaging => "messaging",
        }
    }
}

/// A Mitto client's configuration. Build it with [`Config::builder`] or [`Config::from_dsn`].
///
/// `Debug` never shows the API key or the webhook secret, and shows the callback URL redacted (it
/// carries the webhook secret).
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct Config {
    /// The API key, sent as `X-Mitto-API-Key`.
    pub api_key: SecretString,
    /// Which API sends messages.
    #[serde(default)]
    pub api: Api,
    /// Base URL of the legacy API.
    #[serde(default = "default_legacy")]
    pub legacy_base_url: String,
    /// Base URL of the messaging API.
    #[serde(default = "default_messaging")]
    pub messaging_base_url: String,
    /// The default sender (alphanumeric or numeric), used when a message names none.
    #[serde(default)]
    pub from: Option<String>,
    /// The messaging API's traffic account; required when `api` is [`Api::Messaging`].
    #[serde(default)]
    pub traffic_account_id: Option<String>,
    /// The shared secret expected in delivery-report callback URLs.
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
    /// The callback URL's query parameter that carries [`Config::webhook_secret`].
    #[serde(default = "default_param")]
    pub webhook_token_param: String,
    /// Validity of legacy SMS in minutes (Mitto's default is 2880, 48 h; the shorter of ours and the
    /// supplier's wins).
    #[serde(default)]
    pub validity_minutes: Option<u32>,
    /// A per-message delivery-report URL for the legacy API, overriding the one on the account. Put the
    /// webhook secret in it (`https://host/hooks/mitto?token=SECRET`).
    #[serde(default)]
    pub callback_url: Option<SecretString>,
    /// Legacy API test mode: nothing is delivered or charged.
    #[serde(default)]
    pub test: bool,
    /// HTTP behaviour (timeouts, body cap).
    #[serde(skip)]
    pub http: HttpOptions,
    /// Retry policy; sends are retried only when nothing was sent.
    #[serde(skip)]
    pub retry: RetryPolicy,
}

fn default_legacy() -> String {
    LEGACY_BASE_URL.to_owned()
}

fn default_messaging() -> String {
    MESSAGING_BASE_URL.to_owned()
}

fn default_param() -> String {
    DEFAULT_WEBHOOK_TOKEN_PARAM.to_owned()
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &"***")
            .field("api", &self.api)
            .field("legacy_base_url", &self.legacy_base_url)
            .field("messaging_base_url", &self.messaging_base_url)
            .field("from", &self.from)
            .field("traffic_account_id", &self.traffic_account_id)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "***"))
            .field("webhook_token_param", &self.webhook_token_param)
            .field("validity_minutes", &self.validity_minutes)
            .field(
                "callback_url",
                &self.callback_url.as_ref().map(|u| redact_url(u.expose_secret())),
            )
            .field("test", &self.test)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish()
    }
}

impl Config {
    /// A builder with the API key; everything else defaults.
    pub fn builder(api_key: impl Into<String>) -> ConfigBuilder {
        ConfigBuilder {
            config: Config {
                api_key: SecretString::from(api_key.into()),
                api: Api::Legacy,
                legacy_base_url: default_legacy(),
                messaging_base_url: default_messaging(),
                from: None,
                traffic_account_id: None,
                webhook_secret: None,
                webhook_token_param: default_param(),
                validity_minutes: None,
                callback_url: None,
                test: false,
                http: HttpOptions::default(),
                retry: RetryPolicy::default(),
            },
        }
    }

    /// Reads a `mitto://` DSN (see the [module docs](self)). `from` is required; errors never show the key.
    pub fn from_dsn(dsn: &Dsn) -> Result<Config> {
        if dsn.scheme() != crate::SCHEME {
            return Err(Error::config(format!(
                "a Mitto DSN starts with mitto://, not {}://",
                dsn.scheme()
            )));
        }
        let key = dsn.require_user("the API key")?;
        let api = match dsn.option("api").map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("legacy") | Some("rest") => Api::Legacy,
            Some("messaging") | Some("chat") => Api::Messaging,
            Some(_) => return Err(Error::config("mitto DSN option 'api' must be legacy or messaging")),
        };
        // A numeric sender written `from=+4179…` arrives with its '+': core's DSN parser keeps it.
        let from = dsn.require_option("from")?.to_owned();
        let mut b = Config::builder(key).api(api).from(from);
        if !dsn.is_default_host() {
            let public = match api {
                Api::Legacy => LEGACY_BASE_URL,
                Api::Messaging => MESSAGING_BASE_URL,
            };
            let url = dsn.endpoint_or(public)?;
            b = match api {
                Api::Legacy => b.legacy_base_url(url),
                Api::Messaging => b.messaging_base_url(url),
            };
        }
        if let Some(t) = dsn.option("traffic_account").filter(|t| !t.is_empty()) {
            b = b.traffic_account_id(t);
        }
        if let Some(s) = dsn.option("webhook_secret").filter(|s| !s.is_empty()) {
            b = b.webhook_secret(s);
        }
        if let Some(p) = dsn.option("webhook_param").filter(|p| !p.is_empty()) {
            b = b.webhook_token_param(p);
        }
        if let Some(v) = dsn.option_parse::<u32>("validity")? {
            b = b.validity_minutes(v);
        }
        if let Some(c) = dsn.option("callback").filter(|c| !c.is_empty()) {
            b = b.callback_url(c);
        }
        b = b.test(dsn.option_bool("test", false)?);
        b.build()
    }

    /// The base URL of the API this configuration sends through.
    pub fn base_url(&self) -> &str {
        match self.api {
            Api::Legacy => &self.legacy_base_url,
            Api::Messaging => &self.messaging_base_url,
        }
    }

    /// Checks what can be checked before anything is sent.
    pub fn validate(&self) -> Result<()> {
        if self.api_key.expose_secret().trim().is_empty() {
            return Err(Error::config("the Mitto API key is empty"));
        }
        for (name, url) in [
            ("legacy_base_url", &self.legacy_base_url),
            ("messaging_base_url", &self.messaging_base_url),
        ] {
            let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(Error::config(format!("mitto {name} is not an http(s) URL")));
            }
        }
        if let Some(from) = &self.from {
            let rules = match self.api {
                Api::Legacy => &LEGACY_SENDER,
                Api::Messaging => &MESSAGING_SENDER,
            };
            sender::check(from, rules).map_err(|e| Error::config(format!("the configured sender: {}", e.message())))?;
        }
        if self.api == Api::Messaging && self.traffic_account_id.as_deref().is_none_or(str::is_empty) {
            return Err(Error::config(
                "the Mitto messaging API needs a traffic account id (DSN option traffic_account=…)",
            ));
        }
        if let Some(v) = self.validity_minutes
            && (v == 0 || i32::try_from(v).is_err())
        {
            return Err(Error::config(format!(
                "the Mitto validity must be 1 to {} minutes",
                i32::MAX
            )));
        }
        if let Some(s) = &self.webhook_secret
            && s.expose_secret().is_empty()
        {
            return Err(Error::config("the Mitto webhook secret is empty"));
        }
        if let Some(c) = &self.callback_url
            && url::Url::parse(c.expose_secret()).is_err()
        {
            return Err(Error::config("the Mitto callback URL is not a valid URL"));
        }
        Ok(())
    }
}

/// Builds a [`Config`].
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    config: Config,
}

impl ConfigBuilder {
    /// Selects the API (legacy by default).
    pub fn api(mut self, api: Api) -> Self {
        self.config.api = api;
        self
    }

    /// Sets the legacy API's base URL (a regional host, a simulator).
    pub fn legacy_base_url(mut self, url: impl Into<String>) -> Self {
        self.config.legacy_base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the messaging API's base URL.
    pub fn messaging_base_url(mut self, url: impl Into<String>) -> Self {
        self.config.messaging_base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the default sender.
    pub fn from(mut self, sender: impl Into<String>) -> Self {
        self.config.from = Some(sender.into());
        self
    }

    /// Sets the messaging API's traffic account.
    pub fn traffic_account_id(mut self, id: impl Into<String>) -> Self {
        self.config.traffic_account_id = Some(id.into());
        self
    }

    /// Sets the webhook secret expected in callback URLs.
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.webhook_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// Sets the callback URL's query parameter that carries the secret (`token` by default).
    pub fn webhook_token_param(mut self, param: impl Into<String>) -> Self {
        self.config.webhook_token_param = param.into();
        self
    }

    /// Sets the validity of legacy SMS in minutes.
    pub fn validity_minutes(mut self, minutes: u32) -> Self {
        self.config.validity_minutes = Some(minutes);
        self
    }

    /// Sets the per-message delivery-report URL of legacy sends.
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.config.callback_url = Some(SecretString::from(url.into()));
        self
    }

    /// Turns legacy test mode on or off.
    pub fn test(mut self, test: bool) -> Self {
        self.config.test = test;
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

    /// Checks and returns the configuration.
    pub fn build(self) -> Result<Config> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_defaults_to_public_legacy_host() {
        let c = Config::from_dsn(&Dsn::parse("mitto://K3y@default?from=Acme").unwrap()).unwrap();
        assert_eq!(c.api, Api::Legacy);
        assert_eq!(c.base_url(), LEGACY_BASE_URL);
        assert_eq!(c.from.as_deref(), Some("Acme"));
    }

    #[test]
    fn dsn_regional_host_and_messaging() {
        let d = Dsn::parse("mitto://K@rest-fra.mittoapi.net?from=Acme&validity=60&test=1").unwrap();
        let c = Config::from_dsn(&d).unwrap();
        assert_eq!(c.legacy_base_url, "https://rest-fra.mittoapi.net");
        assert_eq!(c.validity_minutes, Some(60));
        assert!(c.test);
        let d = Dsn::parse("mitto://K@127.0.0.1:9000?from=Acme&api=messaging&traffic_account=ta-1").unwrap();
        let c = Config::from_dsn(&d).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9000");
        assert_eq!(c.traffic_account_id.as_deref(), Some("ta-1"));
        let d = Dsn::parse("mitto://K@default?from=+41791234567").unwrap();
        assert_eq!(Config::from_dsn(&d).unwrap().from.as_deref(), Some("+41791234567"));
    }

    #[test]
    fn dsn_errors_name_the_problem_not_the_key() {
        for (dsn, needle) in [
            ("mitto://supersecretkey@default", "from"),
            ("mitto://supersecretkey@default?from=Acme&api=fax", "api"),
            (
                "mitto://supersecretkey@default?from=Acme&api=messaging",
                "traffic account",
            ),
            ("mitto://supersecretkey@default?from=A", "sender"),
            ("mitto://supersecretkey@default?from=Acme&validity=soon", "validity"),
            ("sms://supersecretkey@default?from=Acme", "mitto://"),
        ] {
            let e = Config::from_dsn(&Dsn::parse(dsn).unwrap()).unwrap_err();
            let s = format!("{e} {e:?}");
            assert!(s.contains(needle), "{dsn}: {s}");
            assert!(!s.contains("supersecretkey"), "{s}");
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = Config::builder("the-key")
            .from("Acme")
            .webhook_secret("hook-secret")
            .callback_url("https://h.example/dlr?token=hook-secret")
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("the-key") && !d.contains("hook-secret"), "{d}");
    }

    #[test]
    fn deserializes_from_json() {
        let c: Config = serde_json::from_value(serde_json::json!({
            "api_key": "k", "api": "messaging", "traffic_account_id": "t", "from": "Acme"
        }))
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.api, Api::Messaging);
        assert_eq!(c.messaging_base_url, MESSAGING_BASE_URL);
    }
}

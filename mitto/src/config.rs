//! How a Mitto client is configured: the API key, which of Mitto's two APIs to use, the hosts, the
//! default sender and the webhook secret.
//!
//! Read it from a DSN ([`MittoConfig::from_dsn`]) or build it with [`MittoConfig::builder`]:
//!
//! ```text
//! mitto://API_KEY@default?from=SENDER[&api=legacy|messaging][&traffic_account=ID][&webhook_secret=S]
//!        [&validity=MINUTES][&callback=URL][&test=true][&tls=false]
//! ```
//!
//! `default` as host means Mitto's public hosts ([`LEGACY_BASE_URL`], [`MESSAGING_BASE_URL`]); any
//! other host (a regional host such as `rest-fra.mittoapi.net`, or a simulator on loopback) is used as
//! it is for the API the DSN selects.
//!
//! **Which API.** `api=legacy` or `api=messaging` says it. Without `api`, a configuration that names a
//! traffic account (`traffic_account=…`) uses the messaging API, the one that can look a message's
//! status up; one without uses the legacy API.

use std::fmt;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use crate::SCHEME;
use crate::sender::{self, LEGACY_SENDER, MESSAGING_SENDER};

/// The legacy SMS API's public host.
///
/// Mitto's docs disagree across revisions: the "Get Started" page and the vendor-written Power Platform
/// connector use `rest.mittoapi.com`, another revision recommends the geo-resolving
/// [`LEGACY_GEO_BASE_URL`] and lists regional hosts (`rest-fra`, `rest-sgp`/`rest-sg`, `rest-hkg`/`rest-hk`,
/// `rest-useast`/`rest-us` under `.mittoapi.net`; the two revisions name them differently). We default to
/// the host of the "Get Started" page; choose another with [`MittoConfigBuilder::legacy_base_url`] or a DSN
/// host. Source IPs must be whitelisted by Mitto whichever host is used.
pub const LEGACY_BASE_URL: &str = "https://rest.mittoapi.com";

/// The geo-resolving legacy host one revision of Mitto's docs recommends.
pub const LEGACY_GEO_BASE_URL: &str = "https://rest.mittoapi.net";

/// The messaging ("Chat Apps") API's public host.
pub const MESSAGING_BASE_URL: &str = "https://messaging.mittoapi.com";

/// The query parameter of the callback URL that carries the webhook secret, by default.
pub const DEFAULT_WEBHOOK_TOKEN_PARAM: &str = "token";

/// Which of Mitto's two APIs sends the messages (the DSN's `api` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// The legacy SMS / bulk SMS REST API (`POST /sms`, `POST /smsbulk`). It has no status lookup;
    /// delivery reports are pushed to a callback URL.
    #[default]
    Legacy,
    /// The messaging API (`POST /api/v1.1/Messages/send`, `GET /api/v1.1/Messages/{id}`), which needs a
    /// traffic account id and can look up a message's delivery status.
    Messaging,
}

impl Flavour {
    /// The name used in DSNs (`legacy`, `messaging`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::Legacy => "legacy",
            Flavour::Messaging => "messaging",
        }
    }
}

/// A Mitto client's configuration. Build it with [`MittoConfig::builder`] or [`MittoConfig::from_dsn`]
/// (which goes through the builder).
///
/// `Debug` never shows the API key or the webhook secret, and shows the callback URL redacted (it
/// carries the webhook secret).
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct MittoConfig {
    /// The API key, sent as `X-Mitto-API-Key`.
    pub api_key: SecretString,
    /// Which API sends messages.
    #[serde(default)]
    pub api: Flavour,
    /// Base URL of the legacy API.
    #[serde(default = "default_legacy")]
    pub legacy_base_url: String,
    /// Base URL of the messaging API.
    #[serde(default = "default_messaging")]
    pub messaging_base_url: String,
    /// The default sender (alphanumeric or numeric), used when a message names none.
    #[serde(default)]
    pub from: Option<String>,
    /// The messaging API's traffic account; required when `api` is [`Flavour::Messaging`].
    #[serde(default)]
    pub traffic_account_id: Option<String>,
    /// The shared secret expected in delivery-report callback URLs.
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
    /// The callback URL's query parameter that carries [`MittoConfig::webhook_secret`].
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

impl fmt::Debug for MittoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MittoConfig")
            .field("api_key", &"***")
            .field("api", &self.api)
            .field("legacy_base_url", &redact_url(&self.legacy_base_url))
            .field("messaging_base_url", &redact_url(&self.messaging_base_url))
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

impl MittoConfig {
    /// A builder with the API key; everything else defaults.
    pub fn builder(api_key: impl Into<String>) -> MittoConfigBuilder {
        MittoConfigBuilder {
            api: None,
            config: MittoConfig {
                api_key: SecretString::from(api_key.into()),
                api: Flavour::Legacy,
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
    pub fn from_dsn(dsn: &Dsn) -> Result<MittoConfig> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "a Mitto DSN starts with mitto://, not {}://",
                dsn.scheme()
            )));
        }
        let key = dsn.require_user("the API key")?;
        let traffic_account = dsn.option("traffic_account").filter(|t| !t.is_empty());
        let api = match dsn.option("api").map(str::to_ascii_lowercase).as_deref() {
            Some("legacy") | Some("rest") => Flavour::Legacy,
            Some("messaging") | Some("chat") => Flavour::Messaging,
            // No choice made: the messaging API when there is a traffic account to send through.
            None | Some("") if traffic_account.is_some() => Flavour::Messaging,
            None | Some("") => Flavour::Legacy,
            Some(_) => return Err(Error::config("mitto DSN option 'api' must be legacy or messaging")),
        };
        // A numeric sender written `from=+4179…` arrives with its '+': core's DSN parser keeps it.
        let from = dsn.require_option("from")?.to_owned();
        let mut b = MittoConfig::builder(key).api(api).from(from);
        if !dsn.is_default_host() {
            let public = match api {
                Flavour::Legacy => LEGACY_BASE_URL,
                Flavour::Messaging => MESSAGING_BASE_URL,
            };
            let url = dsn.endpoint_or(public)?;
            b = match api {
                Flavour::Legacy => b.legacy_base_url(url),
                Flavour::Messaging => b.messaging_base_url(url),
            };
        }
        if let Some(t) = traffic_account {
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
            Flavour::Legacy => &self.legacy_base_url,
            Flavour::Messaging => &self.messaging_base_url,
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
                Flavour::Legacy => &LEGACY_SENDER,
                Flavour::Messaging => &MESSAGING_SENDER,
            };
            sender::check(from, rules).map_err(|e| Error::config(format!("the configured sender: {}", e.message())))?;
        }
        if self.api == Flavour::Messaging && self.traffic_account_id.as_deref().is_none_or(str::is_empty) {
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

/// Builds a [`MittoConfig`].
#[derive(Debug, Clone)]
pub struct MittoConfigBuilder {
    /// The API chosen explicitly; without one, [`MittoConfigBuilder::build`] chooses (see the
    /// [module docs](self)).
    api: Option<Flavour>,
    config: MittoConfig,
}

impl MittoConfigBuilder {
    /// Selects the API. Without this, a configuration with a traffic account uses the messaging API
    /// and one without uses the legacy API.
    pub fn api(mut self, api: Flavour) -> Self {
        self.api = Some(api);
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

    /// Chooses the API when none was selected, checks and returns the configuration.
    pub fn build(mut self) -> Result<MittoConfig> {
        self.config.api = self.api.unwrap_or(match self.config.traffic_account_id {
            Some(_) => Flavour::Messaging,
            None => Flavour::Legacy,
        });
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_defaults_to_public_legacy_host() {
        let c = MittoConfig::from_dsn(&Dsn::parse("mitto://K3y@default?from=Acme").unwrap()).unwrap();
        assert_eq!(c.api, Flavour::Legacy);
        assert_eq!(c.base_url(), LEGACY_BASE_URL);
        assert_eq!(c.from.as_deref(), Some("Acme"));
    }

    #[test]
    fn dsn_regional_host_and_messaging() {
        let d = Dsn::parse("mitto://K@rest-fra.mittoapi.net?from=Acme&validity=60&test=1").unwrap();
        let c = MittoConfig::from_dsn(&d).unwrap();
        assert_eq!(c.legacy_base_url, "https://rest-fra.mittoapi.net");
        assert_eq!(c.validity_minutes, Some(60));
        assert!(c.test);
        let d = Dsn::parse("mitto://K@127.0.0.1:9000?from=Acme&api=messaging&traffic_account=ta-1").unwrap();
        let c = MittoConfig::from_dsn(&d).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9000");
        assert_eq!(c.traffic_account_id.as_deref(), Some("ta-1"));
        let d = Dsn::parse("mitto://K@default?from=+41791234567").unwrap();
        assert_eq!(MittoConfig::from_dsn(&d).unwrap().from.as_deref(), Some("+41791234567"));
    }

    #[test]
    fn a_traffic_account_without_api_chooses_the_messaging_api() {
        let d = Dsn::parse("mitto://K@default?from=Acme&traffic_account=ta-1").unwrap();
        let c = MittoConfig::from_dsn(&d).unwrap();
        assert_eq!((c.api, c.base_url()), (Flavour::Messaging, MESSAGING_BASE_URL));
        let d = Dsn::parse("mitto://K@127.0.0.1:9000?from=Acme&traffic_account=ta-1").unwrap();
        let c = MittoConfig::from_dsn(&d).unwrap();
        assert_eq!(
            (c.api, c.messaging_base_url.as_str()),
            (Flavour::Messaging, "http://127.0.0.1:9000")
        );
        let d = Dsn::parse("mitto://K@default?from=Acme&traffic_account=ta-1&api=legacy").unwrap();
        assert_eq!(
            MittoConfig::from_dsn(&d).unwrap().api,
            Flavour::Legacy,
            "an explicit choice wins"
        );
        let c = MittoConfig::builder("K").traffic_account_id("ta-1").build().unwrap();
        assert_eq!(c.api, Flavour::Messaging, "the builder chooses the same way");
        assert_eq!(MittoConfig::builder("K").build().unwrap().api, Flavour::Legacy);
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
            let e = MittoConfig::from_dsn(&Dsn::parse(dsn).unwrap()).unwrap_err();
            let s = format!("{e} {e:?}");
            assert!(s.contains(needle), "{dsn}: {s}");
            assert!(!s.contains("supersecretkey"), "{s}");
        }
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = MittoConfig::builder("the-key")
            .from("Acme")
            .webhook_secret("hook-secret")
            .callback_url("https://h.example/dlr?token=hook-secret")
            .legacy_base_url("https://proxy-user:proxypass@proxy.example")
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("the-key") && !d.contains("hook-secret"), "{d}");
        assert!(!d.contains("proxypass") && d.contains("proxy.example"), "{d}");
    }

    #[test]
    fn deserializes_from_json() {
        let c: MittoConfig = serde_json::from_value(serde_json::json!({
            "api_key": "k", "api": "messaging", "traffic_account_id": "t", "from": "Acme"
        }))
        .unwrap();
        c.validate().unwrap();
        assert_eq!(c.api, Flavour::Messaging);
        assert_eq!(c.messaging_base_url, MESSAGING_BASE_URL);
    }
}

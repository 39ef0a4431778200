//! How an SMS.ru client is configured: credentials, sender, options, and the callback secret.
//!
//! From a DSN ([`SmsRuConfig::from_dsn`]):
//!
//! ```text
//! smsru://API_ID@default?from=NAME[&webhook_secret=S][&webhook_token_param=token]
//!        [&test=true][&translit=true][&ttl=MINUTES][&partner_id=ID][&tls=false]
//! smsru://LOGIN:PASSWORD@default?...          (login and password instead of an api_id)
//! ```
//!
//! `default` is SMS.ru's public API ([`BASE_URL`]); any other host (a simulator on loopback) is used as
//! it is. `from` may be left out, and SMS.ru then uses the account's default sender.

use std::fmt;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use crate::SCHEME;

/// SMS.ru's public API. Methods are paths below it (`/sms/send`).
pub const BASE_URL: &str = "https://sms.ru";

/// The callback URL's query parameter that carries the webhook secret, unless configured otherwise.
pub const DEFAULT_WEBHOOK_TOKEN_PARAM: &str = "token";

/// The longest message lifetime SMS.ru accepts, in minutes (24 h).
pub const MAX_TTL_MINUTES: u16 = 1440;

/// How the client proves who it is: an `api_id` (the usual way), or the account's login and password.
#[derive(Clone, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Credentials {
    /// The `api_id` key from the SMS.ru cabinet.
    ApiId {
        /// The key.
        api_id: SecretString,
    },
    /// Login and password of the account.
    Login {
        /// The login (usually the account's phone number).
        login: String,
        /// The password.
        password: SecretString,
    },
}

impl Credentials {
    /// The form fields that authenticate a request.
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        match self {
            Credentials::ApiId { api_id } => vec![("api_id".into(), api_id.expose_secret().to_owned())],
            Credentials::Login { login, password } => vec![
                ("login".into(), login.clone()),
                ("password".into(), password.expose_secret().to_owned()),
            ],
        }
    }
}

/// Never shows a key or a password, and not the login either (it is usually a phone number).
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ApiId { .. } => f.write_str("ApiId(***)"),
            Credentials::Login { .. } => f.write_str("Login(***)"),
        }
    }
}

/// An SMS.ru client's configuration. Build it with [`SmsRuConfig::builder`] or
/// [`SmsRuConfig::from_dsn`]. `Debug` never shows a credential, the webhook secret or a URL's secrets.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct SmsRuConfig {
    /// How requests authenticate.
    #[serde(flatten)]
    pub credentials: Credentials,
    /// The API's base URL.
    #[serde(default = "default_base")]
    pub base_url: String,
    /// The approved sender name; SMS.ru's default sender when `None`.
    #[serde(default)]
    pub from: Option<String>,
    /// Test mode (`test=1`): SMS.ru answers as usual but sends and charges nothing.
    #[serde(default)]
    pub test: bool,
    /// Transliterate Cyrillic into Latin (`translit=1`).
    #[serde(default)]
    pub translit: bool,
    /// Message lifetime in minutes (`ttl`, 1 to 1440); the operator drops what is not delivered by then.
    #[serde(default)]
    pub ttl_minutes: Option<u16>,
    /// SMS.ru partner programme id (`partner_id`).
    #[serde(default)]
    pub partner_id: Option<String>,
    /// The secret that delivery callbacks must carry in their URL. SMS.ru does not sign callbacks, so
    /// register the callback as `https://host/hooks/smsru?token=SECRET`; without a secret, webhooks
    /// are refused.
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
    /// The callback URL's query parameter that carries [`SmsRuConfig::webhook_secret`].
    #[serde(default = "default_param")]
    pub webhook_token_param: String,
    /// HTTP behaviour (timeouts, body cap).
    #[serde(skip)]
    pub http: HttpOptions,
    /// Retry policy. Sends are repeated only when SMS.ru certainly did not take them.
    #[serde(skip)]
    pub retry: RetryPolicy,
}

fn default_base() -> String {
    BASE_URL.to_owned()
}

fn default_param() -> String {
    DEFAULT_WEBHOOK_TOKEN_PARAM.to_owned()
}

impl fmt::Debug for SmsRuConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsRuConfig")
            .field("credentials", &self.credentials)
            .field("base_url", &redact_url(&self.base_url))
            .field("from", &self.from)
            .field("test", &self.test)
            .field("translit", &self.translit)
            .field("ttl_minutes", &self.ttl_minutes)
            .field("partner_id", &self.partner_id)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "***"))
            .field("webhook_token_param", &self.webhook_token_param)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish()
    }
}

impl SmsRuConfig {
    /// A builder; give it the credentials ([`SmsRuConfigBuilder::api_id`] or
    /// [`SmsRuConfigBuilder::login`]) and whatever else differs from the defaults.
    pub fn builder() -> SmsRuConfigBuilder {
        SmsRuConfigBuilder::default()
    }

    /// Reads an `smsru://` DSN (see the [module docs](self)). Errors never show a credential.
    pub fn from_dsn(dsn: &Dsn) -> Result<SmsRuConfig> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "an SMS.ru DSN starts with smsru://, not {}://",
                dsn.scheme()
            )));
        }
        let user = dsn.require_user("the api_id (or the login)")?;
        let mut b = match dsn.password() {
            Some(p) if !p.expose_secret().is_empty() => SmsRuConfig::builder().login(user, p.expose_secret()),
            _ => SmsRuConfig::builder().api_id(user),
        };
        if !dsn.is_default_host() {
            b = b.base_url(dsn.endpoint_or(BASE_URL)?);
        }
        if let Some(from) = dsn.option("from").filter(|f| !f.is_empty()) {
            b = b.from(from);
        }
        b = b.test(dsn.option_bool("test", false)?);
        b = b.translit(dsn.option_bool("translit", false)?);
        if let Some(ttl) = dsn.option_parse::<u16>("ttl")? {
            b = b.ttl_minutes(ttl);
        }
        if let Some(p) = dsn.option("partner_id").filter(|p| !p.is_empty()) {
            b = b.partner_id(p);
        }
        if let Some(s) = dsn.option("webhook_secret").filter(|s| !s.is_empty()) {
            b = b.webhook_secret(s);
        }
        if let Some(p) = dsn.option("webhook_token_param").filter(|p| !p.is_empty()) {
            b = b.webhook_token_param(p);
        }
        b.build()
    }

    /// The URL of an API method (`sms/send`).
    pub(crate) fn method_url(&self, method: &str) -> String {
        format!("{}/{method}", self.base_url.trim_end_matches('/'))
    }

    /// Checks what a builder or a deserialised config may have got wrong.
    pub fn validate(&self) -> Result<()> {
        let creds_empty = match &self.credentials {
            Credentials::ApiId { api_id } => api_id.expose_secret().trim().is_empty(),
            Credentials::Login { login, password } => login.trim().is_empty() || password.expose_secret().is_empty(),
        };
        if creds_empty {
            return Err(Error::config("the SMS.ru credentials are empty"));
        }
        let url =
            url::Url::parse(&self.base_url).map_err(|_| Error::config("the SMS.ru base URL is not a valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config("the SMS.ru base URL must be http or https"));
        }
        if let Some(ttl) = self.ttl_minutes
            && !(1..=MAX_TTL_MINUTES).contains(&ttl)
        {
            return Err(Error::config("the SMS.ru ttl must be 1 to 1440 minutes"));
        }
        if self.from.as_deref().is_some_and(|f| f.trim().is_empty()) {
            return Err(Error::config(
                "the SMS.ru sender name is empty (leave it out for the default sender)",
            ));
        }
        if self.webhook_token_param.is_empty() {
            return Err(Error::config("the webhook token parameter name is empty"));
        }
        Ok(())
    }
}

/// Builds an [`SmsRuConfig`]; [`SmsRuConfigBuilder::build`] checks it.
#[derive(Debug, Clone)]
pub struct SmsRuConfigBuilder {
    credentials: Option<Credentials>,
    base_url: String,
    from: Option<String>,
    test: bool,
    translit: bool,
    ttl_minutes: Option<u16>,
    partner_id: Option<String>,
    webhook_secret: Option<SecretString>,
    webhook_token_param: String,
    http: HttpOptions,
    retry: RetryPolicy,
}

impl Default for SmsRuConfigBuilder {
    fn default() -> Self {
        SmsRuConfigBuilder {
            credentials: None,
            base_url: default_base(),
            from: None,
            test: false,
            translit: false,
            ttl_minutes: None,
            partner_id: None,
            webhook_secret: None,
            webhook_token_param: default_param(),
            http: HttpOptions::default(),
            retry: RetryPolicy::default(),
        }
    }
}

impl SmsRuConfigBuilder {
    /// Authenticate with an `api_id` (the usual way).
    pub fn api_id(mut self, api_id: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::ApiId {
            api_id: SecretString::from(api_id.into()),
        });
        self
    }

    /// Authenticate with the account's login and password.
    pub fn login(mut self, login: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::Login {
            login: login.into(),
            password: SecretString::from(password.into()),
        });
        self
    }

    /// The API's base URL (a simulator, a mirror).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The approved sender name.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Test mode: nothing is sent or charged.
    pub fn test(mut self, test: bool) -> Self {
        self.test = test;
        self
    }

    /// Transliterate Cyrillic into Latin.
    pub fn translit(mut self, translit: bool) -> Self {
        self.translit = translit;
        self
    }

    /// Message lifetime in minutes (1 to 1440).
    pub fn ttl_minutes(mut self, ttl: u16) -> Self {
        self.ttl_minutes = Some(ttl);
        self
    }

    /// Partner programme id.
    pub fn partner_id(mut self, id: impl Into<String>) -> Self {
        self.partner_id = Some(id.into());
        self
    }

    /// The secret delivery callbacks must carry in their URL.
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// The callback URL's query parameter that carries the secret.
    pub fn webhook_token_param(mut self, param: impl Into<String>) -> Self {
        self.webhook_token_param = param.into();
        self
    }

    /// HTTP options.
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.http = http;
        self
    }

    /// Retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Checks and returns the configuration.
    pub fn build(self) -> Result<SmsRuConfig> {
        let credentials = self
            .credentials
            .ok_or_else(|| Error::config("an SMS.ru config needs credentials: an api_id, or a login and password"))?;
        let config = SmsRuConfig {
            credentials,
            base_url: self.base_url,
            from: self.from,
            test: self.test,
            translit: self.translit,
            ttl_minutes: self.ttl_minutes,
            partner_id: self.partner_id,
            webhook_secret: self.webhook_secret,
            webhook_token_param: self.webhook_token_param,
            http: self.http,
            retry: self.retry,
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_with_api_id() {
        let d = Dsn::parse("smsru://KEY-123@default?from=Shop&webhook_secret=s3&test=1&ttl=60").unwrap();
        let c = SmsRuConfig::from_dsn(&d).unwrap();
        assert_eq!(c.base_url, BASE_URL);
        assert_eq!(c.from.as_deref(), Some("Shop"));
        assert!(c.test);
        assert_eq!(c.ttl_minutes, Some(60));
        assert!(matches!(&c.credentials, Credentials::ApiId { api_id } if api_id.expose_secret() == "KEY-123"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("KEY-123") && !shown.contains("s3\""), "{shown}");
    }

    #[test]
    fn dsn_with_login_and_local_host() {
        let d = Dsn::parse("smsru://79001234567:pa%40ss@127.0.0.1:8080").unwrap();
        let c = SmsRuConfig::from_dsn(&d).unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
        assert!(matches!(&c.credentials, Credentials::Login { password, .. } if password.expose_secret() == "pa@ss"));
        assert!(!format!("{c:?}").contains("79001234567"));
    }

    #[test]
    fn bad_dsns() {
        for bad in [
            "mitto://KEY@default",
            "smsru://default",
            "smsru://KEY@default?ttl=5000",
            "smsru://KEY@default?ttl=x",
            "smsru://KEY@default?test=maybe",
        ] {
            let e = SmsRuConfig::from_dsn(&Dsn::parse(bad).unwrap()).unwrap_err();
            assert_eq!(e.kind(), switchboard_core::ErrorKind::Config, "{bad}");
            assert!(!e.to_string().contains("KEY"), "{e}");
        }
    }

    #[test]
    fn the_builder_needs_credentials() {
        let e = SmsRuConfig::builder().from("Shop").build().unwrap_err();
        assert_eq!(e.kind(), switchboard_core::ErrorKind::Config);
        let c = SmsRuConfig::builder().login("l", "p").ttl_minutes(60).build().unwrap();
        assert!(matches!(c.credentials, Credentials::Login { .. }));
        assert!(SmsRuConfig::builder().api_id("K").ttl_minutes(0).build().is_err());
    }

    #[test]
    fn deserialises_from_json() {
        let c: SmsRuConfig = serde_json::from_str(r#"{"api_id":"K","from":"Shop"}"#).unwrap();
        c.validate().unwrap();
        let c: SmsRuConfig = serde_json::from_str(r#"{"login":"l","password":"p"}"#).unwrap();
        assert!(matches!(c.credentials, Credentials::Login { .. }));
    }
}

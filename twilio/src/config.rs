//! How a Twilio client is configured.
//!
//! From a DSN ([`TwilioConfig::from_dsn`]):
//!
//! ```text
//! twilio://ACCOUNT_SID:AUTH_TOKEN@default?from=+15005550006
//! twilio://ACCOUNT_SID:AUTH_TOKEN@default?messaging_service=MG…[&from=+1…]
//!        [&status_callback=https://host/hooks/twilio][&validity=SECONDS]
//!        [&webhook_origin=https://public.host][&tls=false]
//! ```
//!
//! `default` is Twilio's public API ([`BASE_URL`]); any other host (a simulator) is used as it is. One
//! of `from` and `messaging_service` is required. The auth token is also the key of Twilio's webhook
//! signatures, so webhooks are always verified.

use std::fmt;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use crate::SCHEME;
use crate::error::mask;

/// Twilio's REST API host.
pub const BASE_URL: &str = "https://api.twilio.com";

/// The API version in every Messages path.
pub const API_VERSION: &str = "2010-04-01";

/// The longest `ValidityPeriod` Twilio accepts, in seconds (36 000, ten hours; Twilio's Messages API
/// reference gives the range 1 to 36 000).
pub const MAX_VALIDITY_SECONDS: u32 = 36_000;

/// A Twilio client's configuration. Build it with [`TwilioConfig::builder`] or
/// [`TwilioConfig::from_dsn`]. `Debug` never shows the auth token, a whole number or a URL's secrets.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct TwilioConfig {
    /// The Account SID (`AC…`), the Basic-auth user and part of every path.
    pub account_sid: String,
    /// The auth token: the Basic-auth password and the key of webhook signatures.
    pub auth_token: SecretString,
    /// The API's base URL.
    #[serde(default = "default_base")]
    pub base_url: String,
    /// The default sender (`From`): an E.164 number, a short code or an alphanumeric sender id.
    #[serde(default)]
    pub from: Option<String>,
    /// A Messaging Service (`MG…`) to send through; Twilio picks the sender from its pool.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// Where Twilio posts status callbacks for messages sent through this client (`StatusCallback`).
    #[serde(default)]
    pub status_callback: Option<String>,
    /// `ValidityPeriod` in seconds: how long Twilio may keep a message queued.
    #[serde(default)]
    pub validity_period: Option<u32>,
    /// The public origin (`https://hooks.example.com`) Twilio calls webhooks on, when the host sees
    /// another one behind a TLS-terminating proxy. Signature checks then use this origin with the
    /// request's path and query, since Twilio signs the URL exactly as it called it.
    #[serde(default)]
    pub webhook_origin: Option<String>,
    /// HTTP behaviour.
    #[serde(skip)]
    pub http: HttpOptions,
    /// Retry policy. Creating a message is never repeated unless Twilio certainly did not get it.
    #[serde(skip)]
    pub retry: RetryPolicy,
}

fn default_base() -> String {
    BASE_URL.to_owned()
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sid: String = self.account_sid.chars().take(6).collect();
        f.debug_struct("TwilioConfig")
            .field("account_sid", &format!("{sid}…"))
            .field("auth_token", &"***")
            .field("base_url", &redact_url(&self.base_url))
            .field("from", &self.from.as_deref().map(mask))
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("status_callback", &self.status_callback.as_deref().map(redact_url))
            .field("validity_period", &self.validity_period)
            .field("webhook_origin", &self.webhook_origin.as_deref().map(redact_url))
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish()
    }
}

/// Whether `s` is a Twilio SID with this two-letter prefix: the prefix and 32 hex digits.
pub fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

impl TwilioConfig {
    /// A builder; give it the account's credentials ([`TwilioConfigBuilder::credentials`]) and a
    /// sender, and whatever else differs from the defaults.
    pub fn builder() -> TwilioConfigBuilder {
        TwilioConfigBuilder {
            config: TwilioConfig {
                account_sid: String::new(),
                auth_token: SecretString::from(String::new()),
                base_url: default_base(),
                from: None,
                messaging_service_sid: None,
                status_callback: None,
                validity_period: None,
                webhook_origin: None,
                http: HttpOptions::default(),
                retry: RetryPolicy::default(),
            },
        }
    }

    /// Reads a `twilio://` DSN (see the [module docs](self)). Errors never show the token.
    pub fn from_dsn(dsn: &Dsn) -> Result<TwilioConfig> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "a Twilio DSN starts with twilio://, not {}://",
                dsn.scheme()
            )));
        }
        let sid = dsn.require_user("the Account SID")?;
        let token = dsn.require_password("the auth token")?;
        let mut b = TwilioConfig::builder().credentials(sid, token.expose_secret());
        if !dsn.is_default_host() {
            b = b.base_url(dsn.endpoint_or(BASE_URL)?);
        }
        if let Some(f) = dsn.option("from").filter(|f| !f.is_empty()) {
            b = b.from(f);
        }
        if let Some(m) = dsn
            .option("messaging_service")
            .or_else(|| dsn.option("messaging_service_sid"))
            .filter(|m| !m.is_empty())
        {
            b = b.messaging_service_sid(m);
        }
        if let Some(u) = dsn.option("status_callback").filter(|u| !u.is_empty()) {
            b = b.status_callback(u);
        }
        if let Some(v) = dsn.option_parse::<u32>("validity")? {
            b = b.validity_period(v);
        }
        if let Some(o) = dsn.option("webhook_origin").filter(|o| !o.is_empty()) {
            b = b.webhook_origin(o);
        }
        b.build()
    }

    /// Checks what a builder or a deserialised config may have got wrong.
    pub fn validate(&self) -> Result<()> {
        if !(self.account_sid.starts_with("AC")
            && self.account_sid.len() >= 10
            && self.account_sid.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(Error::config(
                "the Twilio Account SID must look like AC followed by 32 hex digits",
            ));
        }
        if self.auth_token.expose_secret().is_empty() {
            return Err(Error::config("the Twilio auth token is empty"));
        }
        let base = url::Url::parse(&self.base_url).map_err(|_| Error::config("the Twilio base URL is not a URL"))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::config("the Twilio base URL must be http or https"));
        }
        if self.from.is_none() && self.messaging_service_sid.is_none() {
            return Err(Error::config(
                "a Twilio config needs a sender: 'from' (a number or sender id) or 'messaging_service' (MG…)",
            ));
        }
        if self.from.as_deref().is_some_and(|f| f.trim().is_empty()) {
            return Err(Error::config("the Twilio 'from' is empty"));
        }
        if let Some(m) = &self.messaging_service_sid
            && !is_sid(m, "MG")
        {
            return Err(Error::config(
                "the Messaging Service SID must look like MG followed by 32 hex digits",
            ));
        }
        for (what, u) in [
            ("status callback", self.status_callback.as_deref()),
            ("webhook origin", self.webhook_origin.as_deref()),
        ] {
            if let Some(u) = u {
                let ok = url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
                if !ok {
                    return Err(Error::config(format!("the Twilio {what} is not an http(s) URL")));
                }
            }
        }
        if let Some(v) = self.validity_period
            && !(1..=MAX_VALIDITY_SECONDS).contains(&v)
        {
            return Err(Error::config("the Twilio validity period must be 1 to 36000 seconds"));
        }
        Ok(())
    }

    /// `{base}/2010-04-01/Accounts/{sid}` (the SID was checked to be alphanumeric).
    pub(crate) fn account_url(&self) -> String {
        format!(
            "{}/{API_VERSION}/Accounts/{}",
            self.base_url.trim_end_matches('/'),
            self.account_sid
        )
    }
}

/// Builds a [`TwilioConfig`]; [`TwilioConfigBuilder::build`] checks it.
#[derive(Debug, Clone)]
pub struct TwilioConfigBuilder {
    config: TwilioConfig,
}

impl TwilioConfigBuilder {
    /// The Account SID (`AC…`) and its auth token.
    pub fn credentials(mut self, account_sid: impl Into<String>, auth_token: impl Into<String>) -> Self {
        self.config.account_sid = account_sid.into();
        self.config.auth_token = SecretString::from(auth_token.into());
        self
    }

    /// The API's base URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = url.into();
        self
    }

    /// The default sender.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.config.from = Some(from.into());
        self
    }

    /// The Messaging Service to send through.
    pub fn messaging_service_sid(mut self, sid: impl Into<String>) -> Self {
        self.config.messaging_service_sid = Some(sid.into());
        self
    }

    /// The status callback URL for every message sent.
    pub fn status_callback(mut self, url: impl Into<String>) -> Self {
        self.config.status_callback = Some(url.into());
        self
    }

    /// `ValidityPeriod` in seconds.
    pub fn validity_period(mut self, seconds: u32) -> Self {
        self.config.validity_period = Some(seconds);
        self
    }

    /// The public origin webhooks are called on (see [`TwilioConfig::webhook_origin`]).
    pub fn webhook_origin(mut self, origin: impl Into<String>) -> Self {
        self.config.webhook_origin = Some(origin.into());
        self
    }

    /// HTTP options.
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.config.http = http;
        self
    }

    /// Retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Checks and returns the configuration.
    pub fn build(self) -> Result<TwilioConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ErrorKind;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    #[test]
    fn dsn() {
        let d = Dsn::parse(&format!(
            "twilio://{SID}:tok3n@default?from=%2B15005550006&validity=600"
        ))
        .unwrap();
        let c = TwilioConfig::from_dsn(&d).unwrap();
        assert_eq!(c.base_url, BASE_URL);
        assert_eq!(c.from.as_deref(), Some("+15005550006"));
        assert_eq!(c.validity_period, Some(600));
        assert_eq!(
            c.account_url(),
            format!("https://api.twilio.com/2010-04-01/Accounts/{SID}")
        );
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("tok3n") && !shown.contains("5550006") && !shown.contains(SID),
            "{shown}"
        );
        let d = Dsn::parse(&format!(
            "twilio://{SID}:t@127.0.0.1:9000?messaging_service=MG0123456789abcdef0123456789abcdef"
        ))
        .unwrap();
        let c = TwilioConfig::from_dsn(&d).unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:9000");
        assert!(c.from.is_none());
    }

    #[test]
    fn bad_dsns() {
        for bad in [
            format!("twilio://{SID}@default?from=%2B1500"),
            format!("twilio://{SID}:tok3n@default"),
            "twilio://XX123:tok3n@default?from=x".to_owned(),
            "twilio://AC12/../x:tok3n@default?from=x".to_owned(),
            format!("twilio://{SID}:tok3n@default?messaging_service=MGnope"),
            format!("twilio://{SID}:tok3n@default?from=x&status_callback=ftp://x"),
            format!("twilio://{SID}:tok3n@default?from=x&validity=0"),
            format!("smsru://{SID}:tok3n@default?from=x"),
        ] {
            let e = Dsn::parse(&bad).and_then(|d| TwilioConfig::from_dsn(&d)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
            assert!(!e.to_string().contains("tok3n"));
        }
    }

    #[test]
    fn the_builder_needs_credentials_and_a_sender() {
        let e = TwilioConfig::builder().from("+15005550006").build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(
            TwilioConfig::builder().credentials(SID, "t").build().is_err(),
            "no sender"
        );
        let c = TwilioConfig::builder()
            .credentials(SID, "t")
            .from("+15005550006")
            .build()
            .unwrap();
        assert_eq!(c.account_sid, SID);
    }

    #[test]
    fn sids() {
        assert!(is_sid(SID, "AC"));
        assert!(!is_sid(SID, "MG"));
        assert!(!is_sid("AC123", "AC"));
    }
}

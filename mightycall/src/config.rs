//! How a MightyCall client is configured: the two keys, the account flavour (which host and SMS path),
//! the path style, the default business number and the token refresh margin.
//!
//! From a DSN ([`MightyCallConfig::from_dsn`]):
//!
//! ```text
//! mightycall://API_KEY:USER_KEY@default?from=%2B18444131701[&flavour=cc|classic][&paths=api|bare]
//!             [&refresh_margin=SECONDS][&tls=false]
//! ```
//!
//! `default` as host means the flavour's public host ([`Flavour::public_base_url`]); any other host is
//! used as it is, with `/v4` appended when the DSN has no path. The business number is written with its
//! `+` (`from=+1…`; `%2B1…` works too): core's DSN parser keeps a literal `+` in option values.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::{Dsn, Error, ExposeSecret, PhoneNumber, Result, RetryPolicy, SecretString};

/// Refresh the access token this long before it expires, by default (it lives 24 h).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Which kind of MightyCall account the keys belong to. It decides the host and the SMS path, and which
/// credentials work (Contact Center: API key + User key only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
pub enum Flavour {
    /// A Contact Center account: `https://ccapi.mightycall.com/v4`.
    #[default]
    #[serde(rename = "cc", alias = "contact_center", alias = "ccapi")]
    ContactCenter,
    /// A Classic (standard) account: `https://api.mightycall.com/v4`.
    #[serde(rename = "classic", alias = "api", alias = "standard")]
    Classic,
}

impl Flavour {
    /// The public base URL of the flavour's API, `/v4` included.
    pub fn public_base_url(self) -> &'static str {
        match self {
            Flavour::ContactCenter => "https://ccapi.mightycall.com/v4",
            Flavour::Classic => "https://api.mightycall.com/v4",
        }
    }

    /// The name used in DSNs (`cc`, `classic`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flavour::ContactCenter => "cc",
            Flavour::Classic => "classic",
        }
    }
}

/// Whether API paths carry an `/api` segment after `/v4` (`/v4/api/journal/requests`) or not
/// (`/v4/journal/requests`). Third-party clients use both; see [`crate::paths`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathStyle {
    /// `/v4/api/...`, the style most third-party clients use.
    #[default]
    Api,
    /// `/v4/...`.
    Bare,
}

/// A MightyCall client's configuration. `Debug` never shows the keys.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct MightyCallConfig {
    /// The API key (Integrations → API), sent as `x-api-key` and as `client_id`.
    pub api_key: SecretString,
    /// The User key, sent as `client_secret`. (Classic accounts without a User key may use the user's
    /// extension here.)
    pub user_key: SecretString,
    /// The account flavour.
    #[serde(default)]
    pub flavour: Flavour,
    /// The path style.
    #[serde(default)]
    pub path_style: PathStyle,
    /// The base URL, `/v4` included; the flavour's public host when absent.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The business number SMS are sent from when a message names none.
    #[serde(default)]
    pub from: Option<PhoneNumber>,
    /// Refresh the access token this many seconds before it expires.
    #[serde(default = "default_margin_secs")]
    pub refresh_margin_secs: u64,
    /// HTTP behaviour.
    #[serde(skip)]
    pub http: HttpOptions,
    /// Retry policy; sends are retried only when nothing was sent.
    #[serde(skip)]
    pub retry: RetryPolicy,
}

fn default_margin_secs() -> u64 {
    DEFAULT_REFRESH_MARGIN.as_secs()
}

impl fmt::Debug for MightyCallConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MightyCallConfig")
            .field("api_key", &"***")
            .field("user_key", &"***")
            .field("flavour", &self.flavour)
            .field("path_style", &self.path_style)
            .field("base_url", &redact_url(self.base_url()))
            .field("from", &self.from)
            .field("refresh_margin_secs", &self.refresh_margin_secs)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish()
    }
}

impl MightyCallConfig {
    /// A builder with the two keys; everything else defaults.
    pub fn builder(api_key: impl Into<String>, user_key: impl Into<String>) -> MightyCallConfigBuilder {
        MightyCallConfigBuilder {
            config: MightyCallConfig {
                api_key: SecretString::from(api_key.into()),
                user_key: SecretString::from(user_key.into()),
                flavour: Flavour::default(),
                path_style: PathStyle::default(),
                base_url: None,
                from: None,
                refresh_margin_secs: default_margin_secs(),
                http: HttpOptions::default(),
                retry: RetryPolicy::default(),
            },
        }
    }

    /// Reads a `mightycall://` DSN (see the [module docs](self)). Errors never show the keys.
    pub fn from_dsn(dsn: &Dsn) -> Result<MightyCallConfig> {
        if dsn.scheme() != crate::SCHEME {
            return Err(Error::config(format!(
                "a MightyCall DSN starts with mightycall://, not {}://",
                dsn.scheme()
            )));
        }
        let api_key = dsn.require_user("the API key")?;
        let user_key = dsn.require_password("the User key")?;
        let flavour = match dsn
            .option("flavour")
            .or(dsn.option("flavor"))
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("") | Some("cc") | Some("ccapi") | Some("contact_center") => Flavour::ContactCenter,
            Some("classic") | Some("api") | Some("standard") => Flavour::Classic,
            Some(_) => return Err(Error::config("mightycall DSN option 'flavour' must be cc or classic")),
        };
        let path_style = match dsn.option("paths").map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("api") => PathStyle::Api,
            Some("bare") | Some("plain") => PathStyle::Bare,
            Some(_) => return Err(Error::config("mightycall DSN option 'paths' must be api or bare")),
        };
        let from = parse_business_number(dsn.require_option("from")?)?;
        let mut b = MightyCallConfig::builder(api_key, user_key.expose_secret())
            .flavour(flavour)
            .path_style(path_style)
            .from(from);
        if !dsn.is_default_host() {
            let mut url = dsn.endpoint_or(flavour.public_base_url())?;
            if dsn.path().trim_matches('/').is_empty() {
                url.push_str("/v4");
            }
            b = b.base_url(url);
        }
        if let Some(m) = dsn.option_parse::<u64>("refresh_margin")? {
            b = b.refresh_margin(Duration::from_secs(m));
        }
        b.build()
    }

    /// The base URL in use, `/v4` included.
    pub fn base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(self.flavour.public_base_url())
    }

    /// The refresh margin.
    pub fn refresh_margin(&self) -> Duration {
        Duration::from_secs(self.refresh_margin_secs)
    }

    /// Checks what can be checked before anything is sent.
    pub fn validate(&self) -> Result<()> {
        if self.api_key.expose_secret().trim().is_empty() {
            return Err(Error::config("the MightyCall API key is empty"));
        }
        if self.user_key.expose_secret().trim().is_empty() {
            return Err(Error::config("the MightyCall User key is empty"));
        }
        let ok = url::Url::parse(self.base_url()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return Err(Error::config("the MightyCall base URL is not an http(s) URL"));
        }
        Ok(())
    }
}

/// Reads a business number from configuration text.
fn parse_business_number(raw: &str) -> Result<PhoneNumber> {
    PhoneNumber::parse(raw.trim(), None).map_err(|e| {
        Error::config(format!(
            "the MightyCall business number ('from') is not a valid E.164 number ({e}); write it as +CC…"
        ))
    })
}

/// Builds a [`MightyCallConfig`].
#[derive(Debug, Clone)]
pub struct MightyCallConfigBuilder {
    config: MightyCallConfig,
}

impl MightyCallConfigBuilder {
    /// Sets the account flavour.
    pub fn flavour(mut self, flavour: Flavour) -> Self {
        self.config.flavour = flavour;
        self
    }

    /// Sets the path style.
    pub fn path_style(mut self, style: PathStyle) -> Self {
        self.config.path_style = style;
        self
    }

    /// Sets the base URL (`/v4` included), overriding the flavour's public host.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Sets the default business number.
    pub fn from(mut self, number: PhoneNumber) -> Self {
        self.config.from = Some(number);
        self
    }

    /// Sets how long before expiry the access token is refreshed.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.config.refresh_margin_secs = margin.as_secs();
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
    pub fn build(self) -> Result<MightyCallConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_public_hosts_by_flavour() {
        let c =
            MightyCallConfig::from_dsn(&Dsn::parse("mightycall://K:U@default?from=%2B18444131701").unwrap()).unwrap();
        assert_eq!(c.flavour, Flavour::ContactCenter);
        assert_eq!(c.base_url(), "https://ccapi.mightycall.com/v4");
        assert_eq!(c.from.as_ref().unwrap().as_e164(), "+18444131701");
        let c = MightyCallConfig::from_dsn(
            &Dsn::parse("mightycall://K:U@default?from=+18444131701&flavour=classic&paths=bare").unwrap(),
        )
        .unwrap();
        assert_eq!(c.base_url(), "https://api.mightycall.com/v4");
        assert_eq!(c.path_style, PathStyle::Bare);
        assert_eq!(
            c.from.unwrap().as_e164(),
            "+18444131701",
            "a literal '+' in the DSN stays a '+'"
        );
    }

    #[test]
    fn dsn_other_host_gets_v4() {
        let c = MightyCallConfig::from_dsn(&Dsn::parse("mightycall://K:U@127.0.0.1:9000?from=%2B18444131701").unwrap())
            .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9000/v4");
        let c =
            MightyCallConfig::from_dsn(&Dsn::parse("mightycall://K:U@127.0.0.1:9000/v4?from=%2B18444131701").unwrap())
                .unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9000/v4");
    }

    #[test]
    fn dsn_errors_do_not_echo_keys() {
        for (dsn, needle) in [
            ("mightycall://apikeyzz@default?from=%2B18444131701", "User key"),
            ("mightycall://apikeyzz:userkeyzz@default", "from"),
            ("mightycall://apikeyzz:userkeyzz@default?from=555", "business number"),
            (
                "mightycall://apikeyzz:userkeyzz@default?from=%2B18444131701&flavour=x",
                "flavour",
            ),
            (
                "mightycall://apikeyzz:userkeyzz@default?from=%2B18444131701&paths=x",
                "paths",
            ),
        ] {
            let e = MightyCallConfig::from_dsn(&Dsn::parse(dsn).unwrap()).unwrap_err();
            let s = format!("{e} {e:?}");
            assert!(s.contains(needle), "{dsn}: {s}");
            assert!(!s.contains("apikeyzz") && !s.contains("userkeyzz"), "{s}");
        }
    }

    #[test]
    fn debug_hides_keys() {
        let c = MightyCallConfig::builder("apikey-123", "userkey-456")
            .base_url("https://proxy-user:proxypass@proxy.example/v4")
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("apikey-123") && !d.contains("userkey-456"), "{d}");
        assert!(!d.contains("proxypass") && d.contains("proxy.example"), "{d}");
    }
}

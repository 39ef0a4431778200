//! YooKassa configuration: from a DSN, or with [`YooKassaConfig::builder`].
//!
//! ```text
//! yookassa://SHOP_ID:SECRET_KEY@default
//! yookassa://SHOP_ID:SECRET_KEY@default?notify_ips=185.71.76.0/27,77.75.156.11&timeout=30&retries=3
//! yookassa://SHOP_ID:SECRET_KEY@127.0.0.1:8080?notify_ips=127.0.0.1     (a simulator)
//! ```
//!
//! | part | meaning |
//! |---|---|
//! | user | the shop id (`shopId`) |
//! | password | the secret key (`live_…` / `test_…`) |
//! | host | `default` for `https://api.yookassa.ru`; anything else is used as is (`tls=false` or loopback for plain HTTP) |
//! | `notify_ips` | comma-separated addresses/CIDR ranges notifications may come from, replacing the published list; `any` turns the IP check off (re-fetching still authenticates) |
//! | `timeout` | whole-request timeout in seconds (default 35; YooKassa itself answers within 30 s or with a 500) |
//! | `retries` | attempts in all for one call, the first included (default 3) |

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::webhook::IpAllowList;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use crate::SCHEME;
use crate::webhook::PUBLISHED_NOTIFICATION_IPS;

/// The public API's base URL (paths add `/v3/…`).
pub const PUBLIC_API: &str = "https://api.yookassa.ru";

/// How to reach one YooKassa shop. Build it with [`YooKassaConfig::builder`] or
/// [`YooKassaConfig::from_dsn`]. `Debug` never shows the secret key.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct YooKassaConfig {
    /// The shop id (HTTP Basic user name).
    pub shop_id: String,
    /// The secret key (HTTP Basic password).
    pub secret_key: SecretString,
    /// The API base URL, without `/v3`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Whole-request timeout.
    #[serde(default = "default_timeout", with = "switchboard_core::serde_util::duration_secs")]
    pub timeout: Duration,
    /// How calls are retried. Every call is safe to repeat (reads, and POSTs with their idempotency
    /// key), so timeouts and YooKassa's "no definite answer" 500s are retried with the same key.
    #[serde(skip, default = "default_retry")]
    pub retry: RetryPolicy,
    /// Where notifications may come from (addresses and CIDR ranges); `None` turns the IP check off.
    #[serde(default = "default_ips")]
    pub notification_ips: Option<Vec<String>>,
}

impl fmt::Debug for YooKassaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YooKassaConfig")
            .field("shop_id", &self.shop_id)
            .field("secret_key", &self.secret_key)
            .field("endpoint", &redact_url(&self.endpoint))
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("notification_ips", &self.notification_ips)
            .finish()
    }
}

fn default_endpoint() -> String {
    PUBLIC_API.to_owned()
}

fn default_timeout() -> Duration {
    // YooKassa answers within 30 s or returns 500; leave it room to say so.
    Duration::from_secs(35)
}

fn default_retry() -> RetryPolicy {
    RetryPolicy::default()
}

fn default_ips() -> Option<Vec<String>> {
    Some(PUBLISHED_NOTIFICATION_IPS.iter().map(|s| (*s).to_owned()).collect())
}

impl YooKassaConfig {
    /// A builder: set the shop id and the secret key, and whatever else differs from the defaults (the
    /// public API, the published notification IP list, 35 s, three attempts).
    pub fn builder() -> YooKassaConfigBuilder {
        YooKassaConfigBuilder {
            config: YooKassaConfig {
                shop_id: String::new(),
                secret_key: SecretString::from(String::new()),
                endpoint: default_endpoint(),
                timeout: default_timeout(),
                retry: default_retry(),
                notification_ips: default_ips(),
            },
        }
    }

    /// Reads a `yookassa://SHOP_ID:SECRET_KEY@host?options` DSN (see the [module docs](self)).
    pub fn from_dsn(dsn: &Dsn) -> Result<YooKassaConfig> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "a YooKassa DSN starts with '{SCHEME}://', not '{}://'",
                dsn.scheme()
            )));
        }
        let shop_id = dsn.require_user("the shop id")?;
        let secret = dsn.require_password("the secret key")?;
        let mut b = YooKassaConfig::builder()
            .shop_id(shop_id)
            .secret_key(secret.expose_secret())
            .endpoint(dsn.endpoint_or(PUBLIC_API)?);
        if let Some(secs) = dsn.option_parse::<u64>("timeout")? {
            b = b.timeout(Duration::from_secs(secs.max(1)));
        }
        if let Some(n) = dsn.option_parse::<usize>("retries")? {
            let retry = b.config.retry.clone().with_max_attempts(n);
            b = b.retry(retry);
        }
        if let Some(ips) = dsn.option("notify_ips") {
            b = if ips.trim().eq_ignore_ascii_case("any") {
                b.skip_notification_ip_check()
            } else {
                b.notification_ips(ips.split(',').map(str::trim).filter(|s| !s.is_empty()))
            };
        }
        b.build()
    }

    /// Checks the configuration (the builder and [`YooKassaConfig::from_dsn`] do; a configuration read
    /// with serde is checked when a client is made from it).
    pub fn validate(&self) -> Result<()> {
        if self.shop_id.trim().is_empty() {
            return Err(Error::config("the YooKassa shop id is empty"));
        }
        if self.secret_key.expose_secret().is_empty() {
            return Err(Error::config("the YooKassa secret key is empty"));
        }
        url::Url::parse(&self.endpoint).map_err(|_| Error::config("the YooKassa endpoint is not a valid URL"))?;
        self.allow_list()?;
        Ok(())
    }

    /// The notification allow-list, parsed; `None` when the check is off.
    pub fn allow_list(&self) -> Result<Option<IpAllowList>> {
        self.notification_ips
            .as_ref()
            .map(|ips| IpAllowList::parse(ips.iter().map(String::as_str)))
            .transpose()
    }

    pub(crate) fn http_options(&self) -> HttpOptions {
        HttpOptions::default().timeout(self.timeout)
    }
}

/// Builds a [`YooKassaConfig`]; [`YooKassaConfigBuilder::build`] checks it.
#[derive(Clone)]
pub struct YooKassaConfigBuilder {
    config: YooKassaConfig,
}

impl fmt::Debug for YooKassaConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("YooKassaConfigBuilder").field(&self.config).finish()
    }
}

impl YooKassaConfigBuilder {
    /// Sets the shop id.
    pub fn shop_id(mut self, shop_id: impl Into<String>) -> Self {
        self.config.shop_id = shop_id.into();
        self
    }

    /// Sets the secret key.
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.config.secret_key = SecretString::from(secret_key.into());
        self
    }

    /// Sets the API base URL (a simulator, a proxy).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.config.endpoint = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the whole-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Replaces the addresses notifications may come from.
    pub fn notification_ips<I, S>(mut self, ips: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.notification_ips = Some(ips.into_iter().map(Into::into).collect());
        self
    }

    /// Turns the notification IP check off. Notifications are still authenticated by re-fetching the
    /// object; do this behind a proxy that cannot pass on the client address.
    pub fn skip_notification_ip_check(mut self) -> Self {
        self.config.notification_ips = None;
        self
    }

    /// The configuration, checked: a shop id, a secret key, an endpoint that is a URL and a
    /// notification list that parses.
    pub fn build(self) -> Result<YooKassaConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

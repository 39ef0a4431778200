//! YooKassa configuration, from code or from a DSN.
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
//! | `timeout` | whole-request timeout in seconds (default 30; YooKassa itself answers within 30 s or with a 500) |
//! | `retries` | attempts in all for one call, the first included (default 3) |

use std::time::Duration;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::webhook::IpAllowList;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use super::SCHEME;
use super::webhook::PUBLISHED_NOTIFICATION_IPS;

/// The public API's base URL (paths add `/v3/…`).
pub const PUBLIC_API: &str = "https://api.yookassa.ru";

/// How to reach one YooKassa shop. `Debug` never shows the secret key.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Config {
    /// The shop id (HTTP Basic user name).
    pub shop_id: String,
    /// The secret key (HTTP Basic password).
    pub secret_key: SecretString,
    /// The API base URL, without `/v3`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// Whole-request timeout.
    #[serde(default = "default_timeout", with = "crate::serde_secs")]
    pub timeout: Duration,
    /// How calls are retried. Every call is safe to repeat (reads, and POSTs with their idempotency
    /// key), so timeouts and YooKassa's "no definite answer" 500s are retried with the same key.
    #[serde(skip, default = "default_retry")]
    pub retry: RetryPolicy,
    /// Where notifications may come from (addresses and CIDR ranges); `None` turns the IP check off.
    #[serde(default = "default_ips")]
    pub notification_ips: Option<Vec<String>>,
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

impl Config {
    /// A configuration for the public API with the published notification IP list.
    pub fn new(shop_id: impl Into<String>, secret_key: impl Into<String>) -> Config {
        Config {
            shop_id: shop_id.into(),
            secret_key: SecretString::from(secret_key.into()),
            endpoint: default_endpoint(),
            timeout: default_timeout(),
            retry: default_retry(),
            notification_ips: default_ips(),
        }
    }

    /// Reads a `yookassa://SHOP_ID:SECRET_KEY@host?options` DSN (see the [module docs](self)).
    pub fn from_dsn(dsn: &Dsn) -> Result<Config> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "a YooKassa DSN starts with '{SCHEME}://', not '{}://'",
                dsn.scheme()
            )));
        }
        let shop_id = dsn.require_user("the shop id")?;
        let secret = dsn.require_password("the secret key")?;
        let mut cfg = Config::new(shop_id, secret.expose_secret());
        cfg.endpoint = dsn.endpoint_or(PUBLIC_API)?;
        if let Some(secs) = dsn.option_parse::<u64>("timeout")? {
            cfg.timeout = Duration::from_secs(secs.max(1));
        }
        if let Some(n) = dsn.option_parse::<usize>("retries")? {
            cfg.retry = cfg.retry.with_max_attempts(n);
        }
        if let Some(ips) = dsn.option("notify_ips") {
            cfg.notification_ips = if ips.trim().eq_ignore_ascii_case("any") {
                None
            } else {
                Some(
                    ips.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect(),
                )
            };
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Sets the API base URL (a simulator, a proxy).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the whole-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the addresses notifications may come from.
    pub fn notification_ips<I, S>(mut self, ips: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.notification_ips = Some(ips.into_iter().map(Into::into).collect());
        self
    }

    /// Turns the notification IP check off. Notifications are still authenticated by re-fetching the
    /// object; do this behind a proxy that cannot pass on the client address.
    pub fn skip_notification_ip_check(mut self) -> Self {
        self.notification_ips = None;
        self
    }

    /// Checks the configuration.
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

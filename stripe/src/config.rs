//! Stripe configuration: from a DSN, or with [`StripeConfig::builder`].
//!
//! ```text
//! stripe://SK@default?webhook_secret=whsec_...
//! stripe://SK@default?webhook_secret=whsec_old,whsec_new&webhook_tolerance=300&stripe_version=2026-08-26.dahlia
//! stripe://sk_test_...@127.0.0.1:12111?webhook_secret=whsec_...       (a simulator)
//! ```
//!
//! | part | meaning |
//! |---|---|
//! | user (or password) | the secret key `sk_live_…` / `sk_test_…` (or a restricted key `rk_…`); a publishable `pk_…` key is refused |
//! | host | `default` for `https://api.stripe.com`; anything else is used as is (`tls=false` or loopback for plain HTTP) |
//! | `webhook_secret` | the endpoint's signing secret(s); several (comma-separated or repeated) while rotating |
//! | `webhook_tolerance` | how old a signed timestamp may be, in seconds (default 300, as Stripe's libraries) |
//! | `stripe_version` | sent as `Stripe-Version` (default [`DEFAULT_STRIPE_VERSION`]; `account` sends none, so the account's default version applies) |
//! | `timeout` | whole-request timeout in seconds (default 80, as Stripe's libraries) |
//! | `retries` | attempts in all for one call, the first included (default 3) |

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use crate::SCHEME;

/// The public API's base URL (paths add `/v1/…`).
pub const PUBLIC_API: &str = "https://api.stripe.com";

/// Stripe's libraries' default signature tolerance.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The API version every request asks for (`Stripe-Version`), unless configured otherwise.
///
/// Without the header Stripe answers in the account's default version, which is the version of the
/// day the account was made: an account from before 2022-11-15 answers PaymentIntents without
/// `latest_charge` (it had a `charges` list), so refunds could not be read. Pinning makes the shapes
/// this crate reads the same for every account (Stripe's own libraries pin too).
///
/// This is the last version of the Dahlia release (Stripe changelog, docs.stripe.com/changelog): the
/// monthly versions within a release only add, and the next release, Endive (2026-09-30), removes
/// fields (`payment_method_types` on Checkout Sessions and PaymentIntents) that this crate's model and
/// simulator are written against. Move the pin only after checking a release's breaking changes.
pub const DEFAULT_STRIPE_VERSION: &str = "2026-08-26.dahlia";

/// The `stripe_version` DSN value that sends no `Stripe-Version`, so the account's default applies.
pub const ACCOUNT_VERSION: &str = "account";

/// How to reach one Stripe account. Build it with [`StripeConfig::builder`] or
/// [`StripeConfig::from_dsn`]. `Debug` never shows a key or secret.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct StripeConfig {
    /// The secret API key.
    pub secret_key: SecretString,
    /// The API base URL, without `/v1`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// The webhook endpoint's signing secrets (`whsec_…`); several during rotation.
    #[serde(default)]
    pub webhook_secrets: Vec<SecretString>,
    /// How old a signature's timestamp may be.
    #[serde(default = "default_tolerance", with = "switchboard_core::serde_util::duration_secs")]
    pub webhook_tolerance: Duration,
    /// The `Stripe-Version` header ([`DEFAULT_STRIPE_VERSION`] unless set); `None` sends none, so the
    /// account's default version applies.
    #[serde(default = "default_version")]
    pub stripe_version: Option<String>,
    /// Whole-request timeout.
    #[serde(default = "default_timeout", with = "switchboard_core::serde_util::duration_secs")]
    pub timeout: Duration,
    /// How calls are retried (every POST carries an `Idempotency-Key`, so repeats are safe; Stripe's
    /// `Stripe-Should-Retry: false` is obeyed).
    #[serde(skip, default = "RetryPolicy::default")]
    pub retry: RetryPolicy,
}

impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &self.secret_key)
            .field("endpoint", &redact_url(&self.endpoint))
            .field("webhook_secrets", &self.webhook_secrets)
            .field("webhook_tolerance", &self.webhook_tolerance)
            .field("stripe_version", &self.stripe_version)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

fn default_endpoint() -> String {
    PUBLIC_API.to_owned()
}

fn default_version() -> Option<String> {
    Some(DEFAULT_STRIPE_VERSION.to_owned())
}

fn default_tolerance() -> Duration {
    DEFAULT_TOLERANCE
}

fn default_timeout() -> Duration {
    Duration::from_secs(80)
}

impl StripeConfig {
    /// A builder: set the secret key, and whatever else differs from the defaults (the public API, no
    /// webhook secret — webhooks are then refused —, a 300 s tolerance, [`DEFAULT_STRIPE_VERSION`],
    /// 80 s, three attempts).
    pub fn builder() -> StripeConfigBuilder {
        StripeConfigBuilder {
            config: StripeConfig {
                secret_key: SecretString::from(String::new()),
                endpoint: default_endpoint(),
                webhook_secrets: Vec::new(),
                webhook_tolerance: DEFAULT_TOLERANCE,
                stripe_version: default_version(),
                timeout: default_timeout(),
                retry: RetryPolicy::default(),
            },
        }
    }

    /// Reads a `stripe://SK@host?options` DSN (see the [module docs](self)).
    pub fn from_dsn(dsn: &Dsn) -> Result<StripeConfig> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "a Stripe DSN starts with '{SCHEME}://', not '{}://'",
                dsn.scheme()
            )));
        }
        let key = match (dsn.user(), dsn.password()) {
            (Some(u), _) => u.to_owned(),
            (None, Some(p)) if !p.expose_secret().is_empty() => p.expose_secret().to_owned(),
            _ => return Err(Error::config("stripe DSN needs the secret key before the '@'")),
        };
        let mut b = StripeConfig::builder()
            .secret_key(key)
            .endpoint(dsn.endpoint_or(PUBLIC_API)?);
        for (k, v) in dsn.options() {
            if k == "webhook_secret" {
                for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    b = b.webhook_secret(s);
                }
            }
        }
        if let Some(secs) = dsn.option_parse::<u64>("webhook_tolerance")? {
            b = b.webhook_tolerance(Duration::from_secs(secs));
        }
        match dsn.option("stripe_version").map(str::trim) {
            None | Some("") => {}
            Some(v) if v.eq_ignore_ascii_case(ACCOUNT_VERSION) => b = b.account_default_version(),
            Some(v) => b = b.stripe_version(v),
        }
        if let Some(secs) = dsn.option_parse::<u64>("timeout")? {
            b = b.timeout(Duration::from_secs(secs.max(1)));
        }
        if let Some(n) = dsn.option_parse::<usize>("retries")? {
            let retry = b.config.retry.clone().with_max_attempts(n);
            b = b.retry(retry);
        }
        b.build()
    }

    /// Checks the configuration (the builder and [`StripeConfig::from_dsn`] do; a configuration read
    /// with serde is checked when a client is made from it).
    pub fn validate(&self) -> Result<()> {
        let key = self.secret_key.expose_secret();
        if key.is_empty() {
            return Err(Error::config("the Stripe secret key is empty"));
        }
        if key.starts_with("pk_") {
            return Err(Error::config(
                "that is a publishable key (pk_…); the API needs the secret key (sk_…) or a restricted key (rk_…)",
            ));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::config("the Stripe secret key has characters a key cannot have"));
        }
        if self.webhook_secrets.iter().any(|s| s.expose_secret().is_empty()) {
            return Err(Error::config("a Stripe webhook secret is empty"));
        }
        if let Some(v) = &self.stripe_version
            && !is_version(v)
        {
            return Err(Error::config(format!(
                "'{}' is not a Stripe API version (YYYY-MM-DD or YYYY-MM-DD.release, such as {DEFAULT_STRIPE_VERSION})",
                v.chars().take(40).collect::<String>().escape_debug()
            )));
        }
        url::Url::parse(&self.endpoint).map_err(|_| Error::config("the Stripe endpoint is not a valid URL"))?;
        Ok(())
    }

    pub(crate) fn http_options(&self) -> HttpOptions {
        HttpOptions::default().timeout(self.timeout)
    }
}

/// Builds a [`StripeConfig`]; [`StripeConfigBuilder::build`] checks it.
#[derive(Clone)]
pub struct StripeConfigBuilder {
    config: StripeConfig,
}

impl fmt::Debug for StripeConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StripeConfigBuilder").field(&self.config).finish()
    }
}

impl StripeConfigBuilder {
    /// Sets the secret API key (`sk_…`, or a restricted `rk_…`).
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.config.secret_key = SecretString::from(secret_key.into());
        self
    }

    /// Sets the API base URL (a simulator, a proxy).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.config.endpoint = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Adds a webhook signing secret (call twice while rotating).
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.webhook_secrets.push(SecretString::from(secret.into()));
        self
    }

    /// Sets the signature tolerance.
    pub fn webhook_tolerance(mut self, tolerance: Duration) -> Self {
        self.config.webhook_tolerance = tolerance;
        self
    }

    /// Sets the `Stripe-Version` header.
    pub fn stripe_version(mut self, version: impl Into<String>) -> Self {
        self.config.stripe_version = Some(version.into());
        self
    }

    /// Sends no `Stripe-Version`: Stripe answers in the account's default version (shapes then depend
    /// on the account; see [`DEFAULT_STRIPE_VERSION`]).
    pub fn account_default_version(mut self) -> Self {
        self.config.stripe_version = None;
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

    /// The configuration, checked: a secret (not publishable) key, non-empty webhook secrets, a
    /// well-formed API version and an endpoint that is a URL.
    pub fn build(self) -> Result<StripeConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

/// Whether `v` has the form of a Stripe API version: `2022-11-15`, or `2026-08-26.dahlia` since the
/// named releases began (2024-09-30.acacia).
pub(crate) fn is_version(v: &str) -> bool {
    let (date, release) = match v.split_once('.') {
        Some((d, r)) => (d, Some(r)),
        None => (v, None),
    };
    let b = date.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok()
        && release.is_none_or(|r| !r.is_empty() && r.bytes().all(|c| c.is_ascii_lowercase()))
}

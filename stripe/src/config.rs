//! Stripe configuration, from code or from a DSN.
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

use std::time::Duration;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use super::SCHEME;

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

/// How to reach one Stripe account. `Debug` never shows a key or secret.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Config {
    /// The secret API key.
    pub secret_key: SecretString,
    /// The API base URL, without `/v1`.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// The webhook endpoint's signing secrets (`whsec_…`); several during rotation.
    #[serde(default)]
    pub webhook_secrets: Vec<SecretString>,
    /// How old a signature's timestamp may be.
    #[serde(default = "default_tolerance", with = "crate::serde_secs")]
    pub webhook_tolerance: Duration,
    /// The `Stripe-Version` header ([`DEFAULT_STRIPE_VERSION`] unless set); `None` sends none, so the
    /// account's default version applies.
    #[serde(default = "default_version")]
    pub stripe_version: Option<String>,
    /// Whole-request timeout.
    #[serde(default = "default_timeout", with = "crate::serde_secs")]
    pub timeout: Duration,
    /// How calls are retried (every POST carries an `Idempotency-Key`, so repeats are safe; Stripe's
    /// `Stripe-Should-Retry: false` is obeyed).
    #[serde(skip, default = "RetryPolicy::default")]
    pub retry: RetryPolicy,
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

impl Config {
    /// A configuration for the public API with no webhook secret (webhooks are then refused).
    pub fn new(secret_key: impl Into<String>) -> Config {
        Config {
            secret_key: SecretString::from(secret_key.into()),
            endpoint: default_endpoint(),
            webhook_secrets: Vec::new(),
            webhook_tolerance: DEFAULT_TOLERANCE,
            stripe_version: default_version(),
            timeout: default_timeout(),
            retry: RetryPolicy::default(),
        }
    }

    /// Reads a `stripe://SK@host?options` DSN (see the [module docs](self)).
    pub fn from_dsn(dsn: &Dsn) -> Result<Config> {
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
        let mut cfg = Config::new(key);
        cfg.endpoint = dsn.endpoint_or(PUBLIC_API)?;
        for (k, v) in dsn.options() {
            if k == "webhook_secret" {
                for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    cfg.webhook_secrets.push(SecretString::from(s.to_owned()));
                }
            }
        }
        if let Some(secs) = dsn.option_parse::<u64>("webhook_tolerance")? {
            cfg.webhook_tolerance = Duration::from_secs(secs);
        }
        match dsn.option("stripe_version").map(str::trim) {
            None | Some("") => {}
            Some(v) if v.eq_ignore_ascii_case(ACCOUNT_VERSION) => cfg.stripe_version = None,
            Some(v) => cfg.stripe_version = Some(v.to_owned()),
        }
        if let Some(secs) = dsn.option_parse::<u64>("timeout")? {
            cfg.timeout = Duration::from_secs(secs.max(1));
        }
        if let Some(n) = dsn.option_parse::<usize>("retries")? {
            cfg.retry = cfg.retry.with_max_attempts(n);
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Sets the API base URL (a simulator, a proxy).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Adds a webhook signing secret (call twice while rotating).
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secrets.push(SecretString::from(secret.into()));
        self
    }

    /// Sets the signature tolerance.
    pub fn webhook_tolerance(mut self, tolerance: Duration) -> Self {
        self.webhook_tolerance = tolerance;
        self
    }

    /// Sets the `Stripe-Version` header.
    pub fn stripe_version(mut self, version: impl Into<String>) -> Self {
        self.stripe_version = Some(version.into());
        self
    }

    /// Sends no `Stripe-Version`: Stripe answers in the account's default version (shapes then depend
    /// on the account; see [`DEFAULT_STRIPE_VERSION`]).
    pub fn account_default_version(mut self) -> Self {
        self.stripe_version = None;
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

    /// Checks the configuration.
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

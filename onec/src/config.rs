//! How a 1C client is configured: where the infobase is published, which infobase user it acts as,
//! and how it pages, times out and retries.
//!
//! From a DSN ([`OneCConfig::from_dsn`]):
//!
//! ```text
//! onec://USER:PASSWORD@HOST[:PORT]/PUBLICATION[?tls=false][&timeout=SECS][&page_size=N]
//!        [&data_load_mode=true][&accept_invalid_certs=true]
//! ```
//!
//! * `PUBLICATION` is the path the base is published under on Apache/IIS (`/trade`, `/a/ea/12345` on
//!   1cfresh); the OData root is `PUBLICATION/odata/standard.odata`, HTTP services are under
//!   `PUBLICATION/hs/`.
//! * 1C has no public API host, so the host `default` is refused: name the web server.
//! * HTTPS is used unless the host is a loopback address or `tls=false` is given. Basic auth sends the
//!   password with every request, so plain HTTP to another machine is logged as a warning.
//! * User and password are percent-decoded (`%D0%90…` for a Cyrillic user, `%40` for `@`); a 1C user may
//!   have an empty password (`onec://Администратор@host/base` or `…:@host…`).
//! * `data_load_mode=true` sends `1C_OData_DataLoadMode: true` (fewer business checks on write; see
//!   [`OneCConfig::data_load_mode`]).

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::{Dsn, Error, Result, RetryPolicy, SecretString};

/// The path of the standard OData interface under a publication.
pub const ODATA_PATH: &str = "/odata/standard.odata";

/// The path of HTTP services under a publication.
pub const HS_PATH: &str = "/hs";

/// Entities fetched per request when a set is streamed. 1C has no server-side page limit, and a large
/// unpaged `$filter`/`$expand` loads a production base, so streams always page.
pub const DEFAULT_PAGE_SIZE: u64 = 200;

/// A 1C client's configuration. Build it with [`OneCConfig::builder`] or [`OneCConfig::from_dsn`].
///
/// `Debug` shows the user name (it is not a secret, and it tells which 1C rights apply) but never the
/// password.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct OneCConfig {
    /// The publication's base URL, `https://host[:port]/PUBLICATION`, without a trailing `/`.
    pub base_url: String,
    /// The infobase user (HTTP Basic). Its 1C roles decide what the client may read, write and post.
    pub user: String,
    /// The infobase user's password (may be empty).
    pub password: SecretString,
    /// Entities per request when streaming.
    #[serde(default = "default_page_size")]
    pub page_size: u64,
    /// Send `1C_OData_DataLoadMode: true`: 1C writes in data-load mode (`ОбменДанными.Загрузка`), which
    /// skips most business checks and event handlers. Faster for bulk loads, and exactly as dangerous
    /// as it sounds; off by default.
    #[serde(default)]
    pub data_load_mode: bool,
    /// HTTP behaviour (timeouts, body cap, TLS).
    #[serde(skip)]
    pub http: HttpOptions,
    /// Retry policy. Reads, updates and posting are retried on temporary failures; creates only when
    /// nothing was sent (a create whose answer was lost is reconciled by the sync, never repeated blind).
    #[serde(skip)]
    pub retry: RetryPolicy,
}

fn default_page_size() -> u64 {
    DEFAULT_PAGE_SIZE
}

impl fmt::Debug for OneCConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneCConfig")
            .field("base_url", &switchboard_core::secret::redact_url(&self.base_url))
            .field("user", &self.user)
            .field("password", &"***")
            .field("page_size", &self.page_size)
            .field("data_load_mode", &self.data_load_mode)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish()
    }
}

impl OneCConfig {
    /// A builder for the publication at `base_url` (`https://erp.example.com/trade`) as `user`.
    pub fn builder(
        base_url: impl Into<String>,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> OneCConfigBuilder {
        OneCConfigBuilder {
            config: OneCConfig {
                base_url: base_url.into(),
                user: user.into(),
                password: SecretString::from(password.into()),
                page_size: DEFAULT_PAGE_SIZE,
                data_load_mode: false,
                http: HttpOptions::default(),
                retry: RetryPolicy::default(),
            },
            allow_plain_http: false,
        }
    }

    /// Reads an `onec://` DSN (see the [module docs](self)). Errors never show the password.
    pub fn from_dsn(dsn: &Dsn) -> Result<OneCConfig> {
        if dsn.scheme() != crate::SCHEME {
            return Err(Error::config(format!(
                "a 1C DSN starts with onec://, not {}://",
                dsn.scheme()
            )));
        }
        if dsn.is_default_host() {
            return Err(Error::config(
                "1C has no public API host: put the web server that publishes the infobase in the DSN \
                 (onec://USER:PASS@erp.example.com/PUBLICATION)",
            ));
        }
        let user = dsn.require_user("the 1C infobase user")?;
        let password = dsn
            .password()
            .map(|p| switchboard_core::ExposeSecret::expose_secret(p).to_owned())
            .unwrap_or_default();
        // `endpoint_or` picks http for loopback hosts and `tls=false`, https otherwise; the public URL is
        // never used because `default` was refused above.
        let base_url = dsn.endpoint_or("")?;
        let mut b = OneCConfig::builder(base_url, user, password);
        b.allow_plain_http = true; // chosen explicitly (`tls=false`) or loopback
        if let Some(secs) = dsn.option_parse::<u64>("timeout")? {
            b = b.timeout(Duration::from_secs(secs.max(1)));
        }
        if let Some(n) = dsn.option_parse::<u64>("page_size")? {
            b = b.page_size(n);
        }
        b = b.data_load_mode(dsn.option_bool("data_load_mode", false)?);
        if dsn.option_bool("accept_invalid_certs", false)? {
            b.config.http = b.config.http.danger_accept_invalid_certs(true);
        }
        b.build()
    }

    /// The OData root, `…/PUBLICATION/odata/standard.odata`.
    pub fn odata_root(&self) -> String {
        format!("{}{ODATA_PATH}", self.base_url)
    }

    /// The root of HTTP services, `…/PUBLICATION/hs`.
    pub fn hs_root(&self) -> String {
        format!("{}{HS_PATH}", self.base_url)
    }
}

/// Builds a [`OneCConfig`].
#[derive(Debug)]
pub struct OneCConfigBuilder {
    config: OneCConfig,
    allow_plain_http: bool,
}

impl OneCConfigBuilder {
    /// Entities per request when streaming (at least 1).
    pub fn page_size(mut self, n: u64) -> Self {
        self.config.page_size = n.max(1);
        self
    }

    /// Sends `1C_OData_DataLoadMode: true` (see [`OneCConfig::data_load_mode`]).
    pub fn data_load_mode(mut self, on: bool) -> Self {
        self.config.data_load_mode = on;
        self
    }

    /// The whole-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.http = self.config.http.timeout(timeout);
        self
    }

    /// HTTP options.
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.config.http = http;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Allows `http://` to a host that is not loopback. Basic auth then sends the password in clear
    /// text over the network; use it only inside a trusted LAN.
    pub fn allow_plain_http(mut self, allow: bool) -> Self {
        self.allow_plain_http = allow;
        self
    }

    /// Checks the URL and builds the config.
    pub fn build(mut self) -> Result<OneCConfig> {
        let base = self.config.base_url.trim().trim_end_matches('/').to_owned();
        let url = url::Url::parse(&base)
            .map_err(|_| Error::config("the 1C base URL must look like https://host/PUBLICATION"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::config(
                "put the 1C user and password in the config, not in the base URL",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::config("the 1C base URL must not have a query or fragment"));
        }
        match url.scheme() {
            "https" => {}
            "http" => {
                let loopback = match url.host() {
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                    None => false,
                };
                if !loopback {
                    if !self.allow_plain_http {
                        return Err(Error::config(
                            "plain http to a 1C server that is not on loopback sends the password in clear \
                             text; use https, or allow it explicitly (DSN option tls=false)",
                        ));
                    }
                    tracing::warn!(
                        host = url.host_str().unwrap_or(""),
                        "1C over plain http: Basic credentials cross the network unencrypted"
                    );
                }
            }
            _ => return Err(Error::config("the 1C base URL must be http(s)")),
        }
        if self.config.user.is_empty() {
            return Err(Error::config("the 1C infobase user is empty"));
        }
        self.config.base_url = base;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ExposeSecret;

    #[test]
    fn dsn_forms() {
        let d = Dsn::parse("onec://odata.user:p%40ss@erp.example.com/trade?page_size=50&timeout=5").unwrap();
        let c = OneCConfig::from_dsn(&d).unwrap();
        assert_eq!(c.base_url, "https://erp.example.com/trade");
        assert_eq!(c.odata_root(), "https://erp.example.com/trade/odata/standard.odata");
        assert_eq!(c.hs_root(), "https://erp.example.com/trade/hs");
        assert_eq!(c.user, "odata.user");
        assert_eq!(c.password.expose_secret(), "p@ss");
        assert_eq!(c.page_size, 50);
        assert_eq!(c.http.timeout, Duration::from_secs(5));

        let d = Dsn::parse("onec://%D0%90%D0%B4%D0%BC%D0%B8%D0%BD@127.0.0.1:8080/base").unwrap();
        let c = OneCConfig::from_dsn(&d).unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8080/base");
        assert_eq!(c.user, "Админ");
        assert_eq!(c.password.expose_secret(), "");

        let d = Dsn::parse("onec://u:p@10.1.1.5/base?tls=false&data_load_mode=true").unwrap();
        let c = OneCConfig::from_dsn(&d).unwrap();
        assert_eq!(c.base_url, "http://10.1.1.5/base");
        assert!(c.data_load_mode);
    }

    #[test]
    fn dsn_errors_never_echo_the_password() {
        for bad in [
            "onec://u:topsecret@default/base",
            "onec://:topsecret@host/base",
            "mitto://u:topsecret@host/base",
            "onec://u:topsecret@host/base?page_size=x",
        ] {
            let e = OneCConfig::from_dsn(&Dsn::parse(bad).unwrap()).unwrap_err();
            assert!(!e.to_string().contains("topsecret"), "{e}");
        }
    }

    #[test]
    fn plain_http_needs_consent_and_debug_hides_password() {
        assert!(OneCConfig::builder("http://10.0.0.5/base", "u", "p").build().is_err());
        assert!(
            OneCConfig::builder("http://10.0.0.5/base", "u", "p")
                .allow_plain_http(true)
                .build()
                .is_ok()
        );
        assert!(
            OneCConfig::builder("http://localhost:1/base/", "u", "p")
                .build()
                .is_ok()
        );
        assert!(OneCConfig::builder("https://u:p@host/base", "u", "p").build().is_err());
        assert!(OneCConfig::builder("ftp://host/base", "u", "p").build().is_err());
        let c = OneCConfig::builder("https://host/base/", "u", "hunter2")
            .build()
            .unwrap();
        assert_eq!(c.base_url, "https://host/base");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}

//! [`DinstarConfig`]: where the gateway is, how to log in, and the choices this client makes for you.
//!
//! ```
//! use switchboard_core::Dsn;
//! use switchboard_dinstar::{DinstarConfig, NumberFormat};
//!
//! let dsn = Dsn::parse("dinstar://admin:s3cret@10.0.0.5:8081?sn=DG-0001&port=0,1&webhook_secret=w")?;
//! let config = DinstarConfig::from_dsn(&dsn)?;
//! assert_eq!(config.base_url, "http://10.0.0.5:8081"); // gateways serve plain HTTP on the LAN
//! assert_eq!(config.ports, vec![0, 1]);
//! assert_eq!(config.number_format, NumberFormat::International);
//! assert!(!format!("{config:?}").contains("s3cret"));
//! # Ok::<(), switchboard_core::Error>(())
//! ```

use std::time::Duration;

use chrono::FixedOffset;
use serde::Deserialize;
use switchboard_core::http::HttpOptions;
use switchboard_core::{Dsn, Error, PhoneNumber, Result, RetryPolicy, SecretString};

use crate::SCHEME;
use crate::model::{MAX_PORT, MAX_RECIPIENTS_PER_SEND, Port, SmsEncoding};

/// How recipient numbers are written for the gateway, which wants digits.
///
/// The choice lives here only. GSM networks take the international form without `+` (the SIM sends
/// it with the "international" type of number), so that is the default; a few operators only route
/// national numbers from their SIMs, which is what [`NumberFormat::National`] is for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum NumberFormat {
    /// `355694123456`: E.164 without the `+` ([`PhoneNumber::digits`]).
    #[default]
    International,
    /// `+355694123456`: E.164 as is.
    E164,
    /// For numbers of `country_code`: `trunk_prefix` followed by the national significant number
    /// (`0694123456`); other numbers are written in the international form.
    National {
        /// The gateway's home country calling code (`355`).
        country_code: u16,
        /// The trunk prefix dialled before national numbers (`0`, `8` in RU/KZ, empty in some plans).
        trunk_prefix: String,
    },
}

impl NumberFormat {
    /// The number as the gateway gets it.
    pub fn format(&self, number: &PhoneNumber) -> String {
        match self {
            NumberFormat::International => number.digits().to_owned(),
            NumberFormat::E164 => number.as_e164().to_owned(),
            NumberFormat::National {
                country_code,
                trunk_prefix,
            } if number.country_code() == *country_code => format!("{trunk_prefix}{}", number.national_number()),
            NumberFormat::National { .. } => number.digits().to_owned(),
        }
    }

    /// Reads a number the gateway reports back (a result's `number`) in this format.
    pub fn parse(&self, wire: &str) -> Option<PhoneNumber> {
        let digits: String = wire.chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return None;
        }
        let national = match self {
            NumberFormat::National {
                country_code,
                trunk_prefix,
            } if !wire.starts_with('+') && (trunk_prefix.is_empty() || digits.starts_with(trunk_prefix.as_str())) => {
                let nsn = &digits[trunk_prefix.len()..];
                PhoneNumber::parse(&format!("+{country_code}{nsn}"), None).ok()
            }
            _ => None,
        };
        national.or_else(|| PhoneNumber::parse(&format!("+{digits}"), None).ok())
    }
}

/// Everything the client needs. Build it with [`DinstarConfig::builder`], from a DSN
/// ([`DinstarConfig::from_dsn`]), or deserialize it. `Debug` never shows the password or the webhook secret.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct DinstarConfig {
    /// `http://10.0.0.5:8081` — scheme, host and port of the gateway's web server, no credentials.
    pub base_url: String,
    /// The web-UI user.
    pub username: String,
    /// The web-UI password.
    pub password: SecretString,
    /// The gateway's serial number (`xxxx-xxxx-xxxx-xxxx`). It keys the incoming-SMS cursor and
    /// de-duplication and is checked against pushes; learned from the first answer when not set.
    #[serde(default)]
    pub sn: Option<String>,
    /// Ports to send from; empty lets the gateway choose.
    #[serde(default)]
    pub ports: Vec<Port>,
    /// How numbers are written for the gateway.
    #[serde(default)]
    pub number_format: NumberFormat,
    /// Force an encoding; `None` chooses by the text ("gsm-7bit" when it fits GSM-7, else "unicode").
    #[serde(default)]
    pub encoding: Option<SmsEncoding>,
    /// Ask the network for delivery reports.
    #[serde(default = "defaults::yes")]
    pub request_status_report: bool,
    /// Whole-request timeout.
    #[serde(default = "defaults::timeout", with = "secs")]
    pub timeout: Duration,
    /// Connect timeout.
    #[serde(default = "defaults::connect_timeout", with = "secs")]
    pub connect_timeout: Duration,
    /// Accept the gateway's self-signed TLS certificate (only with an `https` base URL).
    #[serde(default)]
    pub danger_accept_invalid_certs: bool,
    /// The secret the push URL must carry (`?token=SECRET`); pushes are refused without one.
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
    /// The push URL's query parameter holding the secret.
    #[serde(default = "defaults::token_param")]
    pub webhook_token_param: String,
    /// Recipients per `send_sms` request (1–128).
    #[serde(default = "defaults::max_batch")]
    pub max_batch: usize,
    /// On a send that may have gone out (timeout, dropped connection), look the ids up and re-send
    /// only what the gateway does not know, instead of failing with `MaybeSent`.
    #[serde(default = "defaults::yes")]
    pub reconcile: bool,
    /// How long reconciliation keeps looking for an id the gateway does not know yet before it
    /// concludes that the SMS did not land. A gateway records a task when its queue gets to it, which
    /// under load can be seconds after it answered (or failed to answer) the request; concluding
    /// "not sent" earlier would send the SMS twice. Zero: one look. Default 10 s.
    #[serde(default = "defaults::reconcile_window", with = "secs")]
    pub reconcile_window: Duration,
    /// After the gateway refused the credentials, how long the client refuses to try again (a
    /// gateway bans an address after repeated failed logins). `reset_auth` ends it early.
    #[serde(default = "defaults::auth_cooldown", with = "secs")]
    pub auth_cooldown: Duration,
    /// The gateway clock's offset from UTC in minutes (its times carry no zone).
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// Attempts for requests that may be repeated (reads, and sends that certainly did not leave).
    #[serde(default = "defaults::retry_attempts")]
    pub retry_attempts: usize,
    /// Look up the `user_id` of pushed delivery reports (they carry none) with one query per push.
    #[serde(default = "defaults::yes")]
    pub resolve_push_ids: bool,
}

mod defaults {
    use std::time::Duration;
    pub fn yes() -> bool {
        true
    }
    pub fn timeout() -> Duration {
        Duration::from_secs(30)
    }
    pub fn connect_timeout() -> Duration {
        Duration::from_secs(10)
    }
    pub fn token_param() -> String {
        "token".to_owned()
    }
    pub fn max_batch() -> usize {
        crate::model::MAX_RECIPIENTS_PER_SEND
    }
    pub fn reconcile_window() -> Duration {
        Duration::from_secs(10)
    }
    pub fn auth_cooldown() -> Duration {
        Duration::from_secs(300)
    }
    pub fn retry_attempts() -> usize {
        3
    }
}

/// Durations as seconds (integer or fractional) in serialized configs.
mod secs {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = f64::deserialize(d)?;
        if !s.is_finite() || s < 0.0 {
            return Err(serde::de::Error::custom(
                "a duration must be a non-negative number of seconds",
            ));
        }
        Ok(Duration::from_secs_f64(s.min(1e9)))
    }
}

/// The DSN options this crate understands; any other is a configuration error (a typo such as
/// `tsl=true` must not silently send over plain HTTP).
const DSN_OPTIONS: &[&str] = &[
    "sn",
    "port",
    "tls",
    "insecure",
    "webhook_secret",
    "webhook_param",
    "numbers",
    "country_code",
    "trunk",
    "encoding",
    "status_report",
    "timeout",
    "utc_offset",
    "batch",
    "reconcile",
    "reconcile_window",
];

impl DinstarConfig {
    /// A builder for the gateway at `base_url` (`http://10.0.0.5:8081`) with these web credentials,
    /// starting from the defaults: international digits, encoding chosen per text, delivery reports on,
    /// 30 s timeout, batches of 128, reconciliation on within 10 s, 5 min auth cool-down.
    pub fn builder(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> DinstarConfigBuilder {
        DinstarConfigBuilder {
            config: Self::defaults(base_url, username, password),
        }
    }

    /// A builder starting from this configuration (one read from a DSN, say), to change some of it.
    pub fn into_builder(self) -> DinstarConfigBuilder {
        DinstarConfigBuilder { config: self }
    }

    fn defaults(base_url: impl Into<String>, username: impl Into<String>, password: impl Into<String>) -> Self {
        DinstarConfig {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            username: username.into(),
            password: SecretString::from(password.into()),
            sn: None,
            ports: Vec::new(),
            number_format: NumberFormat::default(),
            encoding: None,
            request_status_report: true,
            timeout: defaults::timeout(),
            connect_timeout: defaults::connect_timeout(),
            danger_accept_invalid_certs: false,
            webhook_secret: None,
            webhook_token_param: defaults::token_param(),
            max_batch: MAX_RECIPIENTS_PER_SEND,
            reconcile: true,
            reconcile_window: defaults::reconcile_window(),
            auth_cooldown: defaults::auth_cooldown(),
            utc_offset_minutes: 0,
            retry_attempts: defaults::retry_attempts(),
            resolve_push_ids: true,
        }
    }

    /// Reads `dinstar://USER:PASS@HOST[:PORT]?sn=SN[&port=0,1][&tls=true][&insecure=true]
    /// [&webhook_secret=S][&webhook_param=token][&numbers=international|e164|national&country_code=355&trunk=0]
    /// [&encoding=auto|unicode|gsm-7bit][&status_report=false][&timeout=SECS][&utc_offset=+03:00]
    /// [&batch=N][&reconcile=false][&reconcile_window=10s]`.
    ///
    /// Plain HTTP unless `tls=true`: gateways serve HTTP on the LAN. `insecure=true` accepts a
    /// self-signed certificate. There is no public endpoint, so the host `default` is refused.
    pub fn from_dsn(dsn: &Dsn) -> Result<Self> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "a Dinstar DSN starts with '{SCHEME}://', not '{}://'",
                dsn.scheme()
            )));
        }
        for (k, _) in dsn.options() {
            if !DSN_OPTIONS.contains(&k) {
                return Err(Error::config(format!(
                    "dinstar DSN option '{}' is unknown (known: {})",
                    k.escape_debug(),
                    DSN_OPTIONS.join(", ")
                )));
            }
        }
        if dsn.is_default_host() {
            return Err(Error::config(
                "a Dinstar gateway has no public endpoint: put its LAN address in the DSN instead of 'default'",
            ));
        }
        let user = dsn.require_user("the gateway's web user")?;
        let password = dsn.require_password("the gateway's web password")?;
        let tls = dsn.option_bool("tls", false)?;
        let mut c = DinstarConfig {
            password: password.clone(),
            ..DinstarConfig::defaults(dsn.base_url(tls), user, "")
        };
        c.danger_accept_invalid_certs = dsn.option_bool("insecure", false)?;
        c.sn = dsn.option("sn").filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(p) = dsn.option("port").filter(|p| !p.is_empty()) {
            c.ports = parse_ports(p)?;
        }
        c.webhook_secret = dsn
            .option("webhook_secret")
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_owned()));
        if let Some(p) = dsn.option("webhook_param").filter(|p| !p.is_empty()) {
            c.webhook_token_param = p.to_owned();
        }
        c.number_format = match dsn.option("numbers").unwrap_or("international") {
            "international" | "digits" => NumberFormat::International,
            "e164" => NumberFormat::E164,
            "national" => NumberFormat::National {
                country_code: dsn
                    .option_parse::<u16>("country_code")?
                    .ok_or_else(|| Error::config("dinstar DSN 'numbers=national' needs 'country_code=…'"))?,
                trunk_prefix: dsn.option("trunk").unwrap_or("0").to_owned(),
            },
            other => {
                return Err(Error::config(format!(
                    "dinstar DSN option 'numbers' must be international, e164 or national, not '{}'",
                    other.escape_debug()
                )));
            }
        };
        c.encoding = match dsn.option("encoding").unwrap_or("auto") {
            "auto" | "" => None,
            e => Some(
                e.parse()
                    .map_err(|m: String| Error::config(format!("dinstar DSN: {m}")))?,
            ),
        };
        c.request_status_report = dsn.option_bool("status_report", true)?;
        if let Some(t) = dsn.option_parse::<f64>("timeout")? {
            if !t.is_finite() || t <= 0.0 {
                return Err(Error::config(
                    "dinstar DSN option 'timeout' must be a positive number of seconds",
                ));
            }
            c.timeout = Duration::from_secs_f64(t.min(3600.0));
        }
        if let Some(o) = dsn.option("utc_offset") {
            c.utc_offset_minutes = parse_utc_offset(o)?;
        }
        if let Some(b) = dsn.option_parse::<usize>("batch")? {
            c.max_batch = b;
        }
        c.reconcile = dsn.option_bool("reconcile", true)?;
        if let Some(w) = dsn.option("reconcile_window") {
            c.reconcile_window = parse_duration(w).ok_or_else(|| {
                Error::config("dinstar DSN option 'reconcile_window' must be a duration such as 10s, 1500ms or 2m")
            })?;
        }
        c.validate()?;
        Ok(c)
    }

    /// Checks the values: a base URL without credentials, ports 0–31, a batch size of 1–128.
    pub fn validate(&self) -> Result<()> {
        let url = url::Url::parse(&self.base_url)
            .map_err(|_| Error::config("the Dinstar base URL is not a URL (http://HOST:PORT)"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Error::config("the Dinstar base URL must be http(s)://HOST[:PORT]"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::config(
                "put the gateway credentials in username/password, not in the base URL",
            ));
        }
        if self.username.is_empty() {
            return Err(Error::config("the Dinstar user name is empty"));
        }
        if let Some(p) = self.ports.iter().find(|p| **p > MAX_PORT) {
            return Err(Error::config(format!("port {p} is out of range 0–{MAX_PORT}")));
        }
        if self.max_batch == 0 || self.max_batch > MAX_RECIPIENTS_PER_SEND {
            return Err(Error::config(format!(
                "the batch size must be 1 to {MAX_RECIPIENTS_PER_SEND} recipients"
            )));
        }
        if self.utc_offset().is_none() {
            return Err(Error::config("the gateway's UTC offset must be within ±24 hours"));
        }
        Ok(())
    }

    /// The HTTP options this configuration stands for.
    pub fn http_options(&self) -> HttpOptions {
        HttpOptions::default()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .danger_accept_invalid_certs(self.danger_accept_invalid_certs)
    }

    /// The retry policy for repeatable requests.
    pub fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::default().with_max_attempts(self.retry_attempts)
    }

    /// The gateway clock's offset, `None` when out of range.
    pub fn utc_offset(&self) -> Option<FixedOffset> {
        FixedOffset::east_opt(self.utc_offset_minutes.checked_mul(60)?)
    }
}

/// Builds a [`DinstarConfig`]: [`DinstarConfig::builder`], the setters, then [`DinstarConfigBuilder::build`],
/// which checks the values.
#[derive(Debug, Clone)]
pub struct DinstarConfigBuilder {
    config: DinstarConfig,
}

impl DinstarConfigBuilder {
    /// Sets the gateway's serial number.
    pub fn sn(mut self, sn: impl Into<String>) -> Self {
        self.config.sn = Some(sn.into());
        self
    }

    /// Sets the ports to send from.
    pub fn ports(mut self, ports: impl IntoIterator<Item = Port>) -> Self {
        self.config.ports = ports.into_iter().collect();
        self
    }

    /// Sets how numbers are written.
    pub fn number_format(mut self, format: NumberFormat) -> Self {
        self.config.number_format = format;
        self
    }

    /// Forces an encoding (or `None` to choose by text).
    pub fn encoding(mut self, encoding: Option<SmsEncoding>) -> Self {
        self.config.encoding = encoding;
        self
    }

    /// Turns delivery reports on or off.
    pub fn request_status_report(mut self, on: bool) -> Self {
        self.config.request_status_report = on;
        self
    }

    /// Sets the whole-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Accepts a self-signed certificate (see [`HttpOptions::danger_accept_invalid_certs`]).
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.config.danger_accept_invalid_certs = accept;
        self
    }

    /// Sets the push secret.
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.webhook_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// Sets the recipients per request (1–128).
    pub fn max_batch(mut self, n: usize) -> Self {
        self.config.max_batch = n;
        self
    }

    /// Turns reconciliation of uncertain sends on or off.
    pub fn reconcile(mut self, on: bool) -> Self {
        self.config.reconcile = on;
        self
    }

    /// Sets how long reconciliation looks for an id before concluding it did not land.
    pub fn reconcile_window(mut self, window: Duration) -> Self {
        self.config.reconcile_window = window;
        self
    }

    /// Sets the cool-down after refused credentials.
    pub fn auth_cooldown(mut self, cooldown: Duration) -> Self {
        self.config.auth_cooldown = cooldown;
        self
    }

    /// Sets the gateway clock's UTC offset in minutes.
    pub fn utc_offset_minutes(mut self, minutes: i32) -> Self {
        self.config.utc_offset_minutes = minutes;
        self
    }

    /// Sets the attempts for repeatable requests (1 = never retry).
    pub fn retry_attempts(mut self, attempts: usize) -> Self {
        self.config.retry_attempts = attempts.max(1);
        self
    }

    /// Turns the `user_id` lookup of pushed delivery reports on or off.
    pub fn resolve_push_ids(mut self, on: bool) -> Self {
        self.config.resolve_push_ids = on;
        self
    }

    /// The configuration, checked ([`DinstarConfig::validate`]).
    pub fn build(self) -> Result<DinstarConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

/// `0,1,2` → ports, each 0–31.
pub(crate) fn parse_ports(list: &str) -> Result<Vec<Port>> {
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<Port>()
                .ok()
                .filter(|p| *p <= MAX_PORT)
                .ok_or_else(|| Error::config(format!("'{}' is not a port number 0–{MAX_PORT}", p.escape_debug())))
        })
        .collect()
}

/// `10s`, `1500ms`, `2m`, or plain seconds (`10`, `2.5`), at most an hour.
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = number
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    (secs <= 3600.0).then(|| Duration::from_secs_f64(secs))
}

/// `+03:00`, `-0530`, `Z`, or minutes (`180`).
fn parse_utc_offset(s: &str) -> Result<i32> {
    let bad = || Error::config("dinstar DSN option 'utc_offset' must look like +03:00, -05:30, Z or minutes");
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.is_empty() {
        return Ok(0);
    }
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return s.parse::<i32>().map_err(|_| bad()),
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if !(0..=23).contains(&h) || !(0..=59).contains(&m) {
        return Err(bad());
    }
    Ok(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ExposeSecret;

    fn dsn(s: &str) -> Result<DinstarConfig> {
        DinstarConfig::from_dsn(&Dsn::parse(s)?)
    }

    #[test]
    fn full_dsn() {
        let c = dsn("dinstar://admin:p%40ss@10.0.0.5:8081?sn=AB-1&port=0,1&tls=true&insecure=true&webhook_secret=w&numbers=national&country_code=355&trunk=0&encoding=unicode&status_report=false&timeout=5&utc_offset=%2B03:00&batch=64&reconcile=false").unwrap();
        assert_eq!(c.base_url, "https://10.0.0.5:8081");
        assert_eq!(c.password.expose_secret(), "p@ss");
        assert!(c.danger_accept_invalid_certs);
        assert_eq!(c.sn.as_deref(), Some("AB-1"));
        assert_eq!(c.ports, vec![0, 1]);
        assert_eq!(c.encoding, Some(SmsEncoding::Unicode));
        assert!(!c.request_status_report && !c.reconcile);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.utc_offset_minutes, 180);
        assert_eq!(c.max_batch, 64);
        let n = PhoneNumber::parse("+355694123456", None).unwrap();
        assert_eq!(c.number_format.format(&n), "0694123456");
        assert_eq!(c.number_format.parse("0694123456"), Some(n.clone()));
        let us = PhoneNumber::parse("+12015550123", None).unwrap();
        assert_eq!(c.number_format.format(&us), "12015550123");
    }

    #[test]
    fn defaults_and_plain_http() {
        let c = dsn("dinstar://admin:admin@192.168.1.20").unwrap();
        assert_eq!(c.base_url, "http://192.168.1.20");
        assert!(c.sn.is_none() && c.ports.is_empty() && c.webhook_secret.is_none());
        assert!(c.request_status_report && c.reconcile && !c.danger_accept_invalid_certs);
        let n = PhoneNumber::parse("+355694123456", None).unwrap();
        assert_eq!(c.number_format.format(&n), "355694123456");
        assert_eq!(NumberFormat::E164.format(&n), "+355694123456");
        assert_eq!(c.number_format.parse("355694123456"), Some(n));
    }

    #[test]
    fn bad_dsns_are_config_errors_without_secrets() {
        for bad in [
            "dinstar://admin:topsecret@default",
            "dinstar://admin:topsecret@h?tsl=true",
            "dinstar://admin:topsecret@h?port=32",
            "dinstar://admin:topsecret@h?port=x",
            "dinstar://admin@h",
            "dinstar://admin:topsecret@h?batch=129",
            "dinstar://admin:topsecret@h?numbers=national",
            "dinstar://admin:topsecret@h?encoding=ebcdic",
            "dinstar://admin:topsecret@h?utc_offset=%2B25:00",
            "mitto://admin:topsecret@h",
        ] {
            let e = dsn(bad).unwrap_err();
            assert_eq!(e.kind(), switchboard_core::ErrorKind::Config, "{bad}");
            assert!(!e.to_string().contains("topsecret"), "{e}");
        }
    }

    #[test]
    fn deserialize_with_defaults() {
        let c: DinstarConfig = serde_json::from_value(serde_json::json!({
            "base_url": "http://10.0.0.5", "username": "admin", "password": "pw", "timeout": 2.5,
            "number_format": {"kind": "national", "country_code": 7, "trunk_prefix": "8"}
        }))
        .unwrap();
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.max_batch, 128);
        assert!(c.request_status_report);
        c.validate().unwrap();
        assert!(!format!("{c:?}").contains("\"pw\""));
    }

    #[test]
    fn reconcile_windows() {
        assert_eq!(
            DinstarConfig::builder("http://h", "u", "p")
                .build()
                .unwrap()
                .reconcile_window,
            Duration::from_secs(10)
        );
        let c = dsn("dinstar://admin:pw@h?reconcile_window=3s").unwrap();
        assert_eq!(c.reconcile_window, Duration::from_secs(3));
        assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        for bad in ["x", "-1s", "3h", "2 weeks", "99999s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert!(dsn("dinstar://admin:pw@h?reconcile_window=soon").is_err());
    }

    #[test]
    fn utc_offsets() {
        assert_eq!(parse_utc_offset("-05:30").unwrap(), -330);
        assert_eq!(parse_utc_offset("+0100").unwrap(), 60);
        assert_eq!(parse_utc_offset("Z").unwrap(), 0);
        assert_eq!(parse_utc_offset("120").unwrap(), 120);
        assert!(parse_utc_offset("+3x").is_err());
    }
}

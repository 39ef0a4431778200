//! Configuration from environment variables, read once at start-up.
//!
//! Every integration is one variable holding a DSN (`CRM_SMS=smsru://API_ID@default?from=Acme`) or
//! `sim:SCHEME` (`CRM_SMS=sim:twilio`): that integration then runs on its simulator inside the service,
//! which is the guide's "test mode". `CRM_TEST_MODE=1` puts every integration that has no variable of its
//! own on its default simulator; without it, an integration with no variable is off and its endpoints
//! answer `503` naming the variable to set.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `CRM_LISTEN` | `127.0.0.1:8080` | address to serve on |
//! | `CRM_PUBLIC_URL` | `http://` + the bound address | how providers reach the webhooks |
//! | `CRM_DATABASE` | `sqlite:crm.db` | the SQLite file: the CRM's tables, the key store and the outbox |
//! | `CRM_TEST_MODE` | `0` | `1`: integrations without a variable run on simulators |
//! | `CRM_SMS`, `CRM_EMAIL`, `CRM_PAYMENTS`, `CRM_PUSH`, `CRM_TELEGRAM`, `CRM_ONEC` | off | a DSN or `sim:SCHEME` |
//!
//! Each feature module reads its own settings (GPS retention, export limits…) with [`Env`]; its module
//! docs list them.

use std::fmt;
use std::str::FromStr;

/// A configuration problem, naming the variable and what it should hold.
#[derive(Debug)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// A problem with variable `var`.
    pub fn new(var: &str, what: impl fmt::Display) -> Self {
        ConfigError(format!("{var}: {what}"))
    }
}

/// Where the variables come from: the process environment, or a fixed list (tests, the load test).
#[derive(Clone, Default)]
pub struct Env {
    fixed: Option<Vec<(String, String)>>,
}

/// Names only: values hold DSNs with credentials.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.fixed {
            None => f.write_str("Env(process)"),
            Some(vars) => f.debug_list().entries(vars.iter().map(|(k, _)| k)).finish(),
        }
    }
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Env { fixed: None }
    }

    /// Exactly these variables, nothing from the process (tests run side by side without racing on
    /// `std::env`).
    pub fn fixed<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Self {
        Env {
            fixed: Some(vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect()),
        }
    }

    /// The variable's value, if set and not blank. A value that is not UTF-8 is an error rather than
    /// silently "unset".
    pub fn get(&self, var: &str) -> Result<Option<String>, ConfigError> {
        let value = match &self.fixed {
            Some(vars) => vars.iter().rev().find(|(k, _)| k == var).map(|(_, v)| v.clone()),
            None => match std::env::var(var) {
                Ok(v) => Some(v),
                Err(std::env::VarError::NotPresent) => None,
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(ConfigError::new(var, "is not valid UTF-8"));
                }
            },
        };
        Ok(value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
    }

    /// The variable parsed as `T`, or `default` when unset.
    pub fn parse_or<T>(&self, var: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.get(var)? {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e| ConfigError::new(var, format_args!("cannot read {v:?}: {e}"))),
        }
    }

    /// A yes/no variable: `1`/`true`/`yes` or `0`/`false`/`no`.
    pub fn flag(&self, var: &str) -> Result<bool, ConfigError> {
        match self.get(var)?.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("0" | "false" | "no") => Ok(false),
            Some("1" | "true" | "yes") => Ok(true),
            Some(other) => Err(ConfigError::new(var, format_args!("expected 1 or 0, got {other:?}"))),
        }
    }
}

/// How one integration is reached.
#[derive(Clone, PartialEq, Eq)]
pub enum Integration {
    /// Not configured: its endpoints answer `503`.
    Off,
    /// A real provider, by DSN (it carries credentials, so `Debug` does not print it).
    Dsn(String),
    /// The simulator of the provider with this DSN scheme, started inside the service.
    Simulator(String),
}

impl fmt::Debug for Integration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Integration::Off => f.write_str("Off"),
            Integration::Dsn(dsn) => {
                let scheme = dsn.split_once("://").map_or("?", |(s, _)| s);
                write!(f, "Dsn({scheme}://…)")
            }
            Integration::Simulator(s) => write!(f, "Simulator({s})"),
        }
    }
}

impl Integration {
    fn read(env: &Env, var: &str, test_mode: bool, default_sim: &str) -> Result<Self, ConfigError> {
        Ok(match env.get(var)? {
            None if test_mode => Integration::Simulator(default_sim.to_owned()),
            None => Integration::Off,
            Some(v) if v == "off" => Integration::Off,
            Some(v) => match v.strip_prefix("sim:") {
                Some(scheme) if !scheme.is_empty() => Integration::Simulator(scheme.to_owned()),
                Some(_) => return Err(ConfigError::new(var, "`sim:` needs a scheme, e.g. sim:smsru")),
                None if v.contains("://") => Integration::Dsn(v),
                None => {
                    return Err(ConfigError::new(var, "expected a DSN (scheme://…), sim:SCHEME or off"));
                }
            },
        })
    }
}

/// The service's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// The base URL providers post webhooks to; `None` means the bound address.
    pub public_url: Option<String>,
    /// SQLite URL of the database.
    pub database: String,
    /// SMS: `smsru` or `twilio` (any SMS DSN works).
    pub sms: Integration,
    /// Email: an `smtp` DSN.
    pub email: Integration,
    /// Payments: `yookassa` or `stripe`.
    pub payments: Integration,
    /// Push to drivers' phones: `fcm`.
    pub push: Integration,
    /// The dispatchers' Telegram bot.
    pub telegram: Integration,
    /// 1C over OData.
    pub onec: Integration,
    /// Everything else, for the feature modules' own settings.
    pub env: Env,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from(Env::process())
    }

    /// Reads `env`.
    pub fn from(env: Env) -> Result<Self, ConfigError> {
        let test = env.flag("CRM_TEST_MODE")?;
        Ok(Config {
            listen: env.get("CRM_LISTEN")?.unwrap_or_else(|| "127.0.0.1:8080".into()),
            public_url: env.get("CRM_PUBLIC_URL")?.map(|u| u.trim_end_matches('/').to_owned()),
            database: env.get("CRM_DATABASE")?.unwrap_or_else(|| "sqlite:crm.db".into()),
            sms: Integration::read(&env, "CRM_SMS", test, "smsru")?,
            email: Integration::read(&env, "CRM_EMAIL", test, "smtp")?,
            payments: Integration::read(&env, "CRM_PAYMENTS", test, "yookassa")?,
            push: Integration::read(&env, "CRM_PUSH", test, "fcm")?,
            telegram: Integration::read(&env, "CRM_TELEGRAM", test, "telegram")?,
            onec: Integration::read(&env, "CRM_ONEC", test, "onec")?,
            env,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_mode_puts_unset_integrations_on_simulators_and_keeps_explicit_ones() {
        let c = Config::from(Env::fixed([
            ("CRM_TEST_MODE", "1"),
            ("CRM_SMS", "sim:twilio"),
            ("CRM_ONEC", "off"),
        ]))
        .unwrap();
        assert_eq!(c.sms, Integration::Simulator("twilio".into()));
        assert_eq!(c.email, Integration::Simulator("smtp".into()));
        assert_eq!(c.onec, Integration::Off);
    }

    #[test]
    fn a_dsn_is_not_printed_and_garbage_is_refused_with_the_variable_name() {
        let c = Config::from(Env::fixed([("CRM_SMS", "smsru://SECRET@default")])).unwrap();
        assert!(!format!("{c:?}").contains("SECRET"));
        assert_eq!(c.email, Integration::Off);
        let e = Config::from(Env::fixed([("CRM_PUSH", "firebase")])).unwrap_err();
        assert!(e.to_string().starts_with("CRM_PUSH:"), "{e}");
        let e = Config::from(Env::fixed([("CRM_TEST_MODE", "maybe")])).unwrap_err();
        assert!(e.to_string().contains("CRM_TEST_MODE"), "{e}");
    }
}

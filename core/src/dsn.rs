//! DSN strings: one line that configures one transport, Symfony-style.
//!
//! `scheme://USER:PASS@HOST:PORT/PATH?key=value`. The host `default` means "the provider's public API";
//! any other host (a simulator, a regional endpoint, a LAN gateway) is used as it is. The password is a
//! [`SecretString`] from the moment it is parsed, and no error or `Debug`/`Display` output shows it.
//! Every provider crate reads its `Config` from a [`Dsn`], so they all accept the same syntax.

use std::fmt;

use crate::error::{Error, Result};
use crate::secret::{ExposeSecret, SecretString};

/// A parsed DSN. See the [module docs](self).
#[derive(Clone)]
pub struct Dsn {
    scheme: String,
    user: Option<String>,
    password: Option<SecretString>,
    host: String,
    port: Option<u16>,
    path: String,
    query: Vec<(String, String)>,
}

impl Dsn {
    /// Parses `scheme://[user[:pass]@]host[:port][/path][?query]`. User and password are
    /// percent-decoded, so a password containing `@` or `:` is written `%40` / `%3A`.
    pub fn parse(input: &str) -> Result<Dsn> {
        let input = input.trim();
        let Some((scheme, rest)) = input.split_once("://") else {
            return Err(Error::config(
                "DSN must look like scheme://credentials@host?options (no '://' found)",
            ));
        };
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-')
        {
            return Err(Error::config(format!(
                "DSN scheme '{}' is not a valid scheme name",
                scheme.escape_debug()
            )));
        }
        let (before_query, query_str) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        // `user:pa?ss@host`: a '?' inside the credentials would make the rest of the password an option
        // name, which later messages would quote. An option is `name=value`, so an '@' before any '='
        // after the first '?', with no '@' before it, can only be the end of the credentials.
        if let Some(q) = query_str
            && !before_query.contains('@')
            && q.find('@')
                .is_some_and(|at| !q[..at].contains('=') && !q[..at].contains('&'))
        {
            return Err(Error::config(format!(
                "the credentials of this '{scheme}' DSN seem to contain '?': percent-encode it as %3F \
                 (and '@' as %40, '/' as %2F, ':' in the password as %3A)"
            )));
        }
        // The user info ends at the LAST '@' before the path, so an unescaped '@' in a password still parses.
        let (authority, path) = match before_query.find('/') {
            Some(i) if !before_query[..i].contains('@') && before_query[i..].contains('@') => {
                // a '/' inside the credentials (API keys may contain one): split at the last '@' instead
                let at = before_query.rfind('@').unwrap_or(0);
                match before_query[at..].find('/') {
                    Some(j) => (&before_query[..at + j], &before_query[at + j..]),
                    None => (before_query, ""),
                }
            }
            Some(i) => (&before_query[..i], &before_query[i..]),
            None => (before_query, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => {
                let (u, p) = match ui.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (ui, None),
                };
                let u = decode(u).map_err(|_| Error::config("DSN user name is not valid percent-encoding"))?;
                let p = match p {
                    Some(p) => {
                        Some(SecretString::from(decode(p).map_err(|_| {
                            Error::config("DSN password is not valid percent-encoding")
                        })?))
                    }
                    None => None,
                };
                ((!u.is_empty()).then_some(u), p)
            }
        };
        let (host, port) = split_host_port(hostport)?;
        if host.is_empty() {
            return Err(Error::config(format!(
                "DSN for '{scheme}' has no host (use 'default' for the provider's public API)"
            )));
        }
        // Query values are percent-decoded but a '+' stays a '+': DSNs carry phone numbers
        // (`from=+15005550006`), and nobody writes a space in a DSN as '+'.
        let mut query = Vec::new();
        if let Some(q) = query_str {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let k = decode(k).map_err(|_| Error::config("a DSN option name is not valid percent-encoding"))?;
                let v = decode(v)
                    .map_err(|_| Error::config(format!("the DSN option '{k}' is not valid percent-encoding")))?;
                query.push((k, v));
            }
        }
        Ok(Dsn {
            scheme: scheme.to_ascii_lowercase(),
            user,
            password,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            query,
        })
    }

    /// The scheme, lower-cased (`"dinstar"`).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The user part, percent-decoded.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The password part, percent-decoded, as a secret.
    pub fn password(&self) -> Option<&SecretString> {
        self.password.as_ref()
    }

    /// The user part, or a `Config` error naming what it should hold.
    pub fn require_user(&self, what: &str) -> Result<&str> {
        self.user()
            .ok_or_else(|| Error::config(format!("{} DSN needs {what} before the '@'", self.scheme)))
    }

    /// The password part, or a `Config` error naming what it should hold.
    pub fn require_password(&self, what: &str) -> Result<&SecretString> {
        self.password().ok_or_else(|| {
            Error::config(format!(
                "{} DSN needs {what} after the ':' in the credentials",
                self.scheme
            ))
        })
    }

    /// The host as written.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the host is `default`, meaning the provider's public API.
    pub fn is_default_host(&self) -> bool {
        self.host.eq_ignore_ascii_case("default")
    }

    /// The port, when one was written.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The path after the host, with its leading `/`, or empty.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The first value of a query option.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A query option, or a `Config` error saying it is required.
    pub fn require_option(&self, key: &str) -> Result<&str> {
        self.option(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::config(format!("{} DSN needs the option '{key}=…'", self.scheme)))
    }

    /// A boolean option: `true/false`, `1/0`, `yes/no`, `on/off`; absent gives `default`.
    pub fn option_bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.option(key).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(Error::config(format!(
                    "{} DSN option '{key}' must be true or false",
                    self.scheme
                ))),
            },
        }
    }

    /// A numeric option; absent gives `None`.
    pub fn option_parse<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>> {
        match self.option(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| Error::config(format!("{} DSN option '{key}' has an invalid value", self.scheme))),
        }
    }

    /// Every query option in order.
    pub fn options(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The base URL `scheme://host[:port][path]` for a non-default host, with `http` or `https`
    /// chosen by the caller. The credentials are never part of it.
    pub fn base_url(&self, tls: bool) -> String {
        let scheme = if tls { "https" } else { "http" };
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{scheme}://{host}:{p}{}", self.path.trim_end_matches('/')),
            None => format!("{scheme}://{host}{}", self.path.trim_end_matches('/')),
        }
    }

    /// The base URL to use: `public` for the `default` host, otherwise [`Dsn::base_url`] over HTTPS
    /// unless `tls=false` (or the host is a loopback address, where simulators run without TLS).
    pub fn endpoint_or(&self, public: &str) -> Result<String> {
        if self.is_default_host() {
            return Ok(public.trim_end_matches('/').to_owned());
        }
        let loopback = matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "::1" | "[::1]");
        let tls = self.option_bool("tls", !loopback)?;
        Ok(self.base_url(tls))
    }
}

fn decode(s: &str) -> std::result::Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
}

fn split_host_port(hp: &str) -> Result<(&str, Option<u16>)> {
    let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
        match rest.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => return Err(Error::config("DSN host has an unclosed '['")),
        }
    } else {
        match hp.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (hp, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| Error::config("DSN port must be a number from 1 to 65535"))?,
        ),
    };
    Ok((host, port))
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dsn({self})")
    }
}

/// Shows the DSN with the password replaced by `***` and sensitive options masked.
impl fmt::Display for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(u) = &self.user {
            // API keys often sit in the user part: show only a short prefix.
            let shown: String = u.chars().take(3).collect();
            if u.chars().count() > 3 {
                write!(f, "{shown}***")?;
            } else {
                f.write_str(&shown)?;
            }
        }
        if self.password.as_ref().is_some_and(|p| !p.expose_secret().is_empty()) {
            f.write_str(":***")?;
        }
        if self.user.is_some() || self.password.is_some() {
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        f.write_str(&self.path)?;
        for (i, (k, v)) in self.query.iter().enumerate() {
            // By name (`api_key=…`), and by value: a URL-valued option (a callback URL) can carry its own
            // secret (`?token=…`) or credentials.
            let v = if crate::secret::is_sensitive_name(k) {
                std::borrow::Cow::Borrowed("***")
            } else if v.contains("://") {
                std::borrow::Cow::Owned(crate::secret::redact_url(v))
            } else {
                std::borrow::Cow::Borrowed(v.as_str())
            };
            write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_valued_option_is_redacted_by_value() {
        let d = Dsn::parse(
            "twilio://AC1:tok@default?status_callback=https%3A%2F%2Fhooks.example%2Ftw%3Ftoken%3Dhunter2%26x%3D1",
        )
        .unwrap();
        assert_eq!(
            d.option("status_callback"),
            Some("https://hooks.example/tw?token=hunter2&x=1")
        );
        for shown in [d.to_string(), format!("{d:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("hooks.example"), "{shown}");
        }
        let d = Dsn::parse("x://default?callback=https://user:hunter2@hooks.example/cb").unwrap();
        assert!(!d.to_string().contains("hunter2"), "{d}");
    }

    #[test]
    fn a_question_mark_in_the_password_is_refused_without_echoing_it() {
        for dsn in [
            "dinstar://admin:pa?ss@10.0.0.5:8081?sn=1",
            "smtp://user:hun?ter2@mail.example:587?from=a@b.example",
        ] {
            let e = Dsn::parse(dsn).unwrap_err();
            let line = e.to_string();
            assert!(line.contains("%3F"), "{line}");
            for part in ["pa?ss", "ss@", "ter2", "hun"] {
                assert!(!line.contains(part) && !format!("{e:?}").contains(part), "{line}");
            }
        }
        // '@' inside an option value is not mistaken for credentials.
        let d = Dsn::parse("smtp://user:pw@mail.example:587?from=noreply@shop.example").unwrap();
        assert_eq!(d.option("from"), Some("noreply@shop.example"));
        let d = Dsn::parse("smtp://localhost?mode=memory&from=a@b.example").unwrap();
        assert_eq!(d.option("from"), Some("a@b.example"));
    }

    #[test]
    fn full_dsn() {
        let d = Dsn::parse("dinstar://admin:p%40ss@10.0.0.5:8081?sn=1234&port=0,1&tls=true").unwrap();
        assert_eq!(d.scheme(), "dinstar");
        assert_eq!(d.user(), Some("admin"));
        assert_eq!(d.password().unwrap().expose_secret(), "p@ss");
        assert_eq!(d.host(), "10.0.0.5");
        assert_eq!(d.port(), Some(8081));
        assert_eq!(d.option("port"), Some("0,1"));
        assert!(d.option_bool("tls", false).unwrap());
        assert_eq!(d.base_url(true), "https://10.0.0.5:8081");
    }

    #[test]
    fn default_host_and_public_endpoint() {
        let d = Dsn::parse("mitto://KEY@default?from=Acme").unwrap();
        assert!(d.is_default_host());
        assert_eq!(
            d.endpoint_or("https://rest.mittoapi.com/").unwrap(),
            "https://rest.mittoapi.com"
        );
        let d = Dsn::parse("mitto://KEY@127.0.0.1:9000?from=Acme").unwrap();
        assert_eq!(
            d.endpoint_or("https://rest.mittoapi.com").unwrap(),
            "http://127.0.0.1:9000"
        );
    }

    #[test]
    fn unescaped_at_in_password_still_parses() {
        let d = Dsn::parse("smtp://me:p@ss@mail.example.com:587").unwrap();
        assert_eq!(d.password().unwrap().expose_secret(), "p@ss");
        assert_eq!(d.host(), "mail.example.com");
    }

    #[test]
    fn plus_in_options_stays_a_plus() {
        let d = Dsn::parse("twilio://AC1:tok@default?from=+15005550006&name=A%20B").unwrap();
        assert_eq!(d.option("from"), Some("+15005550006"));
        assert_eq!(d.option("name"), Some("A B"));
    }

    #[test]
    fn ipv6_host() {
        let d = Dsn::parse("dinstar://a:b@[::1]:8080").unwrap();
        assert_eq!(d.host(), "::1");
        assert_eq!(d.base_url(false), "http://[::1]:8080");
    }

    #[test]
    fn errors_never_echo_the_password() {
        for bad in [
            "dinstar:admin:topsecret@host",
            "dinstar://admin:topsecret@host:99999",
            "dinstar://admin:topsecret@",
            "din star://admin:topsecret@host",
        ] {
            let e = Dsn::parse(bad).unwrap_err();
            assert!(!e.to_string().contains("topsecret"), "{e}");
            assert!(!format!("{e:?}").contains("topsecret"));
        }
    }

    #[test]
    fn display_and_debug_mask_secrets() {
        let d = Dsn::parse("twilio://ACabcdef:tok3n@default?from=%2B15005550006&token=zzz").unwrap();
        let shown = format!("{d} {d:?}");
        assert!(
            !shown.contains("tok3n") && !shown.contains("zzz") && !shown.contains("ACabcdef"),
            "{shown}"
        );
    }
}

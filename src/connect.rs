//! Building transports and whole Messengers from DSN strings.
//!
//! One DSN configures one transport (`dinstar://user:pass@10.0.0.5:8081?sn=…`, `mitto://KEY@default?from=Acme`);
//! `failover(a b …)` and `roundrobin(a b …)` group several. Each scheme is handled by the provider crate
//! compiled in through the facade's cargo features. Errors say which part is wrong and never show a
//! password (see [`switchboard_core::Dsn`]).

use std::sync::{Arc, OnceLock};

use switchboard_core::{Connection, Dsn, Error, Registry, Result, Transport};

use crate::messenger::{Messenger, MessengerBuilder};
use crate::route::Route;

/// Every provider compiled into this build, registered once: one line per provider crate (its
/// `register`), in the order listings show them. A host that adds a provider of its own builds its own
/// [`Registry`] (start from a clone of this one) and connects through it.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        #[allow(unused_mut)] // empty when no provider feature is on
        let mut r = Registry::new();
        #[cfg(feature = "dinstar")]
        switchboard_dinstar::register(&mut r);
        #[cfg(feature = "mitto")]
        switchboard_mitto::register(&mut r);
        #[cfg(feature = "mightycall")]
        switchboard_mightycall::register(&mut r);
        #[cfg(feature = "telecmi")]
        switchboard_telecmi::register(&mut r);
        #[cfg(feature = "smsru")]
        switchboard_smsru::register(&mut r);
        #[cfg(feature = "twilio")]
        switchboard_twilio::register(&mut r);
        #[cfg(feature = "email")]
        switchboard_email::register(&mut r);
        #[cfg(feature = "fcm")]
        switchboard_fcm::register(&mut r);
        #[cfg(feature = "telegram")]
        switchboard_telegram::register(&mut r);
        #[cfg(feature = "yookassa")]
        switchboard_yookassa::register(&mut r);
        #[cfg(feature = "stripe")]
        switchboard_stripe::register(&mut r);
        #[cfg(feature = "onec")]
        switchboard_onec::register(&mut r);
        r
    })
}

/// Connects any DSN this build knows — a message transport (`dinstar://…`, `smsru://…`), a payment
/// gateway (`stripe://…`), a click-to-call account (`telecmi://…`), an ERP (`onec://…`) — through
/// the provider registered for its scheme. The [`Connection`] hands out what the provider offers:
/// [`Connection::into_transport`] for the Messenger, [`Connection::webhook_source`], or the typed
/// client with [`Connection::downcast`].
pub fn connect(dsn: &str) -> Result<Connection> {
    connect_parsed(&Dsn::parse(dsn)?)
}

fn connect_parsed(dsn: &Dsn) -> Result<Connection> {
    registry().connect_parsed(dsn)
}

/// The schemes this build understands, for error messages and listings.
pub fn known_schemes() -> Vec<&'static str> {
    let mut s: Vec<&'static str> = registry().schemes();
    s.sort_unstable();
    s.dedup();
    s
}

/// Builds the message transport one DSN describes (`connect(dsn)?.into_transport()`).
pub fn transport_from_dsn(dsn: &str) -> Result<Arc<dyn Transport>> {
    connect(dsn)?.into_transport()
}

/// A DSN entry: one transport, or a group.
#[derive(Debug, PartialEq, Eq)]
enum Entry<'a> {
    Single(&'a str),
    Failover(Vec<&'a str>),
    RoundRobin(Vec<&'a str>),
}

fn parse_entry(s: &str) -> Result<Entry<'_>> {
    let s = s.trim();
    for (prefix, rr) in [("failover(", false), ("roundrobin(", true)] {
        if let Some(inner) = s.strip_prefix(prefix) {
            let inner = inner
                .strip_suffix(')')
                .ok_or_else(|| Error::config(format!("'{prefix}…' is missing its closing ')'")))?;
            let members: Vec<&str> = inner.split_whitespace().collect();
            if members.is_empty() {
                return Err(Error::config(format!("'{prefix})' names no transport")));
            }
            if members.iter().any(|m| m.contains('(')) {
                return Err(Error::config("failover(…) and roundrobin(…) cannot be nested"));
            }
            return Ok(if rr {
                Entry::RoundRobin(members)
            } else {
                Entry::Failover(members)
            });
        }
    }
    if s.is_empty() {
        return Err(Error::config("an empty DSN"));
    }
    Ok(Entry::Single(s))
}

impl Messenger {
    /// Builds a Messenger from DSN strings, one transport or group per entry. Entries become routes in
    /// the order given: a message goes to the first entry that can reach its recipient. A DSN that
    /// carries no messages but pushes events (`stripe://…`, `telecmi://…`) becomes a webhook source named
    /// after its scheme. Transports are
    /// named after their scheme (`dinstar`, then `dinstar-2` for a second one).
    ///
    /// ```no_run
    /// # fn demo() -> switchboard::Result<()> {
    /// let messenger = switchboard::Messenger::from_dsns([
    ///     "failover(dinstar://admin:secret@10.0.0.5:8081?sn=1234 mitto://KEY@default?from=Acme)",
    /// ])?;
    /// # let _ = messenger; Ok(()) }
    /// ```
    pub fn from_dsns<I, S>(dsns: I) -> Result<Messenger>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::builder_from_dsns(dsns)?.build()
    }

    /// Like [`Messenger::from_dsns`], but returns the builder so a journal, limits or more routes can be
    /// added.
    pub fn builder_from_dsns<I, S>(dsns: I) -> Result<MessengerBuilder>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut builder = Messenger::builder();
        let mut names: Vec<String> = Vec::new();
        let mut any = false;
        for dsn in dsns {
            any = true;
            let entry = parse_entry(dsn.as_ref())?;
            let (members, rr) = match entry {
                Entry::Single(d) => (vec![d], false),
                Entry::Failover(m) => (m, false),
                Entry::RoundRobin(m) => (m, true),
            };
            let mut route_names = Vec::new();
            for (k, m) in members.iter().enumerate() {
                let parsed = Dsn::parse(m).map_err(|e| {
                    let msg = format!("DSN {} of the group: {}", k + 1, e.message());
                    e.with_message(msg)
                })?;
                let connection = connect_parsed(&parsed)?;
                let base = parsed.scheme().to_owned();
                let mut name = base.clone();
                let mut n = 1;
                while names.contains(&name) {
                    n += 1;
                    name = format!("{base}-{n}");
                }
                names.push(name.clone());
                // A DSN that carries no messages but pushes events (a payment gateway, click-to-call) is
                // a webhook source under its scheme's name, outside any route.
                match (connection.as_transport(), connection.webhook_source()) {
                    (Some(t), _) => {
                        route_names.push(name.clone());
                        builder = builder.transport(name, t);
                    }
                    (None, Some(source)) if members.len() == 1 => builder = builder.webhook_source(name, source),
                    (None, Some(_)) => {
                        return Err(Error::config(format!(
                            "a {} DSN carries no messages, so it cannot be in a failover or round-robin group",
                            parsed.scheme()
                        )));
                    }
                    (None, None) => {
                        return Err(Error::config(format!(
                            "a {} DSN neither carries messages nor pushes events, so a Messenger has no use for \
                             it; connect it with switchboard::connect and take its client with downcast",
                            parsed.scheme()
                        )));
                    }
                }
            }
            if route_names.is_empty() {
                continue;
            }
            let route = if rr {
                Route::any().round_robin(route_names)
            } else {
                Route::any().via(route_names)
            };
            builder = builder.route(route);
        }
        if !any {
            return Err(Error::config("no DSN given"));
        }
        Ok(builder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        assert_eq!(parse_entry(" a://x ").unwrap(), Entry::Single("a://x"));
        assert_eq!(
            parse_entry("failover(a://x  b://y)").unwrap(),
            Entry::Failover(vec!["a://x", "b://y"])
        );
        assert_eq!(
            parse_entry("roundrobin(a://x b://y)").unwrap(),
            Entry::RoundRobin(vec!["a://x", "b://y"])
        );
        assert!(parse_entry("failover(a://x").is_err());
        assert!(parse_entry("failover()").is_err());
        assert!(parse_entry("failover(roundrobin(a://x))").is_err());
        assert!(parse_entry("  ").is_err());
    }

    #[cfg(feature = "onec")]
    #[test]
    fn a_1c_dsn_connects_its_client_through_the_registry() {
        assert!(known_schemes().contains(&"onec"));
        let conn = connect("onec://odata.user:pw@127.0.0.1:1/base").unwrap();
        assert_eq!(conn.provider(), "onec");
        assert!(conn.as_transport().is_none());
        assert!(conn.downcast::<switchboard_onec::OneCClient>().is_some());
        // A Messenger has no use for it, and says so rather than talking about groups.
        let e = Messenger::from_dsns(["onec://odata.user:pw@127.0.0.1:1/base"]).unwrap_err();
        assert!(e.to_string().contains("switchboard::connect"), "{e}");
        assert!(!e.to_string().contains("group"), "{e}");
    }

    #[test]
    fn unknown_schemes_and_bad_dsns_never_echo_passwords() {
        for bad in [
            "nosuch://user:hunter2@host",
            "failover(nosuch://user:hunter2@host)",
            "dinstar://user:hunter2@host:0x",
        ] {
            let e = Messenger::from_dsns([bad]).unwrap_err();
            assert!(!e.to_string().contains("hunter2"), "{e}");
            assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
        }
    }
}

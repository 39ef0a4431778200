//! What every simulator offers (feature `testkit`), so that `switchboard sim`, the conformance suite
//! and a host's tests drive any provider's simulator the same way.
//!
//! One vocabulary everywhere:
//!
//! | method | what it does |
//! |---|---|
//! | [`Simulated::dsn`] | a DSN that connects a client to this simulator, secrets included |
//! | [`Simulated::sent`] | what the simulated provider accepted, in order |
//! | [`Simulated::advance`] | moves everything pending one step on (queued → sent → delivered) |
//! | [`Simulated::fail_next`] | the next request gets a [`Fault`] instead of its answer |
//! | [`Simulated::pushed`] | what the simulator pushed to webhook URLs |
//! | [`Simulated::trigger`] | pushes one signed event of a named kind to a URL |

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::message::Recipient;
use crate::testkit::{Fault, Faults};
use crate::webhook::WebhookRequest;

/// The `host:port` of a base URL (`http://127.0.0.1:8081/` → `127.0.0.1:8081`): DSNs name a host, not
/// a URL, so every [`Simulated::dsn_at`] needs it.
pub fn host_port_of(base_url: &str) -> &str {
    base_url
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/')
}

/// One thing a simulated provider accepted (an SMS, an email, a push, a payment, a call), in the
/// simulator's words.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimRecord {
    /// The provider's id for it.
    pub id: String,
    /// Who or what it went to, as the wire had it (a number, an address, a token).
    pub to: String,
    /// The text, body or description.
    pub text: String,
    /// Its state now, in the provider's own words.
    pub status: String,
}

impl SimRecord {
    /// A record.
    pub fn new(
        id: impl Into<String>,
        to: impl Into<String>,
        text: impl Into<String>,
        status: impl Into<String>,
    ) -> Self {
        SimRecord {
            id: id.into(),
            to: to.into(),
            text: text.into(),
            status: status.into(),
        }
    }
}

/// Masks the recipient: simulators are fed realistic numbers in tests and those end up in test logs.
impl fmt::Debug for SimRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimRecord")
            .field("id", &self.id)
            .field("to", &crate::secret::mask_middle(&self.to))
            .field("text_chars", &self.text.chars().count())
            .field("status", &self.status)
            .finish()
    }
}

/// How to start a simulator.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SimOptions {
    /// The loopback port to listen on; a free one when `None`.
    pub port: Option<u16>,
    /// Where the simulator pushes what it would push on its own (delivery reports, inbound messages,
    /// call and payment events), when it pushes at all.
    pub webhook_url: Option<String>,
}

impl SimOptions {
    /// Listen on `port`.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Push events to `url`.
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }
}

/// Starts a provider's simulator; a [`Provider`](crate::registry::Provider) hands one out.
#[async_trait]
pub trait SimFactory: Send + Sync {
    /// Starts a simulator with `options`.
    async fn start(&self, options: SimOptions) -> Result<Arc<dyn Simulated>>;
}

/// A simulator that starts from [`SimOptions`]: all [`factory`] needs to hand it to the registry.
pub trait StartSim: Simulated + Sized + 'static {
    /// The provider's name as messages spell it (`"SMS.ru"`).
    const NAME: &'static str;

    /// What starting fails with: the simulator's own error, or [`std::io::Error`] when all that can
    /// fail is listening on its port.
    type Error: StartError;

    /// Starts one with `options`.
    fn start_sim(options: SimOptions) -> impl Future<Output = std::result::Result<Self, Self::Error>> + Send;
}

/// What a simulator that failed to start reports to [`SimFactory::start`]'s caller.
pub trait StartError: Send {
    /// The error, for the simulator of the provider `name`.
    fn into_error(self, name: &str) -> Error;
}

/// The simulator could not listen: a configuration error (the port is taken or not allowed) that says
/// which simulator it was.
impl StartError for std::io::Error {
    fn into_error(self, name: &str) -> Error {
        Error::config(format!("the {name} simulator cannot listen: {self}")).with_source(self)
    }
}

/// Already says what went wrong; answered as it is.
impl StartError for Error {
    fn into_error(self, _name: &str) -> Error {
        self
    }
}

/// The [`SimFactory`] of the simulator `S`; [`factory`] hands out one.
pub struct SimFactoryOf<S>(PhantomData<fn() -> S>);

impl<S: StartSim> fmt::Debug for SimFactoryOf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SimFactoryOf").field(&S::NAME).finish()
    }
}

#[async_trait]
impl<S: StartSim> SimFactory for SimFactoryOf<S> {
    async fn start(&self, options: SimOptions) -> Result<Arc<dyn Simulated>> {
        let sim = S::start_sim(options).await.map_err(|e| e.into_error(S::NAME))?;
        Ok(Arc::new(sim))
    }
}

/// The factory that starts `S`, for a [`Provider::simulator`](crate::registry::Provider::simulator).
pub fn factory<S: StartSim>() -> &'static dyn SimFactory {
    &SimFactoryOf::<S>(PhantomData)
}

/// A running simulator. See the [module docs](self).
#[async_trait]
pub trait Simulated: Send + Sync + fmt::Debug {
    /// The provider it simulates (`"smsru"`).
    fn provider(&self) -> &'static str;

    /// Its base URL (`http://127.0.0.1:PORT`).
    fn uri(&self) -> String;

    /// A DSN that connects a client to it, with the simulator's credentials and webhook secret.
    fn dsn(&self) -> String;

    /// The fault queue: every request takes the next fault, if any, instead of its answer.
    fn faults(&self) -> &Faults;

    /// Makes the next request get `fault` instead of its answer.
    fn fail_next(&self, fault: Fault) {
        self.faults().push(fault);
    }

    /// What the simulated provider accepted so far, in order.
    fn sent(&self) -> Vec<SimRecord>;

    /// Moves everything pending one step towards its final state (a queued SMS is sent, a sent one
    /// delivered; a pending payment succeeds), pushing the webhooks the provider would push.
    async fn advance(&self);

    /// What the simulator pushed to webhook URLs so far, in order.
    fn pushed(&self) -> Vec<WebhookRequest>;

    /// The event kinds [`Simulated::trigger`] can push (`"delivered"`, `"inbound"`…).
    fn triggers(&self) -> &'static [&'static str] {
        &[]
    }

    /// Pushes one event of kind `event` to `url`, signed or tokened the way the provider does it with
    /// the secret in [`Simulated::dsn`], so that a host's endpoint can be tested against it. Answers the
    /// request it made.
    async fn trigger(&self, event: &str, url: &str) -> Result<WebhookRequest> {
        let _ = url;
        Err(crate::Error::unsupported(format!(
            "the {} simulator cannot push a '{event}' event; it knows: {}",
            self.provider(),
            self.triggers().join(", ")
        )))
    }

    /// A recipient the simulated provider delivers to (a phone number for SMS, an address for email),
    /// for checks that run over every message transport; `None` for providers that carry no messages.
    fn recipient(&self) -> Option<Recipient> {
        None
    }

    /// [`Simulated::dsn`] with a credential the simulator refuses; `None` when there is no credential.
    fn dsn_with_bad_credentials(&self) -> Option<String> {
        None
    }

    /// [`Simulated::dsn`] pointed at another base URL (`http://host:port`, a proxy that injects
    /// connection faults); `None` when the provider is not reached over HTTP.
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        let _ = base_url;
        None
    }

    /// The provider's own rate-limit answer (its code in its envelope, `Retry-After: secs`) as a fault;
    /// `None` when it has no shape beyond a plain 429.
    fn rate_limit_fault(&self, retry_after_secs: u64) -> Option<Fault> {
        let _ = retry_after_secs;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{StartError, host_port_of};
    use crate::ErrorKind;

    #[test]
    fn a_simulator_that_cannot_listen_is_a_config_error_that_names_it() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use");
        let e = io.into_error("SMS.ru");
        assert_eq!(e.kind(), ErrorKind::Config);
        assert_eq!(e.message(), "the SMS.ru simulator cannot listen: address in use");
        assert!(
            std::error::Error::source(&e).is_some(),
            "the io error is kept as the source"
        );
    }

    #[test]
    fn host_port_of_a_base_url() {
        assert_eq!(host_port_of("http://127.0.0.1:8081/"), "127.0.0.1:8081");
        assert_eq!(host_port_of("https://sim.local:443"), "sim.local:443");
        assert_eq!(host_port_of("127.0.0.1:9"), "127.0.0.1:9");
    }
}

//! Open registration: every provider crate has a `register` function that adds its [`Provider`]s to a
//! [`Registry`], and everything that used to keep a closed list of providers — building from DSNs, the
//! command line's `sim`, the conformance suite — iterates over the registry instead.
//!
//! Adding a provider is then: write the crate (copy the smallest one), and call its `register` where
//! the registry is assembled (the facade does it once for every crate compiled in).
//!
//! ```
//! use std::sync::Arc;
//! use switchboard_core::registry::{Connection, Provider, Registry};
//! use switchboard_core::{Dsn, Result};
//!
//! #[derive(Debug)]
//! struct Echo;
//!
//! impl Provider for Echo {
//!     fn name(&self) -> &'static str {
//!         "echo"
//!     }
//!     fn summary(&self) -> &'static str {
//!         "answers nothing, for the example"
//!     }
//!     fn dsn_form(&self) -> &'static str {
//!         "echo://default"
//!     }
//!     fn connect(&self, dsn: &Dsn) -> Result<Connection> {
//!         Ok(Connection::service(self.name(), Arc::new(dsn.host().to_owned())))
//!     }
//! }
//!
//! static ECHO: Echo = Echo;
//! let mut registry = Registry::new();
//! registry.register(&ECHO);
//! let conn = registry.connect("echo://default")?;
//! assert_eq!(conn.downcast::<String>().as_deref().map(String::as_str), Some("default"));
//! assert!(registry.connect("nope://x").unwrap_err().to_string().contains("this build knows: echo"));
//! # Ok::<(), switchboard_core::Error>(())
//! ```

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::dsn::Dsn;
use crate::error::{Error, Result};
use crate::transport::{Transport, WebhookHandler};

/// What a DSN connects to: a message transport, a webhook source, and the provider's own typed client
/// or gateway (a payment gateway, an ERP client), whichever the provider offers.
#[derive(Clone)]
pub struct Connection {
    provider: &'static str,
    transport: Option<Arc<dyn Transport>>,
    webhooks: Option<Arc<dyn WebhookHandler>>,
    service: Option<Arc<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("provider", &self.provider)
            .field("transport", &self.transport.is_some())
            .field("webhooks", &self.webhooks.is_some())
            .field("service", &self.service.is_some())
            .finish()
    }
}

impl Connection {
    /// A message transport (it receives its own webhooks through [`Transport::handle_webhook`]).
    pub fn transport(provider: &'static str, transport: Arc<dyn Transport>) -> Self {
        Connection {
            provider,
            transport: Some(transport),
            webhooks: None,
            service: None,
        }
    }

    /// A provider's typed client or gateway, for [`Connection::downcast`].
    pub fn service<T: Any + Send + Sync>(provider: &'static str, service: Arc<T>) -> Self {
        Connection {
            provider,
            transport: None,
            webhooks: None,
            service: Some(service),
        }
    }

    /// Adds a webhook source (call events, payment notifications).
    pub fn with_webhooks(mut self, handler: Arc<dyn WebhookHandler>) -> Self {
        self.webhooks = Some(handler);
        self
    }

    /// Adds the typed client or gateway behind a transport.
    pub fn with_service<T: Any + Send + Sync>(mut self, service: Arc<T>) -> Self {
        self.service = Some(service);
        self
    }

    /// The provider's name.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The message transport, when the provider carries messages.
    pub fn as_transport(&self) -> Option<Arc<dyn Transport>> {
        self.transport.clone()
    }

    /// The webhook source, when the provider pushes events but carries no messages.
    pub fn webhook_source(&self) -> Option<Arc<dyn WebhookHandler>> {
        self.webhooks.clone()
    }

    /// Whether the connection holds a typed client or gateway (for listings and checks that cannot
    /// name its type; [`Connection::downcast`] takes it out).
    pub fn has_service(&self) -> bool {
        self.service.is_some()
    }

    /// The provider's typed client or gateway, if it is a `T` (`Arc<dyn PaymentGateway>`, an ERP client).
    pub fn downcast<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.service.clone()?.downcast::<T>().ok()
    }

    /// The message transport, or an error that says what this DSN is for instead.
    pub fn into_transport(self) -> Result<Arc<dyn Transport>> {
        self.transport.ok_or_else(|| {
            Error::config(format!(
                "a {} DSN does not carry messages; connect it with switchboard::connect and use its {}",
                self.provider,
                if self.webhooks.is_some() {
                    "webhook source or client"
                } else {
                    "client"
                }
            ))
        })
    }
}

/// One provider, as the registry sees it.
pub trait Provider: Send + Sync + fmt::Debug + 'static {
    /// The provider's name, which is also its main DSN scheme (`"smsru"`).
    fn name(&self) -> &'static str;

    /// Every DSN scheme it answers; the default is just its name (`smtp` adds `smtps`).
    fn schemes(&self) -> &'static [&'static str] {
        &[]
    }

    /// One line for listings: what it is.
    fn summary(&self) -> &'static str;

    /// The DSN's form, for listings and error messages (`smsru://API_ID@default?from=NAME`).
    fn dsn_form(&self) -> &'static str;

    /// Connects from a parsed DSN whose scheme is one of this provider's.
    fn connect(&self, dsn: &Dsn) -> Result<Connection>;

    /// The provider's simulator, for `switchboard sim`, the conformance suite and a host's tests.
    #[cfg(feature = "testkit")]
    fn simulator(&self) -> Option<&'static dyn crate::simulated::SimFactory> {
        None
    }

    /// Whether `scheme` is one of this provider's.
    fn answers(&self, scheme: &str) -> bool {
        scheme == self.name() || self.schemes().contains(&scheme)
    }
}

/// The providers a program knows, in registration order.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    providers: Vec<&'static dyn Provider>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provider. A provider registered again under a name already known replaces the earlier
    /// one, so a host can swap in its own implementation of a scheme.
    pub fn register(&mut self, provider: &'static dyn Provider) -> &mut Self {
        self.providers.retain(|p| p.name() != provider.name());
        self.providers.push(provider);
        self
    }

    /// Every provider, in registration order.
    pub fn providers(&self) -> impl Iterator<Item = &'static dyn Provider> + '_ {
        self.providers.iter().copied()
    }

    /// The provider answering `scheme` (the latest registered wins).
    pub fn find(&self, scheme: &str) -> Option<&'static dyn Provider> {
        self.providers.iter().rev().copied().find(|p| p.answers(scheme))
    }

    /// Every scheme known, for messages.
    pub fn schemes(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for p in &self.providers {
            out.push(p.name());
            out.extend(p.schemes().iter().copied().filter(|s| *s != p.name()));
        }
        out
    }

    /// Connects a parsed DSN through the provider of its scheme.
    pub fn connect_parsed(&self, dsn: &Dsn) -> Result<Connection> {
        match self.find(dsn.scheme()) {
            Some(p) => p.connect(dsn),
            None => Err(Error::config(format!(
                "unknown DSN scheme '{}'; this build knows: {}",
                dsn.scheme(),
                self.schemes().join(", ")
            ))),
        }
    }

    /// Parses a DSN and connects it through the provider of its scheme.
    pub fn connect(&self, dsn: &str) -> Result<Connection> {
        self.connect_parsed(&Dsn::parse(dsn)?)
    }
}

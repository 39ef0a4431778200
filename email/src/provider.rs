//! Registration: how the DSN registry, the command line and the conformance suite find email.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{EmailTransport, SCHEME};

/// Email over SMTP as the registry sees it: `smtp://` (STARTTLS) and `smtps://` (implicit TLS).
#[derive(Debug)]
pub struct EmailProvider;

impl Provider for EmailProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn schemes(&self) -> &'static [&'static str] {
        &["smtp", "smtps"]
    }

    fn summary(&self) -> &'static str {
        "email over SMTP (STARTTLS or implicit TLS), or into an in-memory outbox or .eml files"
    }

    fn dsn_form(&self) -> &'static str {
        "smtp://USER:PASS@smtp.example.com?from=NAME%20<ADDRESS>[&tls=starttls|opportunistic|none][&mode=memory|file]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let t = EmailTransport::from_dsn(dsn)?;
        let client = Arc::new(t.client().clone());
        Ok(Connection::transport(SCHEME, Arc::new(t)).with_service(client))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds email to a registry: the one line a program needs to know `smtp://` and `smtps://`.
pub fn register(registry: &mut Registry) {
    static PROVIDER: EmailProvider = EmailProvider;
    registry.register(&PROVIDER);
}

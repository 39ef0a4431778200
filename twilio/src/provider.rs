//! Registration: how the DSN registry, the command line and the conformance suite find Twilio.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{SCHEME, TwilioTransport};

/// Twilio as the registry sees it.
#[derive(Debug)]
pub struct TwilioProvider;

impl Provider for TwilioProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "Twilio Programmable Messaging: SMS and MMS, status, signed status callbacks and incoming messages"
    }

    fn dsn_form(&self) -> &'static str {
        "twilio://ACCOUNT_SID:AUTH_TOKEN@default?from=%2B1…[&messaging_service=MG…][&status_callback=URL]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let t = TwilioTransport::from_dsn(dsn)?;
        let client = Arc::new(t.client().clone());
        Ok(Connection::transport(SCHEME, Arc::new(t)).with_service(client))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds Twilio to a registry: the one line a program needs to know it.
pub fn register(registry: &mut Registry) {
    static PROVIDER: TwilioProvider = TwilioProvider;
    registry.register(&PROVIDER);
}

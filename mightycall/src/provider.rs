//! Registration: how the DSN registry, the command line and the conformance suite find MightyCall.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{MightyCallTransport, SCHEME};

/// MightyCall as the registry sees it.
#[derive(Debug)]
pub struct MightyCallProvider;

impl Provider for MightyCallProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "MightyCall API v4: SMS from business numbers, status and history from the call/message journal"
    }

    fn dsn_form(&self) -> &'static str {
        "mightycall://API_KEY:USER_KEY@default?from=%2B1…[&flavour=cc|classic][&paths=api|bare]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let transport = MightyCallTransport::from_dsn(dsn)?;
        let client = Arc::new(transport.client().clone());
        Ok(Connection::transport(SCHEME, Arc::new(transport)).with_service(client))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds MightyCall to a registry: the one line a program needs to know it.
pub fn register(registry: &mut Registry) {
    static PROVIDER: MightyCallProvider = MightyCallProvider;
    registry.register(&PROVIDER);
}

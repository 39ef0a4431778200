//! Registration: how the DSN registry, the command line and the conformance suite find Mitto.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{MittoTransport, SCHEME};

/// Mitto as the registry sees it.
#[derive(Debug)]
pub struct MittoProvider;

impl Provider for MittoProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "Mitto SMS: the legacy REST API and the messaging API, delivery reports by webhook"
    }

    fn dsn_form(&self) -> &'static str {
        "mitto://API_KEY@default?from=SENDER[&api=legacy|messaging][&traffic_account=ID][&webhook_secret=…]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let transport = MittoTransport::from_dsn(dsn)?;
        let client = Arc::new(transport.client().clone());
        Ok(Connection::transport(SCHEME, Arc::new(transport)).with_service(client))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds Mitto to a registry: the one line a program needs to know it.
pub fn register(registry: &mut Registry) {
    static PROVIDER: MittoProvider = MittoProvider;
    registry.register(&PROVIDER);
}

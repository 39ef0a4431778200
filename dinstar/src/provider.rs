//! Registration: how the DSN registry, the command line and the conformance suite find Dinstar.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{DinstarTransport, SCHEME};

/// Dinstar as the registry sees it.
#[derive(Debug)]
pub struct DinstarProvider;

impl Provider for DinstarProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "Dinstar DWG/UC GSM gateways over their HTTP API: Digest auth, batched SMS, tracking, pushes, incoming SMS"
    }

    fn dsn_form(&self) -> &'static str {
        "dinstar://USER:PASS@HOST:PORT?sn=SN[&port=0,1][&webhook_secret=…][&tls=true][&reconcile_window=10s]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let transport = DinstarTransport::from_dsn(dsn)?;
        let client = Arc::new(transport.client().clone());
        Ok(Connection::transport(SCHEME, Arc::new(transport)).with_service(client))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds Dinstar to a registry: the one line a program needs to know it.
pub fn register(registry: &mut Registry) {
    static PROVIDER: DinstarProvider = DinstarProvider;
    registry.register(&PROVIDER);
}

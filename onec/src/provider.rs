//! Registration: how the DSN registry, the command line and the conformance suite find 1C.
//!
//! 1C carries no messages and pushes no events, so a 1C DSN connects a service: the [`OneCClient`],
//! which a program takes back with `Connection::downcast::<OneCClient>()`.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{OneCClient, SCHEME};

/// 1C:Enterprise as the registry sees it.
#[derive(Debug)]
pub struct OneCProvider;

impl Provider for OneCProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "1C:Enterprise: the standard OData interface, HTTP services, idempotent and delta sync"
    }

    fn dsn_form(&self) -> &'static str {
        "onec://USER:PASSWORD@HOST[:PORT]/PUBLICATION[?tls=false][&timeout=SECS][&page_size=N][&data_load_mode=true]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        Ok(Connection::service(SCHEME, Arc::new(OneCClient::from_dsn(dsn)?)))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds 1C to a registry: the one line a program needs to know it.
pub fn register(registry: &mut Registry) {
    static PROVIDER: OneCProvider = OneCProvider;
    registry.register(&PROVIDER);
}

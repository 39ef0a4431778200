//! Registration: how the DSN registry, the command line and the conformance suite find TeleCMI.
//!
//! TeleCMI carries no messages (it places calls), so a TeleCMI DSN connects a service — the
//! [`TeleCmiClient`], for click-to-call and call records — and a webhook source for its call events.
//! The client's [`CallPolicy`](crate::CallPolicy) comes from the DSN's `allow` option and, absent it,
//! allows no one.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{SCHEME, TeleCmiClient};

/// TeleCMI as the registry sees it.
#[derive(Debug)]
pub struct TeleCmiProvider;

impl Provider for TeleCmiProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "TeleCMI click-to-call behind a call policy, call records, and call events by webhook"
    }

    fn dsn_form(&self) -> &'static str {
        "telecmi://APP_ID:APP_SECRET@default?webhook_secret=…[&allow=AGENT,…|*][&auth=user][&flavour=india]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let client = Arc::new(TeleCmiClient::from_dsn(dsn)?);
        Ok(Connection::service(SCHEME, client.clone()).with_webhooks(client))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds TeleCMI to a registry: the one line a program needs to know it.
pub fn register(registry: &mut Registry) {
    static PROVIDER: TeleCmiProvider = TeleCmiProvider;
    registry.register(&PROVIDER);
}

//! Registration: how the DSN registry, the command line and the conformance suite find FCM.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{FcmTransport, SCHEME};

/// Firebase Cloud Messaging as the registry sees it.
#[derive(Debug)]
pub struct FcmProvider;

impl Provider for FcmProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "Firebase Cloud Messaging HTTP v1: push notifications, authenticated with a service-account key"
    }

    fn dsn_form(&self) -> &'static str {
        "fcm://PROJECT_ID@default?credentials=/path/service-account.json[&validate_only=true][&priority=high|normal][&ttl=SECONDS]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let t = FcmTransport::from_dsn(dsn)?;
        let client = Arc::new(t.client().clone());
        Ok(Connection::transport(SCHEME, Arc::new(t)).with_service(client))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds FCM to a registry: the one line a program needs to know `fcm://`.
pub fn register(registry: &mut Registry) {
    static PROVIDER: FcmProvider = FcmProvider;
    registry.register(&PROVIDER);
}

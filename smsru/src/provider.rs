//! Registration: how the DSN registry, the command line and the conformance suite find SMS.ru.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{SCHEME, SmsRuTransport};

/// SMS.ru as the registry sees it.
#[derive(Debug)]
pub struct SmsRuProvider;

impl Provider for SmsRuProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "SMS.ru: SMS to Russia and abroad, status, cost and balance, delivery callbacks"
    }

    fn dsn_form(&self) -> &'static str {
        "smsru://API_ID@default?from=NAME[&webhook_secret=SECRET] (or smsru://LOGIN:PASSWORD@default?…)"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let t = SmsRuTransport::from_dsn(dsn)?;
        let client = Arc::new(t.client().clone());
        Ok(Connection::transport(SCHEME, Arc::new(t)).with_service(client))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds SMS.ru to a registry: the one line a program needs to know it.
pub fn register(registry: &mut Registry) {
    static PROVIDER: SmsRuProvider = SmsRuProvider;
    registry.register(&PROVIDER);
}

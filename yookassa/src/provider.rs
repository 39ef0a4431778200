//! Registration: how the DSN registry, the command line and the conformance suite find YooKassa.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{SCHEME, YooKassaGateway};

/// YooKassa as the registry sees it: a `yookassa://` DSN connects to a [`YooKassaGateway`], kept as the
/// connection's `Arc<dyn PaymentGateway>` (find it with `switchboard_payments::gateway`), with its
/// notifications as the webhook source.
#[derive(Debug)]
pub struct YooKassaProvider;

impl Provider for YooKassaProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "YooKassa API v3 payments (Russia): payments, two-stage capture, refunds, notifications"
    }

    fn dsn_form(&self) -> &'static str {
        "yookassa://SHOP_ID:SECRET_KEY@default[?notify_ips=CIDR,…&timeout=SECS&retries=N]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let gateway = YooKassaGateway::from_dsn(dsn)?;
        Ok(switchboard_payments::connection(SCHEME, Arc::new(gateway)))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds YooKassa to a registry: the one line a program needs to know it.
pub fn register(registry: &mut Registry) {
    static PROVIDER: YooKassaProvider = YooKassaProvider;
    registry.register(&PROVIDER);
}

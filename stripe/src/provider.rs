//! Registration: how the DSN registry, the command line and the conformance suite find Stripe.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{SCHEME, StripeGateway};

/// Stripe as the registry sees it: a `stripe://` DSN connects to a [`StripeGateway`], kept as the
/// connection's `Arc<dyn PaymentGateway>` (find it with `switchboard_payments::gateway`), with its
/// signed webhooks as the webhook source.
#[derive(Debug)]
pub struct StripeProvider;

impl Provider for StripeProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "Stripe payments: PaymentIntents, Checkout Sessions, refunds, signed webhooks"
    }

    fn dsn_form(&self) -> &'static str {
        "stripe://SK@default[?webhook_secret=whsec_…[,whsec_…]&webhook_tolerance=SECS&stripe_version=V]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let gateway = StripeGateway::from_dsn(dsn)?;
        Ok(switchboard_payments::connection(SCHEME, Arc::new(gateway)))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds Stripe to a registry: the one line a program needs to know it.
pub fn register(registry: &mut Registry) {
    static PROVIDER: StripeProvider = StripeProvider;
    registry.register(&PROVIDER);
}

//! switchboard-stripe against its simulator, in one test binary: the gateway's payments, Checkout and
//! refunds, signed webhooks, configuration and error envelopes, `Stripe-Signature` verification,
//! Stripe's published contract, what happens after a 2xx answer, and registration.

mod after_2xx;
mod client;
mod contract;
mod gateway;
mod provider;
mod signature;
mod webhooks;

use std::time::Duration;

use crate::model::PaymentIntentCreate;
use crate::sim::Simulator;
use crate::{StripeClient, StripeConfigBuilder, StripeGateway};
use switchboard_core::RetryPolicy;
use switchboard_payments::{CreatePayment, Currency, IdempotencyKey, Money};

/// Retries as the default policy does, without waiting.
pub fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false)
}

/// The simulator's configuration with [`fast`] retries and a 5 s timeout, to change further.
pub fn config(sim: &Simulator) -> StripeConfigBuilder {
    sim.config_builder().retry(fast()).timeout(Duration::from_secs(5))
}

/// A gateway on the simulator.
pub fn gateway(sim: &Simulator) -> StripeGateway {
    StripeGateway::new(config(sim).build().unwrap()).unwrap()
}

/// A wire-level client on the simulator.
pub fn client(sim: &Simulator) -> StripeClient {
    StripeClient::new(config(sim).build().unwrap()).unwrap()
}

/// Dollars.
pub fn usd(s: &str) -> Money {
    Money::parse(s, Currency::USD).unwrap()
}

/// An idempotency key.
pub fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::new(s).unwrap()
}

/// A card payment charged at once with the test card `pm_card_visa`, with a description and an order id.
pub fn card(amount: &str) -> CreatePayment {
    CreatePayment::new(usd(amount))
        .payment_method("pm_card_visa")
        .description("Order 72")
        .metadata("order_id", "72")
}

/// The wire request of a PaymentIntent confirmed at once with `pm_card_visa`.
pub fn intent(amount: &str) -> PaymentIntentCreate {
    let mut p = PaymentIntentCreate::new(usd(amount)).unwrap();
    p.payment_method = Some("pm_card_visa".into());
    p.confirm = Some(true);
    // Automatic payment methods are on by default (API versions from 2023-08-16), so a confirmation
    // without a return URL must rule out redirects, as Stripe requires.
    p.automatic_payment_methods = Some(true);
    p.allow_redirects = Some("never".into());
    p
}

//! # switchboard-stripe
//!
//! [Stripe](https://stripe.com) behind switchboard-payments' [`PaymentGateway`]: PaymentIntents
//! (saved or test payment methods, 3-D Secure), Checkout Sessions, two-stage capture, refunds, and
//! webhooks whose `Stripe-Signature` is checked exactly as Stripe's libraries check it; plus a
//! simulator (module `sim`, feature `sim`).
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> switchboard_core::Result<()> {
//! use switchboard_core::Registry;
//! use switchboard_core::simulated::Simulated;
//! use switchboard_payments::{CreatePayment, Currency, IdempotencyKey, Money, PaymentStatus};
//!
//! let sim = switchboard_stripe::sim::Simulator::start().await;
//! let mut registry = Registry::new();
//! switchboard_stripe::register(&mut registry);
//! // In production: "stripe://sk_live_…@default?webhook_secret=whsec_…"
//! let conn = registry.connect(&sim.dsn())?;
//! let gateway = switchboard_payments::gateway(&conn).expect("a payment gateway");
//!
//! let checkout = gateway
//!     .create_payment(
//!         &CreatePayment::new(Money::parse("19.99", Currency::USD)?)
//!             .description("T-shirt")
//!             .return_url("https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}")
//!             .idempotency_key(IdempotencyKey::new("order-72")?),
//!     )
//!     .await?;
//! assert!(checkout.confirmation_url.is_some()); // send the customer there
//! sim.pay(&checkout.id)?; // the customer pays on Stripe's page
//! assert_eq!(gateway.get_payment(&checkout.id).await?.status, PaymentStatus::Succeeded);
//!
//! // In the webhook endpoint, with the raw body: signed events, each handled once.
//! let source = conn.webhook_source().expect("Stripe pushes events");
//! let pushed = sim.trigger("payment.succeeded", "http://127.0.0.1:9/hooks").await?;
//! assert_eq!(source.handle_webhook(&pushed).await?.events.len(), 1);
//! # Ok(()) }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | [`StripeConfig`]: secret key, webhook secrets, tolerance, API version; `stripe://` DSNs |
//! | [`client`] | [`StripeClient`]: one method per API call, form-encoded with brackets, `Idempotency-Key` on every POST |
//! | [`api`] | [`StripeApi`]: Bearer auth, `Stripe-Version` and error mapping for the request pipeline |
//! | [`error`] | Stripe's error envelope → switchboard errors |
//! | [`form`] | the bracket form encoding (`metadata[order_id]=72`) |
//! | [`model`] | the wire types (PaymentIntent, Checkout Session, Charge, Refund, Event, errors) |
//! | [`gateway`] | [`StripeGateway`]: the [`PaymentGateway`] implementation |
//! | [`webhook`] | [`StripeWebhook`]: `Stripe-Signature` verification, exactly as Stripe's libraries do it |
//! | [`provider`] | [`StripeProvider`] and [`register`] |
//! | `sim` | (feature `sim`) the simulator |
//!
//! [`PaymentGateway`]: switchboard_payments::PaymentGateway
#![deny(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
pub mod error;
pub mod form;
pub mod gateway;
pub mod model;
pub mod provider;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;

/// The tests through the public API against the simulator, in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

pub use api::StripeApi;
pub use client::StripeClient;
pub use config::{StripeConfig, StripeConfigBuilder};
pub use gateway::StripeGateway;
pub use provider::{StripeProvider, register};
pub use webhook::StripeWebhook;

/// The DSN scheme and provider name: `stripe`.
pub const SCHEME: &str = "stripe";

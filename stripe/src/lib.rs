//! Stripe (international).
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | [`Config`]: secret key, webhook secrets, tolerance; `stripe://` DSNs |
//! | [`client`] | [`Client`]: one method per API call, form-encoded with brackets, `Idempotency-Key` on every POST |
//! | [`form`] | the bracket form encoding (`metadata[order_id]=72`) |
//! | [`model`] | the wire types (PaymentIntent, Checkout Session, Charge, Refund, Event, errors) |
//! | [`error`] | Stripe's error envelope → switchboard errors |
//! | [`webhook`] | `Stripe-Signature` verification, exactly as Stripe's libraries do it |
//! | [`gateway`] | [`Gateway`]: the [`PaymentGateway`](crate::PaymentGateway) implementation |
//! | `sim` | (feature `sim`) `Simulator`: the simulator |
//!
//! ```no_run
//! use switchboard_payments::{CreatePayment, Currency, IdempotencyKey, Money, PaymentGateway, WebhookOutcome};
//! use switchboard_payments::stripe;
//!
//! # async fn demo(request: switchboard_core::WebhookRequest) -> switchboard_core::Result<()> {
//! let dsn = switchboard_core::Dsn::parse("stripe://sk_live_...@default?webhook_secret=whsec_...")?;
//! let gw = stripe::Gateway::from_dsn(&dsn)?;
//! let checkout = gw
//!     .create_payment(
//!         &CreatePayment::new(Money::parse("19.99", Currency::USD)?)
//!             .description("T-shirt")
//!             .return_url("https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}")
//!             .idempotency_key(IdempotencyKey::new("order-72")?),
//!     )
//!     .await?;
//! println!("send the customer to {:?}", checkout.confirmation_url);
//!
//! // in the webhook endpoint, with the raw body:
//! if let WebhookOutcome::Event(e) = gw.handle_webhook(&request).await? {
//!     println!("{} {}", e.event_type, e.event_id);
//! }
//! # Ok(()) }
//! ```

pub mod client;
pub mod config;
pub mod error;
pub mod form;
pub mod gateway;
pub mod model;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;

pub use client::Client;
pub use config::Config;
pub use gateway::Gateway;
#[cfg(feature = "sim")]
pub use sim::Simulator;

/// The DSN scheme and provider name.
pub const SCHEME: &str = "stripe";

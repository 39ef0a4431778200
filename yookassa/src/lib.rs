//! YooKassa API v3 (Russia).
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | [`Config`]: shop id, secret key, endpoint, notification IPs; `yookassa://` DSNs |
//! | [`client`] | [`Client`]: one method per API call, wire types in and out, `Idempotence-Key` on every POST |
//! | [`model`] | the wire types (amounts as `{"value":"1000.00","currency":"RUB"}`) |
//! | [`error`] | YooKassa's error codes → switchboard errors |
//! | [`webhook`] | notifications: IP allow-list, then re-fetch, trusting the fetched state |
//! | [`gateway`] | [`Gateway`]: the [`PaymentGateway`](crate::PaymentGateway) implementation |
//! | `sim` | (feature `sim`) `Simulator`: the simulator |
//!
//! ```no_run
//! use switchboard_payments::{CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, PaymentGateway};
//! use switchboard_payments::yookassa;
//!
//! # async fn demo() -> switchboard_core::Result<()> {
//! let gw = yookassa::Gateway::from_dsn(&switchboard_core::Dsn::parse("yookassa://100500:live_key@default")?)?;
//! let order = IdempotencyKey::new("order-72")?;
//! let p = gw
//!     .create_payment(
//!         &CreatePayment::new(Money::parse("1000.00", Currency::RUB)?)
//!             .return_url("https://shop.example/return")
//!             .description("Order 72")
//!             .idempotency_key(order.clone()),
//!     )
//!     .await?;
//! println!("send the customer to {:?}", p.confirmation_url);
//! // … later, after payment.succeeded:
//! gw.refund(&CreateRefund::partial(&p.id, Money::parse("200", Currency::RUB)?).idempotency_key(order.derive("refund-1")?))
//!     .await?;
//! # Ok(()) }
//! ```

pub mod client;
pub mod config;
pub mod error;
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
pub const SCHEME: &str = "yookassa";

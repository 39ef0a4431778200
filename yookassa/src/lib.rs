//! # switchboard-yookassa
//!
//! [YooKassa](https://yookassa.ru) API v3 (Russia) behind switchboard-payments' [`PaymentGateway`]:
//! payments with redirect, embedded or saved-method confirmation, two-stage capture, refunds, and
//! HTTP notifications, plus a simulator (module `sim`, feature `sim`).
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> switchboard_core::Result<()> {
//! use switchboard_core::Registry;
//! use switchboard_core::simulated::Simulated;
//! use switchboard_payments::{CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, PaymentStatus};
//!
//! let sim = switchboard_yookassa::sim::Simulator::start().await;
//! let mut registry = Registry::new();
//! switchboard_yookassa::register(&mut registry);
//! // In production: "yookassa://SHOP_ID:SECRET_KEY@default"
//! let conn = registry.connect(&sim.dsn())?;
//! let gateway = switchboard_payments::gateway(&conn).expect("a payment gateway");
//!
//! let order = IdempotencyKey::new("order-72")?;
//! let payment = gateway
//!     .create_payment(
//!         &CreatePayment::new(Money::parse("1000.00", Currency::RUB)?)
//!             .return_url("https://shop.example/thanks")
//!             .metadata("order_id", "72")
//!             .idempotency_key(order.clone()),
//!     )
//!     .await?;
//! assert_eq!(payment.status, PaymentStatus::Pending);
//! sim.pay(&payment.id)?; // the customer pays on the confirmation page
//!
//! let refund = gateway
//!     .refund(&CreateRefund::partial(&payment.id, Money::parse("250", Currency::RUB)?).idempotency_key(order.derive("refund-1")?))
//!     .await?;
//! assert_eq!(refund.amount.to_decimal_string(), "250.00");
//! assert_eq!(gateway.get_payment(&payment.id).await?.refunded.map(|m| m.minor()), Some(25_000));
//! # Ok(()) }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | [`YooKassaConfig`]: shop id, secret key, endpoint, notification IPs; `yookassa://` DSNs |
//! | [`client`] | [`YooKassaClient`]: one method per API call, wire types in and out, `Idempotence-Key` on every POST |
//! | [`api`] | [`YooKassaApi`]: Basic auth and error mapping for the request pipeline |
//! | [`error`] | YooKassa's error codes → switchboard errors |
//! | [`model`] | the wire types (amounts as `{"value":"1000.00","currency":"RUB"}`) |
//! | [`gateway`] | [`YooKassaGateway`]: the [`PaymentGateway`] implementation |
//! | [`webhook`] | [`YooKassaWebhook`]: notifications, checked by IP allow-list, then re-fetched |
//! | [`provider`] | [`YooKassaProvider`] and [`register`] |
//! | `sim` | (feature `sim`) the simulator |
//!
//! [`PaymentGateway`]: switchboard_payments::PaymentGateway
#![deny(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
pub mod error;
pub mod gateway;
pub mod model;
pub mod provider;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;

/// The tests through the public API against the simulator, in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

pub use api::YooKassaApi;
pub use client::YooKassaClient;
pub use config::{YooKassaConfig, YooKassaConfigBuilder};
pub use gateway::YooKassaGateway;
pub use provider::{YooKassaProvider, register};
pub use webhook::YooKassaWebhook;

/// The DSN scheme and provider name: `yookassa`.
pub const SCHEME: &str = "yookassa";

//! # switchboard-payments
//!
//! The payment model every payment provider crate implements: one [`PaymentGateway`] trait, so that
//! the same code takes and refunds a payment through **YooKassa** (`switchboard-yookassa`) or
//! **Stripe** (`switchboard-stripe`), with the two things payment code most often gets wrong done
//! right:
//!
//! * **Never charge twice.** Every POST carries an idempotency key ([`IdempotencyKey`]: yours, such as
//!   the order id, or a fresh one); a timeout or a provider's "no definite answer" is retried with the
//!   *same* key, so the provider answers the first result instead of charging again.
//! * **Money is exact.** [`Money`] is integer minor units of an ISO 4217 [`Currency`] whose exponent is
//!   known (JPY 0, RUB 2, KWD 3); providers' decimal strings and integers are converted without a float
//!   anywhere.
//!
//! Webhooks are verified by each provider crate before anything is believed; repeated deliveries come
//! back as [`WebhookOutcome::Duplicate`], through an [`EventStore`] the host can back with its
//! database, and [`PaymentWebhooks`] hands a gateway's events to a Messenger as core
//! [`Event::Payment`](switchboard_core::Event::Payment)s.
//!
//! A provider crate registers with the core registry; [`gateway()`] finds the gateway in what a DSN
//! connected to, whichever provider it is:
//!
//! ```
//! use switchboard_core::{Connection, Error, Result};
//! use switchboard_payments::{CreatePayment, Currency, IdempotencyKey, Money};
//!
//! /// Charges 1000.00 RUB through whatever payment provider `conn` (from `switchboard::connect`) is.
//! async fn charge(conn: &Connection) -> Result<String> {
//!     let gateway = switchboard_payments::gateway(conn)
//!         .ok_or_else(|| Error::config(format!("a {} DSN is not a payment provider", conn.provider())))?;
//!     let payment = gateway
//!         .create_payment(
//!             &CreatePayment::new(Money::parse("1000.00", Currency::RUB)?)
//!                 .return_url("https://shop.example/thanks")
//!                 .idempotency_key(IdempotencyKey::new("order-72")?),
//!         )
//!         .await?;
//!     Ok(payment.confirmation_url.unwrap_or_default())
//! }
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`money`] | [`Money`], [`Currency`]: exact amounts and provider wire forms |
//! | [`gateway`](mod@gateway) | [`PaymentGateway`] and the normalised [`Payment`], [`Refund`], [`PaymentStatus`], webhooks |
//! | [`connection`](mod@connection) | how a gateway is kept in a core [`Connection`](switchboard_core::Connection): [`connection()`], [`gateway()`] |
//! | [`idempotency`] | [`IdempotencyKey`] |
//! | [`dedupe`] | [`EventStore`] and [`MemoryEventStore`] |
//! | [`outcome`] | what an error says about a provider call that already happened, or provably has not |
//! | `simkit` | (feature `sim`) what the payment simulators share |
#![deny(missing_docs)]

pub mod connection;
pub mod dedupe;
pub mod gateway;
pub mod idempotency;
pub mod money;
pub mod outcome;
#[cfg(feature = "sim")]
pub mod simkit;
#[cfg(test)]
mod tests;

pub use connection::{connection, gateway};
pub use dedupe::{EventStore, MemoryEventStore};
pub use gateway::{
    CaptureMode, CreatePayment, CreateRefund, Payment, PaymentGateway, PaymentStatus, PaymentWebhook, PaymentWebhooks,
    Refund, RefundStatus, WebhookObject, WebhookOutcome,
};
pub use idempotency::IdempotencyKey;
pub use money::{Currency, Money};

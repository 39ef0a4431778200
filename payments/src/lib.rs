//! # switchboard-payments
//!
//! Take and refund payments through **YooKassa** (Russia, API v3) and **Stripe** (international) behind
//! one [`PaymentGateway`] trait, with the two things payment code most often gets wrong done right:
//!
//! * **Never charge twice.** Every POST carries an idempotency key ([`IdempotencyKey`]: yours, such as
//!   the order id, or a fresh one); a timeout or YooKassa's "no definite answer" 500 is retried with the
//!   *same* key, so the provider answers the first result instead of charging again.
//! * **Money is exact.** [`Money`] is integer minor units of an ISO 4217 [`Currency`] whose exponent is
//!   known (JPY 0, RUB 2, KWD 3); YooKassa's `"1000.00"` strings and Stripe's integers are converted
//!   without a float anywhere.
//!
//! Webhooks are verified before anything is believed: Stripe's `Stripe-Signature` exactly as Stripe's
//! libraries check it (tolerance, secret rotation), YooKassa's unsigned notifications by source IP and
//! by re-fetching the object. Repeated deliveries come back as [`WebhookOutcome::Duplicate`], through an
//! [`EventStore`] the host can back with its database.
//!
//! ```
//! # #[cfg(all(feature = "sim", feature = "yookassa"))]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> switchboard_core::Result<()> {
//! use switchboard_payments::{
//!     CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, PaymentGateway, PaymentStatus, yookassa,
//! };
//!
//! let sim = yookassa::Simulator::start().await; // or a real shop: "yookassa://SHOP_ID:SECRET_KEY@default"
//! let gateway = switchboard_payments::from_dsn(&switchboard_core::Dsn::parse(&sim.dsn())?)?;
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
//! # #[cfg(not(all(feature = "sim", feature = "yookassa")))]
//! # fn main() {}
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`money`] | [`Money`], [`Currency`]: exact amounts and provider wire forms |
//! | [`gateway`] | [`PaymentGateway`] and the normalised [`Payment`], [`Refund`], [`PaymentStatus`], webhooks |
//! | [`idempotency`] | [`IdempotencyKey`] |
//! | [`dedupe`] | [`EventStore`] and [`MemoryEventStore`] |
//! | `yookassa` | (feature `yookassa`) client, gateway, notifications, simulator |
//! | `stripe` | (feature `stripe`) client, gateway, signed webhooks, simulator |
//!
//! Features: `yookassa` and `stripe` (both default), `sim` (the simulators).
#![deny(missing_docs)]

pub mod dedupe;
pub mod gateway;
pub mod idempotency;
pub mod money;
#[cfg(any(feature = "yookassa", feature = "stripe"))]
mod outcome;
#[cfg(any(feature = "yookassa", feature = "stripe"))]
mod serde_null;
#[cfg(any(feature = "yookassa", feature = "stripe"))]
mod serde_secs;
#[cfg(all(feature = "sim", any(feature = "yookassa", feature = "stripe")))]
mod simkit;
#[cfg(feature = "stripe")]
pub mod stripe;
#[cfg(feature = "yookassa")]
pub mod yookassa;

pub use dedupe::{EventStore, MemoryEventStore};
pub use gateway::{
    CaptureMode, CreatePayment, CreateRefund, Payment, PaymentGateway, PaymentStatus, PaymentWebhook, PaymentWebhooks,
    Refund, RefundStatus, WebhookObject, WebhookOutcome, from_dsn,
};
pub use idempotency::IdempotencyKey;
pub use money::{Currency, Money};

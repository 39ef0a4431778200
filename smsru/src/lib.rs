//! # SMS.ru
//!
//! [SMS.ru](https://sms.ru)'s HTTP API: send (one number, a list, or a text per number), message
//! status, cost, balance and limits, and delivery callbacks; [`SmsRuTransport`] for the Messenger,
//! [`register`] for the DSN registry, and a simulator (module `sim`, feature `sim`).
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::simulated::Simulated;
//! use switchboard_core::{DeliveryStatus, Message, PhoneNumber, Transport};
//! use switchboard_smsru::{SmsRuTransport, sim::Simulator};
//!
//! let sim = Simulator::start().await;
//! // In production: "smsru://API_ID@default?from=Shop&webhook_secret=…"
//! let smsru = SmsRuTransport::from_dsn_str(&sim.dsn())?;
//!
//! let to: PhoneNumber = "+79255070602".parse()?;
//! let receipt = smsru.send(&Message::sms(to, "Ваш заказ отправлен")).await?;
//! assert_eq!(receipt.status, DeliveryStatus::Queued);
//!
//! for _ in 0..3 {
//!     sim.advance().await; // 100 → 101 → 102 → 103: the operator delivers it
//! }
//! let report = smsru.status(receipt.provider_id()).await?;
//! assert_eq!((report.status, report.raw_status.as_str()), (DeliveryStatus::Delivered, "103"));
//!
//! let balance = smsru.client().balance().await?;
//! assert_eq!(balance.balance.to_minor_units(), Some(100_000 - 350)); // 1 part at the simulator's 3.50 ₽
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! ## What maps to what
//!
//! * Every method is a form `POST` with `json=1` ([`SmsRuClient`]) through core's request pipeline
//!   ([`SmsRuApi`] puts the credentials in the body); SMS.ru answers HTTP 200 with
//!   `status`/`status_code` in the body. Codes map through one table ([`error::CODES`],
//!   [`error::parse_error`]); only `220` and `500` are temporary (and, being explicit refusals, safe to
//!   repeat). A per-number refusal inside an `OK` reply fails only that number.
//! * Message states map to [`DeliveryStatus`](switchboard_core::DeliveryStatus) by
//!   [`error::delivery_status`]; the raw code is always kept. A status report carries the message's
//!   `cost` as its price (roubles) and, for a failure, SMS.ru's `status_text`.
//! * After SMS.ru answered, nothing is `NotSent` unless SMS.ru plainly refused: an answer that cannot
//!   be read, that says nothing about a number, that says `OK` without a message id or `ERROR` with
//!   one, is `MaybeSent`.
//! * [`SmsRuTransport::send_many`](switchboard_core::Transport::send_many) puts up to 100 numbers in one
//!   request (a shared text as `to=…&msg=…`, different texts as `to[N]=…`).
//! * Delivery callbacks ([`SmsRuWebhook`]) carry `data[N]` records and are answered
//!   [`CALLBACK_ANSWER`] (`100`). SMS.ru does not sign them, so the callback URL must carry the
//!   configured secret (`?token=…`), and callbacks are refused while no secret is configured.
//!
//! Numbers go on the wire as digits without `+`, as SMS.ru's documentation writes them. Nothing in
//! this crate logs or prints a whole number, a key or a callback secret.
#![deny(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod provider;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transport;
pub mod webhook;

pub use api::SmsRuApi;
pub use client::SmsRuClient;
pub use config::{Credentials, SmsRuConfig, SmsRuConfigBuilder};
pub use model::{Amount, Recipients, SendRequest, SendResponse, SmsResult};
pub use provider::{SmsRuProvider, register};
pub use transport::SmsRuTransport;
pub use webhook::{CALLBACK_ANSWER, CallbackRecord, SmsRuWebhook};

/// The DSN scheme and provider name: `smsru`.
pub const SCHEME: &str = "smsru";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

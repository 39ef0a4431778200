//! # switchboard
//!
//! One Rust API for the providers CRM-style applications talk to: a Dinstar GSM gateway, cloud SMS
//! (Mitto, MightyCall, SMS.ru, Twilio), click-to-call (TeleCMI), email over SMTP, Firebase push, a
//! Telegram bot, payments (YooKassa, Stripe) and ERP sync with 1C.
//!
//! This facade re-exports [`switchboard_core`] (phone numbers, SMS segments, the error model, the
//! [`Transport`] trait) and every integration enabled by a cargo feature (all by default), and adds the
//! [`Messenger`]: one `send` / `status` / `handle_webhook` API over named transports, with routes,
//! failover, round-robin, cool-downs, rate and concurrency limits, and a journal.
//!
//! The rule everything here follows: **never send twice**. Every error carries a [`Dispatch`] fact,
//! and failover moves to the next transport only when the previous one certainly did not send.
//!
//! ```no_run
//! use std::sync::Arc;
//! use switchboard::{MemoryJournal, Message, Messenger, PhoneNumber, Route};
//!
//! # async fn demo() -> switchboard::Result<()> {
//! let journal = Arc::new(MemoryJournal::new());
//! let messenger = Messenger::builder_from_dsns([
//!     // Albania through the office gateway, with cloud SMS as failover; the rest through the cloud.
//!     "failover(dinstar://admin:secret@10.0.0.5:8081?sn=DG80-1234 mitto://KEY@default?from=Acme)",
//! ])?
//! .journal(journal.clone())
//! .build()?;
//! let to: PhoneNumber = "+355694123456".parse()?;
//! let receipt = messenger.send(Message::sms(to, "Porosia juaj u dërgua")).await?;
//! println!("{} accepted it as {}", receipt.transport, receipt.provider_id());
//! # Ok(()) }
//! ```
//!
//! | feature | crate | what |
//! |---|---|---|
//! | `dinstar` | [`dinstar`] | Dinstar GSM gateways over HTTP with Digest auth |
//! | `mitto` | [`mitto`] | Mitto SMS (legacy REST and messaging API) |
//! | `mightycall` | [`mightycall`] | MightyCall API v4 |
//! | `telecmi` | [`telecmi`] | TeleCMI click-to-call, call records, call webhooks |
//! | `smsru`, `twilio`, `email`, `fcm`, `telegram` | [`notify`] | SMS.ru, Twilio, SMTP, Firebase push, Telegram |
//! | `payments` | [`payments`] | YooKassa and Stripe |
//! | `erp` | [`erp`] | 1C:Enterprise over OData |
//! | `sim` | — | every enabled integration's simulator, for your own tests |
#![deny(missing_docs)]

mod connect;
mod durable;
mod failover;
mod health;
mod messenger;
mod route;

pub use connect::{known_schemes, transport_from_dsn};
pub use failover::{AllFailed, Attempt};
pub use health::HealthPolicy;
pub use messenger::{Messenger, MessengerBuilder, TransportEvent};
pub use route::Route;

pub use switchboard_core as core;
pub use switchboard_core::*;

#[cfg(feature = "dinstar")]
pub use switchboard_dinstar as dinstar;
#[cfg(feature = "erp")]
pub use switchboard_erp as erp;
#[cfg(feature = "mightycall")]
pub use switchboard_mightycall as mightycall;
#[cfg(feature = "mitto")]
pub use switchboard_mitto as mitto;
#[cfg(any(
    feature = "smsru",
    feature = "twilio",
    feature = "email",
    feature = "fcm",
    feature = "telegram"
))]
pub use switchboard_notify as notify;
#[cfg(feature = "payments")]
pub use switchboard_payments as payments;
#[cfg(feature = "telecmi")]
pub use switchboard_telecmi as telecmi;

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
//! ```
//! use switchboard::{Message, Messenger, Route, transport_from_dsn};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let messenger = Messenger::builder()
//!     .transport("gsm", transport_from_dsn("dinstar://admin:secret@10.0.0.5:8081")?)
//!     .transport("cloud", transport_from_dsn("mitto://KEY@default?from=Acme&api=messaging&traffic_account=T1")?)
//!     // Albania through the office gateway's SIM cards, with the cloud as failover...
//!     .route(Route::country(355).via(["gsm", "cloud"]))
//!     // ...and every other number through the cloud only.
//!     .route(Route::any_phone().via(["cloud"]))
//!     .build()?;
//!
//! // Nothing is sent here: `plan` says which transports a send would try, in order.
//! let albanian = Message::sms("+355694123456".try_into()?, "Porosia juaj u dërgua");
//! let german = Message::sms("+4915123456789".try_into()?, "Ihre Bestellung ist unterwegs");
//! assert_eq!(messenger.plan(&albanian)?, ["gsm", "cloud"]);
//! assert_eq!(messenger.plan(&german)?, ["cloud"]);
//! // messenger.send(albanian).await? sends it; messenger.status(&receipt).await? follows it.
//! # Ok(()) }
//! ```
//!
//! `Messenger::from_dsns(["failover(dinstar://… mitto://…)"])` is the short form for one route that
//! takes **every** recipient through the group in order; routes by country need the builder, as above.
//!
//! | feature | crate | what |
//! |---|---|---|
//! | `dinstar` | [`dinstar`] | Dinstar GSM gateways over HTTP with Digest auth |
//! | `mitto` | [`mitto`] | Mitto SMS (legacy REST and messaging API) |
//! | `mightycall` | [`mightycall`] | MightyCall API v4 |
//! | `telecmi` | [`telecmi`] | TeleCMI click-to-call, call records, call webhooks |
//! | `smsru` | [`smsru`] | SMS.ru |
//! | `twilio` | [`twilio`] | Twilio Programmable Messaging |
//! | `email` | [`email`] | email over SMTP |
//! | `fcm` | [`fcm`] | Firebase Cloud Messaging HTTP v1 |
//! | `telegram` | [`telegram`] | Telegram Bot API |
//! | `yookassa` | [`yookassa`] | YooKassa API v3 payments (with [`payments`], the model both payment providers share) |
//! | `stripe` | [`stripe`] | Stripe payments (with [`payments`]) |
//! | `onec` | [`onec`] | 1C:Enterprise over OData (and its HTTP services) |
//! | `store` | [`store`] | SQLite and PostgreSQL stores and the outbox (`switchboard-store`); `store-postgres` adds PostgreSQL, `store-redis` the shared rate limiter |
//! | `sim` | — | every enabled integration's simulator, for your own tests: enable it in `[dev-dependencies]` only, since it puts wiremock and an HTTP server into whatever build has it |
#![deny(missing_docs)]

/// The README's Rust snippets, compiled as doc tests so they cannot drift from the API.
#[cfg(all(doctest, feature = "store", feature = "dinstar", feature = "mitto"))]
#[doc = include_str!("../README.md")]
struct ReadmeSnippets;

mod connect;
mod durable;
mod failover;
mod health;
mod messenger;
#[cfg(feature = "store")]
mod outbox;
mod route;

pub use connect::{connect, known_schemes, registry, transport_from_dsn};
pub use failover::{AllFailed, Attempt};
pub use health::HealthPolicy;
pub use messenger::{HandledWebhook, Messenger, MessengerBuilder, TransportEvent};
#[cfg(feature = "store")]
pub use outbox::store;
pub use route::Route;

pub use switchboard_core as core;
pub use switchboard_core::*;

#[cfg(feature = "dinstar")]
pub use switchboard_dinstar as dinstar;
#[cfg(feature = "email")]
pub use switchboard_email as email;
#[cfg(feature = "fcm")]
pub use switchboard_fcm as fcm;
#[cfg(feature = "mightycall")]
pub use switchboard_mightycall as mightycall;
#[cfg(feature = "mitto")]
pub use switchboard_mitto as mitto;
#[cfg(feature = "onec")]
pub use switchboard_onec as onec;
#[cfg(any(feature = "yookassa", feature = "stripe"))]
pub use switchboard_payments as payments;
#[cfg(feature = "smsru")]
pub use switchboard_smsru as smsru;
#[cfg(feature = "stripe")]
pub use switchboard_stripe as stripe;
#[cfg(feature = "telecmi")]
pub use switchboard_telecmi as telecmi;
#[cfg(feature = "telegram")]
pub use switchboard_telegram as telegram;
#[cfg(feature = "twilio")]
pub use switchboard_twilio as twilio;
#[cfg(feature = "yookassa")]
pub use switchboard_yookassa as yookassa;

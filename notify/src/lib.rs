//! # switchboard-notify
//!
//! The rest of the messaging surface, each provider a module behind its own feature and each a
//! [`Transport`](switchboard_core::Transport) for the Messenger:
//!
//! | feature | module | provider | DSN |
//! |---|---|---|---|
//! | `smsru` | [`smsru`] | SMS.ru | `smsru://API_ID@default?from=NAME` |
//! | `twilio` | [`twilio`] | Twilio Programmable Messaging | `twilio://SID:TOKEN@default?from=+1…` |
//! | `email` | [`email`] | SMTP through lettre | `smtp://USER:PASS@HOST:587?from=…` |
//! | `fcm` | [`fcm`] | Firebase Cloud Messaging HTTP v1 | `fcm://PROJECT@default?credentials=/key.json` |
//! | `telegram` | [`telegram`] | Telegram Bot API | `telegram://TOKEN@default?chat_id=…` |
//!
//! Feature `sim` adds a simulator for each HTTP provider.
//!
//! ```
//! # #[cfg(feature = "email")]
//! # async fn demo() -> switchboard_core::Result<()> {
//! use switchboard_core::{Message, Recipient, Transport};
//! use switchboard_notify::email::EmailTransport;
//!
//! // `mode=memory` keeps mail in an in-process outbox: no server, no network.
//! let mail = EmailTransport::from_dsn_str("smtp://localhost?mode=memory&from=shop@example.com")?;
//! let to = Recipient::email("ana@example.al")?;
//! let receipt = mail.send(&Message::email(to, "Your order", "It has shipped.")).await?;
//! assert_eq!(mail.outbox().map(|o| o.len()), Some(1));
//! # let _ = receipt; Ok(()) }
//! # #[cfg(feature = "email")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```
#![deny(missing_docs)]

#[cfg(feature = "email")]
pub mod email;
#[cfg(feature = "fcm")]
pub mod fcm;
#[cfg(feature = "smsru")]
pub mod smsru;
#[cfg(feature = "telegram")]
pub mod telegram;
#[cfg(feature = "twilio")]
pub mod twilio;

//! # Email over SMTP (lettre)
//!
//! Plain-text and HTML alternatives, attachments and UTF-8 subjects over SMTP with STARTTLS (587),
//! implicit TLS (465) or plain text for a local relay, with AUTH; a whole-send timeout (lettre's own
//! covers only connecting); SMTP replies mapped to errors whose dispatch fact says whether the message
//! can have been accepted; tiny `{{name}}` [`Template`]s; and two offline modes for quickstarts and
//! tests: an in-memory [`Outbox`] and `.eml` files.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::{Attachment, Message, Recipient, Transport};
//! use switchboard_email::EmailTransport;
//!
//! // In production: "smtp://USER:PASS@smtp.example.com?from=Shop%20<noreply@shop.example>"
//! let mail = EmailTransport::from_dsn_str("smtp://localhost?mode=memory&from=Shop%20<noreply@shop.example>")?;
//!
//! let msg = Message::email(Recipient::email("ana@example.al")?, "Счёт №72", "Your invoice is attached.")
//!     .with_html("<p>Your invoice is <b>attached</b>.</p>")
//!     .with_attachment(Attachment {
//!         filename: "invoice-72.pdf".into(),
//!         content_type: "application/pdf".into(),
//!         content: bytes::Bytes::from_static(b"%PDF-1.4 ..."),
//!     });
//! let receipt = mail.send(&msg).await?;
//!
//! let sent = &mail.outbox().unwrap().messages()[0];
//! assert_eq!(sent.message_id, receipt.provider_id());
//! assert!(sent.raw_text().contains("multipart/alternative"));
//! # Ok(())
//! # }
//! ```
//!
//! ## What maps to what
//!
//! * [`Config`] from `smtp://` (STARTTLS required), `smtps://` (implicit TLS), `tls=none` (local),
//!   `mode=memory` / `mode=file`. Credentials are never sent without TLS to a remote host.
//! * Errors ([`error`]): a negative reply at any stage is `NotSent` (4xx temporary, 5xx final; 535 is
//!   `Auth`); a dropped connection or timeout before the message body is `NotSent`, after it
//!   `MaybeSent`.
//! * [`EmailTransport`] for the Messenger; [`Mailer`] for Cc/Bcc/Reply-To and lettre messages.
//!
//! There is no HTTP simulator for SMTP: the memory mode is what the quickstart and host tests use,
//! and this crate's own tests talk to a real SMTP server (the `mailin` state machine, which the tests
//! start in process on loopback).

pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod template;
pub mod transport;

pub use client::{Accepted, Mailer};
pub use config::{Config, ConfigBuilder, Mode, Security};
pub use model::{Email, Outbox, SentEmail};
pub use template::{Rendered, Template};
pub use transport::EmailTransport;

/// The DSN scheme and provider name: `smtp` (`smtps` is accepted too).
pub const SCHEME: &str = "smtp";

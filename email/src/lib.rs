//! # Email over SMTP (lettre)
//!
//! Plain-text and HTML alternatives, attachments and UTF-8 subjects over SMTP with STARTTLS (587),
//! implicit TLS (465) or plain text for a local relay, with AUTH; a whole-send timeout (lettre's own
//! covers only connecting); SMTP replies mapped to errors whose dispatch fact says whether the message
//! can have been accepted; tiny `{{name}}` [`Template`]s; and two offline modes for quickstarts and
//! tests: an in-memory [`Outbox`] (the simulator) and `.eml` files.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::simulated::Simulated;
//! use switchboard_core::{Attachment, Message, Recipient, Transport};
//! use switchboard_email::{EmailTransport, sim::Simulator};
//!
//! let sim = Simulator::start().await;
//! // In production: "smtp://USER:PASS@smtp.example.com?from=Shop%20<noreply@shop.example>"
//! let mail = EmailTransport::from_dsn_str(&sim.dsn())?;
//!
//! let msg = Message::email("ana@example.al", "Счёт №72", "Your invoice is attached.")?
//!     .with_html("<p>Your invoice is <b>attached</b>.</p>")
//!     .with_attachment(Attachment {
//!         filename: "invoice-72.pdf".into(),
//!         content_type: "application/pdf".into(),
//!         content: bytes::Bytes::from_static(b"%PDF-1.4 ..."),
//!     });
//! let receipt = mail.send(&msg).await?;
//!
//! let sent = &sim.sent()[0];
//! assert_eq!(sent.id, receipt.provider_id());
//! assert!(sent.text.contains("multipart/alternative"));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! ## What maps to what
//!
//! * [`EmailConfig`] from `smtp://` (STARTTLS required), `smtps://` (implicit TLS), `tls=none`
//!   (local), `mode=memory` (optionally `outbox=NAME`, a process-wide outbox) / `mode=file`.
//!   Credentials are never sent without TLS to a remote host.
//! * Errors ([`error`]): a negative reply at any stage is `NotSent` (4xx temporary, 5xx final; 535 is
//!   `Auth`); a dropped connection or timeout before the message body is `NotSent`, after it
//!   `MaybeSent`.
//! * [`EmailTransport`] for the Messenger; [`EmailClient`] for Cc/Bcc/Reply-To and lettre messages;
//!   [`register`] for the provider registry (`smtp` and `smtps`).
//!
//! SMTP is not HTTP, so there is no request pipeline here: the client drives the SMTP conversation
//! itself to know how far it got. The simulator (module `sim`, feature `sim`) is the memory mode's
//! outbox; this crate's own tests also talk to a real SMTP server (the `mailin` state machine, which
//! the tests start in process on loopback).
//!
//! Nothing here logs or prints a password; `Debug` of a message shows counts, not addresses.

pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod outbox;
pub mod provider;
#[cfg(feature = "sim")]
pub mod sim;
pub mod template;
pub mod transport;

pub use client::{Accepted, EmailClient};
pub use config::{EmailConfig, EmailConfigBuilder, Mode, Security};
pub use model::Email;
pub use outbox::{Outbox, SentEmail};
pub use provider::{EmailProvider, register};
pub use template::{Rendered, Template};
pub use transport::EmailTransport;

/// The DSN scheme and provider name: `smtp` (`smtps` is accepted too).
pub const SCHEME: &str = "smtp";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(test)]
mod tests;

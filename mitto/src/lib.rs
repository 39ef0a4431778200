//! # switchboard-mitto
//!
//! [Mitto](https://docs.mitto.ch) SMS for switchboard: the legacy REST API (`POST /sms`, `/smsbulk`,
//! `/usage/bycountry`, `/sms/converted`) and the messaging API (`/api/v1.1/Messages/send`, `sendbulk`,
//! `GET /api/v1.1/Messages/{id}`), delivery-report webhooks for both, and a simulator.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::{DeliveryStatus, Message, PhoneNumber, Transport};
//! use switchboard_mitto::{MittoTransport, sim::Simulator};
//!
//! let sim = Simulator::start().await;
//! // In production: "mitto://API_KEY@default?from=Acme&api=messaging&traffic_account=…"
//! let mitto = MittoTransport::from_dsn_str(&sim.dsn_messaging())?;
//!
//! let to = PhoneNumber::parse("+41 75 123 12 34", None)?;
//! let receipt = mitto.send(&Message::sms(to, "Your code is 4821")).await?;
//! assert_eq!(receipt.segments.map(|s| s.segments), Some(1));
//!
//! let status = mitto.status(receipt.provider_id()).await?; // the simulator moves one step per lookup
//! assert_eq!(status.status, DeliveryStatus::Sent);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! * [`MittoTransport`] is the [`Transport`](switchboard_core::Transport): `send`, `send_many` (through
//!   the bulk endpoints), `status` (messaging API) and `handle_webhook`.
//! * [`MittoClient`] has one method per API operation, for what a transport does not cover; every
//!   request goes through core's pipeline over [`MittoApi`].
//! * [`MittoConfig`] comes from a DSN, `mitto://API_KEY@default?from=SENDER[&api=legacy|messaging]
//!   [&traffic_account=ID][&webhook_secret=…]`, or from its builder. With a traffic account and no
//!   `api`, the messaging API is used: it is the one that can look a message's status up.
//! * Errors: [`error::parse_error`] reads every answer of both APIs, with the legacy `responseCode` table
//!   [`ResponseCode`]; every error names `mitto`, keeps Mitto's code and text, and says whether the
//!   message may have gone out.
//! * Delivery reports are verified by a secret in the callback URL ([`MittoWebhook`]); register
//!   `https://your.host/hooks/mitto?token=SECRET` with Mitto (or set it as `callback`).
//! * [`register`] adds Mitto to a [`Registry`](switchboard_core::Registry).
#![deny(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod provider;
pub mod sender;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transport;
pub mod webhook;

pub use api::MittoApi;
pub use client::MittoClient;
pub use config::{Flavour, MittoConfig, MittoConfigBuilder};
pub use error::{ResponseCode, parse_error};
pub use model::{
    BulkMessage, BulkSmsRequest, BulkSmsResponse, MessageRecord, MessagingBulkRequest, MessagingSendRequest,
    MessagingSendResponse, SentMessage, SmsContent, SmsRequest, SmsResponse, SmsType, UsageRequest, UsageRow,
    map_delivery_status,
};
pub use provider::{MittoProvider, register};
pub use transport::MittoTransport;
pub use webhook::{DeliveryReport, MittoWebhook};

/// The DSN scheme and provider name: `mitto`.
pub const SCHEME: &str = "mitto";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

//! # Firebase Cloud Messaging (HTTP v1)
//!
//! Push notifications through FCM's HTTP v1 API, authenticated with a service-account key: the
//! client signs an RS256 JWT, exchanges it for an OAuth access token, caches the token until shortly
//! before it expires and refreshes it once however many sends are waiting. The legacy server-key API
//! (`/fcm/send`) was shut down in 2024 and is not offered.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::simulated::Simulated;
//! use switchboard_core::{Message, Recipient, Transport};
//! use switchboard_fcm::{FcmTransport, is_unregistered, sim::Simulator};
//!
//! let sim = Simulator::start().await;
//! // In production: FcmTransport::from_dsn_str("fcm://my-project@default?credentials=/etc/app/sa.json")
//! let push = FcmTransport::from_dsn_str(&sim.dsn())?;
//!
//! let device = sim.register_device();
//! let msg = Message::push(Recipient::PushToken(device.clone()), "Order #72", "Paid").with_data("order_id", "72");
//! let receipt = push.send(&msg).await?;
//! assert!(receipt.provider_id().starts_with("projects/switchboard-sim/messages/"));
//! assert_eq!(sim.sent()[0].text, "Paid");
//!
//! sim.unregister(&device); // the app was uninstalled
//! let err = push.send(&msg).await.unwrap_err();
//! assert!(is_unregistered(&err)); // → delete the token
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! ## What maps to what
//!
//! * [`FcmMessage`] is the v1 `Message` resource (token / topic / condition, `notification`, string
//!   `data`, `android` / `apns` / `webpush` / `fcm_options`), checked before sending
//!   ([`FcmMessage::validate`]).
//! * Every call goes through core's request pipeline ([`FcmApi`]: the Bearer token, FCM's error
//!   envelope, one repeat with a fresh token when FCM refuses the cached one).
//! * Errors ([`error`]): `UNREGISTERED` is `NotFound` with provider code `UNREGISTERED`
//!   ([`is_unregistered`]; [`is_invalid_token`] also covers `SENDER_ID_MISMATCH` and malformed
//!   tokens); `QUOTA_EXCEEDED` and `UNAVAILABLE` are temporary, `NotSent`, with `Retry-After`;
//!   `INTERNAL` may have been delivered (`MaybeSent`); `THIRD_PARTY_AUTH_ERROR` is a project
//!   configuration fault (`Auth`).
//! * OAuth ([`auth`]): the JWT Google's libraries make, exchanged through the pipeline too and kept in
//!   core's token cache; token errors (`invalid_grant`…) are `Auth` or `Config`, always `NotSent`.
//! * A 200 whose body cannot be read or does not name the message (`projects/…/messages/…`) is
//!   `Decode` and `MaybeSent`: FCM took the request, so it is never repeated blindly.
//! * [`FcmTransport`] for the Messenger; [`register`] for the provider registry (`fcm`).
//!
//! Nothing here logs or prints the private key, an access token or a whole device token.

pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod provider;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transport;

pub use api::FcmApi;
pub use client::FcmClient;
pub use config::{FcmConfig, FcmConfigBuilder, ServiceAccount};
pub use error::{ApiError, is_invalid_token, is_unregistered};
pub use model::{
    AndroidConfig, AndroidNotification, AndroidPriority, ApnsConfig, FcmMessage, FcmOptions, Notification,
    SendResponse, WebpushConfig,
};
pub use provider::{FcmProvider, register};
pub use transport::FcmTransport;

/// The DSN scheme and provider name: `fcm`.
pub const SCHEME: &str = "fcm";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

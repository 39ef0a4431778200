//! # switchboard-mightycall
//!
//! [MightyCall](https://www.mightycall.com) API v4 for switchboard: token authentication with refresh
//! and single-flight fetching, SMS from business numbers, the call/message journal with a resumable
//! history sync, business numbers, ping — for both account flavours (Contact Center on
//! `ccapi.mightycall.com`, Classic on `api.mightycall.com`) — and a simulator.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use switchboard_core::{Message, PhoneNumber, Transport};
//! use switchboard_mightycall::{MightyCallTransport, SyncCursor, JournalQuery, sim::Simulator};
//!
//! let sim = Simulator::start().await;
//! // In production: "mightycall://API_KEY:USER_KEY@default?from=%2B18444131701&flavour=cc"
//! let mc = MightyCallTransport::from_dsn_str(&sim.dsn())?;
//!
//! let to = PhoneNumber::parse("+1 202 555 0143", None)?;
//! let receipt = mc.send(&Message::sms(to, "Your table is ready")).await?;
//! println!("sent as {}", receipt.provider_id());
//!
//! // Sync the journal (calls and messages) page by page; store `page.cursor` to resume.
//! let mut pages = Box::pin(mc.client().history(SyncCursor::from_now(None), JournalQuery::new()));
//! while let Some(page) = pages.try_next().await? {
//!     for entry in &page.requests {
//!         let _event = entry.to_event(); // Inbound / Delivery / Call
//!     }
//!     let _resume_from = page.cursor.encode();
//! }
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! * [`MightyCallTransport`] is the [`Transport`](switchboard_core::Transport) (`send`, `status`).
//! * [`MightyCallClient`] has one method per operation; every request goes through core's pipeline over
//!   [`MightyCallApi`], which owns the token ([`switchboard_core::token`]): refreshed before the 24 h
//!   expiry, fetched once for any number of concurrent callers, refreshed once and the call repeated
//!   once on a 401.
//! * [`MightyCallConfig`] comes from a DSN, `mightycall://API_KEY:USER_KEY@default?from=%2B1…
//!   [&flavour=cc|classic][&paths=api|bare]`, or from its builder.
//! * [`error::parse_error`] reads every answer, the token endpoint's OAuth errors included.
//! * The operations' paths are not confirmed by a vendor reference; they are mapped in one place,
//!   [`paths`].
//! * MightyCall documents no webhooks: nothing is pushed, and history is synced from the journal.
//! * [`register`] adds MightyCall to a [`Registry`](switchboard_core::Registry).
#![deny(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
pub mod error;
pub mod history;
pub mod journal;
pub mod model;
pub mod paths;
pub mod provider;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transport;

pub use api::MightyCallApi;
pub use client::MightyCallClient;
pub use config::{Flavour, MightyCallConfig, MightyCallConfigBuilder, PathStyle};
pub use error::parse_error;
pub use history::{HistoryPage, SyncCursor};
pub use journal::{JournalParty, PartyObject, UndecodableEntry};
pub use model::{
    BusinessNumber, JournalPage, JournalQuery, JournalRequest, SendMessageRequest, SendResult, map_call_state,
    map_message_state,
};
pub use provider::{MightyCallProvider, register};
pub use switchboard_core::clock::{Clock, ManualClock, SystemClock};
pub use switchboard_core::token::TokenState;
pub use transport::MightyCallTransport;

/// The DSN scheme and provider name: `mightycall`.
pub const SCHEME: &str = "mightycall";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

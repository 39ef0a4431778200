//! # switchboard-dinstar
//!
//! A client for Dinstar DWG/UC GSM/LTE gateways — the boxes on a customer's LAN that send SMS through
//! real SIM cards — over their HTTP API ("new-version API", firmware 1102+), done the way the PHP
//! scripts people wrote for it were not:
//!
//! * **Digest auth without getting banned**: one challenge per client, then every request answered
//!   pre-emptively while the nonce lasts; a stale nonce costs one re-challenge; refused credentials
//!   stop the client for a cool-down instead of hammering a gateway that bans by IP (see
//!   [Digest authentication](#digest-authentication)).
//! * **`error_code` 202 is success**, branched on in the body (the HTTP status is 200 even for
//!   errors), and every documented code maps to a clear [`Error`](switchboard_core::Error) with the
//!   right [`Dispatch`](switchboard_core::Dispatch) fact.
//! * **Batches**: up to 128 recipients per request, `#param#` templates, port choice, the encoding
//!   chosen from the text, a unique `user_id` per recipient ([`UserIds`]).
//! * **No duplicate SMS**: a send whose answer was lost is reconciled by `user_id`
//!   ([`DinstarClient::send_batch_reconciled`]) — only what the gateway does not know is sent again.
//! * **Tracking** by `user_id` (32 per query) mapped to [`DeliveryStatus`](switchboard_core::DeliveryStatus),
//!   refined by delivery reports.
//! * **Incoming SMS without losses**: `flag=all` and a high-water mark in the host's
//!   [`CursorStore`](switchboard_core::CursorStore), never `flag=unread` ([`IncomingPoller`]).
//! * **Push**: all eight payload kinds decoded ([`webhook`]), verified by a secret in the push URL.
//! * A **simulator** (feature `sim`) that speaks the same protocol, Digest included.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::{DeliveryStatus, Dsn, Message, PhoneNumber, Transport};
//! use switchboard_dinstar::{DinstarTransport, sim::Simulator};
//!
//! let sim = Simulator::start().await; // a gateway on loopback
//! let gsm = DinstarTransport::from_dsn(&Dsn::parse(&sim.dsn())?)?;
//!
//! let ana: PhoneNumber = "+355694123456".parse()?;
//! let besa: PhoneNumber = "+355694123457".parse()?;
//! let receipts = gsm
//!     .send_many(&[
//!         Message::sms(ana, "Porosia juaj u dërgua"),
//!         Message::sms(besa, "Porosia juaj u dërgua"),
//!     ])
//!     .await;
//! assert_eq!(sim.stats().path("/api/send_sms"), 1); // one request for both, authenticated
//!
//! sim.advance().await; // SENDING -> SENT_OK
//! sim.advance().await; // SENT_OK -> DELIVERED
//! let id = receipts[0].as_ref().map_err(|e| e.to_string())?.provider_id().to_owned();
//! assert_eq!(gsm.status(&id).await?.status, DeliveryStatus::Delivered);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! ## Digest authentication
//!
//! Gateways want Digest (RFC 7616, MD5, `qop=auth`), count failed logins and ban the caller's
//! address after a few. The client:
//!
//! * fetches a challenge **once** per client with a small GET (an SMS body never goes out
//!   unauthenticated), then answers every request pre-emptively: `nc` counts 1, 2, 3… with a fresh
//!   `cnonce` each time, so N calls cost N + 1 requests;
//! * on a 401 to a pre-emptive answer (nonce stale or forgotten) answers the challenge that came with
//!   it — one extra round trip, no new probe;
//! * treats a second 401 in a row as refused credentials: an `Auth` error (`NotSent`), and no request
//!   at all for [`DinstarConfig::auth_cooldown`] (5 minutes by default; [`DinstarClient::reset_auth`] ends
//!   it). A 403 — how a ban looks — does the same;
//! * lets one task at a time fetch or renew a challenge, so concurrent first calls share it.
//!
//! The answers themselves (MD5, SHA-256, SHA-512-256, their `-sess` forms, `qop=auth`/`auth-int`,
//! `userhash`) come from [`switchboard_core::digest`]. A generic Digest client such as diqwest 3.2.0
//! would not do here (this crate's tests show it against the same servers): on a stale nonce it drops
//! the fresh challenge and probes again without credentials, and its cache forgets the challenge's
//! algorithm, so SHA-256 or `-sess` challenges get refused MD5 answers.
#![deny(missing_docs)]

pub mod api;
mod client;
mod config;
mod digest;
mod error;
mod ids;
mod inbound;
pub mod model;
mod provider;
mod reconcile;
#[cfg(feature = "sim")]
pub mod sim;
mod transport;
pub mod webhook;

pub use api::DinstarApi;
pub use client::{
    Accepted, BatchOutcome, BatchRecipient, DinstarClient, PARAM_PLACEHOLDER, Reconciliation, SmsBatch, Submission,
};
pub use config::{DinstarConfig, DinstarConfigBuilder, NumberFormat};
pub use error::{
    CODE_ACCEPTED, CODE_BAD_REQUEST, CODE_NO_PORT, CODE_NOT_FOUND, CODE_OK, CODE_OTHER, CODE_TOO_LARGE, UssdPortStatus,
};
pub use ids::{MAX_USER_ID, UserIds};
pub use inbound::{IncomingBatch, IncomingPoller, cursor_key, inbound_id};
pub use model::{
    DeliverStatus, IncomingFlag, IncomingSms, InfoType, PortAction, RegState, SendSmsRequest, SmsEncoding, SmsParam,
    SmsResult, SmsStatus,
};
pub use provider::{DinstarProvider, register};
pub use transport::DinstarTransport;

/// The DSN scheme and provider name: `dinstar://USER:PASS@HOST:PORT?sn=SN`.
pub const SCHEME: &str = "dinstar";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

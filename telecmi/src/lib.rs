//! # switchboard-telecmi
//!
//! TeleCMI click-to-call, call records and call webhooks, done properly: the host decides who may
//! place calls, every call is journaled, and webhooks are verified and decoded whatever shape TeleCMI
//! sends them in.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::testkit::WebhookSink;
//! use switchboard_core::{CallState, Event, PhoneNumber};
//! use switchboard_telecmi::sim::{Outcome, SIM_WEBHOOK_SECRET, Simulator};
//! use switchboard_telecmi::{AllowList, CallRequest, TeleCmiClient, TeleCmiConfig};
//!
//! // A simulated TeleCMI account, pushing its webhooks to a local sink.
//! let sim = Simulator::start().await;
//! let sink = WebhookSink::start().await;
//! sim.set_webhook_url(format!("{}/hooks/telecmi?token={SIM_WEBHOOK_SECRET}", sink.uri()));
//!
//! // Only agent 101 may place calls: the host's decision, not TeleCMI's.
//! let client = TeleCmiClient::builder(TeleCmiConfig::from_dsn_str(&sim.dsn())?)
//!     .policy(AllowList::new(["101_1111112"]))
//!     .build()?;
//!
//! let customer = PhoneNumber::parse("+91 98123 45678", None)?;
//! let call = CallRequest::new("101_1111112", customer.clone()).with_correlation("deal-42");
//! let placed = client.click_to_call(&call).await?;
//!
//! // Agent 102 is refused before anything reaches TeleCMI.
//! let refused = client.click_to_call(&CallRequest::new("102_1111112", customer)).await;
//! assert_eq!(refused.unwrap_err().kind(), switchboard_core::ErrorKind::Rejected);
//!
//! // The call rings, is answered, ends; every webhook comes back with our correlation id.
//! let request_id = placed.request_id.clone().unwrap_or_default();
//! let pushed = sim.play(&request_id, Outcome::Answered { talk_secs: 42 }).await?;
//! let mut states = Vec::new();
//! for hook in sink.wait_for(pushed.len(), std::time::Duration::from_secs(5)).await {
//!     for event in client.handle_webhook(&hook).await? {
//!         if let Event::Call(call) = event {
//!             assert_eq!(call.correlation.as_deref(), Some("deal-42"));
//!             states.push(call.state);
//!         }
//!     }
//! }
//! assert_eq!(states.first(), Some(&CallState::Ringing));
//! assert!(states.contains(&CallState::Answered));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! ## What is here
//!
//! | item | what it does |
//! |---|---|
//! | [`TeleCmiClient::click_to_call`] | admin (`/v2/webrtc/click2call`, legacy `/v1/adminConnect`) or user-token (`/v2/ind/click2call`, legacy `/v1/agentConnect`) click-to-call, after the [`CallPolicy`] |
//! | [`CallPolicy`] | the host's rule for who may call: [`DenyAll`] (the default), [`AllowList`], [`AllowAll`], your own |
//! | [`TeleCmiClient::call_records`] | answered/missed, incoming/outgoing records as a `Stream` over every page of a time range |
//! | [`TeleCmiClient::handle_webhook`], [`TeleCmiWebhook`] | CDR and live-event webhooks, verified by the secret in the URL, as core [`Event`](switchboard_core::Event)s |
//! | [`webhook::CallNotification`] | one push, every field typed, tolerant of `appid`/`app_id`, numbers as strings, JSON in strings |
//! | [`register`], [`TeleCmiProvider`] | the registry entry: a `telecmi://` DSN connects the client as a service and a webhook source |
//! | `sim::Simulator` | (feature `sim`) both hosts' APIs, calls that progress and push their events |
//!
//! User tokens are obtained on first use, shared by clones of a client, renewed before TeleCMI's
//! 30-day expiry and again whenever TeleCMI refuses one, with a single login however many requests
//! need it at once.
//!
//! Every request goes through core's pipeline over [`TeleCmiApi`]; [`error::parse_error`] reads every
//! answer.
//!
//! TeleCMI is a telephony API, not a message transport (it sends no SMS), so this crate implements no
//! core `Transport`.
#![deny(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
pub mod error;
mod event;
mod flex;
pub mod model;
pub mod policy;
pub mod provider;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;

pub use api::TeleCmiApi;
pub use client::{TeleCmiClient, TeleCmiClientBuilder};
pub use config::{Allow, Credentials, Flavour, TeleCmiConfig, TeleCmiConfigBuilder};
pub use error::parse_error;
pub use model::{CORRELATION_KEY, CallPlaced, CallRecord, CallRequest, CdrKind, CdrPage, CdrQuery, LoginInfo, Party};
pub use policy::{AllowAll, AllowList, CallPolicy, Decision, DenyAll, FnPolicy};
pub use provider::{TeleCmiProvider, register};
pub use webhook::{CallNotification, TeleCmiWebhook};

/// The DSN scheme and provider name.
pub const SCHEME: &str = "telecmi";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

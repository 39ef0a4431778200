//! # switchboard-core
//!
//! The model every switchboard integration shares, so that each provider crate is only the provider:
//!
//! | module | what it holds |
//! |---|---|
//! | [`phone`] | [`PhoneNumber`]: always-valid E.164, parsed from any written form |
//! | [`segment`] | [`Segmentation`]: GSM-7 / UCS-2 encoding and SMS segment counts (3GPP TS 23.038) |
//! | [`error`] | [`Error`]: kind, provider code, HTTP status, `Retry-After` and the [`Dispatch`] fact |
//! | [`secret`] | [`SecretString`] for every credential; constant-time comparison; URL redaction |
//! | [`digest`] | HTTP Digest authentication (RFC 7616): a challenge read, an `Authorization` answer computed |
//! | [`http`] | the one way to build a client (TLS on) and turn an answer into a value or an `Error` |
//! | [`pipeline`] | the one request pipeline: a provider's auth and `parse_error`, core's retries, cap, tagging, decoding |
//! | [`registry`] | open registration: every crate's `register` adds its [`Provider`]s; DSNs connect through it |
//! | [`retry`] | [`RetryPolicy`]: retries only what cannot be duplicated |
//! | [`ratelimit`] | [`RateLimiter`] and the in-process [`TokenBucket`] |
//! | [`message`] | [`Message`], [`Recipient`], [`Receipt`], [`DeliveryStatus`], pushed [`Event`]s |
//! | [`transport`] | the [`Transport`] trait every message integration implements |
//! | [`webhook`] | [`WebhookRequest`], HMAC, URL-token and IP allow-list checks |
//! | [`journal`] | the host's storage traits [`Journal`] and [`CursorStore`], with in-memory versions |
//! | [`telemetry`] | metrics (through the `metrics` facade) and span fields (OpenTelemetry conventions) |
//! | [`store`] | durable sending: the [`Store`] that claims [`MessageKey`]s before anything is sent |
//! | [`token`], [`clock`] | the single-flight cache for expiring access tokens, and an injectable clock |
//! | [`dsn`] | [`Dsn`]: `scheme://user:pass@host?options` configuration strings |
//! | `testkit`, `simulated` | (feature `testkit`) the simulators' shared server, fault injection, webhook sink, and the `Simulated` trait every simulator implements |
//!
//! ```
//! use switchboard_core::{PhoneNumber, Region, Segmentation, Encoding};
//!
//! let n = PhoneNumber::parse("069 412 3456", Some(Region::parse("AL")?))?;
//! assert_eq!(n.as_e164(), "+355694123456"); // to store it and on the wire
//! assert_eq!(n.masked(), "+35569*****56"); // to log it (and `{:?}`); there is no `to_string()`
//!
//! let s = Segmentation::of("Porosia juaj u dërgua");
//! assert_eq!((s.encoding, s.segments), (Encoding::Ucs2, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod clock;
pub mod digest;
pub mod dsn;
pub mod error;
pub mod http;
pub mod journal;
pub mod message;
pub mod phone;
pub mod pipeline;
pub mod price;
pub mod random;
pub mod ratelimit;
pub mod registry;
pub mod retry;
pub mod secret;
pub mod segment;
pub mod serde_util;
#[cfg(feature = "testkit")]
pub mod simulated;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod token;
pub mod transport;
pub mod webhook;

pub use dsn::Dsn;
pub use error::{Dispatch, Error, ErrorKind, Result};
pub use journal::{CursorStore, Journal, JournalEntry, JournalRecord, MemoryCursorStore, MemoryJournal};
pub use message::{
    Attachment, CallEvent, CallState, DeliveryStatus, Event, InboundMessage, Message, MessageId, PaymentEvent, Receipt,
    Recipient, StatusReport,
};
pub use phone::{PhoneError, PhoneNumber, Region};
pub use price::Price;
pub use ratelimit::{RateLimiter, TokenBucket};
pub use registry::{Connection, Provider, Registry};
pub use retry::{Idempotence, RetryPolicy};
pub use secret::{ExposeSecret, SecretString};
pub use segment::{Encoding, Segmentation};
pub use store::{Claim, MemoryStore, MessageKey, Store};
pub use transport::{Capabilities, IntoTransport, Reconciled, Transport, WebhookHandler};
pub use webhook::{Handled, Webhook, WebhookAnswer, WebhookRequest};

/// Re-exported so provider crates implement [`Transport`] with the same macro version.
pub use async_trait::async_trait;

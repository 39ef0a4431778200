//! # switchboard-store
//!
//! Durable sending for switchboard: the [`Store`](switchboard_core::Store) that decides, before
//! anything is sent, whether a message with an idempotency key may go out, and remembers how each
//! attempt ended — across retries, restarts, crashes and several processes. Plus the journal, poller
//! cursors and shared sequences in the same database, and rate limits shared through Redis.
//!
//! ## Which store for which deployment
//!
//! | deployment | store | feature |
//! |---|---|---|
//! | tests, examples, a one-shot tool | [`MemoryStore`](switchboard_core::MemoryStore) (in `switchboard-core`) | — |
//! | one host: a service, maybe several processes of it, restarts | [`SqliteStore`]: one file in WAL mode | `sqlite` (default) |
//! | several machines, or replicas behind a load balancer | [`PostgresStore`] | `postgres` |
//! | a rate limit that belongs to an account or a gateway, not a process | [`RedisRateLimiter`] | `redis` |
//!
//! A SQLite file must sit on a local disk of the one host whose processes share it (its locks do not
//! work across machines or over NFS). PostgreSQL serialises claims with row locks and judges leases by
//! the server's clock, so any number of machines can share it.
//!
//! ## The state machine
//!
//! ```text
//!  (new) ──claim──▶ InFlight ──note_attempt──▶ InFlight + attempt ──finish(Accepted)──▶ Accepted
//!                      │                              │
//!                      │ finish(NotSent)              │ finish(MaybeSent), or the lease ran out
//!                      ▼                              ▼
//!                  Released ◀──resolve(NotSent)── Uncertain ──resolve(Accepted | Failed)──▶ …
//!                      │
//!                      └──claim──▶ InFlight …         finish(Failed) ──▶ Failed
//! ```
//!
//! * A claim on an **Accepted** key answers the earlier receipt; nothing is sent again.
//! * A claim on an **InFlight** key answers who holds it and until when. If that lease ran out before
//!   the holder noted an attempt, the claim takes the key over (the holder never started a request).
//! * A key whose holder noted an attempt and then went silent past its lease is **Uncertain**: the
//!   request may have reached the provider before the process died.
//! * **Released** keys (the attempt proved nothing went out) may be claimed again; **Failed** keys
//!   answer the provider's refusal.
//!
//! ## What "uncertain" asks of the host
//!
//! An uncertain key is never resent blindly, because that is how a customer gets the same text twice.
//! The Messenger reconciles it where the provider can be asked (the attempt carries the reference the
//! provider can be searched by, such as a Dinstar `user_id`). Where it cannot, the send answers
//! `NeedsDecision`, and the host — a person looking at the provider's records, or a job with better
//! knowledge — settles it with [`Store::resolve`](switchboard_core::Store::resolve):
//! `Accepted(receipt)` if it landed, `NotSent` to release it for another try, `Failed` to give up.
//! [`Store::uncertain`](switchboard_core::Store::uncertain) lists the keys waiting for that, oldest
//! first; a host should alert on it being non-empty.
//!
//! ## Example
//!
//! ```no_run
//! # async fn run() -> switchboard_core::Result<()> {
//! use std::time::Duration;
//! use switchboard_core::store::{Claim, MessageKey, Outcome, Store};
//! use switchboard_core::Message;
//! use switchboard_store::SqliteStore;
//!
//! let store = SqliteStore::connect("sqlite:/var/lib/acme/switchboard.db").await?;
//! store.migrate().await?;
//!
//! let message = Message::sms("+355694123456".parse()?, "Your order 72 is on its way")
//!     .with_key(MessageKey::new("order-72-shipped")?);
//! let key = message.key.clone().expect("set above");
//! match store.claim(&key, &message.fingerprint(), "web-1", Duration::from_secs(60)).await? {
//!     Claim::Acquired(lease) => {
//!         // note_attempt, send, then finish(&lease, Outcome::…)
//! #       let _ = lease;
//!     }
//!     Claim::Accepted(receipt) => println!("already sent: {}", receipt.provider_id()),
//!     other => println!("not now: {other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! ## The outbox
//!
//! With the feature `outbox`, [`outbox`] queues messages inside the host's own database transaction
//! and drains them with workers in any number of processes, through the Messenger and this store: a
//! message is sent at most once even when a worker is killed mid-send, or flagged "may have been
//! sent" for a person; dead letters keep their cause.
//!
//! The tables (versioned by [`SqliteStore::migrate`] / [`PostgresStore::migrate`], all under a
//! configurable prefix) are described in [`schema`].
#![deny(missing_docs)]

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod error;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod machine;
#[cfg(feature = "outbox")]
pub mod outbox;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis_limit;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "redis")]
pub use redis_limit::{RedisLimits, RedisRateLimiter, SharedLimit};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use schema::StoreOptions;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
/// The driver, re-exported so a host builds pools and transactions with the same version.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sqlx;

//! # switchboard
//!
//! One Rust API for the providers CRM-style applications talk to: SMS gateways and cloud SMS, calls,
//! email, push, chat, payments and ERP sync. This facade re-exports [`switchboard_core`] (phone numbers,
//! SMS segments, the error model, the [`Transport`] trait) and adds the [`Messenger`], which sends
//! through named transports by [`Route`]s with failover, round-robin, cool-downs, rate limits and a
//! journal.
//!
//! The rule everything here follows: **never send twice**. Every error carries a [`Dispatch`] fact,
//! and failover moves to the next transport only when the previous one certainly did not send.
#![deny(missing_docs)]

mod failover;
mod health;
mod messenger;
mod route;

pub use failover::{AllFailed, Attempt};
pub use health::HealthPolicy;
pub use messenger::{Messenger, MessengerBuilder, TransportEvent};
pub use route::Route;

pub use switchboard_core as core;
pub use switchboard_core::*;

//! # switchboard
//!
//! One Rust API for the providers CRM-style applications talk to. This facade re-exports
//! [`switchboard_core`]; the provider crates and the `Messenger` join it as they land.
#![deny(missing_docs)]

pub use switchboard_core as core;
pub use switchboard_core::*;

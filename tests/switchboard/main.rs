//! The facade's integration tests, in one test binary (one link, one process) instead of one per file:
//!
//! - `conformance`: one set of checks over every message transport's simulator, gated by its
//!   capabilities;
//! - `durable`: keyed, durable sending through the Messenger and the store;
//! - `faults`: fault injection over every HTTP message transport, with the journal each fault leaves;
//! - `messenger`: routing, failover, cool-down, journal and streaming on stub transports;
//! - `secrets`: no secret or full phone number in logs, `Debug` or `Display`;
//! - `webhook_refusals`: every webhook decoder refuses what it cannot verify.
//!
//! `common` holds the per-transport adapters that `conformance` and `faults` share. Nothing here sets
//! process-wide state: `secrets` captures logs with a subscriber set as the test thread's default, and
//! `messenger` reads metrics through a recorder local to its thread, so the modules run side by side.

mod common;
mod conformance;
mod durable;
mod faults;
mod messenger;
mod secrets;
mod webhook_refusals;

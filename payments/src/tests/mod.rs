//! switchboard-payments' tests through its public API, compiled into the crate's one test binary: exact
//! money and idempotency keys, and how a gateway is kept in a core `Connection`. The providers are tested in their crates (switchboard-yookassa,
//! switchboard-stripe), against their simulators.

mod connection;
mod money;

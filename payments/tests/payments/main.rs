//! switchboard-payments' own tests: exact money and idempotency keys, and how a gateway is kept in a
//! core `Connection`. The providers are tested in their crates (switchboard-yookassa,
//! switchboard-stripe), against their simulators.

mod connection;
mod money;

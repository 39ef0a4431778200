//! MightyCall's integration tests, one binary: token handling, the API operations, history sync, the
//! transport, the simulator's strictness, and registration.

mod api;
mod auth;
mod history;
mod provider;
mod strict;
mod transport;

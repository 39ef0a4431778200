//! switchboard-email's integration tests, one binary: the email transport and client against a real
//! SMTP server (mailin's SMTP state machine, started in process on loopback by
//! src/tests/support/smtp_sink.rs), against raw TCP servers that misbehave on purpose, offline, and
//! through the provider registry and the simulator.
//!
//! Nothing needs installing: the server is a dev-dependency and every message it accepts is read back
//! with an independent MIME parser (mail-parser).

mod support;

mod offline;
#[cfg(feature = "sim")]
mod registry;
mod smtp;
mod stalls;

use switchboard_core::Recipient;

/// The sender the tests' messages name.
pub const FROM: &str = "Shop <noreply@shop.example>";

/// A loopback port nothing listens on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An email recipient.
pub fn to(addr: &str) -> Recipient {
    Recipient::email(addr).unwrap()
}

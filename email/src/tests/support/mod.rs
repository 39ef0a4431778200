//! Test support for the integration tests in this folder.
//!
//! `smtp_sink` is a real SMTP server the email tests start in process on a loopback port, and
//! `received` is what it makes of each message it accepts, read back with an independent MIME parser.

pub mod received;
pub mod smtp_sink;

//! The service driven over HTTP on loopback, every integration on its simulator: one test binary,
//! one module per area.

mod common;
mod domain;
mod email;
mod export;
mod gps;
mod onec;
mod payments;
mod push;
mod sms;
mod telegram;

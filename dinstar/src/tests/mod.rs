//! The Dinstar crate's integration tests, one binary: Digest auth (against the simulator and a server
//! written from RFC 7616), every endpoint and error code, tracking and reconciliation, durable ids,
//! incoming SMS, pushes, the simulator's strictness, the transport and registration.

mod auth;
mod client;
mod digest_rfc;
mod durable;
mod incoming;
mod provider;
mod push;
mod strict;
mod tracking;
mod transport;

use std::time::Duration;

use crate::sim::{SimSms, Simulator};
use crate::{DinstarClient, DinstarConfig};
use switchboard_core::{Dsn, PhoneNumber};

/// The simulator's configuration, made fast and deterministic for tests: one reconciliation look, short
/// timeout, retries without long waits.
pub fn config(sim: &Simulator) -> DinstarConfig {
    config_for(&sim.dsn())
}

pub fn config_for(dsn: &str) -> DinstarConfig {
    DinstarConfig::from_dsn(&Dsn::parse(dsn).unwrap())
        .unwrap()
        .into_builder()
        .reconcile_window(Duration::ZERO)
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap()
}

pub fn client(sim: &Simulator) -> DinstarClient {
    DinstarClient::new(config(sim)).unwrap()
}

/// `n` distinct valid Albanian mobile numbers.
pub fn numbers(n: usize) -> Vec<PhoneNumber> {
    (0..n)
        .map(|i| PhoneNumber::parse(&format!("+35569{:07}", 1_000_000 + i), None).unwrap())
        .collect()
}

pub fn number(i: usize) -> PhoneNumber {
    numbers(i + 1).pop().unwrap()
}

/// Everything the simulator knows of each SMS it accepted, in order.
pub fn sms(sim: &Simulator) -> Vec<SimSms> {
    (0..sim.sent().len()).filter_map(|i| sim.message(i)).collect()
}

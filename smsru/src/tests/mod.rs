//! The SMS.ru crate against its simulator, in one test binary: sending, errors and faults, delivery
//! callbacks, the documented contract, and the shared provider surface (registry, simulator
//! vocabulary, webhook answer).

use std::time::Duration;

use crate::sim::{SIM_WEBHOOK_SECRET, Simulator};
use crate::{SmsRuClient, SmsRuConfig, SmsRuTransport};
use switchboard_core::simulated::Simulated;
use switchboard_core::{Dsn, PhoneNumber, RetryPolicy};

mod callbacks;
mod contract;
mod faults;
mod send;
mod surface;

/// The webhook secret of the simulator's DSN.
const SECRET: &str = SIM_WEBHOOK_SECRET;

fn n(s: &str) -> PhoneNumber {
    s.parse().expect("test number")
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false)
}

/// The simulator's configuration (its DSN, webhook secret included), without retries.
fn config(sim: &Simulator) -> SmsRuConfig {
    let mut c = SmsRuConfig::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    c.retry = RetryPolicy::never();
    c
}

fn client(sim: &Simulator) -> SmsRuClient {
    SmsRuClient::new(config(sim)).unwrap()
}

fn transport(sim: &Simulator) -> SmsRuTransport {
    SmsRuTransport::new(config(sim)).unwrap()
}

/// Moves every message through to its final state (`100 → 101 → 102 → final`), pushing each step.
async fn settle(sim: &Simulator) {
    for _ in 0..3 {
        sim.advance().await;
    }
}

fn form_of(req: &switchboard_core::testkit::wiremock::Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

//! The Twilio crate against its simulator, in one test binary: sending and the message lifecycle,
//! signed webhooks, errors and faults, the documented contract, and the shared provider surface
//! (registry, simulator vocabulary, webhook answer).

use std::time::Duration;

use crate::sim::Simulator;
use crate::{TwilioConfig, TwilioTransport};
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{Dsn, PhoneNumber, RetryPolicy, WebhookRequest};

mod contract;
mod faults;
mod send;
mod surface;
mod webhooks;

const TO: &str = "+14155552671";

fn n(s: &str) -> PhoneNumber {
    s.parse().expect("test number")
}

/// The simulator's configuration (its DSN), without retries.
fn config(sim: &Simulator) -> TwilioConfig {
    let mut c = TwilioConfig::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    c.retry = RetryPolicy::never();
    c
}

fn with_callback(sim: &Simulator, sink: &WebhookSink) -> TwilioTransport {
    let mut c = config(sim);
    c.status_callback = Some(format!("{}/hooks/twilio?acct=1", sink.uri()));
    TwilioTransport::new(c).unwrap()
}

/// Moves every message through to its final status (at most `accepted → queued → sending → sent →
/// final`), pushing each step.
async fn settle(sim: &Simulator) {
    for _ in 0..4 {
        sim.advance().await;
    }
}

async fn received(sink: &WebhookSink, n: usize) -> Vec<WebhookRequest> {
    sink.wait_for(n, Duration::from_secs(5)).await
}

fn form_of(req: &switchboard_core::testkit::wiremock::Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body).into_owned().collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

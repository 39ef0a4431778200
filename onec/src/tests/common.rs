//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use crate::sim::Simulator;
use crate::{MemorySyncLog, OneCClient, OneCConfig, Syncer};
use switchboard_core::simulated::Simulated;
use switchboard_core::{Dsn, RetryPolicy};

/// Retries with millisecond delays, so retry paths are exercised without slowing the tests.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(4))
        .with_jitter(false)
}

/// The simulator's config with fast retries.
pub fn config(sim: &Simulator) -> OneCConfig {
    let mut c = OneCConfig::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    c.retry = fast_retry();
    c
}

/// A client with fast retries.
pub fn client(sim: &Simulator) -> OneCClient {
    OneCClient::new(config(sim)).unwrap()
}

/// A client whose requests time out after `ms` milliseconds.
pub fn client_with_timeout(sim: &Simulator, ms: u64) -> OneCClient {
    let mut c = config(sim);
    c.http = c.http.timeout(Duration::from_millis(ms));
    OneCClient::new(c).unwrap()
}

/// A syncer with fast retries and a fresh in-memory log.
pub fn syncer(sim: &Simulator) -> (Syncer, Arc<MemorySyncLog>) {
    let log = Arc::new(MemorySyncLog::new());
    (Syncer::new(client(sim), log.clone()), log)
}

/// A client for a base URL (a connection-fault server), with fast retries.
pub fn client_at(base: &str) -> OneCClient {
    let c = OneCConfig::builder(format!("{base}/base"), "u", "p")
        .retry(fast_retry())
        .http(switchboard_core::http::HttpOptions::default().timeout(Duration::from_millis(300)))
        .build()
        .unwrap();
    OneCClient::new(c).unwrap()
}

//! Cool-downs for transports that keep failing.
//!
//! After `threshold` temporary failures in a row, a transport is skipped for `cooldown`; when the
//! cool-down ends it is tried again, and one success clears its record. Nothing outlives the outage:
//! there is no dead mark that needs a restart to clear (the Symfony failover bug, #50162).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// When a transport is put in cool-down, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct HealthPolicy {
    /// Temporary failures in a row that start a cool-down.
    pub threshold: u32,
    /// How long the transport is skipped.
    pub cooldown: Duration,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            threshold: 3,
            cooldown: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    failures: u32,
    until: Option<Instant>,
}

/// Per-transport failure records.
#[derive(Debug, Default)]
pub(crate) struct Health {
    policy: HealthPolicy,
    states: Mutex<HashMap<String, State>>,
}

impl Health {
    pub(crate) fn new(policy: HealthPolicy) -> Self {
        Health {
            policy,
            states: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the transport is cooling down now.
    pub(crate) fn is_cooling(&self, name: &str) -> bool {
        let now = Instant::now();
        self.states
            .lock()
            .map(|s| s.get(name).and_then(|st| st.until).is_some_and(|until| now < until))
            .unwrap_or(false)
    }

    pub(crate) fn record_success(&self, name: &str) {
        if let Ok(mut s) = self.states.lock() {
            s.remove(name);
        }
    }

    /// Records a temporary failure; returns true when it started a cool-down.
    pub(crate) fn record_failure(&self, name: &str) -> bool {
        let Ok(mut s) = self.states.lock() else { return false };
        let st = s.entry(name.to_owned()).or_default();
        let now = Instant::now();
        if st.until.is_some_and(|until| now >= until) {
            // The cool-down is over and the probe failed: start a fresh one at once.
            st.failures = self.policy.threshold.saturating_sub(1);
            st.until = None;
        }
        st.failures += 1;
        if st.failures >= self.policy.threshold && st.until.is_none() {
            st.until = Some(now + self.policy.cooldown);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn cools_down_and_recovers_by_itself() {
        let h = Health::new(HealthPolicy {
            threshold: 2,
            cooldown: Duration::from_secs(10),
        });
        assert!(!h.record_failure("gsm"));
        assert!(!h.is_cooling("gsm"));
        assert!(h.record_failure("gsm"));
        assert!(h.is_cooling("gsm"));
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(!h.is_cooling("gsm"), "the cool-down ends by itself");
        // A failed probe after the cool-down starts another at once.
        assert!(h.record_failure("gsm"));
        assert!(h.is_cooling("gsm"));
        tokio::time::advance(Duration::from_secs(11)).await;
        h.record_success("gsm");
        assert!(!h.record_failure("gsm"), "a success clears the record");
    }
}

//! Mitto's integration tests, one binary: the legacy and messaging APIs against the simulator, the
//! transport, delivery reports, the simulator's strictness, and registration.

mod legacy;
mod messaging;
mod provider;
mod strict;
mod transport;
mod webhooks;

/// Moves every message the simulator took to its final stage (accepted → sent → delivered or failed),
/// pushing the reports of each change.
async fn settle(sim: &crate::sim::Simulator) {
    for _ in 0..3 {
        sim.advance().await;
    }
}

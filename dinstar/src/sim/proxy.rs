//! A network that loses requests on the way to the simulated gateway, or loses its answers.

use super::{LossMode, Simulator};

impl Simulator {
    /// A loopback proxy in front of the simulator that loses the first `count` requests to `path`
    /// the way `mode` says and passes everything else through (core's
    /// [`lossy_proxy`](switchboard_core::testkit::lossy_proxy)). Point a client at the returned base
    /// URL (or `Simulator::dsn_at` it).
    pub async fn lossy_proxy(&self, path: &str, mode: LossMode, count: usize) -> std::io::Result<String> {
        switchboard_core::testkit::lossy_proxy(self.server.address(), path, mode, count).await
    }
}

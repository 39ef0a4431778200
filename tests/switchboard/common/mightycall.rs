//! MightyCall: bearer tokens from `/auth/token`, status lookups, no pushes.

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::core::testkit::Faults;
use switchboard::mightycall::sim::{SIM_API_KEY, Simulator};
use switchboard::{PhoneNumber, Receipt, Recipient, Transport, WebhookRequest};

use super::{Subject, repoint};

pub struct MightyCall {
    pub sim: Simulator,
    transport: Arc<dyn Transport>,
}

pub async fn start() -> Arc<dyn Subject> {
    Arc::new(start_one().await)
}

pub async fn start_one() -> MightyCall {
    let sim = Simulator::start().await;
    let transport = switchboard::transport_from_dsn(&sim.dsn()).expect("the mightycall sim DSN builds");
    MightyCall { sim, transport }
}

impl Subject for MightyCall {
    fn name(&self) -> &'static str {
        "mightycall"
    }
    fn dsn(&self) -> String {
        self.sim.dsn()
    }
    fn transport(&self) -> Arc<dyn Transport> {
        self.transport.clone()
    }
    fn recipient(&self) -> Recipient {
        Recipient::Phone(PhoneNumber::parse("+12025550143", None).expect("a valid number"))
    }
    fn faults(&self) -> Option<&Faults> {
        Some(self.sim.faults())
    }
    fn bad_credential_dsn(&self) -> Option<String> {
        Some(self.sim.dsn().replace(SIM_API_KEY, "not-the-api-key"))
    }
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        Some(repoint(&self.sim.dsn(), &self.sim.uri(), base_url))
    }
    fn accepted_texts(&self) -> Vec<String> {
        self.sim.sent().into_iter().map(|m| m.text).collect()
    }
    fn deliver<'a>(&'a self, _receipt: &'a Receipt) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async move {
            for _ in 0..3 {
                self.sim.advance().await;
            }
            Vec::new()
        })
    }
}

//! Dinstar gateway: digest auth, pushes with a URL token, status lookups, inbound by push.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::{Faults, WebhookSink};
use switchboard::dinstar::sim::{SIM_PASSWORD, SIM_WEBHOOK_SECRET, Simulator};
use switchboard::{PhoneNumber, Receipt, Recipient, Transport, WebhookRequest};

use super::{Subject, new_pushes};

pub struct Dinstar {
    sim: Simulator,
    sink: WebhookSink,
    transport: Arc<dyn Transport>,
}

pub async fn start() -> Arc<dyn Subject> {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_push_url(format!("{}/hooks/gsm?token={SIM_WEBHOOK_SECRET}", sink.uri()));
    let transport = switchboard::transport_from_dsn(&sim.dsn()).expect("the dinstar sim DSN builds");
    Arc::new(Dinstar { sim, sink, transport })
}

impl Subject for Dinstar {
    fn name(&self) -> &'static str {
        "dinstar"
    }
    fn dsn(&self) -> String {
        self.sim.dsn()
    }
    fn transport(&self) -> Arc<dyn Transport> {
        self.transport.clone()
    }
    fn recipient(&self) -> Recipient {
        Recipient::Phone(PhoneNumber::parse("+355694123456", None).expect("a valid number"))
    }
    fn faults(&self) -> Option<&Faults> {
        Some(self.sim.faults())
    }
    fn bad_credential_dsn(&self) -> Option<String> {
        Some(self.sim.dsn().replace(SIM_PASSWORD, "not-the-password"))
    }
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        self.sim.dsn_at(base_url)
    }
    fn dsn_with_timeout(&self, dsn: &str, timeout: Duration) -> Option<String> {
        Some(format!("{dsn}&timeout={}", timeout.as_secs_f64()))
    }
    fn accepted_texts(&self) -> Vec<String> {
        self.sim.sent().into_iter().map(|s| s.text).collect()
    }
    fn deliver<'a>(&'a self, _receipt: &'a Receipt) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async move {
            let before = self.sink.received().await.len();
            let mut changed = 0;
            for _ in 0..3 {
                changed += self.sim.advance().await;
            }
            new_pushes(&self.sink, before, changed.min(2)).await
        })
    }
    fn inbound<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async move {
            let before = self.sink.received().await.len();
            self.sim.receive_inbound(1, "+355694000111", text).await;
            new_pushes(&self.sink, before, 1).await
        })
    }
}

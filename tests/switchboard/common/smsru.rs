//! SMS.ru: an API id, delivery callbacks with a URL token (answered `100`).

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::{Faults, WebhookSink};
use switchboard::smsru::sim::{SIM_API_ID, SIM_WEBHOOK_SECRET, Simulator};
use switchboard::smsru::{CALLBACK_ANSWER, SmsRuConfig, SmsRuTransport};
use switchboard::{Dsn, PhoneNumber, Receipt, Recipient, Transport, WebhookRequest};

use super::{Subject, fast_retry, new_pushes, repoint};

const SECRET: &str = SIM_WEBHOOK_SECRET;

pub struct SmsRu {
    sim: Simulator,
    sink: WebhookSink,
    transport: Arc<dyn Transport>,
}

pub async fn start() -> Arc<dyn Subject> {
    let sim = Simulator::start().await;
    let sink = WebhookSink::answering(200, CALLBACK_ANSWER).await;
    sim.add_callback(&format!("{}/hooks/smsru?token={SECRET}", sink.uri()));
    let transport = switchboard::transport_from_dsn(&sim.dsn()).expect("the smsru sim DSN builds");
    Arc::new(SmsRu { sim, sink, transport })
}

impl Subject for SmsRu {
    fn name(&self) -> &'static str {
        "smsru"
    }
    fn dsn(&self) -> String {
        self.sim.dsn()
    }
    fn transport(&self) -> Arc<dyn Transport> {
        self.transport.clone()
    }
    fn fast_retry_transport(&self) -> Option<Arc<dyn Transport>> {
        let mut c = SmsRuConfig::from_dsn(&Dsn::parse(&self.dsn()).ok()?).ok()?;
        c.retry = fast_retry();
        Some(Arc::new(SmsRuTransport::new(c).ok()?))
    }
    fn recipient(&self) -> Recipient {
        Recipient::Phone(PhoneNumber::parse("+79255070602", None).expect("a valid number"))
    }
    fn faults(&self) -> Option<&Faults> {
        Some(self.sim.faults())
    }
    fn bad_credential_dsn(&self) -> Option<String> {
        Some(self.dsn().replace(SIM_API_ID, "00000000-0000-4000-8000-000000000BAD"))
    }
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        Some(repoint(&self.dsn(), &self.sim.uri(), base_url))
    }
    fn accepted_texts(&self) -> Vec<String> {
        self.sim.sent().into_iter().map(|m| m.text).collect()
    }
    fn deliver<'a>(&'a self, receipt: &'a Receipt) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async move {
            let before = self.sink.received().await.len();
            // Each advance moves every message one state on (100 → 101 → 102 → 103).
            let pending = || {
                self.sim
                    .message(receipt.provider_id())
                    .is_some_and(|m| (100..=102).contains(&m.status_code))
            };
            for _ in 0..3 {
                if !pending() {
                    break;
                }
                self.sim.advance().await;
            }
            new_pushes(&self.sink, before, 1).await
        })
    }
}

//! Mitto, both APIs: legacy `/sms` and the messaging API; reports by a URL-token callback.

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::core::testkit::{Faults, WebhookSink};
use switchboard::mitto::sim::{SIM_API_KEY, Simulator};
use switchboard::mitto::{MittoConfig, MittoTransport};
use switchboard::{Dsn, PhoneNumber, Receipt, Recipient, Transport, WebhookRequest};

use super::{Subject, fast_retry, new_pushes, repoint};

pub struct Mitto {
    name: &'static str,
    messaging: bool,
    pub sim: Simulator,
    sink: WebhookSink,
    transport: Arc<dyn Transport>,
}

pub async fn start_legacy() -> Arc<dyn Subject> {
    Arc::new(start_one(false).await)
}

pub async fn start_messaging() -> Arc<dyn Subject> {
    Arc::new(start_one(true).await)
}

pub async fn start_one(messaging: bool) -> Mitto {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_callback_url(Simulator::callback_url_for(&format!("{}/hooks/mitto", sink.uri())));
    let dsn = if messaging { sim.dsn_messaging() } else { sim.dsn() };
    let transport = switchboard::transport_from_dsn(&dsn).expect("the mitto sim DSN builds");
    Mitto {
        name: if messaging { "mitto-messaging" } else { "mitto-legacy" },
        messaging,
        sim,
        sink,
        transport,
    }
}

impl Subject for Mitto {
    fn name(&self) -> &'static str {
        self.name
    }
    fn dsn(&self) -> String {
        if self.messaging {
            self.sim.dsn_messaging()
        } else {
            self.sim.dsn()
        }
    }
    fn transport(&self) -> Arc<dyn Transport> {
        self.transport.clone()
    }
    fn fast_retry_transport(&self) -> Option<Arc<dyn Transport>> {
        let mut c = MittoConfig::from_dsn(&Dsn::parse(&self.dsn()).ok()?).ok()?;
        c.retry = fast_retry();
        c.http = c.http.clone().timeout(super::FAST_TIMEOUT);
        Some(Arc::new(MittoTransport::new(c).ok()?))
    }
    fn recipient(&self) -> Recipient {
        Recipient::Phone(PhoneNumber::parse("+41751231234", None).expect("a valid number"))
    }
    fn faults(&self) -> Option<&Faults> {
        Some(self.sim.faults())
    }
    fn bad_credential_dsn(&self) -> Option<String> {
        Some(self.dsn().replace(SIM_API_KEY, "not-the-api-key"))
    }
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        Some(repoint(&self.dsn(), &self.sim.uri(), base_url))
    }
    fn accepted_texts(&self) -> Vec<String> {
        self.sim.sent().into_iter().map(|m| m.text).collect()
    }
    fn deliver<'a>(&'a self, _receipt: &'a Receipt) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async move {
            let before = self.sink.received().await.len();
            let pushed = self.sim.pushed().len();
            for _ in 0..3 {
                self.sim.advance().await;
            }
            new_pushes(&self.sink, before, self.sim.pushed().len() - pushed).await
        })
    }
}

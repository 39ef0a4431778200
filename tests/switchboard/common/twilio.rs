//! Twilio: basic auth, signed status callbacks, inbound by signed webhook, its own 429 code 20429.

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::{Faults, WebhookSink};
use switchboard::twilio::sim::{SIM_AUTH_TOKEN, SIM_FROM, SimError, Simulator};
use switchboard::twilio::{EMPTY_TWIML, MessageStatus, TwilioConfig, TwilioTransport};
use switchboard::{Dsn, PhoneNumber, Receipt, Recipient, Transport, WebhookRequest};

use super::{Subject, enc, fast_retry, new_pushes, repoint};

pub struct Twilio {
    sim: Simulator,
    sink: WebhookSink,
    dsn: String,
    transport: Arc<dyn Transport>,
}

pub async fn start() -> Arc<dyn Subject> {
    let sim = Simulator::start().await;
    let sink = WebhookSink::answering(200, EMPTY_TWIML).await;
    let dsn = format!(
        "{}&status_callback={}",
        sim.dsn(),
        enc(&format!("{}/hooks/twilio", sink.uri()))
    );
    let transport = switchboard::transport_from_dsn(&dsn).expect("the twilio sim DSN builds");
    Arc::new(Twilio {
        sim,
        sink,
        dsn,
        transport,
    })
}

impl Subject for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }
    fn dsn(&self) -> String {
        self.dsn.clone()
    }
    fn transport(&self) -> Arc<dyn Transport> {
        self.transport.clone()
    }
    fn fast_retry_transport(&self) -> Option<Arc<dyn Transport>> {
        let mut c = TwilioConfig::from_dsn(&Dsn::parse(&self.dsn).ok()?).ok()?;
        c.retry = fast_retry();
        c.http = c.http.clone().timeout(super::FAST_TIMEOUT);
        Some(Arc::new(TwilioTransport::new(c).ok()?))
    }
    fn recipient(&self) -> Recipient {
        Recipient::Phone(PhoneNumber::parse("+14155552671", None).expect("a valid number"))
    }
    fn faults(&self) -> Option<&Faults> {
        Some(self.sim.faults())
    }
    fn bad_credential_dsn(&self) -> Option<String> {
        Some(self.dsn.replace(SIM_AUTH_TOKEN, "00000000000000000000000000000bad"))
    }
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        Some(repoint(&self.dsn, &self.sim.uri(), base_url))
    }
    fn accepted_texts(&self) -> Vec<String> {
        self.sim.sent().into_iter().map(|m| m.text).collect()
    }
    fn deliver<'a>(&'a self, receipt: &'a Receipt) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async move {
            let before = self.sink.received().await.len();
            // Each advance moves every message one status on (queued → sending → sent → delivered).
            let pending = || {
                self.sim
                    .message(receipt.provider_id())
                    .is_some_and(|m| !MessageStatus::parse(&m.status).is_terminal())
            };
            for _ in 0..4 {
                if !pending() {
                    break;
                }
                self.sim.advance().await;
            }
            new_pushes(&self.sink, before, 3).await
        })
    }
    fn inbound<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async move {
            let before = self.sink.received().await.len();
            self.sim
                .receive_inbound(
                    &format!("{}/hooks/twilio/sms", self.sink.uri()),
                    "+14155552671",
                    SIM_FROM,
                    text,
                )
                .await;
            new_pushes(&self.sink, before, 1).await
        })
    }
    fn queue_provider_rate_limit(&self, secs: u64) -> bool {
        self.sim.refuse_next(SimError::rate_limited(Some(secs)));
        true
    }
}

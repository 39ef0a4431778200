//! Telegram Bot API: the token in the path, `{ok:false, error_code, parameters.retry_after}` errors,
//! updates pushed to a webhook with a secret-token header.

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::{Faults, WebhookSink};
use switchboard::telegram::sim::{SIM_CHAT_ID, SIM_TOKEN, SimError, Simulator};
use switchboard::telegram::{TelegramConfig, TelegramTransport};
use switchboard::{Dsn, Message, Receipt, Recipient, Transport, WebhookRequest};

use super::{Subject, fast_retry, new_pushes, repoint};

pub struct Telegram {
    sim: Simulator,
    sink: WebhookSink,
    transport: Arc<dyn Transport>,
}

pub async fn start() -> Arc<dyn Subject> {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    // Setting the webhook is the bot's own business, not the Transport trait's: a second client does it.
    TelegramTransport::from_dsn_str(&sim.dsn())
        .expect("the telegram sim DSN builds")
        .client()
        .set_webhook_url(&format!("{}/hooks/tg", sink.uri()))
        .await
        .expect("setWebhook on the simulator");
    let transport = switchboard::transport_from_dsn(&sim.dsn()).expect("the telegram sim DSN builds");
    Arc::new(Telegram { sim, sink, transport })
}

impl Subject for Telegram {
    fn name(&self) -> &'static str {
        "telegram"
    }
    fn dsn(&self) -> String {
        self.sim.dsn()
    }
    fn transport(&self) -> Arc<dyn Transport> {
        self.transport.clone()
    }
    fn fast_retry_transport(&self) -> Option<Arc<dyn Transport>> {
        let mut c = TelegramConfig::from_dsn(&Dsn::parse(&self.dsn()).ok()?).ok()?;
        c.retry = fast_retry();
        Some(Arc::new(TelegramTransport::new(c).ok()?))
    }
    fn recipient(&self) -> Recipient {
        Recipient::Chat(SIM_CHAT_ID.to_string())
    }
    fn message(&self, text: &str) -> Message {
        Message::chat(SIM_CHAT_ID.to_string(), text)
    }
    fn faults(&self) -> Option<&Faults> {
        Some(self.sim.faults())
    }
    fn bad_credential_dsn(&self) -> Option<String> {
        Some(
            self.sim
                .dsn()
                .replace(SIM_TOKEN, "7000000001:AAHnot0the0right0token0at0all0XYZ"),
        )
    }
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        Some(repoint(&self.sim.dsn(), &self.sim.uri(), base_url))
    }
    fn accepted_texts(&self) -> Vec<String> {
        self.sim.sent().into_iter().map(|s| s.text).collect()
    }
    fn deliver<'a>(&'a self, _receipt: &'a Receipt) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async { Vec::new() })
    }
    fn inbound<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async move {
            let before = self.sink.received().await.len();
            self.sim.user_sends(SIM_CHAT_ID, text).await;
            new_pushes(&self.sink, before, 1).await
        })
    }
    fn queue_provider_rate_limit(&self, secs: u64) -> bool {
        self.sim.queue_error(SimError::flood(secs));
        true
    }
}

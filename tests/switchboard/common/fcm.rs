//! FCM HTTP v1: a service-account JWT exchanged for an access token, then sends.

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::Faults;
use switchboard::fcm::sim::{SimError, Simulator};
use switchboard::fcm::{FcmConfig, FcmTransport};
use switchboard::{Dsn, Message, Receipt, Recipient, Transport, WebhookRequest};

use super::{Subject, enc, fast_retry, repoint};

pub struct Fcm {
    pub sim: Simulator,
    device: String,
    bad_key: std::path::PathBuf,
    transport: Arc<dyn Transport>,
}

pub async fn start() -> Arc<dyn Subject> {
    Arc::new(start_one().await)
}

pub async fn start_one() -> Fcm {
    let sim = Simulator::start().await;
    let device = sim.register_device();
    // The same key file naming an account the simulator does not know.
    let mut key: serde_json::Value =
        serde_json::from_str(&sim.service_account_json()).expect("the simulator's key file is JSON");
    key["client_email"] = "stranger@elsewhere.iam.gserviceaccount.com".into();
    let bad_key = std::env::temp_dir().join(format!(
        "switchboard-conformance-fcm-{}.json",
        sim.uri().replace([':', '/', '.'], "_")
    ));
    std::fs::write(&bad_key, key.to_string()).expect("the temp dir is writable");
    let transport = switchboard::transport_from_dsn(&sim.dsn()).expect("the fcm sim DSN builds");
    Fcm {
        sim,
        device,
        bad_key,
        transport,
    }
}

impl Drop for Fcm {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.bad_key);
    }
}

impl Subject for Fcm {
    fn name(&self) -> &'static str {
        "fcm"
    }
    fn dsn(&self) -> String {
        self.sim.dsn()
    }
    fn transport(&self) -> Arc<dyn Transport> {
        self.transport.clone()
    }
    fn fast_retry_transport(&self) -> Option<Arc<dyn Transport>> {
        let mut c = FcmConfig::from_dsn(&Dsn::parse(&self.dsn()).ok()?).ok()?;
        c.retry = fast_retry();
        Some(Arc::new(FcmTransport::new(c).ok()?))
    }
    fn recipient(&self) -> Recipient {
        Recipient::PushToken(self.device.clone())
    }
    fn message(&self, text: &str) -> Message {
        Message::push(self.recipient(), "Switchboard", text)
    }
    fn faults(&self) -> Option<&Faults> {
        Some(self.sim.faults())
    }
    fn bad_credential_dsn(&self) -> Option<String> {
        let bad = enc(&self.bad_key.to_string_lossy());
        let dsn = self.sim.dsn();
        let (base, _) = dsn.split_once("credentials=")?;
        Some(format!("{base}credentials={bad}"))
    }
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        Some(repoint(&self.sim.dsn(), &self.sim.uri(), base_url))
    }
    fn accepted_texts(&self) -> Vec<String> {
        self.sim.sent().into_iter().map(|p| p.text).collect()
    }
    fn deliver<'a>(&'a self, _receipt: &'a Receipt) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async { Vec::new() })
    }
    fn queue_provider_rate_limit(&self, secs: u64) -> bool {
        self.sim.queue_error(SimError::quota_exceeded(Some(secs)));
        true
    }
}

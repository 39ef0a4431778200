//! The shared simulator vocabulary ([`Simulated`]) and the registry's way to start one ([`Factory`]).

use serde_json::json;
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::Faults;
use switchboard_core::{Error, PhoneNumber, Recipient, Result, WebhookRequest, async_trait};

use super::api::now;
use super::push::with_token;
use super::{SIM_PASSWORD, Simulator};
use crate::SCHEME;

/// The number [`Simulated::recipient`] names.
const SIM_RECIPIENT: &str = "+355694123456";

#[async_trait]
impl Simulated for Simulator {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn uri(&self) -> String {
        Simulator::uri(self)
    }

    /// `dinstar://admin:dinstar-sim@127.0.0.1:PORT?sn=…&webhook_secret=sim-push-secret`.
    fn dsn(&self) -> String {
        Simulator::dsn(self)
    }

    fn faults(&self) -> &Faults {
        Simulator::faults(self)
    }

    fn sent(&self) -> Vec<SimRecord> {
        Simulator::sent(self)
    }

    async fn advance(&self) {
        Simulator::advance(self).await;
    }

    fn pushed(&self) -> Vec<WebhookRequest> {
        self.lock().pushed.clone()
    }

    fn triggers(&self) -> &'static [&'static str] {
        &["delivered", "failed", "inbound"]
    }

    /// Pushes one event to `url` (with the push secret added as `token`), shaped as the gateway's
    /// pushes are: `"delivered"` an `sms_deliver_status` record with TP-Status 0, `"failed"` an
    /// `sms_result` record with status `FAILED`, both for the newest SMS the simulator holds (or a
    /// number it never sent to); `"inbound"` an `sms` record. The simulator's state is not changed.
    async fn trigger(&self, event: &str, url: &str) -> Result<WebhookRequest> {
        let (sn, number, port) = {
            let s = self.lock();
            let last = s.records.last();
            (
                s.sn.clone(),
                last.map_or_else(
                    || SIM_RECIPIENT.trim_start_matches('+').to_owned(),
                    |r| r.sms.number.clone(),
                ),
                last.map_or(0, |r| r.sms.port),
            )
        };
        let body = match event {
            "delivered" => json!({"sn": sn, "sms_deliver_status": [{"port": port, "number": number, "time": now(),
                "ref_id": 0, "status_code": 0, "imsi": ""}]}),
            "failed" => json!({"sn": sn, "sms_result": [{"port": port, "number": number, "time": now(),
                "status": "FAILED", "count": 1, "succ_count": 0, "ref_id": 0, "imsi": ""}]}),
            "inbound" => json!({"sn": sn, "sms": [{"incoming_sms_id": 1, "port": 0, "number": number,
                "smsc": "+355692000000", "timestamp": now(), "text": "Hello from the simulator"}]}),
            other => {
                return Err(Error::unsupported(format!(
                    "the Dinstar simulator cannot push a '{}' event; it knows: {}",
                    other.escape_debug(),
                    self.triggers().join(", ")
                )));
            }
        };
        Ok(self.push_to(&with_token(url), &body).await.0)
    }

    fn recipient(&self) -> Option<Recipient> {
        PhoneNumber::parse(SIM_RECIPIENT, None).ok().map(Recipient::Phone)
    }

    fn dsn_with_bad_credentials(&self) -> Option<String> {
        Some(self.dsn_with(&Simulator::uri(self), Some(&format!("not-{SIM_PASSWORD}"))))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        Some(self.dsn_with(base_url, None))
    }
}

/// How the registry ([`crate::DinstarProvider`]) starts one.
impl StartSim for Simulator {
    const NAME: &'static str = "Dinstar";
    type Error = std::io::Error;

    async fn start_sim(options: SimOptions) -> std::io::Result<Simulator> {
        Simulator::start_with(options).await
    }
}

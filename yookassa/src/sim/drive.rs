//! What the shared simulator vocabulary does to the shop: `advance` (customers pay what is pending)
//! and `trigger` (a real payment or refund that has just gone through one event).

use serde_json::{Value, json};
use switchboard_core::{Error, ErrorKind, Result};

use super::state::State;

/// The events `Simulated::trigger` can push, in YooKassa's own names.
pub(super) const TRIGGERS: &[&str] = &[
    "payment.waiting_for_capture",
    "payment.succeeded",
    "payment.canceled",
    "refund.succeeded",
];

impl State {
    /// Pays every pending payment, as its customer would, notifying as usual.
    pub(super) fn advance(&mut self) {
        let pending: Vec<String> = self
            .payments
            .iter()
            .filter(|p| p.status == "pending")
            .map(|p| p.id.clone())
            .collect();
        for id in pending {
            // Only pending payments are listed, so paying cannot be refused.
            let _ = self.pay(&id);
        }
    }

    /// Makes a payment (or a refund) that has just gone through `event`, without notifying anyone,
    /// and answers the object as the notification carries it. The object is real: re-fetching it
    /// answers the same state, as a gateway does before believing a notification.
    pub(super) fn stage(&mut self, event: &str) -> Result<Value> {
        if !TRIGGERS.contains(&event) {
            return Err(Error::unsupported(format!(
                "the YooKassa simulator cannot push a '{event}' notification; it knows: {}",
                TRIGGERS.join(", ")
            )));
        }
        let muted = self.webhook_url.take();
        let staged = self.stage_muted(event);
        self.webhook_url = muted;
        staged
    }

    fn stage_muted(&mut self, event: &str) -> Result<Value> {
        let capture = event != "payment.waiting_for_capture";
        let (status, created) = self.create_payment(&json!({
            "amount": {"value": "100.00", "currency": "RUB"},
            "capture": capture,
            "confirmation": {"type": "redirect", "return_url": "https://shop.example/return"},
            "description": format!("Triggered {event}"),
        }));
        let id = match (status, created.get("id").and_then(Value::as_str)) {
            (200, Some(id)) => id.to_owned(),
            _ => {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    "the simulator could not create a payment",
                ));
            }
        };
        match event {
            "payment.canceled" => self.cancel_by(&id, "payment_network", "insufficient_funds", &["pending"])?,
            "refund.succeeded" => {
                self.pay(&id)?;
                let (status, refund) = self.create_refund(&json!({
                    "payment_id": id,
                    "amount": {"value": "100.00", "currency": "RUB"},
                }));
                return match status {
                    200 => Ok(refund),
                    _ => Err(Error::new(
                        ErrorKind::Unavailable,
                        "the simulator could not refund the payment",
                    )),
                };
            }
            // payment.succeeded, payment.waiting_for_capture: the capture mode above decides which.
            _ => self.pay(&id)?,
        }
        Ok(self.payment_json(&id))
    }
}

//! What the shared simulator vocabulary does to the account: `advance` (the customer does what is
//! left to do) and `trigger` (the objects behind one event of a named kind).

use serde_json::{Value, json};
use switchboard_core::{Error, ErrorKind, Result};

use super::state::State;

/// The events `Simulated::trigger` can push, in the shared words, and the Stripe event each is.
pub(super) const TRIGGERS: &[(&str, &str)] = &[
    ("payment.succeeded", "payment_intent.succeeded"),
    (
        "payment.waiting_for_capture",
        "payment_intent.amount_capturable_updated",
    ),
    ("payment.canceled", "payment_intent.canceled"),
    ("payment.failed", "payment_intent.payment_failed"),
    ("refund.succeeded", "refund.created"),
    ("refund.failed", "refund.failed"),
];

/// The shared words of [`TRIGGERS`].
pub(super) const TRIGGER_NAMES: &[&str] = &[
    "payment.succeeded",
    "payment.waiting_for_capture",
    "payment.canceled",
    "payment.failed",
    "refund.succeeded",
    "refund.failed",
];

impl State {
    /// Everything the customer still has to do, done as the customer would: open Checkout Sessions
    /// paid on the hosted page, PaymentIntents waiting for a payment method confirmed with
    /// `pm_card_visa`, and 3-D Secure completed. Events are sent as usual.
    pub(super) fn advance(&mut self) {
        self.current_request = None;
        self.request_version = self.account_version.clone();
        let open: Vec<String> = self
            .sessions
            .iter()
            .filter(|s| s.status == "open")
            .map(|s| s.id.clone())
            .collect();
        let behind_sessions: Vec<String> = self.sessions.iter().filter_map(|s| s.payment_intent.clone()).collect();
        let waiting: Vec<(String, &'static str)> = self
            .intents
            .iter()
            .filter(|i| !behind_sessions.contains(&i.id))
            .map(|i| (i.id.clone(), i.status))
            .collect();
        // Refusals cannot happen for the states listed; a declined test card would be the customer's.
        for id in open {
            let _ = self.pay_session(&id, "pm_card_visa");
        }
        for (id, status) in waiting {
            let _ = match status {
                "requires_payment_method" | "requires_confirmation" => {
                    self.confirm(&id, Some("pm_card_visa"), None, &[])
                }
                "requires_action" => self.authenticate(&id),
                _ => continue,
            };
        }
    }

    /// Makes the objects behind `trigger` (a shared word of [`TRIGGERS`]) without sending anything,
    /// and answers the Stripe event that stands for it: real objects, so looking them up afterwards
    /// answers the state the event shows.
    pub(super) fn stage(&mut self, trigger: &str) -> Result<Value> {
        let Some((_, kind)) = TRIGGERS.iter().find(|(t, _)| *t == trigger) else {
            return Err(Error::unsupported(format!(
                "the Stripe simulator cannot push a '{trigger}' event; it knows: {}",
                TRIGGER_NAMES.join(", ")
            )));
        };
        let muted = self.webhook_url.take();
        self.current_request = None;
        self.request_version = self.account_version.clone();
        let staged = self.stage_muted(trigger);
        self.webhook_url = muted;
        staged?;
        self.events
            .iter()
            .rev()
            .find(|e| e.get("type").and_then(Value::as_str) == Some(kind))
            .cloned()
            .ok_or_else(|| Error::new(ErrorKind::Unavailable, format!("the simulator made no {kind} event")))
    }

    fn stage_muted(&mut self, trigger: &str) -> Result<()> {
        let capture = if trigger == "payment.waiting_for_capture" {
            "manual"
        } else {
            "automatic"
        };
        let id = self.new_intent(1000, "usd", capture);
        self.stats.payments_created += 1;
        let card = if trigger == "payment.failed" {
            "pm_card_chargeDeclined"
        } else {
            "pm_card_visa"
        };
        let answer = match trigger {
            "payment.canceled" => self.cancel(&id, &json!({})),
            _ => self.confirm(&id, Some(card), None, &[]),
        };
        let refused = |what: &str| Error::new(ErrorKind::Unavailable, format!("the simulator could not {what}"));
        match (trigger, answer.0) {
            ("payment.failed", 402) => return Ok(()),
            (_, 200) => {}
            _ => return Err(refused("make the payment")),
        }
        if trigger.starts_with("refund.") {
            let (status, refund) = self.create_refund(&json!({"payment_intent": id}));
            if status != 200 {
                return Err(refused("refund the payment"));
            }
            if trigger == "refund.failed" {
                let rid = refund.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
                if self.fail_refund(&rid, "expired_or_canceled_card").0 != 200 {
                    return Err(refused("fail the refund"));
                }
            }
        }
        Ok(())
    }
}

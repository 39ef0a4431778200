//! The simulator's state machine: the account's objects, and the operations behind each endpoint
//! (Checkout Sessions are in `checkout`).

use serde_json::{Map, Value, json};
use switchboard_payments::simkit::{IdempotencyStore, Pusher, SimStats, alnum, now_unix};

use super::objects::{Charge, Intent, Session, SimRefund, TestCard, before, test_card};
use super::params::{
    Answer, PI_CANCEL, PI_CAPTURE, PI_CREATE, REFUND_CREATE, bool_param, check, check_amount, currency_param,
    email_param, enum_param, expand_list, int_param, invalid, metadata_param, missing, no_such, str_param,
    unexpected_state, url_param,
};
use crate::webhook::signature_header;

/// Everything the simulated account holds.
pub(super) struct State {
    pub(super) secret_key: String,
    pub(super) webhook_secrets: Vec<String>,
    pub(super) base: String,
    pub(super) intents: Vec<Intent>,
    pub(super) charges: Vec<Charge>,
    pub(super) sessions: Vec<Session>,
    pub(super) refunds: Vec<SimRefund>,
    pub(super) events: Vec<Value>,
    pub(super) idem: IdempotencyStore,
    pub(super) webhook_url: Option<String>,
    pub(super) pusher: Pusher,
    pub(super) fail_after_processing: usize,
    pub(super) stats: SimStats,
    /// The request being handled (for events' `request` field).
    pub(super) current_request: Option<(String, Option<String>)>,
    /// The account's default API version: what a request without `Stripe-Version` gets, and what
    /// events are rendered in.
    pub(super) account_version: String,
    /// The version the request being answered asked for (or the account's).
    pub(super) request_version: String,
    /// Fields to set in the next successful answer to a POST.
    pub(super) alter_next: Option<Map<String, Value>>,
    /// Fields to set in the next successful answer to a GET.
    pub(super) alter_lookup: Option<Map<String, Value>>,
}

/// What `expand[]` can reach from each object in the simulator: the fields it renders expanded, and the
/// expandable fields that are always `null` here (expanding `null` is `null`).
pub(super) const INTENT_EXPANDS: &[&str] = &[
    "latest_charge",
    "customer",
    "on_behalf_of",
    "application",
    "review",
    "source",
];
pub(super) const SESSION_EXPANDS: &[&str] = &[
    "payment_intent",
    "payment_intent.latest_charge",
    "customer",
    "invoice",
    "payment_link",
    "setup_intent",
    "subscription",
];
pub(super) const CHARGE_EXPANDS: &[&str] = &["payment_intent", "customer", "application", "on_behalf_of", "review"];
pub(super) const REFUND_EXPANDS: &[&str] = &["charge", "payment_intent"];

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(a) => return a,
        }
    };
}

impl State {
    pub(super) fn intent(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }

    pub(super) fn intent_mut(&mut self, id: &str) -> Option<&mut Intent> {
        self.intents.iter_mut().find(|i| i.id == id)
    }

    /// An intent as the request being answered sees it.
    pub(super) fn intent_json(&self, id: &str, expand: &[String]) -> Value {
        self.intent(id)
            .map(|i| i.to_json(self, expand, &self.request_version))
            .unwrap_or(Value::Null)
    }

    /// An intent as an event carries it: in the account's version, which is the webhook endpoint's.
    fn intent_event(&self, id: &str) -> Value {
        self.intent(id)
            .map(|i| i.to_json(self, &[], &self.account_version))
            .unwrap_or(Value::Null)
    }

    fn charge_json(&self, id: &str) -> Value {
        self.charges
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.to_json(self, &[]))
            .unwrap_or(Value::Null)
    }

    /// Records an event and pushes it, signed, to the webhook URL.
    pub(super) fn emit(&mut self, kind: &str, object: Value) {
        let (req_id, key) = self.current_request.clone().unwrap_or_default();
        let event = json!({
            "id": format!("evt_3{}", alnum(24)),
            "object": "event",
            "api_version": self.account_version,
            "created": now_unix(),
            "data": {"object": object},
            "livemode": false,
            "pending_webhooks": if self.webhook_url.is_some() { 1 } else { 0 },
            "request": {"id": if req_id.is_empty() { Value::Null } else { json!(req_id) }, "idempotency_key": key},
            "type": kind,
        });
        if let Some(url) = &self.webhook_url {
            let body = event.to_string();
            self.pusher.push(url, self.signed_headers(&body), body);
        }
        self.events.push(event);
    }

    /// The headers Stripe sends with an event: `Stripe-Signature` with one `v1` per active secret.
    pub(super) fn signed_headers(&self, body: &str) -> Vec<(String, String)> {
        let secrets: Vec<&str> = self.webhook_secrets.iter().map(String::as_str).collect();
        vec![
            ("content-type".into(), "application/json; charset=utf-8".into()),
            (
                "stripe-signature".into(),
                signature_header(&secrets, now_unix(), body.as_bytes()),
            ),
            (
                "user-agent".into(),
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)".into(),
            ),
        ]
    }

    pub(super) fn new_intent(&mut self, amount: i64, currency: &str, capture_method: &str) -> String {
        let id = format!("pi_3{}", alnum(23));
        self.intents.push(Intent {
            client_secret: format!("{id}_secret_{}", alnum(25)),
            id: id.clone(),
            amount,
            currency: currency.to_owned(),
            status: "requires_payment_method",
            capture_method: capture_method.to_owned(),
            description: None,
            metadata: Map::new(),
            payment_method: None,
            latest_charge: None,
            amount_capturable: 0,
            amount_received: 0,
            created: now_unix(),
            canceled_at: None,
            cancellation_reason: None,
            last_payment_error: None,
            next_action: None,
            return_url: None,
            receipt_email: None,
            automatic_payment_methods: Some(None),
        });
        id
    }

    /// Confirms an intent with a test payment method: the charge, the decline, or 3-D Secure first.
    pub(super) fn confirm(
        &mut self,
        id: &str,
        payment_method: Option<&str>,
        return_url: Option<&str>,
        expand: &[String],
    ) -> Answer {
        let Some(pi) = self.intent(id).cloned() else {
            return no_such("payment_intent", id, "intent");
        };
        if !matches!(pi.status, "requires_payment_method" | "requires_confirmation") {
            return unexpected_state(&format!(
                "This PaymentIntent's status is {}; it cannot be confirmed.",
                pi.status
            ));
        }
        let Some(pm) = payment_method.map(str::to_owned).or(pi.payment_method.clone()) else {
            return unexpected_state(
                "You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment method and then confirm it again.",
            );
        };
        let Some(card) = test_card(&pm) else {
            return no_such("PaymentMethod", &pm, "payment_method");
        };
        if let Some(url) = return_url
            && let Some(p) = self.intent_mut(id)
        {
            p.return_url = Some(url.to_owned());
        }
        if card.authenticate {
            // 3-D Secure: with a return URL the customer is redirected; without one Stripe.js handles it
            // (`use_stripe_sdk`), as Stripe answers a card that requires authentication.
            let page = format!("{}/3ds/{id}", self.base);
            let ret = self.intent(id).and_then(|p| p.return_url.clone());
            let next = match &ret {
                Some(r) => json!({"type": "redirect_to_url", "redirect_to_url": {"return_url": r, "url": page}}),
                None => json!({"type": "use_stripe_sdk",
                               "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": page}}),
            };
            if let Some(p) = self.intent_mut(id) {
                p.status = "requires_action";
                p.payment_method = Some(pm);
                p.next_action = Some(next);
                p.last_payment_error = None;
            }
            let obj = self.intent_event(id);
            self.emit("payment_intent.requires_action", obj);
            return (200, self.intent_json(id, expand));
        }
        self.charge(id, &pm, card, expand)
    }

    /// The customer completes 3-D Secure on the page behind `next_action`.
    pub(super) fn authenticate(&mut self, id: &str) -> Answer {
        let Some(pi) = self.intent(id).cloned() else {
            return no_such("payment_intent", id, "intent");
        };
        let (Some(pm), "requires_action") = (pi.payment_method.clone(), pi.status) else {
            return unexpected_state(&format!(
                "This PaymentIntent's status is {}; there is nothing to authenticate.",
                pi.status
            ));
        };
        match test_card(&pm) {
            Some(card) => self.charge(id, &pm, card, &[]),
            None => no_such("PaymentMethod", &pm, "payment_method"),
        }
    }

    /// Charges the card: a charge that succeeds (captured or held) or is declined.
    fn charge(&mut self, id: &str, pm: &str, card: TestCard, expand: &[String]) -> Answer {
        let Some(pi) = self.intent(id).cloned() else {
            return no_such("payment_intent", id, "intent");
        };
        let charge_id = format!("ch_3{}", alnum(23));
        let captured = pi.capture_method != "manual";
        let ok = card.decline.is_none();
        self.charges.push(Charge {
            id: charge_id.clone(),
            amount: pi.amount,
            amount_captured: if ok && captured { pi.amount } else { 0 },
            amount_refunded: 0,
            currency: pi.currency.clone(),
            payment_intent: pi.id.clone(),
            payment_method: pm.to_owned(),
            captured: ok && captured,
            status: if ok { "succeeded" } else { "failed" },
            created: now_unix(),
            description: pi.description.clone(),
            metadata: pi.metadata.clone(),
            receipt_email: pi.receipt_email.clone(),
            card,
            balance_transaction: (ok && captured).then(|| format!("txn_3{}", alnum(23))),
        });
        if let Some((decline_code, message)) = card.decline {
            let error = json!({
                "type": "card_error",
                "code": "card_declined",
                "decline_code": decline_code,
                "advice_code": "try_again_later",
                "message": message,
                "charge": charge_id,
                "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                "payment_method_type": "card",
            });
            if let Some(p) = self.intent_mut(id) {
                p.status = "requires_payment_method";
                p.payment_method = None;
                p.next_action = None;
                p.latest_charge = Some(charge_id.clone());
                p.last_payment_error = Some(error.clone());
            }
            let ch = self.charge_json(&charge_id);
            self.emit("charge.failed", ch);
            let obj = self.intent_event(id);
            self.emit("payment_intent.payment_failed", obj);
            let mut body = error;
            if let Some(m) = body.as_object_mut() {
                m.insert("payment_intent".into(), self.intent_json(id, &[]));
            }
            return (402, json!({ "error": body }));
        }
        if let Some(p) = self.intent_mut(id) {
            p.payment_method = Some(pm.to_owned());
            p.latest_charge = Some(charge_id.clone());
            p.last_payment_error = None;
            p.next_action = None;
            if captured {
                p.status = "succeeded";
                p.amount_received = p.amount;
            } else {
                p.status = "requires_capture";
                p.amount_capturable = p.amount;
            }
        }
        self.stats.charges += 1;
        let ch = self.charge_json(&charge_id);
        self.emit("charge.succeeded", ch);
        let obj = self.intent_event(id);
        if captured {
            self.emit("payment_intent.succeeded", obj);
        } else {
            self.emit("payment_intent.amount_capturable_updated", obj);
        }
        (200, self.intent_json(id, expand))
    }

    pub(super) fn create_intent(&mut self, p: &Value) -> Answer {
        tri!(check(p, &PI_CREATE));
        let amount = match tri!(int_param(p, "amount")) {
            Some(a) => a,
            None => return missing("amount"),
        };
        let currency = tri!(currency_param(p, "currency"));
        tri!(check_amount(amount, &currency, "amount"));
        let capture_method = tri!(enum_param(
            p,
            "capture_method",
            &["automatic", "automatic_async", "manual"]
        ))
        .unwrap_or("automatic");
        tri!(enum_param(p, "confirmation_method", &["automatic", "manual"]));
        let confirm = tri!(bool_param(p, "confirm")).unwrap_or(false);
        let metadata = tri!(metadata_param(p, "metadata"));
        let receipt_email = tri!(email_param(p, "receipt_email")).map(str::to_owned);
        let return_url = tri!(url_param(p, "return_url")).map(str::to_owned);
        if return_url.is_some() && !confirm {
            return invalid(
                None,
                "The parameter `return_url` can only be passed when confirm=true.",
                Some("return_url"),
            );
        }
        let apm = p.get("automatic_payment_methods").cloned().unwrap_or(Value::Null);
        let automatic = tri!(bool_param(&apm, "enabled"));
        let allow_redirects = tri!(enum_param(&apm, "allow_redirects", &["always", "never"])).map(str::to_owned);
        if p.get("automatic_payment_methods").is_some() && automatic.is_none() {
            return missing("automatic_payment_methods[enabled]");
        }
        if p.get("automatic_payment_methods").is_some() && p.get("payment_method_types").is_some() {
            return invalid(
                Some("parameters_exclusive"),
                "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
                Some("payment_method_types"),
            );
        }
        if let Some(Value::Array(types)) = p.get("payment_method_types")
            && let Some(t) = types.iter().filter_map(Value::as_str).find(|t| *t != "card")
        {
            return invalid(
                Some("payment_intent_invalid_parameter"),
                &format!("The payment method type \"{t}\" is invalid. The simulator takes cards only."),
                Some("payment_method_types"),
            );
        }
        // Without either, automatic payment methods are on from API version 2023-08-16 (Stripe changelog,
        // 2023-08-16: "automatic_payment_methods enabled by default").
        let automatic = automatic
            .unwrap_or(p.get("payment_method_types").is_none() && !before(&self.request_version, "2023-08-16"));
        let no_redirects = allow_redirects.as_deref() == Some("never");
        if confirm && automatic && !no_redirects && return_url.is_none() {
            return invalid(
                None,
                "When automatic_payment_methods is enabled and confirm=true, return_url must be provided, or automatic_payment_methods[allow_redirects] set to never.",
                Some("return_url"),
            );
        }
        let payment_method = str_param(p, "payment_method").map(str::to_owned);
        let id = self.new_intent(amount, &currency, capture_method);
        if let Some(pi) = self.intent_mut(&id) {
            pi.description = str_param(p, "description").map(str::to_owned);
            pi.receipt_email = receipt_email;
            pi.metadata = metadata;
            pi.automatic_payment_methods = automatic.then_some(allow_redirects);
            if let Some(pm) = &payment_method {
                pi.payment_method = Some(pm.clone());
                pi.status = "requires_confirmation";
            }
        }
        self.stats.payments_created += 1;
        let created = self.intent_event(&id);
        self.emit("payment_intent.created", created);
        let expand = expand_list(p);
        if confirm {
            return self.confirm(&id, None, return_url.as_deref(), &expand);
        }
        (200, self.intent_json(&id, &expand))
    }

    pub(super) fn capture(&mut self, id: &str, p: &Value) -> Answer {
        tri!(check(p, &PI_CAPTURE));
        tri!(bool_param(p, "final_capture"));
        let Some(pi) = self.intent(id).cloned() else {
            return no_such("payment_intent", id, "intent");
        };
        if pi.status != "requires_capture" {
            return unexpected_state(&format!(
                "This PaymentIntent could not be captured because it has a status of {}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                pi.status
            ));
        }
        let amount = tri!(int_param(p, "amount_to_capture")).unwrap_or(pi.amount_capturable);
        if amount <= 0 || amount > pi.amount_capturable {
            return invalid(
                Some("amount_too_large"),
                &format!(
                    "The amount_to_capture must be between 1 and the amount capturable ({}).",
                    pi.amount_capturable
                ),
                Some("amount_to_capture"),
            );
        }
        let extra_metadata = tri!(metadata_param(p, "metadata"));
        let txn = format!("txn_3{}", alnum(23));
        if let Some(ch) = pi
            .latest_charge
            .as_ref()
            .and_then(|c| self.charges.iter_mut().find(|x| &x.id == c))
        {
            ch.captured = true;
            ch.amount_captured = amount;
            ch.balance_transaction = Some(txn);
        }
        if let Some(x) = self.intent_mut(id) {
            x.status = "succeeded";
            x.amount_received = amount;
            x.amount_capturable = 0;
            x.metadata.extend(extra_metadata);
        }
        self.stats.captures += 1;
        if let Some(c) = pi.latest_charge.as_deref() {
            let ch = self.charge_json(c);
            self.emit("charge.captured", ch);
        }
        let obj = self.intent_event(id);
        self.emit("payment_intent.succeeded", obj);
        (200, self.intent_json(id, &expand_list(p)))
    }

    pub(super) fn cancel(&mut self, id: &str, p: &Value) -> Answer {
        tri!(check(p, &PI_CANCEL));
        let reason = tri!(enum_param(
            p,
            "cancellation_reason",
            &["duplicate", "fraudulent", "requested_by_customer", "abandoned"]
        ));
        let Some(pi) = self.intent(id).cloned() else {
            return no_such("payment_intent", id, "intent");
        };
        if !matches!(
            pi.status,
            "requires_payment_method" | "requires_capture" | "requires_confirmation" | "requires_action" | "processing"
        ) {
            return unexpected_state(&format!(
                "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
                pi.status
            ));
        }
        if pi.status == "requires_capture"
            && let Some(ch) = pi
                .latest_charge
                .as_ref()
                .and_then(|c| self.charges.iter_mut().find(|x| &x.id == c))
        {
            // The hold is released.
            ch.amount_refunded = ch.amount;
        }
        if let Some(x) = self.intent_mut(id) {
            x.status = "canceled";
            x.canceled_at = Some(now_unix());
            x.cancellation_reason = reason.map(str::to_owned);
            x.amount_capturable = 0;
            x.next_action = None;
        }
        self.stats.cancellations += 1;
        let obj = self.intent_event(id);
        self.emit("payment_intent.canceled", obj);
        (200, self.intent_json(id, &expand_list(p)))
    }

    pub(super) fn create_refund(&mut self, p: &Value) -> Answer {
        tri!(check(p, &REFUND_CREATE));
        tri!(email_param(p, "instructions_email"));
        tri!(enum_param(p, "origin", &["customer_balance"]));
        let reason = tri!(enum_param(
            p,
            "reason",
            &["duplicate", "fraudulent", "requested_by_customer"]
        ))
        .map(str::to_owned);
        let metadata = tri!(metadata_param(p, "metadata"));
        let pi_id = match (str_param(p, "payment_intent"), str_param(p, "charge")) {
            (Some(pi), Some(ch)) if self.charges.iter().any(|c| c.id == ch && c.payment_intent != pi) => {
                return invalid(
                    None,
                    &format!("The charge {ch} does not belong to the PaymentIntent {pi}."),
                    Some("charge"),
                );
            }
            (Some(pi), _) => pi.to_owned(),
            (None, Some(ch)) => match self.charges.iter().find(|c| c.id == ch) {
                Some(c) => c.payment_intent.clone(),
                None => return no_such("charge", ch, "charge"),
            },
            (None, None) => {
                return invalid(
                    None,
                    "One of the following params should be provided for this request: payment_intent or charge.",
                    None,
                );
            }
        };
        let Some(pi) = self.intent(&pi_id).cloned() else {
            return no_such("payment_intent", &pi_id, "payment_intent");
        };
        let charge = pi
            .latest_charge
            .as_ref()
            .and_then(|c| {
                self.charges
                    .iter()
                    .find(|x| &x.id == c && x.status == "succeeded" && x.captured)
            })
            .cloned();
        let Some(charge) = charge.filter(|_| pi.status == "succeeded") else {
            return invalid(
                None,
                "This PaymentIntent does not have a successful charge to refund.",
                Some("payment_intent"),
            );
        };
        let left = charge.amount_captured - charge.amount_refunded;
        if left <= 0 {
            return invalid(
                Some("charge_already_refunded"),
                &format!("Charge {} has already been refunded.", charge.id),
                None,
            );
        }
        let amount = match tri!(int_param(p, "amount")) {
            Some(a) if a <= 0 => {
                return invalid(
                    Some("parameter_invalid_integer"),
                    "Amount must be a positive integer.",
                    Some("amount"),
                );
            }
            Some(a) => a,
            None => left,
        };
        if amount > left {
            return invalid(
                Some("amount_too_large"),
                &format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"),
                Some("amount"),
            );
        }
        if let Some(c) = self.charges.iter_mut().find(|c| c.id == charge.id) {
            c.amount_refunded += amount;
        }
        let r = SimRefund {
            id: format!("re_3{}", alnum(23)),
            amount,
            currency: charge.currency.clone(),
            charge: charge.id.clone(),
            payment_intent: pi_id,
            payment_method: charge.payment_method.clone(),
            reason,
            status: "succeeded",
            failure_reason: None,
            balance_transaction: format!("txn_3{}", alnum(23)),
            created: now_unix(),
            metadata,
        };
        let id = r.id.clone();
        self.refunds.push(r);
        self.stats.refunds_created += 1;
        let json = self.refund_json(&id, &[]);
        self.emit("refund.created", json);
        let ch = self.charge_json(&charge.id);
        self.emit("charge.refunded", ch);
        (200, self.refund_json(&id, &expand_list(p)))
    }

    pub(super) fn refund_json(&self, id: &str, expand: &[String]) -> Value {
        self.refunds
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.to_json(self, expand))
            .unwrap_or(Value::Null)
    }

    /// A refund fails after it was accepted (the card was closed, the bank declined): the money stays
    /// with the merchant, and `refund.failed` is sent.
    pub(super) fn fail_refund(&mut self, id: &str, reason: &str) -> Answer {
        let Some(r) = self.refunds.iter_mut().find(|r| r.id == id) else {
            return no_such("refund", id, "id");
        };
        if !matches!(r.status, "pending" | "succeeded") {
            return invalid(None, &format!("The refund is {}.", r.status), None);
        }
        r.status = "failed";
        r.failure_reason = Some(reason.to_owned());
        let (charge, amount) = (r.charge.clone(), r.amount);
        if let Some(c) = self.charges.iter_mut().find(|c| c.id == charge) {
            c.amount_refunded -= amount;
        }
        let json = self.refund_json(id, &[]);
        self.emit("refund.failed", json.clone());
        (200, json)
    }

    pub(super) fn list_refunds(&self, query: &Value) -> Answer {
        let limit = match tri!(int_param(query, "limit")) {
            None => 10,
            Some(n) if (1..=100).contains(&n) => n as usize,
            Some(_) => return invalid(None, "Invalid limit: must be between 1 and 100", Some("limit")),
        };
        if str_param(query, "starting_after").is_some() && str_param(query, "ending_before").is_some() {
            return invalid(
                Some("parameters_exclusive"),
                "You may only specify one of these parameters: ending_before, starting_after.",
                Some("ending_before"),
            );
        }
        let expand: Vec<String> = expand_list(query)
            .iter()
            .filter_map(|e| e.strip_prefix("data.").map(str::to_owned))
            .collect();
        let all: Vec<&SimRefund> = self
            .refunds
            .iter()
            .rev()
            .filter(|r| str_param(query, "payment_intent").is_none_or(|p| r.payment_intent == p))
            .filter(|r| str_param(query, "charge").is_none_or(|c| r.charge == c))
            .collect();
        let start = match str_param(query, "starting_after") {
            None => 0,
            Some(after) => match all.iter().position(|r| r.id == after) {
                Some(i) => i + 1,
                None => return no_such("refund", after, "starting_after"),
            },
        };
        let page: Vec<Value> = all
            .iter()
            .skip(start)
            .take(limit)
            .map(|r| r.to_json(self, &expand))
            .collect();
        (
            200,
            json!({"object": "list", "data": page, "has_more": start + limit < all.len(), "url": "/v1/refunds"}),
        )
    }
}

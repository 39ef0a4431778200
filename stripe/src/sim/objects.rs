//! The simulator's objects and how the API shows them.
//!
//! Each `to_json` answers every field Stripe's API reference lists for the object without a "?"
//! (the fields always present), `null` where Stripe has nothing to say, in the shape of the API
//! version the request asked for (sources: Stripe API reference, The PaymentIntent / Charge / Refund /
//! Checkout Session / Event object; the field lists as Stripe's OpenAPI specification and its official
//! Node library's types have them for 2026-08-26.dahlia). Where a value depends on the version it is
//! said at the field.

use serde_json::{Map, Value, json};

use super::state::State;

/// Whether `version` (`2026-08-26.dahlia`) is older than the day `date` (`2022-11-15`).
pub(super) fn before(version: &str, date: &str) -> bool {
    version.get(..10).unwrap_or(version) < date
}

/// The day PaymentIntents got `latest_charge` in place of the `charges` list (Stripe changelog,
/// 2022-11-15).
const LATEST_CHARGE_SINCE: &str = "2022-11-15";

/// The day Checkout's `ui_mode` words became `hosted_page` / `embedded_page` / `elements` (Stripe
/// changelog, 2026-03-25.dahlia).
const UI_MODE_RENAMED: &str = "2026-03-25";

/// A test payment method the simulator knows (Stripe docs, Testing: test card numbers and their
/// `pm_card_…` aliases).
#[derive(Debug, Clone, Copy)]
pub(super) struct TestCard {
    pub brand: &'static str,
    pub last4: &'static str,
    pub funding: &'static str,
    /// `Some((decline_code, message))` for a card that is declined.
    pub decline: Option<(&'static str, &'static str)>,
    /// Whether the card asks for 3-D Secure on every payment.
    pub authenticate: bool,
}

pub(super) fn test_card(pm: &str) -> Option<TestCard> {
    let card = |brand, last4| TestCard {
        brand,
        last4,
        funding: "credit",
        decline: None,
        authenticate: false,
    };
    Some(match pm {
        "pm_card_visa" => card("visa", "4242"),
        "pm_card_mastercard" => card("mastercard", "4444"),
        "pm_card_amex" => card("amex", "8431"),
        "pm_card_chargeDeclined" => TestCard {
            decline: Some(("generic_decline", "Your card was declined.")),
            ..card("visa", "0002")
        },
        "pm_card_chargeDeclinedInsufficientFunds" => TestCard {
            decline: Some(("insufficient_funds", "Your card has insufficient funds.")),
            ..card("visa", "9995")
        },
        "pm_card_authenticationRequired" => TestCard {
            authenticate: true,
            ..card("visa", "3184")
        },
        _ => return None,
    })
}

/// One object from several (`json!` is recursive, and Stripe's objects are long).
fn merged<const N: usize>(parts: [Value; N]) -> Value {
    let mut out = Map::new();
    for p in parts {
        if let Value::Object(m) = p {
            out.extend(m);
        }
    }
    Value::Object(out)
}

fn address_nulls() -> Value {
    json!({"city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null})
}

#[derive(Debug, Clone)]
pub(super) struct Intent {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub status: &'static str,
    pub capture_method: String,
    pub client_secret: String,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub payment_method: Option<String>,
    pub latest_charge: Option<String>,
    pub amount_capturable: i64,
    pub amount_received: i64,
    pub created: i64,
    pub canceled_at: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub last_payment_error: Option<Value>,
    pub next_action: Option<Value>,
    pub return_url: Option<String>,
    pub receipt_email: Option<String>,
    /// `automatic_payment_methods`: enabled, and `allow_redirects` when it was given.
    pub automatic_payment_methods: Option<Option<String>>,
}

impl Intent {
    pub(super) fn to_json(&self, st: &State, expand: &[String], version: &str) -> Value {
        let mut o = json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": self.amount_capturable,
            "amount_details": {"tip": {}},
            "amount_received": self.amount_received,
            "application": null,
            "application_fee_amount": null,
            "automatic_payment_methods": match &self.automatic_payment_methods {
                None => Value::Null,
                Some(None) => json!({"enabled": true}),
                Some(Some(r)) => json!({"allow_redirects": r, "enabled": true}),
            },
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": self.capture_method,
            "client_secret": self.client_secret,
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": null,
            "customer_account": null,
            "description": self.description,
            "excluded_payment_method_types": null,
            "last_payment_error": self.last_payment_error,
            "livemode": false,
            "managed_payments": null,
            "metadata": self.metadata,
            "next_action": self.next_action,
            "on_behalf_of": null,
            "payment_method": self.payment_method,
            "payment_method_configuration_details": null,
            "payment_method_options": {"card": {"installments": null, "mandate_options": null, "network": null, "request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"],
            "processing": null,
            "receipt_email": self.receipt_email,
            "review": null,
            "setup_future_usage": null,
            "shipping": null,
            "source": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": self.status,
            "transfer_data": null,
            "transfer_group": null,
        });
        let charge_json = |id: &String| st.charges.iter().find(|c| &c.id == id).map(|c| c.to_json(st, &[]));
        if let Some(m) = o.as_object_mut() {
            if before(version, LATEST_CHARGE_SINCE) {
                // Older versions list the charges instead (and have no `latest_charge`).
                let data: Vec<Value> = st
                    .charges
                    .iter()
                    .rev()
                    .filter(|c| c.payment_intent == self.id)
                    .map(|c| c.to_json(st, &[]))
                    .collect();
                m.insert(
                    "charges".into(),
                    json!({"object": "list", "data": data, "has_more": false,
                           "url": format!("/v1/charges?payment_intent={}", self.id)}),
                );
            } else {
                let latest = match &self.latest_charge {
                    None => Value::Null,
                    Some(id) if expand.iter().any(|e| e == "latest_charge") => charge_json(id).unwrap_or(Value::Null),
                    Some(id) => json!(id),
                };
                m.insert("latest_charge".into(), latest);
            }
        }
        o
    }
}

#[derive(Debug, Clone)]
pub(super) struct Charge {
    pub id: String,
    pub amount: i64,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub payment_intent: String,
    pub payment_method: String,
    pub captured: bool,
    pub status: &'static str,
    pub created: i64,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub receipt_email: Option<String>,
    pub card: TestCard,
    pub balance_transaction: Option<String>,
}

impl Charge {
    pub(super) fn to_json(&self, st: &State, expand: &[String]) -> Value {
        let failed = self.status == "failed";
        let decline = self.card.decline.filter(|_| failed);
        let outcome = match decline {
            None => json!({
                "advice_code": null, "network_advice_code": null, "network_decline_code": null,
                "network_status": "approved_by_network", "reason": null, "risk_level": "normal",
                "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized"
            }),
            Some((code, _)) => json!({
                "advice_code": "try_again_later", "network_advice_code": null, "network_decline_code": null,
                "network_status": "declined_by_network", "reason": code, "risk_level": "normal",
                "risk_score": 32, "seller_message": "The bank did not return any further details with this decline.",
                "type": "issuer_declined"
            }),
        };
        let payment_intent = if expand.iter().any(|e| e == "payment_intent") {
            st.intents
                .iter()
                .find(|i| i.id == self.payment_intent)
                .map(|i| i.to_json(st, &[], &st.request_version))
                .unwrap_or(Value::Null)
        } else {
            json!(self.payment_intent)
        };
        let card = json!({
            "amount_authorized": if failed { Value::Null } else { json!(self.amount) },
            "authorization_code": null,
            "brand": self.card.brand,
            "checks": {"address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass"},
            "country": "US",
            "exp_month": 12,
            "exp_year": 2034,
            "extended_authorization": {"status": "disabled"},
            "fingerprint": "SwItChBoArDsImUl",
            "funding": self.card.funding,
            "incremental_authorization": {"status": "unavailable"},
            "installments": null,
            "last4": self.card.last4,
            "mandate": null,
            "multicapture": {"status": "unavailable"},
            "network": self.card.brand,
            "network_token": {"used": false},
            "network_transaction_id": null,
            "overcapture": {"maximum_amount_capturable": self.amount, "status": "unavailable"},
            "regulated_status": "unregulated",
            "three_d_secure": null,
            "wallet": null
        });
        let head = json!({
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "application": null,
            "application_fee": null,
            "application_fee_amount": null,
            "balance_transaction": self.balance_transaction,
            "billing_details": {"address": address_nulls(), "email": null, "name": null, "phone": null, "tax_id": null},
            "calculated_statement_descriptor": "SWITCHBOARD SIM",
            "captured": self.captured,
            "created": self.created,
            "currency": self.currency,
            "customer": null,
            "description": self.description,
            "disputed": false,
            "failure_balance_transaction": null,
            "failure_code": decline.map(|_| "card_declined"),
            "failure_message": decline.map(|(_, m)| m),
        });
        let rest = json!({
            "fraud_details": {},
            "livemode": false,
            "metadata": self.metadata,
            "on_behalf_of": null,
            "outcome": outcome,
            "paid": self.status == "succeeded",
            "payment_intent": payment_intent,
            "payment_method": self.payment_method,
            "payment_method_details": {"card": card, "type": "card"},
            "receipt_email": self.receipt_email,
            "receipt_number": null,
            "receipt_url": format!("{}/receipts/payment/{}", st.base, self.id),
            "refunded": self.amount_refunded > 0 && self.amount_refunded >= self.amount_captured.max(1),
            "review": null,
            "shipping": null,
            "source": null,
            "source_transfer": null,
            "statement_descriptor": null,
            "statement_descriptor_suffix": null,
            "status": self.status,
            "transfer_data": null,
            "transfer_group": null,
        });
        merged([head, rest])
    }
}

#[derive(Debug, Clone)]
pub(super) struct Session {
    pub id: String,
    pub status: &'static str,
    pub payment_status: &'static str,
    pub amount_total: i64,
    pub currency: String,
    pub success_url: String,
    pub cancel_url: Option<String>,
    pub metadata: Map<String, Value>,
    pub pi_capture_method: String,
    pub pi_description: Option<String>,
    pub pi_metadata: Map<String, Value>,
    pub payment_intent: Option<String>,
    pub client_reference_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_details: Option<Value>,
    pub locale: Option<String>,
    pub submit_type: Option<String>,
    pub created: i64,
    pub expires_at: i64,
}

impl Session {
    pub(super) fn to_json(&self, st: &State, expand: &[String], version: &str) -> Value {
        let url = if self.status == "open" {
            json!(format!("{}/c/pay/{}", st.base, self.id))
        } else {
            Value::Null
        };
        let pi = match &self.payment_intent {
            None => Value::Null,
            Some(id) if expand.iter().any(|e| e == "payment_intent") => {
                let inner: Vec<String> = expand
                    .iter()
                    .filter_map(|e| e.strip_prefix("payment_intent.").map(str::to_owned))
                    .collect();
                st.intents
                    .iter()
                    .find(|i| &i.id == id)
                    .map(|i| i.to_json(st, &inner, version))
                    .unwrap_or(Value::Null)
            }
            Some(id) => json!(id),
        };
        let complete = self.status == "complete";
        let head = json!({
            "id": self.id,
            "object": "checkout.session",
            "adaptive_pricing": {"enabled": false},
            "after_expiration": null,
            "allow_promotion_codes": null,
            "amount_subtotal": self.amount_total,
            "amount_total": self.amount_total,
            "automatic_tax": {"enabled": false, "liability": null, "provider": null, "status": null},
            "billing_address_collection": null,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "client_secret": null,
            "collected_information": if complete {
                json!({"business_name": null, "individual_name": null, "shipping_details": null})
            } else {
                Value::Null
            },
            "consent": null,
            "consent_collection": null,
            "created": self.created,
            "currency": self.currency,
            "currency_conversion": null,
            "custom_fields": [],
            "custom_text": {"after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null},
            "customer": null,
            "customer_account": null,
            "customer_creation": "if_required",
            "customer_details": self.customer_details,
            "customer_email": self.customer_email,
            "discounts": [],
        });
        let rest = json!({
            "expires_at": self.expires_at,
            "integration_identifier": null,
            "invoice": null,
            "invoice_creation": {
                "enabled": false,
                "invoice_data": {"account_tax_ids": null, "custom_fields": null, "description": null, "footer": null,
                                 "issuer": null, "metadata": {}, "rendering_options": null}
            },
            "livemode": false,
            "locale": self.locale,
            "managed_payments": null,
            "metadata": self.metadata,
            "mode": "payment",
            "origin_context": null,
            "payment_intent": pi,
            "payment_link": null,
            "payment_method_collection": "if_required",
            "payment_method_configuration_details": null,
            "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"],
            "payment_status": self.payment_status,
            "permissions": null,
            "phone_number_collection": {"enabled": false},
            "recovered_from": null,
            "saved_payment_method_options": null,
            "setup_intent": null,
            "shipping_address_collection": null,
            "shipping_cost": null,
            "shipping_options": [],
            "status": self.status,
            "submit_type": self.submit_type,
            "subscription": null,
            "success_url": self.success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": if before(version, UI_MODE_RENAMED) { "hosted" } else { "hosted_page" },
            "url": url,
            "wallet_options": null,
        });
        merged([head, rest])
    }
}

#[derive(Debug, Clone)]
pub(super) struct SimRefund {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    pub charge: String,
    pub payment_intent: String,
    pub payment_method: String,
    pub reason: Option<String>,
    pub status: &'static str,
    pub failure_reason: Option<String>,
    pub balance_transaction: String,
    pub created: i64,
    pub metadata: Map<String, Value>,
}

impl SimRefund {
    pub(super) fn to_json(&self, st: &State, expand: &[String]) -> Value {
        let charge = if expand.iter().any(|e| e == "charge") {
            st.charges
                .iter()
                .find(|c| c.id == self.charge)
                .map(|c| c.to_json(st, &[]))
                .unwrap_or(Value::Null)
        } else {
            json!(self.charge)
        };
        let payment_intent = if expand.iter().any(|e| e == "payment_intent") {
            st.intents
                .iter()
                .find(|i| i.id == self.payment_intent)
                .map(|i| i.to_json(st, &[], &st.request_version))
                .unwrap_or(Value::Null)
        } else {
            json!(self.payment_intent)
        };
        let mut o = json!({
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": self.balance_transaction,
            "charge": charge,
            "created": self.created,
            "currency": self.currency,
            "customer": null,
            "customer_account": null,
            "destination_details": {"card": {"reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund"}, "type": "card"},
            "metadata": self.metadata,
            "payment_intent": payment_intent,
            "payment_method": self.payment_method,
            "reason": self.reason,
            "receipt_number": null,
            "source_transfer_reversal": null,
            "status": self.status,
            "transfer_reversal": null,
        });
        if let (Some(r), Some(m)) = (&self.failure_reason, o.as_object_mut()) {
            m.insert("failure_reason".into(), json!(r));
            m.insert(
                "failure_balance_transaction".into(),
                json!(format!("{}_failure", self.balance_transaction)),
            );
        }
        o
    }
}

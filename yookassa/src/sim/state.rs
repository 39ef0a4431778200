//! The simulator's state machine: what it does with each request, and how it checks them.
//!
//! Requests are checked against YooKassa's OpenAPI specification (the request schemas of
//! `POST /payments`, `/payments/{id}/capture`, `/payments/{id}/cancel`, `/refunds`): a required field
//! missing, a value of the wrong JSON type, an amount that is not a positive decimal with at most the
//! currency's decimals, a currency YooKassa does not take (`CurrencyCode`), a description over 128
//! characters (250 for refunds), metadata over its limits (16 keys, keys up to 32 and values up to 512
//! characters, values strings or `null`), an unknown confirmation type, a `return_url` that is not a URL,
//! two of `payment_method_data`, `payment_method_id`, `payment_token` together: each is
//! `400 invalid_request` naming the parameter.
//!
//! YooKassa's documentation does not say whether it refuses a top-level field its specification does
//! not list, or ignores it: the simulator refuses it (`400 invalid_request`), the stricter choice, so
//! a client that passes the simulator sends documented fields only. This is the one place that choice
//! is made.

use std::collections::HashSet;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use switchboard_core::{Error, ErrorKind, Result};
use switchboard_payments::simkit::{IdempotencyStore, Pusher, SimStats};
use switchboard_payments::{Currency, Money};

use super::objects::{Answer, SimPayment, SimRefund, error, invalid, now, uuid_like};

/// Everything the simulated shop holds.
pub(super) struct State {
    pub(super) shop_id: String,
    pub(super) secret_key: String,
    pub(super) base: String,
    pub(super) payments: Vec<SimPayment>,
    pub(super) refunds: Vec<SimRefund>,
    pub(super) saved_methods: HashSet<String>,
    pub(super) idem: IdempotencyStore,
    pub(super) webhook_url: Option<String>,
    pub(super) pusher: Pusher,
    pub(super) fail_after_processing: usize,
    pub(super) stats: SimStats,
    /// Fields to set in the next successful answer to a POST.
    pub(super) alter_next: Option<Map<String, Value>>,
    /// Fields to set in the next successful answer to a GET.
    pub(super) alter_lookup: Option<Map<String, Value>>,
}

/// The currencies YooKassa takes (OpenAPI specification, schema `CurrencyCode`).
const CURRENCIES: &[&str] = &[
    "RUB", "EUR", "USD", "KZT", "BYN", "UAH", "UZS", "TRY", "INR", "MDL", "AZN", "AMD",
];

/// The fields each request body may have (OpenAPI specification, the request schemas).
const CREATE_PAYMENT_FIELDS: &[&str] = &[
    "amount",
    "description",
    "receipt",
    "recipient",
    "payment_token",
    "payment_method_id",
    "payment_method_data",
    "confirmation",
    "save_payment_method",
    "capture",
    "client_ip",
    "metadata",
    "airline",
    "transfers",
    "deal",
    "merchant_customer_id",
    "payment_order",
    "receiver",
    "statements",
];
const CAPTURE_FIELDS: &[&str] = &["amount", "receipt", "airline", "transfers", "deal"];
const CANCEL_FIELDS: &[&str] = &[];
const CREATE_REFUND_FIELDS: &[&str] = &[
    "payment_id",
    "amount",
    "description",
    "receipt",
    "sources",
    "deal",
    "refund_method_data",
    "metadata",
];
const CONFIRMATION_TYPES: &[&str] = &["redirect", "external", "qr", "embedded", "mobile_application"];

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(a) => return a,
        }
    };
}

/// The body as an object with only `fields` in it.
fn object<'a>(body: &'a Value, fields: &[&str]) -> std::result::Result<&'a Map<String, Value>, Answer> {
    let Some(obj) = body.as_object() else {
        return Err(invalid("The request body must be a JSON object", "body"));
    };
    match obj.keys().find(|k| !fields.contains(&k.as_str())) {
        None => Ok(obj),
        Some(k) => Err(invalid(&format!("Unknown parameter: {k}"), k)),
    }
}

fn string<'a>(obj: &'a Map<String, Value>, key: &str, max: usize) -> std::result::Result<Option<&'a str>, Answer> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s)),
        Some(Value::String(_)) => Err(invalid(&format!("{key} must be at most {max} characters"), key)),
        Some(_) => Err(invalid(
            &format!("Invalid request parameter: {key} must be a string"),
            key,
        )),
    }
}

fn boolean(obj: &Map<String, Value>, key: &str, at: &str) -> std::result::Result<Option<bool>, Answer> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(
            &format!("Invalid request parameter: {at} must be a boolean"),
            at,
        )),
    }
}

fn hash<'a>(obj: &'a Map<String, Value>, key: &str) -> std::result::Result<Option<&'a Map<String, Value>>, Answer> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(invalid(
            &format!("Invalid request parameter: {key} must be an object"),
            key,
        )),
    }
}

fn metadata(obj: &Map<String, Value>) -> std::result::Result<Map<String, Value>, Answer> {
    let Some(m) = hash(obj, "metadata")? else {
        return Ok(Map::new());
    };
    let bad = m.len() > 16
        || m.iter().any(|(k, v)| {
            k.chars().count() > 32 || !(v.is_null() || v.as_str().is_some_and(|s| s.chars().count() <= 512))
        });
    if bad {
        return Err(invalid(
            "Metadata takes at most 16 keys, keys up to 32 characters and values strings (or null) up to 512 characters",
            "metadata",
        ));
    }
    Ok(m.clone())
}

/// An amount: `{"value": "1000.00", "currency": "RUB"}`, positive, at most the currency's decimals.
pub(super) fn parse_amount(v: Option<&Value>, at: &str) -> std::result::Result<Money, Answer> {
    let Some(Value::Object(a)) = v else {
        return Err(invalid(&format!("{at} is required and must be an object"), at));
    };
    let Some(cur) = a.get("currency").and_then(Value::as_str) else {
        return Err(invalid(
            &format!("{at}.currency is required"),
            &format!("{at}.currency"),
        ));
    };
    if !CURRENCIES.contains(&cur) {
        return Err(invalid("The currency is not supported", &format!("{at}.currency")));
    }
    let currency =
        Currency::from_code(cur).map_err(|_| invalid("The currency is not supported", &format!("{at}.currency")))?;
    let Some(value) = a.get("value").and_then(Value::as_str) else {
        return Err(invalid(
            &format!("Invalid request parameter: {at}.value must be a string"),
            &format!("{at}.value"),
        ));
    };
    match Money::parse(value, currency) {
        Ok(m) if m.is_positive() => Ok(m),
        _ => Err(invalid("Invalid amount value", &format!("{at}.value"))),
    }
}

pub(super) fn internal_error() -> Answer {
    error(
        500,
        Some("internal_server_error"),
        "Internal server error. The operation result is unknown; repeat the request with the same Idempotence-Key",
        None,
    )
}

pub(super) fn not_found_payment() -> Answer {
    error(
        404,
        Some("not_found"),
        "Incorrect payment_id. Payment doesn't exist or access denied.",
        Some("payment_id"),
    )
}

fn hold_until() -> String {
    (Utc::now() + chrono::Duration::days(7)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn digits(n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + switchboard_core::random::below(10) as u8))
        .collect()
}

impl State {
    fn payment_mut(&mut self, id: &str) -> Option<&mut SimPayment> {
        self.payments.iter_mut().find(|p| p.id == id)
    }

    pub(super) fn payment_json(&self, id: &str) -> Value {
        self.payments
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.to_json(&self.shop_id))
            .unwrap_or(Value::Null)
    }

    fn notify(&self, event: &str, object: Value) {
        if let Some(url) = &self.webhook_url {
            self.pusher
                .push(url, notification_headers(), notification(event, object));
        }
    }

    fn notify_payment(&self, id: &str) {
        if let Some(p) = self.payments.iter().find(|p| p.id == id) {
            self.notify(&format!("payment.{}", p.status), p.to_json(&self.shop_id));
        }
    }

    /// The customer pays a pending payment by card.
    pub(super) fn pay(&mut self, id: &str) -> Result<()> {
        let p = self
            .payment_mut(id)
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such payment in the simulator"))?;
        if p.status != "pending" {
            return Err(Error::invalid_input(format!(
                "the payment is {}, not pending",
                p.status
            )));
        }
        let method_id = uuid_like("000f");
        p.payment_method = Some(json!({
            "type": "bank_card",
            "id": method_id,
            "saved": p.save_payment_method,
            "status": if p.save_payment_method { "active" } else { "inactive" },
            "title": "Bank card *4444",
            "card": {"first6": "555555", "last4": "4444", "expiry_month": "12", "expiry_year": "2030",
                     "card_type": "MasterCard", "issuer_country": "RU"}
        }));
        p.authorization = Some((digits(12), digits(6)));
        p.paid = true;
        if p.capture {
            p.status = "succeeded";
            p.captured_at = Some(now());
        } else {
            p.status = "waiting_for_capture";
            p.expires_at = Some(hold_until());
        }
        let saved = p.save_payment_method;
        self.stats.charges += 1;
        if saved {
            self.saved_methods.insert(method_id);
        }
        self.notify_payment(id);
        Ok(())
    }

    pub(super) fn cancel_by(
        &mut self,
        id: &str,
        party: &'static str,
        reason: &'static str,
        from: &[&str],
    ) -> Result<()> {
        let p = self
            .payment_mut(id)
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such payment in the simulator"))?;
        if !from.contains(&p.status) {
            return Err(Error::invalid_input(format!("the payment is {}", p.status)));
        }
        p.status = "canceled";
        p.paid = false;
        p.cancellation = Some((party, reason));
        self.notify_payment(id);
        Ok(())
    }

    pub(super) fn create_payment(&mut self, body: &Value) -> Answer {
        let obj = tri!(object(body, CREATE_PAYMENT_FIELDS));
        let amount = tri!(parse_amount(obj.get("amount"), "amount"));
        let description = tri!(string(obj, "description", 128)).map(str::to_owned);
        let capture = tri!(boolean(obj, "capture", "capture")).unwrap_or(false);
        let save_payment_method = tri!(boolean(obj, "save_payment_method", "save_payment_method")).unwrap_or(false);
        let merchant_customer_id = tri!(string(obj, "merchant_customer_id", 200)).map(str::to_owned);
        if let Some(ip) = tri!(string(obj, "client_ip", 64))
            && ip.parse::<std::net::IpAddr>().is_err()
        {
            return invalid(
                "Invalid request parameter: client_ip must be an IPv4 or IPv6 address",
                "client_ip",
            );
        }
        let receipt = tri!(hash(obj, "receipt")).is_some();
        let metadata = tri!(metadata(obj));
        let method_sources = ["payment_method_data", "payment_method_id", "payment_token"]
            .iter()
            .filter(|k| obj.get(**k).is_some_and(|v| !v.is_null()))
            .count();
        if method_sources > 1 {
            return invalid(
                "Request should contain only one of: payment_method_data, payment_method_id, payment_token",
                "payment_method_id",
            );
        }
        if let Some(pmd) = tri!(hash(obj, "payment_method_data"))
            && pmd.get("type").and_then(Value::as_str).is_none()
        {
            return invalid("payment_method_data.type is required", "payment_method_data.type");
        }
        let id = uuid_like("000f");
        let mut p = SimPayment {
            id: id.clone(),
            status: "pending",
            paid: false,
            amount,
            capture,
            description,
            metadata,
            confirmation: None,
            created_at: now(),
            captured_at: None,
            expires_at: None,
            payment_method: None,
            save_payment_method,
            cancellation: None,
            refunded: Money::zero(amount.currency()),
            return_url: None,
            merchant_customer_id,
            receipt,
            authorization: None,
        };
        let saved = tri!(string(obj, "payment_method_id", 64));
        match (saved, obj.get("confirmation")) {
            (Some(pm), _) => {
                if !self.saved_methods.contains(pm) {
                    return invalid("The payment method is not saved in this shop", "payment_method_id");
                }
                p.payment_method = Some(json!({"type": "bank_card", "id": pm, "saved": true, "status": "active",
                                               "title": "Bank card *4444"}));
                p.authorization = Some((digits(12), digits(6)));
                p.paid = true;
                if capture {
                    p.status = "succeeded";
                    p.captured_at = Some(now());
                } else {
                    p.status = "waiting_for_capture";
                    p.expires_at = Some(hold_until());
                }
            }
            (None, Some(Value::Object(c))) => {
                let url = format!("{}/checkout/payments/v2/contract?orderId={id}", self.base);
                let kind = c.get("type").and_then(Value::as_str).unwrap_or("");
                if !CONFIRMATION_TYPES.contains(&kind) {
                    return invalid("Unknown confirmation type", "confirmation.type");
                }
                if let Some(l) = c.get("locale")
                    && !matches!(l.as_str(), Some("ru_RU" | "en_US"))
                {
                    return invalid(
                        "Invalid request parameter: locale must be ru_RU or en_US",
                        "confirmation.locale",
                    );
                }
                let enforce = tri!(boolean(c, "enforce", "confirmation.enforce"));
                match kind {
                    "redirect" | "mobile_application" => {
                        let Some(ret) = c.get("return_url").and_then(Value::as_str) else {
                            return invalid(
                                "return_url is required for this confirmation",
                                "confirmation.return_url",
                            );
                        };
                        if url::Url::parse(ret).is_err() || ret.len() > 2048 {
                            return invalid("return_url is not a URL", "confirmation.return_url");
                        }
                        p.return_url = Some(ret.to_owned());
                        let mut conf = json!({"type": kind, "return_url": ret, "confirmation_url": url});
                        if let (Some(e), Some(m)) = (enforce, conf.as_object_mut()) {
                            m.insert("enforce".into(), json!(e));
                        }
                        p.confirmation = Some(conf);
                    }
                    "embedded" => {
                        p.confirmation = Some(
                            json!({"type": "embedded", "confirmation_token": format!("ct-{}", uuid_like("000f"))}),
                        );
                    }
                    "external" => p.confirmation = Some(json!({"type": "external"})),
                    _ => p.confirmation = Some(json!({"type": "qr", "confirmation_data": url})),
                }
            }
            (None, Some(Value::Null) | None) if obj.get("payment_method_data").is_some() => {
                return invalid("Missing confirmation type for payment method type", "confirmation");
            }
            (None, Some(Value::Null) | None) => {
                return invalid("Specify confirmation or payment_method_id", "confirmation");
            }
            (None, Some(_)) => {
                return invalid(
                    "Invalid request parameter: confirmation must be an object",
                    "confirmation",
                );
            }
        }
        self.stats.payments_created += 1;
        let paid = p.paid;
        if paid {
            self.stats.charges += 1;
        }
        let json = p.to_json(&self.shop_id);
        self.payments.push(p);
        if paid {
            self.notify_payment(&id);
        }
        (200, json)
    }

    pub(super) fn capture(&mut self, id: &str, body: &Value) -> Answer {
        let obj = tri!(object(body, CAPTURE_FIELDS));
        let amount = match obj.get("amount") {
            None | Some(Value::Null) => None,
            some => Some(tri!(parse_amount(some, "amount"))),
        };
        let receipt = tri!(hash(obj, "receipt")).is_some();
        let shop = self.shop_id.clone();
        let Some(p) = self.payment_mut(id) else {
            return not_found_payment();
        };
        if p.status != "waiting_for_capture" {
            return invalid(
                &format!(
                    "Payment is in status {}; only waiting_for_capture can be captured",
                    p.status
                ),
                "payment_id",
            );
        }
        let amount = amount.unwrap_or(p.amount);
        if amount.currency() != p.amount.currency() {
            return invalid("The currency differs from the payment's", "amount.currency");
        }
        if amount.minor() > p.amount.minor() {
            return invalid("The amount is more than the payment holds", "amount.value");
        }
        // A partial capture: the payment is now for the captured amount; the rest goes back.
        p.amount = amount;
        p.refunded = Money::zero(amount.currency());
        p.status = "succeeded";
        p.captured_at = Some(now());
        p.receipt |= receipt;
        let json = p.to_json(&shop);
        self.stats.captures += 1;
        self.notify_payment(id);
        (200, json)
    }

    pub(super) fn cancel(&mut self, id: &str, body: &Value) -> Answer {
        tri!(object(body, CANCEL_FIELDS));
        match self.payments.iter().find(|p| p.id == id).map(|p| p.status) {
            None => not_found_payment(),
            Some("waiting_for_capture") => {
                let _ = self.cancel_by(id, "merchant", "canceled_by_merchant", &["waiting_for_capture"]);
                self.stats.cancellations += 1;
                (200, self.payment_json(id))
            }
            Some(status) => invalid(
                &format!("Payment is in status {status}; only waiting_for_capture can be canceled"),
                "payment_id",
            ),
        }
    }

    pub(super) fn create_refund(&mut self, body: &Value) -> Answer {
        let obj = tri!(object(body, CREATE_REFUND_FIELDS));
        let Some(pid) = tri!(string(obj, "payment_id", 36)) else {
            return invalid("payment_id is required", "payment_id");
        };
        let amount = tri!(parse_amount(obj.get("amount"), "amount"));
        let description = tri!(string(obj, "description", 250)).map(str::to_owned);
        let metadata = tri!(metadata(obj));
        let Some(p) = self.payments.iter_mut().find(|p| p.id == pid) else {
            return invalid("Payment doesn't exist or access denied", "payment_id");
        };
        if p.status != "succeeded" {
            return invalid(
                &format!(
                    "Payment is in status {}; only succeeded payments can be refunded",
                    p.status
                ),
                "payment_id",
            );
        }
        if amount.currency() != p.amount.currency() {
            return invalid("The currency differs from the payment's", "amount.currency");
        }
        let left = p.amount.minor() - p.refunded.minor();
        if amount.minor() > left {
            return invalid("The refund amount is more than the payment has left", "amount.value");
        }
        p.refunded = Money::from_minor(p.refunded.minor() + amount.minor(), amount.currency());
        let by_card = p.authorization.is_some();
        let r = SimRefund {
            id: uuid_like("0015"),
            payment_id: pid.to_owned(),
            amount,
            description,
            created_at: now(),
            metadata,
            rrn: by_card.then(|| digits(12)),
        };
        let json = r.to_json();
        self.refunds.push(r);
        self.stats.refunds_created += 1;
        self.notify("refund.succeeded", json.clone());
        (200, json)
    }

    pub(super) fn list<T>(
        items: &[T],
        query: &[(String, String)],
        keep: impl Fn(&T) -> bool,
        render: impl Fn(&T) -> Value,
    ) -> Answer {
        let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let limit = match q("limit").map(str::parse::<usize>) {
            None => 10,
            Some(Ok(n)) if (1..=100).contains(&n) => n,
            Some(_) => return invalid("limit must be 1 to 100", "limit"),
        };
        let start = match q("cursor") {
            None => 0,
            Some(c) => match c.strip_prefix("c").and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => n,
                None => return invalid("Invalid cursor", "cursor"),
            },
        };
        // Newest first, as YooKassa lists.
        let all: Vec<&T> = items.iter().rev().filter(|x| keep(x)).collect();
        let page: Vec<Value> = all.iter().skip(start).take(limit).map(|x| render(x)).collect();
        let mut out = json!({"type": "list", "items": page});
        if start + limit < all.len()
            && let Some(m) = out.as_object_mut()
        {
            m.insert("next_cursor".into(), json!(format!("c{}", start + limit)));
        }
        (200, out)
    }
}

/// A notification body, as YooKassa sends it: unsigned JSON, the object in its state at the event.
pub(super) fn notification(event: &str, object: Value) -> String {
    json!({"type": "notification", "event": event, "object": object}).to_string()
}

/// The headers of a notification: YooKassa signs nothing, so there is only the content type.
pub(super) fn notification_headers() -> Vec<(String, String)> {
    vec![("content-type".into(), "application/json".into())]
}

/// Whether an `Idempotence-Key` matches YooKassa's pattern, `[0-9a-zA-Z+-_.]{1,64}` (OpenAPI
/// specification, parameter `IdempotenceKey`), read as a regular expression reads it: `+-_` is the range
/// from `+` to `_`, which takes in `/`, `:`, `=`, `@` and the capitals besides `+`, `-`, `_` and `.`.
pub(super) fn key_pattern_ok(key: &str) -> bool {
    key.bytes()
        .all(|b| b.is_ascii_alphanumeric() || (b'+'..=b'_').contains(&b) || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotence_key_pattern() {
        for ok in [
            "order-72",
            "order-72/refund-1",
            "2e1da982-1bb1-41f0-b9cf-758cc8bcf069",
            "a.b_c+d",
        ] {
            assert!(key_pattern_ok(ok), "{ok}");
        }
        for bad in ["a b", "a!b", "a~b", "a{b}", "ключ"] {
            assert!(!key_pattern_ok(bad), "{bad}");
        }
    }
}

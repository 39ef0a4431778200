//! Checkout Sessions in the simulator: creation (checked as Stripe checks it), expiry, and the
//! customer paying on the hosted page.

use serde_json::{Value, json};

use super::objects::{Session, before};
use super::params::{
    Answer, SESSION_CREATE, check, check_amount, currency_param, email_param, enum_param, expand_list, int_param,
    invalid, metadata_param, missing, no_such, str_param, url_param,
};
use super::state::State;
use switchboard_payments::simkit::{alnum, now_unix};

const CHECKOUT_LOCALES: &[&str] = &[
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr", "fr-CA", "hr", "hu",
    "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv",
    "th", "tr", "vi", "zh", "zh-HK", "zh-TW",
];

/// A Checkout Session expires between 30 minutes and 24 hours after creation (Stripe API reference,
/// Create a Checkout Session, `expires_at`).
const SESSION_MIN_LIFE: i64 = 30 * 60;
const SESSION_MAX_LIFE: i64 = 24 * 3600;

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(a) => return a,
        }
    };
}

impl State {
    pub(super) fn session_json(&self, id: &str, expand: &[String]) -> Value {
        self.sessions
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.to_json(self, expand, &self.request_version))
            .unwrap_or(Value::Null)
    }

    fn session_event(&self, id: &str) -> Value {
        self.sessions
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.to_json(self, &[], &self.account_version))
            .unwrap_or(Value::Null)
    }

    pub(super) fn create_session(&mut self, p: &Value) -> Answer {
        tri!(check(p, &SESSION_CREATE));
        match str_param(p, "mode") {
            None => return missing("mode"),
            Some("payment") => {}
            Some(m @ ("setup" | "subscription")) => {
                return invalid(
                    None,
                    &format!("The simulator supports mode=payment only, not {m}."),
                    Some("mode"),
                );
            }
            Some(m) => return invalid(None, &format!("Invalid mode: {m}"), Some("mode")),
        }
        let renamed = !before(&self.request_version, "2026-03-25");
        let ui_modes: &[&str] = if renamed {
            &["hosted_page", "embedded_page", "elements"]
        } else {
            &["hosted", "embedded", "custom"]
        };
        if let Some(mode) = tri!(enum_param(p, "ui_mode", ui_modes))
            && !matches!(mode, "hosted" | "hosted_page")
        {
            return invalid(
                None,
                "The simulator serves hosted Checkout pages only.",
                Some("ui_mode"),
            );
        }
        let Some(success_url) = tri!(url_param(p, "success_url")) else {
            return missing("success_url");
        };
        let cancel_url = tri!(url_param(p, "cancel_url")).map(str::to_owned);
        let customer_email = tri!(email_param(p, "customer_email")).map(str::to_owned);
        let locale = tri!(enum_param(p, "locale", CHECKOUT_LOCALES)).map(str::to_owned);
        let submit_type = tri!(enum_param(
            p,
            "submit_type",
            &["auto", "book", "donate", "pay", "subscribe"]
        ))
        .map(str::to_owned);
        if let Some(Value::Array(types)) = p.get("payment_method_types")
            && let Some(t) = types.iter().filter_map(Value::as_str).find(|t| *t != "card")
        {
            return invalid(
                None,
                &format!("The payment method type \"{t}\" is invalid. The simulator takes cards only."),
                Some("payment_method_types"),
            );
        }
        let Some(Value::Array(items)) = p.get("line_items") else {
            return missing("line_items");
        };
        let mut total: i64 = 0;
        let mut currency: Option<String> = None;
        for (i, item) in items.iter().enumerate() {
            let param = |f: &str| format!("line_items[{i}][{f}]");
            if let Some(price) = str_param(item, "price") {
                return no_such("price", price, &param("price"));
            }
            let Some(pd) = item.get("price_data") else {
                return missing(&param("price_data"));
            };
            let c = match currency_param(pd, "currency") {
                Ok(c) => c,
                Err(_) => return missing(&format!("line_items[{i}][price_data][currency]")),
            };
            if currency.as_ref().is_some_and(|cur| cur != &c) {
                return invalid(
                    None,
                    "All line items must use the same currency.",
                    Some(&param("price_data")),
                );
            }
            let unit = match int_param(pd, "unit_amount") {
                Ok(Some(u)) if u >= 0 => u,
                Ok(Some(_)) => {
                    return invalid(
                        None,
                        "This value must be greater than or equal to 0.",
                        Some(&format!("line_items[{i}][price_data][unit_amount]")),
                    );
                }
                Ok(None) => return missing(&format!("line_items[{i}][price_data][unit_amount]")),
                Err(a) => return a,
            };
            if pd.get("product_data").and_then(|d| str_param(d, "name")).is_none() && str_param(pd, "product").is_none()
            {
                return missing(&format!("line_items[{i}][price_data][product_data][name]"));
            }
            let qty = match int_param(item, "quantity") {
                Ok(Some(q)) if q >= 1 => q,
                Ok(Some(_)) => {
                    return invalid(
                        None,
                        "This value must be greater than or equal to 1.",
                        Some(&param("quantity")),
                    );
                }
                Ok(None) => return missing(&param("quantity")),
                Err(a) => return a,
            };
            total = match unit.checked_mul(qty).and_then(|x| total.checked_add(x)) {
                Some(t) => t,
                None => return invalid(Some("amount_too_large"), "The total is too large.", Some("line_items")),
            };
            currency = Some(c);
        }
        let Some(currency) = currency else {
            return missing("line_items");
        };
        tri!(check_amount(total, &currency, "line_items"));
        let metadata = tri!(metadata_param(p, "metadata"));
        let pid = p.get("payment_intent_data").cloned().unwrap_or(Value::Null);
        let pi_metadata = tri!(metadata_param(&pid, "metadata"));
        let capture_method = tri!(enum_param(
            &pid,
            "capture_method",
            &["automatic", "automatic_async", "manual"]
        ))
        .unwrap_or("automatic")
        .to_owned();
        let now = now_unix();
        let expires_at = match tri!(int_param(p, "expires_at")) {
            None => now + SESSION_MAX_LIFE,
            Some(t) if t < now + SESSION_MIN_LIFE => {
                return invalid(
                    None,
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                    Some("expires_at"),
                );
            }
            Some(t) if t > now + SESSION_MAX_LIFE => {
                return invalid(
                    None,
                    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                    Some("expires_at"),
                );
            }
            Some(t) => t,
        };
        let id = format!("cs_test_a1{}", alnum(56));
        self.sessions.push(Session {
            id: id.clone(),
            status: "open",
            payment_status: "unpaid",
            amount_total: total,
            currency,
            success_url: success_url.to_owned(),
            cancel_url,
            metadata,
            pi_capture_method: capture_method,
            pi_description: str_param(&pid, "description").map(str::to_owned),
            pi_metadata,
            payment_intent: None,
            client_reference_id: str_param(p, "client_reference_id").map(str::to_owned),
            // An email given up front shows in customer_details while the session is open.
            customer_details: customer_email.as_ref().map(|e| {
                json!({"address": null, "business_name": null, "email": e, "individual_name": null,
                       "name": null, "phone": null, "tax_exempt": "none", "tax_ids": null})
            }),
            customer_email,
            locale,
            submit_type,
            created: now,
            expires_at,
        });
        self.stats.payments_created += 1;
        (200, self.session_json(&id, &expand_list(p)))
    }

    pub(super) fn expire_session(&mut self, id: &str) -> Answer {
        let Some(s) = self.sessions.iter_mut().find(|s| s.id == id) else {
            return no_such("checkout.session", id, "session");
        };
        if s.status != "open" {
            return invalid(
                None,
                &format!(
                    "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".",
                    s.status
                ),
                None,
            );
        }
        s.status = "expired";
        self.stats.cancellations += 1;
        let obj = self.session_event(id);
        self.emit("checkout.session.expired", obj);
        (200, self.session_json(id, &[]))
    }

    /// The customer pays an open session with `payment_method` on the hosted page.
    pub(super) fn pay_session(&mut self, id: &str, payment_method: &str) -> Answer {
        let Some(s) = self.sessions.iter().find(|s| s.id == id).cloned() else {
            return no_such("checkout.session", id, "session");
        };
        if s.status != "open" {
            return invalid(None, &format!("This Checkout Session is {}.", s.status), None);
        }
        let pi_id = match &s.payment_intent {
            Some(pi) => pi.clone(),
            None => {
                let pi = self.new_intent(s.amount_total, &s.currency, &s.pi_capture_method);
                if let Some(x) = self.intent_mut(&pi) {
                    x.description = s.pi_description.clone();
                    x.metadata = s.pi_metadata.clone();
                    x.receipt_email = s.customer_email.clone();
                }
                if let Some(x) = self.sessions.iter_mut().find(|x| x.id == id) {
                    x.payment_intent = Some(pi.clone());
                }
                pi
            }
        };
        let answer = self.confirm(&pi_id, Some(payment_method), None, &[]);
        if answer.0 != 200 {
            return answer;
        }
        let paid = self.intent(&pi_id).is_some_and(|p| p.status == "succeeded");
        if let Some(x) = self.sessions.iter_mut().find(|x| x.id == id) {
            x.status = "complete";
            // A held (manual-capture) payment is not paid yet: its money is only authorised.
            x.payment_status = if paid { "paid" } else { "unpaid" };
            // What the customer typed on the page.
            x.customer_details = Some(json!({
                "address": {"city": null, "country": "US", "line1": null, "line2": null, "postal_code": "94103", "state": null},
                "business_name": null,
                "email": x.customer_email.clone().unwrap_or_else(|| "jenny.rosen@example.com".to_owned()),
                "individual_name": null,
                "name": "Jenny Rosen",
                "phone": null,
                "tax_exempt": "none",
                "tax_ids": []
            }));
        }
        let obj = self.session_event(id);
        self.emit("checkout.session.completed", obj);
        (200, self.session_json(id, &[]))
    }
}

//! Request checking as Stripe does it, and Stripe's error envelope.
//!
//! Every endpoint has a [`Shape`]: the parameters it takes and, for the hashes the simulator reads, the
//! keys inside them. Anything else is refused the way Stripe refuses it (Stripe API reference, Errors;
//! error codes at docs.stripe.com/error-codes): an unknown parameter at any depth is
//! `parameter_unknown` naming its bracketed path, a hash where a value belongs (or the other way round)
//! is an `invalid_request_error`, an empty string for a value that cannot be unset is
//! `parameter_invalid_empty`, a non-number is `parameter_invalid_integer`.

use serde_json::{Map, Value, json};

use switchboard_payments::Currency;

/// An API answer: status and JSON.
pub(super) type Answer = (u16, Value);

/// Stripe's error envelope: `{"error": {"type", "code", "message", "param", "doc_url"}}`.
pub(super) fn err(status: u16, kind: &str, code: Option<&str>, message: &str, param: Option<&str>) -> Answer {
    let mut e = Map::new();
    e.insert("type".into(), json!(kind));
    e.insert("message".into(), json!(message));
    if let Some(c) = code {
        e.insert("code".into(), json!(c));
        e.insert(
            "doc_url".into(),
            json!(format!("https://stripe.com/docs/error-codes/{}", c.replace('_', "-"))),
        );
    }
    if let Some(p) = param {
        e.insert("param".into(), json!(p));
    }
    (status, json!({ "error": e }))
}

pub(super) fn invalid(code: Option<&str>, message: &str, param: Option<&str>) -> Answer {
    err(400, "invalid_request_error", code, message, param)
}

pub(super) fn missing(param: &str) -> Answer {
    invalid(
        Some("parameter_missing"),
        &format!("Missing required param: {param}."),
        Some(param),
    )
}

pub(super) fn no_such(what: &str, id: &str, param: &str) -> Answer {
    err(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such {what}: '{id}'"),
        Some(param),
    )
}

/// What Stripe answers for a path or method it does not serve.
pub(super) fn unrecognized_url(method: &str, path: &str) -> Answer {
    err(
        404,
        "invalid_request_error",
        None,
        &format!(
            "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
        ),
        None,
    )
}

pub(super) fn unexpected_state(message: &str) -> Answer {
    invalid(Some("payment_intent_unexpected_state"), message, None)
}

/// What a parameter may be.
#[derive(Debug)]
pub(super) enum Shape {
    /// A single value (form values are strings).
    Value,
    /// A hash with these keys.
    Hash(&'static [(&'static str, Shape)]),
    /// A hash with any keys (`metadata`) or one whose inside the simulator does not read.
    AnyHash,
    /// A list of values (`expand[]`).
    Values,
    /// A list of hashes of one shape (`line_items[0][…]`).
    List(&'static Shape),
    /// Anything (parameters the simulator accepts and ignores whole).
    Any,
}

use Shape::{Any, AnyHash, Hash, List, Value as V, Values};

pub(super) const PI_CREATE: Shape = Hash(&[
    ("amount", V),
    ("currency", V),
    (
        "automatic_payment_methods",
        Hash(&[("enabled", V), ("allow_redirects", V)]),
    ),
    ("capture_method", V),
    ("confirm", V),
    ("confirmation_method", V),
    ("customer", V),
    ("description", V),
    ("error_on_requires_action", V),
    ("excluded_payment_method_types", Values),
    ("expand", Values),
    ("mandate_data", AnyHash),
    ("metadata", AnyHash),
    ("off_session", V),
    ("on_behalf_of", V),
    ("payment_method", V),
    ("payment_method_configuration", V),
    ("payment_method_data", AnyHash),
    ("payment_method_options", AnyHash),
    ("payment_method_types", Values),
    ("radar_options", AnyHash),
    ("receipt_email", V),
    ("return_url", V),
    ("setup_future_usage", V),
    ("shipping", AnyHash),
    ("statement_descriptor", V),
    ("statement_descriptor_suffix", V),
    ("transfer_data", AnyHash),
    ("transfer_group", V),
    ("application_fee_amount", V),
    ("use_stripe_sdk", V),
]);

pub(super) const PI_CONFIRM: Shape = Hash(&[
    ("capture_method", V),
    ("error_on_requires_action", V),
    ("expand", Values),
    ("mandate_data", AnyHash),
    ("off_session", V),
    ("payment_method", V),
    ("payment_method_data", AnyHash),
    ("payment_method_options", AnyHash),
    ("payment_method_types", Values),
    ("radar_options", AnyHash),
    ("receipt_email", V),
    ("return_url", V),
    ("setup_future_usage", V),
    ("shipping", AnyHash),
    ("use_stripe_sdk", V),
]);

pub(super) const PI_CAPTURE: Shape = Hash(&[
    ("amount_to_capture", V),
    ("application_fee_amount", V),
    ("expand", Values),
    ("final_capture", V),
    ("metadata", AnyHash),
    ("statement_descriptor", V),
    ("statement_descriptor_suffix", V),
    ("transfer_data", AnyHash),
]);

pub(super) const PI_CANCEL: Shape = Hash(&[("cancellation_reason", V), ("expand", Values)]);

const PRODUCT_DATA: Shape = Hash(&[
    ("name", V),
    ("description", V),
    ("images", Values),
    ("metadata", AnyHash),
    ("tax_code", V),
    ("unit_label", V),
]);

const PRICE_DATA: Shape = Hash(&[
    ("currency", V),
    ("product", V),
    ("product_data", PRODUCT_DATA),
    ("recurring", AnyHash),
    ("tax_behavior", V),
    ("unit_amount", V),
    ("unit_amount_decimal", V),
]);

const LINE_ITEM: Shape = Hash(&[
    ("adjustable_quantity", AnyHash),
    ("dynamic_tax_rates", Values),
    ("price", V),
    ("price_data", PRICE_DATA),
    ("quantity", V),
    ("tax_rates", Values),
]);

const PAYMENT_INTENT_DATA: Shape = Hash(&[
    ("application_fee_amount", V),
    ("capture_method", V),
    ("description", V),
    ("metadata", AnyHash),
    ("on_behalf_of", V),
    ("receipt_email", V),
    ("setup_future_usage", V),
    ("shipping", AnyHash),
    ("statement_descriptor", V),
    ("statement_descriptor_suffix", V),
    ("transfer_data", AnyHash),
    ("transfer_group", V),
]);

pub(super) const SESSION_CREATE: Shape = Hash(&[
    ("allow_promotion_codes", V),
    ("automatic_tax", Hash(&[("enabled", V), ("liability", AnyHash)])),
    ("billing_address_collection", V),
    ("cancel_url", V),
    ("client_reference_id", V),
    ("consent_collection", AnyHash),
    ("currency", V),
    ("custom_fields", Any),
    ("custom_text", AnyHash),
    ("customer", V),
    ("customer_creation", V),
    ("customer_email", V),
    ("expand", Values),
    ("expires_at", V),
    ("invoice_creation", AnyHash),
    ("line_items", List(&LINE_ITEM)),
    ("locale", V),
    ("metadata", AnyHash),
    ("mode", V),
    ("payment_intent_data", PAYMENT_INTENT_DATA),
    ("payment_method_options", AnyHash),
    ("payment_method_types", Values),
    ("phone_number_collection", Hash(&[("enabled", V)])),
    ("return_url", V),
    ("shipping_address_collection", AnyHash),
    ("shipping_options", Any),
    ("submit_type", V),
    ("success_url", V),
    ("ui_mode", V),
]);

pub(super) const SESSION_EXPIRE: Shape = Hash(&[("expand", Values)]);

pub(super) const REFUND_CREATE: Shape = Hash(&[
    ("amount", V),
    ("charge", V),
    ("currency", V),
    ("customer", V),
    ("expand", Values),
    ("instructions_email", V),
    ("metadata", AnyHash),
    ("origin", V),
    ("payment_intent", V),
    ("reason", V),
    ("refund_application_fee", V),
    ("reverse_transfer", V),
]);

/// A retrieve (`GET /v1/<objects>/{id}`) takes `expand[]` only.
pub(super) const RETRIEVE: Shape = Hash(&[("expand", Values)]);

pub(super) const REFUND_LIST: Shape = Hash(&[
    ("charge", V),
    ("created", AnyHash),
    ("ending_before", V),
    ("expand", Values),
    ("limit", V),
    ("payment_intent", V),
    ("starting_after", V),
]);

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn check_at(v: &Value, shape: &Shape, path: &str) -> Result<(), Answer> {
    match (shape, v) {
        (Any, _) => Ok(()),
        (V, Value::String(s)) if s.is_empty() => Err(invalid(
            Some("parameter_invalid_empty"),
            &format!(
                "You passed an empty string for '{path}'. We assume empty values are an attempt to unset a parameter; however '{path}' cannot be unset. You should remove '{path}' from your request or supply a non-empty value."
            ),
            Some(path),
        )),
        (V, Value::String(_)) => Ok(()),
        (V, other) => Err(invalid(
            None,
            &format!("Invalid string: {}", describe(other)),
            Some(path),
        )),
        (AnyHash, Value::Object(_)) => Ok(()),
        // `metadata=` (empty) unsets every key: allowed.
        (AnyHash, Value::String(s)) if s.is_empty() => Ok(()),
        (Hash(keys), Value::Object(m)) => {
            for (k, inner) in m {
                let at = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}[{k}]")
                };
                match keys.iter().find(|(name, _)| name == k) {
                    Some((_, s)) => check_at(inner, s, &at)?,
                    None => {
                        return Err(invalid(
                            Some("parameter_unknown"),
                            &format!("Received unknown parameter: {at}"),
                            Some(&at),
                        ));
                    }
                }
            }
            Ok(())
        }
        (AnyHash | Hash(_), other) => Err(invalid(
            None,
            &format!("Invalid object: {}", describe(other)),
            Some(path),
        )),
        (Values, Value::Array(items)) => match items.iter().find(|i| !i.is_string()) {
            None => Ok(()),
            Some(bad) => Err(invalid(None, &format!("Invalid string: {}", describe(bad)), Some(path))),
        },
        (List(inner), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_at(item, inner, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Values | List(_), other) => Err(invalid(
            None,
            &format!("Invalid array: {}", describe(other)),
            Some(path),
        )),
    }
}

/// Refuses what does not fit `shape`, as Stripe does.
pub(super) fn check(params: &Value, shape: &Shape) -> Result<(), Answer> {
    match params {
        Value::Null => Ok(()),
        p => check_at(p, shape, ""),
    }
}

/// Refuses an `expand[]` of anything but `allowed`, as Stripe does for a field that cannot be expanded.
pub(super) fn check_expand(expand: &[String], allowed: &[&str]) -> Result<(), Answer> {
    match expand.iter().find(|e| !allowed.contains(&e.as_str())) {
        None => Ok(()),
        Some(e) => Err(invalid(
            None,
            &format!("This property cannot be expanded ({e})."),
            Some("expand"),
        )),
    }
}

pub(super) fn str_param<'a>(p: &'a Value, key: &str) -> Option<&'a str> {
    p.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

pub(super) fn int_param(p: &Value, key: &str) -> Result<Option<i64>, Answer> {
    match p.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => s.parse::<i64>().map(Some).map_err(|_| {
            invalid(
                Some("parameter_invalid_integer"),
                &format!("Invalid integer: {s}"),
                Some(key),
            )
        }),
        Some(_) => Err(invalid(Some("parameter_invalid_integer"), "Invalid integer", Some(key))),
    }
}

pub(super) fn bool_param(p: &Value, key: &str) -> Result<Option<bool>, Answer> {
    match p.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(s) => Err(invalid(None, &format!("Invalid boolean: {s}"), Some(key))),
    }
}

/// One of the words a parameter takes (Stripe names them in its message).
pub(super) fn enum_param<'a>(p: &'a Value, key: &str, words: &[&str]) -> Result<Option<&'a str>, Answer> {
    match str_param(p, key) {
        None => Ok(None),
        Some(w) if words.contains(&w) => Ok(Some(w)),
        Some(_) => Err(invalid(
            None,
            &format!("Invalid {key}: must be one of {}", words.join(", ")),
            Some(key),
        )),
    }
}

/// A URL parameter: Stripe refuses what is not an absolute URL with `url_invalid`.
pub(super) fn url_param<'a>(p: &'a Value, key: &str) -> Result<Option<&'a str>, Answer> {
    match str_param(p, key) {
        None => Ok(None),
        Some(u) if url::Url::parse(u).is_ok_and(|x| x.has_host()) => Ok(Some(u)),
        Some(_) => Err(invalid(Some("url_invalid"), "Not a valid URL", Some(key))),
    }
}

/// An email parameter: Stripe refuses what is not an address with `email_invalid`.
pub(super) fn email_param<'a>(p: &'a Value, key: &str) -> Result<Option<&'a str>, Answer> {
    match str_param(p, key) {
        None => Ok(None),
        Some(e) => {
            let ok = e
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !host.ends_with('.'))
                && !e.contains(char::is_whitespace);
            if ok {
                Ok(Some(e))
            } else {
                Err(invalid(
                    Some("email_invalid"),
                    &format!("Invalid email address: {e}"),
                    Some(key),
                ))
            }
        }
    }
}

pub(super) fn metadata_param(p: &Value, key: &str) -> Result<Map<String, Value>, Answer> {
    match p.get(key) {
        None => Ok(Map::new()),
        Some(Value::String(s)) if s.is_empty() => Ok(Map::new()),
        Some(Value::Object(m)) => {
            if m.len() > 50 {
                return Err(invalid(None, "You can specify up to 50 keys in metadata.", Some(key)));
            }
            for (k, v) in m {
                if k.chars().count() > 40 {
                    return Err(invalid(
                        None,
                        "Metadata keys can be up to 40 characters long.",
                        Some(key),
                    ));
                }
                if v.as_str().is_none_or(|s| s.chars().count() > 500) {
                    return Err(invalid(
                        None,
                        "Metadata values can be strings of up to 500 characters.",
                        Some(key),
                    ));
                }
            }
            // An empty value unsets the key.
            Ok(m.iter()
                .filter(|(_, v)| v.as_str() != Some(""))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect())
        }
        Some(_) => Err(invalid(None, "Invalid object", Some(key))),
    }
}

pub(super) fn expand_list(p: &Value) -> Vec<String> {
    match p.get("expand") {
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// Stripe's minimum charge amount per currency, in its minor unit (docs.stripe.com/currencies,
/// "Minimum and maximum charge amounts"; a few; 1 otherwise).
fn minimum(currency: &str) -> i64 {
    match currency {
        "usd" | "eur" | "cad" | "aud" | "chf" | "nzd" | "sgd" => 50,
        "gbp" => 30,
        "jpy" => 50,
        _ => 1,
    }
}

/// The largest amount Stripe takes: eight digits in the minor unit.
pub(super) const MAX_AMOUNT: i64 = 99_999_999;

pub(super) fn check_amount(amount: i64, currency: &str, param: &str) -> Result<(), Answer> {
    if amount < minimum(currency) {
        return Err(invalid(
            Some("amount_too_small"),
            &format!("Amount must be at least {} {currency}", minimum(currency)),
            Some(param),
        ));
    }
    if amount > MAX_AMOUNT {
        return Err(invalid(
            Some("amount_too_large"),
            &format!("Amount must be no more than {MAX_AMOUNT}"),
            Some(param),
        ));
    }
    Ok(())
}

pub(super) fn currency_param(p: &Value, key: &str) -> Result<String, Answer> {
    let Some(c) = str_param(p, key) else {
        return Err(missing(key));
    };
    let c = c.to_ascii_lowercase();
    if Currency::from_code(&c).is_err() {
        return Err(invalid(None, &format!("Invalid currency: {c}."), Some(key)));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_refuse_what_stripe_refuses() {
        let code = |a: Answer| a.1["error"]["code"].as_str().map(str::to_owned);
        let param = |a: Answer| a.1["error"]["param"].as_str().map(str::to_owned);
        let ok =
            json!({"amount": "100", "automatic_payment_methods": {"enabled": "true"}, "expand": ["latest_charge"]});
        assert!(check(&ok, &PI_CREATE).is_ok());
        let nested = json!({"automatic_payment_methods": {"enabld": "true"}});
        let e = check(&nested, &PI_CREATE).unwrap_err();
        assert_eq!(code(e.clone()).as_deref(), Some("parameter_unknown"));
        assert_eq!(param(e).as_deref(), Some("automatic_payment_methods[enabld]"));
        let deep = json!({"line_items": [{"price_data": {"product_data": {"nam": "x"}}}]});
        assert_eq!(
            param(check(&deep, &SESSION_CREATE).unwrap_err()).as_deref(),
            Some("line_items[0][price_data][product_data][nam]")
        );
        let empty = json!({"description": ""});
        assert_eq!(
            code(check(&empty, &PI_CREATE).unwrap_err()).as_deref(),
            Some("parameter_invalid_empty")
        );
        assert!(check(&json!({"metadata": ""}), &PI_CREATE).is_ok(), "metadata= unsets");
        assert!(check(&json!({"amount": {"x": "1"}}), &PI_CREATE).is_err());
        assert!(check(&json!({"metadata": "x"}), &PI_CREATE).is_err());
        assert!(check(&json!({"expand": "latest_charge"}), &PI_CREATE).is_err());
        assert!(check_expand(&["customer".into()], &["latest_charge"]).is_err());
    }
}

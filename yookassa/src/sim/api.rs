//! The simulator's HTTP side: routes to handlers, with YooKassa's checks in YooKassa's order (the
//! customer's page, then credentials, path and method, content type, idempotence key, body).

use std::sync::Mutex;

use serde_json::{Map, Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_payments::idempotency::MAX_KEY_LEN;
use switchboard_payments::simkit::{IdemCheck, header};

use super::objects::{Answer, SimRefund, error, invalid};
use super::state::{State, internal_error, key_pattern_ok, not_found_payment};

fn respond((status, body): Answer) -> ResponseTemplate {
    json_status(status, &body)
}

/// Sets the given top-level fields in a 2xx answer (and takes them, so they apply once).
fn altered(slot: &mut Option<Map<String, Value>>, answer: Answer) -> Answer {
    match (answer, slot.take()) {
        ((200, mut body), Some(fields)) => {
            if let Some(m) = body.as_object_mut() {
                m.extend(fields);
            }
            (200, body)
        }
        (a, fields) => {
            *slot = fields;
            a
        }
    }
}

fn get(st: &State, segs: &[&str], query: &[(String, String)]) -> Answer {
    let shop = st.shop_id.clone();
    match segs {
        ["payments"] => State::list(
            &st.payments,
            query,
            |p| {
                query
                    .iter()
                    .find(|(k, _)| k == "status")
                    .is_none_or(|(_, s)| p.status == s)
            },
            |p| p.to_json(&shop),
        ),
        ["payments", id] => match st.payments.iter().find(|p| p.id == *id) {
            Some(p) => (200, p.to_json(&shop)),
            None => not_found_payment(),
        },
        ["refunds"] => State::list(
            &st.refunds,
            query,
            |r| {
                query
                    .iter()
                    .find(|(k, _)| k == "payment_id")
                    .is_none_or(|(_, p)| r.payment_id == *p)
            },
            SimRefund::to_json,
        ),
        ["refunds", id] => match st.refunds.iter().find(|r| r.id == *id) {
            Some(r) => (200, r.to_json()),
            None => error(
                404,
                Some("not_found"),
                "Incorrect refund_id. Refund doesn't exist or access denied.",
                Some("refund_id"),
            ),
        },
        _ => error(404, Some("not_found"), "Unknown path", None),
    }
}

/// Whether `segs` is a path YooKassa serves with `method`; `Some(false)` for a known path and another
/// method (`405`), `None` for an unknown path.
fn route_allows(segs: &[&str], method: &str) -> Option<bool> {
    let (get, post) = match segs {
        ["payments"] | ["refunds"] => (true, true),
        ["payments", _] | ["refunds", _] => (true, false),
        ["payments", _, "capture" | "cancel"] => (false, true),
        _ => return None,
    };
    Some(match method {
        "GET" => get,
        "POST" => post,
        _ => false,
    })
}

/// The customer's payment page behind `confirmation_url`: pays the payment and goes back to
/// `return_url`, as the customer would.
fn customer_page(st: &mut State, query: &[(String, String)]) -> ResponseTemplate {
    let id = query
        .iter()
        .find(|(k, _)| k == "orderId")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let ret = st
        .payments
        .iter()
        .find(|p| p.id == id)
        .and_then(|p| p.return_url.clone());
    match st.pay(&id) {
        Ok(()) => match ret {
            Some(url) => ResponseTemplate::new(302).insert_header("location", url.as_str()),
            None => ResponseTemplate::new(200).set_body_string("Paid (YooKassa simulator)"),
        },
        Err(e) => ResponseTemplate::new(400).set_body_string(format!("Cannot pay: {}", e.message())),
    }
}

/// The idempotence key of a POST, or YooKassa's refusal of it.
fn idempotence_key(req: &Request) -> Result<String, Answer> {
    match header(&req.headers, "idempotence-key").map(str::to_owned) {
        None => Err(invalid("Idempotence key isn't specified", "Idempotence-Key")),
        Some(k) if k.is_empty() => Err(invalid("Idempotence key is empty", "Idempotence-Key")),
        Some(k) if k.len() > MAX_KEY_LEN => Err(invalid(
            &format!("Idempotence key is too long. Max. length is {MAX_KEY_LEN}"),
            "Idempotence-Key",
        )),
        Some(k) if !key_pattern_ok(&k) => Err(invalid(
            "Idempotence key has characters it cannot have",
            "Idempotence-Key",
        )),
        Some(k) => Ok(k),
    }
}

pub(super) fn handle(state: &Mutex<State>, req: &Request) -> ResponseTemplate {
    let Ok(mut st) = state.lock() else {
        return ResponseTemplate::new(500);
    };
    st.stats.requests += 1;
    let path = req.url.path().to_owned();
    let query: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();

    if path == "/checkout/payments/v2/contract" {
        return customer_page(&mut st, &query);
    }
    if !path.starts_with("/v3/") {
        return respond(error(404, Some("not_found"), "Unknown path", None));
    }
    if let Some(refused) = super::auth::refusal(&req.headers, &st.shop_id, &st.secret_key) {
        return respond(refused);
    }
    let segs: Vec<&str> = path
        .trim_start_matches("/v3/")
        .trim_end_matches('/')
        .split('/')
        .collect();
    match route_allows(&segs, req.method.as_str()) {
        None => return respond(error(404, Some("not_found"), "Unknown path", None)),
        // YooKassa answers a known path with the wrong method 405, with no error code.
        Some(false) => return respond(error(405, None, "Method not allowed", None)),
        Some(true) => {}
    }
    if req.method.as_str() == "GET" {
        let answer = get(&st, &segs, &query);
        let answer = altered(&mut st.alter_lookup, answer);
        return respond(answer);
    }
    // POST. A body that is not JSON is 415, with no error code.
    let json_body =
        header(&req.headers, "content-type").is_some_and(|c| c.trim_start().starts_with("application/json"));
    if !json_body {
        return respond(error(
            415,
            None,
            "Unsupported Media Type: the body must be application/json",
            None,
        ));
    }
    let key = match idempotence_key(req) {
        Ok(k) => k,
        Err(refused) => return respond(refused),
    };
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => {
                return respond(error(
                    400,
                    Some("invalid_request"),
                    "Failed to parse request body",
                    None,
                ));
            }
        }
    };
    match st.idem.check(&key, &path, &body) {
        IdemCheck::Replay(s) => {
            if st.fail_after_processing > 0 {
                st.fail_after_processing -= 1;
                return respond(internal_error());
            }
            st.stats.replays += 1;
            return ResponseTemplate::new(s.status).set_body_raw(s.body, "application/json");
        }
        IdemCheck::Conflict => {
            st.stats.conflicts += 1;
            return respond(invalid("Idempotence key duplicated", "Idempotence-Key"));
        }
        IdemCheck::New => {}
    }
    let answer = match segs.as_slice() {
        ["payments"] => st.create_payment(&body),
        ["payments", id, "capture"] => st.capture(id, &body),
        ["payments", id, "cancel"] => st.cancel(id, &body),
        _ => st.create_refund(&body),
    };
    let answer = altered(&mut st.alter_next, answer);
    st.idem.store(&key, &path, body, answer.0, answer.1.to_string());
    if st.fail_after_processing > 0 {
        st.fail_after_processing -= 1;
        return respond(internal_error());
    }
    respond(answer)
}

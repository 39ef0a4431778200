//! The simulator's HTTP side: routes to handlers, with Stripe's checks in Stripe's order (the site's
//! pages, then credentials, `Stripe-Version`, path and method, content type, idempotency key,
//! parameters), and every answer with a `Request-Id` and the `Stripe-Version` used.

use std::sync::Mutex;

use serde_json::{Map, Value};
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_payments::simkit::{IdemCheck, alnum, header};

use super::auth::auth_error;
use super::params::{
    Answer, PI_CONFIRM, REFUND_LIST, RETRIEVE, SESSION_EXPIRE, check, check_expand, err, expand_list, invalid, no_such,
    str_param, unrecognized_url, url_param,
};
use super::state::{CHARGE_EXPANDS, INTENT_EXPANDS, REFUND_EXPANDS, SESSION_EXPANDS, State};
use crate::config::is_version;
use crate::form;

fn respond((status, body): Answer, request_id: &str, version: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("request-id", request_id)
        .insert_header("stripe-version", version)
        .set_body_raw(body.to_string(), "application/json")
}

/// The version a request is answered in: its `Stripe-Version`, or the account's. A malformed version,
/// or one dated after today, does not exist and is refused as Stripe refuses it.
fn request_version(st: &State, headers: &http::HeaderMap) -> std::result::Result<String, Answer> {
    let Some(v) = header(headers, "stripe-version").map(str::trim) else {
        return Ok(st.account_version.clone());
    };
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    if is_version(v) && v.get(..10).is_some_and(|d| d <= today.as_str()) {
        Ok(v.to_owned())
    } else {
        Err(invalid(
            None,
            &format!("Invalid Stripe API version: {}", v.chars().take(40).collect::<String>()),
            None,
        ))
    }
}

/// Sets the given top-level fields in an answer.
fn alter(body: &mut Value, fields: Map<String, Value>) {
    if let Some(m) = body.as_object_mut() {
        m.extend(fields);
    }
}

fn get(st: &State, segs: &[&str], params: &Value) -> Answer {
    let expand = expand_list(params);
    let expandable = |allowed: &[&str]| check(params, &RETRIEVE).and_then(|()| check_expand(&expand, allowed));
    let v = &st.request_version;
    match segs {
        ["payment_intents", id] => match (expandable(INTENT_EXPANDS), st.intent(id)) {
            (Err(a), _) => a,
            (_, Some(i)) => (200, i.to_json(st, &expand, v)),
            (_, None) => no_such("payment_intent", id, "intent"),
        },
        ["checkout", "sessions", id] => match (expandable(SESSION_EXPANDS), st.sessions.iter().find(|s| s.id == *id)) {
            (Err(a), _) => a,
            (_, Some(s)) => (200, s.to_json(st, &expand, v)),
            (_, None) => no_such("checkout.session", id, "session"),
        },
        ["charges", id] => match (expandable(CHARGE_EXPANDS), st.charges.iter().find(|c| c.id == *id)) {
            (Err(a), _) => a,
            (_, Some(c)) => (200, c.to_json(st, &expand)),
            (_, None) => no_such("charge", id, "charge"),
        },
        ["refunds"] => {
            let data: Vec<String> = REFUND_EXPANDS.iter().map(|e| format!("data.{e}")).collect();
            let data: Vec<&str> = data.iter().map(String::as_str).collect();
            match check(params, &REFUND_LIST).and_then(|()| check_expand(&expand, &data)) {
                Err(a) => a,
                Ok(()) => st.list_refunds(params),
            }
        }
        ["refunds", id] => match (expandable(REFUND_EXPANDS), st.refunds.iter().find(|r| r.id == *id)) {
            (Err(a), _) => a,
            (_, Some(r)) => (200, r.to_json(st, &expand)),
            (_, None) => no_such("refund", id, "id"),
        },
        ["events", id] => match (
            expandable(&[]),
            st.events
                .iter()
                .find(|e| e.get("id").and_then(Value::as_str) == Some(*id)),
        ) {
            (Err(a), _) => a,
            (_, Some(e)) => (200, e.clone()),
            (_, None) => no_such("event", id, "id"),
        },
        _ => unrecognized_url("GET", &format!("/v1/{}", segs.join("/"))),
    }
}

fn post(st: &mut State, segs: &[&str], params: &Value) -> Answer {
    let expand = expand_list(params);
    match segs {
        ["payment_intents"] => match check_expand(&expand, INTENT_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.create_intent(params),
        },
        ["payment_intents", id, "confirm"] => {
            match check(params, &PI_CONFIRM)
                .and_then(|()| check_expand(&expand, INTENT_EXPANDS))
                .and_then(|()| url_param(params, "return_url"))
            {
                Err(a) => a,
                Ok(ret) => st.confirm(id, str_param(params, "payment_method"), ret, &expand),
            }
        }
        ["payment_intents", id, "capture"] => match check_expand(&expand, INTENT_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.capture(id, params),
        },
        ["payment_intents", id, "cancel"] => match check_expand(&expand, INTENT_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.cancel(id, params),
        },
        ["checkout", "sessions"] => match check_expand(&expand, SESSION_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.create_session(params),
        },
        ["checkout", "sessions", id, "expire"] => {
            match check(params, &SESSION_EXPIRE).and_then(|()| check_expand(&expand, SESSION_EXPANDS)) {
                Err(a) => a,
                Ok(()) => match st.expire_session(id) {
                    (200, _) => (200, st.session_json(id, &expand)),
                    refused => refused,
                },
            }
        }
        ["refunds"] => match check_expand(&expand, REFUND_EXPANDS) {
            Err(a) => a,
            Ok(()) => st.create_refund(params),
        },
        _ => unrecognized_url("POST", &format!("/v1/{}", segs.join("/"))),
    }
}

pub(super) fn handle(state: &Mutex<State>, req: &Request) -> ResponseTemplate {
    let Ok(mut st) = state.lock() else {
        return ResponseTemplate::new(500);
    };
    st.stats.requests += 1;
    let request_id = format!("req_{}", alnum(14));
    let path = req.url.path().to_owned();
    if let Some(page) = super::pages::page(&mut st, &path) {
        return page;
    }
    let account = st.account_version.clone();
    if !path.starts_with("/v1/") {
        return respond(unrecognized_url(req.method.as_str(), &path), &request_id, &account);
    }
    if let Some(a) = auth_error(&st, &req.headers) {
        return respond(a, &request_id, &account);
    }
    let version = match request_version(&st, &req.headers) {
        Ok(v) => v,
        Err(a) => return respond(a, &request_id, &account),
    };
    st.request_version = version.clone();
    let segs: Vec<String> = path
        .trim_start_matches("/v1/")
        .trim_end_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match req.method.as_str() {
        "GET" => {
            let answer = match form::decode(req.url.query().unwrap_or("").as_bytes()) {
                Err(m) => invalid(None, &m, None),
                Ok(params) => get(&st, &segs, &params),
            };
            let answer = match (answer, st.alter_lookup.take()) {
                ((200, mut body), Some(fields)) => {
                    alter(&mut body, fields);
                    (200, body)
                }
                (a, fields) => {
                    st.alter_lookup = fields;
                    a
                }
            };
            respond(answer, &request_id, &version)
        }
        "POST" => {
            // Stripe reads form-encoded bodies only.
            let form_body = header(&req.headers, "content-type")
                .is_none_or(|c| c.trim_start().starts_with("application/x-www-form-urlencoded"));
            if !form_body && !req.body.is_empty() {
                return respond(
                    invalid(
                        None,
                        "Invalid request (check that your POST content type is application/x-www-form-urlencoded). If you have any questions, we can help at https://support.stripe.com/.",
                        None,
                    ),
                    &request_id,
                    &version,
                );
            }
            let params = match form::decode(&req.body) {
                Ok(p) => p,
                Err(m) => return respond(invalid(None, &m, None), &request_id, &version),
            };
            let key = header(&req.headers, "idempotency-key").map(str::to_owned);
            if let Some(k) = &key {
                if k.is_empty() || k.len() > 255 {
                    return respond(
                        invalid(
                            None,
                            "Idempotency-Key must be 1 to 255 characters.",
                            Some("Idempotency-Key"),
                        ),
                        &request_id,
                        &version,
                    );
                }
                match st.idem.check(k, &path, &params) {
                    IdemCheck::Replay(s) => {
                        st.stats.replays += 1;
                        let mut t = ResponseTemplate::new(s.status)
                            .insert_header("request-id", request_id.as_str())
                            .insert_header("stripe-version", version.as_str())
                            .insert_header("idempotent-replayed", "true")
                            .set_body_raw(s.body, "application/json");
                        if s.status >= 500 {
                            t = t.insert_header("stripe-should-retry", "false");
                        }
                        return t;
                    }
                    IdemCheck::Conflict => {
                        st.stats.conflicts += 1;
                        return respond(
                            err(
                                400,
                                "idempotency_error",
                                None,
                                &format!(
                                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{k}' if you meant to execute a different request."
                                ),
                                None,
                            ),
                            &request_id,
                            &version,
                        );
                    }
                    IdemCheck::New => {}
                }
            }
            st.current_request = Some((request_id.clone(), key.clone()));
            let answer = post(&mut st, &segs, &params);
            st.current_request = None;
            // Stripe saves the answer once execution began (success, decline, server error); a request
            // refused by validation is not saved.
            let executed = matches!(answer.0, 200 | 402);
            let answer = if executed && st.fail_after_processing > 0 {
                st.fail_after_processing -= 1;
                err(
                    500,
                    "api_error",
                    None,
                    "An unknown error occurred while processing your request (simulated).",
                    None,
                )
            } else {
                answer
            };
            let answer = match (answer, st.alter_next.take()) {
                ((200, mut body), Some(fields)) => {
                    alter(&mut body, fields);
                    (200, body)
                }
                (a, fields) => {
                    st.alter_next = fields;
                    a
                }
            };
            if let Some(k) = &key
                && (executed || answer.0 >= 500)
            {
                st.idem.store(k, &path, params, answer.0, answer.1.to_string());
            }
            let t = respond(answer.clone(), &request_id, &version);
            if answer.0 >= 500 {
                t.insert_header("stripe-should-retry", "false")
            } else {
                t
            }
        }
        m => respond(unrecognized_url(m, &path), &request_id, &version),
    }
}

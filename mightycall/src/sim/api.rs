//! The simulated endpoints: token, SMS, journal, business numbers and ping.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{json_response, json_status};

use super::auth::{authorised, token};
use super::state::{OUT_QUEUED, SimEntry, State, lock};
use crate::model::MAX_PAGE_SIZE;

fn fail(status: u16, code: &str, message: &str) -> ResponseTemplate {
    json_status(
        status,
        &json!({"isSuccess": false, "error": {"code": code, "message": message}}),
    )
}

fn ok(data: Value) -> ResponseTemplate {
    json_response(&json!({"isSuccess": true, "data": data}))
}

pub(super) fn handle(state: &Mutex<State>, req: &Request) -> ResponseTemplate {
    let mut st = lock(state);
    let lower = req.url.path().to_ascii_lowercase();
    let path = lower.trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/v4") else {
        return fail(404, "NotFound", "the API lives under /v4");
    };
    if rest == "/auth/token" {
        return if req.method == http::Method::POST {
            token(&mut st, req)
        } else {
            fail(405, "MethodNotAllowed", "use POST")
        };
    }
    let route = rest.strip_prefix("/api").unwrap_or(rest);
    if route == "/ping" {
        return json_response(&json!({"data": "4", "isSuccess": true}));
    }
    // Everything else needs the bearer token and the key.
    st.api_calls += 1;
    if !authorised(&st, req) {
        st.unauthorized += 1;
        return fail(401, "Unauthorized", "Authorization has been denied for this request.")
            .insert_header("www-authenticate", "Bearer");
    }
    let get = req.method == http::Method::GET;
    let post = req.method == http::Method::POST;
    match route {
        "/contactcenter/messages/send" | "/messages/send" if post => send(&mut st, req),
        "/journal/requests" if get => journal_list(&st, req),
        r if get && r.starts_with("/journal/requests/") => {
            let id = req
                .url
                .path()
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned();
            journal_get(&mut st, &id)
        }
        "/phonenumbers" if get => {
            let list: Vec<Value> = st
                .business_numbers
                .iter()
                .enumerate()
                .map(|(i, n)| json!({"number": n, "label": if i == 0 { "Main line" } else { "Sales" }, "isTollFree": true}))
                .collect();
            ok(Value::Array(list))
        }
        _ => fail(404, "NotFound", "no such endpoint"),
    }
}

fn valid_e164(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The JSON types of the send body, as every client sends them: `from` a string, `to` an array of
/// strings, `message` a string, `attachments` an array of strings. Anything else is refused before the
/// values are looked at.
fn send_shape_error(body: &Value) -> Option<&'static str> {
    let Some(o) = body.as_object() else {
        return Some("the body must be a JSON object");
    };
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    match (o.get("from"), o.get("to"), o.get("message"), o.get("attachments")) {
        (Some(f), _, _, _) if !f.is_string() => Some("'from' must be a string"),
        (_, Some(t), _, _) if !strings(t) => Some("'to' must be an array of strings"),
        (_, _, Some(m), _) if !m.is_string() => Some("'message' must be a string"),
        (_, _, _, Some(a)) if !strings(a) => Some("'attachments' must be an array of strings"),
        _ => None,
    }
}

fn send(st: &mut State, req: &Request) -> ResponseTemplate {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return fail(400, "InvalidRequest", "the body is not JSON");
    };
    if let Some(problem) = send_shape_error(&body) {
        return fail(400, "InvalidRequest", problem);
    }
    let from = body.get("from").and_then(Value::as_str).unwrap_or("");
    if !st.business_numbers.iter().any(|b| b == from) {
        return fail(
            400,
            "InvalidFrom",
            "'from' must be one of the account's business numbers",
        );
    }
    let to: Vec<String> = match body.get("to") {
        Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap_or("").to_owned()).collect(),
        _ => return fail(400, "InvalidTo", "'to' must be an array of phone numbers"),
    };
    if to.is_empty() || to.iter().any(|t| !valid_e164(t)) {
        return fail(400, "InvalidTo", "'to' must hold E.164 phone numbers");
    }
    let message = body.get("message").and_then(Value::as_str).unwrap_or("");
    let attachments = body.get("attachments").and_then(Value::as_array).map_or(0, Vec::len);
    if message.is_empty() && attachments == 0 {
        return fail(400, "EmptyMessage", "the message is empty");
    }
    st.sends += 1;
    let now = Utc::now();
    let ids: Vec<String> = to
        .iter()
        .map(|t| {
            let id = st.id();
            st.journal.push(SimEntry {
                id: id.clone(),
                kind: "Message".to_owned(),
                origin: "Outgoing".to_owned(),
                state: OUT_QUEUED.to_owned(),
                at: now,
                from: from.to_owned(),
                to: t.clone(),
                business_number: from.to_owned(),
                text: Some(message.to_owned()),
                duration: None,
                raw: None,
            });
            id
        })
        .collect();
    ok(json!({"id": ids.first(), "ids": ids}))
}

fn journal_list(st: &State, req: &Request) -> ResponseTemplate {
    let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
    let num = |k: &str, default: u32| -> Result<u32, ()> {
        match q.get(k) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| ()),
        }
    };
    let (Ok(page), Ok(size)) = (num("page", 1), num("pageSize", 100)) else {
        return fail(400, "InvalidRequest", "page and pageSize must be numbers");
    };
    if page == 0 || size == 0 || size > MAX_PAGE_SIZE {
        return fail(400, "InvalidRequest", "page must be ≥ 1 and pageSize 1 to 1000");
    }
    let date = |k: &str| -> Result<Option<DateTime<Utc>>, ()> {
        match q.get(k) {
            None => Ok(None),
            Some(v) => DateTime::parse_from_rfc3339(v)
                .map(|d| Some(d.to_utc()))
                .map_err(|_| ()),
        }
    };
    let (Ok(from), Ok(to)) = (date("from"), date("to")) else {
        return fail(400, "InvalidRequest", "from and to must be ISO 8601 dates");
    };
    let eq = |k: &str, v: &str| q.get(k).is_none_or(|want| want.eq_ignore_ascii_case(v));
    let mut hits: Vec<&SimEntry> = st
        .journal
        .iter()
        .filter(|e| from.is_none_or(|f| e.at >= f) && to.is_none_or(|t| e.at < t))
        .filter(|e| e.raw.is_some() || (eq("type", &e.kind) && eq("origin", &e.origin) && eq("state", &e.state)))
        .filter(|e| e.raw.is_some() || eq("businessNumber", &e.business_number))
        .filter(|e| e.raw.is_some() || q.get("phone").is_none_or(|p| *p == e.from || *p == e.to))
        .collect();
    // Newest first; ties by id so pages are stable.
    hits.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
    let start = (page as usize - 1).saturating_mul(size as usize);
    let requests: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(size as usize)
        .map(|e| e.to_json(st.object_parties))
        .collect();
    json_response(&json!({"currentPage": page, "requests": requests}))
}

fn journal_get(st: &mut State, id: &str) -> ResponseTemplate {
    if !st.journal.iter().any(|e| e.id == id) {
        return fail(404, "NotFound", "no journal request with this id");
    }
    if st.auto_advance {
        st.step(id);
    }
    match st.journal.iter().find(|e| e.id == id) {
        Some(e) => ok(e.to_json(st.object_parties)),
        None => fail(404, "NotFound", "no journal request with this id"),
    }
}

//! The Bot API's routes (<https://core.telegram.org/bots/api#making-requests>): `/bot<token>/<method>`,
//! methods case-insensitive, parameters from the query string, a form or a JSON body, every answer in
//! the `{ok, result}` / `{ok: false, error_code, description[, parameters]}` envelope. The token in
//! the path is the credential: a malformed one or an unknown method is 404, a wrong one 401.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::state::{Inner, SimError};
use super::{SIM_TOKEN, send, webhooks};

pub(super) fn ok(result: Value) -> ResponseTemplate {
    json_status(200, &json!({"ok": true, "result": result}))
}

pub(super) fn ok_described(result: Value, description: &str) -> ResponseTemplate {
    json_status(200, &json!({"ok": true, "result": result, "description": description}))
}

pub(super) fn fail(code: u16, description: &str) -> ResponseTemplate {
    json_status(
        code,
        &json!({"ok": false, "error_code": code, "description": description}),
    )
}

pub(super) fn fail_with(e: &SimError) -> ResponseTemplate {
    json_status(e.code, &error_body(e))
}

/// The envelope of a refusal: `error_code`, `description` and the `parameters` that say how to recover.
pub(super) fn error_body(e: &SimError) -> Value {
    let mut body = json!({"ok": false, "error_code": e.code, "description": e.description});
    let mut params = Map::new();
    if let Some(r) = e.retry_after {
        params.insert("retry_after".into(), json!(r));
    }
    if let Some(m) = e.migrate_to_chat_id {
        params.insert("migrate_to_chat_id".into(), json!(m));
    }
    if !params.is_empty() {
        body["parameters"] = Value::Object(params);
    }
    body
}

/// The call's parameters: the query string, then the body (form or JSON) on top.
fn params(req: &Request) -> Result<Map<String, Value>, ResponseTemplate> {
    let mut p = Map::new();
    for (k, v) in req.url.query_pairs() {
        p.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    if req.body.is_empty() {
        return Ok(p);
    }
    let ct = req
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ct.starts_with("application/json") {
        match serde_json::from_slice::<Value>(&req.body) {
            Ok(Value::Object(o)) => p.extend(o),
            _ => return Err(fail(400, "Bad Request: can't parse JSON object")),
        }
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(&req.body) {
            p.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    } else if ct.starts_with("multipart/") {
        return Err(fail(
            400,
            "Bad Request: the simulator does not accept multipart uploads",
        ));
    }
    Ok(p)
}

pub(super) fn get_str<'a>(p: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str)
}

pub(super) fn get_i64(p: &Map<String, Value>, k: &str) -> Option<i64> {
    match p.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn get_bool(p: &Map<String, Value>, k: &str) -> bool {
    match p.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true") || s == "1",
        _ => false,
    }
}

/// A JSON array, or a string holding one (forms send `allowed_updates=["message"]`).
pub(super) fn get_string_list(p: &Map<String, Value>, k: &str) -> Option<Result<Vec<String>, ()>> {
    let v = p.get(k)?;
    let arr = match v {
        Value::Array(a) => a.clone(),
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => a,
            _ => return Some(Err(())),
        },
        _ => return Some(Err(())),
    };
    Some(arr.iter().map(|x| x.as_str().map(str::to_owned).ok_or(())).collect())
}

/// The simulator's whole HTTP API: `/bot<token>/<method>` → the method's handler.
pub(super) fn handler(inner: Arc<Inner>) -> switchboard_core::testkit::Handler {
    Arc::new(move |req: &Request| {
        let Some(rest) = req.url.path().strip_prefix("/bot") else {
            return fail(404, "Not Found");
        };
        let Some((token, method)) = rest.split_once('/') else {
            return fail(404, "Not Found");
        };
        if !token.contains(':') {
            return fail(404, "Not Found");
        }
        if token != SIM_TOKEN {
            return fail(401, "Unauthorized");
        }
        let p = match params(req) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let mut s = inner.lock();
        s.calls.push(method.to_owned());
        if let Some(e) = s.errors.pop_front() {
            return fail_with(&e);
        }
        match method.to_ascii_lowercase().as_str() {
            "getme" => ok(s.bot.clone()),
            "sendmessage" => send::send_message(&mut s, &p),
            "setwebhook" => webhooks::set_webhook(&mut s, &p),
            "deletewebhook" => {
                if get_bool(&p, "drop_pending_updates") {
                    s.pending.clear();
                }
                let had = s.webhook.take().is_some();
                ok_described(
                    json!(true),
                    if had {
                        "Webhook was deleted"
                    } else {
                        "Webhook is already deleted"
                    },
                )
            }
            "getwebhookinfo" => webhooks::webhook_info(&s),
            "getupdates" => webhooks::get_updates(&mut s, &p),
            _ => fail(404, "Not Found"),
        }
    })
}

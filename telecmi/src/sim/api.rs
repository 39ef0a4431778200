//! The simulated API: one function per endpoint, after the request's fields passed the endpoint's
//! [`Schema`].
//!
//! TeleCMI's pages give every parameter a type (doc.telecmi.com, e.g. "Click-To-Call Admin":
//! `user_id` string, `secret` string, `to` number, `extra_params` JSON object, `webrtc`/`followme`
//! boolean, `callerid` number; "Incoming Answered": `appid` number, `secret`/`token` string, `start_date`,
//! `end_date`, `page`, `limit` numbers; the legacy `adminConnect`/`agentConnect`: `to` string). A JSON
//! body with a parameter of another type is refused with `400` and TeleCMI's envelope, before anything
//! else is looked at. Unsure: the wording of that refusal is not documented; the code is the one the docs
//! give for a missing or invalid parameter. The documented GET form of the admin click-to-call carries
//! its parameters in the query string, where everything is text: there the text must read as the type.

use std::sync::Mutex;

use chrono::Utc;
use http::Method;
use serde_json::{Map, Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::auth;
use super::state::{SimCall, SimCallState, State, StoredCdr, lock, reply, request_id};
use super::{SIM_APP_ID, SIM_SECRET};
use crate::flex;
use crate::model::CdrKind;

/// What a parameter must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    /// A JSON string.
    Text,
    /// A JSON number: a non-negative integer.
    Number,
    /// A JSON boolean.
    Bool,
    /// A JSON object.
    Object,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Text => "a string",
            Ty::Number => "a number",
            Ty::Bool => "a boolean",
            Ty::Object => "a JSON object",
        }
    }

    /// Whether a JSON value is of this type.
    fn accepts(self, v: &Value) -> bool {
        match self {
            Ty::Text => v.is_string(),
            Ty::Number => v.is_u64(),
            Ty::Bool => v.is_boolean(),
            Ty::Object => v.is_object(),
        }
    }

    /// Whether query-string text reads as this type (objects come as bracketed keys or JSON text).
    fn reads(self, text: &str) -> bool {
        match self {
            Ty::Text | Ty::Object => true,
            Ty::Number => !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
            Ty::Bool => matches!(text, "true" | "false"),
        }
    }
}

/// The parameters of one endpoint and their types.
type Schema = &'static [(&'static str, Ty)];

const ADMIN_CLICK2CALL: Schema = &[
    ("user_id", Ty::Text),
    ("secret", Ty::Text),
    ("to", Ty::Number),
    ("extra_params", Ty::Object),
    ("webrtc", Ty::Bool),
    ("followme", Ty::Bool),
    ("callerid", Ty::Number),
];
const USER_CLICK2CALL: Schema = &[
    ("token", Ty::Text),
    ("to", Ty::Number),
    ("extra_params", Ty::Object),
    ("callerid", Ty::Number),
];
const LEGACY_ADMIN_CONNECT: Schema = &[
    ("agent_id", Ty::Text),
    ("token", Ty::Text),
    ("to", Ty::Text),
    ("custom", Ty::Text),
];
const LEGACY_AGENT_CONNECT: Schema = &[("token", Ty::Text), ("to", Ty::Text)];
const LOGIN: Schema = &[("id", Ty::Text), ("password", Ty::Text)];
const ADMIN_LIST: Schema = &[
    ("appid", Ty::Number),
    ("secret", Ty::Text),
    ("start_date", Ty::Number),
    ("end_date", Ty::Number),
    ("page", Ty::Number),
    ("limit", Ty::Number),
];
const LEGACY_ADMIN_LIST: Schema = &[
    ("appid", Ty::Number),
    ("token", Ty::Text),
    ("start_date", Ty::Number),
    ("end_date", Ty::Number),
    ("page", Ty::Number),
    ("limit", Ty::Number),
];
const USER_LIST: Schema = &[
    ("token", Ty::Text),
    ("from", Ty::Number),
    ("to", Ty::Number),
    ("page", Ty::Number),
    ("limit", Ty::Number),
    ("type", Ty::Number),
];

fn schema(path: &str) -> Schema {
    match path {
        "/v2/webrtc/click2call" => ADMIN_CLICK2CALL,
        "/v2/ind/click2call" => USER_CLICK2CALL,
        "/v1/adminConnect" => LEGACY_ADMIN_CONNECT,
        "/v1/agentConnect" => LEGACY_AGENT_CONNECT,
        "/v2/user/login" | "/v1/agentLogin" => LOGIN,
        "/v2/answered" | "/v2/missed" | "/v2/out_answered" | "/v2/out_missed" => ADMIN_LIST,
        "/v1/answered" | "/v1/missed" | "/v1/outanswered" | "/v1/outmissed" => LEGACY_ADMIN_LIST,
        _ => USER_LIST,
    }
}

/// The first parameter of the wrong type, in the words of TeleCMI's `400` answer.
fn check(schema: Schema, f: &Map<String, Value>, from_query: bool) -> Result<(), String> {
    for (key, ty) in schema {
        let Some(v) = f.get(*key) else { continue };
        let ok = match v {
            Value::String(text) if from_query => ty.reads(text),
            v => ty.accepts(v),
        };
        if !ok {
            return Err(format!("Invalid parameter {key}, it must be {}", ty.name()));
        }
    }
    // A page or a page size of 0 is out of range: pages count from 1.
    for key in ["page", "limit"] {
        if schema.iter().any(|(k, _)| *k == key) && flex::u64_of(f, &[key]) == Some(0) {
            return Err(format!("Invalid parameter {key}, it must be at least 1"));
        }
    }
    Ok(())
}

/// The request's fields: the JSON body, or the query for a GET (`true`: they came as query text);
/// `None` for a body that is not a JSON object.
fn fields(req: &Request) -> Option<(Map<String, Value>, bool)> {
    if req.method == Method::GET || req.body.iter().all(u8::is_ascii_whitespace) {
        return Some((
            req.url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect(),
            true,
        ));
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Some((m, false)),
        _ => None,
    }
}

/// Answers one request; also returns the `request_id` of a call it placed.
pub(super) fn handle(state: &Mutex<State>, req: &Request) -> (ResponseTemplate, Option<String>) {
    let Some((f, from_query)) = fields(req) else {
        return (reply(400, "Invalid JSON body"), None);
    };
    let path = req.url.path();
    if let Err(problem) = check(schema(path), &f, from_query) {
        return (reply(400, &problem), None);
    }
    let mut s = lock(state);
    match path {
        "/v2/webrtc/click2call" => admin_click2call(&mut s, &f, path),
        "/v1/adminConnect" => legacy_admin_connect(&mut s, &f, path),
        "/v2/ind/click2call" | "/v1/agentConnect" => user_click2call(&mut s, &f, path),
        "/v2/user/login" | "/v1/agentLogin" => (auth::login(&mut s, &f, path), None),
        "/v2/answered" => (admin_list(&s, &f, CdrKind::IncomingAnswered, false), None),
        "/v2/missed" => (admin_list(&s, &f, CdrKind::IncomingMissed, false), None),
        "/v2/out_answered" => (admin_list(&s, &f, CdrKind::OutgoingAnswered, false), None),
        "/v2/out_missed" => (admin_list(&s, &f, CdrKind::OutgoingMissed, false), None),
        "/v1/answered" => (admin_list(&s, &f, CdrKind::IncomingAnswered, true), None),
        "/v1/missed" => (admin_list(&s, &f, CdrKind::IncomingMissed, true), None),
        "/v1/outanswered" => (admin_list(&s, &f, CdrKind::OutgoingAnswered, true), None),
        "/v1/outmissed" => (admin_list(&s, &f, CdrKind::OutgoingMissed, true), None),
        "/v2/user/out_cdr" => {
            let kind = match flex::u64_of(&f, &["type"]) {
                Some(0) => CdrKind::OutgoingMissed,
                _ => CdrKind::OutgoingAnswered,
            };
            (user_list(&s, &f, kind, false), None)
        }
        "/v2/user/out_missed" => (user_list(&s, &f, CdrKind::OutgoingMissed, false), None),
        "/v2/user/missed" => (user_list(&s, &f, CdrKind::IncomingMissed, false), None),
        "/v2/callback" => (user_list(&s, &f, CdrKind::Callbacks, false), None),
        "/v1/agentAnswered" => (user_list(&s, &f, CdrKind::IncomingAnswered, true), None),
        "/v1/agentOutMissed" => (user_list(&s, &f, CdrKind::OutgoingMissed, true), None),
        "/v1/callback" => (user_list(&s, &f, CdrKind::Callbacks, true), None),
        _ => (reply(404, "Not found"), None),
    }
}

/// A destination TeleCMI would dial: 8 to 15 digits, as a number or a numeric string, not refused.
fn valid_number(s: &State, f: &Map<String, Value>) -> Option<String> {
    flex::string(f, &["to"])
        .filter(|t| (8..=15).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
        .filter(|t| !s.refused_numbers.contains(t))
}

fn place(s: &mut State, f: &Map<String, Value>, agent: &str, to: String, path: &str) -> String {
    let id = request_id();
    s.calls.push(SimCall {
        request_id: id.clone(),
        agent: agent.to_owned(),
        to,
        extra_params: flex::json_of(f, &["extra_params", "custom"]).unwrap_or(Value::Null),
        webrtc: flex::bool_of(f, &["webrtc"]),
        followme: flex::bool_of(f, &["followme"]),
        callerid: flex::string(f, &["callerid"]),
        via: path.to_owned(),
        state: SimCallState::Initiated,
    });
    id
}

fn admin_click2call(s: &mut State, f: &Map<String, Value>, path: &str) -> (ResponseTemplate, Option<String>) {
    let (Some(user), Some(secret)) = (flex::string(f, &["user_id"]), flex::string(f, &["secret"])) else {
        return (reply(400, "Parameter missing"), None);
    };
    if !auth::admin_ok(s, &secret, &user) {
        return (
            reply(404, "Failed to authenticate secret(Invalid user id or secret)"),
            None,
        );
    }
    if f.get("to").is_none() {
        return (reply(400, "To parameter missing"), None);
    }
    let Some(to) = valid_number(s, f) else {
        return (reply(404, "Invalid Number"), None);
    };
    if flex::bool_of(f, &["followme"]) == Some(true) && flex::bool_of(f, &["webrtc"]) != Some(false) {
        // Unsure, undocumented: the docs only say webrtc "should be" false with followme.
        return (reply(400, "webrtc must be false when followme is true"), None);
    }
    let id = place(s, f, &user, to, path);
    (
        json_status(200, &json!({"code": 200, "msg": "Call initiated", "request_id": id})),
        Some(id),
    )
}

fn legacy_admin_connect(s: &mut State, f: &Map<String, Value>, path: &str) -> (ResponseTemplate, Option<String>) {
    let agent = flex::string(f, &["agent_id"]).unwrap_or_default();
    let token = flex::string(f, &["token"]).unwrap_or_default();
    if !auth::admin_ok(s, &token, &agent) {
        return (
            reply(401, "Failed to authenticate token(Invalid agent id or secret)"),
            None,
        );
    }
    let Some(to) = valid_number(s, f).filter(|t| t.len() <= 12) else {
        return (reply(404, "Invalid Number"), None);
    };
    let id = place(s, f, &agent, to, path);
    // The legacy API really answers "Call terminated" on success.
    (
        json_status(200, &json!({"code": 200, "msg": "Call terminated", "request_id": id})),
        Some(id),
    )
}

/// The one answer the user click-to-call gives for a refused token *and* a refused number: its docs
/// list a single 404, "Invalid Number, failed to authenticate token" (doc.telecmi.com, "Click-To-Call
/// India" and CHUB-India "Click to call"). The real `msg` is not published; what matters, and what
/// the simulator keeps, is that the two causes cannot be told apart.
pub const USER_CLICK2CALL_404: &str = "Invalid Number, failed to authenticate token";

fn user_click2call(s: &mut State, f: &Map<String, Value>, path: &str) -> (ResponseTemplate, Option<String>) {
    let Some(user) = auth::user_of_token(s, f) else {
        return (reply(404, USER_CLICK2CALL_404), None);
    };
    if f.get("to").is_none() {
        return (reply(400, "To parameter missing"), None);
    }
    let Some(to) = valid_number(s, f) else {
        return (reply(404, USER_CLICK2CALL_404), None);
    };
    let id = place(s, f, &user, to, path);
    (
        json_status(200, &json!({"code": 200, "msg": "Call initiated", "request_id": id})),
        Some(id),
    )
}

/// Page `page` (from 1) of `limit` records of `kind` in `[from, to]`, newest first, with the total.
fn select(
    s: &State,
    kind: CdrKind,
    from: i64,
    to: i64,
    agent: Option<&str>,
    page: u64,
    limit: u64,
) -> (usize, Vec<Value>) {
    let mut all: Vec<&StoredCdr> = s
        .cdrs
        .iter()
        .filter(|c| c.kind == kind && c.time >= from && c.time <= to)
        .filter(|c| match (agent, &c.agent) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        })
        .collect();
    all.sort_by_key(|c| std::cmp::Reverse(c.time));
    let skip = page.saturating_sub(1).saturating_mul(limit);
    let records = all
        .iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|c| c.record.clone())
        .collect();
    (all.len(), records)
}

/// The legacy list form: `_id` for `cmiuid`, `rate` as text.
fn legacy_form(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        if let Some(id) = o.remove("cmiuid") {
            o.insert("_id".to_owned(), id);
        }
        if let Some(r) = o.get("rate").cloned() {
            let text = match r {
                Value::Number(n) => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
                other => other.as_str().unwrap_or("0.00").to_owned(),
            };
            o.insert("rate".to_owned(), Value::String(text));
        }
        o.remove("duration");
        o.remove("notes");
    }
    v
}

fn admin_list(s: &State, f: &Map<String, Value>, kind: CdrKind, legacy: bool) -> ResponseTemplate {
    let secret_key = if legacy { "token" } else { "secret" };
    let (Some(app), Some(secret)) = (flex::u64_of(f, &["appid"]), flex::string(f, &[secret_key])) else {
        return reply(400, "Parameter missing");
    };
    if app != SIM_APP_ID || secret != SIM_SECRET {
        return reply(404, "Invalid app id or secret, authentication failed");
    }
    let limit = flex::u64_of(f, &["limit"]).unwrap_or(10);
    if !legacy && limit > 20 {
        // Unsure: the docs give 20 as the maximum but not what happens above it.
        return reply(400, "Parameter limit lesser then equals 20");
    }
    let now = Utc::now().timestamp_millis();
    let to = flex::u64_of(f, &["end_date"]).map_or(now, |v| v as i64);
    let from = flex::u64_of(f, &["start_date"]).map_or(now - 86_400_000, |v| v as i64);
    let page = flex::u64_of(f, &["page"]).unwrap_or(1).max(1);
    let (total, records) = select(s, kind, from, to, None, page, limit.max(1));
    if legacy {
        let cdr: Vec<Value> = records.into_iter().map(legacy_form).collect();
        json_status(200, &json!({"total": total, "cdr": cdr}))
    } else {
        json_status(200, &json!({"count": total, "cdr": records}))
    }
}

fn user_list(s: &State, f: &Map<String, Value>, kind: CdrKind, legacy: bool) -> ResponseTemplate {
    let Some(user) = auth::user_of_token(s, f) else {
        return reply(404, "Invalid user token, Failed to authenticate token");
    };
    let (Some(from), Some(to)) = (flex::u64_of(f, &["from"]), flex::u64_of(f, &["to"])) else {
        return reply(400, "Parameter missing");
    };
    let limit = flex::u64_of(f, &["limit"]).unwrap_or(10);
    if limit > 10 {
        return reply(400, "Parameter limit lesser then equals 10");
    }
    let page = flex::u64_of(f, &["page"]).unwrap_or(1).max(1);
    let (total, records) = select(s, kind, from as i64, to as i64, Some(&user), page, limit.max(1));
    let cdr: Vec<Value> = if legacy {
        records.into_iter().map(legacy_form).collect()
    } else {
        records
    };
    json_status(200, &json!({"code": 200, "count": total, "cdr": cdr}))
}

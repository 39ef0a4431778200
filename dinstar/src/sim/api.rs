//! The routes: every request is authenticated (see `auth`), then answered by its endpoint in the
//! gateway's envelope (HTTP 200 with `error_code` and `sn`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use switchboard_core::testkit::json_response;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::state::State;

pub(super) fn handler(state: Arc<Mutex<State>>) -> switchboard_core::testkit::Handler {
    Arc::new(move |req: &Request| {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.handle(req)
    })
}

impl State {
    pub(super) fn handle(&mut self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_owned();
        self.stats.requests += 1;
        *self.stats.by_path.entry(path.clone()).or_default() += 1;
        if let Err(answer) = self.authorize(req) {
            return *answer;
        }
        self.stats.authorized += 1;
        *self.stats.authorized_by_path.entry(path.clone()).or_default() += 1;
        if let Some(code) = self.forced.get_mut(&path).and_then(VecDeque::pop_front) {
            return self.envelope(code, Map::new());
        }
        let get = req.method.as_str() == "GET";
        let post = req.method.as_str() == "POST";
        let query: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        match path.as_str() {
            "/api/send_sms" if post => self.send_sms(&req.body),
            "/api/query_sms_result" if post => self.query_sms_result(&req.body),
            "/api/query_sms_deliver_status" if post => self.query_deliver_status(&req.body),
            "/api/query_incoming_sms" if get => self.query_incoming(&query),
            "/api/query_sms_in_queue" if get => {
                let n = self.in_queue();
                self.envelope(200, obj(json!({"in_queue": n})))
            }
            "/api/stop_sms" if get => self.stop_sms(&query),
            "/api/send_ussd" if post => self.send_ussd(&req.body),
            "/api/query_ussd_reply" if get => self.query_ussd_reply(&query),
            "/api/get_port_info" if get => self.get_port_info(&query),
            "/api/set_port_info" if get => self.set_port_info(&query),
            "/api/get_cdr" if post => self.get_cdr(&req.body),
            "/api/get_status" if post => self.get_status(&req.body),
            // A GET of get_status answered 403 on a UC2000-VE.
            "/api/get_status" => {
                self.stats.forbidden += 1;
                ResponseTemplate::new(403).set_body_string("403 Forbidden")
            }
            // A known path with the wrong method: the firmware cannot parse it (the manual documents one
            // method per path; answering 400 is this simulator's choice).
            "/api/send_sms"
            | "/api/query_sms_result"
            | "/api/query_sms_deliver_status"
            | "/api/query_incoming_sms"
            | "/api/query_sms_in_queue"
            | "/api/stop_sms"
            | "/api/send_ussd"
            | "/api/query_ussd_reply"
            | "/api/get_port_info"
            | "/api/set_port_info"
            | "/api/get_cdr" => self.envelope(400, Map::new()),
            _ => ResponseTemplate::new(404).set_body_string("404 Not Found"),
        }
    }

    pub(super) fn envelope(&self, code: i64, mut body: Map<String, Value>) -> ResponseTemplate {
        body.insert("error_code".into(), json!(code));
        body.insert("sn".into(), json!(self.sn));
        json_response(&Value::Object(body))
    }
}

pub(super) fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A JSON array of integers 0..=max.
pub(super) fn int_list(v: &Value, max: u64) -> Option<Vec<u8>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_u64().filter(|n| *n <= max).and_then(|n| u8::try_from(n).ok()))
        .collect()
}

/// `1,2,3` (already percent-decoded) into ports.
pub(super) fn parse_list(s: &str) -> Option<Vec<u8>> {
    s.split(',')
        .map(|p| p.trim().parse::<u8>().ok().filter(|p| *p <= 31))
        .collect()
}

pub(super) fn fill(text: &str, params: &[String]) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut it = params.iter();
    while let Some(i) = rest.find("#param#") {
        out.push_str(&rest[..i]);
        out.push_str(it.next().map(String::as_str).unwrap_or("#param#"));
        rest = &rest[i + "#param#".len()..];
    }
    out.push_str(rest);
    out
}

/// A number as the manual allows it: a digit string of at most 24 bytes (a leading `+` taken).
pub(super) fn is_number(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 24
        && s.chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || (i == 0 && c == '+'))
}

/// `YYYY-MM-DD HH:MM:SS`, a real date and time.
pub(super) fn is_gateway_time(s: &str) -> bool {
    s.len() == 19 && chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok()
}

pub(super) fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

pub(super) fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

pub(super) fn pct(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

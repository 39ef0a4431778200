//! The HTTP surface: methods as paths, parameters from the query and the form body (both, as SMS.ru
//! takes them), answers as `json=1` JSON or the legacy text lines, and the callback and stop-list
//! methods. `sms/send`, `sms/cost` and `sms/status` are in [`super::send`].

use serde_json::{Map, Value, json};
use switchboard_core::testkit::json_response;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::state::State;
use super::{auth, send};
use crate::error::code_info;

/// Digits of a number however it is written.
pub(super) fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The text of a code as SMS.ru words it.
pub(super) fn text_of(code: i32) -> &'static str {
    match code_info(code) {
        Some(c) => c.text_ru,
        None => "",
    }
}

/// Strict `application/x-www-form-urlencoded` decoding: `None` when a value is not UTF-8 (code 212).
fn decode_strict(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let h = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn parse_pairs(raw: &str, into: &mut Vec<(String, String)>) -> bool {
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match (decode_strict(k), decode_strict(v)) {
            (Some(k), Some(v)) => into.push((k, v)),
            _ => return false,
        }
    }
    true
}

pub(super) struct Params {
    pub(super) pairs: Vec<(String, String)>,
}

impl Params {
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// How the answer is written: `json=1`, or the legacy text lines.
#[derive(Clone, Copy)]
pub(super) struct Format {
    json: bool,
}

impl Format {
    pub(super) fn answer(self, v: Value, text: String) -> ResponseTemplate {
        if self.json {
            json_response(&v)
        } else {
            ResponseTemplate::new(200).set_body_raw(text, "text/plain; charset=utf-8")
        }
    }

    pub(super) fn error(self, code: i32) -> ResponseTemplate {
        self.answer(
            json!({"status": "ERROR", "status_code": code, "status_text": text_of(code)}),
            code.to_string(),
        )
    }
}

pub(super) fn money(kopecks: i64) -> Value {
    json!(kopecks as f64 / 100.0)
}

pub(super) fn ok() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), json!("OK"));
    m.insert("status_code".into(), json!(100));
    m
}

pub(super) fn handle(st: &mut State, req: &Request) -> ResponseTemplate {
    let method = req.url.path().trim_matches('/').to_owned();
    let mut pairs = Vec::new();
    let query_ok = parse_pairs(req.url.query().unwrap_or(""), &mut pairs);
    let body_ok = match std::str::from_utf8(&req.body) {
        Ok(b) => parse_pairs(b, &mut pairs),
        Err(_) => false,
    };
    let p = Params { pairs };
    let fmt = Format {
        json: p.get("json") == Some("1"),
    };
    if !query_ok || !body_ok {
        return fmt.error(212);
    }
    // Authentication comes first, for every method.
    if let Err(code) = auth::check(st, &p) {
        return fmt.error(code);
    }
    if let Some(code) = st.refuse_next.pop_front() {
        return fmt.error(code);
    }
    match method.as_str() {
        "sms/send" => send::send(st, &p, fmt, false),
        "sms/cost" => send::send(st, &p, fmt, true),
        "sms/status" => send::status(st, &p, fmt),
        "my/balance" => {
            let mut m = ok();
            m.insert("balance".into(), money(st.balance));
            fmt.answer(Value::Object(m), format!("100\n{:.2}", st.balance as f64 / 100.0))
        }
        "my/limit" => {
            let mut m = ok();
            m.insert("total_limit".into(), json!(st.daily_limit));
            m.insert("used_today".into(), json!(st.used_today()));
            fmt.answer(
                Value::Object(m),
                format!("100\n{}\n{}", st.daily_limit, st.used_today()),
            )
        }
        "my/free" => {
            let mut m = ok();
            m.insert("total_free".into(), json!(st.free_total));
            m.insert("used_today".into(), json!(0));
            fmt.answer(Value::Object(m), format!("100\n{}\n0", st.free_total))
        }
        "my/senders" => {
            let mut m = ok();
            m.insert("senders".into(), json!(st.senders));
            fmt.answer(Value::Object(m), format!("100\n{}", st.senders.join("\n")))
        }
        "auth/check" => fmt.answer(Value::Object(ok()), "100".into()),
        "callback/add" | "callback/del" | "callback/get" => callbacks(st, &method, &p, fmt),
        "stoplist/add" | "stoplist/del" | "stoplist/get" => stoplist(st, &method, &p, fmt),
        _ => fmt.error(211),
    }
}

fn callbacks(st: &mut State, method: &str, p: &Params, fmt: Format) -> ResponseTemplate {
    match method {
        "callback/add" => {
            let url = p.get("url").unwrap_or("");
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return fmt.error(901);
            }
            if !st.callbacks.iter().any(|u| u == url) {
                st.callbacks.push(url.to_owned());
            }
        }
        "callback/del" => {
            let url = p.get("url").unwrap_or("");
            let before = st.callbacks.len();
            st.callbacks.retain(|u| u != url);
            if st.callbacks.len() == before {
                return fmt.error(902);
            }
        }
        _ => {}
    }
    let mut m = ok();
    m.insert("callback".into(), json!(st.callbacks));
    fmt.answer(Value::Object(m), format!("100\n{}", st.callbacks.join("\n")))
}

fn stoplist(st: &mut State, method: &str, p: &Params, fmt: Format) -> ResponseTemplate {
    match method {
        "stoplist/add" => {
            let Some(n) = send::documented_number(p.get("stoplist_phone").unwrap_or("")) else {
                return fmt.error(202);
            };
            st.stoplist
                .insert(n.to_owned(), p.get("stoplist_text").unwrap_or("").to_owned());
            fmt.answer(Value::Object(ok()), "100".into())
        }
        "stoplist/del" => {
            let n = digits(p.get("stoplist_phone").unwrap_or(""));
            st.stoplist.remove(&n);
            fmt.answer(Value::Object(ok()), "100".into())
        }
        _ => {
            let mut m = ok();
            m.insert("stoplist".into(), json!(st.stoplist));
            let lines: Vec<String> = st.stoplist.iter().map(|(k, v)| format!("{k};{v}")).collect();
            fmt.answer(Value::Object(m), format!("100\n{}", lines.join("\n")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_decoding() {
        assert_eq!(decode_strict("a+b%20c").as_deref(), Some("a b c"));
        assert_eq!(decode_strict("%D0%BF").as_deref(), Some("п"));
        assert_eq!(decode_strict("%ff"), None);
        assert_eq!(decode_strict("%f"), None);
        assert_eq!(decode_strict("%zz"), None);
    }
}

//! An SMS.ru simulator (feature `sim`): the API on a loopback port, stateful, with delivery callbacks.
//!
//! What it models, following SMS.ru's API pages (<https://sms.ru/api>):
//!
//! * Methods as paths: `sms/send`, `sms/status`, `sms/cost`, `my/balance`, `my/limit`, `my/free`,
//!   `my/senders`, `auth/check`, `callback/add|del|get`, `stoplist/add|del|get`; anything else is
//!   code `211`. GET (query string) and POST (form body) are both accepted, as the official examples use
//!   GET and the spec POST.
//! * Always HTTP 200; the outcome is in the body. With `json=1` the JSON envelope
//!   (`status`/`status_code`/`status_text`, per-number results under `sms`, `balance`); without it the
//!   legacy text reply (code line, one line per number, `balance=`).
//! * Auth by `api_id`, or `login` + `password` (`200` / `301` when wrong). Senders must be approved
//!   (`204`). Per number: a number not written as SMS.ru documents it (digits only, no `+`) `202`,
//!   stop-listed `209`, empty text `203`, more than 8 parts `205`; per request: no text `203`, more than
//!   100 numbers `207`, more than 5000 `213`, a bad `time` `208`, a `ttl` outside 1–1440 minutes, an
//!   `ip` that is not a public address `507`, text not UTF-8 `212`, not enough balance `201`. The
//!   rules are in the `send` module.
//! * `test=1` answers like a real send (ids included) but charges nothing.
//! * Ids look like SMS.ru's (`NNNNNN-NNNNNNNN`). Messages move `100 → 101 → 102 → 103` (or the final code
//!   set for the number with [`Simulator::set_outcome`]) when the test calls [`Simulator::advance`],
//!   [`Simulator::advance_all`] or [`Simulator::deliver`], or on a timer ([`Simulator::auto_advance`]).
//!   Each change is pushed to every URL registered with `callback/add` as a form `data[N]` body, and
//!   the answer (`100` expected) is recorded ([`Simulator::deliveries`]).
//! * Request-level failures on demand: [`Simulator::fail_next`] (e.g. `220`, `500`), and HTTP-level
//!   faults through [`Simulator::faults`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value, json};
use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_response};

use super::error::{code_info, mask};

mod send;

pub use send::{TTL_REFUSAL_CODE, TTL_REFUSAL_TEXT};

/// The simulator's `api_id`.
pub const SIM_API_ID: &str = "5A1E5A1E-0000-4000-8000-00000000C0DE";
/// The simulator's login (for login + password authentication).
pub const SIM_LOGIN: &str = "79000000000";
/// The simulator's password.
pub const SIM_PASSWORD: &str = "sim-password";
/// The approved sender the simulator starts with (also the default sender).
pub const SIM_SENDER: &str = "switchboard";
/// The balance the simulator starts with, in kopecks (1000 ₽).
pub const SIM_START_BALANCE: i64 = 100_000;
/// The price of one SMS part the simulator charges, in kopecks, until changed.
pub const SIM_PRICE_PER_PART: i64 = 350;

/// A message the simulator holds.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimSms {
    /// Its id.
    pub sms_id: String,
    /// The number, digits only.
    pub to: String,
    /// The text.
    pub text: String,
    /// The sender.
    pub from: String,
    /// The current state code.
    pub status_code: i32,
    /// Every state it went through, in order.
    pub history: Vec<i32>,
    /// SMS parts.
    pub parts: u32,
    /// What it cost, in kopecks (0 in test mode).
    pub cost_kopecks: i64,
    /// Sent with `test=1`.
    pub test: bool,
}

impl fmt::Debug for SimSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimSms")
            .field("sms_id", &self.sms_id)
            .field("to", &mask(&self.to))
            .field("text_chars", &self.text.chars().count())
            .field("from", &self.from)
            .field("status_code", &self.status_code)
            .field("history", &self.history)
            .field("parts", &self.parts)
            .field("cost_kopecks", &self.cost_kopecks)
            .field("test", &self.test)
            .finish()
    }
}

/// One callback the simulator pushed, and how the host answered. `Debug` redacts the URL's secret.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackDelivery {
    /// Where it went.
    pub url: String,
    /// The form body.
    pub body: String,
    /// The host's HTTP status; `None` when the connection failed.
    pub status: Option<u16>,
    /// The host's answer body.
    pub answer: String,
}

impl fmt::Debug for CallbackDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackDelivery")
            .field("url", &switchboard_core::secret::redact_url(&self.url))
            .field("body", &self.body)
            .field("status", &self.status)
            .field("answer", &self.answer)
            .finish()
    }
}

impl CallbackDelivery {
    /// Whether the host answered as SMS.ru requires (`100`).
    pub fn acknowledged(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s)) && self.answer.trim() == super::webhook::CALLBACK_ANSWER
    }
}

struct State {
    api_id: String,
    balance: i64,
    price_per_part: i64,
    senders: Vec<String>,
    messages: BTreeMap<String, SimSms>,
    next_id: u64,
    outcomes: HashMap<String, i32>,
    refusals: HashMap<String, i32>,
    stoplist: BTreeMap<String, String>,
    failures: VecDeque<i32>,
    callbacks: Vec<String>,
    deliveries: Vec<CallbackDelivery>,
    daily_limit: u64,
    free_total: u64,
}

impl State {
    fn new() -> Self {
        State {
            api_id: SIM_API_ID.to_owned(),
            balance: SIM_START_BALANCE,
            price_per_part: SIM_PRICE_PER_PART,
            senders: vec![SIM_SENDER.to_owned()],
            messages: BTreeMap::new(),
            next_id: 10_000_000,
            outcomes: HashMap::new(),
            refusals: HashMap::new(),
            stoplist: BTreeMap::new(),
            failures: VecDeque::new(),
            callbacks: Vec::new(),
            deliveries: Vec::new(),
            daily_limit: 5000,
            free_total: 5,
        }
    }

    fn used_today(&self) -> u64 {
        self.messages.values().filter(|m| !m.test).count() as u64
    }
}

struct Inner {
    state: Mutex<State>,
    http: reqwest::Client,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the state half-written in a way that matters to
        // a simulator; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The SMS.ru simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    inner: Arc<Inner>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.uri())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    fn inner() -> Arc<Inner> {
        let http = HttpOptions::default()
            .timeout(Duration::from_secs(5))
            .build_client()
            .unwrap_or_default();
        Arc::new(Inner {
            state: Mutex::new(State::new()),
            http,
        })
    }

    fn handler(inner: &Arc<Inner>) -> switchboard_core::testkit::Handler {
        let inner = inner.clone();
        Arc::new(move |req: &Request| {
            let mut st = inner.lock();
            handle(&mut st, req)
        })
    }

    /// Starts on a free loopback port.
    pub async fn start() -> Simulator {
        let inner = Self::inner();
        let server = SimServer::start(Self::handler(&inner)).await;
        Simulator { server, inner }
    }

    /// Starts on `127.0.0.1:port` (for `switchboard sim smsru --port P`); request recording is off.
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let inner = Self::inner();
        let server = SimServer::start_on_port(port, Self::handler(&inner)).await?;
        Ok(Simulator { server, inner })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// A DSN for this simulator with valid credentials and the approved sender.
    pub fn dsn(&self) -> String {
        let a = self.server.address();
        format!("smsru://{}@{}:{}?from={SIM_SENDER}", SIM_API_ID, a.ip(), a.port())
    }

    /// The same DSN with a webhook secret, for transports that receive the simulator's callbacks.
    pub fn dsn_with_webhook_secret(&self, secret: &str) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("webhook_secret", secret);
        format!("{}&{}", self.dsn(), s.finish())
    }

    /// HTTP-level faults for the next requests.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every request received (empty for a simulator started with [`Simulator::start_on_port`]).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// The `api_id` the simulator accepts.
    pub fn api_id(&self) -> String {
        self.inner.lock().api_id.clone()
    }

    /// The balance in kopecks.
    pub fn balance_kopecks(&self) -> i64 {
        self.inner.lock().balance
    }

    /// Sets the balance in kopecks.
    pub fn set_balance_kopecks(&self, kopecks: i64) {
        self.inner.lock().balance = kopecks;
    }

    /// Sets the price of one SMS part in kopecks.
    pub fn set_price_per_part(&self, kopecks: i64) {
        self.inner.lock().price_per_part = kopecks;
    }

    /// Approves another sender name.
    pub fn approve_sender(&self, name: &str) {
        let mut st = self.inner.lock();
        if !st.senders.iter().any(|s| s == name) {
            st.senders.push(name.to_owned());
        }
    }

    /// Messages to this number end in `final_code` instead of `103` (delivered): `104` expired, `105`–`108`,
    /// `150` no route.
    pub fn set_outcome(&self, number: &str, final_code: i32) {
        self.inner.lock().outcomes.insert(digits(number), final_code);
    }

    /// `sms/send` refuses this number with `code` (a per-number `ERROR`, the rest of the request goes on).
    pub fn refuse_number(&self, number: &str, code: i32) {
        self.inner.lock().refusals.insert(digits(number), code);
    }

    /// The next request (any method, after authentication) fails as a whole with this code.
    pub fn fail_next(&self, code: i32) {
        self.inner.lock().failures.push_back(code);
    }

    /// Every message, in the order they were taken.
    pub fn messages(&self) -> Vec<SimSms> {
        self.inner.lock().messages.values().cloned().collect()
    }

    /// One message by id.
    pub fn message(&self, sms_id: &str) -> Option<SimSms> {
        self.inner.lock().messages.get(sms_id).cloned()
    }

    /// Registers a callback URL directly (what `callback/add` does).
    pub fn add_callback(&self, url: &str) {
        let mut st = self.inner.lock();
        if !st.callbacks.iter().any(|u| u == url) {
            st.callbacks.push(url.to_owned());
        }
    }

    /// The registered callback URLs.
    pub fn callbacks(&self) -> Vec<String> {
        self.inner.lock().callbacks.clone()
    }

    /// Every callback pushed so far and its answer.
    pub fn deliveries(&self) -> Vec<CallbackDelivery> {
        self.inner.lock().deliveries.clone()
    }

    /// Moves one message one state on (`100 → 101 → 102 → final`) and pushes the change to the
    /// callbacks. Returns the new code, `None` when the message is unknown or already final.
    pub async fn advance(&self, sms_id: &str) -> Option<i32> {
        let code = {
            let mut st = self.inner.lock();
            step(&mut st, sms_id)?
        };
        push(&self.inner, &[(sms_id.to_owned(), code)]).await;
        Some(code)
    }

    /// Moves every message that is not final one state on; one callback body per URL carries all the
    /// changes. Returns how many messages moved.
    pub async fn advance_all(&self) -> usize {
        advance_all(&self.inner).await
    }

    /// Moves a message through to its final state, pushing each change. Returns the final code.
    pub async fn deliver(&self, sms_id: &str) -> Option<i32> {
        let mut last = None;
        while let Some(code) = self.advance(sms_id).await {
            last = Some(code);
        }
        last
    }

    /// Advances every message every `every`, until the simulator is dropped (for a simulator a person
    /// points a tool at). Needs a Tokio runtime.
    pub fn auto_advance(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        switchboard_core::testkit::every(Arc::downgrade(&self.inner), every, |inner: Arc<Inner>| async move {
            advance_all(&inner).await;
        })
    }
}

fn step(st: &mut State, sms_id: &str) -> Option<i32> {
    let outcome = {
        let m = st.messages.get(sms_id)?;
        st.outcomes.get(&m.to).copied().unwrap_or(103)
    };
    let m = st.messages.get_mut(sms_id)?;
    let next = match m.status_code {
        100 => 101,
        101 => 102,
        102 => outcome,
        _ => return None,
    };
    m.status_code = next;
    m.history.push(next);
    Some(next)
}

async fn advance_all(inner: &Arc<Inner>) -> usize {
    let changes: Vec<(String, i32)> = {
        let mut st = inner.lock();
        let ids: Vec<String> = st.messages.keys().cloned().collect();
        ids.into_iter()
            .filter_map(|id| step(&mut st, &id).map(|c| (id, c)))
            .collect()
    };
    if !changes.is_empty() {
        push(inner, &changes).await;
    }
    changes.len()
}

/// Pushes changes to every registered callback URL and records the answers.
async fn push(inner: &Arc<Inner>, changes: &[(String, i32)]) {
    let urls = inner.lock().callbacks.clone();
    if urls.is_empty() {
        return;
    }
    let refs: Vec<(&str, i32)> = changes.iter().map(|(id, c)| (id.as_str(), *c)).collect();
    let body = super::webhook::encode(&refs);
    for url in urls {
        let sent = inner
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await;
        let (status, answer) = match sent {
            Ok(r) => {
                let s = r.status().as_u16();
                (Some(s), r.text().await.unwrap_or_default())
            }
            Err(_) => (None, String::new()),
        };
        inner.lock().deliveries.push(CallbackDelivery {
            url,
            body: body.clone(),
            status,
            answer,
        });
    }
}

/// Digits of a number however it is written.
fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The text of a code as SMS.ru words it.
fn text_of(code: i32) -> &'static str {
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

struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// How the answer is written: `json=1`, or the legacy text lines.
#[derive(Clone, Copy)]
struct Format {
    json: bool,
}

impl Format {
    fn answer(self, v: Value, text: String) -> ResponseTemplate {
        if self.json {
            json_response(&v)
        } else {
            ResponseTemplate::new(200).set_body_raw(text, "text/plain; charset=utf-8")
        }
    }

    fn error(self, code: i32) -> ResponseTemplate {
        self.answer(
            json!({"status": "ERROR", "status_code": code, "status_text": text_of(code)}),
            code.to_string(),
        )
    }
}

fn money(kopecks: i64) -> Value {
    json!(kopecks as f64 / 100.0)
}

fn ok() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), json!("OK"));
    m.insert("status_code".into(), json!(100));
    m
}

fn handle(st: &mut State, req: &Request) -> ResponseTemplate {
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
    match (p.get("api_id"), p.get("login"), p.get("password")) {
        (Some(id), _, _) if id == st.api_id => {}
        (Some(_), _, _) => return fmt.error(200),
        (None, Some(l), Some(pw)) if l == SIM_LOGIN && pw == SIM_PASSWORD => {}
        (None, Some(_), _) => return fmt.error(301),
        _ => return fmt.error(200),
    }
    if let Some(code) = st.failures.pop_front() {
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

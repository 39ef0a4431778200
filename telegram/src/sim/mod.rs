//! A Telegram Bot API simulator (feature `sim`), wire-compatible enough that Bot API libraries can
//! be pointed at it as a "local Bot API server" (`https://api.telegram.org` replaced by its URI).
//!
//! What it models, following the Bot API reference (<https://core.telegram.org/bots/api>):
//!
//! * `/bot<token>/<method>`, methods case-insensitive, parameters from the query string, a form or a
//!   JSON body; a wrong token is 401 `Unauthorized`, a malformed one or an unknown method 404
//!   `Not Found`; every answer is the `{ok, result[, description]}` / `{ok:false, error_code,
//!   description[, parameters]}` envelope.
//! * `getMe`; `sendMessage` with `parse_mode` HTML / MarkdownV2 / Markdown parsed as
//!   [`text`](super::text) does ("can't parse entities: …"), the 4096-UTF-16-unit limit after parsing
//!   ("message is too long"), "message text is empty", "chat not found", a blocked user (403 "bot was
//!   blocked by the user"), a migrated group (400 with `parameters.migrate_to_chat_id`), structured
//!   parameters that do not parse, replies to missing messages and threads outside forums (the `send`
//!   module); the answer is the sent `Message` with its entities. Flood waits (429 with `parameters.retry_after`) and any
//!   other error on demand ([`Simulator::queue_error`], [`SimError::flood`]).
//! * Updates: [`Simulator::user_sends`] makes a user write to the bot (commands get their
//!   `bot_command` entity). Without a webhook they queue for `getUpdates` (`offset` acknowledges and
//!   forgets, negative offsets count from the end, `limit`, `allowed_updates`); with one, they are
//!   POSTed to it with `X-Telegram-Bot-Api-Secret-Token`, kept pending until the host answers 2xx
//!   (`getWebhookInfo` shows `pending_update_count` and `last_error_message`), and
//!   [`Simulator::redeliver`] tries again. `getUpdates` while a webhook is set is 409.
//! * `setWebhook` (HTTPS on ports 443, 80, 88, 8443; `secret_token` of 1–256 `A-Z a-z 0-9 _ -`;
//!   `max_connections` 1–100; `allowed_updates`; `drop_pending_updates`), `deleteWebhook`,
//!   `getWebhookInfo`.
//!
//! Deliberate differences: plain `http://` webhooks are accepted on loopback hosts (so tests need no
//! TLS), `getUpdates` answers at once instead of holding the long poll, and flood limits are not
//! enforced by counting (queue a [`SimError::flood`] instead) — so [`Simulator::dsn`] turns the
//! client's own limiter off. Texts of errors Telegram does not publish follow the usual Bot API
//! wording (**NV**).

// Handlers return the HTTP answer itself as their error; its size does not matter here.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{Faults, SimServer, json_status};

use super::config::Config;
use super::text::{ParseMode, ParsedEntity, utf16_len};
use super::webhook::SECRET_HEADER;

mod send;
mod webhooks;

/// The simulated bot's token.
pub const SIM_TOKEN: &str = "7000000001:AAHsim0switchboard0simulator0tokenXYZ";
/// The simulated bot's username.
pub const SIM_BOT_USERNAME: &str = "SwitchboardSimBot";
/// The bot's user id (the token's number).
pub const SIM_BOT_ID: i64 = 7_000_000_001;
/// A private chat that exists from the start (the user "Ana" started the bot).
pub const SIM_CHAT_ID: i64 = 100_200_300;
/// The webhook secret [`Simulator::dsn`] configures.
pub const SIM_WEBHOOK_SECRET: &str = "sim-webhook-secret_0123456789";
/// The member who writes in simulated groups.
pub const SIM_GROUP_MEMBER_ID: i64 = 555_000_111;

/// An error the next call receives instead of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimError {
    /// `error_code` and HTTP status.
    pub code: u16,
    /// `description`.
    pub description: String,
    /// `parameters.retry_after`.
    pub retry_after: Option<u64>,
    /// `parameters.migrate_to_chat_id`.
    pub migrate_to_chat_id: Option<i64>,
}

impl SimError {
    /// Any error.
    pub fn new(code: u16, description: &str) -> Self {
        SimError {
            code,
            description: description.into(),
            retry_after: None,
            migrate_to_chat_id: None,
        }
    }

    /// Flood control: 429 "Too Many Requests: retry after N" with `parameters.retry_after`.
    pub fn flood(retry_after: u64) -> Self {
        SimError {
            retry_after: Some(retry_after),
            ..Self::new(429, &format!("Too Many Requests: retry after {retry_after}"))
        }
    }
}

/// A message the bot sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SimSent {
    /// The chat.
    pub chat_id: i64,
    /// Its id in the chat.
    pub message_id: i64,
    /// The text as the reader sees it.
    pub text: String,
    /// The text as the bot sent it.
    pub raw_text: String,
    /// The parse mode used.
    pub parse_mode: Option<ParseMode>,
    /// The entities parsed out of it.
    pub entities: Vec<ParsedEntity>,
    /// Every parameter, as received.
    pub params: Map<String, Value>,
}

/// One webhook delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimPush {
    /// Where it went.
    pub url: String,
    /// The update delivered.
    pub update_id: i64,
    /// The secret token header sent.
    pub secret_token: Option<String>,
    /// The host's answer; `None` when the connection failed.
    pub status: Option<u16>,
}

struct SimChat {
    chat: Value,
    blocked: bool,
    migrated_to: Option<i64>,
}

struct Webhook {
    url: String,
    secret: Option<String>,
    max_connections: u32,
    allowed_updates: Option<Vec<String>>,
}

struct State {
    bot: Value,
    chats: BTreeMap<i64, SimChat>,
    usernames: HashMap<String, i64>,
    next_message_id: HashMap<i64, i64>,
    sent: Vec<SimSent>,
    pending: VecDeque<Value>,
    next_update_id: i64,
    webhook: Option<Webhook>,
    last_error: Option<(i64, String)>,
    pushes: Vec<SimPush>,
    errors: VecDeque<SimError>,
    calls: Vec<String>,
}

impl State {
    fn next_message_id(&mut self, chat: i64) -> i64 {
        let n = self.next_message_id.entry(chat).or_insert(0);
        *n += 1;
        *n
    }
}

struct Inner {
    state: Mutex<State>,
    http: reqwest::Client,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The Telegram Bot API simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.uri())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts on a free loopback port.
    pub async fn start() -> Simulator {
        let inner = new_inner();
        let server = SimServer::start(handler(inner.clone())).await;
        Simulator { server, inner }
    }

    /// Starts on `127.0.0.1:port`.
    pub async fn start_on_port(port: u16) -> std::io::Result<Simulator> {
        let inner = new_inner();
        let server = SimServer::start_on_port(port, handler(inner.clone())).await?;
        Ok(Simulator { server, inner })
    }

    /// The base URL (in place of `https://api.telegram.org`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// `telegram://TOKEN@127.0.0.1:PORT?chat_id=…&webhook_secret=…&bot_username=…&rate_limit=false`.
    pub fn dsn(&self) -> String {
        let a = self.server.address();
        format!(
            "telegram://{SIM_TOKEN}@{}:{}?chat_id={SIM_CHAT_ID}&webhook_secret={SIM_WEBHOOK_SECRET}\
             &bot_username={SIM_BOT_USERNAME}&rate_limit=false",
            a.ip(),
            a.port()
        )
    }

    /// A client config for the simulator: its token, webhook secret and default chat, no retries and
    /// no rate limits (tests see every answer at once).
    pub fn config(&self) -> Config {
        #[allow(clippy::expect_used)]
        Config::builder(SIM_TOKEN)
            .base_url(self.uri())
            .default_chat_id(SIM_CHAT_ID)
            .webhook_secret(SIM_WEBHOOK_SECRET)
            .rate_limits(None)
            .retry(switchboard_core::RetryPolicy::never())
            .build()
            .expect("the simulator's config is valid")
    }

    /// The fault queue.
    pub fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every request received, faulted ones included (empty for a simulator started with
    /// [`Simulator::start_on_port`]). The bot token is in each request's path.
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// A private chat with a user.
    pub fn add_private_chat(&self, id: i64, first_name: &str) {
        self.inner.lock().chats.insert(
            id,
            SimChat {
                chat: json!({"id": id, "first_name": first_name, "type": "private"}),
                blocked: false,
                migrated_to: None,
            },
        );
    }

    /// A group (`supergroup` when the id starts with -100) the bot is in.
    pub fn add_group(&self, id: i64, title: &str) {
        let kind = if id.to_string().starts_with("-100") {
            "supergroup"
        } else {
            "group"
        };
        self.inner.lock().chats.insert(
            id,
            SimChat {
                chat: json!({"id": id, "title": title, "type": kind}),
                blocked: false,
                migrated_to: None,
            },
        );
    }

    /// A channel with a public `@username` the bot may post in.
    pub fn add_channel(&self, id: i64, username: &str, title: &str) {
        let mut s = self.inner.lock();
        let name = username.trim_start_matches('@');
        s.usernames.insert(name.to_ascii_lowercase(), id);
        s.chats.insert(
            id,
            SimChat {
                chat: json!({"id": id, "title": title, "username": name, "type": "channel"}),
                blocked: false,
                migrated_to: None,
            },
        );
    }

    /// A forum supergroup the bot is in: sends may name a `message_thread_id` (a topic) there.
    pub fn add_forum(&self, id: i64, title: &str) {
        self.inner.lock().chats.insert(
            id,
            SimChat {
                chat: json!({"id": id, "title": title, "type": "supergroup", "is_forum": true}),
                blocked: false,
                migrated_to: None,
            },
        );
    }

    /// The user blocked the bot: sends get 403.
    pub fn block(&self, chat_id: i64) {
        if let Some(c) = self.inner.lock().chats.get_mut(&chat_id) {
            c.blocked = true;
        }
    }

    /// The group became supergroup `new_id`: sends to the old id get 400 with `migrate_to_chat_id`.
    pub fn migrate(&self, chat_id: i64, new_id: i64) {
        let mut s = self.inner.lock();
        let title = s
            .chats
            .get(&chat_id)
            .and_then(|c| c.chat.get("title").cloned())
            .unwrap_or(json!("group"));
        if let Some(c) = s.chats.get_mut(&chat_id) {
            c.migrated_to = Some(new_id);
        }
        s.chats.insert(
            new_id,
            SimChat {
                chat: json!({"id": new_id, "title": title, "type": "supergroup"}),
                blocked: false,
                migrated_to: None,
            },
        );
    }

    /// The next call (any method) gets this error.
    pub fn queue_error(&self, e: SimError) {
        self.inner.lock().errors.push_back(e);
    }

    /// A user writes `text` to the bot in `chat_id` (registered first if new, as a private chat).
    /// With a webhook set the update is pushed at once; otherwise it waits for `getUpdates`.
    /// Returns the update id.
    pub async fn user_sends(&self, chat_id: i64, text: &str) -> i64 {
        let id = {
            let mut s = self.inner.lock();
            s.chats.entry(chat_id).or_insert_with(|| SimChat {
                chat: json!({"id": chat_id, "first_name": "User", "type": "private"}),
                blocked: false,
                migrated_to: None,
            });
            let chat = s.chats.get(&chat_id).map(|c| c.chat.clone()).unwrap_or(Value::Null);
            let private = chat["type"] == "private";
            let from_id = if private { chat_id } else { SIM_GROUP_MEMBER_ID };
            let first_name = if private {
                chat["first_name"].clone()
            } else {
                json!("Ana")
            };
            let message_id = s.next_message_id(chat_id);
            let mut message = json!({
                "message_id": message_id,
                "from": {"id": from_id, "is_bot": false, "first_name": first_name, "language_code": "en"},
                "chat": chat,
                "date": chrono::Utc::now().timestamp(),
                "text": text,
            });
            if text.starts_with('/') {
                let head = text.split(char::is_whitespace).next().unwrap_or("");
                message["entities"] = json!([{"offset": 0, "length": utf16_len(head), "type": "bot_command"}]);
            }
            enqueue(&mut s, json!({"message": message}))
        };
        self.deliver().await;
        id
    }

    /// Queues any update (its `update_id` is assigned) and delivers it like [`Simulator::user_sends`].
    pub async fn push_update(&self, mut update: Value) -> i64 {
        if let Some(o) = update.as_object_mut() {
            o.remove("update_id");
        }
        let id = enqueue(&mut self.inner.lock(), update);
        self.deliver().await;
        id
    }

    /// Tries to deliver pending updates to the webhook again.
    pub async fn redeliver(&self) {
        self.deliver().await;
    }

    async fn deliver(&self) {
        loop {
            let (url, secret, update) = {
                let s = self.inner.lock();
                let (Some(w), Some(u)) = (&s.webhook, s.pending.front()) else {
                    return;
                };
                (w.url.clone(), w.secret.clone(), u.clone())
            };
            let update_id = update["update_id"].as_i64().unwrap_or(0);
            let mut req = self.inner.http.post(&url).json(&update);
            if let Some(sec) = &secret {
                req = req.header(SECRET_HEADER, sec.as_str());
            }
            let answer = req.send().await;
            let status = answer.as_ref().ok().map(|r| r.status().as_u16());
            let mut s = self.inner.lock();
            s.pushes.push(SimPush {
                url,
                update_id,
                secret_token: secret,
                status,
            });
            match (status, answer) {
                (Some(st), _) if (200..300).contains(&st) => {
                    if s.pending.front().and_then(|u| u["update_id"].as_i64()) == Some(update_id) {
                        s.pending.pop_front();
                    }
                }
                (_, Ok(r)) => {
                    let reason = r.status().canonical_reason().unwrap_or("");
                    s.last_error = Some((
                        now(),
                        format!("Wrong response from the webhook: {} {reason}", r.status().as_u16()),
                    ));
                    return;
                }
                (_, Err(_)) => {
                    s.last_error = Some((now(), "Connection refused".into()));
                    return;
                }
            }
        }
    }

    /// Every message the bot sent.
    pub fn sent(&self) -> Vec<SimSent> {
        self.inner.lock().sent.clone()
    }

    /// The messages the bot sent to one chat.
    pub fn sent_to(&self, chat_id: i64) -> Vec<SimSent> {
        self.inner
            .lock()
            .sent
            .iter()
            .filter(|m| m.chat_id == chat_id)
            .cloned()
            .collect()
    }

    /// Updates not yet acknowledged (`getUpdates`) or delivered (webhook).
    pub fn pending_updates(&self) -> usize {
        self.inner.lock().pending.len()
    }

    /// The webhook URL set, if any.
    pub fn webhook_url(&self) -> Option<String> {
        self.inner.lock().webhook.as_ref().map(|w| w.url.clone())
    }

    /// Every webhook delivery attempt.
    pub fn pushes(&self) -> Vec<SimPush> {
        self.inner.lock().pushes.clone()
    }

    /// The methods called, in order, as named in the path.
    pub fn calls(&self) -> Vec<String> {
        self.inner.lock().calls.clone()
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn enqueue(s: &mut State, mut update: Value) -> i64 {
    s.next_update_id += 1;
    let id = s.next_update_id;
    if let Some(o) = update.as_object_mut() {
        o.insert("update_id".into(), json!(id));
    }
    let kind = update_kind(&update);
    let allowed = s
        .webhook
        .as_ref()
        .and_then(|w| w.allowed_updates.as_ref())
        .is_none_or(|a| a.iter().any(|k| k == &kind));
    if allowed {
        s.pending.push_back(update);
    }
    id
}

fn update_kind(u: &Value) -> String {
    u.as_object()
        .and_then(|o| o.keys().find(|k| *k != "update_id").cloned())
        .unwrap_or_default()
}

fn new_inner() -> Arc<Inner> {
    let mut chats = BTreeMap::new();
    chats.insert(
        SIM_CHAT_ID,
        SimChat {
            chat: json!({"id": SIM_CHAT_ID, "first_name": "Ana", "username": "ana_user", "type": "private"}),
            blocked: false,
            migrated_to: None,
        },
    );
    Arc::new(Inner {
        state: Mutex::new(State {
            bot: json!({"id": SIM_BOT_ID, "is_bot": true, "first_name": "Switchboard Sim",
                        "username": SIM_BOT_USERNAME, "can_join_groups": true,
                        "can_read_all_group_messages": false, "supports_inline_queries": false}),
            chats,
            usernames: HashMap::new(),
            next_message_id: HashMap::new(),
            sent: Vec::new(),
            pending: VecDeque::new(),
            next_update_id: 800_000_000,
            webhook: None,
            last_error: None,
            pushes: Vec::new(),
            errors: VecDeque::new(),
            calls: Vec::new(),
        }),
        http: switchboard_core::http::HttpOptions::default()
            .timeout(std::time::Duration::from_secs(10))
            .build_client()
            .unwrap_or_default(),
    })
}

fn ok(result: Value) -> ResponseTemplate {
    json_status(200, &json!({"ok": true, "result": result}))
}

fn ok_described(result: Value, description: &str) -> ResponseTemplate {
    json_status(200, &json!({"ok": true, "result": result, "description": description}))
}

fn fail(code: u16, description: &str) -> ResponseTemplate {
    json_status(
        code,
        &json!({"ok": false, "error_code": code, "description": description}),
    )
}

fn fail_with(e: &SimError) -> ResponseTemplate {
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
    json_status(e.code, &body)
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

fn get_str<'a>(p: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    p.get(k).and_then(Value::as_str)
}

fn get_i64(p: &Map<String, Value>, k: &str) -> Option<i64> {
    match p.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn get_bool(p: &Map<String, Value>, k: &str) -> bool {
    match p.get(k) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true") || s == "1",
        _ => false,
    }
}

/// A JSON array, or a string holding one (forms send `allowed_updates=["message"]`).
fn get_string_list(p: &Map<String, Value>, k: &str) -> Option<Result<Vec<String>, ()>> {
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

fn handler(inner: Arc<Inner>) -> switchboard_core::testkit::Handler {
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

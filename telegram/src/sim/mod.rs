//! A Telegram Bot API simulator (feature `sim`), wire-compatible enough that Bot API libraries can
//! be pointed at it as a "local Bot API server" (`https://api.telegram.org` replaced by its URI).
//!
//! What it models, following the Bot API reference (<https://core.telegram.org/bots/api>):
//!
//! * `/bot<token>/<method>` (module `api`), methods case-insensitive, parameters from the query string, a form or a
//!   JSON body; a wrong token is 401 `Unauthorized`, a malformed one or an unknown method 404
//!   `Not Found`; every answer is the `{ok, result[, description]}` / `{ok:false, error_code,
//!   description[, parameters]}` envelope.
//! * `getMe`; `sendMessage` with `parse_mode` HTML / MarkdownV2 / Markdown parsed as
//!   [`text`](crate::text) does ("can't parse entities: …"), the 4096-UTF-16-unit limit after parsing
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
//!   [`Simulated::advance`] tries again. `getUpdates` while a webhook is set is 409.
//! * `setWebhook` (HTTPS on ports 443, 80, 88, 8443; `secret_token` of 1–256 `A-Z a-z 0-9 _ -`;
//!   `max_connections` 1–100; `allowed_updates`; `drop_pending_updates`), `deleteWebhook`,
//!   `getWebhookInfo`.
//!
//! Deliberate differences: plain `http://` webhooks are accepted on loopback hosts (so tests need no
//! TLS), `getUpdates` answers at once instead of holding the long poll, and flood limits are not
//! enforced by counting (queue a [`SimError::flood`] instead) — so [`Simulated::dsn`] turns the
//! client's own limiter off. Texts of errors Telegram does not publish follow the usual Bot API
//! wording.
//!
//! Driven like every simulator through [`Simulated`]: [`Simulated::sent`] (what the bot sent; the
//! whole record of one chat's with [`Simulator::sent_to`]), [`Simulated::fail_next`],
//! [`Simulated::advance`] (redeliver pending updates), [`Simulated::pushed`] (every webhook request
//! made), and [`Simulated::trigger`] with `"inbound"` (a user writes to the bot) or `"command"` (a
//! user sends `/start`), pushed to any URL with the secret token [`Simulated::dsn`] configures.
//!
//! Files: `state` (chats, messages, updates, the webhook), `api` (routes, the token check, envelopes),
//! `send` (`sendMessage`), `webhooks` (`setWebhook`, `getWebhookInfo`, `getUpdates`), `push` (updates
//! and their delivery).

// Handlers return the HTTP answer itself as their error; its size does not matter here.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Fault, Faults, SimServer};
use switchboard_core::{Error, Recipient, Result, WebhookRequest};

use self::state::{HookTarget, Inner, SimChat, enqueue, new_inner};
use crate::SCHEME;
use crate::config::TelegramConfig;

mod api;
mod push;
mod send;
mod state;
mod webhooks;

pub use state::{SimError, SimSent};

/// The simulated bot's token.
pub const SIM_TOKEN: &str = "7000000001:AAHsim0switchboard0simulator0tokenXYZ";
/// The simulated bot's username.
pub const SIM_BOT_USERNAME: &str = "SwitchboardSimBot";
/// The bot's user id (the token's number).
pub const SIM_BOT_ID: i64 = 7_000_000_001;
/// A private chat that exists from the start (the user "Ana" started the bot).
pub const SIM_CHAT_ID: i64 = 100_200_300;
/// The webhook secret [`Simulated::dsn`] configures.
pub const SIM_WEBHOOK_SECRET: &str = "sim-webhook-secret_0123456789";
/// The member who writes in simulated groups.
pub const SIM_GROUP_MEMBER_ID: i64 = 555_000_111;

/// What [`Simulated::trigger`] pushes.
const TRIGGERS: &[&str] = &["inbound", "command"];

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
        let server = SimServer::start(api::handler(inner.clone())).await;
        Simulator { server, inner }
    }

    /// Starts with `options`: on [`SimOptions::port`] when given (a port that cannot be had is a
    /// `Config` error), and with [`SimOptions::webhook_url`] set as the bot's webhook (with
    /// [`SIM_WEBHOOK_SECRET`]), as if the bot had called `setWebhook`.
    pub async fn start_with(options: SimOptions) -> Result<Simulator> {
        let inner = new_inner();
        let handler = api::handler(inner.clone());
        let server = match options.port {
            None => SimServer::start(handler).await,
            Some(port) => SimServer::start_on_port(port, handler).await.map_err(|e| {
                Error::config(format!("the Telegram simulator cannot listen on 127.0.0.1:{port}: {e}"))
                    .with_provider(SCHEME)
            })?,
        };
        if let Some(url) = options.webhook_url {
            inner.lock().webhook = Some(HookTarget {
                url,
                secret: Some(SIM_WEBHOOK_SECRET.to_owned()),
                max_connections: 40,
                allowed_updates: None,
            });
        }
        Ok(Simulator { server, inner })
    }

    /// A client config for the simulator: its token, webhook secret and default chat, no retries and
    /// no rate limits (tests see every answer at once).
    pub fn config(&self) -> TelegramConfig {
        #[allow(clippy::expect_used)]
        TelegramConfig::builder(SIM_TOKEN)
            .base_url(self.uri())
            .default_chat_id(SIM_CHAT_ID)
            .webhook_secret(SIM_WEBHOOK_SECRET)
            .rate_limits(None)
            .retry(switchboard_core::RetryPolicy::never())
            .build()
            .expect("the simulator's config is valid")
    }

    /// Every request received, faulted ones included (empty for a simulator started on a chosen
    /// port). The bot token is in each request's path.
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
            let message = push::user_message(&mut s, chat_id, text);
            enqueue(&mut s, json!({"message": message}))
        };
        push::deliver(&self.inner).await;
        id
    }

    /// Queues any update (its `update_id` is assigned) and delivers it like [`Simulator::user_sends`].
    pub async fn push_update(&self, mut update: Value) -> i64 {
        if let Some(o) = update.as_object_mut() {
            o.remove("update_id");
        }
        let id = enqueue(&mut self.inner.lock(), update);
        push::deliver(&self.inner).await;
        id
    }

    /// The messages the bot sent to one chat, whole: the text as read and as written, the parse
    /// mode, the entities and every parameter.
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

    /// The methods called, in order, as named in the path.
    pub fn calls(&self) -> Vec<String> {
        self.inner.lock().calls.clone()
    }
}

/// `telegram://TOKEN@host:port?…` with the simulator's chat, secret and bot name, and no client-side
/// flood limits (the simulator does not count them).
fn dsn_for(token: &str, host_port: &str) -> String {
    format!(
        "telegram://{token}@{host_port}?chat_id={SIM_CHAT_ID}&webhook_secret={SIM_WEBHOOK_SECRET}\
         &bot_username={SIM_BOT_USERNAME}&rate_limit=false"
    )
}

/// Starts Telegram simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "Telegram";
    type Error = switchboard_core::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, switchboard_core::Error> {
        Simulator::start_with(options).await
    }
}

#[switchboard_core::async_trait]
impl Simulated for Simulator {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// The base URL (in place of `https://api.telegram.org`).
    fn uri(&self) -> String {
        self.server.uri()
    }

    /// `telegram://TOKEN@127.0.0.1:PORT?chat_id=…&webhook_secret=…&bot_username=…&rate_limit=false`.
    fn dsn(&self) -> String {
        let a = self.server.address();
        dsn_for(SIM_TOKEN, &format!("{}:{}", a.ip(), a.port()))
    }

    /// The fault queue.
    fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// One record per message the bot sent: `chat_id:message_id` (the receipt's provider id), the
    /// chat, the text as the bot wrote it, `sent`.
    fn sent(&self) -> Vec<SimRecord> {
        self.inner
            .lock()
            .sent
            .iter()
            .map(|m| {
                SimRecord::new(
                    format!("{}:{}", m.chat_id, m.message_id),
                    m.chat_id.to_string(),
                    m.raw_text.clone(),
                    "sent",
                )
            })
            .collect()
    }

    /// Tries again to deliver the updates the webhook has not yet answered 2xx.
    async fn advance(&self) {
        push::deliver(&self.inner).await;
    }

    fn pushed(&self) -> Vec<WebhookRequest> {
        self.inner.lock().pushed.clone()
    }

    fn triggers(&self) -> &'static [&'static str] {
        TRIGGERS
    }

    /// Pushes one update to `url` with [`SIM_WEBHOOK_SECRET`] in the secret token header: for
    /// `"inbound"`, Ana writes to the bot in [`SIM_CHAT_ID`]; for `"command"`, she sends
    /// `/start sim`. The update is numbered like every other but not queued.
    async fn trigger(&self, event: &str, url: &str) -> Result<WebhookRequest> {
        let text = match event {
            "inbound" => "Hello from the Telegram simulator",
            "command" => "/start sim",
            other => {
                return Err(Error::unsupported(format!(
                    "the telegram simulator cannot push a '{other}' event; it knows: {}",
                    TRIGGERS.join(", ")
                ))
                .with_provider(SCHEME));
            }
        };
        let update = {
            let mut s = self.inner.lock();
            let message = push::user_message(&mut s, SIM_CHAT_ID, text);
            s.next_update_id += 1;
            json!({"update_id": s.next_update_id, "message": message})
        };
        let (request, _) = push::post(&self.inner, url, Some(SIM_WEBHOOK_SECRET), &update).await;
        Ok(request)
    }

    fn recipient(&self) -> Option<Recipient> {
        Some(Recipient::Chat(SIM_CHAT_ID.to_string()))
    }

    /// The DSN with the bot's id and a secret part the simulator does not know (401).
    fn dsn_with_bad_credentials(&self) -> Option<String> {
        let a = self.server.address();
        Some(dsn_for(
            "7000000001:AAHnot0the0right0token0at0all0XYZ",
            &format!("{}:{}", a.ip(), a.port()),
        ))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        let url = url::Url::parse(base_url).ok()?;
        Some(dsn_for(
            SIM_TOKEN,
            &format!("{}:{}", url.host_str()?, url.port_or_known_default()?),
        ))
    }

    /// Flood control as the Bot API answers it: 429 with `parameters.retry_after` in the envelope.
    fn rate_limit_fault(&self, retry_after_secs: u64) -> Option<Fault> {
        let body = api::error_body(&SimError::flood(retry_after_secs));
        Some(Fault::StatusJson(429, body.to_string()))
    }
}

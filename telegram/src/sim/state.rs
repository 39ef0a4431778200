//! The simulated Bot API's state: chats, what the bot sent, pending updates, the webhook, what was
//! pushed, and the errors queued for the next calls.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};
use switchboard_core::WebhookRequest;

use super::{SIM_BOT_ID, SIM_BOT_USERNAME, SIM_CHAT_ID};
use crate::text::{ParseMode, ParsedEntity};

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

/// A chat the bot is in.
pub(super) struct SimChat {
    pub(super) chat: Value,
    pub(super) blocked: bool,
    pub(super) migrated_to: Option<i64>,
}

/// The webhook `setWebhook` set.
pub(super) struct HookTarget {
    pub(super) url: String,
    pub(super) secret: Option<String>,
    pub(super) max_connections: u32,
    pub(super) allowed_updates: Option<Vec<String>>,
}

/// Everything the simulated Bot API knows.
pub(super) struct State {
    pub(super) bot: Value,
    pub(super) chats: BTreeMap<i64, SimChat>,
    pub(super) usernames: HashMap<String, i64>,
    pub(super) next_message_id: HashMap<i64, i64>,
    pub(super) sent: Vec<SimSent>,
    pub(super) pending: VecDeque<Value>,
    pub(super) next_update_id: i64,
    pub(super) webhook: Option<HookTarget>,
    pub(super) last_error: Option<(i64, String)>,
    pub(super) pushed: Vec<WebhookRequest>,
    pub(super) errors: VecDeque<SimError>,
    pub(super) calls: Vec<String>,
}

impl State {
    /// The next message id in `chat`.
    pub(super) fn next_message_id(&mut self, chat: i64) -> i64 {
        let n = self.next_message_id.entry(chat).or_insert(0);
        *n += 1;
        *n
    }
}

/// The state behind the server's handler and the simulator's drivers.
pub(super) struct Inner {
    pub(super) state: Mutex<State>,
    pub(super) http: reqwest::Client,
}

impl Inner {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Unix seconds.
pub(super) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Queues an update (numbering it) for `getUpdates` or the webhook, unless the webhook's
/// `allowed_updates` leaves its kind out. Answers its id.
pub(super) fn enqueue(s: &mut State, mut update: Value) -> i64 {
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

/// The kind of an update: its field other than `update_id`.
pub(super) fn update_kind(u: &Value) -> String {
    u.as_object()
        .and_then(|o| o.keys().find(|k| *k != "update_id").cloned())
        .unwrap_or_default()
}

/// A bot with one private chat (Ana's) and nothing sent.
pub(super) fn new_inner() -> Arc<Inner> {
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
            pushed: Vec::new(),
            errors: VecDeque::new(),
            calls: Vec::new(),
        }),
        http: switchboard_core::http::HttpOptions::default()
            .timeout(std::time::Duration::from_secs(10))
            .build_client()
            .unwrap_or_default(),
    })
}

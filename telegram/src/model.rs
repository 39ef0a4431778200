//! Bot API wire types: the `{ok, result}` envelope, `Update`, `Message`, `User`, `Chat`,
//! `MessageEntity`, `WebhookInfo`, and the parameters of the methods this crate calls. Every type keeps
//! what it does not name in `extra`, so fields Telegram adds (it adds some every Bot API release) are
//! neither lost nor impossible to send.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::text::ParseMode;

type Extra = Map<String, Value>;

/// The envelope of every answer: `{"ok":true,"result":…}` or
/// `{"ok":false,"error_code":400,"description":"…","parameters":{…}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApiResponse<T> {
    /// Whether the call succeeded.
    pub ok: bool,
    /// The result, on success.
    #[serde(default = "none")]
    pub result: Option<T>,
    /// Optional human text (also on success, e.g. "Webhook was set").
    #[serde(default)]
    pub description: Option<String>,
    /// The error code, on failure ("subject to change", says Telegram).
    #[serde(default)]
    pub error_code: Option<i64>,
    /// Why and how to recover, on some failures.
    #[serde(default)]
    pub parameters: Option<ResponseParameters>,
}

fn none<T>() -> Option<T> {
    None
}

/// `ResponseParameters`: how to recover from an error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseParameters {
    /// The group became a supergroup with this id; send there instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate_to_chat_id: Option<i64>,
    /// Flood control: seconds to wait before the request may be repeated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A chat to send to: a numeric id (negative for groups and channels) or a channel's `@username`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ChatId {
    /// The numeric id.
    Id(i64),
    /// `@channelusername`.
    Username(String),
}

impl ChatId {
    /// Parses `123`, `-100123` or `@channel`.
    pub fn parse(s: &str) -> Option<ChatId> {
        let s = s.trim();
        if let Ok(n) = s.parse::<i64>() {
            return Some(ChatId::Id(n));
        }
        let name = s.strip_prefix('@')?;
        (!name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            .then(|| ChatId::Username(s.to_owned()))
    }

    /// Whether this is a group, supergroup or channel (negative ids, `@usernames`), which Telegram
    /// limits to 20 messages a minute.
    pub fn is_group_or_channel(&self) -> bool {
        match self {
            ChatId::Id(n) => *n < 0,
            ChatId::Username(_) => true,
        }
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatId::Id(n) => write!(f, "{n}"),
            ChatId::Username(u) => f.write_str(u),
        }
    }
}

/// Debug shows only the start of a chat id: private chat ids are user ids.
impl fmt::Debug for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.to_string();
        let keep = s.len().min(4);
        write!(f, "ChatId({}{})", &s[..keep], "*".repeat(s.len() - keep))
    }
}

impl From<i64> for ChatId {
    fn from(n: i64) -> Self {
        ChatId::Id(n)
    }
}

/// One incoming update. Exactly one of the optional parts is present; those this crate does not
/// name (`callback_query`, `my_chat_member`, `message_reaction`…) are in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Update {
    /// The update's id; acknowledge with `offset = update_id + 1`.
    pub update_id: i64,
    /// A new message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<TgMessage>,
    /// A message was edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_message: Option<TgMessage>,
    /// A new channel post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_post: Option<TgMessage>,
    /// A channel post was edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_channel_post: Option<TgMessage>,
    /// The other kinds of update.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Update {
    /// The update's kind, as its field is named (`message`, `callback_query`…).
    pub fn kind(&self) -> &str {
        if self.message.is_some() {
            "message"
        } else if self.edited_message.is_some() {
            "edited_message"
        } else if self.channel_post.is_some() {
            "channel_post"
        } else if self.edited_channel_post.is_some() {
            "edited_channel_post"
        } else {
            self.extra.keys().next().map_or("unknown", String::as_str)
        }
    }

    /// The new message or channel post, if this update is one.
    pub fn new_message(&self) -> Option<&TgMessage> {
        self.message.as_ref().or(self.channel_post.as_ref())
    }
}

/// A Telegram message (named `TgMessage` so it does not clash with switchboard's `Message`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TgMessage {
    /// Unique within the chat.
    pub message_id: i64,
    /// The sender (absent in channels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<User>,
    /// The chat it belongs to.
    pub chat: Chat,
    /// Unix time it was sent.
    #[serde(default)]
    pub date: i64,
    /// The text, for text messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Entities in the text (commands, links, formatting), UTF-16 offsets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<MessageEntity>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Debug leaves the text out (private correspondence).
impl fmt::Debug for TgMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TgMessage")
            .field("message_id", &self.message_id)
            .field("chat", &self.chat)
            .field("date", &self.date)
            .field("text_chars", &self.text.as_ref().map(|t| t.chars().count()))
            .finish_non_exhaustive()
    }
}

/// A user or bot.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The user's id.
    pub id: i64,
    /// Whether it is a bot.
    #[serde(default)]
    pub is_bot: bool,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `@username` without the `@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// IETF language tag of the user's client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("is_bot", &self.is_bot)
            .field("username", &self.is_bot.then_some(&self.username))
            .finish_non_exhaustive()
    }
}

/// A chat.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Chat {
    /// The chat's id.
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Title of groups and channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Username of private chats and public channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// First name of the other party in a private chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for Chat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chat")
            .field("id", &ChatId::Id(self.id))
            .field("type", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A special part of a text: a command, a link, formatting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageEntity {
    /// `bot_command`, `mention`, `url`, `bold`…
    #[serde(rename = "type")]
    pub kind: String,
    /// Start, in UTF-16 code units.
    pub offset: usize,
    /// Length, in UTF-16 code units.
    pub length: usize,
    /// Fields not named above (`url`, `user`, `language`, `custom_emoji_id`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `sendMessage` parameters.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendMessage {
    /// Where to send.
    pub chat_id: ChatId,
    /// The text, 1 to 4096 characters after entity parsing.
    pub text: String,
    /// How to read formatting in `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<ParseMode>,
    /// Explicit entities instead of a parse mode.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<MessageEntity>,
    /// Deliver silently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_notification: Option<bool>,
    /// Forbid forwarding and saving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protect_content: Option<bool>,
    /// A forum topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_thread_id: Option<i64>,
    /// `{"is_disabled": true}` and friends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_preview_options: Option<Value>,
    /// What this message replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<Value>,
    /// An inline or reply keyboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<Value>,
    /// Fields not named above (`business_connection_id`, `message_effect_id`…).
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for SendMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendMessage")
            .field("chat_id", &self.chat_id)
            .field("text_chars", &self.text.chars().count())
            .field("parse_mode", &self.parse_mode)
            .finish_non_exhaustive()
    }
}

impl SendMessage {
    /// A plain-text message.
    pub fn new(chat_id: impl Into<ChatId>, text: impl Into<String>) -> Self {
        SendMessage {
            chat_id: chat_id.into(),
            text: text.into(),
            parse_mode: None,
            entities: Vec::new(),
            disable_notification: None,
            protect_content: None,
            message_thread_id: None,
            link_preview_options: None,
            reply_parameters: None,
            reply_markup: None,
            extra: Extra::new(),
        }
    }

    /// Sets the parse mode.
    pub fn parse_mode(mut self, mode: ParseMode) -> Self {
        self.parse_mode = Some(mode);
        self
    }

    /// Delivers without a sound.
    pub fn silent(mut self) -> Self {
        self.disable_notification = Some(true);
        self
    }

    /// Sets the reply markup (keyboard) as raw JSON.
    pub fn reply_markup(mut self, markup: Value) -> Self {
        self.reply_markup = Some(markup);
        self
    }
}

/// `setWebhook` parameters.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SetWebhook {
    /// The HTTPS URL (ports 443, 80, 88 or 8443); empty removes the webhook.
    pub url: String,
    /// The static secret Telegram sends back in `X-Telegram-Bot-Api-Secret-Token`.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "expose_opt")]
    pub secret_token: Option<switchboard_core::SecretString>,
    /// 1 to 100 simultaneous connections (default 40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Which update kinds to receive; `None` keeps the previous setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_updates: Option<Vec<String>>,
    /// Drop updates waiting for delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_pending_updates: Option<bool>,
    /// A fixed IP to send to instead of resolving the URL's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

fn expose_opt<S: serde::Serializer>(v: &Option<switchboard_core::SecretString>, s: S) -> Result<S::Ok, S::Error> {
    use switchboard_core::ExposeSecret;
    match v {
        Some(v) => s.serialize_str(v.expose_secret()),
        None => s.serialize_none(),
    }
}

impl fmt::Debug for SetWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetWebhook")
            .field("url", &switchboard_core::secret::redact_url(&self.url))
            .field("secret_token", &self.secret_token.as_ref().map(|_| "***"))
            .field("max_connections", &self.max_connections)
            .field("allowed_updates", &self.allowed_updates)
            .field("drop_pending_updates", &self.drop_pending_updates)
            .finish_non_exhaustive()
    }
}

impl SetWebhook {
    /// A webhook to `url` with a secret token.
    pub fn new(url: impl Into<String>, secret_token: switchboard_core::SecretString) -> Self {
        SetWebhook {
            url: url.into(),
            secret_token: Some(secret_token),
            max_connections: None,
            allowed_updates: None,
            drop_pending_updates: None,
            ip_address: None,
            extra: Extra::new(),
        }
    }

    /// Sets the update kinds to receive.
    pub fn allowed_updates<I: IntoIterator<Item = S>, S: Into<String>>(mut self, kinds: I) -> Self {
        self.allowed_updates = Some(kinds.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the connection limit.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// Drops the updates waiting for delivery.
    pub fn drop_pending_updates(mut self) -> Self {
        self.drop_pending_updates = Some(true);
        self
    }
}

/// `getWebhookInfo`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookInfo {
    /// The URL; empty when no webhook is set.
    #[serde(default)]
    pub url: String,
    /// Whether a self-signed certificate was uploaded.
    #[serde(default)]
    pub has_custom_certificate: bool,
    /// Updates waiting for delivery.
    #[serde(default)]
    pub pending_update_count: u64,
    /// The IP Telegram sends to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Unix time of the last delivery error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_date: Option<i64>,
    /// The last delivery error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_message: Option<String>,
    /// Unix time of the last error syncing with Telegram's datacentres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synchronization_error_date: Option<i64>,
    /// The connection limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// The update kinds subscribed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_updates: Option<Vec<String>>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `getUpdates` parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetUpdates {
    /// The first update to return; everything before it is acknowledged and forgotten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// 1 to 100 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u8>,
    /// Long-poll seconds (0 = answer at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Which update kinds to receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_updates: Option<Vec<String>>,
}

/// `deleteWebhook` parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeleteWebhook {
    /// Drop updates waiting for delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_pending_updates: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_reference_update_decodes_and_round_trips() {
        let wire = json!({"update_id":537836436,
            "message":{"message_id":1,
              "from":{"id":900069535,"is_bot":false,"first_name":"Zein","username":"zein","language_code":"en"},
              "chat":{"id":900069535,"first_name":"Zein","username":"zein","type":"private"},
              "date":1675648613,"text":"/start",
              "entities":[{"offset":0,"length":6,"type":"bot_command"}],
              "via_bot_future_field": true}});
        let u: Update = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(u.kind(), "message");
        let m = u.new_message().unwrap();
        assert_eq!((m.chat.id, m.chat.kind.as_str()), (900069535, "private"));
        assert_eq!(m.entities[0].kind, "bot_command");
        assert_eq!(serde_json::to_value(&u).unwrap(), wire);
        let d = format!("{u:?}");
        assert!(
            !d.contains("900069535") && !d.contains("Zein") && !d.contains("/start"),
            "{d}"
        );
    }

    #[test]
    fn unknown_update_kinds_are_kept() {
        let u: Update =
            serde_json::from_value(json!({"update_id":1,"callback_query":{"id":"x","data":"buy"}})).unwrap();
        assert_eq!(u.kind(), "callback_query");
        assert_eq!(u.extra["callback_query"]["data"], "buy");
    }

    #[test]
    fn chat_ids() {
        assert_eq!(ChatId::parse("-100123"), Some(ChatId::Id(-100123)));
        assert_eq!(
            ChatId::parse("@news_channel"),
            Some(ChatId::Username("@news_channel".into()))
        );
        assert_eq!(ChatId::parse("news"), None);
        assert_eq!(ChatId::parse("@bad name"), None);
        assert!(ChatId::Id(-5).is_group_or_channel() && !ChatId::Id(5).is_group_or_channel());
        assert_eq!(serde_json::to_value(ChatId::Id(5)).unwrap(), json!(5));
        assert!(!format!("{:?}", ChatId::Id(900069535)).contains("900069535"));
    }

    #[test]
    fn envelopes() {
        let ok: ApiResponse<bool> =
            serde_json::from_value(json!({"ok":true,"result":true,"description":"Webhook was set"})).unwrap();
        assert_eq!(ok.result, Some(true));
        let err: ApiResponse<Value> = serde_json::from_value(
            json!({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}),
        )
        .unwrap();
        assert_eq!(err.parameters.unwrap().retry_after, Some(35));
    }

    #[test]
    fn set_webhook_serialises_the_secret_but_never_debugs_it() {
        let s = SetWebhook::new(
            "https://h.example/hook?k=1",
            switchboard_core::SecretString::from("s3cr3t_T0ken"),
        );
        assert_eq!(serde_json::to_value(&s).unwrap()["secret_token"], "s3cr3t_T0ken");
        assert!(!format!("{s:?}").contains("s3cr3t"));
    }
}

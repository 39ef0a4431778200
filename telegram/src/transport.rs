//! [`TelegramTransport`]: a Telegram bot as a switchboard [`Transport`].
//!
//! * `Recipient::Chat(id)` is a numeric chat id or `@channel`; an empty id means the configured
//!   default chat. A message with an `html` part is sent as HTML (Telegram's subset); otherwise the
//!   text goes with the configured parse mode. Subjects and attachments do not apply.
//! * The provider id is `chat_id:message_id` (message ids are unique only within a chat).
//! * Webhooks ([`TelegramWebhook`]): verified by the secret token, decoded, commands routed to the
//!   [`CommandRouter`] if one is set, and returned as events (`Event::Inbound` for new text messages)
//!   with the answer Telegram expects (200, empty).
//!   A failing command handler is logged and does not fail the webhook, so Telegram does not
//!   redeliver the update and run every other handler again; handlers own their errors.

use async_trait::async_trait;
use switchboard_core::{
    Capabilities, Dsn, Error, Handled, Message, Receipt, Recipient, Result, Transport, Webhook, WebhookRequest,
};
use tokio::sync::OnceCell;

use crate::SCHEME;
use crate::client::TelegramClient;
use crate::commands::{Command, CommandRouter, Routed};
use crate::config::TelegramConfig;
use crate::model::{ChatId, SendMessage};
use crate::text::ParseMode;
use crate::webhook::TelegramWebhook;

/// A Telegram bot as a message transport. Build it from a [`TelegramConfig`] or a DSN
/// (`telegram://TOKEN@default?chat_id=…&webhook_secret=…`).
#[derive(Debug)]
pub struct TelegramTransport {
    client: TelegramClient,
    webhook: TelegramWebhook,
    commands: Option<CommandRouter>,
    username: OnceCell<Option<String>>,
}

impl TelegramTransport {
    /// A transport for this configuration.
    pub fn new(config: TelegramConfig) -> Result<Self> {
        Ok(TelegramTransport {
            webhook: TelegramWebhook::from_config(&config),
            client: TelegramClient::new(config)?,
            commands: None,
            username: OnceCell::new(),
        })
    }

    /// A transport from a `telegram://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<Self> {
        Self::new(TelegramConfig::from_dsn(dsn)?)
    }

    /// A transport from a DSN string.
    pub fn from_dsn_str(dsn: &str) -> Result<Self> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }

    /// Routes commands in webhook updates to these handlers.
    pub fn with_commands(mut self, router: CommandRouter) -> Self {
        self.commands = Some(router);
        self
    }

    /// The Bot API client (webhook set-up, polling, any other method).
    pub fn client(&self) -> &TelegramClient {
        &self.client
    }

    /// The webhook: its secret check and decoding, without command routing.
    pub fn webhook(&self) -> &TelegramWebhook {
        &self.webhook
    }

    /// The bot's username: the configured one, or `getMe`'s, asked once. `None` if neither is known
    /// (then only commands without `@name` are routed).
    pub async fn bot_username(&self) -> Option<String> {
        self.username
            .get_or_init(|| async {
                if let Some(u) = &self.client.config().bot_username {
                    return Some(u.clone());
                }
                match self.client.get_me().await {
                    Ok(me) => me.username,
                    Err(e) => {
                        tracing::warn!(provider = SCHEME, error = %e, "could not learn the bot's username");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// The `sendMessage` a switchboard message becomes.
    pub fn request_for(&self, message: &Message) -> Result<SendMessage> {
        let Recipient::Chat(chat) = &message.to else {
            return Err(
                Error::invalid_input(format!("a Telegram bot sends to chats, not to a {}", message.to.kind()))
                    .with_provider(SCHEME),
            );
        };
        let chat_id = if chat.trim().is_empty() {
            self.client.config().default_chat_id.clone().ok_or_else(|| {
                Error::invalid_input("the message has no chat id and no default chat_id is configured")
                    .with_provider(SCHEME)
            })?
        } else {
            ChatId::parse(chat).ok_or_else(|| {
                Error::invalid_input("a Telegram chat id is a number or @channelname").with_provider(SCHEME)
            })?
        };
        Ok(match &message.html {
            Some(html) => SendMessage::new(chat_id, html.clone()).parse_mode(ParseMode::Html),
            None => {
                let m = SendMessage::new(chat_id, message.text.clone());
                match self.client.config().parse_mode {
                    Some(mode) => m.parse_mode(mode),
                    None => m,
                }
            }
        })
    }
}

#[async_trait]
impl Transport for TelegramTransport {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::none().with_chat().with_inbound()
    }

    async fn send(&self, message: &Message) -> Result<Receipt> {
        let request = self.request_for(message)?;
        let sent = self.client.send_message(&request).await?;
        let raw = serde_json::to_value(&sent).unwrap_or_default();
        Ok(Receipt::new(SCHEME, message, format!("{}:{}", sent.chat.id, sent.message_id)).with_raw(raw))
    }

    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<Handled> {
        let update = self.webhook.verified_update(request)?;
        if let Some(router) = &self.commands {
            // The username matters only for `/cmd@name`; do not ask getMe for anything else.
            let mentioned = update
                .new_message()
                .and_then(Command::from_message)
                .is_some_and(|c| c.mention.is_some());
            let name = if mentioned { self.bot_username().await } else { None };
            match router.dispatch(&update, name.as_deref()).await {
                Ok(Routed::Handled(cmd)) => tracing::debug!(provider = SCHEME, command = %cmd, "command handled"),
                Ok(_) => {}
                Err(e) => tracing::warn!(provider = SCHEME, error = %e, "a command handler failed"),
            }
        }
        Ok(Handled::new(TelegramWebhook::events(&update), self.webhook.answer()))
    }
}

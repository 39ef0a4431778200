//! Bot commands: `/start`, `/start@BotName`, deep links (`/start PAYLOAD`), and a router that hands
//! each to its handler.
//!
//! A command is addressed to this bot when it carries no `@name` (private chats, groups with one bot)
//! or carries this bot's username (compared case-insensitively, as Telegram usernames are). A
//! command for another bot in the same group is ignored, never run.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use switchboard_core::Result;

use crate::model::{TgMessage, Update, User};

/// The longest command name Telegram allows.
pub const MAX_COMMAND_LEN: usize = 32;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Command {
    /// The name without `/`, lower-cased (`start`).
    pub name: String,
    /// The bot named after `@`, if any.
    pub mention: Option<String>,
    /// Everything after the command and the first whitespace.
    pub args: String,
}

impl Command {
    /// Parses a message text that starts with a command. `None` for anything else.
    pub fn parse(text: &str) -> Option<Command> {
        let rest = text.strip_prefix('/')?;
        let (head, args) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim()),
            None => (rest, ""),
        };
        let (name, mention) = match head.split_once('@') {
            Some((n, m)) => (n, Some(m)),
            None => (head, None),
        };
        let valid_name = !name.is_empty()
            && name.len() <= MAX_COMMAND_LEN
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let valid_mention =
            mention.is_none_or(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        (valid_name && valid_mention).then(|| Command {
            name: name.to_ascii_lowercase(),
            mention: mention.map(str::to_owned),
            args: args.to_owned(),
        })
    }

    /// Parses the command of a message: its text must start with one, and when Telegram marked the
    /// entities, a `bot_command` entity must sit at offset 0 (so `/start` inside a code block or a
    /// forwarded quote is not a command).
    pub fn from_message(message: &TgMessage) -> Option<Command> {
        let text = message.text.as_deref()?;
        if !message.entities.is_empty()
            && !message
                .entities
                .iter()
                .any(|e| e.kind == "bot_command" && e.offset == 0)
        {
            return None;
        }
        Self::parse(text)
    }

    /// Whether the command is addressed to the bot called `bot_username` (`None`: the name is not
    /// known, so only commands without a mention are).
    pub fn is_for(&self, bot_username: Option<&str>) -> bool {
        match (&self.mention, bot_username) {
            (None, _) => true,
            (Some(m), Some(me)) => m.eq_ignore_ascii_case(me.trim_start_matches('@')),
            (Some(_), None) => false,
        }
    }

    /// The deep-link payload of `/start PAYLOAD` (`t.me/Bot?start=PAYLOAD`): up to 64 of
    /// `A-Z a-z 0-9 _ -`, as Telegram allows. `None` for other commands or a bad payload.
    pub fn deep_link_payload(&self) -> Option<&str> {
        let p = self.args.as_str();
        (self.name == "start"
            && (1..=64).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .then_some(p)
    }
}

/// What a command handler gets.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CommandContext {
    /// The command.
    pub command: Command,
    /// The update it came in.
    pub update_id: i64,
    /// The chat to answer in.
    pub chat_id: i64,
    /// Who sent it.
    pub from: Option<User>,
    /// The whole message.
    pub message: TgMessage,
}

/// The future a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

type Handler = Arc<dyn Fn(CommandContext) -> HandlerFuture + Send + Sync>;

/// What [`CommandRouter::dispatch`] did with an update.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Routed {
    /// The update is not a new message starting with a command.
    NotACommand,
    /// The command names another bot (`/start@OtherBot`).
    OtherBot,
    /// No handler (and no fallback) for this command.
    NoHandler(String),
    /// This handler ran.
    Handled(String),
}

/// Routes commands to async handlers.
///
/// ```
/// use switchboard_telegram::CommandRouter;
///
/// let router = CommandRouter::new()
///     .on("start", |ctx| async move {
///         match ctx.command.deep_link_payload() {
///             Some(payload) => println!("chat {} came from link {payload}", ctx.chat_id),
///             None => println!("chat {} started the bot", ctx.chat_id),
///         }
///         Ok(())
///     })
///     .on("help", |_ctx| async { Ok(()) });
/// assert!(router.handles("start"));
/// ```
#[derive(Clone, Default)]
pub struct CommandRouter {
    handlers: HashMap<String, Handler>,
    fallback: Option<Handler>,
}

impl std::fmt::Debug for CommandRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.handlers.keys().collect();
        names.sort();
        f.debug_struct("CommandRouter")
            .field("commands", &names)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

impl CommandRouter {
    /// A router with no handlers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `handler` for `/name` (case-insensitive, leading `/` optional).
    pub fn on<F, Fut>(mut self, name: &str, handler: F) -> Self
    where
        F: Fn(CommandContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let h: Handler = Arc::new(move |ctx| Box::pin(handler(ctx)));
        self.handlers
            .insert(name.trim_start_matches('/').to_ascii_lowercase(), h);
        self
    }

    /// Runs `handler` for commands no other handler takes.
    pub fn fallback<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(CommandContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.fallback = Some(Arc::new(move |ctx| Box::pin(handler(ctx))));
        self
    }

    /// Whether a handler is registered for `name`.
    pub fn handles(&self, name: &str) -> bool {
        self.handlers
            .contains_key(&name.trim_start_matches('/').to_ascii_lowercase())
    }

    /// Finds the handler for an update and runs it. `bot_username` is this bot's username, so that
    /// `/cmd@ThisBot` runs and `/cmd@OtherBot` does not. A handler's error is returned as it is.
    pub async fn dispatch(&self, update: &Update, bot_username: Option<&str>) -> Result<Routed> {
        let Some(message) = update.new_message() else {
            return Ok(Routed::NotACommand);
        };
        let Some(command) = Command::from_message(message) else {
            return Ok(Routed::NotACommand);
        };
        if !command.is_for(bot_username) {
            return Ok(Routed::OtherBot);
        }
        let Some(handler) = self.handlers.get(&command.name).or(self.fallback.as_ref()) else {
            return Ok(Routed::NoHandler(command.name));
        };
        let name = command.name.clone();
        let ctx = CommandContext {
            command,
            update_id: update.update_id,
            chat_id: message.chat.id,
            from: message.from.clone(),
            message: message.clone(),
        };
        handler(ctx).await?;
        Ok(Routed::Handled(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        let c = Command::parse("/start").unwrap();
        assert_eq!(
            (c.name.as_str(), c.mention.as_deref(), c.args.as_str()),
            ("start", None, "")
        );
        let c = Command::parse("/Start@ShopBot  ref_42 ").unwrap();
        assert_eq!(
            (c.name.as_str(), c.mention.as_deref(), c.args.as_str()),
            ("start", Some("ShopBot"), "ref_42")
        );
        assert_eq!(c.deep_link_payload(), Some("ref_42"));
        assert!(
            c.is_for(Some("shopbot")) && c.is_for(Some("@ShopBot")) && !c.is_for(Some("OtherBot")) && !c.is_for(None)
        );
        assert!(Command::parse("/help").unwrap().is_for(None));
        for bad in [
            "start",
            "/",
            "/@bot",
            "/a-b",
            "/x@",
            "/x@a.b c",
            &format!("/{}", "a".repeat(33)),
        ] {
            assert!(Command::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            Command::parse("/start a b").unwrap().deep_link_payload(),
            None,
            "spaces are not payload"
        );
        assert_eq!(Command::parse("/help x").unwrap().deep_link_payload(), None);
        assert_eq!(
            Command::parse(&format!("/start {}", "a".repeat(65)))
                .unwrap()
                .deep_link_payload(),
            None
        );
    }
}

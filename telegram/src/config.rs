//! How a Telegram bot client is configured.
//!
//! From a DSN ([`TelegramConfig::from_dsn`]):
//!
//! ```text
//! telegram://BOT_TOKEN@default?chat_id=-1001234567890
//!           [&webhook_secret=SECRET]        verifies X-Telegram-Bot-Api-Secret-Token (required for webhooks)
//!           [&parse_mode=HTML|MarkdownV2]   how transport sends' text is read (HTML parts are always HTML)
//!           [&bot_username=MyBot]           for /cmd@MyBot routing (otherwise asked with getMe)
//!           [&rate_limit=false]             turn off the built-in per-chat and global limits
//! telegram://BOT_TOKEN@127.0.0.1:8081?…     a simulator or a local Bot API server (http on loopback)
//! ```
//!
//! A bot token is `123456789:AA…`; the DSN parser reads the part before `:` as a user and the rest as
//! a password, and they are joined back here, so the token needs no escaping. The token travels in the
//! URL path (`/bot<token>/method`), so no URL is ever logged or put in an error.

use std::fmt;
use std::time::Duration;

use switchboard_core::http::HttpOptions;
use switchboard_core::secret::redact_url;
use switchboard_core::{Dsn, Error, ExposeSecret, Result, RetryPolicy, SecretString};

use crate::SCHEME;
use crate::model::ChatId;
use crate::text::ParseMode;

/// The Bot API's public host.
pub const BASE_URL: &str = "https://api.telegram.org";

/// Telegram's flood limits, applied before sending (Bots FAQ, <https://core.telegram.org/bots/faq>,
/// "My bot is hitting limits, how do I avoid this?"). The real limits are
/// unpublished and move; these are the documented guidance, and what teloxide's `Throttle` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Messages a second across all chats ("not more than about 30").
    pub global_per_second: u32,
    /// Time between two messages to one chat ("avoid more than one message per second").
    pub per_chat_interval: Duration,
    /// Messages a minute to one group or channel ("at most 20").
    pub per_group_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            global_per_second: 30,
            per_chat_interval: Duration::from_secs(1),
            per_group_per_minute: 20,
        }
    }
}

impl RateLimits {
    /// Sets the per-chat interval.
    pub fn per_chat_interval(mut self, d: Duration) -> Self {
        self.per_chat_interval = d;
        self
    }

    /// Sets the global rate.
    pub fn global_per_second(mut self, n: u32) -> Self {
        self.global_per_second = n;
        self
    }

    /// Sets the per-group rate.
    pub fn per_group_per_minute(mut self, n: u32) -> Self {
        self.per_group_per_minute = n;
        self
    }
}

/// A bot client's configuration. `Debug` never shows the token or the webhook secret.
#[derive(Clone)]
#[non_exhaustive]
pub struct TelegramConfig {
    /// The bot token from @BotFather.
    pub token: SecretString,
    /// The Bot API's base URL.
    pub base_url: String,
    /// The chat a transport message goes to when its recipient is an empty chat id.
    pub default_chat_id: Option<ChatId>,
    /// How transport sends' plain text is read.
    pub parse_mode: Option<ParseMode>,
    /// The `secret_token` given to `setWebhook`; webhooks are refused without it.
    pub webhook_secret: Option<SecretString>,
    /// The bot's `@username` (without `@`), for routing `/cmd@BotName`.
    pub bot_username: Option<String>,
    /// Flood limits applied before `sendMessage`; `None` turns them off.
    pub rate_limits: Option<RateLimits>,
    /// HTTP behaviour.
    pub http: HttpOptions,
    /// Retry policy: `sendMessage` is repeated only when Telegram certainly did not take it
    /// (429 flood wait, connection refused), after the `retry_after` it gave.
    pub retry: RetryPolicy,
}

impl fmt::Debug for TelegramConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelegramConfig")
            .field("token", &format!("{}:***", bot_id(&self.token)))
            .field("base_url", &redact_url(&self.base_url))
            .field("default_chat_id", &self.default_chat_id)
            .field("parse_mode", &self.parse_mode)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "***"))
            .field("bot_username", &self.bot_username)
            .field("rate_limits", &self.rate_limits)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .finish()
    }
}

/// The bot id, the public part of a token before `:`.
pub(crate) fn bot_id(token: &SecretString) -> String {
    token
        .expose_secret()
        .split(':')
        .next()
        .unwrap_or("")
        .chars()
        .take(12)
        .collect()
}

/// Whether `s` is a valid `setWebhook` `secret_token`: 1 to 256 of `A-Z a-z 0-9 _ -`.
pub fn is_valid_secret_token(s: &str) -> bool {
    (1..=256).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl TelegramConfig {
    /// A builder for this bot token.
    pub fn builder(token: impl Into<String>) -> TelegramConfigBuilder {
        TelegramConfigBuilder {
            config: TelegramConfig {
                token: SecretString::from(token.into()),
                base_url: BASE_URL.to_owned(),
                default_chat_id: None,
                parse_mode: None,
                webhook_secret: None,
                bot_username: None,
                rate_limits: Some(RateLimits::default()),
                http: HttpOptions::default(),
                retry: RetryPolicy::default(),
            },
        }
    }

    /// Reads a `telegram://` DSN (see the [module docs](self)). Errors never show the token.
    pub fn from_dsn(dsn: &Dsn) -> Result<TelegramConfig> {
        if dsn.scheme() != SCHEME {
            return Err(Error::config(format!(
                "a Telegram DSN starts with telegram://, not {}://",
                dsn.scheme()
            )));
        }
        let id = dsn.require_user("the bot token (123456:ABC…)")?;
        let rest = dsn.require_password("the bot token's secret part (after the ':')")?;
        let mut b = TelegramConfig::builder(format!("{id}:{}", rest.expose_secret()));
        if !dsn.is_default_host() {
            b = b.base_url(dsn.endpoint_or(BASE_URL)?);
        }
        if let Some(c) = dsn.option("chat_id").filter(|c| !c.is_empty()) {
            let chat = ChatId::parse(c)
                .ok_or_else(|| Error::config("the Telegram DSN's chat_id must be a number or @channelname"))?;
            b = b.default_chat_id(chat);
        }
        if let Some(s) = dsn.option("webhook_secret").filter(|s| !s.is_empty()) {
            b = b.webhook_secret(s);
        }
        if let Some(p) = dsn.option("parse_mode").filter(|p| !p.is_empty()) {
            let mode = ParseMode::parse(p)
                .ok_or_else(|| Error::config("the Telegram DSN's parse_mode must be HTML, MarkdownV2 or Markdown"))?;
            b = b.parse_mode(mode);
        }
        if let Some(u) = dsn.option("bot_username").filter(|u| !u.is_empty()) {
            b = b.bot_username(u);
        }
        if !dsn.option_bool("rate_limit", true)? {
            b = b.rate_limits(None);
        }
        b.build()
    }

    /// Checks what a builder may have got wrong.
    pub fn validate(&self) -> Result<()> {
        let t = self.token.expose_secret();
        let valid = match t.split_once(':') {
            Some((id, secret)) => {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && !secret.is_empty()
                    && secret
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
            None => false,
        };
        if !valid {
            return Err(
                Error::config("the Telegram bot token must look like 123456789:AA… (digits, ':', letters)")
                    .with_provider(SCHEME),
            );
        }
        let base = url::Url::parse(&self.base_url)
            .map_err(|_| Error::config("the Telegram base URL is not a URL").with_provider(SCHEME))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::config("the Telegram base URL must be http or https").with_provider(SCHEME));
        }
        if let Some(s) = &self.webhook_secret
            && !is_valid_secret_token(s.expose_secret())
        {
            return Err(Error::config(
                "the Telegram webhook secret must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -",
            )
            .with_provider(SCHEME));
        }
        if let Some(u) = &self.bot_username
            && (u.is_empty() || !u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(
                Error::config("the bot username must be letters, digits and _ (without '@')").with_provider(SCHEME),
            );
        }
        if let Some(r) = &self.rate_limits
            && (r.global_per_second == 0 || r.per_group_per_minute == 0 || r.per_chat_interval.is_zero())
        {
            return Err(
                Error::config("Telegram rate limits must be above zero (use None to turn them off)")
                    .with_provider(SCHEME),
            );
        }
        Ok(())
    }

    /// `{base}/bot{token}/{method}`. This URL holds the token: it must never be logged or shown.
    pub(crate) fn method_url(&self, method: &str) -> String {
        format!(
            "{}/bot{}/{method}",
            self.base_url.trim_end_matches('/'),
            self.token.expose_secret()
        )
    }
}

/// Builds a [`TelegramConfig`]: the only way to make one.
#[derive(Debug, Clone)]
pub struct TelegramConfigBuilder {
    config: TelegramConfig,
}

impl TelegramConfigBuilder {
    /// Sets the Bot API base URL (a simulator, a local Bot API server).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = url.into();
        self
    }

    /// Sets the default chat.
    pub fn default_chat_id(mut self, chat: impl Into<ChatId>) -> Self {
        self.config.default_chat_id = Some(chat.into());
        self
    }

    /// Sets the parse mode of transport sends.
    pub fn parse_mode(mut self, mode: ParseMode) -> Self {
        self.config.parse_mode = Some(mode);
        self
    }

    /// Sets the webhook secret token.
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.webhook_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// Sets the bot's username (a leading `@` is dropped).
    pub fn bot_username(mut self, name: impl Into<String>) -> Self {
        let n: String = name.into();
        self.config.bot_username = Some(n.trim_start_matches('@').to_owned());
        self
    }

    /// Sets or turns off (`None`) the flood limits.
    pub fn rate_limits(mut self, limits: Option<RateLimits>) -> Self {
        self.config.rate_limits = limits;
        self
    }

    /// Sets the HTTP options.
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.config.http = http;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Checks and returns the config.
    pub fn build(self) -> Result<TelegramConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    #[test]
    fn dsn_joins_the_token_back() {
        let d = Dsn::parse(&format!(
            "telegram://{TOKEN}@default?chat_id=-1001234&webhook_secret=s3cr3t_X&parse_mode=html&bot_username=@ShopBot"
        ))
        .unwrap();
        let c = TelegramConfig::from_dsn(&d).unwrap();
        assert_eq!(c.token.expose_secret(), TOKEN);
        assert_eq!(c.default_chat_id, Some(ChatId::Id(-1001234)));
        assert_eq!(c.parse_mode, Some(ParseMode::Html));
        assert_eq!(c.bot_username.as_deref(), Some("ShopBot"));
        assert_eq!(c.base_url, BASE_URL);
        assert!(c.rate_limits.is_some());
        let shown = format!("{c:?} {d}");
        assert!(!shown.contains("AAHdqTcv") && !shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn bad_dsns_never_echo_the_token() {
        for bad in [
            "telegram://123456789@default".to_owned(),
            format!("telegram://{TOKEN}@default?webhook_secret=has%20space"),
            format!("telegram://{TOKEN}@default?chat_id=nobody"),
            "telegram://abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw@default".to_owned(),
        ] {
            let e = TelegramConfig::from_dsn(&Dsn::parse(&bad).unwrap()).unwrap_err();
            assert!(!e.to_string().contains("AAHdqTcv"), "{e}");
        }
    }

    #[test]
    fn local_hosts_and_limits() {
        let c = TelegramConfig::from_dsn(
            &Dsn::parse(&format!("telegram://{TOKEN}@127.0.0.1:8081?rate_limit=false")).unwrap(),
        )
        .unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8081");
        assert!(c.rate_limits.is_none());
        assert!(c.method_url("getMe").ends_with("/getMe"));
        assert_eq!(RateLimits::default().per_group_per_minute, 20);
        assert!(
            is_valid_secret_token("a-Z_9") && !is_valid_secret_token("") && !is_valid_secret_token(&"a".repeat(257))
        );
    }
}

//! # Telegram Bot API
//!
//! A bot: `sendMessage` with HTML / MarkdownV2 and their escaping, the 4096-character limit checked
//! the way Telegram counts it, Telegram's flood limits applied before sending, webhooks set up with a
//! secret token and verified in constant time, long polling that neither loses nor repeats an update,
//! and commands (`/start`, `/start@ThisBot`, deep-link `/start PAYLOAD`) routed to handlers.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::simulated::Simulated;
//! use switchboard_core::testkit::WebhookSink;
//! use switchboard_core::{Event, Message, Transport};
//! use switchboard_telegram::{CommandRouter, TelegramTransport, escape_html, sim::Simulator};
//!
//! let sim = Simulator::start().await;
//! let hooks = WebhookSink::start().await; // stands in for the host's web server
//!
//! // In production: TelegramTransport::from_dsn_str("telegram://TOKEN@default?chat_id=…&webhook_secret=…")
//! let bot = TelegramTransport::from_dsn_str(&sim.dsn())?
//!     .with_commands(CommandRouter::new().on("start", |ctx| async move {
//!         println!("deep link: {:?}", ctx.command.deep_link_payload());
//!         Ok(())
//!     }));
//!
//! let html = format!("Order <b>#72</b> for {} has shipped", escape_html("Ana & Co <ltd>"));
//! bot.send(&Message::chat("", "plain fallback").with_html(html)).await?; // "" = the DSN's chat_id
//! assert_eq!(sim.sent()[0].text, "Order <b>#72</b> for Ana &amp; Co &lt;ltd&gt; has shipped");
//!
//! bot.client().set_webhook_url(&format!("{}/tg", hooks.uri())).await?; // with the DSN's secret
//! sim.user_sends(100_200_300, "/start ref_42").await;
//! for request in hooks.wait_for(1, std::time::Duration::from_secs(5)).await {
//!     for event in bot.handle_webhook(&request).await?.events {   // checks the secret token header
//!         if let Event::Inbound(m) = event {
//!             assert_eq!(m.text, "/start ref_42");
//!         }
//!     }
//! }
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! ## What maps to what
//!
//! * Calls are JSON POSTs to `/bot<token>/<method>` ([`TelegramClient`]) through core's request
//!   pipeline ([`TelegramApi`]); the token is in the path, so no URL is ever logged or put in an
//!   error. `{ok:false, error_code, description, parameters}` maps through [`error`]: 429 is
//!   `RateLimited` with `parameters.retry_after`, 403 "blocked by the user" is `Rejected`
//!   ([`is_blocked`]), a migrated group carries its new id ([`migrated_to`]).
//! * Text ([`text`]): the limit is 4096 UTF-16 code units after entity parsing; [`escape_html`] and
//!   [`escape_markdown_v2`] make untrusted text safe to embed.
//! * Rate limits ([`RateLimits`]): one message a second per chat, 20 a minute per group, 30 a second
//!   in all, by default; sends wait for a permit.
//! * Webhooks ([`TelegramWebhook`], core's `Webhook`): `X-Telegram-Bot-Api-Secret-Token` compared
//!   in constant time, refused without a configured secret; updates become `Event::Inbound` (new
//!   text messages) or `Event::Other`, answered 200. [`TelegramTransport`]'s `handle_webhook` also
//!   routes commands.
//! * Polling ([`UpdatePoller`]): offsets acknowledged only when the next batch is asked for, and kept
//!   in the host's `CursorStore`.
//! * [`register`] for the provider registry (`telegram`); the simulator is module `sim` (feature
//!   `sim`).

pub mod api;
pub mod client;
pub mod commands;
pub mod config;
pub mod error;
mod limits;
pub mod model;
pub mod poller;
pub mod provider;
#[cfg(feature = "sim")]
pub mod sim;
pub mod text;
pub mod transport;
pub mod webhook;

pub use api::TelegramApi;
pub use client::TelegramClient;
pub use commands::{Command, CommandContext, CommandRouter, Routed};
pub use config::{RateLimits, TelegramConfig, TelegramConfigBuilder};
pub use error::{ApiError, is_blocked, migrated_to};
pub use model::{ChatId, SendMessage, SetWebhook, TgMessage, Update, User, WebhookInfo};
pub use poller::UpdatePoller;
pub use provider::{TelegramProvider, register};
pub use text::{ParseMode, escape_html, escape_markdown_v2, escape_markdown_v2_code, escape_markdown_v2_url};
pub use transport::TelegramTransport;
pub use webhook::{SECRET_HEADER, TelegramWebhook};

/// The DSN scheme and provider name: `telegram`.
pub const SCHEME: &str = "telegram";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

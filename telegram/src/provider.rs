//! Registration: how the DSN registry, the command line and the conformance suite find Telegram.

use std::sync::Arc;

use switchboard_core::registry::{Connection, Provider, Registry};
use switchboard_core::{Dsn, Result};

use crate::{SCHEME, TelegramTransport};

/// A Telegram bot as the registry sees it.
#[derive(Debug)]
pub struct TelegramProvider;

impl Provider for TelegramProvider {
    fn name(&self) -> &'static str {
        SCHEME
    }

    fn summary(&self) -> &'static str {
        "a Telegram bot (Bot API): messages to chats, updates by webhook with a secret token, commands"
    }

    fn dsn_form(&self) -> &'static str {
        "telegram://BOT_TOKEN@default?chat_id=CHAT[&webhook_secret=…][&parse_mode=HTML|MarkdownV2][&bot_username=NAME]"
    }

    fn connect(&self, dsn: &Dsn) -> Result<Connection> {
        let t = TelegramTransport::from_dsn(dsn)?;
        let client = Arc::new(t.client().clone());
        Ok(Connection::transport(SCHEME, Arc::new(t)).with_service(client))
    }

    #[cfg(feature = "sim")]
    fn simulator(&self) -> Option<&'static dyn switchboard_core::simulated::SimFactory> {
        Some(switchboard_core::simulated::factory::<crate::sim::Simulator>())
    }
}

/// Adds Telegram to a registry: the one line a program needs to know `telegram://`.
pub fn register(registry: &mut Registry) {
    static PROVIDER: TelegramProvider = TelegramProvider;
    registry.register(&PROVIDER);
}

//! The durable store and outbox (feature `store`): `switchboard::store` holds the key store's
//! vocabulary from `switchboard-core` together with the `switchboard-store` crate (SQLite and
//! PostgreSQL stores, the outbox), and the [`Messenger`] is the outbox's sender.

use switchboard_core::{Message, Receipt, Result, async_trait};
use switchboard_store::outbox::OutboxSender;

use crate::Messenger;

/// Durable sending in one place: the [`Store`](switchboard_core::Store) trait, keys and claims from
/// `switchboard-core`, and the `switchboard-store` crate's SQLite and PostgreSQL stores and
/// [`outbox`](switchboard_store::outbox).
pub mod store {
    pub use switchboard_core::store::*;
    pub use switchboard_store::*;
}

/// The outbox's workers send through the Messenger: routes, failover and limits apply, and the
/// Messenger's store makes each message's key go out at most once. Build the Messenger with
/// [`MessengerBuilder::store`](crate::MessengerBuilder::store) on the same store as the outbox; without
/// one, every job becomes a dead letter saying so.
#[async_trait]
impl OutboxSender for Messenger {
    async fn send(&self, message: Message) -> Result<Receipt> {
        Messenger::send(self, message).await
    }
}

//! Long polling with `getUpdates`, without losing or repeating an update.
//!
//! Telegram forgets updates when a later `getUpdates` call passes `offset` past them. So an update is
//! lost if the offset moves past it before the host has handled it, and repeated if the offset does
//! not move after. [`UpdatePoller::next_batch`] therefore acknowledges a batch only when it is asked
//! for the next one (by then the host has handled it), and stores the offset in the host's
//! [`CursorStore`] at that moment, so a restarted process neither repeats what was handled nor skips
//! what was not. A failed call leaves the offset where it was: the same updates come again, and
//! since they were never handed out, nothing is seen twice.

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::{CursorStore, Result};

use crate::client::TelegramClient;
use crate::model::{GetUpdates, Update};

/// Long-polls `getUpdates`. See the [module docs](self).
#[derive(Debug)]
pub struct UpdatePoller {
    client: TelegramClient,
    /// The offset of the next request: every update below it was handed out.
    offset: Option<i64>,
    /// Whether `offset` has been given to Telegram (and the cursor store) yet.
    acknowledged: bool,
    timeout: Duration,
    limit: u8,
    allowed_updates: Option<Vec<String>>,
    cursor: Option<(Arc<dyn CursorStore>, String)>,
    loaded: bool,
}

impl UpdatePoller {
    /// A poller with a 30-second long poll and batches of up to 100.
    pub fn new(client: TelegramClient) -> Self {
        UpdatePoller {
            client,
            offset: None,
            acknowledged: true,
            timeout: Duration::from_secs(30),
            limit: 100,
            allowed_updates: None,
            cursor: None,
            loaded: false,
        }
    }

    /// Sets the long-poll time (0 answers at once).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the batch size (1 to 100).
    pub fn limit(mut self, limit: u8) -> Self {
        self.limit = limit.clamp(1, 100);
        self
    }

    /// Receives only these update kinds.
    pub fn allowed_updates<I: IntoIterator<Item = S>, S: Into<String>>(mut self, kinds: I) -> Self {
        self.allowed_updates = Some(kinds.into_iter().map(Into::into).collect());
        self
    }

    /// Keeps the offset in the host's store under `key`, so a restart resumes where it stopped.
    pub fn cursor(mut self, store: Arc<dyn CursorStore>, key: impl Into<String>) -> Self {
        self.cursor = Some((store, key.into()));
        self
    }

    /// The offset the next call will send.
    pub fn offset(&self) -> Option<i64> {
        self.offset
    }

    /// Acknowledges the previous batch (the host has handled it) and waits for the next one.
    pub async fn next_batch(&mut self) -> Result<Vec<Update>> {
        if !self.loaded {
            if let Some((store, key)) = &self.cursor
                && let Some(v) = store.load(key).await?
            {
                self.offset = v.parse().ok();
            }
            self.loaded = true;
        }
        if !self.acknowledged {
            if let (Some((store, key)), Some(off)) = (&self.cursor, self.offset) {
                store.store(key, &off.to_string()).await?;
            }
            self.acknowledged = true;
        }
        let params = GetUpdates {
            offset: self.offset,
            limit: Some(self.limit),
            timeout: Some(self.timeout.as_secs().min(u64::from(u32::MAX)) as u32),
            allowed_updates: self.allowed_updates.clone(),
        };
        let mut updates = self.client.get_updates(&params).await?;
        // Telegram never answers below the offset; a misbehaving proxy or server is not believed.
        if let Some(off) = self.offset {
            updates.retain(|u| u.update_id >= off);
        }
        updates.sort_by_key(|u| u.update_id);
        updates.dedup_by_key(|u| u.update_id);
        if let Some(last) = updates.last() {
            self.offset = Some(last.update_id + 1);
            self.acknowledged = false;
        }
        Ok(updates)
    }
}

//! [`SyncLog`]: where the host keeps what the sync did — what was sent, the `Ref_Key` it became in 1C,
//! what failed — and the delta-sync markers. Storage stays with the host; [`MemorySyncLog`] is for tests
//! and examples.
//!
//! The log is a cache and an audit trail, not the source of truth: the sync finds an entity by its
//! `Ref_Key` from the log when it has one, and by the record's stable key (INN/KPP, article, number)
//! otherwise, so a lost or empty log never creates duplicates.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::{Dispatch, Error, ErrorKind, Result};

use crate::guid::Guid;

/// What one upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SyncAction {
    /// 1C had no such entity; it was created.
    Created,
    /// A create's answer was lost, and the lookup that followed found the entity it had created.
    Recovered,
    /// The entity existed and some fields differed; those were changed.
    Updated,
    /// The entity existed with exactly these values; nothing was sent.
    Unchanged,
    /// The upsert failed (see [`SyncEntry::error`]).
    Failed,
}

impl SyncAction {
    /// Whether this action wrote anything to 1C.
    pub fn wrote(self) -> bool {
        matches!(self, SyncAction::Created | SyncAction::Recovered | SyncAction::Updated)
    }
}

/// A failure, as the log keeps it (no secrets: the error's display never has any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncFailure {
    /// The error kind (`rejected`, `timed out`…).
    pub kind: String,
    /// Whether the failed write may have reached 1C (`not_sent`, `maybe_sent`, `sent`).
    pub dispatch: String,
    /// 1C's `odata.error` code, if it gave one.
    pub provider_code: Option<String>,
    /// The error as displayed.
    pub message: String,
}

impl From<&Error> for SyncFailure {
    fn from(e: &Error) -> SyncFailure {
        SyncFailure {
            kind: e.kind().as_str().to_owned(),
            dispatch: match e.dispatch() {
                Dispatch::NotSent => "not_sent",
                Dispatch::MaybeSent => "maybe_sent",
                Dispatch::Sent => "sent",
            }
            .to_owned(),
            provider_code: e.provider_code().map(str::to_owned),
            message: e.to_string(),
        }
    }
}

/// One line of the sync log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncEntry {
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The entity set (`Catalog_Контрагенты`).
    pub entity_set: String,
    /// The host's own id for the record (`crm:company:42`).
    pub external_id: String,
    /// What happened.
    pub action: SyncAction,
    /// The 1C `Ref_Key` the record is (when known).
    pub ref_key: Option<Guid>,
    /// What was sent: the whole body on create, the changed fields on update, `None` when nothing was.
    pub sent: Option<Value>,
    /// Whether the document is posted after the sync (documents only).
    pub posted: Option<bool>,
    /// The failure, for [`SyncAction::Failed`].
    pub error: Option<SyncFailure>,
}

/// The host's sync log. Implement it over your database.
#[async_trait]
pub trait SyncLog: Send + Sync + std::fmt::Debug {
    /// Appends one entry. An entry with a `ref_key` and an action other than `Failed` tells the log
    /// which 1C entity `external_id` is.
    async fn record(&self, entry: SyncEntry) -> Result<()>;

    /// The `Ref_Key` `external_id` became in `entity_set`, if the log knows it.
    async fn ref_key(&self, entity_set: &str, external_id: &str) -> Result<Option<Guid>>;

    /// A delta-sync marker stored under `stream`.
    async fn load_marker(&self, stream: &str) -> Result<Option<String>>;

    /// Stores a delta-sync marker.
    async fn store_marker(&self, stream: &str, marker: &str) -> Result<()>;
}

/// A sync log in memory, for tests and examples.
#[derive(Debug, Default)]
pub struct MemorySyncLog {
    entries: Mutex<Vec<SyncEntry>>,
    refs: Mutex<HashMap<(String, String), Guid>>,
    markers: Mutex<HashMap<String, String>>,
}

fn poisoned() -> Error {
    Error::new(ErrorKind::Unavailable, "the in-memory sync log is poisoned")
}

impl MemorySyncLog {
    /// An empty log.
    pub fn new() -> MemorySyncLog {
        MemorySyncLog::default()
    }

    /// Every entry so far.
    pub fn entries(&self) -> Vec<SyncEntry> {
        self.entries.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The entries about one external id.
    pub fn entries_for(&self, external_id: &str) -> Vec<SyncEntry> {
        self.entries()
            .into_iter()
            .filter(|e| e.external_id == external_id)
            .collect()
    }

    /// How many entries have this action.
    pub fn count(&self, action: SyncAction) -> usize {
        self.entries().iter().filter(|e| e.action == action).count()
    }

    /// Forgets the known `Ref_Key`s (as if the host lost its mapping table), keeping entries and markers.
    pub fn forget_refs(&self) {
        if let Ok(mut r) = self.refs.lock() {
            r.clear();
        }
    }
}

#[async_trait]
impl SyncLog for MemorySyncLog {
    async fn record(&self, entry: SyncEntry) -> Result<()> {
        if let (Some(g), true) = (entry.ref_key, entry.action != SyncAction::Failed) {
            self.refs
                .lock()
                .map_err(|_| poisoned())?
                .insert((entry.entity_set.clone(), entry.external_id.clone()), g);
        }
        self.entries.lock().map_err(|_| poisoned())?.push(entry);
        Ok(())
    }

    async fn ref_key(&self, entity_set: &str, external_id: &str) -> Result<Option<Guid>> {
        Ok(self
            .refs
            .lock()
            .map_err(|_| poisoned())?
            .get(&(entity_set.to_owned(), external_id.to_owned()))
            .copied())
    }

    async fn load_marker(&self, stream: &str) -> Result<Option<String>> {
        Ok(self.markers.lock().map_err(|_| poisoned())?.get(stream).cloned())
    }

    async fn store_marker(&self, stream: &str, marker: &str) -> Result<()> {
        self.markers
            .lock()
            .map_err(|_| poisoned())?
            .insert(stream.to_owned(), marker.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: SyncAction, ref_key: Option<Guid>) -> SyncEntry {
        SyncEntry {
            at: Utc::now(),
            entity_set: "Catalog_Контрагенты".into(),
            external_id: "crm:1".into(),
            action,
            ref_key,
            sent: None,
            posted: None,
            error: None,
        }
    }

    #[tokio::test]
    async fn memory_log_maps_refs_and_markers() {
        let log = MemorySyncLog::new();
        let g = Guid::from_u128(7);
        log.record(entry(SyncAction::Failed, Some(Guid::from_u128(9))))
            .await
            .unwrap();
        assert_eq!(log.ref_key("Catalog_Контрагенты", "crm:1").await.unwrap(), None);
        log.record(entry(SyncAction::Created, Some(g))).await.unwrap();
        assert_eq!(log.ref_key("Catalog_Контрагенты", "crm:1").await.unwrap(), Some(g));
        assert_eq!(log.entries_for("crm:1").len(), 2);
        assert_eq!(log.count(SyncAction::Created), 1);
        log.forget_refs();
        assert_eq!(log.ref_key("Catalog_Контрагенты", "crm:1").await.unwrap(), None);
        log.store_marker("s", "m").await.unwrap();
        assert_eq!(log.load_marker("s").await.unwrap().as_deref(), Some("m"));
    }
}

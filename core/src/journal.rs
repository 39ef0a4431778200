//! Storage stays with the host: small async traits the host implements over its own database.
//!
//! * [`Journal`]: every send attempt, its outcome, status changes and inbound messages. The Messenger
//!   writes an `Attempt` entry *before* it sends and an `Outcome` after, so after a crash a host can
//!   tell exactly which messages may have gone out.
//! * [`CursorStore`]: small named positions a poller resumes from (Dinstar's incoming-SMS high-water
//!   mark, a history sync's page token).
//!
//! [`MemoryJournal`] and [`MemoryCursorStore`] ship for tests and examples.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Dispatch, Error, ErrorKind, Result};
use crate::message::{CallEvent, Event, InboundMessage, MessageId, Receipt, Recipient, StatusReport};

/// What happened, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JournalRecord {
    /// A send is about to be attempted over `transport` (attempt numbers start at 1).
    Attempt {
        /// The transport's name.
        transport: String,
        /// The attempt number for this message.
        attempt: u32,
        /// The recipient.
        to: Recipient,
    },
    /// The provider accepted it.
    Accepted {
        /// What the provider handed back.
        receipt: Box<Receipt>,
    },
    /// The attempt failed.
    Failed {
        /// The transport's name.
        transport: String,
        /// The error's kind, as a word.
        kind: String,
        /// Whether it may have gone out anyway.
        dispatch: String,
        /// The error as displayed (never a secret).
        error: String,
    },
    /// A status changed.
    Status {
        /// The transport's name.
        transport: String,
        /// The report.
        report: StatusReport,
    },
    /// A message came in.
    Inbound {
        /// The transport's name.
        transport: String,
        /// The message.
        message: InboundMessage,
    },
    /// A call changed state.
    Call {
        /// The transport's name.
        transport: String,
        /// The event.
        event: CallEvent,
    },
}

impl JournalRecord {
    /// The record of a failed attempt.
    pub fn failed(transport: impl Into<String>, err: &Error) -> Self {
        JournalRecord::Failed {
            transport: transport.into(),
            kind: err.kind().as_str().to_owned(),
            dispatch: match err.dispatch() {
                Dispatch::NotSent => "not_sent",
                Dispatch::MaybeSent => "maybe_sent",
                Dispatch::Sent => "sent",
            }
            .to_owned(),
            error: err.to_string(),
        }
    }

    /// The record of a pushed event; `None` for events the journal does not keep (payments are the
    /// payment store's business).
    pub fn from_event(transport: &str, event: &Event) -> Option<Self> {
        let transport = transport.to_owned();
        match event {
            Event::Inbound(m) => Some(JournalRecord::Inbound {
                transport,
                message: m.clone(),
            }),
            Event::Delivery(r) => Some(JournalRecord::Status {
                transport,
                report: r.clone(),
            }),
            Event::Call(c) => Some(JournalRecord::Call {
                transport,
                event: c.clone(),
            }),
            _ => None,
        }
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JournalEntry {
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// The message it is about, when it is about one we sent.
    pub message_id: Option<MessageId>,
    /// What happened.
    pub record: JournalRecord,
}

impl JournalEntry {
    /// An entry stamped now.
    pub fn new(message_id: Option<MessageId>, record: JournalRecord) -> Self {
        JournalEntry {
            at: Utc::now(),
            message_id,
            record,
        }
    }
}

/// Where the host keeps what was sent. Implement it over your database; a failing `record` before a
/// send stops the send (nothing goes out that the journal does not know of).
#[async_trait]
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// Appends one entry.
    async fn record(&self, entry: JournalEntry) -> Result<()>;
}

/// A journal in memory, for tests and examples.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    entries: Mutex<Vec<JournalEntry>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every entry so far.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.entries.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The entries about one message.
    pub fn for_message(&self, id: &MessageId) -> Vec<JournalEntry> {
        self.entries()
            .into_iter()
            .filter(|e| e.message_id.as_ref() == Some(id))
            .collect()
    }
}

#[async_trait]
impl Journal for MemoryJournal {
    async fn record(&self, entry: JournalEntry) -> Result<()> {
        self.entries
            .lock()
            .map_err(|_| Error::new(ErrorKind::Unavailable, "the in-memory journal is poisoned"))?
            .push(entry);
        Ok(())
    }
}

/// Named positions a poller resumes from.
#[async_trait]
pub trait CursorStore: Send + Sync + std::fmt::Debug {
    /// The stored value, if any.
    async fn load(&self, key: &str) -> Result<Option<String>>;
    /// Stores a value.
    async fn store(&self, key: &str, value: &str) -> Result<()>;
}

/// A cursor store in memory.
#[derive(Debug, Default)]
pub struct MemoryCursorStore {
    values: Mutex<HashMap<String, String>>,
}

impl MemoryCursorStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl CursorStore for MemoryCursorStore {
    async fn load(&self, key: &str) -> Result<Option<String>> {
        Ok(self.values.lock().ok().and_then(|v| v.get(key).cloned()))
    }

    async fn store(&self, key: &str, value: &str) -> Result<()> {
        self.values
            .lock()
            .map_err(|_| Error::new(ErrorKind::Unavailable, "the in-memory cursor store is poisoned"))?
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_journal_keeps_order_and_filters() {
        let j = MemoryJournal::new();
        let a = MessageId::random();
        let b = MessageId::random();
        let err = Error::new(ErrorKind::Timeout, "slow").with_provider("x");
        j.record(JournalEntry::new(Some(a.clone()), JournalRecord::failed("gsm", &err)))
            .await
            .unwrap();
        j.record(JournalEntry::new(Some(b.clone()), JournalRecord::failed("cloud", &err)))
            .await
            .unwrap();
        assert_eq!(j.entries().len(), 2);
        let only_a = j.for_message(&a);
        assert_eq!(only_a.len(), 1);
        match &only_a[0].record {
            JournalRecord::Failed {
                transport, dispatch, ..
            } => {
                assert_eq!(transport, "gsm");
                assert_eq!(dispatch, "maybe_sent");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn cursors() {
        let c = MemoryCursorStore::new();
        assert_eq!(c.load("k").await.unwrap(), None);
        c.store("k", "41").await.unwrap();
        c.store("k", "42").await.unwrap();
        assert_eq!(c.load("k").await.unwrap().as_deref(), Some("42"));
    }
}

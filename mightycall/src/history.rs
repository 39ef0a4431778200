//! Conversation-history sync over the journal: a stream of pages with a cursor the host stores and
//! resumes from.
//!
//! The journal is paged by number (`page`, `pageSize`). Page numbers shift when new entries arrive,
//! so a sync pins a **window** `[from, until)` when it starts: entries arriving later fall after
//! `until` and cannot push older ones across a page boundary. The cursor holds the window and the next
//! page; store [`HistoryPage::cursor`] (e.g. [`SyncCursor::encode`] into a core
//! [`CursorStore`](switchboard_core::CursorStore)) after processing each page, and a restarted host
//! resumes exactly there. When a window is done, [`SyncCursor::next_window`] starts the next one where
//! it ended.
//!
//! Deletions inside a window can still shift a page, so a host should deduplicate on
//! [`JournalRequest::id`](crate::model::JournalRequest::id), which is also what makes a resumed page that
//! was half-processed before a crash harmless.

use chrono::{DateTime, Utc};
use futures::Stream;
use serde::{Deserialize, Serialize};
use switchboard_core::{Error, Result};

use crate::SCHEME;
use crate::client::MightyCallClient;
use crate::journal::UndecodableEntry;
use crate::model::{DEFAULT_PAGE_SIZE, JournalQuery, JournalRequest, MAX_PAGE_SIZE};

/// Where a history sync stands. Serialises to a small JSON object ([`SyncCursor::encode`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SyncCursor {
    /// The window's start (inclusive); `None` for "from the beginning".
    pub from: Option<DateTime<Utc>>,
    /// The window's end (exclusive), fixed when the window started.
    pub until: DateTime<Utc>,
    /// The next page to fetch (1-based).
    pub next_page: u32,
    /// Entries per page.
    pub page_size: u32,
    /// Whether the window is complete.
    pub done: bool,
}

impl SyncCursor {
    /// A window from `since` (or the beginning) to `until`.
    pub fn start(since: Option<DateTime<Utc>>, until: DateTime<Utc>) -> SyncCursor {
        SyncCursor {
            from: since,
            until,
            next_page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            done: false,
        }
    }

    /// A window from `since` (or the beginning) to now.
    pub fn from_now(since: Option<DateTime<Utc>>) -> SyncCursor {
        Self::start(since, Utc::now())
    }

    /// Sets the page size (1..=1000).
    pub fn with_page_size(mut self, n: u32) -> SyncCursor {
        self.page_size = n.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The next window: from this window's end to `until`, first page.
    pub fn next_window(&self, until: DateTime<Utc>) -> SyncCursor {
        SyncCursor {
            from: Some(self.until),
            until: until.max(self.until),
            next_page: 1,
            page_size: self.page_size,
            done: false,
        }
    }

    /// The cursor as text for a cursor store.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A cursor from [`SyncCursor::encode`]'s text.
    pub fn decode(text: &str) -> Result<SyncCursor> {
        let c: SyncCursor = serde_json::from_str(text).map_err(|e| {
            Error::invalid_input(format!("the stored MightyCall sync cursor is unreadable ({e})")).with_provider(SCHEME)
        })?;
        if c.next_page == 0 || c.page_size == 0 || c.page_size > MAX_PAGE_SIZE {
            return Err(
                Error::invalid_input("the stored MightyCall sync cursor is out of range").with_provider(SCHEME),
            );
        }
        Ok(c)
    }
}

/// One page of a history sync.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HistoryPage {
    /// The entries of the page that were read.
    pub requests: Vec<JournalRequest>,
    /// The entries of the page that could not be read, with their raw JSON: the sync goes past them
    /// (see [`crate::journal`]), so a host that wants them must keep them from here.
    pub undecodable: Vec<UndecodableEntry>,
    /// Where to resume after this page (store it once the page is processed). `done` is set on the
    /// window's last page.
    pub cursor: SyncCursor,
}

/// The pages of `cursor`'s window, from its next page to the end (a page shorter than the page size).
/// An error ends the stream; resume from the last stored cursor.
pub(crate) fn pages<'a>(
    client: &'a MightyCallClient,
    cursor: SyncCursor,
    filter: JournalQuery,
) -> impl Stream<Item = Result<HistoryPage>> + Send + 'a {
    struct St {
        cursor: SyncCursor,
        previous_first: Option<String>,
    }
    let start = (!cursor.done).then_some(St {
        cursor,
        previous_first: None,
    });
    futures::stream::unfold(start, move |state| {
        let filter = filter.clone();
        async move {
            let st = state?;
            let cur = st.cursor;
            let query = filter.window(cur.from, Some(cur.until)).page_size(cur.page_size);
            let page = match client.journal_page(&query, cur.next_page).await {
                Ok(p) => p,
                Err(e) => return Some((Err(e), None)),
            };
            // The first entry's id, read or not, tells whether the server moved on.
            let first = page
                .requests
                .first()
                .map(|r| r.id.clone())
                .or_else(|| page.undecodable.iter().find_map(|u| u.id.clone()));
            if first.is_some() && first == st.previous_first {
                // The server ignored `page` and answered the same page again: stop rather than loop.
                let e = Error::decode("MightyCall answered the same journal page twice; paging is not honoured")
                    .with_provider(SCHEME);
                return Some((Err(e), None));
            }
            // Paging counts every entry MightyCall sent, including the ones that did not read: a full
            // page with a broken entry is still full, and the next page must be fetched.
            let done = page.entry_count() < cur.page_size as usize;
            let next = SyncCursor {
                next_page: cur.next_page.saturating_add(1),
                done,
                ..cur
            };
            let item = HistoryPage {
                requests: page.requests,
                undecodable: page.undecodable,
                cursor: next.clone(),
            };
            let state = (!done).then_some(St {
                cursor: next,
                previous_first: first,
            });
            Some((Ok(item), state))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_windows() {
        let until = DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z").unwrap().to_utc();
        let c = SyncCursor::start(None, until).with_page_size(50);
        let back = SyncCursor::decode(&c.encode()).unwrap();
        assert_eq!(back, c);
        let later = until + chrono::Duration::hours(1);
        let n = c.next_window(later);
        assert_eq!((n.from, n.until, n.next_page, n.page_size), (Some(until), later, 1, 50));
        assert!(SyncCursor::decode("{").is_err());
        assert!(SyncCursor::decode(&c.encode().replace("\"next_page\":1", "\"next_page\":0")).is_err());
    }
}

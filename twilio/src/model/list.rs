//! Listing messages: the filters of `GET /Messages.json` and the pages it answers.
//!
//! The date filters follow Twilio's Messages API reference
//! (<https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources>; the
//! `DateSent`, `DateSent<` and `DateSent>` query parameters of `twilio_api_v2010.json`,
//! github.com/twilio/twilio-oai): GMT days as `YYYY-MM-DD`, `DateSent` for one day, `DateSent<` for
//! messages sent on or before a day and `DateSent>` for messages sent on or after one.

use std::fmt;

use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{Error, Result};

use super::MessageResource;
use crate::error::mask;

/// The most messages one page holds (Twilio's `PageSize` maximum).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// One page of `GET /Messages.json`.
#[derive(Clone, PartialEq, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct MessagePage {
    /// The messages.
    #[serde(default)]
    pub messages: Vec<MessageResource>,
    /// The page number.
    #[serde(default)]
    pub page: Option<u64>,
    /// The page size.
    #[serde(default)]
    pub page_size: Option<u64>,
    /// The path of the next page; `None` on the last.
    #[serde(default)]
    pub next_page_uri: Option<String>,
    /// The path of the previous page.
    #[serde(default)]
    pub previous_page_uri: Option<String>,
    /// The path of the first page.
    #[serde(default)]
    pub first_page_uri: Option<String>,
    /// This page's path.
    #[serde(default)]
    pub uri: Option<String>,
    /// Anything else Twilio sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Filters of a message list.
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ListMessages {
    /// `To`.
    pub to: Option<String>,
    /// `From`.
    pub from: Option<String>,
    /// `DateSent`: one GMT day as `YYYY-MM-DD` (Twilio also takes an ISO 8601 date-time). Prefer the
    /// typed [`ListMessages::sent_on`].
    pub date_sent: Option<String>,
    /// `DateSent<`: messages sent on or before this GMT day.
    pub date_sent_before: Option<NaiveDate>,
    /// `DateSent>`: messages sent on or after this GMT day.
    pub date_sent_after: Option<NaiveDate>,
    /// `PageSize`, 1 to [`MAX_PAGE_SIZE`].
    pub page_size: Option<u32>,
}

/// The text of a GMT day, as Twilio reads it.
fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Whether `s` is a date Twilio documents for `DateSent`: `YYYY-MM-DD`, or an ISO 8601 (RFC 3339)
/// date-time.
pub(crate) fn is_date_sent_value(s: &str) -> bool {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() || DateTime::parse_from_rfc3339(s).is_ok()
}

impl ListMessages {
    /// No filter: every message, newest first.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only messages to this address.
    pub fn to(mut self, to: impl Into<String>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// Only messages from this address.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Only messages sent on this day (`YYYY-MM-DD`, GMT). [`ListMessages::sent_on`] takes a typed day.
    pub fn date_sent(mut self, day: impl Into<String>) -> Self {
        self.date_sent = Some(day.into());
        self
    }

    /// Only messages sent on this GMT day (`DateSent`).
    pub fn sent_on(mut self, d: NaiveDate) -> Self {
        self.date_sent = Some(day(d));
        self
    }

    /// Only messages sent on or before this GMT day (`DateSent<`).
    pub fn sent_on_or_before(mut self, d: NaiveDate) -> Self {
        self.date_sent_before = Some(d);
        self
    }

    /// Only messages sent on or after this GMT day (`DateSent>`).
    pub fn sent_on_or_after(mut self, d: NaiveDate) -> Self {
        self.date_sent_after = Some(d);
        self
    }

    /// Messages per page.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Checks what Twilio would refuse: a `DateSent` that is not a date, a page size outside 1 to
    /// [`MAX_PAGE_SIZE`].
    pub fn validate(&self) -> Result<()> {
        if self.date_sent.as_deref().is_some_and(|d| !is_date_sent_value(d.trim())) {
            return Err(Error::invalid_input(
                "a Twilio DateSent filter is a GMT day as YYYY-MM-DD (or an ISO 8601 date-time)",
            ));
        }
        if self.page_size.is_some_and(|n| !(1..=MAX_PAGE_SIZE).contains(&n)) {
            return Err(Error::invalid_input(format!(
                "a Twilio PageSize is 1 to {MAX_PAGE_SIZE}"
            )));
        }
        Ok(())
    }

    /// The query pairs.
    pub fn to_query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(v) = &self.to {
            q.push(("To".into(), v.clone()));
        }
        if let Some(v) = &self.from {
            q.push(("From".into(), v.clone()));
        }
        if let Some(v) = &self.date_sent {
            q.push(("DateSent".into(), v.trim().to_owned()));
        }
        if let Some(d) = self.date_sent_before {
            q.push(("DateSent<".into(), day(d)));
        }
        if let Some(d) = self.date_sent_after {
            q.push(("DateSent>".into(), day(d)));
        }
        if let Some(v) = self.page_size {
            q.push(("PageSize".into(), v.to_string()));
        }
        q
    }
}

/// The page URIs carry the list's filters (phone numbers), so they are left out.
impl fmt::Debug for MessagePage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagePage")
            .field("messages", &self.messages)
            .field("page", &self.page)
            .field("page_size", &self.page_size)
            .field("has_next", &self.next_page_uri.is_some())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ListMessages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListMessages")
            .field("to", &self.to.as_deref().map(mask))
            .field("from", &self.from.as_deref().map(mask))
            .field("date_sent", &self.date_sent)
            .field("date_sent_before", &self.date_sent_before)
            .field("date_sent_after", &self.date_sent_after)
            .field("page_size", &self.page_size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn date_filters_go_out_under_twilios_names() {
        let q = ListMessages::new()
            .to("+14155552671")
            .sent_on_or_after(d("2024-06-01"))
            .sent_on_or_before(d("2024-06-30"))
            .page_size(20)
            .to_query();
        assert!(q.contains(&("DateSent>".into(), "2024-06-01".into())));
        assert!(q.contains(&("DateSent<".into(), "2024-06-30".into())));
        assert!(!q.iter().any(|(k, _)| k == "DateSent"));
        let q = ListMessages::new().sent_on(d("2024-06-03")).to_query();
        assert_eq!(q, vec![("DateSent".to_owned(), "2024-06-03".to_owned())]);
    }

    #[test]
    fn what_twilio_refuses_is_refused_first() {
        assert!(ListMessages::new().date_sent("2024-06-03").validate().is_ok());
        assert!(ListMessages::new().date_sent("2024-06-03T10:00:00Z").validate().is_ok());
        for bad in ["yesterday", "03/06/2024", "2024-13-01", ""] {
            assert!(ListMessages::new().date_sent(bad).validate().is_err(), "{bad}");
        }
        assert!(ListMessages::new().page_size(0).validate().is_err());
        assert!(ListMessages::new().page_size(1001).validate().is_err());
        assert!(ListMessages::new().page_size(1000).validate().is_ok());
    }
}

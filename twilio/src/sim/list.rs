//! `GET /Messages.json`: the list, newest first, filtered by `To`, `From` and sent date (`DateSent`,
//! `DateSent<`, `DateSent>`), paged with `PageSize` (1–1000), `Page` and `next_page_uri`.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::api::{error, resource};
use super::create::{INVALID_PARAMETER, get};
use super::state::{SimMessage, State};
use crate::config::API_VERSION;
use crate::model::list::MAX_PAGE_SIZE;

/// A `DateSent` filter value: a GMT day (`YYYY-MM-DD`) or an ISO 8601 date-time.
enum SentFilter {
    Day(NaiveDate),
    At(DateTime<Utc>),
}

impl SentFilter {
    fn parse(s: &str) -> Option<SentFilter> {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(SentFilter::Day(d));
        }
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| SentFilter::At(t.with_timezone(&Utc)))
    }

    /// `DateSent=`: sent on that day (or at that instant).
    fn on(&self, sent: DateTime<Utc>) -> bool {
        match self {
            SentFilter::Day(d) => sent.date_naive() == *d,
            SentFilter::At(t) => sent == *t,
        }
    }

    /// `DateSent<`: on or before (the whole day counts, as Twilio's reference words it: "on and before").
    fn on_or_before(&self, sent: DateTime<Utc>) -> bool {
        match self {
            SentFilter::Day(d) => sent.date_naive() <= *d,
            SentFilter::At(t) => sent <= *t,
        }
    }

    /// `DateSent>`: on or after.
    fn on_or_after(&self, sent: DateTime<Utc>) -> bool {
        match self {
            SentFilter::Day(d) => sent.date_naive() >= *d,
            SentFilter::At(t) => sent >= *t,
        }
    }
}

pub(super) fn list(st: &State, req: &Request) -> ResponseTemplate {
    let q: Vec<(String, String)> = req.url.query_pairs().into_owned().collect();
    let page_size: usize = match get(&q, "PageSize") {
        None => 50,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n as usize,
            _ => {
                return error(
                    400,
                    INVALID_PARAMETER,
                    format!(
                        "Invalid PageSize: '{}' is not an integer from 1 to 1000.",
                        s.escape_debug()
                    ),
                );
            }
        },
    };
    let page: usize = match get(&q, "Page") {
        None => 0,
        Some(s) => match s.parse() {
            Ok(p) => p,
            Err(_) => return error(400, INVALID_PARAMETER, format!("Invalid Page: '{}'.", s.escape_debug())),
        },
    };
    let mut dates: Vec<(&str, SentFilter)> = Vec::new();
    for name in ["DateSent", "DateSent<", "DateSent>"] {
        if let Some(v) = get(&q, name) {
            match SentFilter::parse(v.trim()) {
                Some(f) => dates.push((name, f)),
                None => {
                    return error(
                        400,
                        INVALID_PARAMETER,
                        format!("Invalid {name}: '{}' is not a date (YYYY-MM-DD).", v.escape_debug()),
                    );
                }
            }
        }
    }
    let matching: Vec<&SimMessage> = st
        .messages
        .iter()
        .rev()
        .filter(|m| get(&q, "To").is_none_or(|t| m.to == t))
        .filter(|m| get(&q, "From").is_none_or(|f| m.from.as_deref() == Some(f)))
        .filter(|m| {
            dates.iter().all(|(name, f)| {
                m.date_sent.is_some_and(|s| match *name {
                    "DateSent<" => f.on_or_before(s),
                    "DateSent>" => f.on_or_after(s),
                    _ => f.on(s),
                })
            })
        })
        .collect();
    let start = page.saturating_mul(page_size);
    let items: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(page_size)
        .map(|m| resource(st, m))
        .collect();
    let base = format!("/{API_VERSION}/Accounts/{}/Messages.json", st.account_sid);
    let mut filters = url::form_urlencoded::Serializer::new(String::new());
    for name in ["To", "From", "DateSent", "DateSent<", "DateSent>"] {
        if let Some(v) = get(&q, name) {
            filters.append_pair(name, v);
        }
    }
    let filters = filters.finish();
    let page_uri = |p: usize| {
        let mut s = format!("{base}?PageSize={page_size}&Page={p}");
        if !filters.is_empty() {
            s.push('&');
            s.push_str(&filters);
        }
        s
    };
    let has_next = matching.len() > start + page_size;
    let end = (start + items.len()).saturating_sub(1);
    json_status(
        200,
        &json!({
            "messages": items,
            "page": page,
            "page_size": page_size,
            "start": start,
            "end": end,
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "next_page_uri": has_next.then(|| page_uri(page + 1)),
            "previous_page_uri": (page > 0).then(|| page_uri(page - 1)),
        }),
    )
}

//! Finding out whether SMS whose `send_sms` answer was lost are on the gateway: one implementation for
//! the reconciliation inside a send ([`DinstarClient::send_batch_reconciled`](crate::DinstarClient::send_batch_reconciled))
//! and for the durable sender's ([`Transport::reconcile`](switchboard_core::Transport::reconcile)).
//!
//! The gateway keeps a result record per SMS, keyed by the caller's `user_id` (`query_sms_result`,
//! API v0.4 and later). A record counts as this SMS only when it carries the same `user_id` **and**
//! the same number; its part count (`count`) must also be the count of this text in the encoding it was
//! sent in. The record carries no text, so the part count is all of the text a lookup can check:
//!
//! * same id, another number: someone else's SMS under the same id (another process, an earlier
//!   run). It is ignored, never taken for this one;
//! * same id and number, another part count: another text to the same number under the same id.
//!   Neither "sent" nor "not sent" can be concluded: [`Finding::Ambiguous`];
//! * nothing yet: looked up again until the window ends, since a gateway records a task when its
//!   queue gets to it, which under load can be seconds after the request. Only then is the SMS
//!   [`Finding::Absent`] and safe to send again.
//!
//! The waits use tokio's clock, so tests can run a ten-second window under `tokio::time::pause()`.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use switchboard_core::{Encoding, Result, Segmentation};

use crate::model::{SmsEncoding, SmsResult};

/// The first pause between two lookups; each later one doubles, up to [`MAX_INTERVAL`].
const FIRST_INTERVAL: Duration = Duration::from_millis(250);
/// The longest pause between two lookups.
const MAX_INTERVAL: Duration = Duration::from_secs(2);

/// One SMS looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sought {
    /// Its `user_id`.
    pub user_id: u32,
    /// The number as written for the gateway; empty matches any (a lookup by id alone).
    pub number: String,
    /// Its part count in the encoding it was sent in; `None` matches any.
    pub parts: Option<u32>,
}

impl Sought {
    /// The SMS `text` to `number` (as written for the gateway) under `user_id`, sent in `encoding`.
    pub fn new(user_id: u32, number: impl Into<String>, text: &str, encoding: SmsEncoding) -> Self {
        Sought {
            user_id,
            number: number.into(),
            parts: Some(parts(text, encoding)),
        }
    }

    /// Any SMS under `user_id`.
    pub fn by_id(user_id: u32) -> Self {
        Sought {
            user_id,
            number: String::new(),
            parts: None,
        }
    }

    fn same_number(&self, record: &SmsResult) -> bool {
        self.number.is_empty() || record.number.is_empty() || digits(&self.number) == digits(&record.number)
    }

    fn same_parts(&self, record: &SmsResult) -> bool {
        match (self.parts, record.count) {
            (Some(want), Some(have)) => want == have,
            _ => true,
        }
    }
}

/// What a lookup found for one [`Sought`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Finding {
    /// The gateway has it: this record.
    Landed(SmsResult),
    /// Not on the gateway after the whole window: sending it again cannot duplicate it.
    Absent,
    /// A record with the same id and number but another part count: another text. Cannot tell.
    Ambiguous(SmsResult),
}

/// The part count of `text` in `encoding`, as the gateway counts parts for `count`.
pub(crate) fn parts(text: &str, encoding: SmsEncoding) -> u32 {
    let enc = match encoding {
        SmsEncoding::Gsm7Bit => Encoding::Gsm7,
        SmsEncoding::Unicode => Encoding::Ucs2,
    };
    let s = Segmentation::with_encoding(text, enc).unwrap_or_else(|_| Segmentation::of(text));
    u32::try_from(s.segments).unwrap_or(u32::MAX)
}

/// Looks every `sought` SMS up with `lookup` (the result records of a list of ids), again and again
/// until each is found or `window` has passed, and answers a [`Finding`] per `user_id`. A failed
/// lookup ends it with that error: the caller cannot tell.
pub(crate) async fn find<F, Fut>(sought: &[Sought], window: Duration, lookup: F) -> Result<HashMap<u32, Finding>>
where
    F: Fn(Vec<u32>) -> Fut,
    Fut: Future<Output = Result<Vec<SmsResult>>>,
{
    let deadline = tokio::time::Instant::now() + window;
    let mut interval = FIRST_INTERVAL;
    let mut found: HashMap<u32, Finding> = HashMap::new();
    loop {
        let open: Vec<&Sought> = sought.iter().filter(|s| !found.contains_key(&s.user_id)).collect();
        if open.is_empty() {
            return Ok(found);
        }
        let mut ids: Vec<u32> = open.iter().map(|s| s.user_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let records = lookup(ids).await?;
        for s in open {
            if let Some(f) = classify(s, &records) {
                found.insert(s.user_id, f);
            }
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            for s in sought {
                found.entry(s.user_id).or_insert(Finding::Absent);
            }
            return Ok(found);
        }
        if found.len() < sought.len() {
            tracing::debug!(
                target: "switchboard_dinstar",
                missing = sought.len() - found.len(),
                "the gateway does not know some ids yet; looking again"
            );
        }
        tokio::time::sleep(interval.min(deadline - now)).await;
        interval = (interval * 2).min(MAX_INTERVAL);
    }
}

/// This SMS among the records, if they show it (or show a conflicting one).
fn classify(s: &Sought, records: &[SmsResult]) -> Option<Finding> {
    let mine = records.iter().filter(|r| r.user_id == Some(s.user_id));
    let mut ambiguous = None;
    for r in mine {
        if !s.same_number(r) {
            tracing::warn!(
                target: "switchboard_dinstar",
                user_id = s.user_id,
                "the gateway has another number's SMS under this user_id; it is not this one"
            );
            continue;
        }
        if s.same_parts(r) {
            return Some(Finding::Landed(r.clone()));
        }
        ambiguous = Some(r.clone());
    }
    ambiguous.map(Finding::Ambiguous)
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn record(user_id: u32, number: &str, count: u32) -> SmsResult {
        serde_json::from_value(serde_json::json!({
            "port": 0, "user_id": user_id, "number": number, "time": "2024-01-01 00:00:00",
            "status": "SENDING", "count": count, "succ_count": 0, "ref_id": 1, "imsi": ""
        }))
        .unwrap()
    }

    type Lookup = std::future::Ready<Result<Vec<SmsResult>>>;

    /// A gateway that records the task `after` the start, and counts the lookups.
    fn late_gateway(after: Duration, rec: SmsResult) -> (Arc<Mutex<usize>>, impl Fn(Vec<u32>) -> Lookup) {
        let start = tokio::time::Instant::now();
        let lookups = Arc::new(Mutex::new(0));
        let l = lookups.clone();
        let f = move |ids: Vec<u32>| {
            *l.lock().unwrap() += 1;
            let visible = start.elapsed() >= after && rec.user_id.is_some_and(|id| ids.contains(&id));
            std::future::ready(Ok(if visible { vec![rec.clone()] } else { Vec::new() }))
        };
        (lookups, f)
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_recorded_three_seconds_late_is_found_within_the_window() {
        let (lookups, lookup) = late_gateway(Duration::from_secs(3), record(7, "355694123456", 1));
        let s = [Sought::new(7, "355694123456", "hi", SmsEncoding::Gsm7Bit)];
        let start = tokio::time::Instant::now();
        let f = find(&s, Duration::from_secs(10), lookup).await.unwrap();
        assert!(matches!(f.get(&7), Some(Finding::Landed(_))), "{f:?}");
        assert!(start.elapsed() >= Duration::from_secs(3) && start.elapsed() < Duration::from_secs(6));
        assert!(*lookups.lock().unwrap() > 2);
    }

    #[tokio::test(start_paused = true)]
    async fn absent_only_after_the_whole_window() {
        let (lookups, lookup) = late_gateway(Duration::from_secs(60), record(7, "355694123456", 1));
        let s = [Sought::new(7, "355694123456", "hi", SmsEncoding::Gsm7Bit)];
        let start = tokio::time::Instant::now();
        let f = find(&s, Duration::from_secs(10), lookup).await.unwrap();
        assert_eq!(f.get(&7), Some(&Finding::Absent));
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(10),
            "the last look is at the deadline"
        );
        // 0, .25, .75, 1.75, 3.75, 5.75, 7.75, 9.75, 10.
        assert_eq!(*lookups.lock().unwrap(), 9);
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_window_is_one_look() {
        let (lookups, lookup) = late_gateway(Duration::from_secs(1), record(7, "1", 1));
        let f = find(&[Sought::by_id(7)], Duration::ZERO, lookup).await.unwrap();
        assert_eq!(f.get(&7), Some(&Finding::Absent));
        assert_eq!(*lookups.lock().unwrap(), 1);
    }

    #[test]
    fn another_number_or_another_text_under_the_same_id_is_never_this_sms() {
        let s = Sought::new(7, "355694123456", "hi", SmsEncoding::Gsm7Bit);
        assert_eq!(classify(&s, &[record(7, "355694999999", 1)]), None);
        assert!(matches!(
            classify(&s, &[record(7, "+355694123456", 3)]),
            Some(Finding::Ambiguous(_))
        ));
        assert!(matches!(
            classify(&s, &[record(7, "355694999999", 1), record(7, "+355694123456", 1)]),
            Some(Finding::Landed(_))
        ));
        assert_eq!(classify(&s, &[record(8, "355694123456", 1)]), None);
    }

    #[test]
    fn parts_follow_the_encoding() {
        let long = "a".repeat(161);
        assert_eq!(parts(&long, SmsEncoding::Gsm7Bit), 2);
        assert_eq!(parts("a", SmsEncoding::Unicode), 1);
        assert_eq!(parts(&"я".repeat(71), SmsEncoding::Unicode), 2);
    }
}

//! Building core [`CallEvent`]s from every field TeleCMI may give.

use chrono::{DateTime, Utc};
use serde_json::Value;
use switchboard_core::{CallEvent, CallState};

/// Every field of a core [`CallEvent`].
#[derive(Debug, Clone)]
pub(crate) struct CallEventParts {
    pub call_id: String,
    pub state: CallState,
    pub raw_state: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub duration_secs: Option<u64>,
    pub correlation: Option<String>,
    pub raw: Value,
}

/// A core [`CallEvent`] from its parts.
pub(crate) fn call_event(p: CallEventParts) -> CallEvent {
    let mut e = CallEvent::new(p.call_id, p.state, p.raw_state).with_raw(p.raw);
    if let Some(from) = p.from {
        e = e.with_from(from);
    }
    if let Some(to) = p.to {
        e = e.with_to(to);
    }
    if let Some(at) = p.at {
        e = e.with_at(at);
    }
    if let Some(d) = p.duration_secs {
        e = e.with_duration_secs(d);
    }
    if let Some(c) = p.correlation {
        e = e.with_correlation(c);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_field_round_trips() {
        let at = DateTime::from_timestamp_millis(1_650_630_551_178).unwrap();
        let e = call_event(CallEventParts {
            call_id: "c1".into(),
            state: CallState::Answered,
            raw_state: "answered".into(),
            from: Some("101_1111112".into()),
            to: Some("919200000000".into()),
            at: Some(at),
            duration_secs: Some(15),
            correlation: Some("deal-7".into()),
            raw: json!({"a": 1}),
        });
        assert_eq!(e.call_id, "c1");
        assert_eq!(e.state, CallState::Answered);
        assert_eq!(e.at, Some(at));
        assert_eq!(e.duration_secs, Some(15));
        assert_eq!(e.correlation.as_deref(), Some("deal-7"));
        assert_eq!(e.raw, json!({"a": 1}));
    }
}

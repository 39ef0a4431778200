//! Delta sync: what changed since last time, by a change field the configuration has.
//!
//! Standard 1C objects have no "modified at" attribute; configurations that integrate add one
//! (`ДатаИзменения` is common), or a counter, and documents have their `Date`. A [`Delta`] names the
//! set and that field; the [`Marker`] remembers how far a consumer got. It is stored in the host's
//! [`SyncLog`](crate::SyncLog) by [`Syncer::commit`](crate::Syncer::commit), or supplied by the host
//! with [`Delta::since`].
//!
//! Changes are read with `field ge marker` ordered by the field, so an entity changed within the same
//! second as the marker is not lost; the marker also remembers the `Ref_Key`s already delivered at
//! exactly its value, so they are not delivered twice. Entities without a `Ref_Key` (register records)
//! at the marker's exact value can be delivered again: make their processing idempotent.

use std::fmt;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::{Error, Result};

use crate::SCHEME;
use crate::entity::EntitySet;
use crate::filter::{DATETIME_FORMAT, Filter, Literal, field};
use crate::guid::Guid;
use crate::model::onec_date;
use crate::query::Query;

/// The most entities one [`Syncer::pull_changes`](crate::Syncer::pull_changes) returns by default.
pub const DEFAULT_MAX_ITEMS: usize = 1000;

/// The value of a change field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MarkerValue {
    /// A date and time (`ДатаИзменения`, `Date`).
    DateTime(NaiveDateTime),
    /// A whole number (a change counter).
    Int(i64),
}

impl MarkerValue {
    fn literal(&self) -> Literal {
        match self {
            MarkerValue::DateTime(t) => Literal::DateTime(*t),
            MarkerValue::Int(i) => Literal::Int(*i),
        }
    }
}

/// How far a consumer of changes got.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Marker {
    /// The change field's value of the last entity delivered.
    pub value: MarkerValue,
    /// The `Ref_Key`s delivered with exactly that value.
    pub seen: Vec<Guid>,
}

#[derive(Serialize, Deserialize)]
struct MarkerWire {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    datetime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    int: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    seen: Vec<Guid>,
}

impl Marker {
    /// Start at (and including) this date.
    pub fn at_datetime(t: NaiveDateTime) -> Marker {
        Marker {
            value: MarkerValue::DateTime(t),
            seen: Vec::new(),
        }
    }

    /// Start at (and including) this counter value.
    pub fn at_int(v: i64) -> Marker {
        Marker {
            value: MarkerValue::Int(v),
            seen: Vec::new(),
        }
    }

    /// Reads a marker written by its `Display` (a small JSON object).
    pub fn parse(s: &str) -> Result<Marker> {
        let bad =
            || Error::invalid_input("the stored delta-sync marker is not one this crate wrote").with_provider(SCHEME);
        let w: MarkerWire = serde_json::from_str(s).map_err(|_| bad())?;
        let value = match (w.datetime, w.int) {
            (Some(t), None) => MarkerValue::DateTime(onec_date::parse(&t).ok_or_else(bad)?),
            (None, Some(i)) => MarkerValue::Int(i),
            _ => return Err(bad()),
        };
        Ok(Marker { value, seen: w.seen })
    }
}

/// The marker as stored: `{"datetime":"2024-01-01T00:00:00","seen":[…]}` or `{"int":42}`.
impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = MarkerWire {
            datetime: match &self.value {
                MarkerValue::DateTime(t) => Some(t.format(DATETIME_FORMAT).to_string()),
                MarkerValue::Int(_) => None,
            },
            int: match &self.value {
                MarkerValue::Int(i) => Some(*i),
                MarkerValue::DateTime(_) => None,
            },
            seen: self.seen.clone(),
        };
        match serde_json::to_string(&w) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

/// What to pull: a set, its change field and where the marker is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    set: EntitySet,
    field: String,
    stream: String,
    filter: Option<Filter>,
    select: Vec<String>,
    since: Option<Marker>,
    max_items: usize,
}

impl Delta {
    /// Changes of `set` by `change_field` (`"ДатаИзменения"`, or `"Date"` for documents by date). The
    /// marker is stored under `"<set>:<field>"` unless [`Delta::stream_name`] says otherwise.
    pub fn new(set: EntitySet, change_field: impl Into<String>) -> Delta {
        let field = change_field.into();
        Delta {
            stream: format!("{set}:{field}"),
            set,
            field,
            filter: None,
            select: Vec::new(),
            since: None,
            max_items: DEFAULT_MAX_ITEMS,
        }
    }

    /// Stores the marker under this name (one per consumer, when several consume the same set).
    pub fn stream_name(mut self, name: impl Into<String>) -> Delta {
        self.stream = name.into();
        self
    }

    /// Only entities matching this filter as well.
    pub fn filter(mut self, filter: Filter) -> Delta {
        self.filter = Some(match self.filter.take() {
            Some(f) => f.and(filter),
            None => filter,
        });
        self
    }

    /// Only these fields (the change field and `Ref_Key` are always added).
    pub fn select<I, S>(mut self, fields: I) -> Delta
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.select.extend(fields.into_iter().map(Into::into));
        self
    }

    /// Starts from this marker instead of the stored one (a host-supplied marker).
    pub fn since(mut self, marker: Marker) -> Delta {
        self.since = Some(marker);
        self
    }

    /// At most this many entities per pull.
    pub fn max_items(mut self, n: usize) -> Delta {
        self.max_items = n.max(1);
        self
    }

    /// The set.
    pub fn set(&self) -> &EntitySet {
        &self.set
    }

    /// The change field.
    pub fn change_field(&self) -> &str {
        &self.field
    }

    /// The name the marker is stored under.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    pub(crate) fn since_marker(&self) -> Option<&Marker> {
        self.since.as_ref()
    }

    pub(crate) fn max_items_value(&self) -> usize {
        self.max_items
    }

    pub(crate) fn query(&self, since: Option<&Marker>) -> Result<Query> {
        let mut q = Query::new().order_by(self.field.clone());
        if self.set.kind().has_ref_key() {
            q = q.order_by("Ref_Key");
        }
        if let Some(m) = since {
            q = q.filter(field(self.field.clone()).ge(m.value.literal()));
        }
        if let Some(f) = &self.filter {
            q = q.filter(f.clone());
        }
        if !self.select.is_empty() {
            let mut fields = self.select.clone();
            for must in [self.field.as_str(), "Ref_Key"] {
                if (must != "Ref_Key" || self.set.kind().has_ref_key()) && !fields.iter().any(|f| f == must) {
                    fields.push(must.to_owned());
                }
            }
            q = q.select(fields);
        }
        q.to_query_string()?;
        Ok(q)
    }

    /// The change field's value in an entity, typed like the marker (or guessed from the value on the
    /// first pull: a date string or a whole number).
    pub(crate) fn value_of(&self, entity: &Value, like: Option<&Marker>) -> Result<MarkerValue> {
        let v = entity.get(&self.field);
        let want_int = matches!(like.map(|m| &m.value), Some(MarkerValue::Int(_)));
        let parsed = match v {
            Some(Value::Number(n)) => n.as_i64().map(MarkerValue::Int),
            Some(Value::String(s)) if want_int => s.parse().ok().map(MarkerValue::Int),
            Some(Value::String(s)) => onec_date::parse(s)
                .map(MarkerValue::DateTime)
                .or_else(|| s.parse().ok().map(MarkerValue::Int)),
            _ => None,
        };
        parsed.ok_or_else(|| {
            Error::decode(format!(
                "the change field {} of {} is missing or neither a date nor a whole number",
                self.field, self.set
            ))
            .with_provider(SCHEME)
        })
    }
}

/// One pull of changes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChangeBatch<T> {
    /// The changed entities, in order of the change field.
    pub items: Vec<T>,
    /// The marker after them (`None` when nothing was ever delivered).
    pub next: Option<Marker>,
    /// Whether every change known now was delivered (`false`: pull again after committing).
    pub complete: bool,
    stream: String,
}

impl<T> ChangeBatch<T> {
    pub(crate) fn new(items: Vec<T>, next: Option<Marker>, stream: String, complete: bool) -> Self {
        ChangeBatch {
            items,
            next,
            complete,
            stream,
        }
    }

    /// The name the marker is stored under.
    pub fn stream(&self) -> &str {
        &self.stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip() {
        let t = chrono::NaiveDate::from_ymd_opt(2024, 5, 1)
            .unwrap()
            .and_hms_opt(12, 30, 0)
            .unwrap();
        let mut m = Marker::at_datetime(t);
        m.seen.push(Guid::from_u128(5));
        let s = m.to_string();
        assert_eq!(
            s,
            r#"{"datetime":"2024-05-01T12:30:00","seen":["00000000-0000-0000-0000-000000000005"]}"#
        );
        assert_eq!(Marker::parse(&s).unwrap(), m);
        assert_eq!(
            Marker::parse(&Marker::at_int(42).to_string()).unwrap(),
            Marker::at_int(42)
        );
        for bad in [
            "",
            "{}",
            "[1]",
            r#"{"datetime":"x"}"#,
            r#"{"datetime":"2024-01-01T00:00:00","int":1}"#,
        ] {
            assert!(Marker::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn query_and_values() {
        let d = Delta::new(EntitySet::document("ЗаказКлиента"), "ДатаИзменения").select(["Number"]);
        assert_eq!(d.stream(), "Document_ЗаказКлиента:ДатаИзменения");
        let t = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let q = d
            .query(Some(&Marker::at_datetime(t)))
            .unwrap()
            .to_query_string()
            .unwrap();
        assert!(q.contains("$orderby=%D0%94"), "{q}");
        assert!(q.contains("ge%20datetime%272024-01-01T00%3A00%3A00%27"), "{q}");
        assert!(q.contains("Ref_Key"), "{q}");
        let v = serde_json::json!({"ДатаИзменения": "2024-02-03T04:05:06"});
        assert!(matches!(d.value_of(&v, None).unwrap(), MarkerValue::DateTime(_)));
        let v = serde_json::json!({"ДатаИзменения": 17});
        assert_eq!(d.value_of(&v, None).unwrap(), MarkerValue::Int(17));
        assert!(d.value_of(&serde_json::json!({}), None).is_err());
    }
}

//! Writes, as 1C does them: create (201 with the stored entity), `PATCH`, `DELETE`, posting and
//! unposting (a price list writes the price register), and the faults queued for the next write.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::codes;
use super::expr::Expr;
use super::schema::{PRICE_LIST, PRICE_REGISTER, SetState};
use super::state::{Fail, Reply, State, odata_error, odata_error_text};
use crate::entity::Kind;
use crate::filter::DATETIME_FORMAT;
use crate::guid::Guid;
use crate::model::onec_date;

impl State {
    pub(super) fn create(&mut self, set: &str, body: &[u8]) -> Reply {
        if !self.sets.contains_key(set) {
            return Err(if self.split_section(set).is_some() {
                odata_error(codes::TABULAR_ROWS)
            } else {
                odata_error(codes::BAD_SEGMENT)
            });
        }
        if self.sets.get(set).is_some_and(|s| s.read_only) {
            return Err(odata_error(codes::READ_ONLY));
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return Err(odata_error(codes::INTERNAL));
        };
        let rec = self.insert(set, body)?;
        if let Some(key) = rec
            .get("Ref_Key")
            .and_then(Value::as_str)
            .and_then(|g| Guid::parse(g).ok())
        {
            self.created.push((set.to_owned(), key));
        }
        let location = rec
            .get("Ref_Key")
            .and_then(Value::as_str)
            .map(|g| format!("{}/{set}(guid'{g}')", self.odata_root()))
            .unwrap_or_default();
        let v = self.render(set, rec, &HashMap::new())?;
        Ok(json_status(201, &self.element(set, v)).insert_header("location", location.as_str()))
    }

    /// Validates and stores a new entity; returns it as stored.
    pub(super) fn insert(&mut self, set: &str, body: Map<String, Value>) -> Result<Map<String, Value>, Fail> {
        let requested = match body.get("Ref_Key") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(|s| Guid::parse(s).ok())
                    .ok_or_else(|| odata_error_text(codes::BAD_VALUE, &format!("{} Ref_Key", codes::BAD_VALUE.2)))?,
            ),
        };
        let guid = match requested.and_then(Guid::non_nil) {
            Some(g) => {
                if self.exists(set, g) {
                    return Err(odata_error(codes::INTERNAL));
                }
                g
            }
            None => self.new_guid(),
        };
        let version = self.new_version();
        let now = self.tick();
        let s = self.sets.get_mut(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        let mut rec = Map::new();
        for (f, t) in &s.fields {
            rec.insert(f.clone(), t.default_value());
        }
        for (name, _) in &s.sections {
            rec.insert(name.clone(), json!([]));
        }
        apply(s, &mut rec, body, guid)?;
        s.counter += 1;
        let kind = s.kind;
        let n = s.counter;
        rec.insert("Ref_Key".into(), json!(guid.to_string()));
        rec.insert("DataVersion".into(), json!(version));
        match kind {
            Kind::Catalog if rec.get("Code").and_then(Value::as_str).is_none_or(str::is_empty) => {
                rec.insert("Code".into(), json!(format!("00-{n:06}")));
            }
            Kind::Document => {
                if rec.get("Number").and_then(Value::as_str).is_none_or(str::is_empty) {
                    rec.insert("Number".into(), json!(format!("0000-{n:06}")));
                }
                if rec
                    .get("Date")
                    .and_then(Value::as_str)
                    .is_none_or(|d| d == onec_date::EMPTY)
                {
                    rec.insert("Date".into(), json!(now.format(DATETIME_FORMAT).to_string()));
                }
                rec.insert("Posted".into(), json!(false));
            }
            _ => {}
        }
        if let Some(f) = self.tracked.get(set) {
            rec.insert(f.clone(), json!(now.format(DATETIME_FORMAT).to_string()));
        }
        let s = self.sets.get_mut(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        s.records.push(rec.clone());
        Ok(rec)
    }

    pub(super) fn exists(&self, set: &str, g: Guid) -> bool {
        let g = g.to_string();
        self.sets.get(set).is_some_and(|s| {
            s.records
                .iter()
                .any(|r| r.get("Ref_Key").and_then(Value::as_str) == Some(g.as_str()))
        })
    }

    /// Bumps `DataVersion` and the tracked change field of record `i`.
    pub(super) fn touch(&mut self, set: &str, i: usize) {
        let version = self.new_version();
        let now = self.tick().format(DATETIME_FORMAT).to_string();
        let tracked = self.tracked.get(set).cloned();
        if let Some(rec) = self.sets.get_mut(set).and_then(|s| s.records.get_mut(i)) {
            rec.insert("DataVersion".into(), json!(version));
            if let Some(f) = tracked {
                rec.insert(f, json!(now));
            }
        }
    }

    pub(super) fn patch(&mut self, set: &str, key: &Expr, body: &[u8]) -> Reply {
        if self.split_section(set).is_some() {
            return Err(odata_error(codes::TABULAR_ROWS));
        }
        let i = self.find_index(set, key)?;
        if self.sets.get(set).is_some_and(|s| s.read_only) {
            return Err(odata_error(codes::READ_ONLY));
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return Err(odata_error(codes::INTERNAL));
        };
        let s = self.sets.get_mut(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        let mut rec = s.records.get(i).cloned().unwrap_or_default();
        let guid = rec
            .get("Ref_Key")
            .and_then(Value::as_str)
            .and_then(|g| Guid::parse(g).ok())
            .unwrap_or(Guid::NIL);
        if let Some(r) = body.get("Ref_Key")
            && r.as_str().and_then(|s| Guid::parse(s).ok()) != Some(guid)
        {
            return Err(odata_error_text(codes::BAD_VALUE, "Ref_Key cannot change"));
        }
        apply(s, &mut rec, body, guid)?;
        if let Some(slot) = s.records.get_mut(i) {
            *slot = rec;
        }
        self.touch(set, i);
        let rec = self
            .sets
            .get(set)
            .and_then(|s| s.records.get(i))
            .cloned()
            .unwrap_or_default();
        let v = self.render(set, rec, &HashMap::new())?;
        Ok(json_status(200, &self.element(set, v)))
    }

    pub(super) fn delete(&mut self, set: &str, key: &Expr) -> Reply {
        let i = self.find_index(set, key)?;
        let s = self.sets.get_mut(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        if s.read_only {
            return Err(odata_error(codes::READ_ONLY));
        }
        let rec = s.records.remove(i);
        if set == PRICE_LIST
            && let Some(g) = rec.get("Ref_Key").and_then(Value::as_str)
        {
            self.clear_movements(g);
        }
        Ok(ResponseTemplate::new(204))
    }

    pub(super) fn post(&mut self, set: &str, key: &Expr, operational: bool) -> Reply {
        let i = self.find_index(set, key)?;
        let s = self.sets.get(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        if s.kind != Kind::Document {
            return Err(odata_error(codes::BAD_SEGMENT));
        }
        let rec = s.records.get(i).cloned().unwrap_or_default();
        if rec.get("DeletionMark").and_then(Value::as_bool) == Some(true) || self.refuse_posting.contains(set) {
            return Err(odata_error(codes::INTERNAL));
        }
        let date = rec.get("Date").and_then(Value::as_str).and_then(onec_date::parse);
        if operational && date.is_some_and(|d| d.date() < self.clock.date()) {
            // 1C refuses operational posting of a document dated before today.
            return Err(odata_error(codes::INTERNAL));
        }
        if let Some(slot) = self.sets.get_mut(set).and_then(|s| s.records.get_mut(i)) {
            slot.insert("Posted".into(), json!(true));
        }
        self.touch(set, i);
        if set == PRICE_LIST {
            self.write_prices(&rec);
        }
        Ok(ResponseTemplate::new(200))
    }

    pub(super) fn unpost(&mut self, set: &str, key: &Expr) -> Reply {
        let i = self.find_index(set, key)?;
        if self.sets.get(set).is_some_and(|s| s.kind != Kind::Document) {
            return Err(odata_error(codes::BAD_SEGMENT));
        }
        let mut guid = None;
        if let Some(slot) = self.sets.get_mut(set).and_then(|s| s.records.get_mut(i)) {
            slot.insert("Posted".into(), json!(false));
            guid = slot.get("Ref_Key").and_then(Value::as_str).map(str::to_owned);
        }
        self.touch(set, i);
        if set == PRICE_LIST
            && let Some(g) = guid
        {
            self.clear_movements(&g);
        }
        Ok(ResponseTemplate::new(200))
    }

    /// Posting a price list: its rows become records of the price register, recorded by it.
    pub(super) fn write_prices(&mut self, doc: &Map<String, Value>) {
        let Some(g) = doc.get("Ref_Key").and_then(Value::as_str).map(str::to_owned) else {
            return;
        };
        self.clear_movements(&g);
        let period = doc.get("Date").cloned().unwrap_or(json!(onec_date::EMPTY));
        let price_type = doc.get("ТипЦен_Key").cloned().unwrap_or(json!(Guid::NIL.to_string()));
        let rows = match doc.get("Товары") {
            Some(Value::Array(rows)) => rows.clone(),
            _ => Vec::new(),
        };
        if let Some(reg) = self.sets.get_mut(PRICE_REGISTER) {
            for row in rows {
                reg.records.push(
                    json!({
                        "Period": period, "Recorder": g, "Recorder_Type": format!("StandardODATA.{PRICE_LIST}"),
                        "LineNumber": row.get("LineNumber").cloned().unwrap_or(json!("1")), "Active": true,
                        "Номенклатура_Key": row.get("Номенклатура_Key").cloned().unwrap_or(json!(Guid::NIL.to_string())),
                        "ТипЦен_Key": price_type, "Цена": row.get("Цена").cloned().unwrap_or(json!(0)),
                    })
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                );
            }
        }
    }

    pub(super) fn clear_movements(&mut self, recorder: &str) {
        if let Some(reg) = self.sets.get_mut(PRICE_REGISTER) {
            reg.records
                .retain(|r| r.get("Recorder").and_then(Value::as_str) != Some(recorder));
        }
    }
}

/// Applies a body's properties to a record: known fields type-checked, tabular sections replaced
/// (every row needs its `LineNumber`), read-only properties ignored, unknown ones refused.
pub(super) fn apply(
    s: &SetState,
    rec: &mut Map<String, Value>,
    body: Map<String, Value>,
    owner: Guid,
) -> Result<(), Fail> {
    let bad = |what: &str| odata_error_text(codes::BAD_VALUE, &format!("{} {what}", codes::BAD_VALUE.2));
    for (k, v) in body {
        if matches!(
            k.as_str(),
            "Ref_Key" | "DataVersion" | "Posted" | "Predefined" | "PredefinedDataName"
        ) {
            continue; // 1C sets these itself
        }
        if let Some(cols) = s.section(&k) {
            let Value::Array(rows) = v else {
                return Err(bad(&k));
            };
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let Value::Object(row) = row else {
                    return Err(bad(&k));
                };
                // A row without LineNumber: 1C fails inside and says only "internal error".
                let line = match row.get("LineNumber") {
                    Some(Value::String(s)) if s.trim().parse::<u32>().is_ok() => s.trim().to_owned(),
                    Some(Value::Number(n)) if n.as_u64().is_some() => n.to_string(),
                    _ => return Err(odata_error(codes::INTERNAL)),
                };
                let mut stored = Map::new();
                stored.insert("Ref_Key".into(), json!(owner.to_string()));
                stored.insert("LineNumber".into(), json!(line));
                for (c, t) in cols {
                    stored.insert(c.clone(), t.default_value());
                }
                for (c, cv) in row {
                    if matches!(c.as_str(), "LineNumber" | "Ref_Key") {
                        continue;
                    }
                    let t = cols
                        .iter()
                        .find(|(n, _)| *n == c)
                        .map(|(_, t)| *t)
                        .ok_or_else(|| bad(&format!("{k}.{c}")))?;
                    stored.insert(c.clone(), t.check(&cv).ok_or_else(|| bad(&format!("{k}.{c}")))?);
                }
                out.push(Value::Object(stored));
            }
            rec.insert(k, Value::Array(out));
            continue;
        }
        let t = s.field_type(&k).ok_or_else(|| bad(&k))?;
        rec.insert(k.clone(), t.check(&v).ok_or_else(|| bad(&k))?);
    }
    Ok(())
}

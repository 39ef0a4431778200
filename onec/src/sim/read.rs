//! Reads: collections with `$filter`, `$select`, `$expand`, `$orderby`, `$top`, `$skip` and
//! `$inlinecount`, `/$count`, single entities, navigation links.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::codes;
use super::expr::{Expr, matches, order_json, parse};
use super::schema::{Rows, ref_target};
use super::state::{Fail, Reply, State, odata_error, odata_error_text};
use crate::guid::Guid;

impl State {
    /// The rows a set shows: its records, or for a tabular-section set every row of every document.
    pub(super) fn rows_of(&self, set: &str) -> Result<Rows, Fail> {
        if let Some(s) = self.sets.get(set) {
            let mut names: Vec<String> = s.fields.iter().map(|(n, _)| n.clone()).collect();
            names.extend(s.sections.iter().map(|(n, _)| n.clone()));
            return Ok((s.records.clone(), names));
        }
        let (owner, section) = self.split_section(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        let s = self.sets.get(&owner).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        let cols = s.section(&section).cloned().unwrap_or_default();
        let mut names = vec!["Ref_Key".to_owned(), "LineNumber".to_owned()];
        names.extend(cols.iter().map(|(n, _)| n.clone()));
        let rows = s
            .records
            .iter()
            .flat_map(|r| match r.get(&section) {
                Some(Value::Array(rows)) => rows.iter().filter_map(|r| r.as_object().cloned()).collect(),
                _ => Vec::new(),
            })
            .collect();
        Ok((rows, names))
    }

    /// `Document_X_Section` → (`Document_X`, `Section`) when that section exists.
    pub(super) fn split_section(&self, set: &str) -> Option<(String, String)> {
        self.sets.iter().find_map(|(name, s)| {
            let section = set.strip_prefix(name.as_str())?.strip_prefix('_')?;
            s.section(section).map(|_| (name.clone(), section.to_owned()))
        })
    }

    pub(super) fn filtered(
        &self,
        set: &str,
        params: &HashMap<String, String>,
    ) -> Result<Vec<Map<String, Value>>, Fail> {
        let (rows, names) = self.rows_of(set)?;
        let Some(f) = params.get("$filter") else {
            return Ok(rows);
        };
        let e = parse(f).map_err(|e| odata_error_text(codes::BAD_QUERY, &e))?;
        check_fields(&e, &names).map_err(|e| odata_error_text(codes::BAD_QUERY, &e))?;
        let mut out = Vec::new();
        for r in rows {
            if matches(&e, &r).map_err(|e| odata_error_text(codes::BAD_QUERY, &e))? {
                out.push(r);
            }
        }
        Ok(out)
    }

    pub(super) fn list(&self, set: &str, params: &HashMap<String, String>) -> Reply {
        let mut rows = self.filtered(set, params)?;
        if let Some(ob) = params.get("$orderby") {
            let mut keys = Vec::new();
            for part in ob.split(',') {
                let mut words = part.split_whitespace();
                let (Some(f), dir) = (words.next(), words.next()) else {
                    return Err(odata_error(codes::BAD_QUERY));
                };
                let desc = match dir {
                    None | Some("asc") => false,
                    Some("desc") => true,
                    Some(_) => return Err(odata_error(codes::BAD_QUERY)),
                };
                keys.push((f.to_owned(), desc));
            }
            rows.sort_by(|a, b| {
                for (f, desc) in &keys {
                    let o = order_json(a.get(f), b.get(f));
                    let o = if *desc { o.reverse() } else { o };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        let count = rows.len();
        let num = |k: &str| -> Result<Option<usize>, Fail> {
            match params.get(k) {
                None => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|_| odata_error(codes::BAD_QUERY)),
            }
        };
        let skip = num("$skip")?.unwrap_or(0);
        let top = num("$top")?;
        let page: Vec<Map<String, Value>> = rows.into_iter().skip(skip).take(top.unwrap_or(usize::MAX)).collect();
        let mut value = Vec::with_capacity(page.len());
        for r in page {
            value.push(self.render(set, r, params)?);
        }
        let mut body = Map::new();
        body.insert(
            "odata.metadata".into(),
            json!(format!("{}/$metadata#{set}", self.odata_root())),
        );
        if let Some(ic) = params.get("$inlinecount") {
            match ic.as_str() {
                "allpages" => {
                    body.insert("odata.count".into(), json!(count.to_string()));
                }
                "none" => {}
                _ => return Err(odata_error(codes::BAD_QUERY)),
            }
        }
        body.insert("value".into(), Value::Array(value));
        Ok(json_status(200, &Value::Object(body)))
    }

    pub(super) fn count(&self, set: &str, params: &HashMap<String, String>) -> Reply {
        let n = self.filtered(set, params)?.len();
        Ok(ResponseTemplate::new(200).set_body_raw(n.to_string(), "text/plain"))
    }

    pub(super) fn find_index(&self, set: &str, key: &Expr) -> Result<usize, Fail> {
        let s = self.sets.get(set).ok_or_else(|| odata_error(codes::BAD_SEGMENT))?;
        for (i, r) in s.records.iter().enumerate() {
            match matches(key, r) {
                Ok(true) => return Ok(i),
                Ok(false) => {}
                Err(e) => return Err(odata_error_text(codes::BAD_SEGMENT, &e)),
            }
        }
        Err(odata_error(codes::NOT_FOUND))
    }

    pub(super) fn get_one(&self, set: &str, key: &Expr, params: &HashMap<String, String>) -> Reply {
        let i = self.find_index(set, key)?;
        let rec = self
            .sets
            .get(set)
            .and_then(|s| s.records.get(i))
            .cloned()
            .unwrap_or_default();
        let v = self.render(set, rec, params)?;
        Ok(json_status(200, &self.element(set, v)))
    }

    pub(super) fn element(&self, set: &str, mut v: Value) -> Value {
        if let Value::Object(m) = &mut v {
            m.insert(
                "odata.metadata".into(),
                json!(format!("{}/$metadata#{set}/@Element", self.odata_root())),
            );
        }
        v
    }

    /// An entity as the interface shows it: navigation links, `$expand`, `$select`.
    pub(super) fn render(
        &self,
        set: &str,
        mut rec: Map<String, Value>,
        params: &HashMap<String, String>,
    ) -> Result<Value, Fail> {
        let self_link = rec
            .get("Ref_Key")
            .and_then(Value::as_str)
            .map(|g| format!("{set}(guid'{g}')"));
        let nav: Vec<(String, String)> = rec
            .keys()
            .filter(|k| k.as_str() != "Ref_Key")
            .filter_map(|k| {
                let name = k.strip_suffix("_Key")?;
                ref_target(set, k).map(|_| (name.to_owned(), k.clone()))
            })
            .collect();
        let mut expanded = Vec::new();
        if let Some(ex) = params.get("$expand") {
            for name in ex.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let key_field = format!("{name}_Key");
                let target = ref_target(set, &key_field).ok_or_else(|| odata_error(codes::BAD_QUERY))?;
                let target_ref = rec
                    .get(&key_field)
                    .and_then(Value::as_str)
                    .and_then(|s| Guid::parse(s).ok());
                let obj = target_ref
                    .and_then(|g| {
                        self.sets
                            .get(&target)?
                            .records
                            .iter()
                            .find(|r| r.get("Ref_Key").and_then(Value::as_str) == Some(g.to_string().as_str()))
                    })
                    .cloned()
                    .map(Value::Object)
                    .unwrap_or(Value::Null);
                expanded.push((name.to_owned(), obj));
            }
        }
        if let Some(link) = &self_link {
            for (name, _) in &nav {
                rec.insert(format!("{name}@navigationLinkUrl"), json!(format!("{link}/{name}")));
            }
        }
        if let Some(sel) = params.get("$select") {
            let wanted: Vec<&str> = sel.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            for w in &wanted {
                if !rec.contains_key(*w) {
                    return Err(odata_error_text(
                        codes::BAD_QUERY,
                        &format!("{} {w}", codes::BAD_QUERY.2),
                    ));
                }
            }
            rec.retain(|k, _| wanted.contains(&k.as_str()));
        }
        for (name, obj) in expanded {
            rec.insert(name, obj);
        }
        Ok(Value::Object(rec))
    }
}

/// Checks that every field an expression names exists in the set.
pub(super) fn check_fields(e: &Expr, names: &[String]) -> Result<(), String> {
    match e {
        Expr::Field(f) if f.contains('/') => Err(format!("navigation paths ({f}) are not simulated")),
        Expr::Field(f) if !names.iter().any(|n| n == f) => Err(format!("{} {f}", codes::BAD_QUERY.2)),
        Expr::Field(_) | Expr::Lit(_) => Ok(()),
        Expr::Cmp(a, _, b) | Expr::And(a, b) | Expr::Or(a, b) => {
            check_fields(a, names)?;
            check_fields(b, names)
        }
        Expr::Not(a) => check_fields(a, names),
        Expr::Call(_, args) => args.iter().try_for_each(|a| check_fields(a, names)),
    }
}

//! Stripe's request encoding: `application/x-www-form-urlencoded` with bracket nesting.
//!
//! `metadata[order_id]=72`, `line_items[0][price_data][currency]=usd`, `expand[]=latest_charge`.
//! [`Form`] builds such bodies; [`decode`] turns one back into nested JSON (the simulator uses it, and
//! so can a test that wants to look at what was sent).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// An ordered list of form parameters with bracketed names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name=value`.
    pub fn push(&mut self, name: impl Into<String>, value: impl ToString) -> &mut Self {
        self.pairs.push((name.into(), value.to_string()));
        self
    }

    /// Adds `name=value` when there is a value.
    pub fn push_opt<V: ToString>(&mut self, name: &str, value: Option<V>) -> &mut Self {
        if let Some(v) = value {
            self.push(name, v);
        }
        self
    }

    /// Adds `prefix[key]=value` for every entry (`metadata[order_id]=72`).
    pub fn push_map(&mut self, prefix: &str, map: &BTreeMap<String, String>) -> &mut Self {
        for (k, v) in map {
            self.push(format!("{prefix}[{k}]"), v);
        }
        self
    }

    /// Adds `prefix[]=value` for every value (`expand[]=latest_charge`).
    pub fn push_list(&mut self, prefix: &str, values: &[String]) -> &mut Self {
        for v in values {
            self.push(format!("{prefix}[]"), v);
        }
        self
    }

    /// Adds raw pairs, names already bracketed.
    pub fn extend(&mut self, pairs: &[(String, String)]) -> &mut Self {
        self.pairs.extend(pairs.iter().cloned());
        self
    }

    /// The pairs in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The encoded body.
    pub fn encode(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

/// Splits `a[b][0][]` into `["a", "b", "0", ""]`; `None` for a malformed name (`a[b`, `[x]`).
fn segments(name: &str) -> Option<Vec<&str>> {
    let (base, mut rest) = match name.find('[') {
        None => return (!name.is_empty()).then(|| vec![name]),
        Some(i) => (&name[..i], &name[i..]),
    };
    if base.is_empty() {
        return None;
    }
    let mut out = vec![base];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        out.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    Some(out)
}

fn insert(target: &mut Map<String, Value>, segs: &[&str], value: String) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        return Ok(());
    };
    if rest.is_empty() {
        target.insert((*first).to_owned(), Value::String(value));
        return Ok(());
    }
    // `a[]` appends to a list.
    if rest.len() == 1 && rest.first() == Some(&"") {
        let slot = target
            .entry((*first).to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        return match slot {
            Value::Array(a) => {
                a.push(Value::String(value));
                Ok(())
            }
            _ => Err(format!("'{first}' is both a list and something else")),
        };
    }
    let slot = target
        .entry((*first).to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    match slot {
        Value::Object(m) => insert(m, rest, value),
        _ => Err(format!("'{first}' is both a value and a hash")),
    }
}

/// Objects whose keys are all indices (`line_items[0]`, `line_items[1]`) become arrays in index order.
fn arrays(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let numeric = !m.is_empty() && m.keys().all(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()));
            if numeric {
                let mut items: Vec<(u64, Value)> = m
                    .into_iter()
                    .map(|(k, v)| (k.parse::<u64>().unwrap_or(u64::MAX), arrays(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(m.into_iter().map(|(k, v)| (k, arrays(v))).collect())
            }
        }
        Value::Array(a) => Value::Array(a.into_iter().map(arrays).collect()),
        other => other,
    }
}

/// Decodes a bracket-nested form body into a JSON object; values stay strings, as on the wire.
/// A malformed name is an error naming it.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let mut root = Map::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        let segs = segments(&k).ok_or_else(|| format!("Invalid parameter name: {k}"))?;
        insert(&mut root, &segs, v.into_owned())?;
    }
    Ok(arrays(Value::Object(root)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encode_and_decode_round_trip() {
        let mut f = Form::new();
        f.push("amount", 2000).push("currency", "usd");
        let mut md = BTreeMap::new();
        md.insert("order_id".to_owned(), "72".to_owned());
        f.push_map("metadata", &md);
        f.push("line_items[0][price_data][unit_amount]", 1000);
        f.push("line_items[1][quantity]", 2);
        f.push_list("expand", &["latest_charge".to_owned(), "customer".to_owned()]);
        let body = f.encode();
        assert!(body.contains("metadata%5Border_id%5D=72"), "{body}");
        let v = decode(body.as_bytes()).unwrap();
        assert_eq!(
            v,
            json!({
                "amount": "2000", "currency": "usd", "metadata": {"order_id": "72"},
                "line_items": [{"price_data": {"unit_amount": "1000"}}, {"quantity": "2"}],
                "expand": ["latest_charge", "customer"]
            })
        );
    }

    #[test]
    fn malformed_names_are_errors_not_panics() {
        for bad in ["a[b=1", "[x]=1", "a]b[=1", "a[b]c=1"] {
            assert!(decode(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(decode(b"a=1&a[b]=2").is_err());
        assert_eq!(decode(b"").unwrap(), json!({}));
    }
}

//! [`Query`]: the system query options of one request (`$filter`, `$select`, `$expand`, `$orderby`,
//! `$top`, `$skip`, `$inlinecount`), and the URL encoding rules for 1C's Cyrillic names.
//!
//! Every option value is percent-encoded as a whole (only RFC 3986 unreserved characters stay as they
//! are), so a space is `%20` (never `+`, which some web-server modules in front of 1C leave as a plus),
//! and a quote, `&` or `#` inside a value can never end it early.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use switchboard_core::{Error, Result};

use crate::filter::{Filter, check_field};

/// Everything but the RFC 3986 unreserved characters is encoded in option values.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// In a path segment the key syntax (`(`, `)`, `'`, `=`, `,`, `:`) stays readable, as 1C's own
/// links write it; everything else that is not unreserved (Cyrillic, spaces, `/`, `?`, `#`, `%`) is
/// encoded.
const SEGMENT: &AsciiSet = &VALUE
    .remove(b'(')
    .remove(b')')
    .remove(b'\'')
    .remove(b'=')
    .remove(b',')
    .remove(b':');

/// Percent-encodes a query option value.
pub fn encode_value(v: &str) -> String {
    utf8_percent_encode(v, VALUE).to_string()
}

/// Percent-encodes one path segment (an entity set name with its key).
pub fn encode_segment(v: &str) -> String {
    utf8_percent_encode(v, SEGMENT).to_string()
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// The query options of one read. Every `list`/`stream`/`get` call adds `$format=json` itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    filter: Option<Filter>,
    select: Vec<String>,
    expand: Vec<String>,
    order_by: Vec<(String, Order)>,
    top: Option<u64>,
    skip: Option<u64>,
    inline_count: bool,
}

impl Query {
    /// No options: the whole set.
    pub fn new() -> Query {
        Query::default()
    }

    /// Adds a `$filter` condition; a second call is ANDed with the first.
    pub fn filter(mut self, filter: Filter) -> Query {
        self.filter = Some(match self.filter.take() {
            Some(f) => f.and(filter),
            None => filter,
        });
        self
    }

    /// `$select`: only these fields come back (lighter on a production base).
    pub fn select<I, S>(mut self, fields: I) -> Query
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.select.extend(fields.into_iter().map(Into::into));
        self
    }

    /// `$expand`: these navigation properties come back inline (`Контрагент` for `Контрагент_Key`).
    pub fn expand<I, S>(mut self, fields: I) -> Query
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.expand.extend(fields.into_iter().map(Into::into));
        self
    }

    /// `$orderby field asc`.
    pub fn order_by(mut self, field: impl Into<String>) -> Query {
        self.order_by.push((field.into(), Order::Asc));
        self
    }

    /// `$orderby field desc`.
    pub fn order_by_desc(mut self, field: impl Into<String>) -> Query {
        self.order_by.push((field.into(), Order::Desc));
        self
    }

    /// `$top`: at most this many entities.
    pub fn top(mut self, n: u64) -> Query {
        self.top = Some(n);
        self
    }

    /// `$skip`: leave out the first `n`.
    pub fn skip(mut self, n: u64) -> Query {
        self.skip = Some(n);
        self
    }

    /// `$inlinecount=allpages`: the answer says how many entities match in all (`odata.count`).
    pub fn with_count(mut self) -> Query {
        self.inline_count = true;
        self
    }

    /// The filter, if any.
    pub fn filter_ref(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    /// The `$top`, if any.
    pub fn top_value(&self) -> Option<u64> {
        self.top
    }

    /// The `$skip`, if any.
    pub fn skip_value(&self) -> Option<u64> {
        self.skip
    }

    /// Whether an order is set.
    pub fn is_ordered(&self) -> bool {
        !self.order_by.is_empty()
    }

    /// The query string, `$format=json` first, every value encoded.
    pub fn to_query_string(&self) -> Result<String> {
        let mut parts = vec!["$format=json".to_owned()];
        if let Some(f) = &self.filter {
            parts.push(format!("$filter={}", encode_value(&f.to_odata()?)));
        }
        if !self.select.is_empty() {
            parts.push(format!("$select={}", encode_value(&fields(&self.select)?)));
        }
        if !self.expand.is_empty() {
            parts.push(format!("$expand={}", encode_value(&fields(&self.expand)?)));
        }
        if !self.order_by.is_empty() {
            let mut s = String::new();
            for (i, (f, o)) in self.order_by.iter().enumerate() {
                check_field(f)?;
                if i > 0 {
                    s.push(',');
                }
                s.push_str(f);
                if *o == Order::Desc {
                    s.push_str(" desc");
                }
            }
            parts.push(format!("$orderby={}", encode_value(&s)));
        }
        if let Some(t) = self.top {
            parts.push(format!("$top={t}"));
        }
        if let Some(s) = self.skip {
            parts.push(format!("$skip={s}"));
        }
        if self.inline_count {
            parts.push("$inlinecount=allpages".to_owned());
        }
        Ok(parts.join("&"))
    }
}

fn fields(list: &[String]) -> Result<String> {
    for f in list {
        check_field(f).map_err(|e| Error::invalid_input(format!("$select/$expand: {}", e.message())))?;
    }
    Ok(list.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::field;

    #[test]
    fn query_string_is_fully_encoded() {
        let q = Query::new()
            .filter(field("Description").eq("A & B #1 + 'x'"))
            .select(["Ref_Key", "Description"])
            .order_by_desc("Date")
            .top(10)
            .skip(20)
            .with_count();
        let s = q.to_query_string().unwrap();
        assert_eq!(
            s,
            "$format=json&$filter=Description%20eq%20%27A%20%26%20B%20%231%20%2B%20%27%27x%27%27%27\
             &$select=Ref_Key%2CDescription&$orderby=Date%20desc&$top=10&$skip=20&$inlinecount=allpages"
        );
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(s.as_bytes()).into_owned().collect();
        assert_eq!(decoded[1].1, "Description eq 'A & B #1 + ''x'''");
    }

    #[test]
    fn bad_names_are_refused_before_sending() {
        assert!(Query::new().select(["a,b"]).to_query_string().is_err());
        assert!(Query::new().order_by("x desc").to_query_string().is_err());
        assert!(Query::new().expand(["Контрагент"]).to_query_string().is_ok());
    }

    #[test]
    fn segments_keep_key_syntax() {
        assert_eq!(
            encode_segment("Catalog_Контрагенты(guid'00000000-0000-0000-0000-000000000000')"),
            "Catalog_%D0%9A%D0%BE%D0%BD%D1%82%D1%80%D0%B0%D0%B3%D0%B5%D0%BD%D1%82%D1%8B(guid'00000000-0000-0000-0000-000000000000')"
        );
        assert_eq!(encode_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
    }
}

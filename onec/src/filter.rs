//! A typed `$filter` builder. Values never become query text by pasting: every value is a [`Literal`]
//! rendered by OData's rules (strings quoted with inner quotes doubled, GUIDs as `guid'…'`, dates as
//! `datetime'…'`), and field names are checked to be identifiers. So a company called
//! `ООО "Рога и копыта"` or a person called `O'Brien` is a value, never a piece of the query.
//!
//! ```
//! use switchboard_onec::filter::field;
//!
//! let f = field("ИНН").eq("7707083893").and(field("DeletionMark").eq(false));
//! assert_eq!(f.to_odata()?, "ИНН eq '7707083893' and DeletionMark eq false");
//!
//! let f = field("Description").eq("O'Brien");
//! assert_eq!(f.to_odata()?, "Description eq 'O''Brien'");
//! # Ok::<(), switchboard_core::Error>(())
//! ```

use std::fmt;

use chrono::{NaiveDate, NaiveDateTime};
use switchboard_core::{Error, Result};

use crate::decimal::Decimal;
use crate::guid::Guid;

/// The format of 1C's dates on the wire and in `datetime'…'` literals: no fraction, no time zone
/// (1C dates are local to the infobase).
pub const DATETIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// A value in a filter or a register key.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A decimal number, written plainly (`1500.5`).
    ///
    /// OData v3 writes `Edm.Decimal` literals with an `M` suffix ("OData Version 3.0 URL Conventions",
    /// literal forms), but 1C's `$metadata` publishes fractional numbers as `Edm.Double`, which takes a
    /// plain number; so plain numbers are written (the simulator accepts both).
    Decimal(Decimal),
    /// A string, written `'…'` with every `'` doubled.
    String(String),
    /// A reference, written `guid'…'`.
    Guid(Guid),
    /// A date and time, written `datetime'YYYY-MM-DDTHH:MM:SS'` (no fraction, no zone).
    DateTime(NaiveDateTime),
}

impl Literal {
    /// The literal as OData query text.
    pub fn to_odata(&self) -> String {
        match self {
            Literal::Null => "null".to_owned(),
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::Decimal(d) => d.to_string(),
            Literal::String(s) => quote(s),
            Literal::Guid(g) => format!("guid'{g}'"),
            Literal::DateTime(t) => format!("datetime'{}'", t.format(DATETIME_FORMAT)),
        }
    }
}

/// `'…'` with inner quotes doubled: the one escaping rule of OData string literals.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

impl From<&str> for Literal {
    fn from(v: &str) -> Literal {
        Literal::String(v.to_owned())
    }
}
impl From<String> for Literal {
    fn from(v: String) -> Literal {
        Literal::String(v)
    }
}
impl From<&String> for Literal {
    fn from(v: &String) -> Literal {
        Literal::String(v.clone())
    }
}
impl From<bool> for Literal {
    fn from(v: bool) -> Literal {
        Literal::Bool(v)
    }
}
impl From<i64> for Literal {
    fn from(v: i64) -> Literal {
        Literal::Int(v)
    }
}
impl From<i32> for Literal {
    fn from(v: i32) -> Literal {
        Literal::Int(i64::from(v))
    }
}
impl From<u32> for Literal {
    fn from(v: u32) -> Literal {
        Literal::Int(i64::from(v))
    }
}
impl From<Decimal> for Literal {
    fn from(v: Decimal) -> Literal {
        Literal::Decimal(v)
    }
}
impl From<Guid> for Literal {
    fn from(v: Guid) -> Literal {
        Literal::Guid(v)
    }
}
impl From<NaiveDateTime> for Literal {
    fn from(v: NaiveDateTime) -> Literal {
        Literal::DateTime(v)
    }
}
/// A date is its midnight.
impl From<NaiveDate> for Literal {
    fn from(v: NaiveDate) -> Literal {
        Literal::DateTime(v.and_time(chrono::NaiveTime::MIN))
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

impl Op {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Cmp(String, Op, Literal),
    SubstringOf(String, String),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// A `$filter` expression. Build it from [`field`]; combine with [`Filter::and`], [`Filter::or`],
/// [`Filter::not`] (or `&`, `|`, `!`).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(Expr);

/// A field to compare: `field("ИНН").eq("7707083893")`. A path through a reference is written with
/// `/` (`field("Контрагент/ИНН")`).
pub fn field(name: impl Into<String>) -> Field {
    Field(name.into())
}

/// A field of an entity, the left side of a comparison. Made by [`field`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field(String);

impl Field {
    fn cmp(self, op: Op, value: impl Into<Literal>) -> Filter {
        Filter(Expr::Cmp(self.0, op, value.into()))
    }
    /// `field eq value`
    pub fn eq(self, value: impl Into<Literal>) -> Filter {
        self.cmp(Op::Eq, value)
    }
    /// `field ne value`
    pub fn ne(self, value: impl Into<Literal>) -> Filter {
        self.cmp(Op::Ne, value)
    }
    /// `field gt value`
    pub fn gt(self, value: impl Into<Literal>) -> Filter {
        self.cmp(Op::Gt, value)
    }
    /// `field ge value`
    pub fn ge(self, value: impl Into<Literal>) -> Filter {
        self.cmp(Op::Ge, value)
    }
    /// `field lt value`
    pub fn lt(self, value: impl Into<Literal>) -> Filter {
        self.cmp(Op::Lt, value)
    }
    /// `field le value`
    pub fn le(self, value: impl Into<Literal>) -> Filter {
        self.cmp(Op::Le, value)
    }
    /// `substringof('needle', field)`: the field contains `needle`.
    ///
    /// Which string functions 1C's OData interface supports varies by platform version; `substringof`
    /// is the one OData v3 defines ("OData Version 3.0 URL Conventions", canonical functions) and the
    /// one this crate emits.
    pub fn contains(self, needle: impl Into<String>) -> Filter {
        Filter(Expr::SubstringOf(needle.into(), self.0))
    }
    /// A comparison with any operator.
    pub fn compare(self, op: Op, value: impl Into<Literal>) -> Filter {
        self.cmp(op, value)
    }
}

impl Filter {
    /// Both must hold.
    pub fn and(self, other: Filter) -> Filter {
        Filter(Expr::And(Box::new(self.0), Box::new(other.0)))
    }

    /// Either holds.
    pub fn or(self, other: Filter) -> Filter {
        Filter(Expr::Or(Box::new(self.0), Box::new(other.0)))
    }

    /// Negation.
    #[allow(clippy::should_implement_trait)] // `!` is implemented too; the method reads better in chains
    pub fn not(self) -> Filter {
        Filter(Expr::Not(Box::new(self.0)))
    }

    /// All of them (`None` for none).
    pub fn all(filters: impl IntoIterator<Item = Filter>) -> Option<Filter> {
        filters.into_iter().reduce(Filter::and)
    }

    /// Any of them (`None` for none).
    pub fn any(filters: impl IntoIterator<Item = Filter>) -> Option<Filter> {
        filters.into_iter().reduce(Filter::or)
    }

    /// The expression as `$filter` text, before URL encoding. Fails (with nothing sent) when a field
    /// name is not an identifier path.
    pub fn to_odata(&self) -> Result<String> {
        let mut out = String::new();
        render(&self.0, &mut out)?;
        Ok(out)
    }
}

impl std::ops::BitAnd for Filter {
    type Output = Filter;
    fn bitand(self, rhs: Filter) -> Filter {
        self.and(rhs)
    }
}

impl std::ops::BitOr for Filter {
    type Output = Filter;
    fn bitor(self, rhs: Filter) -> Filter {
        self.or(rhs)
    }
}

impl std::ops::Not for Filter {
    type Output = Filter;
    fn not(self) -> Filter {
        Filter::not(self)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_odata() {
            Ok(s) => f.write_str(&s),
            Err(_) => f.write_str("<invalid filter>"),
        }
    }
}

fn render(e: &Expr, out: &mut String) -> Result<()> {
    match e {
        Expr::Cmp(name, op, value) => {
            check_field(name)?;
            out.push_str(name);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            out.push_str(&value.to_odata());
        }
        Expr::SubstringOf(needle, name) => {
            check_field(name)?;
            out.push_str("substringof(");
            out.push_str(&quote(needle));
            out.push_str(", ");
            out.push_str(name);
            out.push(')');
        }
        Expr::And(a, b) => {
            child(a, out, matches!(**a, Expr::Or(..)))?;
            out.push_str(" and ");
            child(b, out, matches!(**b, Expr::Or(..)))?;
        }
        Expr::Or(a, b) => {
            child(a, out, matches!(**a, Expr::And(..)))?;
            out.push_str(" or ");
            child(b, out, matches!(**b, Expr::And(..)))?;
        }
        Expr::Not(a) => {
            out.push_str("not ");
            child(a, out, !matches!(**a, Expr::SubstringOf(..)))?;
        }
    }
    Ok(())
}

fn child(e: &Expr, out: &mut String, parens: bool) -> Result<()> {
    if parens {
        out.push('(');
        render(e, out)?;
        out.push(')');
        Ok(())
    } else {
        render(e, out)
    }
}

/// Checks a field path: identifiers (letters, digits, `_`, not starting with a digit) joined by `/`.
pub(crate) fn check_field(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.split('/').all(|seg| {
            let mut chars = seg.chars();
            match chars.next() {
                Some(c) => (c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_'),
                None => false,
            }
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "'{}' is not a field name (letters, digits and '_', paths joined by '/')",
            name.escape_debug()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(
            Literal::from("ООО \"Рога и копыта\"").to_odata(),
            "'ООО \"Рога и копыта\"'"
        );
        assert_eq!(Literal::from("O'Brien").to_odata(), "'O''Brien'");
        assert_eq!(Literal::from("''").to_odata(), "''''''");
        assert_eq!(Literal::from(-5).to_odata(), "-5");
        assert_eq!(Literal::from(Decimal::parse("10.50").unwrap()).to_odata(), "10.5");
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(Literal::from(d).to_odata(), "datetime'2024-02-29T00:00:00'");
        assert_eq!(Literal::Null.to_odata(), "null");
    }

    #[test]
    fn precedence_is_kept_with_parentheses() {
        let f = field("A").eq(1).or(field("B").eq(2)).and(field("C").eq(3));
        assert_eq!(f.to_odata().unwrap(), "(A eq 1 or B eq 2) and C eq 3");
        let f = field("A").eq(1).and(field("B").eq(2)).or(field("C").eq(3));
        assert_eq!(f.to_odata().unwrap(), "(A eq 1 and B eq 2) or C eq 3");
        let f = !(field("A").eq(1) | field("B").eq(2));
        assert_eq!(f.to_odata().unwrap(), "not (A eq 1 or B eq 2)");
        let f = field("Description").contains("O'B").not();
        assert_eq!(f.to_odata().unwrap(), "not substringof('O''B', Description)");
        assert_eq!(Filter::all(Vec::new()), None);
    }

    #[test]
    fn field_names_cannot_inject() {
        for bad in ["", "a b", "A eq 1 or B", "x'", "A)", "/A", "A/", "1A", "A--"] {
            assert!(field(bad).eq(1).to_odata().is_err(), "{bad}");
        }
        assert!(field("Контрагент/ИНН").eq("1").to_odata().is_ok());
        assert!(field("Ref_Key").eq(Guid::NIL).to_odata().is_ok());
    }
}

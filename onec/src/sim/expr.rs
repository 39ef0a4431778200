//! The simulator's `$filter` (and key) parser and evaluator: the subset of OData v3 the client emits,
//! parsed properly rather than pattern-matched, so an escaping bug in the client shows up as a wrong
//! match or a 400 here.
//!
//! Grammar (lowest precedence first):
//!
//! ```text
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | cmp
//! cmp     := primary (("eq"|"ne"|"gt"|"ge"|"lt"|"le") primary)?
//! primary := "(" or ")" | literal | name "(" args ")" | field
//! literal := 'str' ('' inside) | guid'…' | datetime'…' | number [M|D|L|F] | true | false | null
//! ```
//!
//! Functions: `substringof(needle, field)`, `startswith(field, prefix)`, `endswith(field, suffix)`.
//! String comparisons ignore case, as 1C's queries do on the usual DBMS collations.

use std::cmp::Ordering;

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use crate::guid::Guid;
use crate::model::onec_date;

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Guid(Guid),
    DateTime(NaiveDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Lit(Val),
    Field(String),
    Cmp(Box<Expr>, Op, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Call(String, Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Lit(Val),
    LParen,
    RParen,
    Comma,
    Eq,
}

fn tokenize(input: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if c == '=' {
            out.push(Tok::Eq);
            i += 1;
        } else if c == '\'' {
            let (s, next) = read_quoted(&chars, i)?;
            out.push(Tok::Lit(Val::Str(s)));
            i = next;
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            if i < chars.len() && matches!(chars[i], 'M' | 'm' | 'D' | 'd' | 'L' | 'l' | 'F' | 'f') {
                i += 1;
            }
            let n: f64 = text.parse().map_err(|_| format!("bad number {text}"))?;
            out.push(Tok::Lit(Val::Num(n)));
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '/') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if chars.get(i) == Some(&'\'') {
                let (s, next) = read_quoted(&chars, i)?;
                i = next;
                let v = match word.as_str() {
                    "guid" => Val::Guid(Guid::parse(&s).map_err(|_| format!("bad guid literal '{s}'"))?),
                    "datetime" => {
                        Val::DateTime(onec_date::parse(&s).ok_or_else(|| format!("bad datetime literal '{s}'"))?)
                    }
                    other => return Err(format!("unknown literal prefix {other}")),
                };
                out.push(Tok::Lit(v));
            } else {
                out.push(match word.as_str() {
                    "true" => Tok::Lit(Val::Bool(true)),
                    "false" => Tok::Lit(Val::Bool(false)),
                    "null" => Tok::Lit(Val::Null),
                    _ => Tok::Ident(word),
                });
            }
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(out)
}

/// Reads `'…'` starting at `start` (the opening quote), with `''` as an escaped quote.
fn read_quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err("unterminated string literal".to_owned()),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                s.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((s, i + 1)),
            Some(c) => {
                s.push(*c);
                i += 1;
            }
        }
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == kw)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, String> {
        let left = self.primary()?;
        let op = match self.peek() {
            Some(Tok::Ident(w)) => match w.as_str() {
                "eq" => Some(Op::Eq),
                "ne" => Some(Op::Ne),
                "gt" => Some(Op::Gt),
                "ge" => Some(Op::Ge),
                "lt" => Some(Op::Lt),
                "le" => Some(Op::Le),
                _ => None,
            },
            _ => None,
        };
        match op {
            Some(op) => {
                self.pos += 1;
                let right = self.primary()?;
                Ok(Expr::Cmp(Box::new(left), op, Box::new(right)))
            }
            None => Ok(left),
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => Err("missing ')'".to_owned()),
                }
            }
            Some(Tok::Lit(v)) => Ok(Expr::Lit(v)),
            Some(Tok::Ident(name)) => {
                if matches!(name.as_str(), "and" | "or" | "eq" | "ne" | "gt" | "ge" | "lt" | "le") {
                    return Err(format!("unexpected '{name}'"));
                }
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(&Tok::RParen) {
                        loop {
                            args.push(self.or()?);
                            match self.next() {
                                Some(Tok::Comma) => continue,
                                Some(Tok::RParen) => break,
                                _ => return Err(format!("bad arguments of {name}")),
                            }
                        }
                    } else {
                        self.pos += 1;
                    }
                    Ok(Expr::Call(name, args))
                } else {
                    Ok(Expr::Field(name))
                }
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("unexpected end of expression".to_owned()),
        }
    }
}

/// Parses a `$filter` expression.
pub(crate) fn parse(input: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: tokenize(input)?,
        pos: 0,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected {:?} after the expression", p.peek()));
    }
    Ok(e)
}

/// Parses an entity key (`guid'…'` or `A=lit,B=lit`) into a condition on `Ref_Key` or the fields.
pub(crate) fn parse_key(input: &str) -> Result<Expr, String> {
    let toks = tokenize(input)?;
    if let [Tok::Lit(v)] = toks.as_slice() {
        return Ok(Expr::Cmp(
            Box::new(Expr::Field("Ref_Key".into())),
            Op::Eq,
            Box::new(Expr::Lit(v.clone())),
        ));
    }
    let mut cond: Option<Expr> = None;
    for part in toks.split(|t| *t == Tok::Comma) {
        let [Tok::Ident(name), Tok::Eq, Tok::Lit(v)] = part else {
            return Err("a key is guid'…' or Field=value,…".to_owned());
        };
        let c = Expr::Cmp(
            Box::new(Expr::Field(name.clone())),
            Op::Eq,
            Box::new(Expr::Lit(v.clone())),
        );
        cond = Some(match cond {
            Some(prev) => Expr::And(Box::new(prev), Box::new(c)),
            None => c,
        });
    }
    cond.ok_or_else(|| "empty key".to_owned())
}

/// Whether the expression holds for the record; an error for unknown fields and type misuse (1C answers
/// those with 400).
pub(crate) fn matches(e: &Expr, rec: &Map<String, Value>) -> Result<bool, String> {
    match eval(e, rec)? {
        Val::Bool(b) => Ok(b),
        other => Err(format!("the filter is not a condition ({other:?})")),
    }
}

fn eval(e: &Expr, rec: &Map<String, Value>) -> Result<Val, String> {
    Ok(match e {
        Expr::Lit(v) => v.clone(),
        Expr::Field(name) => {
            if name.contains('/') {
                return Err(format!("navigation paths ({name}) are not simulated"));
            }
            match rec.get(name) {
                Some(v) => from_json(v),
                None => return Err(format!("unknown field {name}")),
            }
        }
        Expr::Cmp(a, op, b) => {
            let (a, b) = (eval(a, rec)?, eval(b, rec)?);
            Val::Bool(compare(&a, *op, &b))
        }
        Expr::And(a, b) => Val::Bool(truth(eval(a, rec)?)? && truth(eval(b, rec)?)?),
        Expr::Or(a, b) => Val::Bool(truth(eval(a, rec)?)? || truth(eval(b, rec)?)?),
        Expr::Not(a) => Val::Bool(!truth(eval(a, rec)?)?),
        Expr::Call(name, args) => {
            let vals = args.iter().map(|a| eval(a, rec)).collect::<Result<Vec<_>, _>>()?;
            let strs = |i: usize| match vals.get(i) {
                Some(Val::Str(s)) => Ok(s.to_lowercase()),
                Some(Val::Null) => Ok(String::new()),
                _ => Err(format!("{name} takes strings")),
            };
            if vals.len() != 2 {
                return Err(format!("{name} takes two arguments"));
            }
            match name.as_str() {
                "substringof" => Val::Bool(strs(1)?.contains(&strs(0)?)),
                "startswith" => Val::Bool(strs(0)?.starts_with(&strs(1)?)),
                "endswith" => Val::Bool(strs(0)?.ends_with(&strs(1)?)),
                other => return Err(format!("function {other} is not simulated")),
            }
        }
    })
}

fn truth(v: Val) -> Result<bool, String> {
    match v {
        Val::Bool(b) => Ok(b),
        other => Err(format!("{other:?} is not a condition")),
    }
}

fn from_json(v: &Value) -> Val {
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Val::Str(s.clone()),
        other => Val::Str(other.to_string()),
    }
}

/// Compares with the literal's type deciding how a stored string is read (a GUID, a date, a number).
fn order(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Str(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Guid(x), Val::Guid(y)) => Some(x.cmp(y)),
        (Val::DateTime(x), Val::DateTime(y)) => Some(x.cmp(y)),
        (Val::Str(s), Val::Guid(_)) => Guid::parse(s).ok().and_then(|g| order(&Val::Guid(g), b)),
        (Val::Guid(_), Val::Str(s)) => Guid::parse(s).ok().and_then(|g| order(a, &Val::Guid(g))),
        (Val::Str(s), Val::DateTime(_)) => onec_date::parse(s).and_then(|t| order(&Val::DateTime(t), b)),
        (Val::DateTime(_), Val::Str(s)) => onec_date::parse(s).and_then(|t| order(a, &Val::DateTime(t))),
        (Val::Str(s), Val::Num(_)) => s.parse().ok().and_then(|n| order(&Val::Num(n), b)),
        (Val::Num(_), Val::Str(s)) => s.parse().ok().and_then(|n| order(a, &Val::Num(n))),
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

fn compare(a: &Val, op: Op, b: &Val) -> bool {
    let o = order(a, b);
    match op {
        Op::Eq => o == Some(Ordering::Equal),
        Op::Ne => o != Some(Ordering::Equal),
        Op::Gt => o == Some(Ordering::Greater),
        Op::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
        Op::Lt => o == Some(Ordering::Less),
        Op::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
    }
}

/// Orders two JSON values for `$orderby`.
pub(crate) fn order_json(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let a = a.map(from_json).unwrap_or(Val::Null);
    let b = b.map(from_json).unwrap_or(Val::Null);
    // Dates are stored as sortable strings, GUIDs compare by text; both order correctly as strings.
    order(&a, &b).unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec() -> Map<String, Value> {
        match json!({
            "Description": "O'Brien", "ИНН": "7707083893", "Сумма": 1500.5, "Posted": true,
            "Ref_Key": "1fa1a135-d89b-11e6-8343-40167e2531c3", "Date": "2024-03-01T10:00:00",
            "Name": "ООО \"Рога и копыта\""
        }) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn check(f: &str) -> bool {
        matches(&parse(f).unwrap(), &rec()).unwrap()
    }

    #[test]
    fn literals_and_operators() {
        assert!(check("Description eq 'O''Brien'"));
        assert!(check("Description eq 'o''brien'"), "1C compares strings ignoring case");
        assert!(!check("Description eq 'O'"));
        assert!(check("Name eq 'ООО \"Рога и копыта\"'"));
        assert!(check("Ref_Key eq guid'1FA1A135-D89B-11E6-8343-40167E2531C3'"));
        assert!(check(
            "Date ge datetime'2024-03-01T10:00:00' and Date lt datetime'2024-03-02T00:00:00'"
        ));
        assert!(check("Сумма gt 1500 and Сумма le 1500.5M"));
        assert!(check("Posted eq true and not (ИНН ne '7707083893')"));
        assert!(check("ИНН eq '0' or substringof('brien', Description)"));
        assert!(check("startswith(ИНН, '77') and endswith(ИНН, '93')"));
        assert!(check("(ИНН eq '1' or ИНН eq '7707083893') and Posted eq true"));
        assert!(!check("ИНН eq '1' or ИНН eq '2' and Posted eq true"));
    }

    #[test]
    fn errors() {
        for bad in [
            "Description eq 'x",
            "Description eq",
            "eq 'x'",
            "(Posted eq true",
            "Posted eq true)",
            "guid'nope' eq Ref_Key",
            "x'1' eq Ref_Key",
            "Description eq 'a' 'b'",
            "Description ~ 'a'",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(matches(&parse("Unknown eq 1").unwrap(), &rec()).is_err());
        assert!(matches(&parse("Description").unwrap(), &rec()).is_err());
        assert!(matches(&parse("Контрагент/ИНН eq '1'").unwrap(), &rec()).is_err());
    }

    #[test]
    fn keys() {
        let k = parse_key("guid'1fa1a135-d89b-11e6-8343-40167e2531c3'").unwrap();
        assert!(matches(&k, &rec()).unwrap());
        let k = parse_key("ИНН='7707083893',Posted=true").unwrap();
        assert!(matches(&k, &rec()).unwrap());
        assert!(parse_key("ИНН").is_err());
        assert!(parse_key("").is_err());
    }
}

//! Tiny templates: `{{name}}` replaced by a value, HTML-escaped in the HTML part.
//!
//! Enough for transactional mail ("Your order {{order}} has shipped") without a template engine in
//! the dependency tree. A variable with no value is an error naming it, never an empty hole in a
//! customer's email. Values are HTML-escaped in the HTML part (a customer named `<script>` stays
//! text), inserted as they are in the plain part, and have line breaks flattened in the subject.
//!
//! ```
//! use std::collections::BTreeMap;
//! use switchboard_email::Template;
//!
//! let t = Template::new("Order {{order}} shipped", "Hello {{name}}, order {{ order }} is on its way.")
//!     .with_html("<p>Hello <b>{{name}}</b>, order {{order}} is on its way.</p>");
//! let vars = BTreeMap::from([("name".to_owned(), "Ana & <Co>".to_owned()), ("order".to_owned(), "#72".to_owned())]);
//! let r = t.render(&vars)?;
//! assert_eq!(r.subject, "Order #72 shipped");
//! assert_eq!(r.text, "Hello Ana & <Co>, order #72 is on its way.");
//! assert_eq!(r.html.as_deref(), Some("<p>Hello <b>Ana &amp; &lt;Co&gt;</b>, order #72 is on its way.</p>"));
//! # Ok::<(), switchboard_core::Error>(())
//! ```

use std::collections::BTreeMap;

use switchboard_core::{Error, Message, Recipient, Result};

use crate::SCHEME;

/// A subject, a plain-text body and an optional HTML body, each with `{{name}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    subject: String,
    text: String,
    html: Option<String>,
}

/// A rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rendered {
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: Option<String>,
}

impl Template {
    /// A template with a subject and a plain-text body.
    pub fn new(subject: impl Into<String>, text: impl Into<String>) -> Self {
        Template {
            subject: subject.into(),
            text: text.into(),
            html: None,
        }
    }

    /// Adds the HTML body.
    pub fn with_html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Fills the placeholders. A placeholder without a value is an `InvalidInput` error naming it.
    pub fn render(&self, vars: &BTreeMap<String, String>) -> Result<Rendered> {
        Ok(Rendered {
            subject: render(&self.subject, vars, Escape::Header)?,
            text: render(&self.text, vars, Escape::None)?,
            html: self
                .html
                .as_deref()
                .map(|h| render(h, vars, Escape::Html))
                .transpose()?,
        })
    }

    /// A switchboard email message to `to`, rendered with `vars` (kept as the message's data).
    pub fn message(&self, to: Recipient, vars: &BTreeMap<String, String>) -> Result<Message> {
        let r = self.render(vars)?;
        let mut m = Message::email_to(to, r.subject, r.text);
        if let Some(h) = r.html {
            m = m.with_html(h);
        }
        for (k, v) in vars {
            m = m.with_data(k.clone(), v.clone());
        }
        Ok(m)
    }
}

#[derive(Clone, Copy)]
enum Escape {
    None,
    Html,
    Header,
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Replaces `{{ name }}` in `template`. Text that is not a placeholder (a lone `{{`, `{{ two words }}`)
/// is kept as it is.
fn render(template: &str, vars: &BTreeMap<String, String>, escape: Escape) -> Result<String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = after[..end].trim();
        if !is_name(name) {
            out.push_str("{{");
            rest = after;
            continue;
        }
        let value = vars.get(name).ok_or_else(|| {
            Error::invalid_input(format!(
                "the template uses {{{{{name}}}}} but no value was given for it"
            ))
            .with_provider(SCHEME)
        })?;
        match escape {
            Escape::None => out.push_str(value),
            Escape::Html => out.push_str(&escape_html(value)),
            Escape::Header => out.push_str(&value.replace(['\r', '\n'], " ")),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// HTML escaping for text and attribute values.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn placeholders_and_escaping() {
        let t = Template::new("Hi {{name}}", "{{name}}: {{x}}").with_html("<a title=\"{{name}}\">{{x}}</a>");
        let r = t
            .render(&vars(&[("name", "O'Neil \"Jr\"\r\nBcc: x"), ("x", "<b>")]))
            .unwrap();
        assert_eq!(r.subject, "Hi O'Neil \"Jr\"  Bcc: x");
        assert_eq!(r.text, "O'Neil \"Jr\"\r\nBcc: x: <b>");
        assert_eq!(
            r.html.unwrap(),
            "<a title=\"O&#39;Neil &quot;Jr&quot;\r\nBcc: x\">&lt;b&gt;</a>"
        );
    }

    #[test]
    fn missing_values_are_errors_and_non_placeholders_stay() {
        let e = Template::new("s", "Hello {{who}}")
            .render(&BTreeMap::new())
            .unwrap_err();
        assert!(e.to_string().contains("{{who}}"), "{e}");
        let r = Template::new("{{", "a {{ two words }} b {{ and {{x}} }}")
            .render(&vars(&[("x", "1")]))
            .unwrap();
        assert_eq!(r.subject, "{{");
        assert_eq!(r.text, "a {{ two words }} b {{ and 1 }}");
        // A value is never re-expanded.
        let r = Template::new("s", "{{a}}").render(&vars(&[("a", "{{a}}")])).unwrap();
        assert_eq!(r.text, "{{a}}");
    }

    #[test]
    fn message_carries_everything() {
        let t = Template::new("Order {{o}}", "t {{o}}").with_html("<p>{{o}}</p>");
        let m = t
            .message(Recipient::email("a@b.example").unwrap(), &vars(&[("o", "72")]))
            .unwrap();
        assert_eq!(m.subject.as_deref(), Some("Order 72"));
        assert_eq!(m.html.as_deref(), Some("<p>72</p>"));
        assert_eq!(m.data["o"], "72");
    }
}

//! Secrets: every key, password and token is a [`SecretString`].
//!
//! `secrecy`'s `Debug` prints `[REDACTED]`, so a `#[derive(Debug)]` on a config can never leak a key
//! (the arrow-rs `AwsCredential` leak is the cautionary tale). To use the value, call
//! [`ExposeSecret::expose_secret`] at the one place it goes on the wire.

pub use secrecy::{ExposeSecret, SecretString};

use subtle::ConstantTimeEq;

/// Makes a [`SecretString`] from anything string-like.
pub fn secret(value: impl Into<String>) -> SecretString {
    SecretString::from(value.into())
}

/// Compares a presented value with a secret in constant time, so a timing probe cannot find the
/// secret one byte at a time.
pub fn secret_eq(presented: &str, secret: &SecretString) -> bool {
    ct_eq(presented.as_bytes(), secret.expose_secret().as_bytes())
}

/// Constant-time equality of two byte strings (the length is not hidden, which is public anyway).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A URL made safe for logs: user info is dropped and the values of query parameters that look like
/// credentials (`key`, `token`, `secret`, `password`, `api_id`, `sig`…) are replaced by `***`.
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else {
        return "<unparseable url>".to_owned();
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_sensitive_name(&k) {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// Whether a parameter or header name usually carries a credential.
pub fn is_sensitive_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["key", "token", "secret", "pass", "api_id", "sig", "auth", "credential"]
        .iter()
        .any(|s| n.contains(s))
}

/// Masks the middle of a number-like value for logs: the first four and the last two characters stay
/// (`+79255070602` → `+792******02`); six characters or fewer are masked whole.
pub fn mask_middle(s: &str) -> String {
    let n = s.chars().count();
    if n <= 6 {
        return "*".repeat(n);
    }
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i >= n - 2 { c } else { '*' })
        .collect()
}

/// Masks every run of seven or more digits (an optional leading `+` included) in free text, such as a
/// provider's error message that quotes the phone number it refused.
pub fn scrub_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().filter(char::is_ascii_digit).count() >= 7 {
            out.push_str(&mask_middle(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_digit() || (ch == '+' && run.is_empty()) {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_secret_is_redacted() {
        let s = secret("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn constant_time_compare() {
        let s = secret("abc");
        assert!(secret_eq("abc", &s));
        assert!(!secret_eq("abd", &s));
        assert!(!secret_eq("ab", &s));
        assert!(!secret_eq("", &s));
    }

    #[test]
    fn numbers_in_text_are_masked() {
        assert_eq!(
            scrub_numbers("bad number +79255070602 here"),
            "bad number +792******02 here"
        );
        assert_eq!(scrub_numbers("code 207, 100 numbers"), "code 207, 100 numbers");
        assert_eq!(mask_middle("12345"), "*****");
    }

    #[test]
    fn urls_lose_credentials() {
        let r = redact_url("https://user:pw@host/path?api_id=XYZ&to=1&token=T");
        assert!(!r.contains("pw") && !r.contains("XYZ") && !r.contains("=T"), "{r}");
        assert!(r.contains("to=1"));
        assert_eq!(redact_url("not a url"), "<unparseable url>");
    }
}

//! Sender ("from") rules, checked before anything is sent so that a bad sender is an input error on
//! our side rather than a refused request (legacy `responseCode` 6) on Mitto's.

use switchboard_core::{Error, Result};

/// The length limits of one API's senders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderRules {
    /// Shortest and longest alphanumeric sender, in characters.
    pub alphanumeric: (usize, usize),
    /// Shortest and longest numeric sender, in digits (a leading `+` is not counted).
    pub numeric: (usize, usize),
}

/// The legacy API's rules: alphanumeric 3–11 characters, numeric 3–14 digits (legacy `responseCode` 6).
pub const LEGACY_SENDER: SenderRules = SenderRules {
    alphanumeric: (3, 11),
    numeric: (3, 14),
};

/// The messaging API's rules for the SMS channel: alphanumeric 1–11, numeric 1–16.
pub const MESSAGING_SENDER: SenderRules = SenderRules {
    alphanumeric: (1, 11),
    numeric: (1, 16),
};

/// What kind of sender a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderKind {
    /// Digits only (a phone number or short code), optionally with a leading `+`.
    Numeric,
    /// Letters, digits and a few punctuation marks.
    Alphanumeric,
}

/// Punctuation accepted in alphanumeric senders besides ASCII letters and digits. Mitto's own example
/// sender is `MITTO SMS`, so a space is allowed; carriers commonly accept these few marks too.
const ALPHANUMERIC_EXTRA: &[char] = &[' ', '.', '-', '_', '&', '\''];

/// Checks a sender against `rules` and says which kind it is. Errors are `InvalidInput`, `NotSent`.
pub fn check(sender: &str, rules: &SenderRules) -> Result<SenderKind> {
    if sender.trim().is_empty() {
        return Err(Error::invalid_input("the sender is empty"));
    }
    if sender != sender.trim() {
        return Err(Error::invalid_input("the sender starts or ends with white space"));
    }
    let digits = sender.strip_prefix('+').unwrap_or(sender);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let (min, max) = rules.numeric;
        let n = digits.len();
        if n < min || n > max {
            return Err(Error::invalid_input(format!(
                "a numeric sender must have {min} to {max} digits, this one has {n}"
            )));
        }
        return Ok(SenderKind::Numeric);
    }
    if let Some(bad) = sender
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !ALPHANUMERIC_EXTRA.contains(c))
    {
        return Err(Error::invalid_input(format!(
            "an alphanumeric sender may hold only A-Z, a-z, 0-9, space and . - _ & ' (found {:?})",
            bad.escape_debug().to_string()
        )));
    }
    let (min, max) = rules.alphanumeric;
    let n = sender.chars().count();
    if n < min || n > max {
        return Err(Error::invalid_input(format!(
            "an alphanumeric sender must have {min} to {max} characters, this one has {n}"
        )));
    }
    Ok(SenderKind::Alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::{Dispatch, ErrorKind};

    #[test]
    fn legacy_limits() {
        assert_eq!(check("Acme", &LEGACY_SENDER).unwrap(), SenderKind::Alphanumeric);
        assert_eq!(check("MITTO SMS", &LEGACY_SENDER).unwrap(), SenderKind::Alphanumeric);
        assert_eq!(check("Abc", &LEGACY_SENDER).unwrap(), SenderKind::Alphanumeric);
        assert_eq!(check("ABCDEFGHIJK", &LEGACY_SENDER).unwrap(), SenderKind::Alphanumeric);
        assert!(check("ABCDEFGHIJKL", &LEGACY_SENDER).is_err());
        assert!(check("Ab", &LEGACY_SENDER).is_err());
        assert_eq!(check("123", &LEGACY_SENDER).unwrap(), SenderKind::Numeric);
        assert_eq!(check("+41791234567", &LEGACY_SENDER).unwrap(), SenderKind::Numeric);
        assert_eq!(check("12345678901234", &LEGACY_SENDER).unwrap(), SenderKind::Numeric);
        assert!(check("123456789012345", &LEGACY_SENDER).is_err());
        assert!(check("12", &LEGACY_SENDER).is_err());
        // 12 characters, mixed: alphanumeric rules apply
        assert!(check("12345678901a", &LEGACY_SENDER).is_err());
    }

    #[test]
    fn messaging_limits() {
        assert!(check("A", &MESSAGING_SENDER).is_ok());
        assert!(check("1234567890123456", &MESSAGING_SENDER).is_ok());
        assert!(check("12345678901234567", &MESSAGING_SENDER).is_err());
    }

    #[test]
    fn refusals_are_input_errors_before_sending() {
        for bad in ["", "   ", " Acme", "Ac\u{0}me", "Ącme", "Acme!", "+"] {
            let e = check(bad, &LEGACY_SENDER).unwrap_err();
            assert_eq!(
                (e.kind(), e.dispatch()),
                (ErrorKind::InvalidInput, Dispatch::NotSent),
                "{bad:?}"
            );
        }
    }
}

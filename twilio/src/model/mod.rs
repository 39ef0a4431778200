//! Twilio Messages API types as the wire has them: the Message resource and its create request
//! ([`message`]), list filters and pages ([`list`]), the typed create options ([`options`]), and the
//! error body (here).
//!
//! Field quirks kept as they are: `num_segments`, `num_media` and `price` are strings; dates are RFC
//! 2822 strings (`Tue, 26 Jul 2016 12:50:07 +0000`), parsed on demand. Unknown fields land in `extra`.
//! `Debug` masks numbers and leaves the body out.

use std::fmt;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::secret::scrub_numbers;

pub mod list;
pub mod message;
pub mod options;

pub use list::{ListMessages, MessagePage};
pub use message::{CreateMessage, MessageResource, MessageStatus};
pub use options::{AddressRetention, ContentRetention, RiskCheck, TrafficType};

/// A string, or a number written as one (Twilio writes counts as strings, but not everywhere).
pub(crate) fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

/// An integer, or one written as a string.
pub(crate) fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Twilio's error body.
#[derive(Clone, PartialEq, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ErrorBody {
    /// Twilio's error code (`21211`).
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub code: Option<i64>,
    /// What went wrong.
    #[serde(default)]
    pub message: Option<String>,
    /// A link to the error's page.
    #[serde(default)]
    pub more_info: Option<String>,
    /// The HTTP status, repeated.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub status: Option<i64>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Twilio's messages quote the numbers they refuse; `Debug` masks them.
impl fmt::Debug for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorBody")
            .field("code", &self.code)
            .field("message", &self.message.as_deref().map(scrub_numbers))
            .field("more_info", &self.more_info)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

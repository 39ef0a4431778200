//! `sms/send`: the request (who gets what, and the sending options) and the reply, one result per
//! number.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{Dispatch, Error, PhoneNumber, Result};

use super::{Amount, Envelope, MaskedKeys, de_code, de_map, find_number};
use crate::SCHEME;
use crate::config::MAX_TTL_MINUTES;
use crate::error::refusal;

/// The most numbers one `sms/send` request carries. The official page's text for code 207 says "more
/// than 100 numbers", while code 213 says 5000; we keep to the smaller, documented-as-safe batch.
pub const MAX_RECIPIENTS_PER_REQUEST: usize = 100;

/// Who receives what: one text for a list of numbers, or a text per number.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recipients {
    /// `to=N1,N2,…&msg=TEXT`.
    Same {
        /// The numbers.
        to: Vec<PhoneNumber>,
        /// The shared text.
        msg: String,
    },
    /// `to[N1]=TEXT1&to[N2]=TEXT2…` (then there is no `msg`). Each number appears once.
    PerRecipient(Vec<(PhoneNumber, String)>),
}

impl Recipients {
    /// The numbers, in order.
    pub fn numbers(&self) -> Vec<&PhoneNumber> {
        match self {
            Recipients::Same { to, .. } => to.iter().collect(),
            Recipients::PerRecipient(v) => v.iter().map(|(p, _)| p).collect(),
        }
    }
}

impl fmt::Debug for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipients::Same { to, msg } => f
                .debug_struct("Same")
                .field("to", &to.iter().map(PhoneNumber::masked).collect::<Vec<_>>())
                .field("msg_chars", &msg.chars().count())
                .finish(),
            Recipients::PerRecipient(v) => f
                .debug_list()
                .entries(v.iter().map(|(p, t)| (p.masked(), t.chars().count())))
                .finish(),
        }
    }
}

/// An `sms/send` (or `sms/cost`) request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendRequest {
    /// The numbers and texts.
    pub recipients: Recipients,
    /// The approved sender; the config's, then SMS.ru's default, when `None`.
    pub from: Option<String>,
    /// The end user's IP, for SMS.ru's anti-fraud limits (codes 501–507) on one-time codes.
    pub ip: Option<String>,
    /// Send later (at most two months ahead; a past time sends now).
    pub time: Option<DateTime<Utc>>,
    /// Lifetime in minutes (1 to 1440).
    pub ttl_minutes: Option<u16>,
    /// Deliver only in the recipient's daytime (postponed to 10:00); SMS.ru then ignores `time`.
    pub daytime: bool,
    /// Transliterate Cyrillic.
    pub translit: bool,
    /// Test mode: nothing is sent or charged.
    pub test: bool,
    /// Partner programme id.
    pub partner_id: Option<String>,
}

impl SendRequest {
    fn new(recipients: Recipients) -> Self {
        SendRequest {
            recipients,
            from: None,
            ip: None,
            time: None,
            ttl_minutes: None,
            daytime: false,
            translit: false,
            test: false,
            partner_id: None,
        }
    }

    /// One text to one number.
    pub fn single(to: PhoneNumber, msg: impl Into<String>) -> Self {
        Self::new(Recipients::Same {
            to: vec![to],
            msg: msg.into(),
        })
    }

    /// One text to several numbers.
    pub fn to_many(to: impl IntoIterator<Item = PhoneNumber>, msg: impl Into<String>) -> Self {
        Self::new(Recipients::Same {
            to: to.into_iter().collect(),
            msg: msg.into(),
        })
    }

    /// A text per number.
    pub fn per_recipient(messages: impl IntoIterator<Item = (PhoneNumber, String)>) -> Self {
        Self::new(Recipients::PerRecipient(messages.into_iter().collect()))
    }

    /// Sets the sender.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Sets the end user's IP.
    pub fn ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// Sends at this time.
    pub fn at(mut self, time: DateTime<Utc>) -> Self {
        self.time = Some(time);
        self
    }

    /// Sets the lifetime in minutes.
    pub fn ttl_minutes(mut self, ttl: u16) -> Self {
        self.ttl_minutes = Some(ttl);
        self
    }

    /// Delivers only in the recipient's daytime.
    pub fn daytime(mut self, daytime: bool) -> Self {
        self.daytime = daytime;
        self
    }

    /// Transliterates Cyrillic.
    pub fn translit(mut self, translit: bool) -> Self {
        self.translit = translit;
        self
    }

    /// Test mode.
    pub fn test(mut self, test: bool) -> Self {
        self.test = test;
        self
    }

    /// Checks what SMS.ru would refuse anyway, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        let numbers = self.recipients.numbers();
        if numbers.is_empty() {
            return Err(Error::invalid_input("an SMS.ru send needs at least one number"));
        }
        if numbers.len() > MAX_RECIPIENTS_PER_REQUEST {
            return Err(Error::invalid_input(format!(
                "an SMS.ru request carries at most {MAX_RECIPIENTS_PER_REQUEST} numbers; split the list"
            )));
        }
        let mut seen = std::collections::HashSet::new();
        if !numbers.iter().all(|n| seen.insert(n.as_e164())) {
            return Err(Error::invalid_input(
                "a number appears twice in one SMS.ru request; SMS.ru keys replies by number",
            ));
        }
        let empty_text = match &self.recipients {
            Recipients::Same { msg, .. } => msg.trim().is_empty(),
            Recipients::PerRecipient(v) => v.iter().any(|(_, t)| t.trim().is_empty()),
        };
        if empty_text {
            return Err(Error::invalid_input("the SMS text is empty"));
        }
        if let Some(ttl) = self.ttl_minutes
            && !(1..=MAX_TTL_MINUTES).contains(&ttl)
        {
            return Err(Error::invalid_input("the SMS.ru ttl must be 1 to 1440 minutes"));
        }
        Ok(())
    }

    /// The form fields of this request (without credentials and `json=1`, which the client adds).
    /// Numbers go as SMS.ru's documentation writes them: digits, without `+`.
    pub fn to_form(&self) -> Vec<(String, String)> {
        let mut f = Vec::new();
        match &self.recipients {
            Recipients::Same { to, msg } => {
                let list: Vec<&str> = to.iter().map(PhoneNumber::digits).collect();
                f.push(("to".to_owned(), list.join(",")));
                f.push(("msg".to_owned(), msg.clone()));
            }
            Recipients::PerRecipient(v) => {
                for (n, t) in v {
                    f.push((format!("to[{}]", n.digits()), t.clone()));
                }
            }
        }
        if let Some(from) = &self.from {
            f.push(("from".into(), from.clone()));
        }
        if let Some(ip) = &self.ip {
            f.push(("ip".into(), ip.clone()));
        }
        if let Some(t) = self.time {
            f.push(("time".into(), t.timestamp().to_string()));
        }
        if let Some(ttl) = self.ttl_minutes {
            f.push(("ttl".into(), ttl.to_string()));
        }
        if self.daytime {
            f.push(("daytime".into(), "1".into()));
        }
        if self.translit {
            f.push(("translit".into(), "1".into()));
        }
        if self.test {
            f.push(("test".into(), "1".into()));
        }
        if let Some(p) = &self.partner_id {
            f.push(("partner_id".into(), p.clone()));
        }
        f
    }
}

/// The result for one number of an `sms/send`.
#[derive(Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct SmsResult {
    /// `"OK"` or `"ERROR"`.
    pub status: String,
    /// `100` when queued, else the refusal's code.
    #[serde(deserialize_with = "de_code")]
    pub status_code: i32,
    /// SMS.ru's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    /// The message id (`000000-10000000`), when it was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_id: Option<String>,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SmsResult {
    /// Whether SMS.ru took the message for this number.
    pub fn is_ok(&self) -> bool {
        self.status.eq_ignore_ascii_case("OK") && self.sms_id.as_deref().is_some_and(|id| !id.is_empty())
    }

    /// The error for a number SMS.ru did not plainly take, `None` when it took it.
    ///
    /// A refusal (`ERROR` and no id) is SMS.ru's code, [`Dispatch::NotSent`] for the documented ones.
    /// An answer that contradicts itself is never `NotSent`: `OK` without an id means SMS.ru queued a
    /// message we cannot name, and `ERROR` with an id names a message that may exist; both are
    /// [`Dispatch::MaybeSent`], to be looked up before anything is sent again.
    pub fn error(&self) -> Option<Error> {
        if self.is_ok() {
            return None;
        }
        let has_id = self.sms_id.as_deref().is_some_and(|id| !id.trim().is_empty());
        if self.status.eq_ignore_ascii_case("OK") {
            return Some(
                Error::decode(
                    "SMS.ru took the message for this number but gave no message id; check the number's \
                     messages before sending again",
                )
                .with_dispatch(Dispatch::MaybeSent)
                .with_provider(SCHEME)
                .with_provider_code(self.status_code),
            );
        }
        let e = refusal(self.status_code, self.status_text.as_deref(), "this number");
        Some(if has_id {
            e.with_dispatch(Dispatch::MaybeSent)
        } else {
            e
        })
    }
}

impl fmt::Debug for SmsResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsResult")
            .field("status", &self.status)
            .field("status_code", &self.status_code)
            .field("status_text", &self.status_text)
            .field("sms_id", &self.sms_id)
            .finish_non_exhaustive()
    }
}

/// The reply to `sms/send`.
#[derive(Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct SendResponse {
    /// The request's status.
    #[serde(flatten)]
    pub envelope: Envelope,
    /// One result per number, keyed by the number as SMS.ru wrote it.
    #[serde(default, deserialize_with = "de_map")]
    pub sms: BTreeMap<String, SmsResult>,
    /// The balance after sending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<Amount>,
    /// Anything else SMS.ru sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SendResponse {
    /// The result for one number of the request.
    pub fn result_for(&self, number: &PhoneNumber) -> Option<&SmsResult> {
        find_number(&self.sms, number)
    }
}

impl fmt::Debug for SendResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendResponse")
            .field("envelope", &self.envelope)
            .field("sms", &MaskedKeys(&self.sms))
            .field("balance", &self.balance)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> PhoneNumber {
        s.parse().unwrap()
    }

    #[test]
    fn send_reply_from_the_official_example() {
        let body = r#"{"status":"OK","status_code":100,
            "sms":{"79255070602":{"status":"OK","status_code":100,"sms_id":"000000-10000000"},
                   "74993221627":{"status":"ERROR","status_code":207,"status_text":"На этот номер нельзя отправлять"}},
            "balance":4122.56}"#;
        let r: SendResponse = serde_json::from_str(body).unwrap();
        assert!(r.envelope.is_ok());
        let ok = r.result_for(&n("+79255070602")).unwrap();
        assert!(ok.is_ok() && ok.error().is_none());
        let bad = r.result_for(&n("+74993221627")).unwrap();
        let e = bad.error().unwrap();
        assert_eq!(e.provider_code(), Some("207"));
        assert_eq!(r.balance.as_ref().unwrap().to_minor_units(), Some(412_256));
        let shown = format!("{r:?}");
        assert!(!shown.contains("79255070602"), "{shown}");
    }

    #[test]
    fn forms() {
        let r = SendRequest::to_many([n("+79255070602"), n("+74993221627")], "hello world")
            .from("Shop")
            .test(true);
        r.validate().unwrap();
        let f = r.to_form();
        assert!(f.contains(&("to".into(), "79255070602,74993221627".into())));
        assert!(f.contains(&("msg".into(), "hello world".into())));
        assert!(f.contains(&("test".into(), "1".into())));
        let r = SendRequest::per_recipient([(n("+79255070602"), "a".to_owned()), (n("+74993221627"), "b".to_owned())]);
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("79255070602") && !shown.contains("4993221627"),
            "{shown}"
        );
        let f = r.to_form();
        assert_eq!(f[0], ("to[79255070602]".into(), "a".into()));
        assert!(!f.iter().any(|(k, _)| k == "msg"));
    }

    #[test]
    fn validation() {
        let dup = SendRequest::to_many([n("+79255070602"), n("+79255070602")], "x");
        assert!(dup.validate().is_err());
        assert!(SendRequest::to_many([], "x").validate().is_err());
        assert!(SendRequest::single(n("+79255070602"), "  ").validate().is_err());
        let many = SendRequest::to_many((0..101).map(|i| n(&format!("+7925507{i:04}"))), "x");
        assert!(many.validate().is_err());
        assert!(
            SendRequest::single(n("+79255070602"), "x")
                .ttl_minutes(0)
                .validate()
                .is_err()
        );
    }
}

//! SMS.ru delivery callbacks: verifying and decoding them.
//!
//! SMS.ru `POST`s `application/x-www-form-urlencoded` bodies to each registered callback URL. The body
//! holds one or more records, `data[0]`, `data[1]`, …; each record is `\n`-separated lines, the first
//! naming the record type:
//!
//! ```text
//! data[0]=sms_status\n000000-10000000\n103
//!         ^ type     ^ sms_id         ^ status code
//! ```
//!
//! Lines after the third are not documented by SMS.ru; a fourth line that is a UNIX
//! timestamp is read as the time of the change, everything is kept in the event's `raw`. Records of
//! other types (SMS.ru also reports call-check results this way) become [`Event::Other`].
//!
//! [`SmsRuWebhook`] answers with the plain-text body [`CALLBACK_ANSWER`] (`100`): SMS.ru counts a
//! callback delivered only when it gets that body, and otherwise sends it again.
//!
//! **Verification.** SMS.ru does not sign callbacks. Register the callback URL with a secret in it
//! (`https://host/hooks/smsru?token=SECRET`), and [`SmsRuWebhook`] checks it in constant time (core's
//! `verify_url_token`). Without a configured secret, callbacks are refused.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::json;
use switchboard_core::webhook::{Webhook, WebhookAnswer, WebhookRequest, verify_url_token};
use switchboard_core::{DeliveryStatus, Error, Event, Result, SecretString, StatusReport};

use crate::SCHEME;
use crate::config::SmsRuConfig;
use crate::error::delivery_status;

/// The body a callback handler must answer with (`text/plain`).
pub const CALLBACK_ANSWER: &str = "100";

/// The most records one callback body may carry before it is refused as hostile.
pub const MAX_RECORDS: usize = 10_000;

/// SMS.ru's delivery callbacks for one account: the secret their URL must carry, and where.
#[derive(Clone)]
pub struct SmsRuWebhook {
    secret: Option<SecretString>,
    token_param: String,
}

/// Never shows the secret.
impl fmt::Debug for SmsRuWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsRuWebhook")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("token_param", &self.token_param)
            .finish()
    }
}

impl SmsRuWebhook {
    /// Callbacks whose URL carries `secret` in the query parameter `token_param`; with no secret,
    /// every callback is refused.
    pub fn new(secret: Option<SecretString>, token_param: impl Into<String>) -> Self {
        SmsRuWebhook {
            secret,
            token_param: token_param.into(),
        }
    }

    /// The callbacks of the account `config` describes.
    pub fn from_config(config: &SmsRuConfig) -> Self {
        Self::new(config.webhook_secret.clone(), config.webhook_token_param.clone())
    }
}

impl Webhook for SmsRuWebhook {
    /// Checks that the callback URL carries the secret. An empty or missing secret is a `Config`
    /// error: verification cannot run without one.
    fn verify(&self, request: &WebhookRequest) -> Result<()> {
        let secret = self.secret.as_ref().ok_or_else(|| {
            Error::config(
                "no SMS.ru webhook secret is configured; callbacks are refused until one is (SMS.ru does not sign \
                 them)",
            )
            .with_provider(SCHEME)
        })?;
        verify_url_token(request, &self.token_param, secret).map_err(|e| e.with_provider(SCHEME))
    }

    /// A [`Event::Delivery`] per `sms_status` record, an [`Event::Other`] per record of another type.
    fn decode(&self, request: &WebhookRequest) -> Result<Vec<Event>> {
        Ok(CallbackRecord::parse(request)?
            .iter()
            .map(CallbackRecord::event)
            .collect())
    }

    /// `100`, as text: anything else makes SMS.ru send the callback again.
    fn answer(&self) -> WebhookAnswer {
        WebhookAnswer::text(200, CALLBACK_ANSWER)
    }
}

/// One record of a callback body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackRecord {
    /// The index `N` of `data[N]`.
    pub index: usize,
    /// The record type (line 0): `sms_status` for delivery reports.
    pub kind: String,
    /// Every line of the record, the type included.
    pub lines: Vec<String>,
}

impl CallbackRecord {
    /// For `sms_status` records: the message id and its new state code.
    pub fn sms_status(&self) -> Option<(&str, i32)> {
        if self.kind != "sms_status" {
            return None;
        }
        let id = self.lines.get(1)?.as_str();
        let code = self.lines.get(2)?.trim().parse().ok()?;
        Some((id, code))
    }

    /// The time of the change, when a fourth line holds a UNIX timestamp (undocumented).
    pub fn timestamp(&self) -> Option<DateTime<Utc>> {
        let secs: i64 = self.lines.get(3)?.trim().parse().ok()?;
        DateTime::from_timestamp(secs, 0)
    }

    /// Parses a callback body into its records, in `data[N]` order.
    ///
    /// A body without any `data[N]` field, or with an `sms_status` record that lacks its id or code, is an
    /// `InvalidInput` error: nothing of it is trusted.
    pub fn parse(request: &WebhookRequest) -> Result<Vec<CallbackRecord>> {
        let bad = |why: String| Error::invalid_input(why).with_provider(SCHEME);
        if request.method != http::Method::POST {
            return Err(bad(format!("SMS.ru callbacks are POSTs, not {}", request.method)));
        }
        let pairs = request.form_pairs().map_err(|e| e.with_provider(SCHEME))?;
        let mut records = Vec::new();
        for (key, value) in pairs {
            let Some(index) = key.strip_prefix("data[").and_then(|k| k.strip_suffix(']')) else {
                continue;
            };
            // `data[]` (no index) is what PHP-style encoders write for a list; order of arrival then counts.
            let index = if index.is_empty() {
                records.len()
            } else {
                index
                    .parse::<usize>()
                    .map_err(|_| bad(format!("'{}' is not a data[N] field", key.escape_debug())))?
            };
            if records.len() >= MAX_RECORDS {
                return Err(bad(format!("more than {MAX_RECORDS} records in one callback")));
            }
            let lines: Vec<String> = value.split('\n').map(|l| l.trim_end_matches('\r').to_owned()).collect();
            let kind = lines.first().map(|l| l.trim().to_owned()).unwrap_or_default();
            if kind.is_empty() {
                return Err(bad(format!("record data[{index}] has no type line")));
            }
            let record = CallbackRecord { index, kind, lines };
            if record.kind == "sms_status" {
                match record.sms_status() {
                    Some((id, _)) if is_plausible_id(id) => {}
                    _ => {
                        return Err(bad(format!(
                            "record data[{index}] is an sms_status without a message id and a numeric code"
                        )));
                    }
                }
            }
            records.push(record);
        }
        if records.is_empty() {
            return Err(bad(
                "the body has no data[N] records; this is not an SMS.ru callback".to_owned()
            ));
        }
        records.sort_by_key(|r| r.index);
        Ok(records)
    }

    /// The event of this record: a [`Event::Delivery`] for an `sms_status`, an [`Event::Other`] for a
    /// record of another type.
    pub fn event(&self) -> Event {
        let raw = json!({ "index": self.index, "type": self.kind, "lines": self.lines });
        match self.sms_status() {
            Some((id, code)) => {
                let status = delivery_status(code);
                let mut report = StatusReport::new(id, status, code.to_string()).with_raw(raw);
                if status.is_failure() || status == DeliveryStatus::Unknown {
                    report = report.with_error_code(code);
                }
                if let Some(at) = self.timestamp() {
                    report = report.with_at(at);
                }
                Event::Delivery(report)
            }
            None => Event::Other {
                kind: self.kind.clone(),
                raw,
            },
        }
    }
}

fn is_plausible_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ErrorKind;
    use switchboard_core::secret::secret;

    fn req(body: &str) -> WebhookRequest {
        WebhookRequest::post("https://shop.example/hooks/smsru?token=s3cret", body.to_owned())
    }

    /// Verifies and decodes, as [`Webhook::handle`] does, without a runtime.
    fn handle(r: &WebhookRequest, secret: Option<&SecretString>, param: &str) -> Result<Vec<Event>> {
        let w = SmsRuWebhook::new(secret.cloned(), param);
        w.verify(r)?;
        w.decode(r)
    }

    fn parse(r: &WebhookRequest) -> Result<Vec<CallbackRecord>> {
        CallbackRecord::parse(r)
    }

    #[tokio::test]
    async fn handled_callbacks_are_answered_100_as_text() {
        let w = SmsRuWebhook::new(Some(secret("s3cret")), "token");
        let h = w.handle(&req("data%5B0%5D=sms_status%0A000000-1%0A103")).await.unwrap();
        assert_eq!(h.events.len(), 1);
        assert_eq!((h.answer.status, &h.answer.body[..]), (200, &b"100"[..]));
        assert_eq!(h.answer.content_type, Some("text/plain; charset=utf-8"));
        assert!(!format!("{w:?}").contains("s3cret"));
    }

    #[test]
    fn the_documented_body_decodes() {
        let r = req("data%5B0%5D=sms_status%0A000000-10000000%0A103");
        let ev = handle(&r, Some(&secret("s3cret")), "token").unwrap();
        match &ev[..] {
            [Event::Delivery(rep)] => {
                assert_eq!(rep.provider_id, "000000-10000000");
                assert_eq!(rep.status, DeliveryStatus::Delivered);
                assert_eq!(rep.raw_status, "103");
                assert_eq!(rep.error_code, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn several_records_in_index_order_with_other_types_and_timestamps() {
        let body = "data[1]=sms_status%0Aa-2%0A104%0A1700000000&data[0]=sms_status%0Aa-1%0A102&data[2]=callcheck_status%0A123%0A401&x=1";
        let recs = parse(&req(body)).unwrap();
        assert_eq!(recs.iter().map(|r| r.index).collect::<Vec<_>>(), vec![0, 1, 2]);
        let ev: Vec<Event> = recs.iter().map(CallbackRecord::event).collect();
        assert!(matches!(&ev[0], Event::Delivery(r) if r.status == DeliveryStatus::Sent));
        match &ev[1] {
            Event::Delivery(r) => {
                assert_eq!(r.status, DeliveryStatus::Expired);
                assert_eq!(r.error_code.as_deref(), Some("104"));
                assert_eq!(r.at.map(|t| t.timestamp()), Some(1_700_000_000));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&ev[2], Event::Other { kind, .. } if kind == "callcheck_status"));
    }

    #[test]
    fn verification() {
        let body = "data[0]=sms_status%0Aa-1%0A103";
        let s = secret("s3cret");
        let unsigned = WebhookRequest::post("https://shop.example/hooks/smsru", body);
        assert_eq!(
            handle(&unsigned, Some(&s), "token").unwrap_err().kind(),
            ErrorKind::Auth
        );
        let wrong = WebhookRequest::post("https://shop.example/hooks/smsru?token=guess", body);
        let e = handle(&wrong, Some(&s), "token").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(!e.to_string().contains("s3cret"));
        assert_eq!(handle(&req(body), None, "token").unwrap_err().kind(), ErrorKind::Config);
        assert_eq!(
            handle(&req(body), Some(&secret("")), "token").unwrap_err().kind(),
            ErrorKind::Config
        );
    }

    #[test]
    fn malformed_bodies_are_input_errors() {
        for body in [
            "",
            "hello",
            "data[x]=sms_status%0Aa%0A1",
            "data[0]=",
            "data[0]=sms_status",
            "data[0]=sms_status%0Aa-1",
            "data[0]=sms_status%0Aa-1%0Adelivered",
            "data[0]=sms_status%0A%0A103",
            "data[0]=sms_status%0A..%2F..%0A103",
            "%ff%fe=%00",
        ] {
            let e = parse(&req(body)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{body}");
        }
        let get = WebhookRequest::get("https://h/?token=s3cret&data[0]=x");
        assert_eq!(parse(&get).unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}

//! Delivery reports Mitto pushes to the host, verified and decoded.
//!
//! Mitto does not sign its callbacks. The host registers a callback URL that carries a shared secret
//! (`https://host/hooks/mitto?token=SECRET`, on the account or per message with `callback`) and only
//! requests that present it are believed ([`MittoWebhook`]'s `verify`, built on core's
//! `verify_url_token`). Verification cannot be switched off and refuses to run without a secret.
//!
//! **Unsure shape, decided here only.** The legacy API's callback parameter names and status words are
//! not public, and neither are the messaging API's webhook payloads. The only concrete format found is
//! Mitto's HTTP-API-to-Chat-Apps report, JSON `{"messageId":"…","status":"…","errorcode":"…"}`; the
//! messaging API's message record names its status `deliveryStatus`. [`MittoWebhook::reports`] (and so
//! `decode`) therefore accepts:
//!
//! * a JSON object, or a JSON array of objects, in the body (POST);
//! * form fields in the body (POST `application/x-www-form-urlencoded`);
//! * query parameters (GET callbacks; the secret's own parameter is ignored);
//!
//! and reads each field from the first name present in the lists below, ignoring case and `_`.

use serde_json::{Map, Value};
use switchboard_core::webhook::{Webhook, verify_url_token};
use switchboard_core::{
    DeliveryStatus, Error, Event, ExposeSecret, PhoneNumber, Recipient, Result, SecretString, StatusReport,
    WebhookRequest,
};

use crate::SCHEME;
use crate::config::MittoConfig;
use crate::model::map_delivery_status;

/// Names that carry the message id.
const ID_FIELDS: &[&str] = &["messageid", "id", "msgid", "smsid"];
/// Names that carry the status word.
const STATUS_FIELDS: &[&str] = &["deliverystatus", "status", "dlrstatus", "state"];
/// Names that carry the error code.
const ERROR_FIELDS: &[&str] = &["errorcode", "error", "err"];
/// Names that carry the sender's reference.
const REFERENCE_FIELDS: &[&str] = &["reference", "ref"];
/// Names that carry the receiver.
const TO_FIELDS: &[&str] = &["to", "receiver", "destination", "msisdn"];
/// Names that carry when the status changed.
const AT_FIELDS: &[&str] = &["timestamp", "updatedat", "donedate", "deliveredat", "statusdate"];

/// One delivery report, as Mitto sent it.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct DeliveryReport {
    /// The message id the report is about.
    pub message_id: String,
    /// Mitto's status word.
    pub status: String,
    /// The normalised status.
    pub delivery_status: DeliveryStatus,
    /// Mitto's error code, when given.
    pub error_code: Option<String>,
    /// The `reference` the message was sent with.
    pub reference: Option<String>,
    /// The receiver, as Mitto wrote it.
    pub to: Option<String>,
    /// When the status changed, when given and readable.
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// The report as it came (query or form fields become a JSON object of strings).
    pub raw: Value,
}

impl std::fmt::Debug for DeliveryReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryReport")
            .field("message_id", &self.message_id)
            .field("status", &self.status)
            .field("delivery_status", &self.delivery_status)
            .field("error_code", &self.error_code)
            .field("reference", &self.reference)
            .field("to", &self.to.as_deref().map(switchboard_core::secret::mask_middle))
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl DeliveryReport {
    /// The report as a core [`StatusReport`].
    pub fn to_status_report(&self) -> StatusReport {
        let mut r = StatusReport::new(self.message_id.clone(), self.delivery_status, self.status.clone())
            .with_raw(self.raw.clone());
        if let Some(c) = &self.error_code {
            r = r.with_error_code(c);
        }
        if let Some(p) = self.to.as_deref().and_then(parse_receiver) {
            r = r.with_recipient(Recipient::Phone(p));
        }
        if let Some(at) = self.at {
            r = r.with_at(at);
        }
        r
    }
}

fn parse_receiver(to: &str) -> Option<PhoneNumber> {
    let t = to.trim();
    if t.is_empty() {
        return None;
    }
    let e164 = if t.starts_with('+') {
        t.to_owned()
    } else {
        format!("+{t}")
    };
    PhoneNumber::parse(&e164, None).ok()
}

/// Mitto's delivery-report webhook: the secret the callback URLs carry, and the query parameter that
/// carries it. `Debug` never shows the secret.
#[derive(Clone)]
pub struct MittoWebhook {
    secret: Option<SecretString>,
    param: String,
}

impl std::fmt::Debug for MittoWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MittoWebhook")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("param", &self.param)
            .finish()
    }
}

impl MittoWebhook {
    /// A webhook that expects `secret` in query parameter `param` of every callback URL. Without a
    /// secret (or with an empty one) every request is refused with a `Config` error.
    pub fn new(secret: Option<SecretString>, param: impl Into<String>) -> MittoWebhook {
        MittoWebhook {
            secret,
            param: param.into(),
        }
    }

    /// The webhook a configuration describes (`webhook_secret`, `webhook_token_param`).
    pub fn from_config(config: &MittoConfig) -> MittoWebhook {
        Self::new(config.webhook_secret.clone(), config.webhook_token_param.clone())
    }

    /// Decodes the delivery reports of a request (see the [module docs](self) for the accepted shapes),
    /// typed, without verifying it. The secret's own query parameter is not part of a report.
    pub fn reports(&self, request: &WebhookRequest) -> Result<Vec<DeliveryReport>> {
        request.check_size().map_err(|e| e.with_provider(SCHEME))?;
        let token_param = self.param.as_str();
        let body = request.body.as_ref();
        let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
        let objects: Vec<Map<String, Value>> = match first {
            None => {
                let map: Map<String, Value> = request
                    .query_pairs()
                    .into_iter()
                    .filter(|(k, _)| k != token_param)
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                vec![map]
            }
            Some(b'{') | Some(b'[') => match request.json::<Value>().map_err(|e| e.with_provider(SCHEME))? {
                Value::Object(o) => vec![o],
                Value::Array(items) => items
                    .into_iter()
                    .map(|i| match i {
                        Value::Object(o) => Ok(o),
                        _ => Err(bad("a JSON delivery-report list holds something that is not an object")),
                    })
                    .collect::<Result<_>>()?,
                _ => return Err(bad("the delivery report is JSON but not an object")),
            },
            Some(_) => {
                let pairs = request.form_pairs().map_err(|e| e.with_provider(SCHEME))?;
                vec![
                    pairs
                        .into_iter()
                        .filter(|(k, _)| k != token_param)
                        .map(|(k, v)| (k, Value::String(v)))
                        .collect(),
                ]
            }
        };
        objects.into_iter().map(report_of).collect()
    }
}

#[switchboard_core::async_trait]
impl Webhook for MittoWebhook {
    /// Checks that the callback URL carries the secret. No secret configured (or an empty one) is a
    /// `Config` error: verification does not run without one.
    fn verify(&self, request: &WebhookRequest) -> Result<()> {
        let secret = self
            .secret
            .as_ref()
            .filter(|s| !s.expose_secret().is_empty())
            .ok_or_else(|| {
                Error::config(
                    "no Mitto webhook secret is configured (DSN option webhook_secret=…): delivery reports cannot \
                     be verified",
                )
                .with_provider(SCHEME)
            })?;
        verify_url_token(request, &self.param, secret).map_err(|e| e.with_provider(SCHEME))
    }

    /// Every report as an [`Event::Delivery`].
    fn decode(&self, request: &WebhookRequest) -> Result<Vec<Event>> {
        Ok(self
            .reports(request)?
            .iter()
            .map(|r| Event::Delivery(r.to_status_report()))
            .collect())
    }
}

fn bad(why: &'static str) -> Error {
    Error::invalid_input(why).with_provider(SCHEME)
}

fn field<'a>(map: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|want| {
        map.iter()
            .find(|(k, v)| {
                !v.is_null()
                    && k.len() <= 64
                    && k.chars()
                        .filter(|c| *c != '_' && *c != '-')
                        .map(|c| c.to_ascii_lowercase())
                        .eq(want.chars())
            })
            .map(|(_, v)| v)
    })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn report_of(map: Map<String, Value>) -> Result<DeliveryReport> {
    let message_id = field(&map, ID_FIELDS)
        .and_then(text)
        .ok_or_else(|| bad("the delivery report carries no message id"))?;
    let status = field(&map, STATUS_FIELDS)
        .and_then(text)
        .ok_or_else(|| bad("the delivery report carries no status"))?;
    if message_id.len() > 256 || status.len() > 256 {
        return Err(bad("the delivery report's id or status is implausibly long"));
    }
    let at = field(&map, AT_FIELDS)
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s.trim()).ok())
        .map(|d| d.with_timezone(&chrono::Utc));
    Ok(DeliveryReport {
        delivery_status: map_delivery_status(&status),
        error_code: field(&map, ERROR_FIELDS).and_then(text),
        reference: field(&map, REFERENCE_FIELDS).and_then(text),
        to: field(&map, TO_FIELDS).and_then(text),
        at,
        message_id,
        status,
        raw: Value::Object(map),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ErrorKind;
    use switchboard_core::secret::secret;

    fn decode(r: &WebhookRequest, param: &str) -> Result<Vec<DeliveryReport>> {
        MittoWebhook::new(None, param).reports(r)
    }

    #[test]
    fn json_form_and_query_shapes() {
        let r = WebhookRequest::post(
            "https://h/dlr?token=s",
            r#"{"messageId":"abc","status":"Delivered","errorcode":"0","reference":"m-1","to":"41751231234"}"#,
        );
        let d = decode(&r, "token").unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].message_id, "abc");
        assert_eq!(d[0].delivery_status, DeliveryStatus::Delivered);
        assert_eq!(d[0].reference.as_deref(), Some("m-1"));
        let sr = d[0].to_status_report();
        assert_eq!(sr.recipient.unwrap().phone().unwrap().as_e164(), "+41751231234");

        let r = WebhookRequest::post("https://h/dlr?token=s", "id=x1&status=Undeliverable&errorcode=34");
        let d = decode(&r, "token").unwrap();
        assert_eq!(
            (d[0].message_id.as_str(), d[0].delivery_status),
            ("x1", DeliveryStatus::Failed)
        );

        let r = WebhookRequest::get("https://h/dlr?token=s&message_id=q1&Status=sent");
        let d = decode(&r, "token").unwrap();
        assert_eq!(d[0].message_id, "q1");
        assert!(d[0].raw.get("token").is_none(), "the secret is not part of the report");

        let r = WebhookRequest::post(
            "https://h/dlr",
            r#"[{"messageId":"a","deliveryStatus":"delivered","updatedAt":"2024-05-01T10:00:00Z"},{"messageId":"b","deliveryStatus":"failure"}]"#,
        );
        let d = decode(&r, "token").unwrap();
        assert_eq!(d.len(), 2);
        assert!(d[0].at.is_some());
        assert_eq!(d[1].delivery_status, DeliveryStatus::Failed);
    }

    #[test]
    fn hostile_bodies_are_input_errors() {
        for body in [
            "{",
            "[1,2]",
            "\"x\"",
            r#"{"status":"Delivered"}"#,
            r#"{"messageId":"a"}"#,
            r#"{"messageId":{"x":1},"status":"sent"}"#,
            "[",
        ] {
            let e = decode(&WebhookRequest::post("https://h/", body.to_owned()), "token").unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{body}");
        }
        let huge = WebhookRequest::post(
            "https://h/",
            vec![b'{'; switchboard_core::webhook::MAX_WEBHOOK_BODY + 1],
        );
        assert_eq!(decode(&huge, "token").unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn verification_is_mandatory() {
        let r = WebhookRequest::post("https://h/dlr?token=good", r#"{"id":"a","status":"sent"}"#);
        let hook = |s: Option<&str>| MittoWebhook::new(s.map(secret), "token");
        assert_eq!(hook(None).handle(&r).await.unwrap_err().kind(), ErrorKind::Config);
        assert_eq!(hook(Some("")).handle(&r).await.unwrap_err().kind(), ErrorKind::Config);
        assert_eq!(hook(Some("bad")).handle(&r).await.unwrap_err().kind(), ErrorKind::Auth);
        let handled = hook(Some("good")).handle(&r).await.unwrap();
        assert_eq!(handled.events.len(), 1);
        assert_eq!(handled.answer, switchboard_core::WebhookAnswer::ok());
    }
}

//! What the gateway pushes to the host (the manual's "Push" section, API 1.0 and later), verified and
//! decoded.
//!
//! The gateway POSTs JSON to one configured URL, with a top-level `sn` and one of eight payloads:
//! `sms`, `sms_result`, `sms_deliver_status`, `ussd`, `register`, `cdr` (arrays) and `device`,
//! `exception_info` (objects). It signs nothing, so the host registers the URL with a secret in
//! its query (`https://crm.example/hooks/gsm?token=SECRET`) and [`DinstarWebhook`] checks it in
//! constant time; verification cannot be switched off and refuses to run without a secret.
//!
//! [`DinstarWebhook`] is core's [`Webhook`] like every provider's (`verify`, `decode` into events,
//! `handle`), plus [`DinstarWebhook::push`] for the gateway's typed records. The transport's
//! `handle_webhook` also looks up the `user_id`s a push's records lack.
//!
//! ```
//! use switchboard_core::{SecretString, Webhook, WebhookRequest};
//! use switchboard_dinstar::webhook::{DinstarWebhook, PushEvent};
//!
//! let body = r#"{"sn":"DG-1","sms":[{"incoming_sms_id":1,"port":1,"number":"6717",
//!   "smsc":"+8613800757511","timestamp":"2016-07-12 15:46:18","text":"test"}]}"#;
//! let req = WebhookRequest::post("https://crm.example/hooks/gsm?token=s3cret", body);
//! let webhook = DinstarWebhook::new(Some(SecretString::from("s3cret")), "token");
//! webhook.verify(&req)?;
//! let push = webhook.push(&req)?;
//! assert_eq!(push.sn.as_deref(), Some("DG-1"));
//! assert!(matches!(&push.events[0], PushEvent::Sms(list) if list[0].text == "test"));
//! assert_eq!(webhook.decode(&req)?.len(), 1); // one inbound SMS event
//! # Ok::<(), switchboard_core::Error>(())
//! ```

use std::fmt;

use chrono::{FixedOffset, Offset, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::webhook::verify_url_token;
use switchboard_core::{Error, Event, Recipient, Result, SecretString, StatusReport, Webhook, WebhookRequest};

use crate::SCHEME;
use crate::config::{DinstarConfig, NumberFormat};
use crate::inbound::to_inbound;
use crate::model::{
    Cdr, DeliverStatus, DeliveryCode, IncomingSms, Port, SmsResult, UssdReply, lenient, mask_digits, parse_gateway_time,
};

/// What a SIM-less field holds in a `register` push.
pub const NULL_VALUE: &str = "<NULL>";

/// A SIM registration change (`register[]`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterEvent {
    /// The port.
    #[serde(default, deserialize_with = "lenient::opt_u8")]
    pub port: Option<Port>,
    /// The SIM's ICCID (`"<NULL>"` without a SIM).
    #[serde(default)]
    pub iccid: Option<String>,
    /// The SIM's IMSI.
    #[serde(default)]
    pub imsi: Option<String>,
    /// The SIM's own number.
    #[serde(default)]
    pub number: Option<String>,
    /// `up` or `down`.
    #[serde(default)]
    pub status: Option<String>,
    /// The gateway's sequence number of the event.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub sequence: Option<u64>,
    /// The SIM slot (multi-SIM units only).
    #[serde(default, deserialize_with = "lenient::opt_u8")]
    pub slot: Option<u8>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RegisterEvent {
    /// Whether the port registered (`status: "up"`).
    pub fn is_up(&self) -> bool {
        self.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("up"))
    }

    /// A field's value with `"<NULL>"` read as absent.
    pub fn value(field: &Option<String>) -> Option<&str> {
        field.as_deref().filter(|v| *v != NULL_VALUE && !v.is_empty())
    }
}

impl fmt::Debug for RegisterEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterEvent")
            .field("port", &self.port)
            .field("status", &self.status)
            .field("sequence", &self.sequence)
            .field("slot", &self.slot)
            .field("number", &self.number.as_deref().map(mask_digits))
            .finish_non_exhaustive()
    }
}

/// A device-level event (`device`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceEvent {
    /// How many ports the unit has.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub port_number: Option<u32>,
    /// The unit's IP address.
    #[serde(default, rename = "IP")]
    pub ip: Option<String>,
    /// The unit's MAC address.
    #[serde(default, rename = "MAC")]
    pub mac: Option<String>,
    /// What happened (`power_off`…).
    #[serde(default)]
    pub status: Option<String>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A port exception (`exception_info`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionInfo {
    /// The port.
    #[serde(default, deserialize_with = "lenient::opt_u8")]
    pub port: Option<Port>,
    /// What went wrong (`call_fail`…).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// What the gateway did about it (`reset`…).
    #[serde(default)]
    pub action: Option<String>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One payload of a push.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PushEvent {
    /// `sms`: received SMS.
    Sms(Vec<IncomingSms>),
    /// `sms_result`: sending results (the documented example carries no `user_id`).
    SmsResult(Vec<SmsResult>),
    /// `sms_deliver_status`: delivery reports.
    SmsDeliverStatus(Vec<DeliverStatus>),
    /// `ussd`: USSD replies.
    Ussd(Vec<UssdReply>),
    /// `register`: SIM registration changes.
    Register(Vec<RegisterEvent>),
    /// `cdr`: answered calls.
    Cdr(Vec<Cdr>),
    /// `device`: a device event.
    Device(DeviceEvent),
    /// `exception_info`: a port exception.
    ExceptionInfo(ExceptionInfo),
    /// A payload this client does not know, kept whole.
    Unknown {
        /// Its key.
        key: String,
        /// Its value.
        value: Value,
    },
}

impl PushEvent {
    /// The payload's key (`"sms"`, `"register"`…).
    pub fn kind(&self) -> &str {
        match self {
            PushEvent::Sms(_) => "sms",
            PushEvent::SmsResult(_) => "sms_result",
            PushEvent::SmsDeliverStatus(_) => "sms_deliver_status",
            PushEvent::Ussd(_) => "ussd",
            PushEvent::Register(_) => "register",
            PushEvent::Cdr(_) => "cdr",
            PushEvent::Device(_) => "device",
            PushEvent::ExceptionInfo(_) => "exception_info",
            PushEvent::Unknown { key, .. } => key,
        }
    }
}

/// A decoded push.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Push {
    /// The gateway's serial number.
    pub sn: Option<String>,
    /// The payloads, in the body's order.
    pub events: Vec<PushEvent>,
    /// The body as it came.
    pub raw: Value,
}

/// The key a delivery record is matched on when it carries no `user_id`: port, `ref_id`, number.
pub type RecordKey = (Option<Port>, Option<u32>, String);

impl Push {
    /// The keys of the records that need a `user_id` looked up (results and reports without one).
    pub fn unresolved_keys(&self) -> Vec<RecordKey> {
        let mut keys = Vec::new();
        for e in &self.events {
            match e {
                PushEvent::SmsResult(list) => keys.extend(
                    list.iter()
                        .filter(|r| r.user_id.is_none())
                        .map(|r| (r.port, r.ref_id, r.number.clone())),
                ),
                PushEvent::SmsDeliverStatus(list) => {
                    keys.extend(list.iter().map(|d| (d.port, d.ref_id, d.number.clone())))
                }
                _ => {}
            }
        }
        keys
    }

    /// Core events: `sms` → [`Event::Inbound`], `sms_result` and `sms_deliver_status` →
    /// [`Event::Delivery`] (`provider_id` is the `user_id`, from the record or from `resolve`, empty
    /// when neither knows it), everything else → [`Event::Other`] with the record kept whole.
    pub fn events(
        &self,
        offset: FixedOffset,
        numbers: &NumberFormat,
        resolve: impl Fn(&RecordKey) -> Option<u32>,
    ) -> Result<Vec<Event>> {
        let sn = self.sn.clone().unwrap_or_default();
        let mut out = Vec::new();
        let when = |t: &Option<String>| t.as_deref().and_then(|t| parse_gateway_time(t, offset));
        let with_common = |mut s: StatusReport, number: &str, time: &Option<String>, raw: Value| {
            if let Some(n) = numbers.parse(number) {
                s = s.with_recipient(Recipient::Phone(n));
            }
            if let Some(t) = when(time) {
                s = s.with_at(t);
            }
            s.with_raw(raw)
        };
        for e in &self.events {
            match e {
                PushEvent::Sms(list) => {
                    for s in list {
                        out.push(Event::Inbound(to_inbound(&sn, s, offset)?));
                    }
                }
                PushEvent::SmsResult(list) => {
                    for r in list {
                        let id = r.user_id.or_else(|| resolve(&(r.port, r.ref_id, r.number.clone())));
                        let s = StatusReport::new(
                            id.map(|i| i.to_string()).unwrap_or_default(),
                            r.status.delivery_status(),
                            r.status.to_string(),
                        );
                        out.push(Event::Delivery(with_common(
                            s,
                            &r.number,
                            &r.time,
                            serde_json::to_value(r).unwrap_or_default(),
                        )));
                    }
                }
                PushEvent::SmsDeliverStatus(list) => {
                    for d in list {
                        let id = resolve(&(d.port, d.ref_id, d.number.clone()));
                        let mut s = StatusReport::new(
                            id.map(|i| i.to_string()).unwrap_or_default(),
                            DeliveryCode::delivery_status(d.status_code),
                            format!("status_code={}", d.status_code),
                        );
                        if d.status_code != 0 {
                            s = s.with_error_code(d.status_code);
                        }
                        out.push(Event::Delivery(with_common(
                            s,
                            &d.number,
                            &d.time,
                            serde_json::to_value(d).unwrap_or_default(),
                        )));
                    }
                }
                PushEvent::Ussd(list) => out.extend(list.iter().map(|x| other("ussd", &sn, x))),
                PushEvent::Register(list) => out.extend(list.iter().map(|x| other("register", &sn, x))),
                PushEvent::Cdr(list) => out.extend(list.iter().map(|x| other("cdr", &sn, x))),
                PushEvent::Device(x) => out.push(other("device", &sn, x)),
                PushEvent::ExceptionInfo(x) => out.push(other("exception_info", &sn, x)),
                PushEvent::Unknown { key, value } => out.push(Event::Other {
                    kind: format!("{SCHEME}.{key}"),
                    raw: with_sn(value.clone(), &sn),
                }),
            }
        }
        Ok(out)
    }
}

fn other<T: Serialize>(kind: &str, sn: &str, record: &T) -> Event {
    Event::Other {
        kind: format!("{SCHEME}.{kind}"),
        raw: with_sn(serde_json::to_value(record).unwrap_or_default(), sn),
    }
}

/// Adds the gateway's `sn` to an object record, so an `Other` event says where it came from.
fn with_sn(mut v: Value, sn: &str) -> Value {
    if let Value::Object(m) = &mut v
        && !sn.is_empty()
        && !m.contains_key("sn")
    {
        m.insert("sn".to_owned(), Value::String(sn.to_owned()));
    }
    v
}

/// One gateway's pushes: the secret their URL must carry (and in which query parameter), the gateway's
/// serial number when known (a push from another gateway is refused), and how its clock and numbers
/// are read.
#[derive(Clone)]
pub struct DinstarWebhook {
    secret: Option<SecretString>,
    param: String,
    expected_sn: Option<String>,
    offset: FixedOffset,
    numbers: NumberFormat,
}

/// Never shows the secret.
impl fmt::Debug for DinstarWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DinstarWebhook")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("param", &self.param)
            .field("expected_sn", &self.expected_sn)
            .finish_non_exhaustive()
    }
}

impl DinstarWebhook {
    /// Pushes whose URL carries `secret` in the query parameter `param`, from any gateway, with the
    /// gateway's clock on UTC; with no secret every push is refused.
    pub fn new(secret: Option<SecretString>, param: impl Into<String>) -> Self {
        DinstarWebhook {
            secret,
            param: param.into(),
            expected_sn: None,
            offset: Utc.fix(),
            numbers: NumberFormat::default(),
        }
    }

    /// The pushes of the gateway `config` describes: its secret, parameter, serial number, clock
    /// offset and number format.
    pub fn from_config(config: &DinstarConfig) -> Self {
        DinstarWebhook {
            secret: config.webhook_secret.clone(),
            param: config.webhook_token_param.clone(),
            expected_sn: config.sn.clone(),
            // `DinstarConfig::validate` refuses an offset out of range; UTC stands in for one never checked.
            offset: config.utc_offset().unwrap_or_else(|| Utc.fix()),
            numbers: config.number_format.clone(),
        }
    }

    /// Refuses pushes from any gateway but the one with serial number `sn`.
    pub fn expect_sn(mut self, sn: impl Into<String>) -> Self {
        self.expected_sn = Some(sn.into());
        self
    }

    /// Verifies a push and decodes the gateway's typed records. A push from another gateway than the
    /// expected one is refused as `Auth`.
    pub fn push(&self, request: &WebhookRequest) -> Result<Push> {
        self.verify(request)?;
        self.decode_push(request)
    }

    /// The records of a verified push, checked against the expected gateway.
    fn decode_push(&self, request: &WebhookRequest) -> Result<Push> {
        let push = read_push(request)?;
        if let (Some(want), Some(got)) = (self.expected_sn.as_deref(), push.sn.as_deref())
            && want != got
        {
            return Err(switchboard_core::webhook::unauthenticated(format!(
                "the push comes from gateway {got}, not the configured {want}"
            ))
            .with_provider(SCHEME));
        }
        Ok(push)
    }

    /// The events of a verified push, with `user_id`s from `resolve` where the records lack them.
    pub(crate) fn events_of(&self, push: &Push, resolve: impl Fn(&RecordKey) -> Option<u32>) -> Result<Vec<Event>> {
        push.events(self.offset, &self.numbers, resolve)
    }
}

impl Webhook for DinstarWebhook {
    /// Checks that the push URL carries the shared secret. Without a configured secret this is a
    /// `Config` error: pushes are never believed unverified.
    fn verify(&self, request: &WebhookRequest) -> Result<()> {
        let secret = self.secret.as_ref().ok_or_else(|| {
            Error::config(
                "Dinstar pushes are verified by a secret in the push URL, and none is configured \
                 (set webhook_secret and register the URL with ?token=SECRET)",
            )
            .with_provider(SCHEME)
        })?;
        verify_url_token(request, &self.param, secret).map_err(|e| e.with_provider(SCHEME))
    }

    /// The push's records as events (inbound SMS, delivery reports, and `Other` for the rest), without
    /// looking anything up: a report that carries no `user_id` has no provider id.
    fn decode(&self, request: &WebhookRequest) -> Result<Vec<Event>> {
        let push = self.decode_push(request)?;
        self.events_of(&push, |_| None)
    }
}

/// Decodes a push body. Malformed bodies are `InvalidInput` errors, never panics.
fn read_push(request: &WebhookRequest) -> Result<Push> {
    if request.method != http::Method::POST {
        return Err(
            Error::invalid_input(format!("a Dinstar push is a POST, not a {}", request.method)).with_provider(SCHEME),
        );
    }
    let raw: Value = request.json().map_err(|e| e.with_provider(SCHEME))?;
    let Value::Object(map) = &raw else {
        return Err(Error::invalid_input("the push body is not a JSON object").with_provider(SCHEME));
    };
    let sn = match map.get("sn") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(Error::invalid_input("the push's sn is not a string").with_provider(SCHEME)),
    };
    let mut events = Vec::new();
    for (key, value) in map {
        let event = match key.as_str() {
            "sn" => continue,
            "sms" => PushEvent::Sms(field(key, value)?),
            "sms_result" => PushEvent::SmsResult(field(key, value)?),
            "sms_deliver_status" => PushEvent::SmsDeliverStatus(field(key, value)?),
            "ussd" => PushEvent::Ussd(field(key, value)?),
            "register" => PushEvent::Register(field(key, value)?),
            "cdr" => PushEvent::Cdr(field(key, value)?),
            "device" => PushEvent::Device(field(key, value)?),
            "exception_info" => PushEvent::ExceptionInfo(field(key, value)?),
            _ => PushEvent::Unknown {
                key: key.clone(),
                value: value.clone(),
            },
        };
        events.push(event);
    }
    if events.is_empty() {
        return Err(Error::invalid_input("the push carries no payload").with_provider(SCHEME));
    }
    Ok(Push { sn, events, raw })
}

fn field<T: serde::de::DeserializeOwned>(key: &str, value: &Value) -> Result<T> {
    T::deserialize(value).map_err(|e| {
        Error::invalid_input(format!("the push's '{key}' is not the documented shape ({e})")).with_provider(SCHEME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::{DeliveryStatus, ErrorKind};

    fn req(body: &str) -> WebhookRequest {
        WebhookRequest::post("https://h/hook?token=t", body.to_owned())
    }

    #[test]
    fn all_eight_kinds_decode() {
        let bodies = [
            r#"{"sn":"S","sms":[{"incoming_sms_id":1,"port":1,"number":"6717","smsc":"+86","timestamp":"2016-07-12 15:46:18","text":"test"}]}"#,
            r#"{"sn":"S","sms_result":[{"port":1,"number":"10086","time":"2016-07-12 01:46:02","status":"DELIVERED","count":1,"succ_count":1,"ref_id":215,"imsi":"4600"}]}"#,
            r#"{"sn":"S","sms_deliver_status":[{"port":1,"number":"10086","time":"2016-07-12 15:46:53","ref_id":215,"status_code":0,"imsi":"4600"}]}"#,
            r#"{"sn":"S","ussd":[{"port":1,"text":"Thank you!"}]}"#,
            r#"{"sn":"S","register":[{"port":8,"iccid":"8986","imsi":"4600","number":"137","status":"up","sequence":2,"slot":2}]}"#,
            r#"{"sn":"S","cdr":[{"port":2,"start_date":"2016-07-12 15:00:00","duration":30,"direction":"gsm->ip","bech":"12"}]}"#,
            r#"{"sn":"S","device":{"port_number":32,"IP":"172.18.55.142","MAC":"F8-A0","status":"power_off"}}"#,
            r#"{"sn":"S","exception_info":{"port":0,"type":"call_fail","action":"reset"}}"#,
        ];
        let kinds = [
            "sms",
            "sms_result",
            "sms_deliver_status",
            "ussd",
            "register",
            "cdr",
            "device",
            "exception_info",
        ];
        for (b, k) in bodies.iter().zip(kinds) {
            let p = read_push(&req(b)).unwrap();
            assert_eq!(p.events.len(), 1);
            assert_eq!(p.events[0].kind(), k);
            let ev = p
                .events(FixedOffset::east_opt(0).unwrap(), &NumberFormat::International, |_| {
                    Some(9)
                })
                .unwrap();
            assert_eq!(ev.len(), 1);
            match (&ev[0], k) {
                (Event::Inbound(m), "sms") => assert_eq!(m.provider_id, "S:1"),
                (Event::Delivery(s), "sms_result") => {
                    assert_eq!((s.status, s.provider_id.as_str()), (DeliveryStatus::Delivered, "9"))
                }
                (Event::Delivery(s), "sms_deliver_status") => assert_eq!(s.status, DeliveryStatus::Delivered),
                (Event::Other { kind, raw }, _) => {
                    assert_eq!(kind, &format!("dinstar.{k}"));
                    assert_eq!(raw["sn"], "S");
                }
                (e, k) => panic!("{k}: {e:?}"),
            }
        }
        let cdr = read_push(&req(bodies[5])).unwrap();
        assert!(matches!(&cdr.events[0], PushEvent::Cdr(c) if c[0].bcch == Some(Value::from("12"))));
    }

    #[test]
    fn hostile_bodies_are_input_errors() {
        for b in [
            "",
            "nope",
            "[]",
            "42",
            r#"{"sn":"S"}"#,
            r#"{"sn":5,"sms":[]}"#,
            r#"{"sms":"x"}"#,
            r#"{"sms":[{"port":1}]}"#,
            r#"{"sms_deliver_status":[{"status_code":"bad"}]}"#,
            r#"{"device":[]}"#,
            r#"{"register":[{"port":999}]}"#,
        ] {
            let e = read_push(&req(b)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{b}: {e}");
        }
        let get = WebhookRequest::get("https://h/hook?token=t");
        assert_eq!(read_push(&get).unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn unknown_payloads_are_kept() {
        let p = read_push(&req(r#"{"sn":"S","battery":{"level":3}}"#)).unwrap();
        assert!(matches!(&p.events[0], PushEvent::Unknown { key, .. } if key == "battery"));
    }

    #[tokio::test]
    async fn verification() {
        let hook = DinstarWebhook::new(Some(SecretString::from("t")), "token");
        hook.verify(&req("{}")).unwrap();
        let e = hook.verify(&WebhookRequest::post("https://h/hook", "{}")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        let e = DinstarWebhook::new(None, "token").verify(&req("{}")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let other = req(r#"{"sn":"OTHER","ussd":[{"port":1,"text":"x"}]}"#);
        assert!(hook.push(&other).is_ok(), "any gateway unless one is expected");
        let mine = hook.clone().expect_sn("MINE");
        assert_eq!(mine.push(&other).unwrap_err().kind(), ErrorKind::Auth);
        assert_eq!(mine.decode(&other).unwrap_err().kind(), ErrorKind::Auth);
        assert_eq!(mine.handle(&other).await.unwrap_err().kind(), ErrorKind::Auth);
    }

    #[test]
    fn register_null_values() {
        let r: RegisterEvent =
            serde_json::from_value(serde_json::json!({"port":1,"iccid":"<NULL>","status":"down"})).unwrap();
        assert_eq!(RegisterEvent::value(&r.iccid), None);
        assert!(!r.is_up());
    }
}

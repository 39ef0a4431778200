//! The Message resource: its status, the create request (PascalCase form fields) and the resource
//! Twilio answers (snake_case JSON).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{DeliveryStatus, Error, Price, Result};

use super::options::{AddressRetention, ContentRetention, RiskCheck, TrafficType};
use super::{de_opt_i64, de_opt_string};
use crate::config::MAX_VALIDITY_SECONDS;
use crate::error::mask;

/// Every value of Twilio's `MessageEnumStatus`, plus what Twilio may add later.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageStatus {
    /// Waiting in Twilio's queue (the initial status without a Messaging Service).
    Queued,
    /// Being handed to the carrier.
    Sending,
    /// The carrier took it.
    Sent,
    /// Twilio could not send it.
    Failed,
    /// The handset has it.
    Delivered,
    /// The carrier could not deliver it.
    Undelivered,
    /// An inbound message is being received.
    Receiving,
    /// An inbound message was received.
    Received,
    /// A Messaging Service accepted it (the initial status with one).
    Accepted,
    /// Scheduled for later (`SendAt`).
    Scheduled,
    /// The recipient read it (WhatsApp, RCS).
    Read,
    /// Some but not all parts were delivered.
    PartiallyDelivered,
    /// A scheduled message was canceled.
    Canceled,
    /// A status this version does not know, as Twilio wrote it.
    Other(String),
}

impl MessageStatus {
    /// Reads Twilio's word.
    pub fn parse(s: &str) -> MessageStatus {
        match s {
            "queued" => MessageStatus::Queued,
            "sending" => MessageStatus::Sending,
            "sent" => MessageStatus::Sent,
            "failed" => MessageStatus::Failed,
            "delivered" => MessageStatus::Delivered,
            "undelivered" => MessageStatus::Undelivered,
            "receiving" => MessageStatus::Receiving,
            "received" => MessageStatus::Received,
            "accepted" => MessageStatus::Accepted,
            "scheduled" => MessageStatus::Scheduled,
            "read" => MessageStatus::Read,
            "partially_delivered" => MessageStatus::PartiallyDelivered,
            "canceled" => MessageStatus::Canceled,
            other => MessageStatus::Other(other.to_owned()),
        }
    }

    /// Twilio's word.
    pub fn as_str(&self) -> &str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Sending => "sending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Undelivered => "undelivered",
            MessageStatus::Receiving => "receiving",
            MessageStatus::Received => "received",
            MessageStatus::Accepted => "accepted",
            MessageStatus::Scheduled => "scheduled",
            MessageStatus::Read => "read",
            MessageStatus::PartiallyDelivered => "partially_delivered",
            MessageStatus::Canceled => "canceled",
            MessageStatus::Other(s) => s,
        }
    }

    /// The normalised status.
    ///
    /// * `accepted` → Accepted; `queued`, `sending`, `scheduled` → Queued (still at Twilio);
    ///   `sent` → Sent (at the carrier).
    /// * `delivered`, `read` → Delivered; `received` (an inbound message that arrived) → Delivered,
    ///   `receiving` → Queued.
    /// * `undelivered`, `failed` → Failed; `canceled` → Failed too (it will never be delivered, and
    ///   [`DeliveryStatus`] has no "withdrawn").
    /// * `partially_delivered` → Sent: some parts arrived, the rest may still; Twilio does not list it
    ///   as terminal.
    pub fn delivery_status(&self) -> DeliveryStatus {
        match self {
            MessageStatus::Accepted => DeliveryStatus::Accepted,
            MessageStatus::Queued | MessageStatus::Sending | MessageStatus::Scheduled | MessageStatus::Receiving => {
                DeliveryStatus::Queued
            }
            MessageStatus::Sent | MessageStatus::PartiallyDelivered => DeliveryStatus::Sent,
            MessageStatus::Delivered | MessageStatus::Read | MessageStatus::Received => DeliveryStatus::Delivered,
            MessageStatus::Undelivered | MessageStatus::Failed | MessageStatus::Canceled => DeliveryStatus::Failed,
            MessageStatus::Other(_) => DeliveryStatus::Unknown,
        }
    }

    /// Whether Twilio will not change it any more (for outbound messages).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            MessageStatus::Delivered
                | MessageStatus::Undelivered
                | MessageStatus::Failed
                | MessageStatus::Read
                | MessageStatus::Canceled
                | MessageStatus::Received
        )
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `POST /Messages.json` request. Build it with [`CreateMessage::new`] and the setters.
#[derive(Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct CreateMessage {
    /// `To`: an E.164 number, or a channel address (`whatsapp:+1…`).
    pub to: String,
    /// `From`: a number, short code or alphanumeric sender.
    pub from: Option<String>,
    /// `MessagingServiceSid`.
    pub messaging_service_sid: Option<String>,
    /// `Body`.
    pub body: Option<String>,
    /// `MediaUrl`, repeatable.
    pub media_url: Vec<String>,
    /// `StatusCallback`.
    pub status_callback: Option<String>,
    /// `ValidityPeriod`, seconds.
    pub validity_period: Option<u32>,
    /// `MaxPrice`. Twilio's Message resource reference marks it obsolete: it has had no effect since
    /// 2024-06-03. It is still sent when set, and Twilio ignores it.
    #[deprecated(
        since = "0.1.0",
        note = "Twilio ignores MaxPrice since 2024-06-03 (Message resource reference); it limits nothing"
    )]
    pub max_price: Option<String>,
    /// `ProvideFeedback`.
    pub provide_feedback: Option<bool>,
    /// `Attempt`.
    pub attempt: Option<u32>,
    /// `ForceDelivery`.
    pub force_delivery: Option<bool>,
    /// `SmartEncoded`.
    pub smart_encoded: Option<bool>,
    /// `ShortenUrls`.
    pub shorten_urls: Option<bool>,
    /// `SendAsMms`.
    pub send_as_mms: Option<bool>,
    /// `ContentSid` (a template).
    pub content_sid: Option<String>,
    /// `ContentVariables` (JSON text).
    pub content_variables: Option<String>,
    /// `ApplicationSid`.
    pub application_sid: Option<String>,
    /// `SendAt` (with `ScheduleType=fixed`, needs a Messaging Service).
    pub send_at: Option<DateTime<Utc>>,
    /// `PersistentAction`, repeatable.
    pub persistent_action: Vec<String>,
    /// `ContentRetention`: may Twilio store the body.
    pub content_retention: Option<ContentRetention>,
    /// `AddressRetention`: may Twilio store the numbers.
    pub address_retention: Option<AddressRetention>,
    /// `TrafficType`.
    pub traffic_type: Option<TrafficType>,
    /// `RiskCheck`: `disable` skips Twilio's risk checks for this message.
    pub risk_check: Option<RiskCheck>,
    /// `FallbackFrom`: the SMS sender used when an RCS message cannot reach the recipient. Needs a
    /// Messaging Service with an RCS sender (Twilio refuses it otherwise, error 21666).
    pub fallback_from: Option<String>,
    /// Any other field, as `(Name, value)`.
    pub extra: Vec<(String, String)>,
}

impl CreateMessage {
    /// A message to `to`.
    pub fn new(to: impl Into<String>) -> Self {
        CreateMessage {
            to: to.into(),
            ..Default::default()
        }
    }

    /// Sets `Body`.
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets `From`.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Sets `MessagingServiceSid`.
    pub fn messaging_service_sid(mut self, sid: impl Into<String>) -> Self {
        self.messaging_service_sid = Some(sid.into());
        self
    }

    /// Adds a `MediaUrl`.
    pub fn media_url(mut self, url: impl Into<String>) -> Self {
        self.media_url.push(url.into());
        self
    }

    /// Sets `StatusCallback`.
    pub fn status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }

    /// Sets `ValidityPeriod`.
    pub fn validity_period(mut self, seconds: u32) -> Self {
        self.validity_period = Some(seconds);
        self
    }

    /// Schedules the message (`ScheduleType=fixed`, `SendAt`).
    pub fn send_at(mut self, at: DateTime<Utc>) -> Self {
        self.send_at = Some(at);
        self
    }

    /// Sets `ContentRetention`.
    pub fn content_retention(mut self, retention: ContentRetention) -> Self {
        self.content_retention = Some(retention);
        self
    }

    /// Sets `AddressRetention`.
    pub fn address_retention(mut self, retention: AddressRetention) -> Self {
        self.address_retention = Some(retention);
        self
    }

    /// Sets `TrafficType`.
    pub fn traffic_type(mut self, traffic: TrafficType) -> Self {
        self.traffic_type = Some(traffic);
        self
    }

    /// Sets `RiskCheck`.
    pub fn risk_check(mut self, check: RiskCheck) -> Self {
        self.risk_check = Some(check);
        self
    }

    /// Sets `FallbackFrom` (needs a Messaging Service).
    pub fn fallback_from(mut self, sender: impl Into<String>) -> Self {
        self.fallback_from = Some(sender.into());
        self
    }

    /// Adds any other field.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Checks what Twilio would refuse anyway.
    pub fn validate(&self) -> Result<()> {
        if self.to.trim().is_empty() {
            return Err(Error::invalid_input("a Twilio message needs a 'To'"));
        }
        if self.from.is_none() && self.messaging_service_sid.is_none() {
            return Err(Error::invalid_input(
                "a Twilio message needs a 'From' or a 'MessagingServiceSid'",
            ));
        }
        let has_body = self.body.as_deref().is_some_and(|b| !b.is_empty());
        if !has_body && self.media_url.is_empty() && self.content_sid.is_none() {
            return Err(Error::invalid_input(
                "a Twilio message needs a body, media or a content template",
            ));
        }
        if self.media_url.len() > 10 {
            return Err(Error::invalid_input(
                "a Twilio message carries at most 10 media URLs (error 21623 otherwise)",
            ));
        }
        if self.body.as_deref().is_some_and(|b| b.chars().count() > 1600) {
            return Err(Error::invalid_input("a Twilio message body is at most 1600 characters"));
        }
        if self.send_at.is_some() && self.messaging_service_sid.is_none() {
            return Err(Error::invalid_input(
                "scheduling a Twilio message needs a Messaging Service",
            ));
        }
        if self
            .validity_period
            .is_some_and(|v| !(1..=MAX_VALIDITY_SECONDS).contains(&v))
        {
            return Err(Error::invalid_input(
                "a Twilio ValidityPeriod is 1 to 36000 seconds (error 21624 otherwise)",
            ));
        }
        if self.fallback_from.is_some() && self.messaging_service_sid.is_none() {
            return Err(Error::invalid_input(
                "a Twilio FallbackFrom needs a Messaging Service (error 21666 otherwise)",
            ));
        }
        Ok(())
    }

    /// The form fields, PascalCase as Twilio names them.
    pub fn to_form(&self) -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = vec![("To".into(), self.to.clone())];
        let mut opt = |name: &str, v: Option<String>| {
            if let Some(v) = v {
                f.push((name.to_owned(), v));
            }
        };
        opt("From", self.from.clone());
        opt("MessagingServiceSid", self.messaging_service_sid.clone());
        opt("Body", self.body.clone());
        opt("StatusCallback", self.status_callback.clone());
        opt("ValidityPeriod", self.validity_period.map(|v| v.to_string()));
        #[allow(deprecated)]
        opt("MaxPrice", self.max_price.clone());
        opt("ProvideFeedback", self.provide_feedback.map(|v| v.to_string()));
        opt("Attempt", self.attempt.map(|v| v.to_string()));
        opt("ForceDelivery", self.force_delivery.map(|v| v.to_string()));
        opt("SmartEncoded", self.smart_encoded.map(|v| v.to_string()));
        opt("ShortenUrls", self.shorten_urls.map(|v| v.to_string()));
        opt("SendAsMms", self.send_as_mms.map(|v| v.to_string()));
        opt("ContentSid", self.content_sid.clone());
        opt("ContentVariables", self.content_variables.clone());
        opt("ApplicationSid", self.application_sid.clone());
        opt(
            "ContentRetention",
            self.content_retention.map(|v| v.as_str().to_owned()),
        );
        opt(
            "AddressRetention",
            self.address_retention.map(|v| v.as_str().to_owned()),
        );
        opt("TrafficType", self.traffic_type.map(|v| v.as_str().to_owned()));
        opt("RiskCheck", self.risk_check.map(|v| v.as_str().to_owned()));
        opt("FallbackFrom", self.fallback_from.clone());
        if let Some(at) = self.send_at {
            opt("ScheduleType", Some("fixed".to_owned()));
            opt("SendAt", Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        }
        for u in &self.media_url {
            f.push(("MediaUrl".into(), u.clone()));
        }
        for a in &self.persistent_action {
            f.push(("PersistentAction".into(), a.clone()));
        }
        f.extend(self.extra.iter().cloned());
        f
    }
}

impl fmt::Debug for CreateMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateMessage")
            .field("to", &mask(&self.to))
            .field("from", &self.from.as_deref().map(mask))
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("body_chars", &self.body.as_ref().map(|b| b.chars().count()))
            .field("media", &self.media_url.len())
            .field("send_at", &self.send_at)
            .field("fallback_from", &self.fallback_from.as_deref().map(mask))
            .finish_non_exhaustive()
    }
}

/// Twilio's Message resource.
#[derive(Clone, PartialEq, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct MessageResource {
    /// `SM…` (or `MM…` for MMS).
    pub sid: String,
    /// The account.
    #[serde(default)]
    pub account_sid: Option<String>,
    /// The Messaging Service, if one was used.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// The recipient.
    #[serde(default)]
    pub to: Option<String>,
    /// The sender.
    #[serde(default)]
    pub from: Option<String>,
    /// The text.
    #[serde(default)]
    pub body: Option<String>,
    /// The status word (see [`MessageResource::message_status`]).
    #[serde(default)]
    pub status: String,
    /// Parts, as a string.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub num_segments: Option<String>,
    /// Media count, as a string.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub num_media: Option<String>,
    /// `outbound-api`, `inbound`, `outbound-call`, `outbound-reply`.
    #[serde(default)]
    pub direction: Option<String>,
    /// `2010-04-01`.
    #[serde(default)]
    pub api_version: Option<String>,
    /// The price (negative, as a string), once known.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub price: Option<String>,
    /// The price's currency.
    #[serde(default)]
    pub price_unit: Option<String>,
    /// The error code of a failed or undelivered message.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub error_code: Option<i64>,
    /// The error's text.
    #[serde(default)]
    pub error_message: Option<String>,
    /// RFC 2822.
    #[serde(default)]
    pub date_created: Option<String>,
    /// RFC 2822.
    #[serde(default)]
    pub date_updated: Option<String>,
    /// RFC 2822.
    #[serde(default)]
    pub date_sent: Option<String>,
    /// The resource's path.
    #[serde(default)]
    pub uri: Option<String>,
    /// Sub-resources (media, feedback).
    #[serde(default)]
    pub subresource_uris: Option<Map<String, Value>>,
    /// Anything else Twilio sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn rfc2822(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s?).ok().map(|d| d.with_timezone(&Utc))
}

impl MessageResource {
    /// The status, typed.
    pub fn message_status(&self) -> MessageStatus {
        MessageStatus::parse(&self.status)
    }

    /// `date_created` parsed.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        rfc2822(self.date_created.as_deref())
    }

    /// `date_updated` parsed.
    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        rfc2822(self.date_updated.as_deref())
    }

    /// `date_sent` parsed.
    pub fn sent_at(&self) -> Option<DateTime<Utc>> {
        rfc2822(self.date_sent.as_deref())
    }

    /// `num_segments` as a number.
    pub fn segments(&self) -> Option<u32> {
        self.num_segments.as_deref()?.trim().parse().ok()
    }

    /// `price` and `price_unit` as Twilio wrote them: a charge is negative (`"-0.00750"` USD). `None`
    /// until Twilio has priced the message, or when the pair is not a decimal and a currency code.
    pub fn price(&self) -> Option<Price> {
        Price::new(self.price.as_deref()?, self.price_unit.as_deref()?).ok()
    }

    /// What Twilio charged, as a positive amount (Twilio's `price` with its sign turned: Twilio writes
    /// charges negative).
    pub fn charge(&self) -> Option<Price> {
        let p = self.price()?;
        let amount = match p.amount().strip_prefix('-') {
            Some(positive) => positive.to_owned(),
            None if p.amount().bytes().all(|b| b == b'0' || b == b'.') => p.amount().to_owned(),
            None => format!("-{}", p.amount()),
        };
        Price::new(&amount, p.currency()).ok()
    }

    /// `error_message` when Twilio gave a non-empty one.
    pub fn error_text(&self) -> Option<&str> {
        self.error_message.as_deref().map(str::trim).filter(|m| !m.is_empty())
    }
}

impl fmt::Debug for MessageResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageResource")
            .field("sid", &self.sid)
            .field("to", &self.to.as_deref().map(mask))
            .field("from", &self.from.as_deref().map(mask))
            .field("body_chars", &self.body.as_ref().map(|b| b.chars().count()))
            .field("status", &self.status)
            .field("num_segments", &self.num_segments)
            .field("direction", &self.direction)
            .field("price", &self.price)
            .field("error_code", &self.error_code)
            .field("date_created", &self.date_created)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [&str; 13] = [
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "receiving",
        "received",
        "accepted",
        "scheduled",
        "read",
        "partially_delivered",
        "canceled",
    ];

    #[test]
    fn all_thirteen_statuses_round_trip_and_map() {
        for s in ALL {
            let st = MessageStatus::parse(s);
            assert!(!matches!(st, MessageStatus::Other(_)), "{s}");
            assert_eq!(st.as_str(), s);
            assert_ne!(st.delivery_status(), DeliveryStatus::Unknown, "{s}");
        }
        use DeliveryStatus::*;
        let expect = [
            Queued, Queued, Sent, Failed, Delivered, Failed, Queued, Delivered, Accepted, Queued, Delivered, Sent,
            Failed,
        ];
        for (s, d) in ALL.iter().zip(expect) {
            assert_eq!(MessageStatus::parse(s).delivery_status(), d, "{s}");
        }
        assert_eq!(MessageStatus::parse("new_thing").delivery_status(), Unknown);
        assert!(MessageStatus::Canceled.is_terminal() && !MessageStatus::Sent.is_terminal());
    }

    #[test]
    fn resource_from_twilios_example() {
        let body = r#"{"sid":"SM0123456789abcdef0123456789abcdef","account_sid":"AC0123456789abcdef0123456789abcdef",
            "messaging_service_sid":null,"to":"+447111111111","from":"+15005550006","body":"Test Message",
            "status":"queued","num_segments":"1","num_media":"0","direction":"outbound-api","api_version":"2010-04-01",
            "price":null,"price_unit":"USD","error_code":null,"error_message":null,
            "date_created":"Tue, 26 Jul 2016 12:50:07 +0000","date_updated":"Tue, 26 Jul 2016 12:50:07 +0000",
            "date_sent":null,"uri":"/2010-04-01/Accounts/AC/Messages/SM.json",
            "subresource_uris":{"media":"/m.json"},"tags":{"x":1}}"#;
        let m: MessageResource = serde_json::from_str(body).unwrap();
        assert_eq!(m.message_status(), MessageStatus::Queued);
        assert_eq!(m.segments(), Some(1));
        assert_eq!(m.created_at().unwrap().timestamp(), 1_469_537_407);
        assert!(m.sent_at().is_none());
        assert!(m.extra.contains_key("tags"));
        let shown = format!("{m:?}");
        assert!(
            !shown.contains("447111111111") && !shown.contains("Test Message"),
            "{shown}"
        );
        let m: MessageResource =
            serde_json::from_str(r#"{"sid":"SMx","status":"failed","num_segments":2,"error_code":"30003"}"#).unwrap();
        assert_eq!((m.segments(), m.error_code), (Some(2), Some(30003)));
    }

    #[test]
    fn create_form_and_validation() {
        let c = CreateMessage::new("+15558675310")
            .from("+15005550006")
            .body("hi")
            .status_callback("https://h/cb")
            .media_url("https://h/a.png")
            .media_url("https://h/b.png");
        c.validate().unwrap();
        let f = c.to_form();
        assert_eq!(f[0], ("To".into(), "+15558675310".into()));
        assert_eq!(f.iter().filter(|(k, _)| k == "MediaUrl").count(), 2);
        assert!(f.contains(&("StatusCallback".into(), "https://h/cb".into())));
        assert!(CreateMessage::new("+1").body("x").validate().is_err());
        assert!(CreateMessage::new("+1").from("x").validate().is_err());
        assert!(CreateMessage::new("").from("x").body("b").validate().is_err());
        assert!(
            CreateMessage::new("+1")
                .from("x")
                .body("b".repeat(1601))
                .validate()
                .is_err()
        );
        assert!(
            CreateMessage::new("+1")
                .from("x")
                .body("b")
                .send_at(Utc::now())
                .validate()
                .is_err()
        );
        assert!(!format!("{c:?}").contains("8675310"));
    }

    #[test]
    fn typed_options_go_out_in_twilios_words() {
        let c = CreateMessage::new("+15558675310")
            .messaging_service_sid("MG5e1a1e5e1a1e5e1a1e5e1a1e5e1a1e5e")
            .body("hi")
            .content_retention(ContentRetention::Discard)
            .address_retention(AddressRetention::Obfuscate)
            .traffic_type(TrafficType::Free)
            .risk_check(RiskCheck::Disable)
            .fallback_from("+15005550006");
        c.validate().unwrap();
        let f = c.to_form();
        for (k, v) in [
            ("ContentRetention", "discard"),
            ("AddressRetention", "obfuscate"),
            ("TrafficType", "free"),
            ("RiskCheck", "disable"),
            ("FallbackFrom", "+15005550006"),
        ] {
            assert!(f.contains(&(k.to_owned(), v.to_owned())), "{k}");
        }
        assert!(!format!("{c:?}").contains("5005550006"));
        // What Twilio refuses is refused before a request.
        let no_service = CreateMessage::new("+1555").from("+15005550006").body("x");
        assert!(no_service.clone().fallback_from("+15005550006").validate().is_err());
        assert!(no_service.clone().validity_period(0).validate().is_err());
        assert!(no_service.clone().validity_period(36_001).validate().is_err());
        assert!(no_service.clone().validity_period(36_000).validate().is_ok());
        let eleven = (0..11).fold(no_service, |m, i| m.media_url(format!("https://h/{i}.png")));
        assert!(eleven.validate().is_err());
    }

    #[test]
    #[allow(deprecated)]
    fn max_price_is_deprecated_but_still_sent() {
        let mut c = CreateMessage::new("+15558675310").from("+15005550006").body("hi");
        c.max_price = Some("0.05".into());
        assert!(c.to_form().contains(&("MaxPrice".into(), "0.05".into())));
    }

    #[test]
    fn price_error_text_and_segments_are_typed() {
        let m: MessageResource = serde_json::from_str(
            r#"{"sid":"SMx","status":"undelivered","num_segments":"2","price":"-0.01580","price_unit":"USD",
                "error_code":30003,"error_message":"Unreachable destination handset"}"#,
        )
        .unwrap();
        assert_eq!(m.segments(), Some(2));
        assert_eq!(m.price().map(|p| p.to_micros()), Some(Some(-15_800)));
        let charge = m.charge().unwrap();
        assert_eq!((charge.amount(), charge.currency()), ("0.01580", "USD"));
        assert_eq!(m.error_text(), Some("Unreachable destination handset"));
        let unpriced: MessageResource = serde_json::from_str(
            r#"{"sid":"SMx","status":"queued","price":null,"price_unit":"USD","error_message":" "}"#,
        )
        .unwrap();
        assert!(unpriced.price().is_none() && unpriced.charge().is_none() && unpriced.error_text().is_none());
        let free: MessageResource =
            serde_json::from_str(r#"{"sid":"SMx","status":"sent","price":"0.00000","price_unit":"usd"}"#).unwrap();
        assert_eq!(free.charge().map(|p| p.amount().to_owned()), Some("0.00000".to_owned()));
    }
}

//! FCM HTTP v1 wire types: the `Message` resource, the send request and answer, Google's error
//! envelope and the OAuth token answer. Every struct keeps the fields it does not name in `extra`, so
//! a field Google adds is neither lost on decode nor impossible to send.
//!
//! [`FcmMessage::validate`] checks, before anything is sent, what FCM would refuse with
//! `INVALID_ARGUMENT`: exactly one target, string-only data, reserved keys, the payload size and the
//! TTL range.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{Error, Result};

use crate::SCHEME;

/// The longest Android TTL FCM accepts: 4 weeks.
pub const MAX_TTL: Duration = Duration::from_secs(2_419_200);

/// Payload limits, in bytes of data keys and values: 4096 (FCM's `ErrorCode` reference,
/// <https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode>, `INVALID_ARGUMENT`), and 2048
/// for topic messages. The topic figure is not confirmed from a primary source; it is kept here, in
/// one place.
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// See [`MAX_PAYLOAD_BYTES`].
pub const MAX_TOPIC_PAYLOAD_BYTES: usize = 2048;

type Extra = Map<String, Value>;

/// One FCM message (`projects.messages` resource). Build it with [`FcmMessage::to_token`],
/// [`FcmMessage::to_topic`] or [`FcmMessage::to_condition`].
///
/// `Debug` shortens the device token, which identifies a person's device.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FcmMessage {
    /// Output only: `projects/{id}/messages/{message_id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A device's registration token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A topic name, without `/topics/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// A topic condition (`'dogs' in topics || 'cats' in topics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Key/value data; values are strings on the wire, always.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    /// The notification shown on every platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<Notification>,
    /// Android-specific options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub android: Option<AndroidConfig>,
    /// Web push options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webpush: Option<WebpushConfig>,
    /// Apple Push Notification service options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apns: Option<ApnsConfig>,
    /// Options for every platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fcm_options: Option<FcmOptions>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for FcmMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FcmMessage")
            .field("token", &self.token.as_deref().map(short_token))
            .field("topic", &self.topic)
            .field("condition", &self.condition)
            .field("data_keys", &self.data.keys().collect::<Vec<_>>())
            .field("notification", &self.notification.is_some())
            .field("android", &self.android.is_some())
            .field("webpush", &self.webpush.is_some())
            .field("apns", &self.apns.is_some())
            .finish_non_exhaustive()
    }
}

/// A device token shortened for logs.
pub(crate) fn short_token(t: &str) -> String {
    format!("{}…", t.chars().take(6).collect::<String>())
}

impl FcmMessage {
    /// A message to one device.
    pub fn to_token(token: impl Into<String>) -> Self {
        FcmMessage {
            token: Some(token.into()),
            ..Self::default()
        }
    }

    /// A message to a topic's subscribers (`/topics/` in front is accepted and dropped).
    pub fn to_topic(topic: impl Into<String>) -> Self {
        let t: String = topic.into();
        let t = t.strip_prefix("/topics/").map(str::to_owned).unwrap_or(t);
        FcmMessage {
            topic: Some(t),
            ..Self::default()
        }
    }

    /// A message to the devices a topic condition selects.
    pub fn to_condition(condition: impl Into<String>) -> Self {
        FcmMessage {
            condition: Some(condition.into()),
            ..Self::default()
        }
    }

    /// Sets the notification's title and body.
    pub fn notification(mut self, title: impl Into<String>, body: impl Into<String>) -> Self {
        let n = self.notification.get_or_insert_with(Notification::default);
        n.title = Some(title.into());
        n.body = Some(body.into());
        self
    }

    /// Adds one data entry.
    pub fn data(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    /// Sets the Android options.
    pub fn android(mut self, android: AndroidConfig) -> Self {
        self.android = Some(android);
        self
    }

    /// Sets the APNs options.
    pub fn apns(mut self, apns: ApnsConfig) -> Self {
        self.apns = Some(apns);
        self
    }

    /// Sets the web push options.
    pub fn webpush(mut self, webpush: WebpushConfig) -> Self {
        self.webpush = Some(webpush);
        self
    }

    /// Checks what FCM would refuse with `INVALID_ARGUMENT`, so a bad message costs no request.
    ///
    /// The check runs over the JSON that would be sent, so values smuggled in through `extra`
    /// (a number where FCM wants a string) are caught too.
    pub fn validate(&self) -> Result<()> {
        let targets = [&self.token, &self.topic, &self.condition]
            .iter()
            .filter(|t| t.as_deref().is_some_and(|s| !s.is_empty()))
            .count();
        if targets != 1 {
            return Err(invalid("a message needs exactly one of token, topic or condition"));
        }
        if let Some(t) = &self.token
            && t.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid("the registration token contains whitespace"));
        }
        if let Some(t) = &self.topic
            && !t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b))
        {
            return Err(invalid("a topic name may only contain letters, digits and -_.~%"));
        }
        let json =
            serde_json::to_value(self).map_err(|e| invalid("the message cannot be serialised").with_source(e))?;
        let mut payload = 0usize;
        for (path, map) in [
            ("data", json.get("data")),
            ("android.data", json.get("android").and_then(|a| a.get("data"))),
            ("webpush.data", json.get("webpush").and_then(|w| w.get("data"))),
        ] {
            let Some(map) = map else { continue };
            let Some(map) = map.as_object() else {
                return Err(invalid(format!("'{path}' must be a map of strings")));
            };
            for (k, v) in map {
                let Some(s) = v.as_str() else {
                    return Err(invalid(format!(
                        "'{path}.{}' is not a string: FCM data values must be strings",
                        k.escape_debug()
                    )));
                };
                if path == "data" {
                    if is_reserved_key(k) {
                        return Err(invalid(format!(
                            "'{}' is a reserved data key (from, message_type, google…, gcm…)",
                            k.escape_debug()
                        )));
                    }
                    payload += k.len() + s.len();
                }
            }
        }
        if let Some(n) = &self.notification {
            payload += n.title.as_deref().map_or(0, str::len) + n.body.as_deref().map_or(0, str::len);
        }
        let max = if self.topic.is_some() {
            MAX_TOPIC_PAYLOAD_BYTES
        } else {
            MAX_PAYLOAD_BYTES
        };
        if payload > max {
            return Err(invalid(format!(
                "the payload is {payload} bytes, more than the {max} FCM accepts"
            )));
        }
        if let Some(ttl) = self.android.as_ref().and_then(|a| a.ttl.as_deref()) {
            match parse_duration(ttl) {
                Some(d) if d <= MAX_TTL => {}
                Some(_) => return Err(invalid("android.ttl is longer than 4 weeks")),
                None => return Err(invalid("android.ttl must be a duration such as \"3600s\"")),
            }
        }
        Ok(())
    }
}

fn invalid(msg: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::invalid_input(msg).with_provider(SCHEME)
}

/// Keys FCM reserves in `data`: `from`, `message_type`, and any key starting with `google` or `gcm`
/// (the `data` field of the `Message` resource, FCM HTTP v1 reference).
pub fn is_reserved_key(key: &str) -> bool {
    key == "from" || key == "message_type" || key.starts_with("google") || key.starts_with("gcm")
}

/// Formats a duration the way protobuf JSON does (`"3600s"`, `"1.5s"`).
pub fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        let frac = format!("{:09}", d.subsec_nanos());
        format!("{}.{}s", d.as_secs(), frac.trim_end_matches('0'))
    }
}

/// Parses a protobuf JSON duration (`"3600s"`, `"0.5s"`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let n = s.strip_suffix('s')?;
    let (secs, frac) = match n.split_once('.') {
        Some((a, b)) => (a, b),
        None => (n, ""),
    };
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: u64 = secs.parse().ok()?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    Some(Duration::new(secs, nanos))
}

/// The notification shown on every platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notification {
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// An image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Android delivery priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AndroidPriority {
    /// Delivered when the device is awake; may be delayed to save battery.
    Normal,
    /// Delivered at once, waking the device.
    High,
}

/// Android-specific options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AndroidConfig {
    /// Messages with the same key replace each other while the device is offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapse_key: Option<String>,
    /// Delivery priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<AndroidPriority>,
    /// How long FCM keeps the message for an offline device, as `"3600s"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Only the app with this package name receives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_package_name: Option<String>,
    /// Data that replaces the message's `data` on Android.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    /// The Android notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<AndroidNotification>,
    /// Android FCM options (`analytics_label`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fcm_options: Option<FcmOptions>,
    /// Deliver while the device is in direct boot mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_boot_ok: Option<bool>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl AndroidConfig {
    /// Sets the priority.
    pub fn priority(mut self, p: AndroidPriority) -> Self {
        self.priority = Some(p);
        self
    }

    /// Sets the time to live.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(format_duration(ttl));
        self
    }

    /// Sets the collapse key.
    pub fn collapse_key(mut self, key: impl Into<String>) -> Self {
        self.collapse_key = Some(key.into());
        self
    }
}

/// The Android notification.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AndroidNotification {
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The notification channel (Android 8+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// The intent filter action started on tap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_action: Option<String>,
    /// The sound to play (`default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<String>,
    /// Notifications with the same tag replace each other in the drawer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The icon resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Icon colour, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// An image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// APNs options: headers and the raw `aps` payload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApnsConfig {
    /// APNs request headers (`apns-priority`, `apns-expiration`, `apns-collapse-id`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The APNs payload, `{"aps": {...}, ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// APNs FCM options (`analytics_label`, `image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fcm_options: Option<FcmOptions>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ApnsConfig {
    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets the payload.
    pub fn payload(mut self, payload: Value) -> Self {
        self.payload = Some(payload);
        self
    }
}

/// Web push options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebpushConfig {
    /// Web push headers (`TTL`, `Urgency`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Data that replaces the message's `data` for web push.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    /// The Web Notification options, as the browser API names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<Value>,
    /// Web push FCM options (`link`, `analytics_label`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fcm_options: Option<FcmOptions>,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

/// FCM options (`analytics_label`, and per platform `image` or `link`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FcmOptions {
    /// The label in FCM's delivery analytics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics_label: Option<String>,
    /// Fields not named above (`image` for APNs, `link` for web push).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of `messages:send`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendRequest {
    /// Check the message without delivering it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub validate_only: bool,
    /// The message.
    pub message: FcmMessage,
}

/// The answer to `messages:send`: the message resource with its `name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendResponse {
    /// `projects/{id}/messages/{message_id}`.
    pub name: String,
    /// Fields not named above.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SendResponse {
    /// The message id, the part of `name` after `/messages/`.
    pub fn message_id(&self) -> &str {
        self.name
            .rsplit_once("/messages/")
            .map_or(self.name.as_str(), |(_, id)| id)
    }
}

/// Google's error envelope, `{"error": {...}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorEnvelope {
    /// The error.
    pub error: ErrorBody,
}

/// The `error` object of Google's envelope.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ErrorBody {
    /// The HTTP status.
    #[serde(default)]
    pub code: u16,
    /// A human message.
    #[serde(default)]
    pub message: String,
    /// The canonical status (`NOT_FOUND`, `INVALID_ARGUMENT`…).
    #[serde(default)]
    pub status: String,
    /// Typed details: `FcmError` with the FCM `errorCode`, `BadRequest` with field violations.
    #[serde(default)]
    pub details: Vec<Value>,
}

impl ErrorBody {
    /// The FCM error code from the `google.firebase.fcm.v1.FcmError` detail.
    pub fn fcm_error_code(&self) -> Option<&str> {
        self.details
            .iter()
            .filter(|d| {
                d.get("@type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.ends_with(".FcmError"))
            })
            .find_map(|d| d.get("errorCode").and_then(Value::as_str))
    }

    /// Every `(field, description)` of `google.rpc.BadRequest` details.
    pub fn field_violations(&self) -> Vec<(String, String)> {
        self.details
            .iter()
            .filter_map(|d| d.get("fieldViolations").and_then(Value::as_array))
            .flatten()
            .map(|v| {
                let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                (s("field"), s("description"))
            })
            .collect()
    }
}

/// The OAuth token endpoint's answer.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: switchboard_core::SecretString,
    /// Seconds it stays valid (3599 from Google).
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[REDACTED]")
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .finish()
    }
}

/// The OAuth error answer (RFC 6749 §5.2): `{"error":"invalid_grant","error_description":"…"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthError {
    /// The error code.
    pub error: String,
    /// A human description.
    #[serde(default)]
    pub error_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_reference_example_round_trips() {
        let wire = json!({"token":"dXJabcdefghij","notification":{"title":"Order #72","body":"Paid"},
            "data":{"order_id":"72","kind":"payment"},
            "android":{"priority":"HIGH","ttl":"3600s"},
            "apns":{"headers":{"apns-priority":"10"},"payload":{"aps":{"sound":"default"}}},
            "future_field": {"x": 1}});
        let m: FcmMessage = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(m.android.as_ref().unwrap().priority, Some(AndroidPriority::High));
        assert_eq!(serde_json::to_value(&m).unwrap(), wire);
        m.validate().unwrap();
        assert!(!format!("{m:?}").contains("dXJabcdefghij"));
    }

    #[test]
    fn exactly_one_target() {
        assert!(FcmMessage::default().validate().is_err());
        let mut m = FcmMessage::to_token("abc");
        m.topic = Some("news".into());
        assert!(m.validate().is_err());
        assert_eq!(FcmMessage::to_topic("/topics/news").topic.as_deref(), Some("news"));
        assert!(FcmMessage::to_topic("bad topic").validate().is_err());
    }

    #[test]
    fn non_string_data_smuggled_through_extra_is_caught() {
        let mut m = FcmMessage::to_token("abc");
        m.extra.insert("data".into(), json!({"n": 72}));
        let e = m.validate().unwrap_err();
        assert!(e.to_string().contains("must be strings"), "{e}");
        let mut a = AndroidConfig::default();
        a.extra.insert("data".into(), json!({"n": true}));
        assert!(FcmMessage::to_token("abc").android(a).validate().is_err());
    }

    #[test]
    fn reserved_keys_size_and_ttl() {
        assert!(FcmMessage::to_token("t").data("from", "x").validate().is_err());
        assert!(FcmMessage::to_token("t").data("google.c.a", "x").validate().is_err());
        let big = "x".repeat(3000);
        assert!(FcmMessage::to_token("t").data("k", big.clone()).validate().is_ok());
        assert!(FcmMessage::to_topic("news").data("k", big).validate().is_err());
        let ok = AndroidConfig::default().ttl(Duration::from_secs(3600));
        assert_eq!(ok.ttl.as_deref(), Some("3600s"));
        assert!(FcmMessage::to_token("t").android(ok).validate().is_ok());
        let long = AndroidConfig::default().ttl(MAX_TTL + Duration::from_secs(1));
        assert!(FcmMessage::to_token("t").android(long).validate().is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("3600s"), Some(Duration::from_secs(3600)));
        for bad in ["", "s", "10", "-1s", "1.s5", "1.0000000001s", "ten s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn error_details() {
        let e: ErrorEnvelope = serde_json::from_value(json!({"error":{"code":404,
            "message":"Requested entity was not found.","status":"NOT_FOUND",
            "details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"},
                       {"@type":"type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}]}}))
        .unwrap();
        assert_eq!(e.error.fcm_error_code(), Some("UNREGISTERED"));
        assert_eq!(e.error.field_violations()[0].0, "message.token");
        let r = SendResponse {
            name: "projects/p/messages/0:15%31bd".into(),
            extra: Map::new(),
        };
        assert_eq!(r.message_id(), "0:15%31bd");
    }
}

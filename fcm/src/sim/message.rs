//! The `messages:send` body, checked as FCM checks it.
//!
//! FCM reads the body as the protobuf JSON of `SendMessageRequest`
//! (<https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages>), and protobuf JSON is
//! strict: a field the message type does not have is refused ("Invalid JSON payload received. Unknown
//! name \"x\" at 'message': Cannot find field."), and so is a value of the wrong type ("Invalid value
//! at 'message.notification.title' (TYPE_STRING), 5"). Field names are accepted in the proto's
//! `snake_case` and in `lowerCamelCase`; `null` stands for "not set". The schema below is the
//! reference's `Message` with every sub-message it names. Then come the rules the reference states in
//! words: exactly one target, string data, reserved data keys (`from`, `message_type`, anything
//! starting with `google` or `gcm`), the payload size, the TTL range, topic names, HTTPS web push
//! links and the `analytics_label` pattern `^[a-zA-Z0-9-_.~%]{1,50}$`.

use serde_json::Value;
use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::api::{fcm_detail, google_error, invalid_argument};
use super::state::State;
use crate::model::{MAX_PAYLOAD_BYTES, MAX_TOPIC_PAYLOAD_BYTES, is_reserved_key, parse_duration};

/// A protobuf field type, as far as the JSON check needs it.
enum Ty {
    Str,
    Bool,
    Int,
    Float,
    Duration,
    Timestamp,
    Enum(&'static [&'static str]),
    StrMap,
    StrList,
    DurationList,
    /// A `google.protobuf.Struct`: any JSON object.
    Object,
    Msg(&'static str, &'static [(&'static str, Ty)]),
}

const COLOR: &[(&str, Ty)] = &[
    ("red", Ty::Float),
    ("green", Ty::Float),
    ("blue", Ty::Float),
    ("alpha", Ty::Float),
];

const LIGHT_SETTINGS: &[(&str, Ty)] = &[
    ("color", Ty::Msg("google.type.Color", COLOR)),
    ("light_on_duration", Ty::Duration),
    ("light_off_duration", Ty::Duration),
];

const ANDROID_NOTIFICATION: &[(&str, Ty)] = &[
    ("title", Ty::Str),
    ("body", Ty::Str),
    ("icon", Ty::Str),
    ("color", Ty::Str),
    ("sound", Ty::Str),
    ("tag", Ty::Str),
    ("click_action", Ty::Str),
    ("body_loc_key", Ty::Str),
    ("body_loc_args", Ty::StrList),
    ("title_loc_key", Ty::Str),
    ("title_loc_args", Ty::StrList),
    ("channel_id", Ty::Str),
    ("ticker", Ty::Str),
    ("sticky", Ty::Bool),
    ("event_time", Ty::Timestamp),
    ("local_only", Ty::Bool),
    (
        "notification_priority",
        Ty::Enum(&[
            "PRIORITY_UNSPECIFIED",
            "PRIORITY_MIN",
            "PRIORITY_LOW",
            "PRIORITY_DEFAULT",
            "PRIORITY_HIGH",
            "PRIORITY_MAX",
        ]),
    ),
    ("default_sound", Ty::Bool),
    ("default_vibrate_timings", Ty::Bool),
    ("default_light_settings", Ty::Bool),
    ("vibrate_timings", Ty::DurationList),
    (
        "visibility",
        Ty::Enum(&["VISIBILITY_UNSPECIFIED", "PRIVATE", "PUBLIC", "SECRET"]),
    ),
    ("notification_count", Ty::Int),
    ("light_settings", Ty::Msg("LightSettings", LIGHT_SETTINGS)),
    ("image", Ty::Str),
    ("bypass_proxy_notification", Ty::Bool),
    (
        "proxy",
        Ty::Enum(&["PROXY_UNSPECIFIED", "ALLOW", "DENY", "IF_PRIORITY_LOWERED"]),
    ),
];

const LABEL_ONLY: &[(&str, Ty)] = &[("analytics_label", Ty::Str)];

const ANDROID: &[(&str, Ty)] = &[
    ("collapse_key", Ty::Str),
    ("priority", Ty::Enum(&["NORMAL", "HIGH"])),
    ("ttl", Ty::Duration),
    ("restricted_package_name", Ty::Str),
    ("data", Ty::StrMap),
    ("notification", Ty::Msg("AndroidNotification", ANDROID_NOTIFICATION)),
    ("fcm_options", Ty::Msg("AndroidFcmOptions", LABEL_ONLY)),
    ("direct_boot_ok", Ty::Bool),
    ("bandwidth_constrained_ok", Ty::Bool),
    ("restricted_satellite_ok", Ty::Bool),
];

const APNS: &[(&str, Ty)] = &[
    ("headers", Ty::StrMap),
    ("payload", Ty::Object),
    (
        "fcm_options",
        Ty::Msg("ApnsFcmOptions", &[("analytics_label", Ty::Str), ("image", Ty::Str)]),
    ),
    ("live_activity_token", Ty::Str),
];

const WEBPUSH: &[(&str, Ty)] = &[
    ("headers", Ty::StrMap),
    ("data", Ty::StrMap),
    ("notification", Ty::Object),
    (
        "fcm_options",
        Ty::Msg("WebpushFcmOptions", &[("link", Ty::Str), ("analytics_label", Ty::Str)]),
    ),
];

const NOTIFICATION: &[(&str, Ty)] = &[("title", Ty::Str), ("body", Ty::Str), ("image", Ty::Str)];

const MESSAGE: &[(&str, Ty)] = &[
    ("name", Ty::Str),
    ("data", Ty::StrMap),
    ("notification", Ty::Msg("Notification", NOTIFICATION)),
    ("android", Ty::Msg("AndroidConfig", ANDROID)),
    ("webpush", Ty::Msg("WebpushConfig", WEBPUSH)),
    ("apns", Ty::Msg("ApnsConfig", APNS)),
    ("fcm_options", Ty::Msg("FcmOptions", LABEL_ONLY)),
    ("token", Ty::Str),
    ("topic", Ty::Str),
    ("condition", Ty::Str),
];

const SEND_REQUEST: &[(&str, Ty)] = &[("validate_only", Ty::Bool), ("message", Ty::Msg("Message", MESSAGE))];

/// `snake_case` → `lowerCamelCase`, the other spelling protobuf JSON accepts.
fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A field of a JSON message under either of its protobuf JSON names; `null` counts as absent.
pub(super) fn field<'a>(v: &'a Value, snake: &str) -> Option<&'a Value> {
    v.get(snake).or_else(|| v.get(camel(snake))).filter(|x| !x.is_null())
}

fn at(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn bad_value(path: &str, kind: &str, v: &Value) -> ResponseTemplate {
    invalid_argument(&format!("Invalid value at '{path}' ({kind}), {v}"), Some(path))
}

fn is_int(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_i64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        Value::String(s) => s.trim().parse::<i64>().is_ok(),
        _ => false,
    }
}

fn check_value(path: &str, ty: &Ty, v: &Value) -> Result<(), ResponseTemplate> {
    let ok = match ty {
        Ty::Str => v.is_string(),
        Ty::Bool => v.is_boolean(),
        Ty::Int => is_int(v),
        Ty::Float => v.is_number(),
        Ty::Duration => v.as_str().and_then(parse_duration).is_some(),
        Ty::Timestamp => v
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        Ty::Enum(words) => {
            v.as_str().is_some_and(|s| words.contains(&s)) || v.as_u64().is_some_and(|i| (i as usize) < words.len())
        }
        Ty::StrMap => {
            let Some(map) = v.as_object() else {
                return Err(bad_value(path, "Map", v));
            };
            for (i, (_, x)) in map.iter().enumerate() {
                if !x.is_string() {
                    return Err(bad_value(&format!("{path}[{i}].value"), "TYPE_STRING", x));
                }
            }
            true
        }
        Ty::StrList | Ty::DurationList => {
            let Some(items) = v.as_array() else {
                return Err(bad_value(path, "TYPE_STRING", v));
            };
            for (i, x) in items.iter().enumerate() {
                let good = match ty {
                    Ty::DurationList => x.as_str().and_then(parse_duration).is_some(),
                    _ => x.is_string(),
                };
                if !good {
                    let kind = match ty {
                        Ty::DurationList => "type.googleapis.com/google.protobuf.Duration",
                        _ => "TYPE_STRING",
                    };
                    return Err(bad_value(&format!("{path}[{i}]"), kind, x));
                }
            }
            true
        }
        Ty::Object => v.is_object(),
        Ty::Msg(name, fields) => {
            if !v.is_object() {
                return Err(bad_value(
                    path,
                    &format!("type.googleapis.com/google.firebase.fcm.v1.{name}"),
                    v,
                ));
            }
            return check_fields(path, fields, v);
        }
    };
    if ok {
        return Ok(());
    }
    let kind = match ty {
        Ty::Str => "TYPE_STRING",
        Ty::Bool => "TYPE_BOOL",
        Ty::Int => "TYPE_INT32",
        Ty::Float => "TYPE_FLOAT",
        Ty::Duration => "type.googleapis.com/google.protobuf.Duration",
        Ty::Timestamp => "type.googleapis.com/google.protobuf.Timestamp",
        Ty::Enum(_) => "TYPE_ENUM",
        Ty::Object => "type.googleapis.com/google.protobuf.Struct",
        _ => "TYPE_MESSAGE",
    };
    Err(bad_value(path, kind, v))
}

fn check_fields(path: &str, fields: &[(&str, Ty)], v: &Value) -> Result<(), ResponseTemplate> {
    let Some(obj) = v.as_object() else {
        return Ok(());
    };
    for (key, value) in obj {
        let Some((name, ty)) = fields.iter().find(|(n, _)| *n == key || camel(n) == *key) else {
            let text = if path.is_empty() {
                format!("Invalid JSON payload received. Unknown name \"{key}\": Cannot find field.")
            } else {
                format!("Invalid JSON payload received. Unknown name \"{key}\" at '{path}': Cannot find field.")
            };
            return Err(invalid_argument(&text, Some(path)));
        };
        if !value.is_null() {
            check_value(&at(path, name), ty, value)?;
        }
    }
    Ok(())
}

/// The whole body against `SendMessageRequest`: no unknown field anywhere, every value of its type.
pub(super) fn check_request(body: &Value) -> Result<(), ResponseTemplate> {
    if !body.is_object() {
        return Err(invalid_argument("Invalid JSON payload received.", None));
    }
    check_fields("", SEND_REQUEST, body)
}

fn token_well_formed(t: &str) -> bool {
    t.len() >= 20 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-:".contains(&b))
}

/// The analytics label pattern of FCM's delivery data: `^[a-zA-Z0-9-_.~%]{1,50}$`.
fn label_ok(s: &str) -> bool {
    (1..=50).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b))
}

/// The rules the reference states in words, once the types are right.
pub(super) fn check_message(s: &State, m: &Value) -> Result<(), ResponseTemplate> {
    let target = |k: &str| field(m, k).and_then(Value::as_str).filter(|v| !v.is_empty());
    let (token, topic, condition) = (target("token"), target("topic"), target("condition"));
    if [token, topic, condition].iter().filter(|t| t.is_some()).count() != 1 {
        return Err(invalid_argument(
            "Exactly one of message.token, message.topic or message.condition must be specified.",
            None,
        ));
    }
    let android = field(m, "android");
    let webpush = field(m, "webpush");
    let mut payload = 0usize;
    if let Some(data) = field(m, "data").and_then(Value::as_object) {
        for (k, v) in data {
            if is_reserved_key(k) {
                return Err(invalid_argument(
                    &format!("Invalid data payload key: {k}"),
                    Some("message.data"),
                ));
            }
            payload += k.len() + v.as_str().map_or(0, str::len);
        }
    }
    if let Some(n) = field(m, "notification") {
        for k in ["title", "body"] {
            payload += field(n, k).and_then(Value::as_str).map_or(0, str::len);
        }
    }
    let max = if topic.is_some() {
        MAX_TOPIC_PAYLOAD_BYTES
    } else {
        MAX_PAYLOAD_BYTES
    };
    if payload > max {
        return Err(invalid_argument("Message is too big", Some("message")));
    }
    if let Some(ttl) = android.and_then(|a| field(a, "ttl"))
        && ttl
            .as_str()
            .and_then(parse_duration)
            .is_none_or(|d| d > super::super::model::MAX_TTL)
    {
        return Err(invalid_argument(
            &format!("Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), {ttl}"),
            Some("message.android.ttl"),
        ));
    }
    if let Some(link) = webpush
        .and_then(|w| field(w, "fcm_options"))
        .and_then(|o| field(o, "link"))
        .and_then(Value::as_str)
        && !link.starts_with("https://")
    {
        return Err(invalid_argument(
            "The link in webpush.fcm_options must be an HTTPS URL.",
            Some("message.webpush.fcm_options.link"),
        ));
    }
    for (path, options) in [
        ("message.fcm_options", field(m, "fcm_options")),
        (
            "message.android.fcm_options",
            android.and_then(|a| field(a, "fcm_options")),
        ),
        (
            "message.apns.fcm_options",
            field(m, "apns").and_then(|a| field(a, "fcm_options")),
        ),
        (
            "message.webpush.fcm_options",
            webpush.and_then(|w| field(w, "fcm_options")),
        ),
    ] {
        if let Some(label) = options
            .and_then(|o| field(o, "analytics_label"))
            .and_then(Value::as_str)
            && !label_ok(label)
        {
            return Err(invalid_argument(
                "Analytics label must match the pattern ^[a-zA-Z0-9-_.~%]{1,50}$",
                Some(&format!("{path}.analytics_label")),
            ));
        }
    }
    if let Some(t) = topic
        && !t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b))
    {
        return Err(invalid_argument("Invalid topic name", Some("message.topic")));
    }
    if let Some(c) = condition
        && !c.contains("in topics")
    {
        return Err(invalid_argument(
            "Invalid condition expression provided.",
            Some("message.condition"),
        ));
    }
    if let Some(t) = token {
        if s.unregistered.contains(t) {
            return Err(google_error(
                404,
                "NOT_FOUND",
                "Requested entity was not found.",
                vec![fcm_detail("UNREGISTERED")],
            ));
        }
        if s.foreign.contains(t) {
            return Err(google_error(
                403,
                "PERMISSION_DENIED",
                "SenderId mismatch",
                vec![fcm_detail("SENDER_ID_MISMATCH")],
            ));
        }
        let known = s.devices.contains(t);
        if !token_well_formed(t) || (s.strict_tokens && !known) {
            return Err(invalid_argument(
                "The registration token is not a valid FCM registration token",
                Some("message.token"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_protobuf_json_spellings_name_a_field() {
        assert_eq!(camel("restricted_package_name"), "restrictedPackageName");
        assert_eq!(camel("ttl"), "ttl");
        let v = serde_json::json!({"validateOnly": true, "message": {"fcmOptions": {"analyticsLabel": "x"}}});
        assert_eq!(field(&v, "validate_only"), Some(&Value::Bool(true)));
        assert!(check_request(&v).is_ok());
    }

    #[test]
    fn labels() {
        assert!(label_ok("spring_sale-2024.v1~%20"));
        assert!(!label_ok("") && !label_ok("has space") && !label_ok(&"x".repeat(51)));
    }
}

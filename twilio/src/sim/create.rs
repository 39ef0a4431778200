//! `POST /Messages.json`: the create, refused as Twilio refuses it.
//!
//! The rules and codes are Twilio's (Messages API reference,
//! <https://www.twilio.com/docs/messaging/api/message-resource>, its OpenAPI description
//! `twilio_api_v2010.json` at github.com/twilio/twilio-oai, and the error dictionary
//! <https://www.twilio.com/docs/api/errors>):
//!
//! | what | code |
//! |---|---|
//! | no `To` / no sender / no content | 21604 / 21603 / 21602 |
//! | `To` not a number or channel address | 21211 |
//! | `From` (or `FallbackFrom`) not a number, short code or alphanumeric id / a number the account does not own | 21212 / 21606 |
//! | `MessagingServiceSid` malformed / unknown | 21705 / 21701 |
//! | `Body` over 1600 characters | 21617 |
//! | `StatusCallback` not an http(s) URL with a valid hostname (no underscores) | 21609 |
//! | a `MediaUrl` that is not an http(s) URL / more than 10 of them | 21620 / 21623 |
//! | `ValidityPeriod` not an integer from 1 to 36000 | 21624 |
//! | `FallbackFrom` without `MessagingServiceSid` | 21666 |
//! | `ScheduleType=fixed` without `SendAt` / `SendAt` not an ISO 8601 time 300 s to 35 days ahead | 35111 / 35114 |
//! | recipient replied STOP | 21610 |
//!
//! Enumerated and typed fields (`ContentRetention` `retain|discard`, `AddressRetention`
//! `retain|obfuscate`, `TrafficType` `free`, `RiskCheck` `enable|disable`, `ScheduleType` `fixed`,
//! booleans `true|false`, `Attempt` an integer, `ContentSid` `HX` + 32 hex, `ApplicationSid` `AP` + 32
//! hex) are refused with HTTP 400 and [`INVALID_PARAMETER`]: Twilio's error dictionary has no code of
//! its own for a malformed enumerated value, so which code Twilio puts in that answer is not
//! established; the simulator keeps the choice here, in one place. Parameters Twilio does not know
//! are ignored, as Twilio does (its error 20001 is a warning: "not recognized and were ignored").
//! `ScheduleType` without a Messaging Service is not a schedule: Twilio sends such a message now
//! (error 35111's page says so), and so does the simulator.

// Checks return the HTTP answer itself as their error; its size does not matter here.
#![allow(clippy::result_large_err)]

use chrono::{DateTime, Duration, Utc};
use switchboard_core::testkit::wiremock::ResponseTemplate;

use switchboard_core::testkit::json_status;

use super::api::{error, resource};
use super::state::{SimMessage, State, new_sid, segments};
use crate::config::{MAX_VALIDITY_SECONDS, is_sid};
use crate::model::options::{AddressRetention, ContentRetention, RiskCheck, TrafficType};

/// The code of the simulator's answer to a malformed enumerated or typed parameter (see the module
/// docs: the code Twilio uses there is not established).
pub const INVALID_PARAMETER: i64 = 20001;

/// The most `MediaUrl`s one message takes (error 21623).
pub const MAX_MEDIA: usize = 10;

/// `SendAt` must be more than this far ahead (error 35114).
const MIN_SCHEDULE_SECS: i64 = 300;
/// …and at most this far (35 days, error 35114).
const MAX_SCHEDULE_SECS: i64 = 35 * 86_400;

pub(super) fn get<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `+` and 8 to 15 digits, optionally behind a channel prefix (`whatsapp:`).
pub(super) fn is_e164_address(s: &str) -> bool {
    let number = s.split_once(':').map_or(s, |(_, n)| n);
    number
        .strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A short code (5–6 digits) or an alphanumeric sender id (up to 11 letters, digits, spaces; at
/// least one letter).
pub(super) fn is_other_sender(s: &str) -> bool {
    let short = (5..=6).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let alpha = (1..=11).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && s.bytes().any(|b| b.is_ascii_alphabetic());
    short || alpha
}

/// A URL Twilio will call: http(s), with a hostname that has no underscore (Twilio's `StatusCallback`
/// description: "URL must contain a valid hostname and underscores are not allowed").
fn is_callback_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty() && !h.contains('_'))
    })
}

fn invalid(name: &str, value: &str) -> ResponseTemplate {
    error(
        400,
        INVALID_PARAMETER,
        format!("Invalid {name}: '{}' is not an accepted value.", value.escape_debug()),
    )
}

/// A sender (`From` or `FallbackFrom`) that is well formed and the account's.
fn check_sender(st: &State, name: &str, s: &str) -> Result<(), ResponseTemplate> {
    if is_e164_address(s) {
        let bare = s.split_once(':').map_or(s, |(_, n)| n);
        if !st.numbers.iter().any(|n| n == bare) {
            return Err(error(
                400,
                21606,
                format!(
                    "The {name} phone number {s} is not a valid, SMS-capable inbound phone number or short code for your account."
                ),
            ));
        }
        Ok(())
    } else if is_other_sender(s) {
        Ok(())
    } else {
        Err(error(
            400,
            21212,
            format!("The '{name}' number {s} is not a valid phone number, shortcode, or alphanumeric sender ID."),
        ))
    }
}

/// A parameter's name and the test its value must pass.
type Rule = (&'static str, fn(&str) -> bool);

/// The enumerated and typed parameters: each known one must hold one of its values.
fn check_typed(form: &[(String, String)]) -> Result<(), ResponseTemplate> {
    let words: [Rule; 5] = [
        ("ContentRetention", |v| ContentRetention::parse(v).is_some()),
        ("AddressRetention", |v| AddressRetention::parse(v).is_some()),
        ("TrafficType", |v| TrafficType::parse(v).is_some()),
        ("RiskCheck", |v| RiskCheck::parse(v).is_some()),
        ("ScheduleType", |v| v == "fixed"),
    ];
    for (name, ok) in words {
        if let Some(v) = get(form, name).filter(|v| !ok(v)) {
            return Err(invalid(name, v));
        }
    }
    for name in [
        "ProvideFeedback",
        "ForceDelivery",
        "SmartEncoded",
        "ShortenUrls",
        "SendAsMms",
    ] {
        if let Some(v) = get(form, name).filter(|v| !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false"))
        {
            return Err(invalid(name, v));
        }
    }
    if let Some(v) = get(form, "Attempt").filter(|v| v.parse::<u32>().is_err()) {
        return Err(invalid("Attempt", v));
    }
    for (name, prefix) in [("ContentSid", "HX"), ("ApplicationSid", "AP")] {
        if let Some(v) = get(form, name).filter(|v| !is_sid(v, prefix)) {
            return Err(invalid(name, v));
        }
    }
    if let Some(v) = get(form, "ValidityPeriod")
        && !v.parse::<u32>().is_ok_and(|n| (1..=MAX_VALIDITY_SECONDS).contains(&n))
    {
        return Err(error(
            400,
            21624,
            "Validity period can only be set to integers between 1 and 36,000 seconds (10 hours max).",
        ));
    }
    Ok(())
}

/// Whether the message is scheduled (`Ok(true)`), sent now (`Ok(false)`), or refused.
fn check_schedule(form: &[(String, String)], service: Option<&str>) -> Result<bool, ResponseTemplate> {
    if get(form, "ScheduleType") != Some("fixed") || service.is_none() {
        return Ok(false);
    }
    let Some(at) = get(form, "SendAt") else {
        return Err(error(
            400,
            35111,
            "You must indicate SendAt timestamp if ScheduleType is 'fixed'.",
        ));
    };
    let ahead = DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&Utc) - Utc::now());
    match ahead {
        Some(d) if d > Duration::seconds(MIN_SCHEDULE_SECS) && d <= Duration::seconds(MAX_SCHEDULE_SECS) => Ok(true),
        _ => Err(error(
            400,
            35114,
            "SendAt time must be between 300 seconds and 35 days (3024000 seconds) in the future, inclusive.",
        )),
    }
}

pub(super) fn create(st: &mut State, form: &[(String, String)]) -> ResponseTemplate {
    match checked(st, form) {
        Ok(m) => {
            let v = resource(st, &m);
            st.messages.push(m);
            json_status(201, &v)
        }
        Err(answer) => answer,
    }
}

fn checked(st: &State, form: &[(String, String)]) -> Result<SimMessage, ResponseTemplate> {
    let Some(to) = get(form, "To") else {
        return Err(error(400, 21604, "A 'To' phone number is required."));
    };
    let from = get(form, "From");
    let service = get(form, "MessagingServiceSid");
    if from.is_none() && service.is_none() {
        return Err(error(400, 21603, "A 'From' phone number is required."));
    }
    if let Some(s) = service {
        if !is_sid(s, "MG") {
            return Err(error(400, 21705, format!("The Messaging Service Sid {s} is invalid.")));
        }
        if !st.services.iter().any(|x| x == s) {
            return Err(error(
                400,
                21701,
                format!("The Messaging Service Sid {s} does not exist."),
            ));
        }
    }
    let body = get(form, "Body").unwrap_or("");
    let media: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "MediaUrl")
        .map(|(_, v)| v.clone())
        .collect();
    if body.is_empty() && media.is_empty() && get(form, "ContentSid").is_none() {
        return Err(error(400, 21602, "Message body is required."));
    }
    if !is_e164_address(to) {
        return Err(error(
            400,
            21211,
            format!("The 'To' number {to} is not a valid phone number."),
        ));
    }
    if let Some(f) = from {
        check_sender(st, "From", f)?;
    }
    if body.chars().count() > 1600 {
        return Err(error(
            400,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        ));
    }
    let callback = get(form, "StatusCallback");
    if let Some(cb) = callback.filter(|cb| !is_callback_url(cb)) {
        return Err(error(
            400,
            21609,
            format!("The StatusCallback URL {cb} is not a valid URL."),
        ));
    }
    if media
        .iter()
        .any(|u| !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
    {
        return Err(error(400, 21620, "Invalid media URL(s)."));
    }
    if media.len() > MAX_MEDIA {
        return Err(error(
            400,
            21623,
            "The number of media URLs exceeds the maximum allowed. You may send up to 10 media files in a single message.",
        ));
    }
    check_typed(form)?;
    if let Some(f) = get(form, "FallbackFrom") {
        if service.is_none() {
            return Err(error(400, 21666, "'FallbackFrom' requires MessagingServiceSid."));
        }
        check_sender(st, "FallbackFrom", f)?;
    }
    let scheduled = check_schedule(form, service)?;
    if st.unsubscribed.contains(to) {
        return Err(error(400, 21610, "Attempt to send to unsubscribed recipient"));
    }
    let status = if scheduled {
        "scheduled"
    } else if service.is_some() {
        "accepted"
    } else {
        "queued"
    };
    let now = Utc::now();
    Ok(SimMessage {
        sid: new_sid(if media.is_empty() { "SM" } else { "MM" }),
        to: to.to_owned(),
        from: from.map(str::to_owned),
        body: body.to_owned(),
        messaging_service_sid: service.map(str::to_owned),
        status: status.to_owned(),
        history: vec![status.to_owned()],
        // Without its own StatusCallback, a message reports to the account's, if it has one.
        status_callback: callback.map(str::to_owned).or_else(|| st.status_callback.clone()),
        error_code: None,
        direction: "outbound-api".into(),
        num_segments: segments(body),
        media,
        date_created: now,
        date_updated: now,
        date_sent: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_shapes() {
        assert!(is_e164_address("+15005550006"));
        assert!(is_e164_address("whatsapp:+15005550006"));
        assert!(!is_e164_address("5551234567"));
        assert!(!is_e164_address("+1555"));
        assert!(is_other_sender("Acme"));
        assert!(is_other_sender("12345"));
        assert!(!is_other_sender("Acme Shop Online"));
        assert!(!is_other_sender("12"));
    }

    #[test]
    fn callback_urls() {
        assert!(is_callback_url("https://hooks.example.com/t?x=1"));
        assert!(is_callback_url("http://127.0.0.1:8080/t"));
        assert!(!is_callback_url("https://my_host.example.com/t"));
        assert!(!is_callback_url("ftp://example.com/t"));
        assert!(!is_callback_url("not a url"));
    }
}

//! Twilio's error answers and [`parse_error`], the one place an answer becomes an [`Error`].
//!
//! Twilio answers a failed REST call with `{"code", "message", "more_info", "status"}` and an HTTP
//! status that mirrors `status` (<https://www.twilio.com/docs/usage/twilios-response>). The HTTP
//! status gives the kind (core's [`status_kind`]); the codes of [`KNOWN_CODES`] refine it where the
//! status alone would mislead.
//!
//! | answer | kind | dispatch |
//! |---|---|---|
//! | 2xx | none: a success | — |
//! | 4xx (not 408) | by status, refined by the code (21211 `InvalidInput`, 21610 `Rejected`, 21611 `RateLimited`…) | `NotSent` |
//! | 429, or code 20429 | `RateLimited`, with `Retry-After` | `NotSent` |
//! | 408 | core's reading (`Timeout`) | core's reading |
//! | 5xx | core's reading; a code only makes it `Unavailable` | core's (`500`/`502`/`504` `MaybeSent`, `503` `NotSent`) |
//!
//! **Dispatch.** A 4xx from the Messages API means Twilio validated the request and did not create the
//! message, so it is [`Dispatch::NotSent`]: 429 / 20429 can be failed over or retried, the rest are
//! permanent kinds and are not. A 5xx keeps core's reading (500/502/504 `MaybeSent`, 503 `NotSent`).
//!
//! Twilio's messages quote the numbers they refuse ("The 'To' number +1555… is not a valid phone
//! number"); those digits are masked before the text is kept, since error texts end up in logs.

use switchboard_core::http::{Reply, status_kind};
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;
use crate::model::ErrorBody;

/// Twilio error codes whose meaning refines the HTTP status, with what they mean for us.
pub const KNOWN_CODES: &[(i64, ErrorKind, &str)] = &[
    (20003, ErrorKind::Auth, "Twilio refused the Account SID / Auth Token"),
    (20404, ErrorKind::NotFound, "the resource does not exist"),
    (20429, ErrorKind::RateLimited, "too many requests"),
    (20500, ErrorKind::Unavailable, "Twilio had an internal error"),
    (20503, ErrorKind::Unavailable, "Twilio is temporarily unavailable"),
    (
        21211,
        ErrorKind::InvalidInput,
        "the 'To' number is not a valid phone number",
    ),
    (
        21212,
        ErrorKind::InvalidInput,
        "the 'From' number is not a valid phone number, short code or alphanumeric sender",
    ),
    (
        21408,
        ErrorKind::Rejected,
        "sending to this region is not enabled on the account",
    ),
    (21602, ErrorKind::InvalidInput, "a message body (or media) is required"),
    (
        21603,
        ErrorKind::InvalidInput,
        "a 'From' number or a Messaging Service is required",
    ),
    (21604, ErrorKind::InvalidInput, "a 'To' number is required"),
    (
        21606,
        ErrorKind::Rejected,
        "the 'From' number is not an SMS-capable number of this account",
    ),
    (21609, ErrorKind::InvalidInput, "the StatusCallback URL is invalid"),
    (
        21610,
        ErrorKind::Rejected,
        "the recipient has unsubscribed (replied STOP)",
    ),
    (
        21611,
        ErrorKind::RateLimited,
        "the 'From' number has too many queued messages",
    ),
    (
        21612,
        ErrorKind::Rejected,
        "Twilio cannot route between these two numbers",
    ),
    (21614, ErrorKind::Rejected, "the 'To' number is not a mobile number"),
    (
        21617,
        ErrorKind::InvalidInput,
        "the message body exceeds 1600 characters",
    ),
    (21620, ErrorKind::InvalidInput, "a media URL is invalid"),
    (21701, ErrorKind::Config, "the Messaging Service does not exist"),
    (
        21705,
        ErrorKind::Config,
        "the Messaging Service SID is not a valid MG… SID",
    ),
];

/// The row of a known code.
pub fn known_code(code: i64) -> Option<(ErrorKind, &'static str)> {
    KNOWN_CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, k, m)| (*k, *m))
}

/// The error a REST answer stands for, `None` for a 2xx (see the table in the [module docs](self)).
pub fn parse_error(reply: &Reply) -> Option<Error> {
    if reply.is_success() {
        return None;
    }
    let body: Option<ErrorBody> = serde_json::from_slice(&reply.body).ok();
    let (mut kind, mut dispatch) = status_kind(reply.status);
    let status = reply.status.as_u16();
    if (400..500).contains(&status) {
        // Refused before a message existed (see the module docs). 408 keeps core's reading.
        if status != 408 {
            dispatch = Dispatch::NotSent;
        }
        if status == 429 {
            kind = ErrorKind::RateLimited;
        }
    }
    let code = body.as_ref().and_then(|b| b.code);
    let mut message = format!("Twilio answered HTTP {status}");
    if let Some((k, meaning)) = code.and_then(known_code) {
        // Only let the code change the kind within the 4xx range: a 5xx stays a 5xx.
        if (400..500).contains(&status) || k == ErrorKind::Unavailable {
            kind = k;
        }
        message = meaning.to_owned();
    }
    let mut e = Error::new(kind, message)
        .with_dispatch(dispatch)
        .with_provider(SCHEME)
        .with_http_status(status);
    if let Some(c) = code {
        e = e.with_provider_code(c);
    }
    match body.as_ref().and_then(|b| b.message.as_deref()) {
        Some(m) if !m.trim().is_empty() => e = e.with_provider_text(m),
        _ if !reply.body.is_empty() => e = e.with_provider_text(reply.excerpt()),
        _ => {}
    }
    if let Some(after) = switchboard_core::http::retry_after(&reply.headers) {
        e = e.with_retry_after(after);
    }
    Some(e)
}

pub(crate) use switchboard_core::secret::mask_middle as mask;

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::of(status, Bytes::from(body.to_owned()))
    }

    #[test]
    fn twilios_documented_error_maps_and_hides_the_number() {
        let e = parse_error(&reply(
            400,
            r#"{"code":21211,"message":"The 'To' number 5551234567 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#,
        ))
        .unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
        assert_eq!(e.provider_code(), Some("21211"));
        assert_eq!(e.http_status(), Some(400));
        assert!(!e.to_string().contains("5551234567"), "{e}");
        assert!(e.provider_text().unwrap().contains("5551****67"));
    }

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (
                401,
                r#"{"code":20003,"message":"Authenticate","status":401}"#,
                ErrorKind::Auth,
                Dispatch::NotSent,
            ),
            (
                404,
                r#"{"code":20404,"message":"not found","status":404}"#,
                ErrorKind::NotFound,
                Dispatch::NotSent,
            ),
            (
                429,
                r#"{"code":20429,"message":"Too Many Requests","status":429}"#,
                ErrorKind::RateLimited,
                Dispatch::NotSent,
            ),
            (
                400,
                r#"{"code":21611,"message":"queue full","status":400}"#,
                ErrorKind::RateLimited,
                Dispatch::NotSent,
            ),
            (
                400,
                r#"{"code":21610,"message":"unsubscribed","status":400}"#,
                ErrorKind::Rejected,
                Dispatch::NotSent,
            ),
            (
                500,
                r#"{"code":20500,"message":"Internal","status":500}"#,
                ErrorKind::Unavailable,
                Dispatch::MaybeSent,
            ),
            (503, "", ErrorKind::Unavailable, Dispatch::NotSent),
            (
                502,
                "<html>bad gateway</html>",
                ErrorKind::Unavailable,
                Dispatch::MaybeSent,
            ),
            (
                400,
                r#"{"code":99999,"message":"new","status":400}"#,
                ErrorKind::InvalidInput,
                Dispatch::NotSent,
            ),
            (403, "nope", ErrorKind::Auth, Dispatch::NotSent),
        ];
        for (s, body, k, d) in cases {
            let e = parse_error(&reply(s, body)).unwrap();
            assert_eq!((e.kind(), e.dispatch()), (k, d), "{s} {body}");
            assert_eq!(e.provider(), Some("twilio"));
        }
    }

    #[test]
    fn retry_after_is_kept() {
        let mut r = reply(429, r#"{"code":20429,"message":"Too Many Requests","status":429}"#);
        r.headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(
            parse_error(&r).unwrap().retry_after(),
            Some(std::time::Duration::from_secs(2))
        );
        assert!(parse_error(&reply(201, r#"{"sid":"SM1"}"#)).is_none());
    }
}

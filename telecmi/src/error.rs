//! TeleCMI's answers → core [`Error`]s: [`parse_error`] is the one place that reads them.
//!
//! TeleCMI answers JSON with a `code` field that mirrors the HTTP status (doc.telecmi.com, every API
//! page's "HTTP status codes" table and sample answers); some legacy
//! answers write it as text (`"cmi-200"`). The documented error codes:
//!
//! | code | where | meaning | kind |
//! |---|---|---|---|
//! | 400 | user APIs, login, `/v2/token`, `/v2/ind/click2call` | a parameter is missing, or `limit` above the maximum | `InvalidInput` |
//! | 401 | legacy `/v1/adminConnect` | invalid agent id or secret | `Auth` |
//! | 404 | everywhere | "Failed to authenticate secret/token", "Invalid user id or password" | `Auth` |
//! | 404 | click-to-call | "Invalid Number" | `Rejected` |
//! | 420 | PIOPIY | invalid app id or secret | `Auth` |
//! | 422 | PIOPIY | a required property is missing | `InvalidInput` |
//!
//! TeleCMI overloads 404 for "bad credentials" and "bad destination" and tells them apart only in
//! `msg`, so the kind of a 404 is read from the text. The user click-to-call does not even do that: its one
//! documented 404 reads "Invalid Number, failed to authenticate token", so the client does not trust
//! the text there and logs in again before it concludes the number is bad (see `TeleCmiClient`). The
//! full error table of `/v2/webrtc/click2call` and of the admin CDR APIs is not published; anything
//! else falls back to the HTTP meaning of the code (core's [`status_kind`]). Every error carries
//! TeleCMI's code and message.
//!
//! A 2xx answer is a success only when its body is a JSON object whose `code` (if any) is a 2xx; a 2xx
//! whose envelope names an error is that error, never `NotSent` (the status says TeleCMI took the
//! request), and a 2xx body that is not a JSON object is `Decode`.
//!
//! The dispatch fact of an answered error is `Sent` (TeleCMI answered and its word is final), except
//! where the HTTP meaning says the request was refused before any work (429, 503: `NotSent`). None of
//! TeleCMI's documented errors places a call, which is what lets the client re-login after an `Auth`
//! answer and try a click-to-call once more without any risk of ringing someone twice.

use http::StatusCode;
use serde_json::{Map, Value};
use switchboard_core::http::{Reply, status_kind};
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;
use crate::flex;

/// The numeric code of a TeleCMI envelope: `200`, `"200"` or `"cmi-200"` all read as 200.
pub(crate) fn envelope_code(body: &Map<String, Value>) -> Option<u16> {
    match body.get("code")? {
        Value::Number(n) => n.as_u64().and_then(|c| u16::try_from(c).ok()),
        Value::String(s) => {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            // "cmi-2000" (legacy list answers) means success, like 200.
            match digits.parse::<u32>().ok()? {
                2000 => Some(200),
                c => u16::try_from(c).ok(),
            }
        }
        _ => None,
    }
}

/// The human message of an envelope (`msg`, or `message`/`error` on some answers).
pub(crate) fn envelope_msg(body: &Map<String, Value>) -> Option<String> {
    flex::string(body, &["msg", "message", "error"])
}

/// The kind and dispatch fact of a TeleCMI error code with its message. See the [module docs](self).
fn meaning(code: u16, msg: &str) -> (ErrorKind, Dispatch) {
    let m = msg.to_ascii_lowercase();
    match code {
        400 => (ErrorKind::InvalidInput, Dispatch::Sent),
        401 | 420 => (ErrorKind::Auth, Dispatch::Sent),
        404 if m.contains("number") => (ErrorKind::Rejected, Dispatch::Sent),
        // "Failed to authenticate secret/token", "Invalid user id or password", and a bare 404: on every
        // documented endpoint a 404 without "number" is a credential failure, not a missing object.
        404 => (ErrorKind::Auth, Dispatch::Sent),
        422 => (ErrorKind::InvalidInput, Dispatch::Sent),
        c => StatusCode::from_u16(c)
            .map(status_kind)
            .unwrap_or((ErrorKind::Rejected, Dispatch::Sent)),
    }
}

fn advice(kind: ErrorKind, code: u16) -> &'static str {
    match (kind, code) {
        (ErrorKind::Auth, _) => "TeleCMI refused the credentials (app id/secret, user id/password or token)",
        (ErrorKind::Rejected, 404) => "TeleCMI refused the destination number",
        (ErrorKind::InvalidInput, _) => "TeleCMI says a parameter is missing or out of range",
        _ => "TeleCMI refused the request",
    }
}

/// The error for a TeleCMI answer with a non-success code, keeping TeleCMI's code and message.
fn refusal(code: u16, msg: Option<&str>, reply: &Reply) -> Error {
    let text = msg.unwrap_or("");
    let (kind, dispatch) = meaning(code, text);
    let mut e = Error::new(kind, advice(kind, code))
        .with_provider(SCHEME)
        .with_dispatch(dispatch)
        .with_provider_code(code)
        .with_http_status(reply.status.as_u16());
    if !text.is_empty() {
        e = e.with_provider_text(text);
    }
    if let Some(after) = switchboard_core::http::retry_after(&reply.headers) {
        e = e.with_retry_after(after);
    }
    e
}

/// The error `reply` stands for, or `None` when it is a success: a 2xx HTTP status whose body is a JSON
/// object with no failing `code`.
///
/// An error status with a readable envelope is TeleCMI's refusal (its code and message); without one,
/// core's [`Reply::status_error`] mapping applies. A 2xx answer that is not a JSON object is `Decode`.
pub fn parse_error(reply: &Reply) -> Option<Error> {
    envelope(reply).err()
}

fn envelope(reply: &Reply) -> Result<Map<String, Value>, Error> {
    let parsed: Option<Map<String, Value>> = serde_json::from_slice::<Value>(&reply.body).ok().and_then(|v| match v {
        Value::Object(m) => Some(m),
        _ => None,
    });
    let status = reply.status.as_u16();
    match parsed {
        // An HTTP error status wins over a `code` that claims success.
        Some(body) if !reply.is_success() => Err(refusal(status, envelope_msg(&body).as_deref(), reply)),
        Some(body) => match envelope_code(&body) {
            Some(code) if !(200..300).contains(&code) => {
                // A 2xx status whose envelope says 429 or 503: the status says TeleCMI took the request,
                // the envelope that it did not. Which is right cannot be known, so it is never
                // `NotSent` (which would let a click-to-call be placed twice).
                let e = refusal(code, envelope_msg(&body).as_deref(), reply);
                Err(match e.dispatch() {
                    Dispatch::NotSent => e.with_dispatch(Dispatch::MaybeSent),
                    _ => e,
                })
            }
            _ => Ok(body),
        },
        None if !reply.is_success() => Err(reply.status_error().with_provider(SCHEME)),
        None => Err(Error::decode("TeleCMI answered something that is not a JSON object")
            .with_provider(SCHEME)
            .with_http_status(status)
            .with_provider_text(reply.excerpt())),
    }
}

/// Whether an error says the credentials (token) were refused, which for a user token means "log in
/// again".
pub(crate) fn is_auth(e: &Error) -> bool {
    e.kind() == ErrorKind::Auth
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::of(status, Bytes::from(body.to_owned()))
    }

    #[test]
    fn the_404_overload_is_read_from_the_text() {
        assert_eq!(meaning(404, "Invalid Number").0, ErrorKind::Rejected);
        assert_eq!(
            meaning(404, "Failed to authenticate secret(Invalid user id or secret)").0,
            ErrorKind::Auth
        );
        assert_eq!(meaning(404, "").0, ErrorKind::Auth);
        assert_eq!(meaning(420, "").0, ErrorKind::Auth);
        assert_eq!(meaning(422, "").0, ErrorKind::InvalidInput);
        assert_eq!(meaning(429, ""), (ErrorKind::RateLimited, Dispatch::NotSent));
        assert_eq!(meaning(500, ""), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    }

    #[test]
    fn envelopes() {
        assert!(envelope(&reply(200, r#"{"code":200,"msg":"Call initiated"}"#)).is_ok());
        assert!(envelope(&reply(200, r#"{"count":3,"cdr":[]}"#)).is_ok());
        assert!(envelope(&reply(200, r#"{"code":"cmi-200"}"#)).is_ok());
        assert!(envelope(&reply(200, r#"{"code":"cmi-2000"}"#)).is_ok());
        let e = envelope(&reply(200, r#"{"code":404,"msg":"Invalid Number"}"#)).unwrap_err();
        assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Rejected, Some("404")));
        let e = envelope(&reply(404, r#"{"code":200,"msg":"weird"}"#)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        let e = envelope(&reply(502, "<html>bad gateway</html>")).unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
        assert_eq!(e.provider(), Some("telecmi"));
        let e = envelope(&reply(200, "[1,2]")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        for code in [429, 503] {
            let e = envelope(&reply(200, &format!(r#"{{"code":{code}}}"#))).unwrap_err();
            assert_eq!(e.dispatch(), Dispatch::MaybeSent, "a 2xx is never NotSent");
            let e = envelope(&reply(code, &format!(r#"{{"code":{code}}}"#))).unwrap_err();
            assert_eq!(e.dispatch(), Dispatch::NotSent, "an error status before any work");
        }
    }
}

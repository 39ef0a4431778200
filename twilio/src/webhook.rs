//! Twilio webhooks: `X-Twilio-Signature` verification and decoding of status callbacks and inbound
//! messages.
//!
//! ## The signature (as Twilio's own libraries compute it)
//!
//! 1. Take the full URL Twilio called: scheme, host, port if any, path and the **raw** query string.
//! 2. For a form `POST`, sort the body's parameters by name (then value, for repeated names) and
//!    append each `name` and `value` with no separator. A `GET` signs the URL alone.
//! 3. HMAC-SHA1 with the auth token as key; base64 (standard alphabet, padded); compare in constant
//!    time with the header.
//!
//! JSON-bodied webhooks put `bodySHA256=<hex SHA-256 of the body>` in the URL's query; the signature
//! then covers the URL only, and the body must hash to that value.
//!
//! Twilio's back end is not consistent about the port: `twilio-python`'s `RequestValidator.validate`
//! accepts the signature of the URL without its port and of the URL with the scheme's default port
//! (443/80) added. [`url_variants`] produces the same pair, and a signature over either passes.
//!
//! Behind a TLS-terminating proxy the host sees another scheme, host or port than Twilio used; set
//! [`TwilioConfig::webhook_origin`](crate::TwilioConfig::webhook_origin) to the public origin.
//!
//! ## What comes in
//!
//! * Status callbacks (`MessageStatus` present): an [`Event::Delivery`]. No callback is sent for the
//!   initial status. Twilio adds parameters without notice; all of them are signed and all are kept
//!   in the event's `raw`.
//! * Incoming messages (`SmsStatus=received`, `Body`/`NumMedia`): an [`Event::Inbound`].
//!
//! [`TwilioWebhook`] answers [`EMPTY_TWIML`] as `text/xml`: Twilio reads the answer to an incoming
//! message as TwiML, and an empty `<Response>` sends no reply; status callbacks take it as any 2xx.

use std::fmt;

use base64::Engine;
use serde_json::{Map, Value};
use switchboard_core::secret::ct_eq;
use switchboard_core::webhook::{Webhook, WebhookAnswer, WebhookRequest, hmac_sha1, sha256_hex, unauthenticated};
use switchboard_core::{
    Error, Event, ExposeSecret, InboundMessage, PhoneNumber, Recipient, Result, SecretString, StatusReport,
};

use crate::SCHEME;
use crate::config::TwilioConfig;
use crate::model::MessageStatus;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The query parameter that carries the body hash of JSON-bodied webhooks.
pub const BODY_HASH_PARAM: &str = "bodySHA256";

/// An empty TwiML answer: "received, no reply".
pub const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;

/// The signature of a request: base64(HMAC-SHA1(auth token, url + sorted name/value pairs)).
pub fn signature(auth_token: &SecretString, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = String::with_capacity(url.len() + params.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>());
    data.push_str(url);
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mac = hmac_sha1(auth_token.expose_secret().as_bytes(), data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// The parts of a URL's authority, without parsing (and so without normalising) anything.
struct UrlParts<'a> {
    scheme: &'a str,
    /// `user:pass@`, with the `@`, or empty.
    userinfo: &'a str,
    /// The host, with brackets for IPv6.
    host: &'a str,
    port: Option<&'a str>,
    /// Everything from the first `/`, `?` or `#` after the authority.
    rest: &'a str,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, after) = url.split_once("://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => authority.split_at(i + 1),
        None => ("", authority),
    };
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(i) => {
                let (h, p) = hostport.split_at(i + 1);
                (h, p.strip_prefix(':'))
            }
            None => return None,
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() || port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some(UrlParts {
        scheme,
        userinfo,
        host,
        port,
        rest,
    })
}

/// The URLs a signature may have been computed over: the URL as given, and the URL without its port
/// (when it has one) or with the scheme's default port (when it has none), as `twilio-python` does.
pub fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    if let Some(p) = split_url(url) {
        let other = match p.port {
            Some(_) => Some(format!("{}://{}{}{}", p.scheme, p.userinfo, p.host, p.rest)),
            None => match p.scheme.to_ascii_lowercase().as_str() {
                "https" => Some(format!("{}://{}{}:443{}", p.scheme, p.userinfo, p.host, p.rest)),
                "http" => Some(format!("{}://{}{}:80{}", p.scheme, p.userinfo, p.host, p.rest)),
                _ => None,
            },
        };
        if let Some(o) = other.filter(|o| o != url) {
            out.push(o);
        }
    }
    out
}

/// The URL Twilio called: the request's own, or the configured public origin with the request's path
/// and query.
pub fn public_url(request_url: &str, origin: Option<&str>) -> String {
    match (origin, split_url(request_url)) {
        (Some(o), Some(p)) => format!("{}{}", o.trim_end_matches('/'), p.rest),
        _ => request_url.to_owned(),
    }
}

/// Whether `signature` is the signature of `url` (or one of its [`url_variants`]) with `params`.
pub fn is_valid_signature(
    auth_token: &SecretString,
    url: &str,
    params: &[(String, String)],
    signature_b64: &str,
) -> bool {
    let presented = signature_b64.trim().as_bytes();
    // Check every variant, so the time taken does not say which one matched.
    url_variants(url)
        .iter()
        .map(|u| ct_eq(signature(auth_token, u, params).as_bytes(), presented))
        .fold(false, |acc, ok| acc | ok)
}

/// Twilio's webhooks for one account: the auth token that signs them, and the public origin they are
/// called on when the host sits behind a proxy.
#[derive(Clone)]
pub struct TwilioWebhook {
    auth_token: SecretString,
    origin: Option<String>,
}

/// Never shows the auth token.
impl fmt::Debug for TwilioWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioWebhook")
            .field("auth_token", &"***")
            .field("origin", &self.origin)
            .finish()
    }
}

impl TwilioWebhook {
    /// Webhooks signed with `auth_token`, called on `origin` (`https://hooks.example.com`) when that
    /// differs from what the host sees.
    pub fn new(auth_token: SecretString, origin: Option<String>) -> Self {
        TwilioWebhook { auth_token, origin }
    }

    /// The webhooks of the account `config` describes.
    pub fn from_config(config: &TwilioConfig) -> Self {
        Self::new(config.auth_token.clone(), config.webhook_origin.clone())
    }

    /// The events of a webhook's parameters (form fields, or a JSON body's top-level scalars).
    pub fn events(params: &[(String, String)]) -> Result<Vec<Event>> {
        decode(params)
    }
}

impl Webhook for TwilioWebhook {
    /// Checks the signature (and, for a JSON body, its hash).
    ///
    /// Errors: `Config` when the token is empty; `Auth` when the header is missing, the signature does
    /// not match (wrong token, tampered parameters, another URL) or the body does not match its hash;
    /// `InvalidInput` for an oversized body.
    fn verify(&self, request: &WebhookRequest) -> Result<()> {
        let fail = |e: Error| e.with_provider(SCHEME);
        if self.auth_token.expose_secret().is_empty() {
            return Err(fail(Error::config(
                "the Twilio auth token is empty: webhook signatures cannot be checked without it",
            )));
        }
        request.check_size().map_err(fail)?;
        let presented = request
            .header(SIGNATURE_HEADER)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                fail(unauthenticated(
                    "the request carries no X-Twilio-Signature: it is not from Twilio",
                ))
            })?;
        let url = public_url(&request.url, self.origin.as_deref());
        let body_hash = request.query_param(BODY_HASH_PARAM);
        let params = signed_params(request, body_hash.is_some()).map_err(fail)?;
        if !is_valid_signature(&self.auth_token, &url, &params, presented) {
            return Err(fail(unauthenticated(
                "the X-Twilio-Signature does not match (wrong auth token, altered parameters, or the URL differs \
                 from the one Twilio called; behind a proxy, set webhook_origin)",
            )));
        }
        if let Some(expected) = body_hash {
            let actual = sha256_hex(&request.body);
            if !ct_eq(actual.as_bytes(), expected.trim().to_ascii_lowercase().as_bytes()) {
                return Err(fail(unauthenticated(
                    "the body does not match the signed bodySHA256: it was altered",
                )));
            }
        }
        Ok(())
    }

    /// Status callbacks become [`Event::Delivery`], incoming messages [`Event::Inbound`]; a JSON body
    /// (with `bodySHA256`) is read like the form fields. `InvalidInput` for a body that cannot be read.
    fn decode(&self, request: &WebhookRequest) -> Result<Vec<Event>> {
        if request.query_param(BODY_HASH_PARAM).is_some() {
            let v: Value = request.json().map_err(|e| e.with_provider(SCHEME))?;
            return decode(&json_params(&v)?);
        }
        decode(&signed_params(request, false).map_err(|e| e.with_provider(SCHEME))?)
    }

    /// Empty TwiML, as `text/xml`: "received, no reply".
    fn answer(&self) -> WebhookAnswer {
        WebhookAnswer::xml(200, EMPTY_TWIML)
    }
}

/// The parameters a signature covers besides the URL: a form `POST`'s fields; nothing for a `GET` or
/// a JSON body (whose hash is in the URL).
fn signed_params(request: &WebhookRequest, json_body: bool) -> Result<Vec<(String, String)>> {
    if !json_body && request.method == http::Method::POST {
        request.form_pairs()
    } else {
        Ok(Vec::new())
    }
}

/// The parameters as a JSON object (repeated names become arrays), for events' `raw`.
fn params_json(params: &[(String, String)]) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in params {
        match m.get_mut(k) {
            None => {
                m.insert(k.clone(), Value::String(v.clone()));
            }
            Some(Value::Array(a)) => a.push(Value::String(v.clone())),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(v.clone())]);
            }
        }
    }
    m
}

/// Flattens a JSON body's top-level scalars into parameters, so both webhook shapes decode alike.
fn json_params(v: &Value) -> Result<Vec<(String, String)>> {
    let Value::Object(o) = v else {
        return Err(Error::invalid_input("the Twilio webhook's JSON body is not an object").with_provider(SCHEME));
    };
    Ok(o.iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            Value::Bool(b) => Some((k.clone(), b.to_string())),
            _ => None,
        })
        .collect())
}

/// Builds an [`InboundMessage`].
fn inbound_message(provider_id: &str, from: &str, to: Option<&str>, text: &str, raw: Value) -> Result<InboundMessage> {
    let m = InboundMessage::new(provider_id, from, text).with_raw(raw);
    Ok(match to {
        Some(to) => m.with_to(to),
        None => m,
    })
}

/// Decodes verified parameters into events.
fn decode(params: &[(String, String)]) -> Result<Vec<Event>> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let bad = |why: &str| Error::invalid_input(why.to_owned()).with_provider(SCHEME);
    let raw = Value::Object(params_json(params));
    let sid = get("MessageSid")
        .or_else(|| get("SmsMessageSid"))
        .or_else(|| get("SmsSid"));
    let status = get("MessageStatus")
        .or_else(|| get("SmsStatus"))
        .map(MessageStatus::parse);
    let is_inbound = matches!(status, Some(MessageStatus::Received | MessageStatus::Receiving))
        || (get("MessageStatus").is_none() && (get("Body").is_some() || get("NumMedia").is_some()));
    if is_inbound {
        let sid = sid.ok_or_else(|| bad("an incoming-message webhook without MessageSid"))?;
        let from = get("From").ok_or_else(|| bad("an incoming-message webhook without From"))?;
        let text = get("Body").unwrap_or("");
        return Ok(vec![Event::Inbound(inbound_message(sid, from, get("To"), text, raw)?)]);
    }
    match status {
        Some(status) => {
            let sid = sid.ok_or_else(|| bad("a status callback without MessageSid"))?;
            let mut report = StatusReport::new(sid, status.delivery_status(), status.as_str()).with_raw(raw);
            if let Some(code) = get("ErrorCode") {
                report = report.with_error_code(code);
            }
            if let Some(to) = get("To").and_then(|t| PhoneNumber::parse(t, None).ok()) {
                report = report.with_recipient(Recipient::Phone(to));
            }
            Ok(vec![Event::Delivery(report)])
        }
        None => Ok(vec![Event::Other {
            kind: "twilio".to_owned(),
            raw,
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::secret::secret;
    use switchboard_core::{DeliveryStatus, ErrorKind};

    fn verify(r: &WebhookRequest, token: &SecretString, origin: Option<&str>) -> Result<()> {
        TwilioWebhook::new(token.clone(), origin.map(str::to_owned)).verify(r)
    }

    /// Verifies and decodes, as [`Webhook::handle`] does, without a runtime.
    fn handle(r: &WebhookRequest, token: &SecretString, origin: Option<&str>) -> Result<Vec<Event>> {
        let w = TwilioWebhook::new(token.clone(), origin.map(str::to_owned));
        w.verify(r)?;
        w.decode(r)
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const DOC_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    /// Twilio's security docs example, in both versions that circulate (the phone numbers changed
    /// between revisions of the page). Both were recomputed independently with Python's `hmac`, and
    /// match the values published in Twilio's docs and quoted by many SDK test suites.
    #[test]
    fn twilios_published_vectors() {
        let token = secret("12345");
        for (number, expected) in [
            ("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
            ("+12349013030", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
        ] {
            let p = pairs(&[
                ("CallSid", "CA1234567890ABCDE"),
                ("Caller", number),
                ("Digits", "1234"),
                ("From", number),
                ("To", "+18005551212"),
            ]);
            assert_eq!(signature(&token, DOC_URL, &p), expected);
            // Order of arrival does not matter.
            let mut rev = p.clone();
            rev.reverse();
            assert!(is_valid_signature(&token, DOC_URL, &rev, expected));
            let mut tampered = p.clone();
            tampered[2].1 = "9999".into();
            assert!(!is_valid_signature(&token, DOC_URL, &tampered, expected));
            assert!(!is_valid_signature(&secret("12346"), DOC_URL, &p, expected));
            assert!(!is_valid_signature(
                &token,
                "http://mycompany.com/myapp.php?foo=1&bar=2",
                &p,
                expected
            ));
        }
    }

    #[test]
    fn port_variants() {
        assert_eq!(
            url_variants(DOC_URL),
            vec![
                DOC_URL.to_owned(),
                "https://mycompany.com:443/myapp.php?foo=1&bar=2".to_owned()
            ]
        );
        assert_eq!(url_variants("http://h:8080/x"), vec!["http://h:8080/x", "http://h/x"]);
        assert_eq!(url_variants("http://h"), vec!["http://h", "http://h:80"]);
        assert_eq!(
            url_variants("https://u:p@[::1]:8443/a?b"),
            vec!["https://u:p@[::1]:8443/a?b", "https://u:p@[::1]/a?b"]
        );
        assert_eq!(url_variants("not a url"), vec!["not a url"]);
        // A signature Twilio computed with ":443" (recomputed with Python: 5s2PFy0qmPcZucb4eH4b08ZJtL0=)
        // passes for the URL without it, and the other way round.
        let token = secret("12345");
        let p = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]);
        assert!(is_valid_signature(&token, DOC_URL, &p, "5s2PFy0qmPcZucb4eH4b08ZJtL0="));
        assert!(is_valid_signature(
            &token,
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &p,
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
    }

    #[test]
    fn repeated_and_unicode_params() {
        // Recomputed with Python: sorted (name, value) pairs, UTF-8.
        let p = pairs(&[("MediaUrl", "b"), ("MediaUrl", "a"), ("Body", "Привет"), ("Ä", "x")]);
        assert_eq!(
            signature(&secret("12345"), "https://h.example/p?x=%20y", &p),
            "vq22vTaKbcuJYp4WcaZRSlRkx+w="
        );
    }

    #[test]
    fn origin_rewrite() {
        assert_eq!(
            public_url(
                "http://10.0.0.5:8080/hooks/twilio?a=1",
                Some("https://hooks.example.com/")
            ),
            "https://hooks.example.com/hooks/twilio?a=1"
        );
        assert_eq!(public_url("http://h/x", None), "http://h/x");
    }

    #[test]
    fn json_body_variant() {
        let token = secret("12345");
        let body = r#"{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}"#;
        // The hash is the one in Twilio's own JSON validation sample; the signature was computed with
        // Python for token 12345 over the URL alone.
        let url =
            "https://example.com/myapp?bodySHA256=5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9";
        assert_eq!(
            sha256_hex(body.as_bytes()),
            "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"
        );
        let req = WebhookRequest::post(url, body)
            .with_header("content-type", "application/json")
            .with_header(SIGNATURE_HEADER, "hPXmLwIy3Fgqv1i9KPmH/HhQ6zo=");
        verify(&req, &token, None).unwrap();
        match &handle(&req, &token, None).unwrap()[..] {
            [Event::Other { raw, .. }] => assert_eq!(raw["Caller"], "+12349013030"),
            other => panic!("{other:?}"),
        }
        let tampered = WebhookRequest::post(url, body.replace("3030", "3031"))
            .with_header(SIGNATURE_HEADER, "hPXmLwIy3Fgqv1i9KPmH/HhQ6zo=");
        assert_eq!(verify(&tampered, &token, None).unwrap_err().kind(), ErrorKind::Auth);
    }

    fn signed(url: &str, p: &[(String, String)], token: &str) -> WebhookRequest {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(p)
            .finish();
        WebhookRequest::post(url, body).with_header(SIGNATURE_HEADER, &signature(&secret(token), url, p))
    }

    #[test]
    fn status_callback_and_inbound() {
        let url = "https://shop.example/hooks/twilio?x=1";
        let p = pairs(&[
            ("MessageSid", "SM1"),
            ("SmsSid", "SM1"),
            ("MessageStatus", "undelivered"),
            ("SmsStatus", "undelivered"),
            ("ErrorCode", "30003"),
            ("To", "+14155552671"),
            ("From", "+15005550006"),
            ("AccountSid", "AC1"),
        ]);
        let ev = handle(&signed(url, &p, "tok"), &secret("tok"), None).unwrap();
        match &ev[..] {
            [Event::Delivery(r)] => {
                assert_eq!((r.provider_id.as_str(), r.status), ("SM1", DeliveryStatus::Failed));
                assert_eq!(r.raw_status, "undelivered");
                assert_eq!(r.error_code.as_deref(), Some("30003"));
                assert!(r.recipient.is_some());
                assert_eq!(r.raw["AccountSid"], "AC1");
            }
            other => panic!("{other:?}"),
        }
        let p = pairs(&[
            ("MessageSid", "SM2"),
            ("SmsStatus", "received"),
            ("From", "+14155552671"),
            ("To", "+15005550006"),
            ("Body", "STOP"),
            ("NumMedia", "0"),
        ]);
        let ev = handle(&signed(url, &p, "tok"), &secret("tok"), None).unwrap();
        match &ev[..] {
            [Event::Inbound(m)] => {
                assert_eq!((m.provider_id.as_str(), m.text.as_str()), ("SM2", "STOP"));
                assert_eq!(m.to.as_deref(), Some("+15005550006"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn handled_webhooks_are_answered_empty_twiml_as_xml() {
        let url = "https://shop.example/hooks/twilio";
        let p = pairs(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]);
        let w = TwilioWebhook::new(secret("tok"), None);
        let h = w.handle(&signed(url, &p, "tok")).await.unwrap();
        assert_eq!(h.events.len(), 1);
        assert_eq!((h.answer.status, &h.answer.body[..]), (200, EMPTY_TWIML.as_bytes()));
        assert_eq!(h.answer.content_type, Some("text/xml; charset=utf-8"));
        let shown = format!("{:?}", TwilioWebhook::new(secret("hunter2"), None));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn refusals() {
        let url = "https://shop.example/hooks/twilio";
        let p = pairs(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")]);
        let good = signed(url, &p, "tok");
        let unsigned = WebhookRequest::post(url, good.body.clone());
        assert_eq!(
            handle(&unsigned, &secret("tok"), None).unwrap_err().kind(),
            ErrorKind::Auth
        );
        assert_eq!(
            handle(&good, &secret("other"), None).unwrap_err().kind(),
            ErrorKind::Auth
        );
        assert_eq!(handle(&good, &secret(""), None).unwrap_err().kind(), ErrorKind::Config);
        let mut moved = good.clone();
        moved.url = "https://evil.example/hooks/twilio".into();
        assert_eq!(
            handle(&moved, &secret("tok"), None).unwrap_err().kind(),
            ErrorKind::Auth
        );
        let mut tampered = good.clone();
        tampered.body = "MessageSid=SM1&MessageStatus=failed".into();
        assert_eq!(
            handle(&tampered, &secret("tok"), None).unwrap_err().kind(),
            ErrorKind::Auth
        );
        // A signed body that is not a Twilio callback decodes to an input error, never a panic.
        let junk = signed(url, &pairs(&[("MessageStatus", "sent")]), "tok");
        assert_eq!(
            handle(&junk, &secret("tok"), None).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let other = signed(url, &pairs(&[("Foo", "bar")]), "tok");
        assert!(matches!(
            &handle(&other, &secret("tok"), None).unwrap()[..],
            [Event::Other { .. }]
        ));
    }
}

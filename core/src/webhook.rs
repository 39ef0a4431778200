//! Webhooks, framework-free: the host hands over a [`WebhookRequest`] (method, full URL, headers, raw
//! body, peer address) and gets typed events back.
//!
//! Verification is on by default and cannot run without a secret. This module has the pieces every
//! provider's check is built from: HMAC-SHA1/SHA256 signatures compared in constant time, a secret
//! token carried in the callback URL ([`verify_url_token`]), and IP allow-lists ([`IpAllowList`]).
//! Failed checks are [`ErrorKind::Auth`] errors; malformed bodies are
//! `InvalidInput`. None of them echo the secret or the body.

use std::net::IpAddr;
use std::str::FromStr;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{HeaderMap, Method};

use crate::error::{Error, ErrorKind, Result};
use crate::secret::{ExposeSecret, SecretString, ct_eq};

/// The largest webhook body decoders accept (1 MiB); providers send a few kilobytes.
pub const MAX_WEBHOOK_BODY: usize = 1024 * 1024;

/// An HTTP request a provider made to the host, as the host's web framework received it.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    /// The method.
    pub method: Method,
    /// The full URL as the provider called it, scheme, host and raw query included (signature schemes
    /// such as Twilio's sign the URL exactly as configured).
    pub url: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The raw body, untouched (signatures are over the raw bytes).
    pub body: Bytes,
    /// The peer address, for IP allow-lists; behind a proxy, the host puts the real client address here.
    pub remote_addr: Option<IpAddr>,
}

impl WebhookRequest {
    /// A POST with a body.
    pub fn post(url: impl Into<String>, body: impl Into<Bytes>) -> Self {
        WebhookRequest {
            method: Method::POST,
            url: url.into(),
            headers: HeaderMap::new(),
            body: body.into(),
            remote_addr: None,
        }
    }

    /// A GET (some providers call back with query parameters only).
    pub fn get(url: impl Into<String>) -> Self {
        WebhookRequest {
            method: Method::GET,
            ..Self::post(url, Bytes::new())
        }
    }

    /// Adds a header; an invalid name or value is ignored (it could not have come over HTTP).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (http::HeaderName::from_str(name), http::HeaderValue::from_str(value)) {
            self.headers.append(n, v);
        }
        self
    }

    /// Sets the peer address.
    pub fn with_remote_addr(mut self, addr: IpAddr) -> Self {
        self.remote_addr = Some(addr);
        self
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The raw query string of the URL (after `?`, before `#`).
    pub fn raw_query(&self) -> Option<&str> {
        let q = self.url.split_once('?')?.1;
        Some(q.split_once('#').map_or(q, |(q, _)| q))
    }

    /// The decoded query parameters in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.raw_query()
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default()
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The body as `application/x-www-form-urlencoded` pairs in order.
    pub fn form_pairs(&self) -> Result<Vec<(String, String)>> {
        self.check_size()?;
        Ok(url::form_urlencoded::parse(&self.body).into_owned().collect())
    }

    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        self.check_size()?;
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("the webhook body is not the JSON expected ({e})"),
            )
            .with_source(e)
        })
    }

    /// Refuses bodies over [`MAX_WEBHOOK_BODY`].
    pub fn check_size(&self) -> Result<()> {
        if self.body.len() > MAX_WEBHOOK_BODY {
            return Err(Error::invalid_input(format!(
                "the webhook body is {} bytes, more than the {MAX_WEBHOOK_BODY} accepted",
                self.body.len()
            )));
        }
        Ok(())
    }
}

/// What the host answers the provider's webhook call. Some providers need a particular answer
/// (SMS.ru counts a callback delivered only when the body is `100`; Twilio expects TwiML), so the
/// provider's [`Webhook::handle`] says it, and the host's web framework sends it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`, when there is a body.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: Bytes,
}

impl WebhookAnswer {
    /// `200 OK` with an empty body: what most providers expect.
    pub fn ok() -> Self {
        WebhookAnswer {
            status: 200,
            content_type: None,
            body: Bytes::new(),
        }
    }

    /// A plain-text answer.
    pub fn text(status: u16, body: impl Into<Bytes>) -> Self {
        WebhookAnswer {
            status,
            content_type: Some("text/plain; charset=utf-8"),
            body: body.into(),
        }
    }

    /// An XML answer (TwiML).
    pub fn xml(status: u16, body: impl Into<Bytes>) -> Self {
        WebhookAnswer {
            status,
            content_type: Some("text/xml; charset=utf-8"),
            body: body.into(),
        }
    }

    /// A JSON answer.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        WebhookAnswer {
            status,
            content_type: Some("application/json"),
            body: Bytes::from(body.to_string()),
        }
    }

    /// What to answer when handling failed, so that the provider does the right thing: `401` for a
    /// request that failed verification (not from the provider: nothing to retry), `400` for a body
    /// that cannot be read (retrying will not help), and `503` for everything else — a failure on the
    /// host's side (its journal or store refused the event), which the provider should deliver again.
    pub fn for_error(err: &Error) -> Self {
        let status = match err.kind() {
            ErrorKind::Auth => 401,
            ErrorKind::InvalidInput | ErrorKind::Decode => 400,
            ErrorKind::NotFound => 404,
            _ => 503,
        };
        WebhookAnswer::text(status, Bytes::new())
    }

    /// Whether the answer acknowledges the call (2xx).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A webhook that was verified and decoded: the events it carried, and what to answer the provider.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Handled {
    /// The events, in the order the provider sent them.
    pub events: Vec<crate::message::Event>,
    /// What to answer.
    pub answer: WebhookAnswer,
}

impl Handled {
    /// Events answered with `answer`.
    pub fn new(events: Vec<crate::message::Event>, answer: WebhookAnswer) -> Self {
        Handled { events, answer }
    }
}

/// One provider's webhooks: every provider that pushes implements this, with the same three steps.
///
/// * [`Webhook::verify`] proves the request came from the provider (a signature, a secret token in the
///   URL, an IP allow-list) and refuses it otherwise with an `Auth` error, without decoding anything.
/// * [`Webhook::decode`] turns a verified request into events (`InvalidInput` for a body it cannot read).
/// * [`Webhook::handle`] does both, plus whatever the provider needs beyond the body (re-fetching the
///   object, looking ids up), and says what to answer.
#[async_trait::async_trait]
pub trait Webhook: Send + Sync + std::fmt::Debug {
    /// Checks that the request came from the provider.
    fn verify(&self, request: &WebhookRequest) -> Result<()>;

    /// Decodes a verified request into events.
    fn decode(&self, request: &WebhookRequest) -> Result<Vec<crate::message::Event>>;

    /// What the provider expects as the answer to a call that was handled.
    fn answer(&self) -> WebhookAnswer {
        WebhookAnswer::ok()
    }

    /// Verifies, decodes and answers.
    async fn handle(&self, request: &WebhookRequest) -> Result<Handled> {
        self.verify(request)?;
        let events = self.decode(request)?;
        Ok(Handled::new(events, self.answer()))
    }
}

/// An `Auth` error for a webhook that failed verification. Its dispatch fact is `NotSent`: nothing was
/// acted on.
pub fn unauthenticated(why: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::Auth, why).with_dispatch(crate::error::Dispatch::NotSent)
}

/// Checks that the callback URL carries the shared secret in query parameter `param`.
///
/// This is how providers that do not sign their callbacks (Dinstar push, Mitto, SMS.ru, TeleCMI) are
/// protected: the host registers `https://host/hook?token=SECRET` with the provider and only requests
/// that carry it are believed.
pub fn verify_url_token(request: &WebhookRequest, param: &str, secret: &SecretString) -> Result<()> {
    if secret.expose_secret().is_empty() {
        return Err(Error::config(
            "the webhook secret is empty: verification cannot run without one",
        ));
    }
    match request.query_param(param) {
        None => Err(unauthenticated(format!("the callback URL carries no '{param}' secret"))),
        Some(v) if ct_eq(v.as_bytes(), secret.expose_secret().as_bytes()) => Ok(()),
        Some(_) => Err(unauthenticated(format!("the callback URL's '{param}' secret is wrong"))),
    }
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of `data` under `key`.
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// SHA-256 of `data`, hex-encoded (Twilio's `bodySHA256`).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// An IP allow-list of addresses and CIDR ranges (`185.71.76.0/27`, `2a02:5180::/32`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpAllowList {
    nets: Vec<IpNet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix))
                };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.prefix))
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl IpAllowList {
    /// Parses a list of addresses and CIDR ranges.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut nets = Vec::new();
        for e in entries {
            let e = e.trim();
            let (a, p) = match e.split_once('/') {
                Some((a, p)) => (a, Some(p)),
                None => (e, None),
            };
            let addr: IpAddr = a
                .parse()
                .map_err(|_| Error::config(format!("'{}' is not an IP address or CIDR range", e.escape_debug())))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = match p {
                None => max,
                Some(p) => p
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| Error::config(format!("'{}' has an invalid prefix length", e.escape_debug())))?,
            };
            nets.push(IpNet { addr, prefix });
        }
        Ok(IpAllowList { nets })
    }

    /// Whether the address is in the list.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// Checks the request's peer address; a request without one is refused.
    pub fn verify(&self, request: &WebhookRequest) -> Result<()> {
        match request.remote_addr {
            None => Err(unauthenticated(
                "the webhook request has no peer address to check against the allow-list",
            )),
            Some(ip) if self.contains(ip) => Ok(()),
            Some(ip) => Err(unauthenticated(format!(
                "the webhook came from {ip}, which is not on the allow-list"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::secret;

    #[test]
    fn url_token() {
        let s = secret("s3cret");
        let ok = WebhookRequest::post("https://h/hook?token=s3cret&x=1", "");
        verify_url_token(&ok, "token", &s).unwrap();
        let wrong = WebhookRequest::post("https://h/hook?token=s3creT", "");
        let e = verify_url_token(&wrong, "token", &s).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(!e.to_string().contains("s3cre"));
        let none = WebhookRequest::post("https://h/hook", "");
        assert_eq!(
            verify_url_token(&none, "token", &s).unwrap_err().kind(),
            ErrorKind::Auth
        );
        assert_eq!(
            verify_url_token(&ok, "token", &secret("")).unwrap_err().kind(),
            ErrorKind::Config
        );
    }

    #[test]
    fn hmac_known_vectors() {
        // RFC 4231 test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 2202 test case 2.
        assert_eq!(
            hex::encode(hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn allow_list() {
        let l = IpAllowList::parse(["185.71.76.0/27", "77.75.156.11", "2a02:5180::/32"]).unwrap();
        assert!(l.contains("185.71.76.31".parse().unwrap()));
        assert!(!l.contains("185.71.76.32".parse().unwrap()));
        assert!(l.contains("77.75.156.11".parse().unwrap()));
        assert!(l.contains("::ffff:77.75.156.11".parse().unwrap()));
        assert!(l.contains("2a02:5180:1::5".parse().unwrap()));
        assert!(!l.contains("2a02:5181::1".parse().unwrap()));
        let r = WebhookRequest::post("https://h/", "").with_remote_addr("10.0.0.1".parse().unwrap());
        assert_eq!(l.verify(&r).unwrap_err().kind(), ErrorKind::Auth);
        assert!(l.verify(&WebhookRequest::post("https://h/", "")).is_err());
        assert!(IpAllowList::parse(["1.2.3.4/33"]).is_err());
        assert!(IpAllowList::parse(["nope"]).is_err());
        assert!(
            IpAllowList::parse(["0.0.0.0/0"])
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn oversized_and_malformed_bodies_are_input_errors() {
        let big = WebhookRequest::post("https://h/", vec![b'a'; MAX_WEBHOOK_BODY + 1]);
        assert_eq!(
            big.json::<serde_json::Value>().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let bad = WebhookRequest::post("https://h/", "{");
        assert_eq!(
            bad.json::<serde_json::Value>().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn query_helpers() {
        let r = WebhookRequest::get("https://h/p?a=1&b=x%20y#frag");
        assert_eq!(r.raw_query(), Some("a=1&b=x%20y"));
        assert_eq!(r.query_param("b").as_deref(), Some("x y"));
        assert_eq!(r.query_param("c"), None);
    }
}

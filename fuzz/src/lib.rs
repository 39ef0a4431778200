//! Shared pieces of the fuzz targets: a structured webhook request built from raw fuzz bytes.
//!
//! Input layout (friendly to hand-written seeds): byte 0 holds flags, the rest is
//! `QUERY\nName: value\n...\n\nBODY`. Without a blank line the whole rest is the body. Flag
//! [`SECRET_OK`] puts the harness's known secret where the decoder looks for it (the URL's
//! `token=` or the provider's header), so the fuzzer gets past the secret check and reaches the
//! parser; without it, the secret checks themselves are fuzzed.

use std::net::IpAddr;

use switchboard_core::{Error, WebhookRequest};

/// The secret every harness configures.
pub const SECRET: &str = "fuzz-Secret-7q";
/// The query parameter that carries it.
pub const PARAM: &str = "token";

/// POST (else GET).
pub const POST: u8 = 1;
/// Carry the right secret.
pub const SECRET_OK: u8 = 1 << 1;
/// `Content-Type: application/x-www-form-urlencoded`.
pub const FORM: u8 = 1 << 2;
/// `Content-Type: application/json`.
pub const JSON: u8 = 1 << 3;
/// Peer address inside YooKassa's published allow-list (else outside it).
pub const ALLOWED_IP: u8 = 1 << 4;
/// Sign the request correctly (Stripe, Twilio).
pub const SIGN: u8 = 1 << 5;
/// No peer address at all.
pub const NO_PEER: u8 = 1 << 6;
/// A target-specific variant.
pub const VARIANT: u8 = 1 << 7;

/// A decoded fuzz input.
#[derive(Debug)]
pub struct Input<'a> {
    /// Flags from byte 0.
    pub flags: u8,
    /// The fuzz-controlled query text.
    pub query: String,
    /// The fuzz-controlled headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: &'a [u8],
    /// Everything after the flags byte (to tell whether the fuzzer itself wrote the secret).
    pub rest: &'a [u8],
}

impl<'a> Input<'a> {
    /// Splits raw fuzz bytes.
    pub fn parse(data: &'a [u8]) -> Option<Input<'a>> {
        let (&flags, rest) = data.split_first()?;
        let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
            Some(i) => (&rest[..i], &rest[i + 2..]),
            None => (&b""[..], rest),
        };
        let head = String::from_utf8_lossy(head);
        let mut lines = head.split('\n');
        let query = lines.next().unwrap_or("").to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Some(Input {
            flags,
            query,
            headers,
            body,
            rest,
        })
    }

    /// Whether a flag is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// The URL: the secret first when [`SECRET_OK`], then the fuzz query.
    pub fn url(&self) -> String {
        let mut url = "https://hook.example.com/cb?".to_owned();
        if self.has(SECRET_OK) {
            url.push_str(PARAM);
            url.push('=');
            url.push_str(SECRET);
            url.push('&');
        }
        url.push_str(&self.query);
        url
    }

    /// The request, without provider-specific headers.
    pub fn request(&self) -> WebhookRequest {
        self.request_at(self.url())
    }

    /// The request at a given URL.
    pub fn request_at(&self, url: String) -> WebhookRequest {
        let mut r = if self.has(POST) {
            WebhookRequest::post(url, self.body.to_vec())
        } else {
            let mut r = WebhookRequest::get(url);
            r.body = bytes::Bytes::copy_from_slice(self.body);
            r
        };
        if self.has(FORM) {
            r = r.with_header("content-type", "application/x-www-form-urlencoded");
        }
        if self.has(JSON) {
            r = r.with_header("content-type", "application/json");
        }
        for (n, v) in &self.headers {
            r = r.with_header(n, v);
        }
        if !self.has(NO_PEER) {
            let ip: IpAddr = if self.has(ALLOWED_IP) {
                IpAddr::from([185, 71, 76, 1])
            } else {
                IpAddr::from([10, 0, 0, 1])
            };
            r = r.with_remote_addr(ip);
        }
        r
    }

    /// Whether the fuzzer wrote the secret itself (then an error may legitimately quote it back
    /// from the body or a header, and the leak check is skipped).
    pub fn fuzzer_wrote_secret(&self) -> bool {
        self.rest.windows(SECRET.len()).any(|w| w == SECRET.as_bytes())
    }
}

/// Panics when an error shows the configured secret.
pub fn assert_no_secret(input: &Input<'_>, e: &Error) {
    if input.fuzzer_wrote_secret() {
        return;
    }
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(SECRET), "an error shows the webhook secret: {shown}");
}

//! What both payment simulators share: the idempotency store, webhook delivery, ids and auth parsing.
//!
//! (Candidates for core's testkit: any simulator of a provider with idempotency keys or pushed
//! webhooks needs the same two pieces.)
// Each provider's simulator uses its own subset of the helpers.
#![cfg_attr(not(all(feature = "yookassa", feature = "stripe")), allow(dead_code))]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use http::HeaderMap;
use serde_json::Value;
use switchboard_core::http::HttpOptions;
use tokio::sync::mpsc;

/// A remembered answer to a keyed POST.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    path: String,
    params: Value,
    pub status: u16,
    pub body: String,
}

/// What a keyed POST should get.
pub(crate) enum IdemCheck {
    /// First use of the key: process it.
    New,
    /// Same key, same request: answer the stored one.
    Replay(Stored),
    /// Same key, different request: refuse.
    Conflict,
}

/// Keys seen, with the request they came with and the answer given (24 h at the providers; the
/// simulators keep them for their lifetime).
#[derive(Debug, Default)]
pub(crate) struct IdempotencyStore {
    entries: HashMap<String, Stored>,
}

impl IdempotencyStore {
    pub fn check(&self, key: &str, path: &str, params: &Value) -> IdemCheck {
        match self.entries.get(key) {
            None => IdemCheck::New,
            Some(s) if s.path == path && &s.params == params => IdemCheck::Replay(s.clone()),
            Some(_) => IdemCheck::Conflict,
        }
    }

    pub fn store(&mut self, key: &str, path: &str, params: Value, status: u16, body: String) {
        self.entries.insert(
            key.to_owned(),
            Stored {
                path: path.to_owned(),
                params,
                status,
                body,
            },
        );
    }
}

/// One webhook the simulator tried to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// Where it went.
    pub url: String,
    /// The event type.
    pub event: String,
    /// The body sent.
    pub body: String,
    /// The receiver's HTTP status, or `None` when it could not be reached.
    pub status: Option<u16>,
}

struct Outgoing {
    url: String,
    event: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// Delivers webhooks in order from a task on the runtime that started the simulator (the simulator's
/// handler runs on wiremock's own runtime and must not block).
#[derive(Debug, Clone)]
pub(crate) struct Pusher {
    tx: mpsc::UnboundedSender<Outgoing>,
    log: Arc<Mutex<Vec<Delivery>>>,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("event", &self.event)
            .finish_non_exhaustive()
    }
}

impl Pusher {
    /// Starts the delivery task. Must be called inside a tokio runtime.
    pub fn start() -> Pusher {
        let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
        let log = Arc::new(Mutex::new(Vec::new()));
        let task_log = log.clone();
        let client = HttpOptions::default()
            .timeout(Duration::from_secs(10))
            .build_client()
            .ok();
        tokio::spawn(async move {
            while let Some(o) = rx.recv().await {
                let status = match &client {
                    None => None,
                    Some(c) => {
                        let mut rb = c.post(&o.url).body(o.body.clone());
                        for (k, v) in &o.headers {
                            rb = rb.header(k.as_str(), v.as_str());
                        }
                        rb.send().await.ok().map(|r| r.status().as_u16())
                    }
                };
                if let Ok(mut l) = task_log.lock() {
                    l.push(Delivery {
                        url: o.url,
                        event: o.event,
                        body: o.body,
                        status,
                    });
                }
            }
        });
        Pusher { tx, log }
    }

    /// Queues one webhook.
    pub fn push(&self, url: &str, event: &str, headers: Vec<(String, String)>, body: String) {
        let _ = self.tx.send(Outgoing {
            url: url.to_owned(),
            event: event.to_owned(),
            headers,
            body,
        });
    }

    /// What was delivered so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// `n` random characters from `[0-9A-Za-z]`.
pub(crate) fn alnum(n: usize) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..n)
        .map(|_| CHARS[rand::random_range(0..CHARS.len())] as char)
        .collect()
}

/// `n` random lower-case hex digits.
pub(crate) fn hexs(n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rand::random_range(0..16u32), 16).unwrap_or('0'))
        .collect()
}

/// The user and password of a `Basic` Authorization header.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// The token of a `Bearer` Authorization header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned())
}

/// A header's value as text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Unix seconds now.
pub(crate) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Counters of what a simulator did, for tests ("one charge, however many retries").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimStats {
    /// Requests received (faults included only when they reached the handler).
    pub requests: usize,
    /// Payments (YooKassa) or PaymentIntents and Checkout Sessions (Stripe) created.
    pub payments_created: usize,
    /// Customers' payments that went through (money taken or held): YooKassa payments that became paid,
    /// Stripe confirmations that succeeded.
    pub charges: usize,
    /// Captures carried out.
    pub captures: usize,
    /// Cancellations carried out.
    pub cancellations: usize,
    /// Refunds created.
    pub refunds_created: usize,
    /// Keyed POSTs answered from the idempotency store.
    pub replays: usize,
    /// Keyed POSTs refused because the key came with a different request.
    pub conflicts: usize,
}

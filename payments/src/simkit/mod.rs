//! What the payment simulators share (feature `sim`): the idempotency store, webhook delivery, ids,
//! auth parsing and counters.
//!
//! (Candidates for core's testkit: any simulator of a provider with idempotency keys or pushed
//! webhooks needs the same two pieces.)
//!
//! [`conformance`] holds the checks every payment provider's tests run against its simulator.

pub mod conformance;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use http::HeaderMap;
use serde_json::Value;
use switchboard_core::http::HttpOptions;
use switchboard_core::simulated::SimOptions;
use switchboard_core::testkit::{Handler, SimServer};
use switchboard_core::{Error, Result, WebhookRequest};
use tokio::sync::mpsc;

/// A remembered answer to a keyed POST.
#[derive(Debug, Clone)]
pub struct Stored {
    path: String,
    params: Value,
    /// The HTTP status answered.
    pub status: u16,
    /// The body answered.
    pub body: String,
}

/// What a keyed POST should get.
#[derive(Debug)]
pub enum IdemCheck {
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
pub struct IdempotencyStore {
    entries: HashMap<String, Stored>,
}

impl IdempotencyStore {
    /// What a POST to `path` with `params` under `key` should get.
    pub fn check(&self, key: &str, path: &str, params: &Value) -> IdemCheck {
        match self.entries.get(key) {
            None => IdemCheck::New,
            Some(s) if s.path == path && &s.params == params => IdemCheck::Replay(s.clone()),
            Some(_) => IdemCheck::Conflict,
        }
    }

    /// Remembers the answer given to the first use of `key`.
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

/// One webhook to push: where, with which headers, and the body.
struct Outgoing {
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Delivers webhooks in order from a task on the runtime that started the simulator (the simulator's
/// handler runs on wiremock's own runtime and must not block), and records what it pushed.
#[derive(Debug, Clone)]
pub struct Pusher {
    tx: mpsc::UnboundedSender<Outgoing>,
    deliverer: Deliverer,
}

/// The HTTP side of a [`Pusher`], shared with its task (which must not hold the sender, or the task
/// would outlive the simulator).
#[derive(Debug, Clone)]
struct Deliverer {
    http: Option<reqwest::Client>,
    log: Arc<Mutex<Vec<WebhookRequest>>>,
}

impl Pusher {
    /// Starts the delivery task. Must be called inside a tokio runtime.
    pub fn start() -> Pusher {
        let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
        let deliverer = Deliverer {
            http: HttpOptions::default()
                .timeout(Duration::from_secs(10))
                .build_client()
                .ok(),
            log: Arc::new(Mutex::new(Vec::new())),
        };
        let task = deliverer.clone();
        tokio::spawn(async move {
            while let Some(o) = rx.recv().await {
                task.deliver(o).await;
            }
        });
        Pusher { tx, deliverer }
    }

    /// Queues one webhook; it is delivered after every webhook queued before it.
    pub fn push(&self, url: &str, headers: Vec<(String, String)>, body: String) {
        let _ = self.tx.send(Outgoing {
            url: url.to_owned(),
            headers,
            body,
        });
    }

    /// Delivers one webhook now and answers the request it made (for `Simulated::trigger`).
    pub async fn push_now(&self, url: &str, headers: Vec<(String, String)>, body: String) -> WebhookRequest {
        self.deliverer
            .deliver(Outgoing {
                url: url.to_owned(),
                headers,
                body,
            })
            .await
    }

    /// What was pushed so far, in order, as the receiver's web framework would hand it over (the peer
    /// address is loopback, where the simulator pushes from).
    pub fn pushed(&self) -> Vec<WebhookRequest> {
        self.deliverer.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Deliverer {
    /// Records the webhook, then posts it (recorded first, so that whatever the receiver got is
    /// already in [`Pusher::pushed`]).
    async fn deliver(&self, o: Outgoing) -> WebhookRequest {
        let mut request =
            WebhookRequest::post(o.url.clone(), o.body.clone()).with_remote_addr(IpAddr::from([127, 0, 0, 1]));
        for (k, v) in &o.headers {
            request = request.with_header(k, v);
        }
        if let Ok(mut l) = self.log.lock() {
            l.push(request.clone());
        }
        if let Some(c) = &self.http {
            let mut rb = c.post(&o.url).body(o.body);
            for (k, v) in &o.headers {
                rb = rb.header(k.as_str(), v.as_str());
            }
            // What the receiver answers does not change what was pushed; an unreachable receiver is
            // the receiver's problem, as it is for the provider.
            let _ = rb.send().await;
        }
        request
    }
}

/// Starts a simulator's server as `options` say: on `options.port` (request recording off, for a
/// simulator a person points a tool at) or on a free loopback port.
pub async fn start_server(options: &SimOptions, handler: Handler) -> Result<SimServer> {
    match options.port {
        None => Ok(SimServer::start(handler).await),
        Some(port) => SimServer::start_on_port(port, handler)
            .await
            .map_err(|e| Error::config(format!("the simulator cannot listen on 127.0.0.1:{port}")).with_source(e)),
    }
}

/// `n` random characters from `[0-9A-Za-z]`.
pub fn alnum(n: usize) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..n)
        .map(|_| CHARS[switchboard_core::random::below(CHARS.len() as u64) as usize] as char)
        .collect()
}

/// `n` random lower-case hex digits.
pub fn hexs(n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(switchboard_core::random::below(16) as u32, 16).unwrap_or('0'))
        .collect()
}

/// The user and password of a `Basic` Authorization header.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
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
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned())
}

/// A header's value as text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Unix seconds now.
pub fn now_unix() -> i64 {
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

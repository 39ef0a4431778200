//! The one request pipeline every HTTP provider goes through.
//!
//! A provider says three things about itself by implementing [`Api`]: its name, how a request is
//! authorised, and how an answer is read as an error (`parse_error`, in the provider's `error.rs`).
//! [`Pipeline`] does the rest the same way for everyone:
//!
//! * builds the request afresh for every attempt (a closure over the shared `reqwest::Client`), so a
//!   refreshed token or a new Digest nonce is picked up;
//! * reads the answer with the body cap from [`HttpOptions::max_body`];
//! * repeats once with fresh credentials when the provider says they are stale (a 401 acted on
//!   nothing, so one repeat cannot duplicate anything);
//! * retries by the dispatch rules of [`RetryPolicy`]: a send is repeated only when the error proves it
//!   did not land, a read or keyed request on any temporary failure;
//! * tags every error with the provider's name;
//! * decodes JSON, where a 2xx that cannot be read is a `Decode` error whose dispatch fact is `Sent`:
//!   the provider acted, and the caller must look the object up rather than repeat the request.
//!
//! ```
//! use switchboard_core::pipeline::{Api, Authorized, Pipeline};
//! use switchboard_core::http::{HttpOptions, Reply};
//! use switchboard_core::{Error, Idempotence, Result, RetryPolicy};
//!
//! #[derive(Debug)]
//! struct Acme {
//!     key: String,
//! }
//!
//! #[switchboard_core::async_trait]
//! impl Api for Acme {
//!     fn provider(&self) -> &'static str {
//!         "acme"
//!     }
//!     async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
//!         Ok(Authorized::new(request.bearer_auth(&self.key)))
//!     }
//!     fn parse_error(&self, reply: &Reply) -> Option<Error> {
//!         (!reply.is_success()).then(|| reply.status_error())
//!     }
//! }
//!
//! # async fn demo() -> Result<()> {
//! let acme = Pipeline::new(Acme { key: "k".into() }, &HttpOptions::default(), RetryPolicy::default())?;
//! let balance: serde_json::Value = acme
//!     .json(Idempotence::Idempotent, |http| http.get("https://api.acme.example/balance"))
//!     .await?;
//! # let _ = balance; Ok(()) }
//! ```

use std::fmt;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::http::{HttpOptions, Reply, decode_json};
use crate::retry::{Idempotence, RetryPolicy};

/// Which credentials an attempt used, handed back to [`Api::stale_credentials`] so the provider can
/// drop exactly that token (a [`TokenCache`](crate::token::TokenCache) generation) and not a newer one
/// another task already fetched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Credential(pub u64);

/// A request with the provider's credentials on it.
#[derive(Debug)]
pub struct Authorized {
    /// The request, ready to send.
    pub request: reqwest::RequestBuilder,
    /// The credentials it carries.
    pub credential: Credential,
}

impl Authorized {
    /// A request whose credentials need no bookkeeping (a fixed key, basic auth).
    pub fn new(request: reqwest::RequestBuilder) -> Self {
        Authorized {
            request,
            credential: Credential::default(),
        }
    }

    /// A request carrying the credentials numbered `credential`.
    pub fn with_credential(request: reqwest::RequestBuilder, credential: Credential) -> Self {
        Authorized { request, credential }
    }
}

/// What a provider tells the [`Pipeline`] about itself.
#[async_trait]
pub trait Api: Send + Sync + fmt::Debug {
    /// The provider's name, tagged on every error (`"mitto"`).
    fn provider(&self) -> &'static str;

    /// Puts the provider's credentials on a request about to be sent (called before every attempt).
    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized>;

    /// The error this answer stands for, with its kind and dispatch fact, or `None` when it is a success
    /// to hand to the caller. Providers that answer errors inside a 2xx envelope find them here too.
    fn parse_error(&self, reply: &Reply) -> Option<Error>;

    /// Whether `error` (parsed from `reply`) means the credentials of this attempt are stale, so that
    /// one repeat with fresh ones may succeed. Implementations drop the stale credentials here (or keep
    /// the Digest challenge the answer carried). Only ever asked about answers that prove the request
    /// was not acted on. The default: never.
    fn stale_credentials(&self, reply: &Reply, error: &Error, used: Credential) -> bool {
        let _ = (reply, error, used);
        false
    }

    /// Carries out one attempt's HTTP traffic and answers the reply to judge, with the credentials it
    /// used. The default authorises the caller's request ([`Api::authorize`]) and sends it once.
    ///
    /// A provider whose authorisation is a handshake drives it here instead, over
    /// [`Exchange::send`]: HTTP Digest (a challenge, then the answer; a stale nonce renewed from the
    /// 401 that refused it; a second 401 in a row meaning wrong credentials) needs several exchanges
    /// inside one attempt, and only it knows which of them carry the request.
    async fn exchange(&self, exchange: &Exchange<'_>) -> Result<(Reply, Credential)> {
        let authorized = self.authorize(exchange.request()).await?;
        Ok((exchange.send(authorized.request).await?, authorized.credential))
    }
}

/// One attempt's traffic, handed to [`Api::exchange`]: the caller's request (built afresh on each
/// call) and a way to send any request with the pipeline's span, telemetry and body cap.
pub struct Exchange<'a> {
    http: &'a reqwest::Client,
    build: &'a (dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync),
    max_body: usize,
    provider: &'static str,
}

impl fmt::Debug for Exchange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

impl Exchange<'_> {
    /// The caller's request, without credentials.
    pub fn request(&self) -> reqwest::RequestBuilder {
        (self.build)(self.http)
    }

    /// The shared HTTP client, for a request of the provider's own (a Digest challenge probe).
    pub fn http(&self) -> &reqwest::Client {
        self.http
    }

    /// Sends one request and reads its answer (capped), inside a span named after the OpenTelemetry
    /// HTTP client conventions. Only the method, host and port go in it: paths and queries can carry
    /// credentials (Telegram's token is in the path).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply> {
        let (client, request) = request.build_split();
        let request = request.map_err(crate::http::classify_reqwest_error)?;
        let span = tracing::debug_span!(
            "switchboard.http",
            "http.request.method" = %request.method(),
            "server.address" = request.url().host_str().unwrap_or(""),
            "server.port" = request.url().port_or_known_default().unwrap_or(0),
            "messaging.system" = self.provider,
            "http.response.status_code" = tracing::field::Empty,
            "error.type" = tracing::field::Empty,
        );
        let result = async {
            match client.execute(request).await {
                Ok(resp) => Reply::read(resp, self.max_body).await,
                Err(e) => Err(crate::http::classify_reqwest_error(e)),
            }
        }
        .instrument(span.clone())
        .await;
        match &result {
            Ok(reply) => {
                span.record("http.response.status_code", reply.status.as_u16());
                crate::telemetry::record_http(self.provider, Some(reply.status.as_u16()));
            }
            Err(e) => {
                span.record("error.type", crate::telemetry::error_type(e.kind()));
                crate::telemetry::record_http(self.provider, e.http_status());
            }
        }
        result
    }
}

/// The shared HTTP client, retry policy and body cap of one provider client, over its [`Api`].
pub struct Pipeline<A> {
    http: reqwest::Client,
    retry: RetryPolicy,
    max_body: usize,
    api: A,
}

impl<A: fmt::Debug> fmt::Debug for Pipeline<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("api", &self.api)
            .field("retry", &self.retry)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl<A: Api> Pipeline<A> {
    /// A pipeline over a new HTTP client built from `options` (TLS verification on unless the options
    /// say otherwise, timeouts, pool, user agent).
    pub fn new(api: A, options: &HttpOptions, retry: RetryPolicy) -> Result<Self> {
        let http = options.build_client().map_err(|e| e.with_provider(api.provider()))?;
        Ok(Pipeline {
            http,
            retry,
            max_body: options.max_body,
            api,
        })
    }

    /// The provider's side of the pipeline.
    pub fn api(&self) -> &A {
        &self.api
    }

    /// The shared HTTP client (for a request outside the pipeline, such as a token fetch, which the
    /// provider authorises itself).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The body cap.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Sends the request `build` makes, under the retry policy for an operation of `idempotence`, and
    /// answers the reply that [`Api::parse_error`] found to be a success.
    pub async fn reply<F>(&self, idempotence: Idempotence, build: F) -> Result<Reply>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        let build = &build;
        let attempts = std::sync::atomic::AtomicU64::new(0);
        let attempts = &attempts;
        let result = self
            .retry
            .run(idempotence, move || async move {
                attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.attempt(build).await
            })
            .await;
        let n = attempts.load(std::sync::atomic::Ordering::Relaxed);
        crate::telemetry::record_retries(self.api.provider(), n.saturating_sub(1));
        result
    }

    /// Like [`Pipeline::reply`], with the answer decoded as JSON. An answer that does not decode is a
    /// `Decode` error with the dispatch fact `Sent`: the provider acted on the request.
    pub async fn json<T, F>(&self, idempotence: Idempotence, build: F) -> Result<T>
    where
        T: DeserializeOwned,
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        let reply = self.reply(idempotence, build).await?;
        self.decode(&reply)
    }

    /// Decodes a successful reply's JSON, tagged and classified as [`Pipeline::json`] does.
    pub fn decode<T: DeserializeOwned>(&self, reply: &Reply) -> Result<T> {
        decode_json(&reply.body).map_err(|e| {
            let msg = format!(
                "{} accepted the request (HTTP {}) but its answer could not be read: {}",
                self.api.provider(),
                reply.status.as_u16(),
                e.message()
            );
            e.with_message(msg)
                .with_dispatch(crate::Dispatch::Sent)
                .with_http_status(reply.status.as_u16())
                .with_provider(self.api.provider())
        })
    }

    /// One attempt: authorise, send, read, parse ([`Api::exchange`], then [`Api::parse_error`]); one
    /// repeat with fresh credentials if they were stale.
    async fn attempt<F>(&self, build: &F) -> Result<Reply>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        let exchange = Exchange {
            http: &self.http,
            build,
            max_body: self.max_body,
            provider: self.api.provider(),
        };
        let mut refreshed = false;
        loop {
            let (reply, credential) = self.api.exchange(&exchange).await.map_err(|e| self.tag(e))?;
            let Some(err) = self.api.parse_error(&reply) else {
                return Ok(reply);
            };
            let err = self.tag(err);
            tracing::Span::current().record("error.type", crate::telemetry::error_type(err.kind()));
            if err.dispatch() == crate::Dispatch::NotSent
                && !refreshed
                && self.api.stale_credentials(&reply, &err, credential)
            {
                refreshed = true;
                tracing::debug!(provider = self.api.provider(), error = %err, "credentials were stale; repeating once with fresh ones");
                continue;
            }
            return Err(err);
        }
    }

    fn tag(&self, e: Error) -> Error {
        if e.provider().is_some() {
            e
        } else {
            e.with_provider(self.api.provider())
        }
    }
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::time::Duration;

    use wiremock::matchers::{header, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::error::{Dispatch, ErrorKind};

    /// A provider whose token is "t<generation>" and whose 401 means "token stale".
    #[derive(Debug, Default)]
    struct Tokened {
        generation: AtomicU64,
        dropped: AtomicUsize,
    }

    #[async_trait]
    impl Api for Tokened {
        fn provider(&self) -> &'static str {
            "tokened"
        }
        async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
            let g = self.generation.load(Ordering::SeqCst);
            Ok(Authorized::with_credential(
                request.bearer_auth(format!("t{g}")),
                Credential(g),
            ))
        }
        fn parse_error(&self, reply: &Reply) -> Option<Error> {
            (!reply.is_success()).then(|| reply.status_error())
        }
        fn stale_credentials(&self, reply: &Reply, _: &Error, used: Credential) -> bool {
            if reply.status.as_u16() != 401 {
                return false;
            }
            self.dropped.fetch_add(1, Ordering::SeqCst);
            let _ = self
                .generation
                .compare_exchange(used.0, used.0 + 1, Ordering::SeqCst, Ordering::SeqCst);
            true
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy::default()
            .with_max_attempts(3)
            .with_delays(Duration::from_millis(1), Duration::from_millis(2))
            .with_jitter(false)
    }

    #[tokio::test]
    async fn a_stale_token_is_refreshed_once_and_the_call_repeated() {
        let server = MockServer::start().await;
        Mock::given(header("authorization", "Bearer t0"))
            .respond_with(ResponseTemplate::new(401))
            .mount(&server)
            .await;
        Mock::given(header("authorization", "Bearer t1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
            .mount(&server)
            .await;
        let p = Pipeline::new(Tokened::default(), &HttpOptions::default(), fast()).unwrap();
        let v: serde_json::Value = p
            .json(Idempotence::NotIdempotent, |h| h.post(server.uri()))
            .await
            .unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(p.api().dropped.load(Ordering::SeqCst), 1);
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn credentials_refused_twice_are_an_auth_error_not_a_loop() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401))
            .mount(&server)
            .await;
        let p = Pipeline::new(Tokened::default(), &HttpOptions::default(), fast()).unwrap();
        let e = p
            .reply(Idempotence::NotIdempotent, |h| h.post(server.uri()))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert_eq!(e.provider(), Some("tokened"));
        // One request, one repeat with fresh credentials; Auth is not retried by the policy.
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_2xx_that_cannot_be_read_was_sent_and_says_so() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_raw("{\"id\": nul", "application/json"))
            .mount(&server)
            .await;
        let p = Pipeline::new(Tokened::default(), &HttpOptions::default(), fast()).unwrap();
        let e = p
            .json::<serde_json::Value, _>(Idempotence::NotIdempotent, |h| h.post(server.uri()))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert_eq!(e.dispatch(), Dispatch::Sent);
        assert!(e.to_string().contains("accepted the request (HTTP 201)"), "{e}");
        assert_eq!(server.received_requests().await.unwrap().len(), 1, "never repeated");
    }

    #[test]
    fn requests_and_retries_are_counted_per_provider_and_status() {
        use metrics_util::debugging::{DebugValue, DebuggingRecorder};
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        {
            let _guard = metrics::set_default_local_recorder(&recorder);
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    let server = MockServer::start().await;
                    Mock::given(method("GET"))
                        .respond_with(ResponseTemplate::new(503))
                        .up_to_n_times(1)
                        .mount(&server)
                        .await;
                    Mock::given(method("GET"))
                        .respond_with(ResponseTemplate::new(200))
                        .mount(&server)
                        .await;
                    let p = Pipeline::new(Tokened::default(), &HttpOptions::default(), fast()).unwrap();
                    p.reply(Idempotence::Idempotent, |h| h.get(server.uri())).await.unwrap();
                });
        }
        let mut seen = Vec::new();
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            if let DebugValue::Counter(n) = value {
                let labels: Vec<String> = key
                    .key()
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                seen.push(format!("{} {} {n}", key.key().name(), labels.join(",")));
            }
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                "switchboard_http_requests_total provider=tokened,status=200 1",
                "switchboard_http_requests_total provider=tokened,status=503 1",
                "switchboard_http_retries_total provider=tokened 1",
            ]
        );
    }

    #[tokio::test]
    async fn sends_are_retried_only_when_nothing_went_out() {
        let server = MockServer::start().await;
        // 503 is a refusal before acting (NotSent): retried. 502 may come after acting: not retried.
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(502))
            .mount(&server)
            .await;
        let p = Pipeline::new(Tokened::default(), &HttpOptions::default(), fast()).unwrap();
        let e = p
            .reply(Idempotence::NotIdempotent, |h| h.post(server.uri()))
            .await
            .unwrap_err();
        assert_eq!(e.http_status(), Some(502));
        assert_eq!(e.dispatch(), Dispatch::MaybeSent);
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }
}

//! What every simulator shares (feature `testkit`).
//!
//! * [`SimServer`]: a `wiremock` server on a free loopback port (or a port you choose) that sends every
//!   request to one handler, the simulator's state machine, after giving queued [`Fault`]s their turn.
//!   Requests are recorded for assertions.
//! * [`Faults`]: a queue of HTTP-level faults (error statuses, 429 with and without `Retry-After`,
//!   delays past a client's timeout, malformed or truncated JSON, the wrong content type, an empty body)
//!   that the next requests receive instead of the normal answer, or, with [`Fault::AfterHandling`],
//!   after the simulator acted on them.
//! * [`connection_fault`]: a raw TCP server for faults HTTP servers cannot produce: connection refused,
//!   a connection reset after the request was read, an answer cut off mid-body, a server that never
//!   answers.
//! * [`WebhookSink`]: a server that records what a simulator pushes, as [`WebhookRequest`]s.
//! * [`store`]: the conformance suite every [`Store`](crate::store::Store) implementation must pass.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::webhook::WebhookRequest;

pub use wiremock;

pub mod proxy;
pub mod store;
pub use proxy::{LossMode, lossy_proxy};
pub use store::{StoreFixture, store_conformance};

/// A fault the next request receives instead of its normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// An HTTP status with a short text body.
    Status(u16),
    /// An HTTP status with the given body (`application/json`).
    StatusJson(u16, String),
    /// 429, with `Retry-After: N` seconds when given.
    RateLimited(Option<u64>),
    /// The normal answer, but only after this long (past a client's timeout, it is a timeout).
    Delay(Duration),
    /// 200 with a body that is not JSON at all.
    MalformedJson,
    /// 200 with JSON cut off half-way.
    TruncatedJson,
    /// 200 with an HTML page, as a captive portal or a proxy would answer.
    WrongContentType,
    /// 200 with an empty body.
    EmptyBody,
    /// The simulator handles the request as usual (a message is stored, a call placed), then the
    /// answer is replaced by this fault's: the provider acted and its answer was lost or garbled.
    AfterHandling(Box<Fault>),
}

impl Fault {
    /// The answer for this fault; `None` for [`Fault::Delay`], which delays the normal answer.
    fn response(&self) -> Option<ResponseTemplate> {
        Some(match self {
            Fault::Status(s) => ResponseTemplate::new(*s).set_body_string(format!("simulated fault: HTTP {s}")),
            Fault::StatusJson(s, body) => ResponseTemplate::new(*s).set_body_raw(body.clone(), "application/json"),
            Fault::RateLimited(after) => {
                let t = ResponseTemplate::new(429).set_body_string("Too Many Requests");
                match after {
                    Some(a) => t.insert_header("retry-after", a.to_string().as_str()),
                    None => t,
                }
            }
            Fault::Delay(_) => return None,
            Fault::MalformedJson => ResponseTemplate::new(200).set_body_raw("this is not json {", "application/json"),
            Fault::TruncatedJson => ResponseTemplate::new(200).set_body_raw(r#"{"error_code":20"#, "application/json"),
            Fault::WrongContentType => {
                ResponseTemplate::new(200).set_body_raw("<html><body>Please log in</body></html>", "text/html")
            }
            Fault::EmptyBody => ResponseTemplate::new(200),
            Fault::AfterHandling(inner) => return inner.response(),
        })
    }
}

/// A shared queue of faults for the next requests.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    queue: Arc<Mutex<VecDeque<Fault>>>,
}

impl Faults {
    /// Queues one fault.
    pub fn push(&self, fault: Fault) {
        if let Ok(mut q) = self.queue.lock() {
            q.push_back(fault);
        }
    }

    /// Queues the same fault for the next `n` requests.
    pub fn push_n(&self, fault: Fault, n: usize) {
        for _ in 0..n {
            self.push(fault.clone());
        }
    }

    /// Drops every queued fault.
    pub fn clear(&self) {
        if let Ok(mut q) = self.queue.lock() {
            q.clear();
        }
    }

    /// How many faults are still queued.
    pub fn pending(&self) -> usize {
        self.queue.lock().map(|q| q.len()).unwrap_or(0)
    }

    /// Takes the next fault off the queue, for a simulator that is not served by [`SimServer`] (the
    /// email simulator's in-memory outbox) and answers faults its own way.
    pub fn take(&self) -> Option<Fault> {
        self.queue.lock().ok().and_then(|mut q| q.pop_front())
    }

    /// What the next request gets: its normal answer, its normal answer late, or a fault.
    fn apply(&self) -> Next {
        match self.take() {
            None => Next::Normal,
            Some(Fault::Delay(d)) => Next::Delayed(d),
            Some(Fault::AfterHandling(inner)) => match *inner {
                Fault::Delay(d) => Next::Delayed(d),
                f => Next::Replace(f.response().unwrap_or_else(|| ResponseTemplate::new(500))),
            },
            Some(f) => Next::Fault(f.response().unwrap_or_else(|| ResponseTemplate::new(500))),
        }
    }
}

enum Next {
    Normal,
    Delayed(Duration),
    Fault(ResponseTemplate),
    Replace(ResponseTemplate),
}

/// A simulator's HTTP server. See the [module docs](self).
#[derive(Debug)]
pub struct SimServer {
    server: MockServer,
    faults: Faults,
}

/// A simulator's request handler: its whole API, as a function of the request.
pub type Handler = Arc<dyn Fn(&Request) -> ResponseTemplate + Send + Sync>;

impl SimServer {
    /// Starts a server on a free loopback port that answers every request with `handler`.
    pub async fn start(handler: Handler) -> SimServer {
        Self::start_on(MockServer::start().await, handler).await
    }

    /// Starts a server on `127.0.0.1:port` (for a simulator a person points a tool at). Request
    /// recording is off, so a long-running simulator does not grow.
    pub async fn start_on_port(port: u16, handler: Handler) -> std::io::Result<SimServer> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        let server = MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        Ok(Self::start_on(server, handler).await)
    }

    async fn start_on(server: MockServer, handler: Handler) -> SimServer {
        let faults = Faults::default();
        let f = faults.clone();
        Mock::given(any())
            .respond_with(move |req: &Request| match f.apply() {
                Next::Fault(fault) => fault,
                Next::Replace(fault) => {
                    let _ = handler(req);
                    fault
                }
                Next::Normal => handler(req),
                Next::Delayed(delay) => handler(req).set_delay(delay),
            })
            .mount(&server)
            .await;
        SimServer { server, faults }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The socket address.
    pub fn address(&self) -> SocketAddr {
        *self.server.address()
    }

    /// The fault queue.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Every request received so far (empty when recording is off).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// The requests received on one path.
    pub async fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| r.url.path() == path)
            .collect()
    }
}

/// Runs `step` on a simulator's state every `period` until the state is dropped (the simulator is gone),
/// for simulators a person drives from the command line, where nobody advances message states by hand.
/// Needs a Tokio runtime.
pub fn every<T, F, Fut>(state: std::sync::Weak<T>, period: Duration, step: F) -> tokio::task::JoinHandle<()>
where
    T: Send + Sync + 'static,
    F: Fn(Arc<T>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(state) = state.upgrade() else { break };
            step(state).await;
        }
    })
}

/// A JSON answer with status 200.
pub fn json_response(value: &serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(value.to_string(), "application/json")
}

/// A JSON answer with a status.
pub fn json_status(status: u16, value: &serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(value.to_string(), "application/json")
}

/// A server that records webhooks pushed to it and answers each with a fixed status and body.
#[derive(Debug)]
pub struct WebhookSink {
    server: MockServer,
}

impl WebhookSink {
    /// Starts a sink that answers `200 OK`.
    pub async fn start() -> Self {
        Self::answering(200, "OK").await
    }

    /// Starts a sink that answers with this status and body (SMS.ru wants `100`).
    pub async fn answering(status: u16, body: &str) -> Self {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(status).set_body_string(body.to_owned()))
            .mount(&server)
            .await;
        WebhookSink { server }
    }

    /// The base URL.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// What was pushed so far, as the host's web framework would hand it over.
    pub async fn received(&self) -> Vec<WebhookRequest> {
        let peer = self.server.address().ip();
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| WebhookRequest {
                method: r.method.clone(),
                url: as_called(&r),
                headers: r.headers.clone(),
                body: r.body.clone().into(),
                remote_addr: Some(peer),
            })
            .collect()
    }

    /// Waits until at least `n` webhooks arrived or `timeout` passes, then returns what came.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<WebhookRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.received().await;
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The URL as the caller wrote it: wiremock rebuilds request URLs as `http://localhost/…` without the
/// port, which would break every scheme that signs the full URL (Twilio's), so the authority is taken
/// from the `Host` header.
fn as_called(r: &Request) -> String {
    let mut url = r.url.clone();
    if let Some(host) = r.headers.get(http::header::HOST).and_then(|h| h.to_str().ok())
        && let Ok(with_host) = url::Url::parse(&format!("{}://{host}/", url.scheme()))
    {
        let _ = url.set_host(with_host.host_str());
        let _ = url.set_port(with_host.port());
    }
    url.to_string()
}

/// A connection-level fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionFault {
    /// Nothing listens on the port: the connection is refused before anything is sent.
    Refused,
    /// The server reads the request, then closes the connection without answering.
    ResetAfterRequest,
    /// The server answers `200` with a `Content-Length` longer than the body it sends, then closes.
    CutMidBody,
    /// The server reads the request and never answers (until the client times out).
    NeverAnswers,
}

/// Starts a raw TCP server on loopback that produces `fault` on every connection, and returns its base
/// URL. The server runs until the runtime shuts down.
pub async fn connection_fault(fault: ConnectionFault) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    if fault == ConnectionFault::Refused {
        drop(listener);
        return Ok(format!("http://{addr}"));
    }
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut seen = Vec::new();
                // Read until the end of the headers and the body the client announced.
                loop {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                    if request_complete(&seen) {
                        break;
                    }
                }
                match fault {
                    ConnectionFault::ResetAfterRequest | ConnectionFault::Refused => {}
                    ConnectionFault::CutMidBody => {
                        let _ = sock
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"error_code\":202,")
                            .await;
                        let _ = sock.flush().await;
                    }
                    ConnectionFault::NeverAnswers => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                }
            });
        }
    });
    Ok(format!("http://{addr}"))
}

fn request_complete(seen: &[u8]) -> bool {
    let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    seen.len() >= end + 4 + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Dispatch, ErrorKind};
    use crate::http::{HttpOptions, Reply};

    fn client() -> reqwest::Client {
        HttpOptions::default()
            .timeout(Duration::from_millis(300))
            .build_client()
            .unwrap()
    }

    async fn call(url: &str) -> crate::Result<Reply> {
        Reply::send(client().post(url).body("{}"), 1 << 20).await
    }

    #[tokio::test]
    async fn handler_answers_and_faults_take_their_turn() {
        let sim = SimServer::start(Arc::new(|_r: &Request| json_response(&serde_json::json!({"ok": true})))).await;
        sim.faults().push(Fault::RateLimited(Some(2)));
        sim.faults().push(Fault::MalformedJson);
        let first = call(&sim.uri()).await.unwrap().error_for_status().unwrap_err();
        assert_eq!(first.kind(), ErrorKind::RateLimited);
        assert_eq!(first.retry_after(), Some(Duration::from_secs(2)));
        let second = call(&sim.uri()).await.unwrap();
        assert!(second.json::<serde_json::Value>().is_err());
        let third = call(&sim.uri()).await.unwrap();
        assert_eq!(third.json::<serde_json::Value>().unwrap()["ok"], true);
        assert_eq!(sim.requests().await.len(), 3);
    }

    #[tokio::test]
    async fn after_handling_lets_the_handler_act_then_garbles_its_answer() {
        let handled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = handled.clone();
        let sim = SimServer::start(Arc::new(move |_r: &Request| {
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            json_response(&serde_json::json!({"ok": true}))
        }))
        .await;
        sim.faults().push(Fault::MalformedJson);
        sim.faults().push(Fault::AfterHandling(Box::new(Fault::MalformedJson)));
        for _ in 0..2 {
            assert!(call(&sim.uri()).await.unwrap().json::<serde_json::Value>().is_err());
        }
        assert_eq!(
            handled.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "only the second reached the handler"
        );
    }

    #[tokio::test]
    async fn delay_past_the_timeout_is_maybe_sent() {
        let sim = SimServer::start(Arc::new(|_r: &Request| ResponseTemplate::new(200))).await;
        sim.faults().push(Fault::Delay(Duration::from_secs(2)));
        let e = call(&sim.uri()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(e.dispatch(), Dispatch::MaybeSent);
    }

    #[tokio::test]
    async fn connection_faults_classify() {
        let refused = connection_fault(ConnectionFault::Refused).await.unwrap();
        let e = call(&refused).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Transport, Dispatch::NotSent));

        let reset = connection_fault(ConnectionFault::ResetAfterRequest).await.unwrap();
        let e = call(&reset).await.unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::MaybeSent, "{e}");

        let cut = connection_fault(ConnectionFault::CutMidBody).await.unwrap();
        let e = call(&cut).await.unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::MaybeSent, "{e}");

        let hang = connection_fault(ConnectionFault::NeverAnswers).await.unwrap();
        let e = call(&hang).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::MaybeSent));
    }

    #[tokio::test]
    async fn sink_records_pushes() {
        let sink = WebhookSink::start().await;
        client()
            .post(format!("{}/hook?token=t", sink.uri()))
            .body("a=1")
            .send()
            .await
            .unwrap();
        let got = sink.wait_for(1, Duration::from_secs(2)).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].query_param("token").as_deref(), Some("t"));
        assert!(
            got[0].url.starts_with(&format!("{}/hook?", sink.uri())),
            "{}",
            got[0].url
        );
        assert_eq!(&got[0].body[..], b"a=1");
    }
}

/// A transport for tests: it records what it is asked to send and answers from a script (an
/// acceptance by default), like lettre's `StubTransport`. Hosts use it to test their own code around
/// the Messenger without a simulator.
#[derive(Debug, Clone)]
pub struct StubTransport {
    caps: crate::transport::Capabilities,
    state: Arc<Mutex<StubState>>,
}

#[derive(Debug, Default)]
struct StubState {
    script: VecDeque<StubAnswer>,
    sent: Vec<crate::message::Message>,
    counter: u64,
}

/// One scripted answer of a [`StubTransport`].
#[derive(Debug, Clone)]
pub enum StubAnswer {
    /// Accept the message.
    Accept,
    /// Fail with an error of this kind and dispatch fact.
    Fail(crate::error::ErrorKind, crate::error::Dispatch),
}

impl StubTransport {
    /// A stub SMS transport that accepts everything.
    pub fn sms() -> Self {
        Self::with_capabilities(crate::transport::Capabilities::sms().with_status())
    }

    /// A stub with the given capabilities.
    pub fn with_capabilities(caps: crate::transport::Capabilities) -> Self {
        StubTransport {
            caps,
            state: Arc::default(),
        }
    }

    /// Queues answers for the next sends; when the script runs out, sends are accepted.
    pub fn then(self, answer: StubAnswer) -> Self {
        if let Ok(mut s) = self.state.lock() {
            s.script.push_back(answer);
        }
        self
    }

    /// Queues the same answer `n` times.
    pub fn then_n(self, answer: StubAnswer, n: usize) -> Self {
        (0..n).fold(self, |s, _| s.then(answer.clone()))
    }

    /// Every message it was asked to send (failed attempts included), in order.
    pub fn sent(&self) -> Vec<crate::message::Message> {
        self.state.lock().map(|s| s.sent.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl crate::transport::Transport for StubTransport {
    fn provider(&self) -> &'static str {
        "stub"
    }

    fn capabilities(&self) -> crate::transport::Capabilities {
        self.caps
    }

    async fn send(&self, message: &crate::message::Message) -> crate::error::Result<crate::message::Receipt> {
        let (answer, n) = {
            let mut s = self
                .state
                .lock()
                .map_err(|_| crate::error::Error::new(crate::error::ErrorKind::Unavailable, "stub poisoned"))?;
            s.sent.push(message.clone());
            s.counter += 1;
            (s.script.pop_front().unwrap_or(StubAnswer::Accept), s.counter)
        };
        match answer {
            StubAnswer::Accept => Ok(crate::message::Receipt::new("stub", message, format!("stub-{n}"))),
            StubAnswer::Fail(kind, dispatch) => Err(crate::error::Error::new(kind, "scripted failure")
                .with_dispatch(dispatch)
                .with_provider("stub")),
        }
    }

    async fn status(&self, provider_id: &str) -> crate::error::Result<crate::message::StatusReport> {
        Ok(crate::message::StatusReport::new(
            provider_id,
            crate::message::DeliveryStatus::Delivered,
            "delivered",
        ))
    }
}

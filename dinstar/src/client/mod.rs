//! [`DinstarClient`]: one method per HTTP API operation, plus what production use needs on top —
//! batching, `user_id` allocation, chunked tracking, and reconciliation of sends that may have gone out.
//!
//! Every request goes through the Digest flow of [`crate::digest`] (one challenge, then pre-emptive
//! answers), and every answer is judged by its body's `error_code` — HTTP 200 carries errors too.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::FixedOffset;
use http::Method;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchboard_core::http::{DEFAULT_MAX_BODY, Reply};
use switchboard_core::{Dispatch, Error, ErrorKind, Idempotence, Result, RetryPolicy};
use url::Url;

use crate::SCHEME;
use crate::config::DinstarConfig;
use crate::digest::{DigestAuth, Exchange};
use crate::error::{Operation, code_error, is_success};
use crate::ids::UserIds;
use crate::model::*;

/// Placeholder the gateway replaces with each recipient's `text_param`, in order.
pub const PARAM_PLACEHOLDER: &str = "#param#";

/// What fetches the Digest challenge before a POST: small, idempotent, changes nothing.
const PROBE_PATH: &str = "api/query_sms_in_queue";

/// A client for one gateway. Cheap to clone (the connection pool, Digest session and id counter are
/// shared), and safe to use from many tasks.
#[derive(Clone)]
pub struct DinstarClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: DinstarConfig,
    http: reqwest::Client,
    /// The base URL with a trailing `/`, so `api/...` joins under any path prefix.
    base: Url,
    auth: DigestAuth,
    ids: UserIds,
    retry: RetryPolicy,
    offset: FixedOffset,
    learned_sn: Mutex<Option<String>>,
    sn_warned: AtomicBool,
}

impl fmt::Debug for DinstarClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DinstarClient")
            .field("base_url", &self.inner.config.base_url)
            .field("sn", &self.sn())
            .finish_non_exhaustive()
    }
}

mod batch;
mod tracking;

pub use batch::{Accepted, BatchOutcome, BatchRecipient, Reconciliation, SmsBatch, Submission};

impl DinstarClient {
    /// A client for the configured gateway. No request is made until the first call.
    pub fn new(config: DinstarConfig) -> Result<Self> {
        config.validate()?;
        let base = Url::parse(&format!("{}/", config.base_url.trim_end_matches('/')))
            .map_err(|_| Error::config("the Dinstar base URL is not a URL"))?;
        let key = format!(
            "{}:{}",
            base.host_str().unwrap_or_default(),
            base.port_or_known_default().unwrap_or_default()
        );
        let http = config.http_options().build_client()?;
        let offset = config
            .utc_offset()
            .ok_or_else(|| Error::config("the gateway's UTC offset is out of range"))?;
        Ok(DinstarClient {
            inner: Arc::new(Inner {
                auth: DigestAuth::new(key.clone(), &config.username, &config.password, config.auth_cooldown),
                retry: config.retry_policy(),
                ids: UserIds::for_gateway(&key),
                http,
                base,
                offset,
                learned_sn: Mutex::new(None),
                sn_warned: AtomicBool::new(false),
                config,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DinstarConfig {
        &self.inner.config
    }

    /// Where `user_id`s come from (hand it a store with [`UserIds::use_store`] so that every process
    /// draws from one sequence).
    pub fn user_ids(&self) -> &UserIds {
        &self.inner.ids
    }

    /// The gateway's serial number: configured, or learned from its answers.
    pub fn sn(&self) -> Option<String> {
        self.inner
            .config
            .sn
            .clone()
            .or_else(|| self.inner.learned_sn.lock().ok().and_then(|s| s.clone()))
    }

    /// The gateway clock's offset from UTC.
    pub fn utc_offset(&self) -> FixedOffset {
        self.inner.offset
    }

    /// Ends the cool-down after refused credentials and forgets the Digest challenge.
    pub fn reset_auth(&self) {
        self.inner.auth.reset();
    }

    /// Whether requests are refused because the gateway refused the credentials recently.
    pub fn auth_cooling_down(&self) -> bool {
        self.inner.auth.cooling_down()
    }

    // -----------------------------------------------------------------------------------------
    // The wire

    /// One HTTP exchange through the Digest flow.
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Bytes>,
    ) -> Result<Reply> {
        let mut url = self
            .inner
            .base
            .join(path)
            .map_err(|_| Error::config("could not build the request URL").with_provider(SCHEME))?;
        if !query.is_empty() {
            // `,` becomes %2C: one firmware answers "401 Wrong Password" to a raw comma.
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let uri = url[url::Position::BeforePath..url::Position::AfterQuery].to_owned();
        tracing::debug!(target: "switchboard_dinstar", method = %method, path, "request");
        let http = &self.inner.http;
        let probe = self.inner.base.join(PROBE_PATH).unwrap_or_else(|_| url.clone());
        let reply = self
            .inner
            .auth
            .send(method.as_str(), &uri, body.as_deref(), |exchange| {
                let rb = match exchange {
                    Exchange::Probe => http.get(probe.clone()),
                    Exchange::Plain | Exchange::Answer(_) => {
                        let mut rb = http.request(method.clone(), url.clone());
                        if let Some(b) = &body {
                            rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
                        }
                        if let Exchange::Answer(a) = exchange {
                            rb = rb.header(AUTHORIZATION, a);
                        }
                        rb
                    }
                };
                Reply::send(rb, DEFAULT_MAX_BODY)
            })
            .await
            .map_err(|e| e.with_provider(SCHEME))?;
        tracing::debug!(target: "switchboard_dinstar", path, status = reply.status.as_u16(), "answer");
        Ok(reply)
    }

    /// One request, its answer judged by `error_code` and decoded.
    async fn call_once<T: DeserializeOwned>(
        &self,
        op: Operation,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Bytes>,
    ) -> Result<T> {
        let reply = self.exchange(method, path, query, body).await?;
        let send = matches!(op, Operation::SendSms | Operation::SendUssd);
        if reply.status.as_u16() == 404 {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "the gateway has no /{path}: enable its HTTP API (\"new-version API\", firmware 1102 or later)"
                ),
            )
            .with_dispatch(Dispatch::NotSent)
            .with_http_status(404)
            .with_provider(SCHEME));
        }
        if !reply.is_success() {
            return Err(reply.status_error().with_provider(SCHEME));
        }
        let undecodable = |e: Error| {
            let e = e.with_provider(SCHEME);
            // An unreadable answer to a send says nothing about whether the task was queued.
            if send { e.with_dispatch(Dispatch::MaybeSent) } else { e }
        };
        let value: Value = reply.json().map_err(undecodable)?;
        let code = match value.get("error_code") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .ok_or_else(|| undecodable(Error::decode("the answer's error_code is not a number")))?,
            ),
        };
        match code {
            Some(c) if is_success(c) => {}
            Some(c) => return Err(code_error(op, c, Some(&reply.excerpt()))),
            // Only get_status is known to answer without an envelope.
            None if path == "api/get_status" => {}
            None => {
                return Err(undecodable(
                    Error::decode("the answer carries no error_code").with_provider_text(reply.excerpt()),
                ));
            }
        }
        if let Some(sn) = value.get("sn").and_then(Value::as_str) {
            self.learn_sn(sn);
        }
        serde_json::from_value(value).map_err(|e| {
            undecodable(
                Error::decode(format!("the gateway's answer has an unexpected shape ({e})"))
                    .with_provider_text(reply.excerpt()),
            )
        })
    }

    /// [`Self::call_once`] under the retry policy. Sends are not idempotent: only failures that
    /// certainly did not leave (`NotSent`) are repeated.
    async fn call<T: DeserializeOwned>(
        &self,
        op: Operation,
        method: Method,
        path: &str,
        query: Vec<(&str, String)>,
        body: Option<Bytes>,
    ) -> Result<T> {
        let idempotence = match op {
            Operation::Query | Operation::StopSms => Idempotence::Idempotent,
            Operation::SendSms | Operation::SendUssd | Operation::SetPortInfo => Idempotence::NotIdempotent,
        };
        self.inner
            .retry
            .run(idempotence, || {
                self.call_once(op, method.clone(), path, &query, body.clone())
            })
            .await
    }

    fn learn_sn(&self, sn: &str) {
        if let Some(configured) = &self.inner.config.sn
            && configured != sn
            && !self.inner.sn_warned.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                target: "switchboard_dinstar",
                configured = %configured, answered = %sn,
                "the gateway's serial number differs from the configured one"
            );
        }
        if let Ok(mut l) = self.inner.learned_sn.lock()
            && l.as_deref() != Some(sn)
        {
            *l = Some(sn.to_owned());
        }
    }

    fn json_body<T: serde::Serialize>(value: &T) -> Result<Bytes> {
        serde_json::to_vec(value)
            .map(Bytes::from)
            .map_err(|e| Error::invalid_input(format!("the request could not be encoded ({e})")).with_provider(SCHEME))
    }

    // -----------------------------------------------------------------------------------------
    // One method per operation of the HTTP API

    /// `POST /api/send_sms`: one request, as given (at most 128 recipients, text at most 1500 bytes).
    /// Prefer [`DinstarClient::send_batch`], which splits, allocates ids and chooses the encoding.
    pub async fn send_sms(&self, request: &SendSmsRequest) -> Result<SendSmsResponse> {
        if request.param.is_empty() {
            return Err(input("send_sms needs at least one recipient"));
        }
        if request.param.len() > MAX_RECIPIENTS_PER_SEND {
            return Err(input(format!(
                "send_sms takes at most {MAX_RECIPIENTS_PER_SEND} recipients per request, not {}",
                request.param.len()
            )));
        }
        check_text(&request.text)?;
        if let Some(p) = request
            .param
            .iter()
            .find(|p| p.number.is_empty() || p.number.len() > MAX_NUMBER_BYTES)
        {
            return Err(input(format!(
                "a number must be 1 to {MAX_NUMBER_BYTES} bytes, not {}",
                p.number.len()
            )));
        }
        check_ports(request.port.as_deref().unwrap_or_default())?;
        let body = Self::json_body(request)?;
        self.call(Operation::SendSms, Method::POST, "api/send_sms", Vec::new(), Some(body))
            .await
    }

    /// `POST /api/query_sms_result` (at most 32 numbers).
    pub async fn query_sms_result(&self, query: &SmsResultQuery) -> Result<SmsResultResponse> {
        check_query_numbers(query.number.as_deref())?;
        let body = Self::json_body(query)?;
        self.call(
            Operation::Query,
            Method::POST,
            "api/query_sms_result",
            Vec::new(),
            Some(body),
        )
        .await
    }

    /// `POST /api/query_sms_deliver_status` (at most 32 numbers).
    pub async fn query_sms_deliver_status(&self, query: &DeliverStatusQuery) -> Result<DeliverStatusResponse> {
        check_query_numbers(query.number.as_deref())?;
        let body = Self::json_body(query)?;
        self.call(
            Operation::Query,
            Method::POST,
            "api/query_sms_deliver_status",
            Vec::new(),
            Some(body),
        )
        .await
    }

    /// `GET /api/query_incoming_sms`. For polling without losing messages use
    /// [`IncomingPoller`](crate::IncomingPoller).
    pub async fn query_incoming_sms(&self, query: &IncomingSmsQuery) -> Result<IncomingSmsResponse> {
        check_ports(&query.ports)?;
        let mut q = vec![
            ("incoming_sms_id", query.incoming_sms_id.to_string()),
            ("flag", query.flag.as_str().to_owned()),
        ];
        if !query.ports.is_empty() {
            q.push(("port", join(&query.ports)));
        }
        self.call(Operation::Query, Method::GET, "api/query_incoming_sms", q, None)
            .await
    }

    /// `GET /api/query_sms_in_queue`: how many messages wait to be sent.
    pub async fn query_sms_in_queue(&self) -> Result<InQueueResponse> {
        self.call(
            Operation::Query,
            Method::GET,
            "api/query_sms_in_queue",
            Vec::new(),
            None,
        )
        .await
    }

    /// `GET /api/stop_sms`: stops a task's messages not yet sent. A task the gateway does not know
    /// is `NotFound`.
    pub async fn stop_sms(&self, task_id: u64) -> Result<Envelope> {
        self.call(
            Operation::StopSms,
            Method::GET,
            "api/stop_sms",
            vec![("task_id", task_id.to_string())],
            None,
        )
        .await
    }

    /// `POST /api/send_ussd` with `command=send`. The envelope's 202 does not mean it went out:
    /// check each port's status ([`UssdResponse::sent_ports`], [`UssdPortResult::port_status`]).
    /// USSD replies carry no correlation id, so send one request per port at a time.
    pub async fn send_ussd(&self, ports: &[Port], text: &str) -> Result<UssdResponse> {
        if text.is_empty() || text.len() > MAX_USSD_BYTES {
            return Err(input(format!("USSD text must be 1 to {MAX_USSD_BYTES} bytes")));
        }
        self.ussd(ports, UssdCommand::Send, Some(text)).await
    }

    /// `POST /api/send_ussd` with `command=cancel`: ends the USSD sessions on these ports.
    pub async fn cancel_ussd(&self, ports: &[Port]) -> Result<UssdResponse> {
        self.ussd(ports, UssdCommand::Cancel, None).await
    }

    async fn ussd(&self, ports: &[Port], command: UssdCommand, text: Option<&str>) -> Result<UssdResponse> {
        if ports.is_empty() {
            return Err(input("USSD needs at least one port"));
        }
        check_ports(ports)?;
        let body = Self::json_body(&UssdRequest {
            port: ports.to_vec(),
            command,
            text: text.map(str::to_owned),
        })?;
        self.call(
            Operation::SendUssd,
            Method::POST,
            "api/send_ussd",
            Vec::new(),
            Some(body),
        )
        .await
    }

    /// `GET /api/query_ussd_reply`: the last USSD reply per port ([`UssdReply::text`] is `None`
    /// while nothing came).
    pub async fn query_ussd_reply(&self, ports: &[Port]) -> Result<UssdReplyResponse> {
        if ports.is_empty() {
            return Err(input("query_ussd_reply needs at least one port"));
        }
        check_ports(ports)?;
        self.call(
            Operation::Query,
            Method::GET,
            "api/query_ussd_reply",
            vec![("port", join(ports))],
            None,
        )
        .await
    }

    /// `GET /api/get_port_info`: `info` about `ports` (every port when empty; every documented info
    /// type when `info` is empty).
    pub async fn get_port_info(&self, ports: &[Port], info: &[InfoType]) -> Result<PortInfoResponse> {
        check_ports(ports)?;
        let info = if info.is_empty() { &InfoType::ALL[..] } else { info };
        let mut q = Vec::new();
        if !ports.is_empty() {
            q.push(("port", join(ports)));
        }
        q.push((
            "info_type",
            info.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(","),
        ));
        self.call(Operation::Query, Method::GET, "api/get_port_info", q, None)
            .await
    }

    /// `GET /api/set_port_info`: power, reset, slot, block, PIN, call forwarding….
    pub async fn set_port_info(&self, port: Port, action: &PortAction) -> Result<Envelope> {
        check_ports(&[port])?;
        let mut q = vec![("port", port.to_string())];
        q.extend(action.query());
        self.call(Operation::SetPortInfo, Method::GET, "api/set_port_info", q, None)
            .await
    }

    /// `POST /api/get_cdr`: call records.
    pub async fn get_cdr(&self, query: &CdrQuery) -> Result<CdrResponse> {
        check_ports(query.port.as_deref().unwrap_or_default())?;
        let body = Self::json_body(query)?;
        self.call(Operation::Query, Method::POST, "api/get_cdr", Vec::new(), Some(body))
            .await
    }

    /// `POST /api/get_status` with the body `["performance"]` (a GET answers 403 on real units).
    pub async fn get_status(&self) -> Result<DeviceStatus> {
        let body = Self::json_body(&json!(["performance"]))?;
        self.call(Operation::Query, Method::POST, "api/get_status", Vec::new(), Some(body))
            .await
    }
}

pub(super) fn input(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::invalid_input(message).with_provider(SCHEME)
}

pub(super) fn check_text(text: &str) -> Result<()> {
    if text.is_empty() {
        return Err(input("the SMS text is empty"));
    }
    if text.len() > MAX_TEXT_BYTES {
        return Err(input(format!(
            "the SMS text is {} bytes; the gateway takes at most {MAX_TEXT_BYTES}",
            text.len()
        )));
    }
    Ok(())
}

pub(super) fn check_ports(ports: &[Port]) -> Result<()> {
    match ports.iter().find(|p| **p > MAX_PORT) {
        Some(p) => Err(input(format!("port {p} is out of range 0–{MAX_PORT}"))),
        None => Ok(()),
    }
}

pub(super) fn check_query_numbers(numbers: Option<&[String]>) -> Result<()> {
    let n = numbers.map_or(0, <[String]>::len);
    if n > MAX_NUMBERS_PER_QUERY {
        return Err(input(format!(
            "a query takes at most {MAX_NUMBERS_PER_QUERY} numbers, not {n}"
        )));
    }
    Ok(())
}

pub(super) fn join(ports: &[Port]) -> String {
    ports.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

pub(super) fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

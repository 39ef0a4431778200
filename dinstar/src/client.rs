//! [`DinstarClient`]: one method per HTTP API operation, plus what production use needs on top —
//! batching, `user_id` allocation, chunked tracking, and reconciliation of sends that may have gone out.
//!
//! Every request goes through the Digest flow of [`crate::digest`] (one challenge, then pre-emptive
//! answers), and every answer is judged by its body's `error_code` — HTTP 200 carries errors too.

use std::collections::HashMap;
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
use switchboard_core::{
    Dispatch, Error, ErrorKind, Idempotence, PhoneNumber, Recipient, Result, RetryPolicy, Segmentation, StatusReport,
};
use url::Url;

use crate::SCHEME;
use crate::config::DinstarConfig;
use crate::digest::{DigestAuth, Exchange};
use crate::error::{Operation, code_error, is_success};
use crate::ids::UserIds;
use crate::model::*;
use crate::reconcile::{self, Finding, Sought};

/// Placeholder the gateway replaces with each recipient's `text_param`, in order.
pub const PARAM_PLACEHOLDER: &str = "#param#";

/// What fetches the Digest challenge before a POST: small, idempotent, changes nothing.
const PROBE_PATH: &str = "api/query_sms_in_queue";

/// How often reconciliation re-sends what the gateway did not know before giving up.
const RECONCILE_ROUNDS: usize = 2;

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

/// One recipient of an [`SmsBatch`].
#[derive(Clone, PartialEq, Eq)]
pub struct BatchRecipient {
    /// The number.
    pub number: PhoneNumber,
    /// Values for the text's `#param#` placeholders, in order.
    pub params: Vec<String>,
    /// A `user_id` to use (a re-send keeps its first id); `None` takes a fresh one.
    pub user_id: Option<u32>,
}

impl BatchRecipient {
    /// A recipient with no parameters and a fresh id.
    pub fn new(number: PhoneNumber) -> Self {
        BatchRecipient {
            number,
            params: Vec::new(),
            user_id: None,
        }
    }

    /// Sets the template parameters.
    pub fn with_params<S: Into<String>>(mut self, params: impl IntoIterator<Item = S>) -> Self {
        self.params = params.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the `user_id`.
    pub fn with_user_id(mut self, user_id: u32) -> Self {
        self.user_id = Some(user_id);
        self
    }
}

impl fmt::Debug for BatchRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRecipient")
            .field("number", &self.number)
            .field("params", &self.params.len())
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// One text to many recipients, split into requests of at most 128 (the gateway's limit).
///
/// ```
/// use switchboard_core::PhoneNumber;
/// use switchboard_dinstar::{SmsBatch, SmsEncoding};
///
/// let batch = SmsBatch::new("Dear #param#, your order #param# is ready")
///     .to_with_params("+355694123456".parse::<PhoneNumber>()?, ["Ana", "A-17"])
///     .to_with_params("+355694123457".parse::<PhoneNumber>()?, ["Besa", "A-18"])
///     .ports([0, 1]);
/// assert_eq!(batch.recipients().len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct SmsBatch {
    text: String,
    recipients: Vec<BatchRecipient>,
    ports: Option<Vec<Port>>,
    encoding: Option<SmsEncoding>,
    request_status_report: Option<bool>,
}

impl SmsBatch {
    /// A batch of `text` (with `#param#` placeholders, if any) and no recipients yet.
    pub fn new(text: impl Into<String>) -> Self {
        SmsBatch {
            text: text.into(),
            recipients: Vec::new(),
            ports: None,
            encoding: None,
            request_status_report: None,
        }
    }

    /// Adds a recipient.
    pub fn to(mut self, number: PhoneNumber) -> Self {
        self.recipients.push(BatchRecipient::new(number));
        self
    }

    /// Adds recipients.
    pub fn to_all(mut self, numbers: impl IntoIterator<Item = PhoneNumber>) -> Self {
        self.recipients.extend(numbers.into_iter().map(BatchRecipient::new));
        self
    }

    /// Adds a recipient with template parameters.
    pub fn to_with_params<S: Into<String>>(mut self, number: PhoneNumber, params: impl IntoIterator<Item = S>) -> Self {
        self.recipients.push(BatchRecipient::new(number).with_params(params));
        self
    }

    /// Adds a fully specified recipient.
    pub fn recipient(mut self, r: BatchRecipient) -> Self {
        self.recipients.push(r);
        self
    }

    /// Sends from these ports (instead of the configured ones).
    pub fn ports(mut self, ports: impl IntoIterator<Item = Port>) -> Self {
        self.ports = Some(ports.into_iter().collect());
        self
    }

    /// Forces an encoding (instead of choosing by the text).
    pub fn encoding(mut self, encoding: SmsEncoding) -> Self {
        self.encoding = Some(encoding);
        self
    }

    /// Asks for delivery reports, or not (instead of the configured choice).
    pub fn request_status_report(mut self, on: bool) -> Self {
        self.request_status_report = Some(on);
        self
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The recipients.
    pub fn recipients(&self) -> &[BatchRecipient] {
        &self.recipients
    }
}

impl fmt::Debug for SmsBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsBatch")
            .field("text_bytes", &self.text.len())
            .field("recipients", &self.recipients.len())
            .field("ports", &self.ports)
            .field("encoding", &self.encoding)
            .field("request_status_report", &self.request_status_report)
            .finish()
    }
}

/// What the gateway said when it took a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accepted {
    /// The task id (for [`DinstarClient::stop_sms`]); `None` when the acceptance was established by
    /// reconciliation rather than by the answer.
    pub task_id: Option<u64>,
    /// Messages waiting in the gateway's queue.
    pub sms_in_queue: Option<u64>,
    /// The gateway's serial number.
    pub sn: Option<String>,
    /// `true` when the answer was lost and `query_sms_result` showed the gateway had it.
    pub reconciled: bool,
}

/// The outcome for one recipient of a batch.
#[derive(Debug)]
#[non_exhaustive]
pub struct Submission {
    /// The `user_id` it was sent with: the key of status lookups.
    pub user_id: u32,
    /// The recipient.
    pub number: PhoneNumber,
    /// Whether the gateway took it. An error's dispatch fact says whether it may have gone out
    /// anyway (`MaybeSent` is left only when reconciliation could not tell).
    pub outcome: Result<Accepted>,
}

/// The outcome of a batch: one [`Submission`] per recipient, in the batch's order.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchOutcome {
    /// Per recipient, in order.
    pub submissions: Vec<Submission>,
    /// `send_sms` requests made (first tries and re-sends).
    pub requests: usize,
}

impl BatchOutcome {
    /// Whether every recipient was accepted.
    pub fn all_accepted(&self) -> bool {
        self.submissions.iter().all(|s| s.outcome.is_ok())
    }

    /// The ids of the accepted recipients.
    pub fn accepted_ids(&self) -> Vec<u32> {
        self.submissions
            .iter()
            .filter(|s| s.outcome.is_ok())
            .map(|s| s.user_id)
            .collect()
    }
}

/// What [`DinstarClient::reconcile`] found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reconciliation {
    /// The gateway's records of the ids it knows.
    pub landed: Vec<SmsResult>,
    /// Ids the gateway does not know: they did not land, and sending them again cannot duplicate.
    pub missing: Vec<u32>,
}

/// A batch validated and ready to send: the encoding chosen, ids allocated.
struct Plan {
    text: String,
    encoding: SmsEncoding,
    ports: Option<Vec<Port>>,
    report: bool,
    items: Vec<(PhoneNumber, SmsParam)>,
}

impl Plan {
    /// What a lookup of item `i` looks for: its id, number and its text's part count.
    fn sought(&self, i: usize) -> Option<Sought> {
        let (_, p) = self.items.get(i)?;
        let text = fill(&self.text, &p.text_param);
        Some(Sought::new(p.user_id, p.number.clone(), &text, self.encoding))
    }
}

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

    // -----------------------------------------------------------------------------------------
    // Sending

    /// Sends a batch: validates it, chooses the encoding, gives each recipient a unique `user_id`,
    /// and makes one `send_sms` request per 128 recipients (or the configured batch size).
    ///
    /// Nothing is sent when the batch is invalid (no recipients, empty text, text over 1500 bytes,
    /// wrong number of template parameters, a forced GSM-7 encoding the text does not fit): that is an
    /// `InvalidInput` error. Otherwise each recipient gets its own outcome; a request that failed in a
    /// way that may have reached the gateway is `MaybeSent` — [`DinstarClient::send_batch_reconciled`]
    /// resolves those.
    pub async fn send_batch(&self, batch: &SmsBatch) -> Result<BatchOutcome> {
        let plan = self.plan(batch).await?;
        let all: Vec<usize> = (0..plan.items.len()).collect();
        let mut outcomes: Vec<Option<Result<Accepted>>> = (0..plan.items.len()).map(|_| None).collect();
        let requests = self.send_planned(&plan, &all, &mut outcomes).await;
        Ok(finish(plan, outcomes, requests))
    }

    /// [`DinstarClient::send_batch`], then, for every request whose answer was lost (timeout,
    /// dropped connection, unreadable answer, error_code 500), a lookup by `user_id`: what the
    /// gateway has is reported accepted, what it does not have is sent again with the same ids.
    /// So a retry never duplicates an SMS. What stays uncertain (the lookup itself failed) is left
    /// `MaybeSent`.
    pub async fn send_batch_reconciled(&self, batch: &SmsBatch) -> Result<BatchOutcome> {
        let plan = self.plan(batch).await?;
        let all: Vec<usize> = (0..plan.items.len()).collect();
        let mut outcomes: Vec<Option<Result<Accepted>>> = (0..plan.items.len()).map(|_| None).collect();
        let mut requests = self.send_planned(&plan, &all, &mut outcomes).await;
        for round in 0..RECONCILE_ROUNDS {
            let uncertain: Vec<usize> = outcomes
                .iter()
                .enumerate()
                .filter(|(_, o)| matches!(o, Some(Err(e)) if e.dispatch() == Dispatch::MaybeSent))
                .map(|(i, _)| i)
                .collect();
            if uncertain.is_empty() {
                break;
            }
            let sought: Vec<Sought> = uncertain.iter().filter_map(|i| plan.sought(*i)).collect();
            let found = match self.find(&sought).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(target: "switchboard_dinstar", error = %e, "reconciliation lookup failed; sends stay uncertain");
                    break;
                }
            };
            let mut missing = Vec::new();
            for i in uncertain {
                let Some((_, p)) = plan.items.get(i) else { continue };
                match found.get(&p.user_id) {
                    Some(Finding::Landed(_)) => {
                        outcomes[i] = Some(Ok(Accepted {
                            task_id: None,
                            sms_in_queue: None,
                            sn: self.sn(),
                            reconciled: true,
                        }))
                    }
                    Some(Finding::Absent) => missing.push(i),
                    // Another text under this id and number: neither sent nor safe to send again.
                    Some(Finding::Ambiguous(_)) | None => {
                        if let Some(Some(Err(e))) = outcomes.get_mut(i) {
                            let msg = format!(
                                "{}; the gateway has an SMS to this number under the same user_id {} with another \
                                 part count, so whether this one went out cannot be told",
                                e.message(),
                                p.user_id
                            );
                            *e = e.replicate().with_message(msg);
                        }
                    }
                }
            }
            if missing.is_empty() {
                break;
            }
            tracing::info!(
                target: "switchboard_dinstar",
                round, count = missing.len(),
                "the gateway does not know these ids; sending them again"
            );
            requests += self.send_planned(&plan, &missing, &mut outcomes).await;
        }
        Ok(finish(plan, outcomes, requests))
    }

    /// Looks `user_ids` up with `query_sms_result` (32 per request): which ones the gateway has
    /// (they landed) and which it does not (sending them again cannot duplicate). Any record under an
    /// id counts, whatever its number: to reconcile one message, which also checks the number and the
    /// text's part count, use [`DinstarTransport::reconcile`](crate::DinstarTransport).
    ///
    /// An id the gateway does not know is looked up again until [`DinstarConfig::reconcile_window`] has
    /// passed: a gateway records a task when its queue gets to it, possibly seconds after the request.
    pub async fn reconcile(&self, user_ids: &[u32]) -> Result<Reconciliation> {
        let sought: Vec<Sought> = user_ids.iter().map(|id| Sought::by_id(*id)).collect();
        let found = self.find(&sought).await?;
        let mut landed: Vec<SmsResult> = Vec::new();
        let mut missing = Vec::new();
        for id in user_ids {
            match found.get(id) {
                Some(Finding::Landed(r) | Finding::Ambiguous(r)) => landed.push(r.clone()),
                _ => missing.push(*id),
            }
        }
        Ok(Reconciliation { landed, missing })
    }

    /// What the gateway has of these SMS, looked up until found or until the reconciliation window
    /// has passed (see [`crate::reconcile`]).
    pub(crate) async fn find(&self, sought: &[Sought]) -> Result<HashMap<u32, Finding>> {
        reconcile::find(sought, self.inner.config.reconcile_window, |ids| async move {
            self.sms_results(&ids).await
        })
        .await
    }

    /// How this client writes `number` for the gateway and which encoding it sends `text` in (as a
    /// send of that text alone would choose), for looking a message up.
    pub(crate) fn sought(&self, user_id: u32, number: &PhoneNumber, text: &str) -> Sought {
        let encoding = match self.inner.config.encoding {
            Some(e) => e,
            None => SmsEncoding::for_text(text),
        };
        Sought::new(user_id, self.inner.config.number_format.format(number), text, encoding)
    }

    async fn plan(&self, batch: &SmsBatch) -> Result<Plan> {
        if batch.recipients.is_empty() {
            return Err(input("the batch has no recipients"));
        }
        check_text(&batch.text)?;
        let placeholders = batch.text.matches(PARAM_PLACEHOLDER).count();
        let mut filled_texts = Vec::with_capacity(if placeholders > 0 { batch.recipients.len() } else { 0 });
        for r in &batch.recipients {
            if r.params.len() != placeholders {
                return Err(input(format!(
                    "the text has {placeholders} {PARAM_PLACEHOLDER} placeholder(s) but a recipient has {} parameter(s)",
                    r.params.len()
                )));
            }
            if placeholders > 0 {
                let filled = fill(&batch.text, &r.params);
                if filled.len() > MAX_TEXT_BYTES {
                    return Err(input(format!(
                        "a filled-in text is {} bytes; the gateway sends at most {MAX_TEXT_BYTES}",
                        filled.len()
                    )));
                }
                filled_texts.push(filled);
            }
        }
        let forced = batch.encoding.or(self.inner.config.encoding);
        let encoding = match forced {
            Some(SmsEncoding::Gsm7Bit) => {
                for t in std::iter::once(&batch.text).chain(filled_texts.iter()) {
                    Segmentation::with_encoding(t, switchboard_core::Encoding::Gsm7)
                        .map_err(|e| input(format!("the text cannot be sent as gsm-7bit ({e}); use unicode")))?;
                }
                SmsEncoding::Gsm7Bit
            }
            Some(SmsEncoding::Unicode) => SmsEncoding::Unicode,
            None => {
                let all_gsm = std::iter::once(&batch.text)
                    .chain(filled_texts.iter())
                    .all(|t| SmsEncoding::for_text(t) == SmsEncoding::Gsm7Bit);
                if all_gsm {
                    SmsEncoding::Gsm7Bit
                } else {
                    SmsEncoding::Unicode
                }
            }
        };
        let ports = batch.ports.clone().unwrap_or_else(|| self.inner.config.ports.clone());
        check_ports(&ports)?;
        let fresh = batch.recipients.iter().filter(|r| r.user_id.is_none()).count();
        let mut fresh = if fresh > 0 {
            self.inner.ids.take(fresh).await?.into_iter()
        } else {
            Vec::new().into_iter()
        };
        let format = &self.inner.config.number_format;
        let items = batch
            .recipients
            .iter()
            .map(|r| {
                let user_id = r
                    .user_id
                    .or_else(|| fresh.next())
                    .ok_or_else(|| Error::new(ErrorKind::Unavailable, "ran out of user_ids").with_provider(SCHEME))?;
                let number = format.format(&r.number);
                Ok((
                    r.number.clone(),
                    SmsParam {
                        number,
                        text_param: r.params.clone(),
                        user_id,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Plan {
            text: batch.text.clone(),
            encoding,
            ports: (!ports.is_empty()).then_some(ports),
            report: batch
                .request_status_report
                .unwrap_or(self.inner.config.request_status_report),
            items,
        })
    }

    /// Sends the planned items at `indices`, in requests of `max_batch`, recording each outcome.
    async fn send_planned(&self, plan: &Plan, indices: &[usize], outcomes: &mut [Option<Result<Accepted>>]) -> usize {
        let mut requests = 0;
        for chunk in indices.chunks(self.inner.config.max_batch.clamp(1, MAX_RECIPIENTS_PER_SEND)) {
            let request = SendSmsRequest {
                text: plan.text.clone(),
                param: chunk
                    .iter()
                    .filter_map(|i| plan.items.get(*i))
                    .map(|(_, p)| p.clone())
                    .collect(),
                port: plan.ports.clone(),
                encoding: Some(plan.encoding),
                request_status_report: Some(plan.report),
            };
            requests += 1;
            let result = self.send_sms(&request).await;
            for i in chunk {
                if let Some(slot) = outcomes.get_mut(*i) {
                    *slot = Some(match &result {
                        Ok(r) => Ok(Accepted {
                            task_id: r.task_id,
                            sms_in_queue: r.sms_in_queue,
                            sn: r.sn.clone(),
                            reconciled: false,
                        }),
                        Err(e) => Err(e.replicate()),
                    });
                }
            }
        }
        requests
    }

    // -----------------------------------------------------------------------------------------
    // Tracking

    /// The result records of these ids (`query_sms_result`, 32 ids per request).
    pub async fn sms_results(&self, user_ids: &[u32]) -> Result<Vec<SmsResult>> {
        let mut out = Vec::new();
        for chunk in user_ids.chunks(MAX_NUMBERS_PER_QUERY) {
            let q = SmsResultQuery {
                user_id: Some(chunk.to_vec()),
                ..SmsResultQuery::default()
            };
            out.extend(self.query_sms_result(&q).await?.result);
        }
        Ok(out)
    }

    /// The delivery reports for these numbers (`query_sms_deliver_status`, 32 per request).
    pub async fn delivery_reports(&self, numbers: &[String]) -> Result<Vec<DeliverStatus>> {
        let mut out = Vec::new();
        for chunk in numbers.chunks(MAX_NUMBERS_PER_QUERY) {
            let q = DeliverStatusQuery {
                number: Some(chunk.to_vec()),
                ..DeliverStatusQuery::default()
            };
            out.extend(self.query_sms_deliver_status(&q).await?.result);
        }
        Ok(out)
    }

    /// Where each of these SMS is: its result record, refined by its delivery report when the
    /// network took it (`SENT_OK`) and reports were asked for. Ids the gateway does not know are
    /// left out. The report's `provider_id` is the `user_id`.
    pub async fn track(&self, user_ids: &[u32]) -> Result<Vec<StatusReport>> {
        let mut latest: HashMap<u32, SmsResult> = HashMap::new();
        for r in self.sms_results(user_ids).await? {
            let Some(id) = r.user_id else { continue };
            if !user_ids.contains(&id) {
                continue;
            }
            match latest.get(&id) {
                Some(prev) if prev.time > r.time => {}
                _ => {
                    latest.insert(id, r);
                }
            }
        }
        let mut reports: HashMap<(Option<Port>, Option<u32>, String), DeliverStatus> = HashMap::new();
        if self.inner.config.request_status_report {
            let mut numbers: Vec<String> = latest
                .values()
                .filter(|r| r.status == SmsStatus::SentOk)
                .map(|r| r.number.clone())
                .collect();
            numbers.sort();
            numbers.dedup();
            if !numbers.is_empty() {
                for d in self.delivery_reports(&numbers).await? {
                    let key = (d.port, d.ref_id, digits(&d.number));
                    match reports.get(&key) {
                        Some(prev) if prev.time > d.time => {}
                        _ => {
                            reports.insert(key, d);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        for id in user_ids {
            let Some(r) = latest.remove(id) else { continue };
            let report = if r.status == SmsStatus::SentOk {
                reports.get(&(r.port, r.ref_id, digits(&r.number)))
            } else {
                None
            };
            out.push(self.status_report(*id, r, report.cloned()));
        }
        Ok(out)
    }

    /// Where one SMS is, by its `user_id` ([`DinstarClient::track`] for one). `NotFound` when the
    /// gateway has no record of it.
    pub async fn status(&self, user_id: u32) -> Result<StatusReport> {
        self.track(&[user_id]).await?.pop().ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("the gateway has no SMS with user_id {user_id}"),
            )
            .with_provider(SCHEME)
        })
    }

    pub(crate) fn status_report(&self, user_id: u32, result: SmsResult, report: Option<DeliverStatus>) -> StatusReport {
        let (status, raw_status, code, time) = match &report {
            Some(d) => (
                d.delivery_status(),
                format!("{}/status_code={}", result.status, d.status_code),
                (d.status_code != 0).then_some(d.status_code),
                d.time.clone(),
            ),
            None => (
                result.status.delivery_status(),
                result.status.to_string(),
                None,
                result.time.clone(),
            ),
        };
        let mut s = StatusReport::new(user_id.to_string(), status, raw_status);
        if let Some(c) = code {
            s = s.with_error_code(c);
        }
        if let Some(n) = self.inner.config.number_format.parse(&result.number) {
            s = s.with_recipient(Recipient::Phone(n));
        }
        if let Some(t) = time.as_deref().and_then(|t| parse_gateway_time(t, self.inner.offset)) {
            s = s.with_at(t);
        }
        s.with_raw(json!({ "result": result, "deliver_status": report }))
    }

    /// The ids of pushed records that carry none, looked up by number and matched on port and
    /// `ref_id` (best effort: `None` where no record matches).
    pub(crate) async fn resolve_user_ids(
        &self,
        keys: &[(Option<Port>, Option<u32>, String)],
    ) -> Result<Vec<Option<u32>>> {
        let mut numbers: Vec<String> = keys.iter().map(|k| k.2.clone()).filter(|n| !n.is_empty()).collect();
        numbers.sort();
        numbers.dedup();
        let mut by_key: HashMap<(Option<Port>, Option<u32>, String), SmsResult> = HashMap::new();
        for chunk in numbers.chunks(MAX_NUMBERS_PER_QUERY) {
            let q = SmsResultQuery {
                number: Some(chunk.to_vec()),
                ..SmsResultQuery::default()
            };
            for r in self.query_sms_result(&q).await?.result {
                let key = (r.port, r.ref_id, digits(&r.number));
                match by_key.get(&key) {
                    Some(prev) if prev.time > r.time => {}
                    _ => {
                        by_key.insert(key, r);
                    }
                }
            }
        }
        Ok(keys
            .iter()
            .map(|(p, r, n)| by_key.get(&(*p, *r, digits(n))).and_then(|x| x.user_id))
            .collect())
    }
}

fn finish(plan: Plan, outcomes: Vec<Option<Result<Accepted>>>, requests: usize) -> BatchOutcome {
    let submissions = plan
        .items
        .into_iter()
        .zip(outcomes)
        .map(|((number, p), o)| Submission {
            user_id: p.user_id,
            number,
            outcome: o.unwrap_or_else(|| {
                Err(Error::new(ErrorKind::Unavailable, "this recipient was not sent")
                    .with_dispatch(Dispatch::NotSent)
                    .with_provider(SCHEME))
            }),
        })
        .collect();
    BatchOutcome { submissions, requests }
}

/// Replaces each `#param#` with the next parameter.
pub(crate) fn fill(text: &str, params: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + params.iter().map(String::len).sum::<usize>());
    let mut rest = text;
    let mut params = params.iter();
    while let Some(i) = rest.find(PARAM_PLACEHOLDER) {
        out.push_str(&rest[..i]);
        out.push_str(params.next().map(String::as_str).unwrap_or(PARAM_PLACEHOLDER));
        rest = &rest[i + PARAM_PLACEHOLDER.len()..];
    }
    out.push_str(rest);
    out
}

fn input(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::invalid_input(message).with_provider(SCHEME)
}

fn check_text(text: &str) -> Result<()> {
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

fn check_ports(ports: &[Port]) -> Result<()> {
    match ports.iter().find(|p| **p > MAX_PORT) {
        Some(p) => Err(input(format!("port {p} is out of range 0–{MAX_PORT}"))),
        None => Ok(()),
    }
}

fn check_query_numbers(numbers: Option<&[String]>) -> Result<()> {
    let n = numbers.map_or(0, <[String]>::len);
    if n > MAX_NUMBERS_PER_QUERY {
        return Err(input(format!(
            "a query takes at most {MAX_NUMBERS_PER_QUERY} numbers, not {n}"
        )));
    }
    Ok(())
}

fn join(ports: &[Port]) -> String {
    ports.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_in_order() {
        assert_eq!(fill("#param# and #param#", &["a".into(), "b".into()]), "a and b");
        assert_eq!(fill("no params", &[]), "no params");
        assert_eq!(fill("#param##param#", &["x".into()]), "x#param#");
    }
}

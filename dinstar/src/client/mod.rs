//! [`DinstarClient`]: one method per HTTP API operation, plus what production use needs on top —
//! batching, `user_id` allocation, chunked tracking, and reconciliation of sends that may have gone out.
//!
//! Every request goes through core's request pipeline over [`DinstarApi`]: the Digest flow of
//! [`crate::digest`] (one challenge, then pre-emptive answers) inside each attempt, every answer judged
//! by its body's `error_code` (HTTP 200 carries errors too, [`crate::error::parse_error`]), retries by
//! the dispatch rules.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::FixedOffset;
use http::Method;
use http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use switchboard_core::pipeline::Pipeline;
use switchboard_core::{Error, Result};
use url::Url;

use crate::SCHEME;
use crate::api::DinstarApi;
use crate::config::DinstarConfig;
use crate::digest::DigestAuth;
use crate::error::Operation;
use crate::ids::UserIds;
use crate::model::*;

/// Placeholder the gateway replaces with each recipient's `text_param`, in order.
pub const PARAM_PLACEHOLDER: &str = "#param#";

/// What fetches the Digest challenge before a POST: small, idempotent, changes nothing.
pub(crate) const PROBE_PATH: &str = "api/query_sms_in_queue";

/// A client for one gateway. Cheap to clone (the connection pool, Digest session and id counter are
/// shared), and safe to use from many tasks.
#[derive(Clone)]
pub struct DinstarClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: DinstarConfig,
    /// The HTTP client, retry policy and body cap, over the Digest flow and `error_code` reading.
    pipeline: Pipeline<DinstarApi>,
    /// The base URL with a trailing `/`, so `api/...` joins under any path prefix.
    base: Url,
    ids: UserIds,
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
        let probe = base
            .join(PROBE_PATH)
            .map_err(|_| Error::config("could not build the Digest probe URL"))?;
        let digest = DigestAuth::new(key.clone(), &config.username, &config.password, config.auth_cooldown);
        let pipeline = Pipeline::new(
            DinstarApi::new(digest, probe),
            &config.http_options(),
            config.retry_policy(),
        )?;
        let offset = config
            .utc_offset()
            .ok_or_else(|| Error::config("the gateway's UTC offset is out of range"))?;
        Ok(DinstarClient {
            inner: Arc::new(Inner {
                pipeline,
                ids: UserIds::for_gateway(&key),
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
        self.inner.pipeline.api().digest.reset();
    }

    /// Whether requests are refused because the gateway refused the credentials recently.
    pub fn auth_cooling_down(&self) -> bool {
        self.inner.pipeline.api().digest.cooling_down()
    }

    // -----------------------------------------------------------------------------------------
    // The wire

    /// One API call through the pipeline (Digest, `error_code`, retries by the operation's
    /// idempotence), its answer decoded. The operation is the path's last segment (`api/send_sms`).
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: Vec<(&str, String)>,
        body: Option<Bytes>,
    ) -> Result<T> {
        let op = Operation::of_endpoint(path.rsplit('/').next().unwrap_or(path));
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
        tracing::debug!(target: "switchboard_dinstar", method = %method, path, "request");
        let reply = self
            .inner
            .pipeline
            .reply(op.idempotence(), |http| {
                let request = http.request(method.clone(), url.clone());
                match &body {
                    Some(b) => request.header(CONTENT_TYPE, "application/json").body(b.clone()),
                    None => request,
                }
            })
            .await?;
        tracing::debug!(target: "switchboard_dinstar", path, status = reply.status.as_u16(), "answer");
        // `parse_error` read it as JSON with a success `error_code` already.
        let value: Value = reply.json().map_err(|e| op.undecodable(e))?;
        if let Some(sn) = value.get("sn").and_then(Value::as_str) {
            self.learn_sn(sn);
        }
        serde_json::from_value(value).map_err(|e| {
            op.undecodable(
                Error::decode(format!("the gateway's answer has an unexpected shape ({e})"))
                    .with_provider_text(reply.excerpt()),
            )
        })
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
        self.call(Method::POST, "api/send_sms", Vec::new(), Some(body)).await
    }

    /// `POST /api/query_sms_result` (at most 32 numbers).
    pub async fn query_sms_result(&self, query: &SmsResultQuery) -> Result<SmsResultResponse> {
        check_query_numbers(query.number.as_deref())?;
        let body = Self::json_body(query)?;
        self.call(Method::POST, "api/query_sms_result", Vec::new(), Some(body))
            .await
    }

    /// `POST /api/query_sms_deliver_status` (at most 32 numbers).
    pub async fn query_sms_deliver_status(&self, query: &DeliverStatusQuery) -> Result<DeliverStatusResponse> {
        check_query_numbers(query.number.as_deref())?;
        let body = Self::json_body(query)?;
        self.call(Method::POST, "api/query_sms_deliver_status", Vec::new(), Some(body))
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
        self.call(Method::GET, "api/query_incoming_sms", q, None).await
    }

    /// `GET /api/query_sms_in_queue`: how many messages wait to be sent.
    pub async fn query_sms_in_queue(&self) -> Result<InQueueResponse> {
        self.call(Method::GET, "api/query_sms_in_queue", Vec::new(), None).await
    }

    /// `GET /api/stop_sms`: stops a task's messages not yet sent. A task the gateway does not know
    /// is `NotFound`.
    pub async fn stop_sms(&self, task_id: u64) -> Result<Envelope> {
        self.call(
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
        self.call(Method::POST, "api/send_ussd", Vec::new(), Some(body)).await
    }

    /// `GET /api/query_ussd_reply`: the last USSD reply per port ([`UssdReply::text`] is `None`
    /// while nothing came).
    pub async fn query_ussd_reply(&self, ports: &[Port]) -> Result<UssdReplyResponse> {
        if ports.is_empty() {
            return Err(input("query_ussd_reply needs at least one port"));
        }
        check_ports(ports)?;
        self.call(Method::GET, "api/query_ussd_reply", vec![("port", join(ports))], None)
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
        self.call(Method::GET, "api/get_port_info", q, None).await
    }

    /// `GET /api/set_port_info`: power, reset, slot, block, PIN, call forwarding….
    pub async fn set_port_info(&self, port: Port, action: &PortAction) -> Result<Envelope> {
        check_ports(&[port])?;
        let mut q = vec![("port", port.to_string())];
        q.extend(action.query());
        self.call(Method::GET, "api/set_port_info", q, None).await
    }

    /// `POST /api/get_cdr`: call records.
    pub async fn get_cdr(&self, query: &CdrQuery) -> Result<CdrResponse> {
        check_ports(query.port.as_deref().unwrap_or_default())?;
        let body = Self::json_body(query)?;
        self.call(Method::POST, "api/get_cdr", Vec::new(), Some(body)).await
    }

    /// `POST /api/get_status` with the body `["performance"]` (a GET answers 403 on real units).
    pub async fn get_status(&self) -> Result<DeviceStatus> {
        let body = Self::json_body(&json!(["performance"]))?;
        self.call(Method::POST, "api/get_status", Vec::new(), Some(body)).await
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

//! The SMS.ru client: one async method per API method, each one HTTP request (plus retries where they
//! are safe).
//!
//! Every call is a form `POST` to `https://sms.ru/<method>` with the credentials and `json=1` in the
//! body (never in the URL, so they cannot end up in an access log). SMS.ru answers HTTP 200 with the
//! outcome in the body; a top-level `ERROR` becomes an [`Error`] through the code table
//! ([`super::error`]). A non-200 answer (a proxy, an outage) falls back to core's HTTP mapping.
//!
//! Reads (`status`, `cost`, `balance`, …) are retried on temporary failures. `send` is retried only
//! when SMS.ru certainly did not take it (a refused connection, codes 220/500), never after a timeout.

use serde::de::DeserializeOwned;
use serde_json::Value;
use switchboard_core::http::Reply;
use switchboard_core::{Dispatch, Error, ErrorKind, Idempotence, Result};

use super::SCHEME;
use super::config::Config;
use super::error::code_error;
use super::model::{
    BalanceResponse, CallbacksResponse, CostResponse, Envelope, SendRequest, SendResponse, SendersResponse,
    StatusResponse, UsageResponse,
};

/// The most message ids one `sms/status` request asks about.
pub const MAX_STATUS_IDS: usize = 100;

/// An SMS.ru API client. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    config: std::sync::Arc<Config>,
    http: reqwest::Client,
}

/// What a failed decode of a reply means for the dispatch fact: for a send, SMS.ru may have taken the
/// message even though we cannot read its answer.
#[derive(Clone, Copy)]
enum Op {
    Send,
    Read,
}

impl Client {
    /// A client for this configuration.
    pub fn new(config: Config) -> Result<Client> {
        config.validate()?;
        let http = config.http.build_client().map_err(|e| e.with_provider(SCHEME))?;
        Ok(Client {
            config: std::sync::Arc::new(config),
            http,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `sms/send`: sends one text to a list of numbers, or a text per number (at most
    /// [`MAX_RECIPIENTS_PER_REQUEST`](super::model::MAX_RECIPIENTS_PER_REQUEST) numbers).
    ///
    /// The config's sender, test mode, transliteration, lifetime and partner id apply where the
    /// request does not set them. A top-level refusal is an `Err`; refusals of single numbers are in
    /// the reply ([`SendResponse::result_for`], [`SmsResult::error`](super::model::SmsResult::error)).
    pub async fn send(&self, request: &SendRequest) -> Result<SendResponse> {
        Ok(self.send_raw(request).await?.0)
    }

    /// [`Client::send`], also returning SMS.ru's reply as raw JSON.
    pub async fn send_raw(&self, request: &SendRequest) -> Result<(SendResponse, Value)> {
        let request = self.with_defaults(request);
        request.validate().map_err(|e| e.with_provider(SCHEME))?;
        self.call(
            "sms/send",
            request.to_form(),
            Idempotence::NotIdempotent,
            Op::Send,
            "sending",
        )
        .await
    }

    /// `sms/cost`: what sending this request would cost, per number and in total. Sends nothing.
    pub async fn cost(&self, request: &SendRequest) -> Result<CostResponse> {
        let request = self.with_defaults(request);
        request.validate().map_err(|e| e.with_provider(SCHEME))?;
        let mut form = request.to_form();
        // sms/cost takes the recipients and text like sms/send, but none of the sending options.
        form.retain(|(k, _)| k.starts_with("to") || matches!(k.as_str(), "msg" | "from" | "translit"));
        Ok(self
            .call("sms/cost", form, Idempotence::Idempotent, Op::Read, "the cost lookup")
            .await?
            .0)
    }

    /// `sms/status`: the state of up to [`MAX_STATUS_IDS`] messages by id. Unknown ids come back with
    /// `status_code` `-1` in the reply, not as an error.
    pub async fn status(&self, sms_ids: &[&str]) -> Result<StatusResponse> {
        if sms_ids.is_empty() || sms_ids.len() > MAX_STATUS_IDS {
            return Err(
                Error::invalid_input(format!("ask about 1 to {MAX_STATUS_IDS} message ids at a time"))
                    .with_provider(SCHEME),
            );
        }
        if let Some(bad) = sms_ids.iter().find(|id| !is_valid_sms_id(id)) {
            return Err(Error::invalid_input(format!(
                "'{}' is not an SMS.ru message id (digits and '-')",
                bad.escape_debug()
            ))
            .with_provider(SCHEME));
        }
        let form = vec![("sms_id".to_owned(), sms_ids.join(","))];
        Ok(self
            .call(
                "sms/status",
                form,
                Idempotence::Idempotent,
                Op::Read,
                "the status lookup",
            )
            .await?
            .0)
    }

    /// `my/balance`: the account's balance in roubles.
    pub async fn balance(&self) -> Result<BalanceResponse> {
        Ok(self
            .call(
                "my/balance",
                Vec::new(),
                Idempotence::Idempotent,
                Op::Read,
                "the balance lookup",
            )
            .await?
            .0)
    }

    /// `my/limit`: the daily limit of numbers and how much of it is used.
    pub async fn limit(&self) -> Result<UsageResponse> {
        Ok(self
            .call(
                "my/limit",
                Vec::new(),
                Idempotence::Idempotent,
                Op::Read,
                "the limit lookup",
            )
            .await?
            .0)
    }

    /// `my/free`: the free messages (to the account's own number) and how many are used today.
    pub async fn free(&self) -> Result<UsageResponse> {
        Ok(self
            .call(
                "my/free",
                Vec::new(),
                Idempotence::Idempotent,
                Op::Read,
                "the free-message lookup",
            )
            .await?
            .0)
    }

    /// `my/senders`: the approved sender names.
    pub async fn senders(&self) -> Result<SendersResponse> {
        Ok(self
            .call(
                "my/senders",
                Vec::new(),
                Idempotence::Idempotent,
                Op::Read,
                "the sender lookup",
            )
            .await?
            .0)
    }

    /// `auth/check`: whether the credentials are good (an `Auth` error if not).
    pub async fn auth_check(&self) -> Result<()> {
        self.call::<Envelope>(
            "auth/check",
            Vec::new(),
            Idempotence::Idempotent,
            Op::Read,
            "the credential check",
        )
        .await
        .map(|_| ())
    }

    /// `callback/add`: registers a delivery-callback URL. Put the webhook secret in it
    /// (`https://host/hooks/smsru?token=SECRET`), since SMS.ru does not sign callbacks.
    pub async fn callback_add(&self, url: &str) -> Result<CallbacksResponse> {
        let form = vec![("url".to_owned(), url.to_owned())];
        Ok(self
            .call(
                "callback/add",
                form,
                Idempotence::Idempotent,
                Op::Read,
                "adding the callback",
            )
            .await?
            .0)
    }

    /// `callback/del`: removes a delivery-callback URL.
    pub async fn callback_del(&self, url: &str) -> Result<CallbacksResponse> {
        let form = vec![("url".to_owned(), url.to_owned())];
        Ok(self
            .call(
                "callback/del",
                form,
                Idempotence::Idempotent,
                Op::Read,
                "removing the callback",
            )
            .await?
            .0)
    }

    /// `callback/get`: the registered delivery-callback URLs.
    pub async fn callback_get(&self) -> Result<CallbacksResponse> {
        Ok(self
            .call(
                "callback/get",
                Vec::new(),
                Idempotence::Idempotent,
                Op::Read,
                "the callback lookup",
            )
            .await?
            .0)
    }

    /// The request with the config's defaults filled in where it has none.
    fn with_defaults(&self, request: &SendRequest) -> SendRequest {
        let c = &self.config;
        let mut r = request.clone();
        if r.from.is_none() {
            r.from.clone_from(&c.from);
        }
        if r.ttl_minutes.is_none() {
            r.ttl_minutes = c.ttl_minutes;
        }
        if r.partner_id.is_none() {
            r.partner_id.clone_from(&c.partner_id);
        }
        r.test |= c.test;
        r.translit |= c.translit;
        r
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Vec<(String, String)>,
        idempotence: Idempotence,
        op: Op,
        context: &str,
    ) -> Result<(T, Value)> {
        let url = self.config.method_url(method);
        let mut form = self.config.credentials.form();
        form.push(("json".to_owned(), "1".to_owned()));
        form.extend(params);
        let form = &form;
        let url = &url;
        self.config
            .retry
            .run(idempotence, || async move {
                let request = self.http.post(url).form(form);
                let reply = Reply::send(request, self.config.http.max_body)
                    .await
                    .map_err(|e| e.with_provider(SCHEME))?;
                decode_reply(&reply, op, context)
            })
            .await
    }
}

/// Message ids are digits and dashes (`000000-10000000`); anything else is refused before it is sent.
fn is_valid_sms_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

/// Whether a reply carries a message id for any number (`sms.{number}.sms_id`).
fn names_a_message(raw: &Value) -> bool {
    raw.get("sms").and_then(Value::as_object).is_some_and(|per| {
        per.values().any(|r| {
            r.get("sms_id")
                .and_then(Value::as_str)
                .is_some_and(|id| !id.trim().is_empty())
        })
    })
}

/// Turns an answer into the typed reply, or the error it stands for.
fn decode_reply<T: DeserializeOwned>(reply: &Reply, op: Op, context: &str) -> Result<(T, Value)> {
    if !reply.is_success() {
        return Err(reply.status_error().with_provider(SCHEME));
    }
    let unreadable = |e: Error| {
        let e = e.with_provider(SCHEME);
        match op {
            // The request reached SMS.ru and it answered something we cannot read: the message may well
            // have been queued.
            Op::Send => e.with_dispatch(Dispatch::MaybeSent),
            Op::Read => e,
        }
    };
    let raw: Value = reply.json().map_err(unreadable)?;
    let envelope: Envelope = serde_json::from_value(raw.clone()).map_err(|e| {
        unreadable(
            Error::decode(format!("the SMS.ru answer has no status/status_code ({e})"))
                .with_http_status(reply.status.as_u16())
                .with_provider_text(reply.excerpt()),
        )
    })?;
    if !envelope.is_ok() {
        let e = code_error(envelope.status_code, envelope.status_text.as_deref(), context)
            .with_http_status(reply.status.as_u16());
        // A refusal of the whole request that still hands out message ids contradicts itself: those
        // messages may exist.
        if matches!(op, Op::Send) && names_a_message(&raw) {
            return Err(e.with_dispatch(Dispatch::MaybeSent));
        }
        return Err(e);
    }
    let typed: T = serde_json::from_value(raw.clone()).map_err(|e| {
        unreadable(
            Error::new(
                ErrorKind::Decode,
                format!("the SMS.ru answer to {context} is not the shape expected ({e})"),
            )
            .with_http_status(reply.status.as_u16()),
        )
    })?;
    Ok((typed, raw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::{HeaderMap, StatusCode};

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn envelope_errors_map_through_the_table() {
        let e = decode_reply::<BalanceResponse>(
            &reply(
                200,
                r#"{"status":"ERROR","status_code":200,"status_text":"Неправильный api_id"}"#,
            ),
            Op::Read,
            "x",
        )
        .unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));
        assert_eq!(e.provider_code(), Some("200"));
    }

    #[test]
    fn garbage_on_a_send_may_have_been_sent() {
        let e = decode_reply::<SendResponse>(&reply(200, "<html>"), Op::Send, "sending").unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::MaybeSent));
        let e = decode_reply::<SendResponse>(&reply(200, r#"{"x":1}"#), Op::Send, "sending").unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::MaybeSent);
        let e = decode_reply::<BalanceResponse>(&reply(200, r#"{"status":"OK","status_code":100}"#), Op::Read, "x")
            .unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));
    }

    #[test]
    fn a_refusal_that_hands_out_ids_may_have_been_sent() {
        let body = r#"{"status":"ERROR","status_code":201,"sms":{"79255070602":{"status":"OK","status_code":100,"sms_id":"000000-1"}}}"#;
        let e = decode_reply::<SendResponse>(&reply(200, body), Op::Send, "sending").unwrap_err();
        assert_eq!((e.provider_code(), e.dispatch()), (Some("201"), Dispatch::MaybeSent));
        let plain = r#"{"status":"ERROR","status_code":201,"status_text":"Не хватает средств"}"#;
        let e = decode_reply::<SendResponse>(&reply(200, plain), Op::Send, "sending").unwrap_err();
        assert_eq!(e.dispatch(), Dispatch::NotSent);
    }

    #[test]
    fn http_errors_fall_back_to_core() {
        let e = decode_reply::<BalanceResponse>(&reply(503, "down"), Op::Read, "x").unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::NotSent));
        assert_eq!(e.provider(), Some("smsru"));
    }

    #[test]
    fn ids() {
        assert!(is_valid_sms_id("000000-10000000"));
        assert!(!is_valid_sms_id("1&api_id=x"));
        assert!(!is_valid_sms_id(""));
    }
}

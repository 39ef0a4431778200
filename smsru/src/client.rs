//! [`SmsRuClient`]: one async method per SMS.ru API method, each one `POST` through core's
//! [`Pipeline`].
//!
//! Every call is a form `POST` to `https://sms.ru/<method>` with `json=1` and, added by
//! [`SmsRuApi`], the credentials in the body. SMS.ru answers HTTP 200 with the outcome
//! in the body; [`parse_error`](crate::error::parse_error) turns a refusal into an [`Error`].
//!
//! Reads (`status`, `cost`, `balance`, …) are retried on temporary failures. `send` is retried only
//! when SMS.ru certainly did not take it (a refused connection, codes `220`/`500`), never after a
//! timeout; an answer to a send that cannot be read is `MaybeSent`, since SMS.ru may have queued it.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use switchboard_core::pipeline::Pipeline;
use switchboard_core::{Dispatch, Error, ErrorKind, Idempotence, Result};

use crate::SCHEME;
use crate::api::SmsRuApi;
use crate::config::SmsRuConfig;
use crate::model::{
    BalanceResponse, CallbacksResponse, CostResponse, SendRequest, SendResponse, SendersResponse, StatusResponse,
    UsageResponse,
};

/// The most message ids one `sms/status` request asks about.
pub const MAX_STATUS_IDS: usize = 100;

/// An SMS.ru API client. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct SmsRuClient {
    config: Arc<SmsRuConfig>,
    pipeline: Arc<Pipeline<SmsRuApi>>,
}

/// A form for one API method: its fields, with `json=1`.
type Form = Vec<(String, String)>;

impl SmsRuClient {
    /// A client for this configuration.
    pub fn new(config: SmsRuConfig) -> Result<SmsRuClient> {
        config.validate()?;
        let api = SmsRuApi::new(config.credentials.clone());
        let pipeline = Pipeline::new(api, &config.http, config.retry.clone())?;
        Ok(SmsRuClient {
            config: Arc::new(config),
            pipeline: Arc::new(pipeline),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SmsRuConfig {
        &self.config
    }

    /// `sms/send`: sends one text to a list of numbers, or a text per number (at most
    /// [`MAX_RECIPIENTS_PER_REQUEST`](crate::model::MAX_RECIPIENTS_PER_REQUEST) numbers).
    ///
    /// The config's sender, test mode, transliteration, lifetime and partner id apply where the
    /// request does not set them. A top-level refusal is an `Err`; refusals of single numbers are in
    /// the reply ([`SendResponse::result_for`], [`SmsResult::error`](crate::model::SmsResult::error)).
    pub async fn send(&self, request: &SendRequest) -> Result<SendResponse> {
        let request = self.with_defaults(request);
        request.validate().map_err(|e| e.with_provider(SCHEME))?;
        let answer = self
            .pipeline
            .reply(Idempotence::NotIdempotent, self.post("sms/send", request.to_form()))
            .await;
        answer
            .and_then(|reply| self.pipeline.decode(&reply))
            .map_err(maybe_queued)
    }

    /// `sms/cost`: what sending this request would cost, per number and in total. Sends nothing.
    pub async fn cost(&self, request: &SendRequest) -> Result<CostResponse> {
        let request = self.with_defaults(request);
        request.validate().map_err(|e| e.with_provider(SCHEME))?;
        let mut form = request.to_form();
        // sms/cost takes the recipients and text like sms/send, but none of the sending options.
        form.retain(|(k, _)| k.starts_with("to") || matches!(k.as_str(), "msg" | "from" | "translit"));
        self.read("sms/cost", form).await
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
        self.read("sms/status", vec![("sms_id".to_owned(), sms_ids.join(","))])
            .await
    }

    /// `my/balance`: the account's balance in roubles.
    pub async fn balance(&self) -> Result<BalanceResponse> {
        self.read("my/balance", Vec::new()).await
    }

    /// `my/limit`: the daily limit of numbers and how much of it is used.
    pub async fn limit(&self) -> Result<UsageResponse> {
        self.read("my/limit", Vec::new()).await
    }

    /// `my/free`: the free messages (to the account's own number) and how many are used today.
    pub async fn free(&self) -> Result<UsageResponse> {
        self.read("my/free", Vec::new()).await
    }

    /// `my/senders`: the approved sender names.
    pub async fn senders(&self) -> Result<SendersResponse> {
        self.read("my/senders", Vec::new()).await
    }

    /// `auth/check`: whether the credentials are good (an `Auth` error if not).
    pub async fn auth_check(&self) -> Result<()> {
        self.pipeline
            .reply(Idempotence::Idempotent, self.post("auth/check", Vec::new()))
            .await
            .map(|_| ())
    }

    /// `callback/add`: registers a delivery-callback URL. Put the webhook secret in it
    /// (`https://host/hooks/smsru?token=SECRET`), since SMS.ru does not sign callbacks.
    pub async fn callback_add(&self, url: &str) -> Result<CallbacksResponse> {
        self.read("callback/add", vec![("url".to_owned(), url.to_owned())])
            .await
    }

    /// `callback/del`: removes a delivery-callback URL.
    pub async fn callback_del(&self, url: &str) -> Result<CallbacksResponse> {
        self.read("callback/del", vec![("url".to_owned(), url.to_owned())])
            .await
    }

    /// `callback/get`: the registered delivery-callback URLs.
    pub async fn callback_get(&self) -> Result<CallbacksResponse> {
        self.read("callback/get", Vec::new()).await
    }

    /// A method that changes no message (a read, or a callback registration, which is the same
    /// whether it runs once or twice): retried on any temporary failure.
    async fn read<T: DeserializeOwned>(&self, method: &str, form: Form) -> Result<T> {
        self.pipeline
            .json(Idempotence::Idempotent, self.post(method, form))
            .await
    }

    /// The request for one API method, built afresh for every attempt.
    fn post(&self, method: &str, mut form: Form) -> impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync {
        let url = self.config.method_url(method);
        form.push(("json".to_owned(), "1".to_owned()));
        move |http| http.post(&url).form(&form)
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
}

/// An answer to a send that cannot be read came from SMS.ru (or something in front of it) after the
/// request arrived: the message may well have been queued, so it is `MaybeSent`.
fn maybe_queued(e: Error) -> Error {
    if e.kind() == ErrorKind::Decode {
        e.with_dispatch(Dispatch::MaybeSent)
    } else {
        e
    }
}

/// Message ids are digits and dashes (`000000-10000000`); anything else is refused before it is sent.
fn is_valid_sms_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use switchboard_core::http::{HttpOptions, Reply};
    use switchboard_core::pipeline::Api;
    use switchboard_core::{Dispatch, RetryPolicy};

    use crate::config::Credentials;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::of(status, Bytes::from(body.to_owned()))
    }

    fn api() -> SmsRuApi {
        SmsRuApi::new(Credentials::ApiId {
            api_id: "K".to_owned().into(),
        })
    }

    #[test]
    fn garbage_on_a_send_may_have_been_sent() {
        let e = maybe_queued(api().parse_error(&reply(200, "<html>")).unwrap());
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::MaybeSent));
        let e = maybe_queued(api().parse_error(&reply(200, r#"{"x":1}"#)).unwrap());
        assert_eq!(e.dispatch(), Dispatch::MaybeSent);
        // A read whose answer does not have the shape expected was answered: `Sent`, not "maybe".
        let p = Pipeline::new(api(), &HttpOptions::default(), RetryPolicy::never()).unwrap();
        let ok = reply(200, r#"{"status":"OK","status_code":100}"#);
        assert!(api().parse_error(&ok).is_none());
        let e = p.decode::<BalanceResponse>(&ok).unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));
        // Refusals keep their own facts on a send.
        let refused = reply(200, r#"{"status":"ERROR","status_code":201}"#);
        let e = maybe_queued(api().parse_error(&refused).unwrap());
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Rejected, Dispatch::NotSent));
    }

    #[test]
    fn ids() {
        assert!(is_valid_sms_id("000000-10000000"));
        assert!(!is_valid_sms_id("1&api_id=x"));
        assert!(!is_valid_sms_id(""));
    }
}

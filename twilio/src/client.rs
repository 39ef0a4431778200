//! [`TwilioClient`]: create, fetch, list, cancel, redact and delete messages, each through core's
//! [`Pipeline`].
//!
//! Requests go to `{base}/2010-04-01/Accounts/{AccountSid}/Messages[/{Sid}].json` with HTTP Basic auth
//! ([`TwilioApi`]) and form-encoded PascalCase bodies; the `.json` suffix selects JSON
//! answers. Failures map through [`parse_error`](crate::error::parse_error).
//!
//! Creating a message has no idempotency key in Twilio's API, so it is retried only when Twilio
//! certainly did not get it (connection refused, 429, 503); a timeout is returned as `MaybeSent` for
//! the caller to reconcile (list by `To` and date, or wait for the status callback). So is a 2xx
//! answer that cannot be read or carries no message SID: Twilio took the request. Reads, cancels
//! and deletes are retried on any temporary failure.

use std::sync::Arc;

use switchboard_core::pipeline::Pipeline;
use switchboard_core::{Dispatch, Error, Idempotence, Result};

use crate::SCHEME;
use crate::api::TwilioApi;
use crate::config::TwilioConfig;
use crate::model::{CreateMessage, ListMessages, MessagePage, MessageResource};

/// A Twilio REST client for one account. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TwilioClient {
    config: Arc<TwilioConfig>,
    pipeline: Arc<Pipeline<TwilioApi>>,
}

/// Message SIDs go into the path, so they must be plain SIDs.
fn check_sid(sid: &str) -> Result<()> {
    let ok = (sid.starts_with("SM") || sid.starts_with("MM"))
        && sid.len() <= 64
        && sid.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "'{}' is not a Twilio message SID (SM… or MM…)",
            sid.chars().take(40).collect::<String>().escape_debug()
        ))
        .with_provider(SCHEME))
    }
}

impl TwilioClient {
    /// A client for this configuration.
    pub fn new(config: TwilioConfig) -> Result<TwilioClient> {
        config.validate()?;
        let api = TwilioApi::new(config.account_sid.clone(), config.auth_token.clone());
        let pipeline = Pipeline::new(api, &config.http, config.retry.clone())?;
        Ok(TwilioClient {
            config: Arc::new(config),
            pipeline: Arc::new(pipeline),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TwilioConfig {
        &self.config
    }

    fn messages_url(&self) -> String {
        format!("{}/Messages.json", self.config.account_url())
    }

    fn message_url(&self, sid: &str) -> String {
        format!("{}/Messages/{sid}.json", self.config.account_url())
    }

    /// `POST /Messages.json`: creates (sends) a message. The config's sender, Messaging Service,
    /// status callback and validity period apply where the request has none.
    pub async fn create_message(&self, request: &CreateMessage) -> Result<MessageResource> {
        let mut r = request.clone();
        let c = &self.config;
        if r.from.is_none() && r.messaging_service_sid.is_none() {
            r.from.clone_from(&c.from);
        }
        if r.messaging_service_sid.is_none() {
            r.messaging_service_sid.clone_from(&c.messaging_service_sid);
        }
        if r.status_callback.is_none() {
            r.status_callback.clone_from(&c.status_callback);
        }
        if r.validity_period.is_none() {
            r.validity_period = c.validity_period;
        }
        r.validate().map_err(|e| e.with_provider(SCHEME))?;
        let form = r.to_form();
        let url = self.messages_url();
        let answer = self
            .pipeline
            .reply(Idempotence::NotIdempotent, |http| http.post(&url).form(&form))
            .await?;
        // A 2xx we cannot read, on a create: the message probably exists.
        let m: MessageResource = self
            .pipeline
            .decode(&answer)
            .map_err(|e| e.with_dispatch(Dispatch::MaybeSent))?;
        // Twilio answered 2xx, so the message exists; without its SID it can be neither looked up nor
        // told apart from a second send.
        if check_sid(&m.sid).is_err() {
            return Err(Error::decode(
                "Twilio accepted the message but its answer has no usable message SID; look the message \
                 up (list by To and date) before sending it again",
            )
            .with_dispatch(Dispatch::MaybeSent)
            .with_provider(SCHEME));
        }
        Ok(m)
    }

    /// `GET /Messages/{Sid}.json`.
    pub async fn fetch_message(&self, sid: &str) -> Result<MessageResource> {
        check_sid(sid)?;
        let url = self.message_url(sid);
        self.pipeline.json(Idempotence::Idempotent, |http| http.get(&url)).await
    }

    /// `GET /Messages.json`: the first page of messages matching the filter, newest first.
    pub async fn list_messages(&self, filter: &ListMessages) -> Result<MessagePage> {
        filter.validate().map_err(|e| e.with_provider(SCHEME))?;
        let url = self.messages_url();
        let q = filter.to_query();
        self.pipeline
            .json(Idempotence::Idempotent, |http| http.get(&url).query(&q))
            .await
    }

    /// The page after `page`, `None` on the last page. Only paths on the configured API host are
    /// followed.
    pub async fn next_page(&self, page: &MessagePage) -> Result<Option<MessagePage>> {
        let Some(next) = page.next_page_uri.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        if !next.starts_with('/') || next.starts_with("//") {
            return Err(Error::decode("Twilio's next_page_uri is not a path on the API host").with_provider(SCHEME));
        }
        let url = format!("{}{next}", self.config.base_url.trim_end_matches('/'));
        self.pipeline
            .json(Idempotence::Idempotent, |http| http.get(&url))
            .await
            .map(Some)
    }

    /// `POST /Messages/{Sid}.json` with `Status=canceled`: cancels a scheduled message.
    pub async fn cancel_message(&self, sid: &str) -> Result<MessageResource> {
        self.update(sid, [("Status", "canceled")]).await
    }

    /// `POST /Messages/{Sid}.json` with `Body=` (empty): redacts a message's text.
    pub async fn redact_message(&self, sid: &str) -> Result<MessageResource> {
        self.update(sid, [("Body", "")]).await
    }

    async fn update(&self, sid: &str, form: [(&str, &str); 1]) -> Result<MessageResource> {
        check_sid(sid)?;
        let url = self.message_url(sid);
        self.pipeline
            .json(Idempotence::Idempotent, |http| http.post(&url).form(&form))
            .await
    }

    /// `DELETE /Messages/{Sid}.json` (Twilio answers 204).
    pub async fn delete_message(&self, sid: &str) -> Result<()> {
        check_sid(sid)?;
        let url = self.message_url(sid);
        self.pipeline
            .reply(Idempotence::Idempotent, |http| http.delete(&url))
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_are_checked_before_they_reach_a_path() {
        assert!(check_sid("SM0123456789abcdef0123456789abcdef").is_ok());
        assert!(check_sid("MM0123").is_ok());
        for bad in ["", "SM../../Accounts", "AC123", "SM123?x=1", "SM12 3"] {
            assert!(check_sid(bad).is_err(), "{bad}");
        }
    }
}

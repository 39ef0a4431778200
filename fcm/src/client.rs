//! The FCM HTTP v1 client: `messages:send` through core's request pipeline, with a cached
//! service-account token ([`FcmApi`]).

use std::sync::Arc;

use switchboard_core::pipeline::Pipeline;
use switchboard_core::{Dispatch, Error, Idempotence, Result, SecretString};

use crate::SCHEME;
use crate::api::FcmApi;
use crate::auth::TokenSource;
use crate::config::FcmConfig;
use crate::model::{FcmMessage, SendRequest, SendResponse};

/// Whether `name` is a message's resource name, `projects/{project}/messages/{message_id}`.
fn names_a_message(name: &str) -> bool {
    name.strip_prefix("projects/")
        .and_then(|rest| rest.split_once("/messages/"))
        .is_some_and(|(project, id)| !project.is_empty() && !id.trim().is_empty())
}

/// An FCM client: one `pub async fn` per API operation. Cheap to clone; clones share the HTTP pool
/// and the token cache.
#[derive(Debug, Clone)]
pub struct FcmClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: FcmConfig,
    pipeline: Pipeline<FcmApi>,
}

impl FcmClient {
    /// A client for this configuration. The private key is parsed here, so a bad key fails now.
    pub fn new(config: FcmConfig) -> Result<Self> {
        config.validate()?;
        let tokens = TokenSource::new(
            config.service_account.clone(),
            &config.scope,
            &config.http,
            config.retry.clone(),
        )?;
        let pipeline = Pipeline::new(FcmApi::new(tokens), &config.http, config.retry.clone())?;
        Ok(FcmClient {
            inner: Arc::new(Inner { config, pipeline }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &FcmConfig {
        &self.inner.config
    }

    /// A valid OAuth access token for the service account (cached; see [`TokenSource::token`]).
    pub async fn access_token(&self) -> Result<SecretString> {
        self.inner.pipeline.api().tokens().token().await
    }

    /// Sends one message (`POST /v1/projects/{id}/messages:send`); a dry run when the config says
    /// `validate_only`.
    ///
    /// The message is checked first ([`FcmMessage::validate`]). The send is retried only when FCM
    /// certainly did not take it (`UNAVAILABLE`, `QUOTA_EXCEEDED`, connection refused), after the
    /// `Retry-After` FCM gave. An access token FCM refuses is replaced once.
    pub async fn send(&self, message: &FcmMessage) -> Result<SendResponse> {
        self.send_with(message, self.inner.config.validate_only).await
    }

    /// Asks FCM to check a message without delivering it (`validate_only: true`). The answer's
    /// name ends in `fake_message_id`.
    pub async fn validate(&self, message: &FcmMessage) -> Result<SendResponse> {
        self.send_with(message, true).await
    }

    async fn send_with(&self, message: &FcmMessage, validate_only: bool) -> Result<SendResponse> {
        message.validate()?;
        let mut clean = message.clone();
        clean.name = None;
        let body = serde_json::to_vec(&SendRequest {
            validate_only,
            message: clean,
        })
        .map_err(|e| {
            Error::invalid_input("the message cannot be serialised")
                .with_source(e)
                .with_provider(SCHEME)
        })?;
        let body = bytes::Bytes::from(body);
        let url = self.inner.config.send_url();
        let pipeline = &self.inner.pipeline;
        let reply = pipeline
            .reply(Idempotence::NotIdempotent, |http| {
                http.post(&url)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await?;
        // A 200 whose body is not FCM's answer may come from something in between (a proxy, a
        // captive portal) as well as from FCM: the push may or may not be on its way.
        let r: SendResponse = pipeline
            .decode(&reply)
            .map_err(|e| e.with_dispatch(Dispatch::MaybeSent))?;
        if !names_a_message(&r.name) {
            // A 200 without `projects/{id}/messages/{message_id}`: the push may be on its way, but
            // nothing identifies it.
            return Err(Error::decode(
                "FCM accepted the message but its answer does not name it (projects/…/messages/…)",
            )
            .with_provider(SCHEME)
            .with_dispatch(Dispatch::MaybeSent));
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::names_a_message;

    #[test]
    fn message_names() {
        assert!(names_a_message("projects/p/messages/0:1500415314455276%31bd1c96"));
        assert!(names_a_message("projects/p/messages/fake_message_id"));
        for bad in ["", "projects/p/messages/", "projects//messages/1", "messages/1", "1"] {
            assert!(!names_a_message(bad), "{bad}");
        }
    }
}

//! The FCM HTTP v1 client: `messages:send` with a cached service-account token.

use std::sync::Arc;

use switchboard_core::http::Reply;
use switchboard_core::{Dispatch, Error, ErrorKind, ExposeSecret, Idempotence, Result, SecretString};

use super::SCHEME;
use super::auth::TokenSource;
use super::config::Config;
use super::error;
use super::model::{FcmMessage, SendRequest, SendResponse};

/// Whether `name` is a message's resource name, `projects/{project}/messages/{message_id}`.
fn names_a_message(name: &str) -> bool {
    name.strip_prefix("projects/")
        .and_then(|rest| rest.split_once("/messages/"))
        .is_some_and(|(project, id)| !project.is_empty() && !id.trim().is_empty())
}

/// An FCM client. Cheap to clone; clones share the HTTP pool and the token cache.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    http: reqwest::Client,
    tokens: Arc<TokenSource>,
}

impl Client {
    /// A client for this configuration. The private key is parsed here, so a bad key fails now.
    pub fn new(config: Config) -> Result<Self> {
        config.validate()?;
        let tokens = TokenSource::new(
            config.service_account.clone(),
            &config.scope,
            &config.http,
            config.retry.clone(),
        )?;
        Ok(Client {
            inner: Arc::new(Inner {
                http: config.http.build_client()?,
                config,
                tokens,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// A valid OAuth access token for the service account (cached; see [`TokenSource::token`]).
    pub async fn access_token(&self) -> Result<SecretString> {
        self.inner.tokens.token().await
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
        self.inner
            .config
            .retry
            .run(Idempotence::NotIdempotent, || self.send_once(body.clone()))
            .await
    }

    async fn send_once(&self, body: bytes::Bytes) -> Result<SendResponse> {
        let mut refreshed = false;
        loop {
            let token = self.inner.tokens.access().await?;
            let request = self
                .inner
                .http
                .post(self.inner.config.send_url())
                .bearer_auth(token.secret.expose_secret())
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            let reply = Reply::send(request, self.inner.config.http.max_body)
                .await
                .map_err(|e| e.with_provider(SCHEME))?;
            if reply.is_success() {
                let r: SendResponse = reply.json().map_err(|e| {
                    // FCM took the message; only its answer is unreadable.
                    e.with_provider(SCHEME).with_dispatch(Dispatch::MaybeSent)
                })?;
                if !names_a_message(&r.name) {
                    // A 200 without `projects/{id}/messages/{message_id}`: the push may be on its way,
                    // but nothing identifies it.
                    return Err(Error::decode(
                        "FCM accepted the message but its answer does not name it (projects/…/messages/…)",
                    )
                    .with_provider(SCHEME)
                    .with_dispatch(Dispatch::MaybeSent));
                }
                return Ok(r);
            }
            let err = error::from_reply(&reply);
            // A token FCM does not accept (revoked, expired early): the request was refused before
            // anything was sent, so fetching a new token and sending once more cannot duplicate.
            let token_refused = err.kind() == ErrorKind::Auth && err.provider_code() == Some("UNAUTHENTICATED");
            if token_refused && !refreshed {
                tracing::debug!(provider = SCHEME, "access token refused; fetching a new one");
                self.inner.tokens.invalidate(&token);
                refreshed = true;
                continue;
            }
            return Err(err);
        }
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

//! FCM HTTP v1 as the request pipeline sees it: a Bearer token from the service account's
//! [`TokenSource`] on every request, FCM's error envelope read by [`parse_error`], and a token FCM
//! refuses dropped so the pipeline repeats the call once with a fresh one.

use std::sync::Arc;

use switchboard_core::http::Reply;
use switchboard_core::pipeline::{Api, Authorized, Credential};
use switchboard_core::{Error, ErrorKind, ExposeSecret, Result};

use crate::SCHEME;
use crate::auth::TokenSource;
use crate::error::parse_error;

/// FCM's side of the request pipeline.
#[derive(Debug)]
pub struct FcmApi {
    tokens: Arc<TokenSource>,
}

impl FcmApi {
    /// The API authorised by `tokens`.
    pub fn new(tokens: Arc<TokenSource>) -> Self {
        FcmApi { tokens }
    }

    /// The service account's token source.
    pub fn tokens(&self) -> &TokenSource {
        &self.tokens
    }
}

#[switchboard_core::async_trait]
impl Api for FcmApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// `Authorization: Bearer <access token>`, the token's generation noted so that a refusal drops
    /// exactly that token.
    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        let token = self.tokens.access().await?;
        Ok(Authorized::with_credential(
            request.bearer_auth(token.secret.expose_secret()),
            Credential(token.generation),
        ))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        parse_error(reply)
    }

    /// FCM's 401 `UNAUTHENTICATED` (a token revoked or expired early) is a refusal before anything was
    /// sent, so one repeat with a new token cannot duplicate a push. `THIRD_PARTY_AUTH_ERROR` (APNs or
    /// web push credentials) is not a token problem and is not repeated.
    fn stale_credentials(&self, _reply: &Reply, error: &Error, used: Credential) -> bool {
        if error.kind() != ErrorKind::Auth || error.provider_code() != Some("UNAUTHENTICATED") {
            return false;
        }
        tracing::debug!(provider = SCHEME, "access token refused; fetching a new one");
        self.tokens.invalidate(used.0);
        true
    }
}

//! What MightyCall tells core's request pipeline: the key and the bearer token on each attempt, how an
//! answer is read, and when the token was stale.
//!
//! The access token comes from core's [`TokenCache`]: fetched once for all concurrent callers, refreshed
//! with the refresh token before its 24 h run out, fully re-issued with the keys when the refresh token
//! is refused. A call answered **401** was not acted on, so [`MightyCallApi::stale_credentials`] drops
//! exactly the token it used and the pipeline repeats the call once with a fresh one (even a send: the
//! refused attempt did nothing); a second 401 is an `Auth` error, not a loop.

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::clock::Clock;
use switchboard_core::http::Reply;
use switchboard_core::pipeline::{Api, Authorized, Credential, Pipeline};
use switchboard_core::token::{AccessToken, Grant, TokenCache, TokenState};
use switchboard_core::{Dispatch, Error, ErrorKind, ExposeSecret, Idempotence, Result, SecretString};

use crate::SCHEME;
use crate::model::TokenResponse;

/// The header that carries the API key (on every call, as every working client sends it; the vendor
/// shows it on `/auth/token`).
pub const API_KEY_HEADER: &str = "x-api-key";

/// The token lifetime assumed when the token answer has no `expires_in` (24 h, as documented).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// MightyCall as core's [`Pipeline`] sees it: the API key on every request, and the bearer token when
/// the API is the token-carrying one (the client builds it over the keyed one). The keyed-only one serves the
/// token endpoint itself and ping, which needs no token.
pub struct MightyCallApi {
    api_key: SecretString,
    tokens: Option<Arc<Tokens>>,
}

impl std::fmt::Debug for MightyCallApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MightyCallApi")
            .field("api_key", &"***")
            .field("tokens", &self.tokens.as_ref().map(|t| t.cache.state()))
            .finish()
    }
}

/// The token cache and how to fill it: the token endpoint (through the keyed-only pipeline) and the
/// keys.
pub(crate) struct Tokens {
    cache: TokenCache,
    open: Arc<Pipeline<MightyCallApi>>,
    token_url: String,
    api_key: SecretString,
    user_key: SecretString,
}

impl MightyCallApi {
    /// The API with the key only (the token endpoint, ping).
    pub fn keyed(api_key: SecretString) -> MightyCallApi {
        MightyCallApi { api_key, tokens: None }
    }

    /// The API that also carries the bearer token, fetched from `token_url` through `open` with the
    /// two keys, and cached on `clock` until `margin` before it expires.
    pub(crate) fn with_tokens(
        open: Arc<Pipeline<MightyCallApi>>,
        token_url: String,
        api_key: SecretString,
        user_key: SecretString,
        clock: Arc<dyn Clock>,
        margin: Duration,
    ) -> MightyCallApi {
        MightyCallApi {
            api_key: api_key.clone(),
            tokens: Some(Arc::new(Tokens {
                cache: TokenCache::new(clock, margin),
                open,
                token_url,
                api_key,
                user_key,
            })),
        }
    }

    /// Where the token cache stands (`Empty` for the keyed-only API).
    pub fn token_state(&self) -> TokenState {
        self.tokens.as_ref().map_or(TokenState::Empty, |t| t.cache.state())
    }

    /// The current token, fetched first when there is none or it is due for refresh.
    pub(crate) async fn token(&self) -> Result<AccessToken> {
        match &self.tokens {
            Some(t) => t.token().await,
            None => Err(Error::config("this MightyCall API carries no token").with_provider(SCHEME)),
        }
    }
}

impl Tokens {
    async fn token(&self) -> Result<AccessToken> {
        self.cache
            .get(|refresh| self.obtain(refresh))
            .await
            // Whatever happened to the token request, the call it was for never left.
            .map_err(|e| e.with_dispatch(Dispatch::NotSent))
    }

    /// Refreshes with `refresh` when given; when the refresh token is refused, or there is none,
    /// authenticates with the keys.
    async fn obtain(&self, refresh: Option<SecretString>) -> Result<Grant> {
        if let Some(r) = refresh {
            let form = [("grant_type", "refresh_token"), ("refresh_token", r.expose_secret())];
            match self.grant(&form).await {
                Ok(g) => return Ok(g),
                Err(e) if matches!(e.kind(), ErrorKind::Auth | ErrorKind::InvalidInput | ErrorKind::Config) => {
                    tracing::debug!(error = %e, "MightyCall refused the refresh token; authenticating again");
                }
                Err(e) => return Err(e),
            }
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.api_key.expose_secret()),
            ("client_secret", self.user_key.expose_secret()),
        ];
        self.grant(&form).await
    }

    /// One token request (`POST /auth/token`, form-encoded). A grant is not idempotent (the refresh token
    /// rotates), so it is repeated only when MightyCall certainly did not act on it.
    async fn grant(&self, form: &[(&str, &str)]) -> Result<Grant> {
        let t: TokenResponse = self
            .open
            .json(Idempotence::NotIdempotent, |http| http.post(&self.token_url).form(form))
            .await?;
        if t.access_token.expose_secret().is_empty() {
            return Err(Error::decode("MightyCall answered an empty access token").with_provider(SCHEME));
        }
        let expires_in = t
            .expires_in
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        Ok(Grant {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_in,
        })
    }
}

#[switchboard_core::async_trait]
impl Api for MightyCallApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        let request = request
            .header(API_KEY_HEADER, self.api_key.expose_secret())
            .header(http::header::ACCEPT, "application/json");
        match &self.tokens {
            None => Ok(Authorized::new(request)),
            Some(t) => {
                let token = t.token().await?;
                Ok(Authorized::with_credential(
                    request.bearer_auth(token.secret.expose_secret()),
                    Credential(token.generation),
                ))
            }
        }
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        crate::error::parse_error(reply)
    }

    /// A 401 to a call with a token: that token (and no newer one) is dropped, and the call repeated.
    fn stale_credentials(&self, reply: &Reply, _error: &Error, used: Credential) -> bool {
        match &self.tokens {
            Some(t) if reply.status.as_u16() == 401 => {
                tracing::debug!(generation = used.0, "MightyCall answered 401; refreshing the token");
                t.cache.invalidate(used.0);
                true
            }
            _ => false,
        }
    }
}

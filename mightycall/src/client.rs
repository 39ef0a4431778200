//! The MightyCall client: token handling, then one async method per API operation.
//!
//! Every call carries `Authorization: Bearer <token>` and `x-api-key` (the vendor shows the key only on
//! `/auth/token`; every working client sends it on each call, so we do too). The token comes from a
//! shared [`TokenCache`]: fetched once for all concurrent callers, refreshed with the refresh token
//! before its 24 h run out, fully re-issued when the refresh token is refused.
//!
//! A call answered **401** was not acted on, so it is safe to repeat even when it is a send: the client
//! invalidates the token, refreshes it once and repeats the call once. A second 401 is returned as
//! `Auth` (no loop). Other failures follow the retry policy: sends are retried only when nothing was
//! sent (a failed token fetch counts as nothing sent); reads on any temporary failure.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use serde::de::DeserializeOwned;
use serde_json::Value;
use switchboard_core::http::Reply;
use switchboard_core::{Dispatch, Error, ErrorKind, ExposeSecret, Idempotence, Result, SecretString};

use crate::SCHEME;
use crate::config::Config;
use crate::error::{api_error, token_error, unsuccessful};
use crate::history::{self, HistoryPage, SyncCursor};
use crate::model::{
    BusinessNumber, JournalPage, JournalQuery, JournalRequest, SendMessageRequest, SendResult, TokenResponse,
    unwrap_envelope,
};
use crate::paths::{self, Endpoint};
use switchboard_core::clock::{Clock, SystemClock};
use switchboard_core::token::{AccessToken, Grant, TokenCache, TokenState};

/// The header that carries the API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The token lifetime assumed when the token answer has no `expires_in` (24 h, as documented).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// A MightyCall API client. Clones share the connection pool and the token.
#[derive(Clone)]
pub struct MightyCallClient {
    http: reqwest::Client,
    config: Config,
    tokens: Arc<TokenCache>,
}

impl fmt::Debug for MightyCallClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MightyCallClient")
            .field("config", &self.config)
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl MightyCallClient {
    /// A client for `config` on the system clock.
    pub fn new(config: Config) -> Result<MightyCallClient> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A client whose token cache reads `clock` (tests pass a
    /// [`ManualClock`](switchboard_core::clock::ManualClock) to jump past the 24 h expiry).
    pub fn with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<MightyCallClient> {
        config.validate()?;
        let http = config.http.build_client()?;
        let tokens = Arc::new(TokenCache::new(clock, config.refresh_margin()));
        Ok(MightyCallClient { http, config, tokens })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the token cache stands.
    pub fn token_state(&self) -> TokenState {
        self.tokens.state()
    }

    /// Fetches a token now if there is no valid one (to check the credentials at start-up).
    pub async fn authenticate(&self) -> Result<()> {
        self.token().await.map(|_| ())
    }

    fn url(&self, endpoint: Endpoint<'_>) -> String {
        format!(
            "{}{}",
            self.config.base_url(),
            paths::path(self.config.flavour, self.config.path_style, endpoint)
        )
    }

    // ----------------------------------------------------------------------------------------------
    // Tokens
    // ----------------------------------------------------------------------------------------------

    async fn token(&self) -> Result<AccessToken> {
        self.tokens
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
            match self.token_request(&form).await {
                Ok(g) => return Ok(g),
                Err(e) if matches!(e.kind(), ErrorKind::Auth | ErrorKind::InvalidInput | ErrorKind::Config) => {
                    tracing::debug!(error = %e, "MightyCall refused the refresh token; authenticating again");
                }
                Err(e) => return Err(e),
            }
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.config.api_key.expose_secret()),
            ("client_secret", self.config.user_key.expose_secret()),
        ];
        self.token_request(&form).await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<Grant> {
        let request = self
            .http
            .post(self.url(Endpoint::Token))
            .header(API_KEY_HEADER, self.config.api_key.expose_secret())
            .header(http::header::ACCEPT, "application/json")
            .form(form);
        let reply = Reply::send(request, self.config.http.max_body)
            .await
            .map_err(|e| e.with_provider(SCHEME))?;
        if !reply.is_success() {
            return Err(token_error(&reply));
        }
        let t: TokenResponse = reply.json().map_err(|e| e.with_provider(SCHEME))?;
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

    // ----------------------------------------------------------------------------------------------
    // Calls
    // ----------------------------------------------------------------------------------------------

    /// Runs an authenticated call under the retry policy, with the one refresh-and-repeat on 401.
    async fn call<F>(&self, idempotence: Idempotence, build: F) -> Result<Reply>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        let (this, build) = (self, &build);
        self.config
            .retry
            .run(idempotence, move || async move { this.call_once(build).await })
            .await
    }

    async fn call_once<F>(&self, build: &F) -> Result<Reply>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let token = self.token().await?;
        let reply = self.send_authed(build(&self.http), &token).await?;
        if reply.status.as_u16() != 401 {
            return success(reply);
        }
        // A 401 means the call was not acted on: refresh the token once and repeat the call once.
        tracing::debug!(
            generation = token.generation,
            "MightyCall answered 401; refreshing the token"
        );
        self.tokens.invalidate(token.generation);
        let token = self.token().await?;
        let reply = self.send_authed(build(&self.http), &token).await?;
        if reply.status.as_u16() == 401 {
            self.tokens.invalidate(token.generation);
            return Err(api_error(&reply).with_message("MightyCall refused a freshly issued access token"));
        }
        success(reply)
    }

    async fn send_authed(&self, request: reqwest::RequestBuilder, token: &AccessToken) -> Result<Reply> {
        let request = request
            .bearer_auth(token.secret.expose_secret())
            .header(API_KEY_HEADER, self.config.api_key.expose_secret())
            .header(http::header::ACCEPT, "application/json");
        Reply::send(request, self.config.http.max_body)
            .await
            .map_err(|e| e.with_provider(SCHEME))
    }

    // ----------------------------------------------------------------------------------------------
    // Operations
    // ----------------------------------------------------------------------------------------------

    /// `GET /api/ping` (no authentication): the answer's `data`.
    pub async fn ping(&self) -> Result<Value> {
        let url = self.url(Endpoint::Ping);
        let (this, url) = (self, url.as_str());
        self.config
            .retry
            .run(Idempotence::Idempotent, move || async move {
                let request = this.http.get(url).header(http::header::ACCEPT, "application/json");
                let reply = Reply::send(request, this.config.http.max_body)
                    .await
                    .map_err(|e| e.with_provider(SCHEME))?;
                data_of(&reply)
            })
            .await
    }

    /// Sends an SMS from a business number (`POST …/messages/send`; the path depends on the flavour).
    /// The answer's id field is not documented; [`SendResult::id`] is whichever was found.
    pub async fn send_message(&self, request: &SendMessageRequest) -> Result<SendResult> {
        if request.to.is_empty() {
            return Err(Error::invalid_input("a MightyCall message needs at least one receiver").with_provider(SCHEME));
        }
        if request.message.is_empty() && request.attachments.is_empty() {
            return Err(Error::invalid_input("the message text is empty").with_provider(SCHEME));
        }
        let url = self.url(Endpoint::SendMessage);
        let reply = self
            .call(Idempotence::NotIdempotent, |h| h.post(&url).json(request))
            .await?;
        if !reply.is_success() {
            return Err(api_error(&reply));
        }
        // A 2xx that is not JSON: MightyCall took the request, so the message may well be out.
        let raw: Value = reply.json().map_err(|e| {
            e.with_provider(SCHEME).with_message(
                "MightyCall accepted the message but its answer is not JSON; check the journal before resending",
            )
        })?;
        let data = unwrap_envelope(raw.clone()).map_err(|_| unsuccessful(&reply))?;
        Ok(SendResult::from_answer(raw, &data))
    }

    /// One page (1-based) of the journal (`GET /api/journal/requests`).
    ///
    /// Entries are read one by one: one that does not read is kept in
    /// [`JournalPage::undecodable`] with its raw JSON (and logged at `warn`, by id and reason only),
    /// and the rest of the page is answered. Only a page that is not a page at all is an error.
    pub async fn journal_page(&self, query: &JournalQuery, page: u32) -> Result<JournalPage> {
        let url = self.url(Endpoint::Journal);
        let params = query.to_params(page);
        let reply = self
            .call(Idempotence::Idempotent, |h| h.get(&url).query(&params))
            .await?;
        let page: JournalPage = typed(data_of(&reply)?)?;
        for u in &page.undecodable {
            tracing::warn!(
                id = ?u.id,
                reason = %u.reason,
                "MightyCall journal entry skipped: it does not read as a journal entry; it is kept in the page's \
                 undecodable entries"
            );
        }
        Ok(page)
    }

    /// One journal entry by id (`GET /api/journal/requests/{id}`).
    pub async fn journal_request(&self, id: &str) -> Result<JournalRequest> {
        if id.is_empty() || id.len() > 128 {
            return Err(Error::invalid_input("the MightyCall request id is empty or too long").with_provider(SCHEME));
        }
        let url = self.url(Endpoint::JournalRequest(id));
        let reply = self.call(Idempotence::Idempotent, |h| h.get(&url)).await?;
        let data = data_of(&reply)?;
        // Some answers nest the record under `request`.
        let record = match data.get("request") {
            Some(inner @ Value::Object(_)) => inner.clone(),
            _ => data,
        };
        crate::journal::decode_entry(record).map_err(|u| {
            Error::decode(format!("MightyCall's journal entry does not read: {}", u.reason)).with_provider(SCHEME)
        })
    }

    /// The history of `cursor`'s window as a stream of pages, each with the cursor to resume after it
    /// (see [`crate::history`]).
    pub fn history(
        &self,
        cursor: SyncCursor,
        filter: JournalQuery,
    ) -> impl Stream<Item = Result<HistoryPage>> + Send + '_ {
        history::pages(self, cursor, filter)
    }

    /// The account's business numbers (`GET /api/phonenumbers`).
    pub async fn business_numbers(&self) -> Result<Vec<BusinessNumber>> {
        let url = self.url(Endpoint::BusinessNumbers);
        let reply = self.call(Idempotence::Idempotent, |h| h.get(&url)).await?;
        let data = data_of(&reply)?;
        // An array, or an object holding one (`phoneNumbers`, `businessNumbers`, `items`).
        let list = match data {
            Value::Array(_) => data,
            Value::Object(o) => o
                .into_iter()
                .map(|(_, v)| v)
                .find(Value::is_array)
                .unwrap_or(Value::Array(vec![])),
            _ => return Err(Error::decode("MightyCall's business-number answer is not a list").with_provider(SCHEME)),
        };
        typed(list)
    }
}

/// The reply when it is 2xx, otherwise its error (inside the retry loop, so that a 429 or 503 is retried).
fn success(reply: Reply) -> Result<Reply> {
    if reply.is_success() {
        Ok(reply)
    } else {
        Err(api_error(&reply))
    }
}

/// The `data` of a successful answer (the envelope stripped), or the error the answer stands for.
fn data_of(reply: &Reply) -> Result<Value> {
    if !reply.is_success() {
        return Err(api_error(reply));
    }
    let v: Value = reply.json().map_err(|e| e.with_provider(SCHEME))?;
    unwrap_envelope(v).map_err(|_| unsuccessful(reply))
}

/// `v` as a `T`. serde's message quotes the offending value, which may be a phone number, so only
/// its category goes into the error.
fn typed<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "a field has an unexpected type or value",
            _ => "it is not the JSON expected",
        };
        Error::decode(format!("MightyCall's answer is not the shape expected: {what}")).with_provider(SCHEME)
    })
}

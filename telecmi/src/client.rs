//! The TeleCMI client: click-to-call behind the host's [`CallPolicy`], call records as a stream, and
//! the webhook entry point. Every request goes through core's [`Pipeline`] over [`TeleCmiApi`] (answers
//! read by [`parse_error`](crate::error::parse_error), retries by the dispatch rules); the user token
//! is kept here, in core's [`TokenCache`], and written into each body (see [`crate::api`] for why).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use serde::Serialize;
use serde_json::{Map, Value, json};
use switchboard_core::clock::TokioClock;
use switchboard_core::pipeline::Pipeline;
use switchboard_core::token::{AccessToken, Grant, TokenCache};
use switchboard_core::webhook::{Webhook, WebhookRequest};
use switchboard_core::{
    Dispatch, Dsn, Error, ErrorKind, Event, ExposeSecret, Idempotence, Journal, JournalEntry, JournalRecord, MessageId,
    PhoneNumber, Recipient, Result, RetryPolicy, SecretString,
};

use crate::SCHEME;
use crate::api::TeleCmiApi;
use crate::config::{Credentials, Flavour, TeleCmiConfig};
use crate::error::is_auth;
use crate::model::{
    AdminClickToCall, BodyStyle, CallPlaced, CallRecord, CallRequest, CdrPage, CdrQuery, LegacyAdminConnect,
    LegacyAgentConnect, LoginInfo, Scope, UserClickToCall, cdr_endpoint, legacy_number, wire_number,
};
use crate::policy::{CallPolicy, Decision, from_allow};
use crate::webhook::{CallNotification, TeleCmiWebhook};

/// The most pages a record stream reads, whatever `count` says: a guard against an API that ignores
/// `page` and answers the same page for ever.
const MAX_PAGES: u32 = 100_000;

/// A TeleCMI account, configured. Cheap to clone (the clones share connections and the user token).
#[derive(Clone)]
pub struct TeleCmiClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: TeleCmiConfig,
    base: String,
    pipeline: Pipeline<TeleCmiApi>,
    policy: Arc<dyn CallPolicy>,
    journal: Option<Arc<dyn Journal>>,
    webhook: TeleCmiWebhook,
    token: TokenCell,
}

impl fmt::Debug for TeleCmiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeleCmiClient")
            .field("flavour", &self.inner.config.flavour)
            .field("base", &self.inner.base)
            .field("admin", &self.inner.config.credentials.is_admin())
            .field("policy", &self.inner.policy)
            .field("journal", &self.inner.journal.is_some())
            .finish()
    }
}

/// Builds a [`TeleCmiClient`] with a policy, a journal or a retry policy.
#[must_use]
pub struct TeleCmiClientBuilder {
    config: TeleCmiConfig,
    policy: Option<Arc<dyn CallPolicy>>,
    journal: Option<Arc<dyn Journal>>,
    retry: RetryPolicy,
}

impl fmt::Debug for TeleCmiClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeleCmiClientBuilder")
            .field("config", &self.config)
            .finish()
    }
}

impl TeleCmiClientBuilder {
    /// Who may place calls. Without one, the configuration's `allow` decides (by default: no one).
    pub fn policy(mut self, policy: impl CallPolicy + 'static) -> Self {
        self.policy = Some(Arc::new(policy));
        self
    }

    /// Who may place calls, shared.
    pub fn policy_arc(mut self, policy: Arc<dyn CallPolicy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Journals every click-to-call (attempt, result) and every webhook call event.
    pub fn journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// How failures are retried (only where nothing can be duplicated; see core's `RetryPolicy`).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<TeleCmiClient> {
        self.config.validate().map_err(|e| e.with_provider(SCHEME))?;
        let pipeline = Pipeline::new(TeleCmiApi, &self.config.http_options(), self.retry)?;
        let policy = self.policy.unwrap_or_else(|| from_allow(&self.config.allow));
        let mut webhook = TeleCmiWebhook::from_config(&self.config);
        if let Some(j) = &self.journal {
            webhook = webhook.with_journal(j.clone());
        }
        Ok(TeleCmiClient {
            inner: Arc::new(Inner {
                base: self.config.base_url(),
                config: self.config,
                pipeline,
                policy,
                journal: self.journal,
                webhook,
                token: TokenCell::default(),
            }),
        })
    }
}

/// The user token: obtained once, shared by every clone, renewed when its configured lifetime ends or
/// when TeleCMI refuses it. Core's [`TokenCache`] makes the login a single flight: however many requests
/// find the token stale at once, exactly one logs in and the others use its token (or its failure).
struct TokenCell {
    cache: TokenCache,
    logins: AtomicU64,
    info: std::sync::Mutex<Option<LoginInfo>>,
}

impl Default for TokenCell {
    fn default() -> Self {
        TokenCell {
            // No margin: TeleCMI's tokens are used for their configured lifetime, then renewed.
            cache: TokenCache::new(Arc::new(TokioClock), Duration::ZERO),
            logins: AtomicU64::new(0),
            info: std::sync::Mutex::new(None),
        }
    }
}

impl TeleCmiClient {
    /// A client with the configuration's policy (by default: no one may call) and no journal.
    pub fn new(config: TeleCmiConfig) -> Result<Self> {
        Self::builder(config).build()
    }

    /// A builder, to add a policy, a journal or a retry policy.
    pub fn builder(config: TeleCmiConfig) -> TeleCmiClientBuilder {
        TeleCmiClientBuilder {
            config,
            policy: None,
            journal: None,
            retry: RetryPolicy::default(),
        }
    }

    /// A client from a DSN (see [`crate::config`]).
    pub fn from_dsn(dsn: &Dsn) -> Result<Self> {
        Self::new(TeleCmiConfig::from_dsn(dsn)?)
    }

    /// A client from a DSN string.
    pub fn from_dsn_str(dsn: &str) -> Result<Self> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }

    /// The configuration.
    pub fn config(&self) -> &TeleCmiConfig {
        &self.inner.config
    }

    /// The webhook (verification and decoding without a client round trip).
    pub fn webhook(&self) -> &TeleCmiWebhook {
        &self.inner.webhook
    }

    /// How many times this client (and its clones) logged in; user credentials only.
    pub fn login_count(&self) -> u64 {
        self.inner.token.logins.load(Ordering::Relaxed)
    }

    /// A call from the default agent (the DSN's user id, the logged-in user, or `agent=`) to `to`.
    pub fn request(&self, to: PhoneNumber) -> Result<CallRequest> {
        let agent = self.inner.config.default_agent.clone().ok_or_else(|| {
            Error::config("no default agent is configured; use CallRequest::new(agent, to) or set agent= in the DSN")
                .with_provider(SCHEME)
        })?;
        Ok(CallRequest::new(agent, to))
    }

    // ---------------------------------------------------------------- HTTP

    /// One JSON `POST` through the pipeline (retried by its rules for `idempotence`), answering the
    /// envelope of a success.
    async fn post(
        &self,
        idempotence: Idempotence,
        path: &str,
        body: &(impl Serialize + Sync),
    ) -> Result<Map<String, Value>> {
        let url = format!("{}{path}", self.inner.base);
        self.inner
            .pipeline
            .json(idempotence, |http| http.post(&url).json(body))
            .await
    }

    // ---------------------------------------------------------------- user token

    fn user_credentials(&self) -> Result<(&str, &SecretString)> {
        match &self.inner.config.credentials {
            Credentials::User { user_id, password } => Ok((user_id, password)),
            Credentials::Admin { .. } => Err(Error::unsupported(
                "this client has admin credentials; logging in needs a user id and password",
            )
            .with_provider(SCHEME)),
        }
    }

    /// Logs in now (user credentials), replacing the current token, and says who the client is.
    pub async fn login(&self) -> Result<LoginInfo> {
        self.inner.token.cache.clear();
        self.token().await?;
        self.inner
            .token
            .info
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| Error::decode("the login answer named no user").with_provider(SCHEME))
    }

    /// One login request: the token it grants lives for the configured token lifetime.
    async fn fetch_token(&self) -> Result<Grant> {
        let (user_id, password) = self.user_credentials()?;
        let path = match self.inner.config.flavour {
            Flavour::Chub => "/v2/user/login",
            Flavour::India => "/v1/agentLogin",
        };
        let body = crate::model::Login {
            id: user_id,
            password: password.expose_secret(),
        };
        self.inner.token.logins.fetch_add(1, Ordering::Relaxed);
        // Logging in twice is harmless, so it is retried like a read.
        let answer = self
            .post(Idempotence::Idempotent, path, &body)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::Auth => e.with_message("TeleCMI refused the user id or password"),
                _ => e,
            })?;
        let token = crate::flex::string(&answer, &["token"])
            .ok_or_else(|| Error::decode("TeleCMI's login answer has no token").with_provider(SCHEME))?;
        *self.inner.token.info.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(LoginInfo::from_answer(user_id, &answer));
        tracing::debug!(user = user_id, "logged in to TeleCMI");
        Ok(Grant {
            access_token: SecretString::from(token),
            refresh_token: None,
            expires_in: self.inner.config.token_ttl(),
        })
    }

    /// The current token and its generation, logging in first when there is none or it is too old.
    async fn token(&self) -> Result<AccessToken> {
        self.inner.token.cache.get(|_| self.fetch_token()).await
    }

    /// Runs `op` with the token; when TeleCMI may have refused the token, logs in again (once,
    /// however many requests saw the refusal) and runs `op` one more time. Only answers with an HTTP
    /// error status are taken for a refused token: TeleCMI's token errors are answers that did
    /// nothing, so the repeat cannot duplicate a call, and an answer with a 2xx status is never
    /// followed by a repeat.
    ///
    /// For the user click-to-call, TeleCMI documents one 404 for two causes, "Invalid Number, failed
    /// to authenticate token" (doc.telecmi.com, "Click-To-Call India"; CHUB-India "Click to call"),
    /// and a 404 placed no call: so any 404 is first taken for an expired token, and only a 404 to the
    /// repeat with a freshly issued token is read as a refused number (`Rejected`).
    async fn with_token<T, F, Fut>(&self, usage: TokenUse, op: F) -> Result<T>
    where
        F: Fn(SecretString) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        // A failed login means the operation itself never left (or left only to be refused with an
        // answer that did nothing), whatever the login request's own dispatch fact was.
        let not_sent = |e: Error| e.with_dispatch(Dispatch::NotSent);
        let token = self.token().await.map_err(not_sent)?;
        match op(token.secret).await {
            Err(e) if usage.token_maybe_refused(&e) => {
                tracing::debug!("TeleCMI may have refused the token; logging in again");
                // Forgets the token of this generation, unless another request already replaced it.
                self.inner.token.cache.invalidate(token.generation);
                let token = self.token().await.map_err(not_sent)?;
                match op(token.secret).await {
                    Err(e) if usage == TokenUse::ClickToCall && is_404(&e) => Err(number_refused(e)),
                    other => other,
                }
            }
            other => other,
        }
    }

    // ---------------------------------------------------------------- click-to-call

    /// Places a click-to-call: TeleCMI rings `request.agent`, then bridges `request.to`.
    ///
    /// In order: the request is checked, the host's [`CallPolicy`] is asked (a refusal is `Rejected`
    /// and `NotSent`, and TeleCMI hears nothing), the attempt is journaled (a journal failure stops the
    /// call), the call is placed, and the result is journaled as a ringing [`JournalRecord::Call`]
    /// keyed by `request_id`, or as [`JournalRecord::Failed`].
    ///
    /// Admin credentials use `/v2/webrtc/click2call` (legacy: `/v1/adminConnect`); user credentials use
    /// `/v2/ind/click2call` (legacy: `/v1/agentConnect`, which carries no extra parameters, so its
    /// webhooks are matched by `request_id` alone) with the kept token. Only failures that
    /// certainly sent nothing are retried: a call that may have been placed is never placed again
    /// blindly (the error says `MaybeSent`; look for its webhooks or records).
    pub async fn click_to_call(&self, request: &CallRequest) -> Result<CallPlaced> {
        let name = self.inner.config.name.clone();
        let message_id = MessageId::new(request.correlation.clone()).ok();
        request.validate().map_err(|e| e.with_provider(SCHEME))?;
        self.check_variant(request)?;
        if let Decision::Deny(reason) = self.inner.policy.check(request).await {
            let err = Error::new(
                ErrorKind::Rejected,
                format!("the call policy refused the call: {reason}"),
            )
            .with_dispatch(Dispatch::NotSent)
            .with_provider(SCHEME);
            tracing::info!(agent = %request.agent, to = %request.to.masked(), "click-to-call refused by the call policy");
            self.journal_best_effort(message_id.clone(), JournalRecord::failed(&name, &err))
                .await;
            return Err(err);
        }
        if let Some(journal) = &self.inner.journal {
            let attempt = JournalRecord::Attempt {
                transport: name.clone(),
                attempt: 1,
                to: Recipient::Phone(request.to.clone()),
            };
            journal
                .record(JournalEntry::new(message_id.clone(), attempt))
                .await
                .map_err(|e| {
                    Error::new(e.kind(), "the journal refused the attempt, so the call was not placed")
                        .with_dispatch(Dispatch::NotSent)
                        .with_provider(SCHEME)
                        .with_source(e)
                })?;
        }
        match self.place(request).await {
            Ok(placed) => {
                tracing::info!(
                    agent = %request.agent, to = %request.to.masked(), request_id = ?placed.request_id,
                    correlation = %placed.correlation, "click-to-call placed"
                );
                let record = JournalRecord::Call {
                    transport: name,
                    event: placed.call_event(),
                };
                self.journal_best_effort(message_id, record).await;
                Ok(placed)
            }
            Err(err) => {
                tracing::warn!(agent = %request.agent, to = %request.to.masked(), error = %err, "click-to-call failed");
                self.journal_best_effort(message_id, JournalRecord::failed(&name, &err))
                    .await;
                Err(err)
            }
        }
    }

    /// Refuses, before anything is sent, what the chosen endpoint cannot carry, rather than dropping it.
    fn check_variant(&self, request: &CallRequest) -> Result<()> {
        let unsupported = |what: &str| Err(Error::unsupported(what.to_owned()).with_provider(SCHEME));
        match (&self.inner.config.credentials, self.inner.config.flavour) {
            (Credentials::Admin { .. }, Flavour::Chub) => Ok(()),
            (Credentials::Admin { .. }, Flavour::India) => {
                if request.webrtc.is_some() || request.followme.is_some() || request.callerid.is_some() {
                    return unsupported("the legacy adminConnect API takes no webrtc, followme or callerid");
                }
                Ok(())
            }
            (Credentials::User { user_id, .. }, flavour) => {
                if &request.agent != user_id {
                    return Err(Error::invalid_input(format!(
                        "this client places calls as {user_id}, not as {}",
                        request.agent
                    ))
                    .with_provider(SCHEME));
                }
                if request.webrtc.is_some() || request.followme.is_some() {
                    return unsupported("the user-token click-to-call takes no webrtc or followme");
                }
                if flavour == Flavour::India && (request.callerid.is_some() || !request.extra_params.is_empty()) {
                    return unsupported("the legacy agentConnect API takes no callerid or extra parameters");
                }
                Ok(())
            }
        }
    }

    async fn place(&self, request: &CallRequest) -> Result<CallPlaced> {
        let to = wire_number(&request.to)?;
        let callerid = request.callerid.as_ref().map(wire_number).transpose()?;
        // A click-to-call is not idempotent: only errors that certainly sent nothing are retried.
        let once = Idempotence::NotIdempotent;
        let answer = match (&self.inner.config.credentials, self.inner.config.flavour) {
            (Credentials::Admin { secret, .. }, Flavour::Chub) => {
                let body = AdminClickToCall {
                    user_id: &request.agent,
                    secret: secret.expose_secret(),
                    to,
                    extra_params: request.wire_extra_params(),
                    webrtc: request.webrtc,
                    followme: request.followme,
                    callerid,
                };
                self.post(once, "/v2/webrtc/click2call", &body).await?
            }
            (Credentials::Admin { secret, .. }, Flavour::India) => {
                let body = LegacyAdminConnect {
                    agent_id: &request.agent,
                    token: secret.expose_secret(),
                    to: legacy_number(&request.to),
                    custom: Value::Object(request.wire_extra_params()).to_string(),
                };
                self.post(once, "/v1/adminConnect", &body).await?
            }
            (Credentials::User { .. }, Flavour::Chub) => {
                self.with_token(TokenUse::ClickToCall, |token| async move {
                    let body = UserClickToCall {
                        token: token.expose_secret(),
                        to,
                        extra_params: request.wire_extra_params(),
                        callerid,
                    };
                    self.post(once, "/v2/ind/click2call", &body).await
                })
                .await?
            }
            (Credentials::User { .. }, Flavour::India) => {
                self.with_token(TokenUse::ClickToCall, |token| async move {
                    let body = LegacyAgentConnect {
                        token: token.expose_secret(),
                        to: legacy_number(&request.to),
                    };
                    self.post(once, "/v1/agentConnect", &body).await
                })
                .await?
            }
        };
        Ok(CallPlaced::from_answer(request, answer))
    }

    async fn journal_best_effort(&self, id: Option<MessageId>, record: JournalRecord) {
        if let Some(journal) = &self.inner.journal
            && let Err(e) = journal.record(JournalEntry::new(id, record)).await
        {
            tracing::warn!(error = %e, "the journal refused a TeleCMI entry");
        }
    }

    // ---------------------------------------------------------------- call records

    fn scope(&self) -> Scope {
        match self.inner.config.credentials {
            Credentials::Admin { .. } => Scope::Admin,
            Credentials::User { .. } => Scope::User,
        }
    }

    /// One page (from 1) of call records: the whole app's with admin credentials, the user's with user
    /// credentials. The page size is capped at the endpoint's maximum (20 admin, 10 user).
    pub async fn call_records_page(&self, query: &CdrQuery, page: u32) -> Result<CdrPage> {
        query.validate().map_err(|e| e.with_provider(SCHEME))?;
        let endpoint = cdr_endpoint(self.inner.config.flavour, self.scope(), query.kind)?;
        let limit = query.limit(&endpoint);
        let page = page.max(1);
        let (from, to) = (query.from.timestamp_millis(), query.to.timestamp_millis());
        let read = Idempotence::Idempotent;
        let answer = match (&self.inner.config.credentials, endpoint.style) {
            (Credentials::Admin { app_id, secret }, BodyStyle::Admin) => {
                let body = json!({"appid": app_id, "secret": secret.expose_secret(), "start_date": from,
                                  "end_date": to, "page": page, "limit": limit});
                self.post(read, endpoint.path, &body).await?
            }
            (Credentials::Admin { app_id, secret }, BodyStyle::LegacyAdmin) => {
                let body = json!({"appid": app_id, "token": secret.expose_secret(), "start_date": from,
                                  "end_date": to, "page": page, "limit": limit});
                self.post(read, endpoint.path, &body).await?
            }
            (Credentials::User { .. }, BodyStyle::User { out_cdr_type }) => {
                self.with_token(TokenUse::Read, |token| async move {
                    let mut body = json!({"token": token.expose_secret(), "from": from, "to": to,
                                          "page": page, "limit": limit});
                    if let (Some(t), Some(o)) = (out_cdr_type, body.as_object_mut()) {
                        o.insert("type".to_owned(), json!(t));
                    }
                    self.post(read, endpoint.path, &body).await
                })
                .await?
            }
            _ => {
                return Err(Error::unsupported("this list does not take these credentials").with_provider(SCHEME));
            }
        };
        CdrPage::from_answer(query.kind, page, limit, answer)
    }

    /// Every call record of `query`, page after page, as a stream.
    ///
    /// Pages are read one at a time as the stream is polled, at the largest size the endpoint allows
    /// (or `page_size`), until `count` records were read, a page comes back short or empty. An error
    /// ends the stream after being yielded. Each page read is retried on temporary failures (reads are
    /// idempotent).
    pub fn call_records(&self, query: CdrQuery) -> BoxStream<'static, Result<CallRecord>> {
        struct Walk {
            client: TeleCmiClient,
            query: CdrQuery,
            page: u32,
            read: u64,
            buffer: std::collections::VecDeque<CallRecord>,
            done: bool,
        }
        let walk = Walk {
            client: self.clone(),
            query,
            page: 0,
            read: 0,
            buffer: Default::default(),
            done: false,
        };
        stream::unfold(walk, |mut w| async move {
            loop {
                if let Some(r) = w.buffer.pop_front() {
                    return Some((Ok(r), w));
                }
                if w.done || w.page >= MAX_PAGES {
                    return None;
                }
                w.page += 1;
                match w.client.call_records_page(&w.query, w.page).await {
                    Err(e) => {
                        w.done = true;
                        return Some((Err(e), w));
                    }
                    Ok(page) => {
                        let n = page.records.len() as u64;
                        w.read += n;
                        let short = n < u64::from(page.limit);
                        let all = page.total.is_some_and(|t| w.read >= t);
                        w.done = n == 0 || short || all;
                        w.buffer.extend(page.records);
                    }
                }
            }
        })
        .boxed()
    }

    // ---------------------------------------------------------------- webhooks

    /// Verifies a TeleCMI callback and decodes it into core events (journaled when a journal is set).
    /// See [`TeleCmiWebhook`]'s `handle`.
    pub async fn handle_webhook(&self, request: &WebhookRequest) -> Result<Vec<Event>> {
        Ok(self.inner.webhook.handle(request).await?.events)
    }

    /// Verifies a TeleCMI callback and decodes it into typed notifications, without journaling.
    pub fn decode_webhook(&self, request: &WebhookRequest) -> Result<Vec<CallNotification>> {
        self.inner.webhook.verify(request)?;
        self.inner.webhook.notifications(request)
    }
}

/// What a request with the user token is, for reading TeleCMI's refusals of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenUse {
    /// A call-record list: its 404 is documented as "Invalid user token, Failed to authenticate
    /// token" alone, so only an `Auth` answer means the token was refused.
    Read,
    /// A user click-to-call: its one 404 stands for a refused token or a refused number.
    ClickToCall,
}

impl TokenUse {
    /// Whether `e` may be TeleCMI refusing the token: an answer with an HTTP error status (never a
    /// 2xx) that is `Auth`, or, for a click-to-call, any 404.
    fn token_maybe_refused(self, e: &Error) -> bool {
        let error_status = e.http_status().is_some_and(|s| !(200..300).contains(&s));
        error_status && (is_auth(e) || (self == TokenUse::ClickToCall && is_404(e)))
    }
}

/// Whether TeleCMI answered 404 (in the status or in the envelope's `code`).
fn is_404(e: &Error) -> bool {
    e.provider_code() == Some("404")
}

/// A click-to-call refused with 404 twice, the second time with a freshly issued token: the token was
/// not the cause, so the number is.
fn number_refused(e: Error) -> Error {
    let mut out = Error::new(
        ErrorKind::Rejected,
        "TeleCMI refused the destination number (404, again with a freshly issued token)",
    )
    .with_provider(SCHEME)
    .with_dispatch(Dispatch::Sent)
    .with_provider_code(404);
    if let Some(status) = e.http_status() {
        out = out.with_http_status(status);
    }
    if let Some(text) = e.provider_text() {
        out = out.with_provider_text(text);
    }
    out.with_source(e)
}

/// Lets the Messenger route TeleCMI callbacks by name (`Messenger::builder().webhook_source(..)`).
#[async_trait::async_trait]
impl switchboard_core::WebhookHandler for TeleCmiClient {
    fn provider(&self) -> &'static str {
        crate::SCHEME
    }

    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<switchboard_core::Handled> {
        self.inner.webhook.handle(request).await
    }
}

//! The Bot API client: one method per call this crate needs, and [`TelegramClient::call`] for the
//! rest, all through core's request pipeline ([`TelegramApi`]).
//!
//! Every call is a JSON `POST` to `/bot<token>/<method>`. That URL holds the token, so it is never
//! logged and never reaches an error (core's reqwest error mapping strips it).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::pipeline::Pipeline;
use switchboard_core::{Dispatch, Error, ExposeSecret, Idempotence, Result};

use crate::SCHEME;
use crate::api::TelegramApi;
use crate::config::{TelegramConfig, is_valid_secret_token};
use crate::limits::Limiter;
use crate::model::{
    ApiResponse, DeleteWebhook, GetUpdates, SendMessage, SetWebhook, TgMessage, Update, User, WebhookInfo,
};
use crate::text::{MAX_TEXT_UTF16, visible_len};

/// A Bot API client: one `pub async fn` per method. Cheap to clone; clones share the HTTP pool and
/// the rate limiter.
#[derive(Debug, Clone)]
pub struct TelegramClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: TelegramConfig,
    pipeline: Pipeline<TelegramApi>,
    limiter: Option<Limiter>,
}

impl TelegramClient {
    /// A client for this configuration.
    pub fn new(config: TelegramConfig) -> Result<Self> {
        config.validate()?;
        Ok(TelegramClient {
            inner: Arc::new(Inner {
                pipeline: Pipeline::new(TelegramApi, &config.http, config.retry.clone())?,
                limiter: config.rate_limits.clone().map(Limiter::new),
                config,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TelegramConfig {
        &self.inner.config
    }

    /// Calls any Bot API method with JSON parameters and decodes its `result`.
    ///
    /// `idempotence` says whether repeating the call is harmless, which decides what the retry
    /// policy may repeat.
    pub async fn call<P, T>(&self, method: &str, params: &P, idempotence: Idempotence) -> Result<T>
    where
        P: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.call_with_timeout(method, params, idempotence, None).await
    }

    async fn call_with_timeout<P, T>(
        &self,
        method: &str,
        params: &P,
        idempotence: Idempotence,
        timeout: Option<Duration>,
    ) -> Result<T>
    where
        P: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let body = serde_json::to_vec(params).map_err(|e| {
            Error::invalid_input(format!("{method}: the parameters cannot be serialised"))
                .with_provider(SCHEME)
                .with_source(e)
        })?;
        let body = bytes::Bytes::from(body);
        // Holds the token: used for the request only.
        let url = self.inner.config.method_url(method);
        let in_method = |e: Error| {
            let message = format!("{method}: {}", e.message());
            e.with_message(message)
        };
        let pipeline = &self.inner.pipeline;
        let reply = pipeline
            .reply(idempotence, |http| {
                let request = http
                    .post(&url)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
                match timeout {
                    Some(t) => request.timeout(t),
                    None => request,
                }
            })
            .await
            .map_err(in_method)?;
        // Telegram acted on the call; only its answer is unreadable (or it came from something in
        // between that answers 2xx), so whether it did what was asked is unknown.
        let env: ApiResponse<T> = pipeline
            .decode(&reply)
            .map_err(|e| in_method(e.with_dispatch(Dispatch::MaybeSent)))?;
        env.result.ok_or_else(|| {
            Error::decode(format!("{method}: the answer says ok but has no result"))
                .with_provider(SCHEME)
                .with_dispatch(Dispatch::MaybeSent)
        })
    }

    /// `getMe`: the bot's own user (its `username` routes `/cmd@BotName`).
    pub async fn get_me(&self) -> Result<User> {
        self.call("getMe", &serde_json::json!({}), Idempotence::Idempotent)
            .await
    }

    /// `sendMessage`, after the local checks (text present, at most 4096 UTF-16 units after entity
    /// parsing) and the flood limits. Repeated only when Telegram certainly did not take it.
    pub async fn send_message(&self, message: &SendMessage) -> Result<TgMessage> {
        if message.text.trim().is_empty() {
            return Err(Error::invalid_input("the message text is empty").with_provider(SCHEME));
        }
        let len = visible_len(&message.text, message.parse_mode);
        if len > MAX_TEXT_UTF16 {
            return Err(Error::invalid_input(format!(
                "the message is {len} characters (UTF-16 units) after formatting, more than the {MAX_TEXT_UTF16} Telegram takes"
            ))
            .with_provider(SCHEME));
        }
        if let Some(l) = &self.inner.limiter {
            l.acquire(&message.chat_id).await;
        }
        self.call("sendMessage", message, Idempotence::NotIdempotent).await
    }

    /// `setWebhook` with a secret token (checked first: 1–256 of `A-Z a-z 0-9 _ -`).
    pub async fn set_webhook(&self, webhook: &SetWebhook) -> Result<bool> {
        if let Some(s) = &webhook.secret_token
            && !is_valid_secret_token(s.expose_secret())
        {
            return Err(Error::invalid_input(
                "the webhook secret token must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -",
            )
            .with_provider(SCHEME));
        }
        self.call("setWebhook", webhook, Idempotence::Idempotent).await
    }

    /// `setWebhook` with the configured `webhook_secret`, which [`TelegramWebhook`](crate::TelegramWebhook) then
    /// checks on every update. Refuses to run without one.
    pub async fn set_webhook_url(&self, url: &str) -> Result<bool> {
        let secret = self.inner.config.webhook_secret.clone().ok_or_else(|| {
            Error::config("a webhook needs a secret: set webhook_secret in the config or DSN").with_provider(SCHEME)
        })?;
        self.set_webhook(&SetWebhook::new(url, secret)).await
    }

    /// `deleteWebhook`.
    pub async fn delete_webhook(&self, drop_pending_updates: bool) -> Result<bool> {
        let p = DeleteWebhook {
            drop_pending_updates: drop_pending_updates.then_some(true),
        };
        self.call("deleteWebhook", &p, Idempotence::Idempotent).await
    }

    /// `getWebhookInfo`.
    pub async fn get_webhook_info(&self) -> Result<WebhookInfo> {
        self.call("getWebhookInfo", &serde_json::json!({}), Idempotence::Idempotent)
            .await
    }

    /// `getUpdates`. The HTTP timeout is stretched past the long-poll `timeout`. Prefer
    /// [`UpdatePoller`](crate::poller::UpdatePoller), which keeps the offset right.
    pub async fn get_updates(&self, params: &GetUpdates) -> Result<Vec<Update>> {
        let poll = Duration::from_secs(u64::from(params.timeout.unwrap_or(0)));
        let http = self.inner.config.http.timeout.max(poll + Duration::from_secs(10));
        // Repeating getUpdates with the same offset returns the same updates: idempotent.
        self.call_with_timeout("getUpdates", params, Idempotence::Idempotent, Some(http))
            .await
    }
}

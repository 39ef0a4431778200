//! [`FcmTransport`]: Firebase Cloud Messaging as a switchboard [`Transport`].
//!
//! * `Recipient::PushToken(t)` sends to one device; `Recipient::PushTopic(t)` to a topic, or, when
//!   the text is a topic condition (it contains `in topics`), to that condition.
//! * The message's subject is the notification title and its text the body; with neither, the
//!   message is data-only. `data` goes as FCM data (strings). HTML and attachments do not apply.
//! * The configured Android priority and TTL apply to every message.
//! * `send_many` sends concurrently (`FcmConfig::concurrency` in flight), answers in order: FCM retired
//!   its batch endpoint in 2024, and its own Admin SDKs do the same.
//! * FCM has no per-message status lookup and pushes nothing back, so `status` and `handle_webhook`
//!   are unsupported.

use async_trait::async_trait;
use futures::StreamExt;
use switchboard_core::{Capabilities, Dsn, Error, Message, Receipt, Recipient, Result, Transport};

use crate::SCHEME;
use crate::client::FcmClient;
use crate::config::FcmConfig;
use crate::model::{AndroidConfig, FcmMessage, Notification, format_duration};

/// FCM as a message transport. Build it from an [`FcmConfig`] or a DSN
/// (`fcm://PROJECT_ID@default?credentials=/path/service-account.json`).
#[derive(Debug, Clone)]
pub struct FcmTransport {
    client: FcmClient,
}

impl FcmTransport {
    /// A transport for this configuration.
    pub fn new(config: FcmConfig) -> Result<Self> {
        Ok(FcmTransport {
            client: FcmClient::new(config)?,
        })
    }

    /// A transport from an `fcm://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<Self> {
        Self::new(FcmConfig::from_dsn(dsn)?)
    }

    /// A transport from a DSN string.
    pub fn from_dsn_str(dsn: &str) -> Result<Self> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }

    /// The underlying client (send full [`FcmMessage`]s with platform blocks).
    pub fn client(&self) -> &FcmClient {
        &self.client
    }

    /// The FCM message a switchboard message becomes.
    pub fn request_for(&self, message: &Message) -> Result<FcmMessage> {
        let mut m = match &message.to {
            Recipient::PushToken(t) => FcmMessage::to_token(t.clone()),
            Recipient::PushTopic(t) if t.contains(" in topics") => FcmMessage::to_condition(t.clone()),
            Recipient::PushTopic(t) => FcmMessage::to_topic(t.clone()),
            other => {
                return Err(Error::invalid_input(format!(
                    "FCM sends to push tokens and topics, not to a {}",
                    other.kind()
                ))
                .with_provider(SCHEME));
            }
        };
        if message.subject.is_some() || !message.text.is_empty() {
            m.notification = Some(Notification {
                title: message.subject.clone(),
                body: (!message.text.is_empty()).then(|| message.text.clone()),
                ..Notification::default()
            });
        }
        m.data = message.data.clone();
        let c = self.client.config();
        if c.android_priority.is_some() || c.ttl.is_some() {
            m.android = Some(AndroidConfig {
                priority: c.android_priority,
                ttl: c.ttl.map(format_duration),
                ..AndroidConfig::default()
            });
        }
        Ok(m)
    }
}

#[async_trait]
impl Transport for FcmTransport {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::none().with_push()
    }

    async fn send(&self, message: &Message) -> Result<Receipt> {
        let request = self.request_for(message)?;
        let r = self.client.send(&request).await?;
        let raw = serde_json::to_value(&r).unwrap_or_default();
        Ok(Receipt::new(SCHEME, message, r.name.clone()).with_raw(raw))
    }

    async fn send_many(&self, messages: &[Message]) -> Vec<Result<Receipt>> {
        // The futures are made first (they do nothing until polled) so the stream holds one concrete
        // type; `buffered` then keeps `concurrency` of them running and yields in order.
        let sends: Vec<_> = messages.iter().map(|m| self.send(m)).collect();
        futures::stream::iter(sends)
            .buffered(self.client.config().concurrency.max(1))
            .collect()
            .await
    }
}

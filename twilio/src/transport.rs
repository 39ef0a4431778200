//! [`TwilioTransport`]: Twilio Programmable Messaging as a switchboard [`Transport`].
//!
//! Twilio has no bulk send for SMS, so `send_many` is the trait's default (one create per message, in
//! order). A message's `from` overrides the configured sender; the configured Messaging Service, status
//! callback and validity period apply to every message.

use switchboard_core::secret::scrub_numbers;
use switchboard_core::{
    Capabilities, Dsn, Error, Handled, Message, PhoneNumber, Receipt, Recipient, Result, StatusReport, Transport,
    Webhook, WebhookRequest, async_trait,
};

use crate::SCHEME;
use crate::client::TwilioClient;
use crate::config::TwilioConfig;
use crate::model::CreateMessage;
use crate::webhook::TwilioWebhook;

/// Twilio as a message transport. Build it from a [`TwilioConfig`] or a DSN
/// (`twilio://SID:TOKEN@default?from=+1…`).
#[derive(Debug, Clone)]
pub struct TwilioTransport {
    client: TwilioClient,
    webhook: TwilioWebhook,
}

impl TwilioTransport {
    /// A transport for this configuration.
    pub fn new(config: TwilioConfig) -> Result<Self> {
        let webhook = TwilioWebhook::from_config(&config);
        Ok(TwilioTransport {
            client: TwilioClient::new(config)?,
            webhook,
        })
    }

    /// A transport from a `twilio://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<Self> {
        Self::new(TwilioConfig::from_dsn(dsn)?)
    }

    /// A transport from a DSN string.
    pub fn from_dsn_str(dsn: &str) -> Result<Self> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }

    /// The underlying REST client (list, cancel, redact, delete).
    pub fn client(&self) -> &TwilioClient {
        &self.client
    }

    /// The webhooks' verification and decoding.
    pub fn webhook(&self) -> &TwilioWebhook {
        &self.webhook
    }

    /// The create request for a message.
    pub fn request_for(&self, message: &Message) -> Result<CreateMessage> {
        let to = message.to.phone().ok_or_else(|| {
            Error::invalid_input(format!(
                "Twilio SMS goes to phone numbers, not to a {}",
                message.to.kind()
            ))
            .with_provider(SCHEME)
        })?;
        let mut r = CreateMessage::new(to.as_e164()).body(message.text.clone());
        if let Some(from) = &message.from {
            r = r.from(from.clone());
        }
        Ok(r)
    }
}

#[async_trait]
impl Transport for TwilioTransport {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::sms().with_status().with_delivery_reports().with_inbound()
    }

    async fn send(&self, message: &Message) -> Result<Receipt> {
        let request = self.request_for(message)?;
        let m = self.client.create_message(&request).await?;
        let status = m.message_status().delivery_status();
        let raw = serde_json::to_value(&m).unwrap_or_default();
        Ok(Receipt::new(SCHEME, message, m.sid.clone())
            .with_status(status)
            .with_raw(raw))
    }

    async fn status(&self, provider_id: &str) -> Result<StatusReport> {
        let m = self.client.fetch_message(provider_id).await?;
        let st = m.message_status();
        let mut report = StatusReport::new(m.sid.clone(), st.delivery_status(), st.as_str());
        if let Some(code) = m.error_code {
            report = report.with_error_code(code);
        }
        if let Some(text) = m.error_text() {
            report = report.with_error_message(scrub_numbers(text));
        }
        if let Some(charge) = m.charge() {
            report = report.with_price(charge);
        }
        if let Some(parts) = m.segments() {
            report = report.with_segments(parts);
        }
        if let Some(at) = m.updated_at() {
            report = report.with_at(at);
        }
        if let Some(to) = m.to.as_deref().and_then(|t| PhoneNumber::parse(t, None).ok()) {
            report = report.with_recipient(Recipient::Phone(to));
        }
        Ok(report.with_raw(serde_json::to_value(&m).unwrap_or_default()))
    }

    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<Handled> {
        self.webhook.handle(request).await
    }
}

//! [`EmailTransport`]: SMTP email as a switchboard [`Transport`].
//!
//! * `Recipient::Email` only. The message's `from` overrides the configured default; `subject`,
//!   `text` (the plain part), `html` (the alternative) and `attachments` map one to one. `data` is
//!   not interpreted: render a [`Template`](crate::Template) into the message first.
//! * The `Message-ID` is made from the switchboard message id (`<id@sender-domain>`), and is the
//!   receipt's provider id, so a retried or failed-over send is recognisable downstream.
//! * An accepted message has status `Sent`: the relay took responsibility. SMTP has no status lookup
//!   and no push, so `status` and `handle_webhook` are unsupported. Bounces arrive later as mail.
//! * In memory mode ([`Mode::Memory`](crate::Mode)), [`EmailTransport::outbox`] shows what "went out".

use async_trait::async_trait;
use switchboard_core::{Capabilities, DeliveryStatus, Dsn, Error, Message, Receipt, Recipient, Result, Transport};

use crate::SCHEME;
use crate::client::EmailClient;
use crate::config::{EmailConfig, Mode};
use crate::model::{Email, message_id_for};
use crate::outbox::Outbox;

/// SMTP email as a message transport. Build it from an [`EmailConfig`] or a DSN
/// (`smtp://USER:PASS@smtp.example.com?from=…`, `smtps://…`, `smtp://localhost?mode=memory`).
#[derive(Debug, Clone)]
pub struct EmailTransport {
    client: EmailClient,
}

impl EmailTransport {
    /// A transport for this configuration.
    pub fn new(config: EmailConfig) -> Result<Self> {
        Ok(EmailTransport {
            client: EmailClient::new(config)?,
        })
    }

    /// A transport from an `smtp://` / `smtps://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<Self> {
        Self::new(EmailConfig::from_dsn(dsn)?)
    }

    /// A transport from a DSN string.
    pub fn from_dsn_str(dsn: &str) -> Result<Self> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }

    /// The client (send full [`Email`]s with Cc, Bcc, Reply-To).
    pub fn client(&self) -> &EmailClient {
        &self.client
    }

    /// The outbox, in memory mode.
    pub fn outbox(&self) -> Option<&Outbox> {
        self.client.outbox()
    }

    /// The [`Email`] a switchboard message becomes.
    pub fn email_for(&self, message: &Message) -> Result<Email> {
        let Recipient::Email(to) = &message.to else {
            return Err(
                Error::invalid_input(format!("email goes to email addresses, not to a {}", message.to.kind()))
                    .with_provider(SCHEME),
            );
        };
        let from = message.from.clone().or_else(|| self.client.config().from.clone());
        let message_id = from.as_deref().map(|f| message_id_for(&message.id, f));
        Ok(Email {
            from,
            to: vec![to.clone()],
            subject: message.subject.clone().unwrap_or_default(),
            text: message.text.clone(),
            html: message.html.clone(),
            attachments: message.attachments.clone(),
            message_id,
            ..Email::default()
        })
    }
}

#[async_trait]
impl Transport for EmailTransport {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::none().with_email()
    }

    async fn send(&self, message: &Message) -> Result<Receipt> {
        let email = self.email_for(message)?;
        let accepted = self.client.send(&email).await?;
        let mode = match self.client.config().mode {
            Mode::Smtp => "smtp",
            Mode::Memory => "memory",
            Mode::File(_) => "file",
        };
        let raw = serde_json::json!({
            "message_id": accepted.message_id,
            "smtp_code": accepted.code,
            "smtp_reply": accepted.reply,
            "mode": mode,
        });
        let status = if mode == "smtp" {
            DeliveryStatus::Sent
        } else {
            DeliveryStatus::Accepted
        };
        Ok(Receipt::new(SCHEME, message, accepted.message_id.clone())
            .with_status(status)
            .with_raw(raw))
    }
}

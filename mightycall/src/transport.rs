//! [`MightyCallTransport`]: MightyCall as a switchboard [`Transport`].
//!
//! * `send` sends one SMS from the message's `from` (a business number) or the configured one.
//! * `send_many` is the default one-by-one: MightyCall's `to` is an array, but several receivers in one
//!   request may make one group conversation (everyone sees everyone's number), so messages are never
//!   merged.
//! * `status` reads the sent message's journal entry (provisional: the send answer's id is assumed to
//!   be the journal request id, as the simulator does; the journal states are mapped by
//!   [`map_message_state`](crate::model::map_message_state)).
//! * No webhooks: MightyCall documents none, so this transport receives none (and its simulator pushes
//!   none). Sync history with [`MightyCallClient::history`](crate::MightyCallClient::history) instead.

use std::sync::Arc;

use async_trait::async_trait;
use switchboard_core::{
    Capabilities, Dispatch, Dsn, Error, Message, PhoneNumber, Receipt, Recipient, Result, StatusReport, Transport,
};

use crate::SCHEME;
use crate::client::MightyCallClient;
use crate::config::MightyCallConfig;
use crate::model::SendMessageRequest;
use switchboard_core::clock::Clock;

/// MightyCall as a [`Transport`]. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct MightyCallTransport {
    client: MightyCallClient,
}

impl MightyCallTransport {
    /// A transport for `config`.
    pub fn new(config: MightyCallConfig) -> Result<MightyCallTransport> {
        Ok(MightyCallTransport {
            client: MightyCallClient::new(config)?,
        })
    }

    /// A transport whose token cache reads `clock`.
    pub fn with_clock(config: MightyCallConfig, clock: Arc<dyn Clock>) -> Result<MightyCallTransport> {
        Ok(MightyCallTransport {
            client: MightyCallClient::with_clock(config, clock)?,
        })
    }

    /// A transport from a `mightycall://API_KEY:USER_KEY@default?from=%2B1…` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<MightyCallTransport> {
        Self::new(MightyCallConfig::from_dsn(dsn)?)
    }

    /// A transport from a DSN string.
    pub fn from_dsn_str(dsn: &str) -> Result<MightyCallTransport> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }

    /// The client, for the journal, history sync and business numbers.
    pub fn client(&self) -> &MightyCallClient {
        &self.client
    }

    fn business_number(&self, m: &Message) -> Result<PhoneNumber> {
        match &m.from {
            Some(f) => PhoneNumber::parse(f, None).map_err(|e| {
                Error::invalid_input(format!(
                    "a MightyCall sender must be one of the account's business numbers in E.164 ({e})"
                ))
                .with_provider(SCHEME)
            }),
            None => self.client.config().from.clone().ok_or_else(|| {
                Error::config("no business number: set `from` in the MightyCall DSN or on the message")
                    .with_provider(SCHEME)
            }),
        }
    }
}

#[async_trait]
impl Transport for MightyCallTransport {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::sms().with_status()
    }

    async fn send(&self, message: &Message) -> Result<Receipt> {
        let to = match &message.to {
            Recipient::Phone(p) => p,
            other => {
                return Err(Error::unsupported(format!(
                    "MightyCall sends SMS to phone numbers, not to a {}",
                    other.kind()
                ))
                .with_provider(SCHEME));
            }
        };
        if message.text.is_empty() {
            return Err(Error::invalid_input("the message text is empty").with_provider(SCHEME));
        }
        let from = self.business_number(message)?;
        let request = SendMessageRequest::new(&from, to, message.text.clone());
        let result = self.client.send_message(&request).await?;
        let id = match result.id {
            Some(id) => id,
            // A 2xx that neither names an id nor says `isSuccess: true` (an empty object, a proxy's
            // JSON): nothing proves MightyCall took the message, so it is no receipt. It may be out,
            // so it is not NotSent either: the host checks the journal before resending.
            None if result.raw.get("isSuccess").and_then(serde_json::Value::as_bool) != Some(true) => {
                return Err(Error::decode(
                    "MightyCall answered the send without a message id or a success flag; it may be out, \
                     check the journal before resending",
                )
                .with_provider(SCHEME)
                .with_dispatch(Dispatch::Sent));
            }
            None => {
                // Accepted, but the answer names no id we know: the message is out, it just cannot be
                // looked up. Keep the answer in the receipt.
                tracing::warn!("MightyCall accepted a message without an id in its answer");
                String::new()
            }
        };
        Ok(Receipt::new(SCHEME, message, id).with_raw(result.raw))
    }

    async fn status(&self, provider_id: &str) -> Result<StatusReport> {
        let rec = self.client.journal_request(provider_id).await?;
        let mut report = StatusReport::new(
            rec.id.clone(),
            rec.delivery_status(),
            rec.state.clone().unwrap_or_default(),
        );
        if let Some(p) = rec.party_to().and_then(|t| PhoneNumber::parse(t, None).ok()) {
            report = report.with_recipient(Recipient::Phone(p));
        }
        if let Some(at) = rec.at() {
            report = report.with_at(at);
        }
        Ok(report.with_raw(serde_json::to_value(&rec).unwrap_or_default()))
    }
}

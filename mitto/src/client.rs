//! The Mitto client: one async method per API operation, each answering a typed value or an
//! [`Error`] with the right kind and dispatch fact.
//!
//! Every request goes through core's [`Pipeline`] over [`MittoApi`]: the key header on each attempt,
//! answers read by [`parse_error`](crate::error::parse_error), and the configured
//! [`RetryPolicy`](switchboard_core::RetryPolicy): sends are retried only when nothing was sent — a
//! refused connection, a 429 or 503 before Mitto acted; lookups and usage reports are reads and are
//! retried on any temporary failure. A 2xx whose answer cannot be read is `Decode` + `Sent`.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::pipeline::Pipeline;
use switchboard_core::{Error, Idempotence, Result};

use crate::SCHEME;
use crate::api::MittoApi;
use crate::config::MittoConfig;
use crate::model::{
    BulkSmsRequest, BulkSmsResponse, MessageRecord, MessagingBulkRequest, MessagingSendRequest, MessagingSendResponse,
    SmsRequest, SmsResponse, UsageRequest, UsageRow,
};
use crate::sender::{self, LEGACY_SENDER, MESSAGING_SENDER};

/// Paths of the legacy API (relative to [`MittoConfig::legacy_base_url`]).
mod legacy_path {
    pub const SMS: &str = "/sms";
    pub const SMS_BULK: &str = "/smsbulk";
    pub const SMS_CONVERTED: &str = "/sms/converted";
    pub const USAGE_BY_COUNTRY: &str = "/usage/bycountry";
}

/// Paths of the messaging API (relative to [`MittoConfig::messaging_base_url`]). The docs page writes
/// `/message/send`; working third-party code uses these, which match the generated spec.
mod messaging_path {
    pub const SEND: &str = "/api/v1.1/Messages/send";
    pub const SEND_BULK: &str = "/api/v1.1/Messages/sendbulk";
    pub const MESSAGES: &str = "/api/v1.1/Messages";
}

/// A Mitto API client. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct MittoClient {
    pipeline: std::sync::Arc<Pipeline<MittoApi>>,
    config: MittoConfig,
}

impl fmt::Debug for MittoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MittoClient").field("config", &self.config).finish()
    }
}

impl MittoClient {
    /// A client for `config` (checked first).
    pub fn new(config: MittoConfig) -> Result<MittoClient> {
        config.validate().map_err(|e| e.with_provider(SCHEME))?;
        let api = MittoApi::new(config.api_key.clone());
        let pipeline = Pipeline::new(api, &config.http, config.retry.clone())?;
        Ok(MittoClient {
            pipeline: std::sync::Arc::new(pipeline),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MittoConfig {
        &self.config
    }

    // ----------------------------------------------------------------------------------------------
    // Legacy API
    // ----------------------------------------------------------------------------------------------

    /// `POST /sms`: sends one SMS. The sender is checked against the legacy rules (alphanumeric 3–11,
    /// numeric 3–14) and the receiver and text for emptiness before anything is sent.
    pub async fn send_sms(&self, request: &SmsRequest) -> Result<SmsResponse> {
        sender::check(&request.from, &LEGACY_SENDER).map_err(|e| e.with_provider(SCHEME))?;
        check_receiver(&request.to)?;
        check_text(&request.text)?;
        check_validity(request.validity)?;
        check_udh(request.udh.as_deref())?;
        let resp: SmsResponse = self
            .legacy_post(legacy_path::SMS, request, Idempotence::NotIdempotent)
            .await?;
        if resp.id.is_none() && resp.test != Some(true) {
            return Err(
                Error::decode("Mitto accepted the SMS but its answer carries no message id").with_provider(SCHEME),
            );
        }
        Ok(resp)
    }

    /// `POST /smsbulk`: sends one text to many receivers in one request.
    pub async fn send_sms_bulk(&self, request: &BulkSmsRequest) -> Result<BulkSmsResponse> {
        sender::check(&request.from, &LEGACY_SENDER).map_err(|e| e.with_provider(SCHEME))?;
        if request.to.is_empty() {
            return Err(Error::invalid_input("a bulk SMS needs at least one receiver").with_provider(SCHEME));
        }
        for to in &request.to {
            check_receiver(to)?;
        }
        check_text(&request.text)?;
        check_validity(request.validity)?;
        self.legacy_post(legacy_path::SMS_BULK, request, Idempotence::NotIdempotent)
            .await
    }

    /// `POST /usage/bycountry`: messages and cost per country over a date range.
    pub async fn usage_by_country(&self, request: &UsageRequest) -> Result<Vec<UsageRow>> {
        if request.end_date < request.start_date {
            return Err(Error::invalid_input("the usage range ends before it starts").with_provider(SCHEME));
        }
        self.legacy_post(legacy_path::USAGE_BY_COUNTRY, request, Idempotence::Idempotent)
            .await
    }

    /// `POST /sms/converted`: marks a message as converted (the feature must be enabled on the account;
    /// otherwise Mitto answers 400). Marking twice is harmless, so it is retried like a read.
    pub async fn mark_converted(&self, message_id: &str) -> Result<()> {
        check_id(message_id)?;
        let body = serde_json::json!({ "messageId": message_id });
        let url = format!("{}{}", self.config.legacy_base_url, legacy_path::SMS_CONVERTED);
        self.pipeline
            .reply(Idempotence::Idempotent, |http| http.post(&url).json(&body))
            .await
            .map(|_| ())
    }

    async fn legacy_post<B, T>(&self, path: &str, body: &B, idempotence: Idempotence) -> Result<T>
    where
        B: Serialize + Sync + ?Sized,
        T: DeserializeOwned,
    {
        let url = format!("{}{}", self.config.legacy_base_url, path);
        self.pipeline.json(idempotence, |http| http.post(&url).json(body)).await
    }

    // ----------------------------------------------------------------------------------------------
    // Messaging API
    // ----------------------------------------------------------------------------------------------

    /// `POST /api/v1.1/Messages/send`: sends one SMS through a traffic account.
    pub async fn send_message(&self, request: &MessagingSendRequest) -> Result<MessagingSendResponse> {
        sender::check(&request.sms.sender, &MESSAGING_SENDER).map_err(|e| e.with_provider(SCHEME))?;
        check_text(&request.sms.text)?;
        let resp: MessagingSendResponse = self.messaging_post(messaging_path::SEND, request).await?;
        if resp.messages.is_empty() {
            return Err(
                Error::decode("Mitto accepted the message but its answer lists no message id").with_provider(SCHEME),
            );
        }
        Ok(resp)
    }

    /// `POST /api/v1.1/Messages/sendbulk`: one SMS to many destinations.
    pub async fn send_message_bulk(&self, request: &MessagingBulkRequest) -> Result<MessagingSendResponse> {
        sender::check(&request.sms.sender, &MESSAGING_SENDER).map_err(|e| e.with_provider(SCHEME))?;
        check_text(&request.sms.text)?;
        if request.destinations.is_empty() {
            return Err(Error::invalid_input("a bulk send needs at least one destination").with_provider(SCHEME));
        }
        self.messaging_post(messaging_path::SEND_BULK, request).await
    }

    /// `GET /api/v1.1/Messages/{messageId}`: the message with its delivery status.
    pub async fn get_message(&self, message_id: &str) -> Result<MessageRecord> {
        check_id(message_id)?;
        let mut url = url::Url::parse(&format!(
            "{}{}",
            self.config.messaging_base_url,
            messaging_path::MESSAGES
        ))
        .map_err(|_| Error::config("the Mitto messaging base URL is not a valid URL").with_provider(SCHEME))?;
        url.path_segments_mut()
            .map_err(|_| Error::config("the Mitto messaging base URL cannot take a path").with_provider(SCHEME))?
            .push(message_id);
        self.pipeline
            .json(Idempotence::Idempotent, |http| http.get(url.clone()))
            .await
    }

    async fn messaging_post<B, T>(&self, path: &str, body: &B) -> Result<T>
    where
        B: Serialize + Sync + ?Sized,
        T: DeserializeOwned,
    {
        let url = format!("{}{}", self.config.messaging_base_url, path);
        self.pipeline
            .json(Idempotence::NotIdempotent, |http| http.post(&url).json(body))
            .await
    }
}

fn check_receiver(to: &str) -> Result<()> {
    let digits = to.strip_prefix('+').unwrap_or(to);
    if digits.is_empty() {
        return Err(Error::invalid_input("the receiver is empty").with_provider(SCHEME));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 15 {
        return Err(Error::invalid_input("the receiver must be E.164 digits (at most 15)").with_provider(SCHEME));
    }
    Ok(())
}

fn check_text(text: &str) -> Result<()> {
    if text.is_empty() {
        return Err(Error::invalid_input("the message text is empty").with_provider(SCHEME));
    }
    Ok(())
}

/// Mitto's `validity` is a 32-bit integer of minutes (Mitto's Power Platform connector: `validity`,
/// `integer`, `int32`); 0 or a value beyond it is refused before anything is sent.
fn check_validity(minutes: Option<u32>) -> Result<()> {
    match minutes {
        Some(m) if m == 0 || i32::try_from(m).is_err() => {
            Err(Error::invalid_input(format!("the validity must be 1 to {} minutes", i32::MAX)).with_provider(SCHEME))
        }
        _ => Ok(()),
    }
}

/// `udh` is a hex-encoded User Data Header (docs.mitto.ch, "SMS/Bulk SMS API Reference").
fn check_udh(udh: Option<&str>) -> Result<()> {
    match udh {
        Some(h) if h.is_empty() || h.len() % 2 != 0 || !h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Err(Error::invalid_input("the user data header must be hex digits, two per byte").with_provider(SCHEME))
        }
        _ => Ok(()),
    }
}

fn check_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_control()) {
        return Err(Error::invalid_input("the Mitto message id is empty or malformed").with_provider(SCHEME));
    }
    Ok(())
}

//! Updates Telegram pushes to the host's webhook: [`TelegramWebhook`] verifies them, decodes them and
//! turns them into events.
//!
//! Telegram does not sign updates; it sends back, in `X-Telegram-Bot-Api-Secret-Token`, the static
//! `secret_token` given to `setWebhook` (<https://core.telegram.org/bots/api#setwebhook>).
//! [`Webhook::verify`] compares it in constant time and refuses to run without a configured secret,
//! so an unprotected webhook cannot be deployed by accident. A failed check is an `Auth` error, which
//! the host answers 401 ([`WebhookAnswer::for_error`](switchboard_core::WebhookAnswer::for_error)); a good update is answered 200 with an empty
//! body, quickly: Telegram redelivers until it gets a 2xx.
//!
//! Events ([`TelegramWebhook::events`]): a new text message or channel post becomes `Event::Inbound`
//! (provider id `chat_id:message_id`, the key to deduplicate redeliveries on; `from` the sender's user
//! id, `to` the chat id); every other update (edits, callback queries, membership changes…) becomes
//! `Event::Other` with the update kept whole. Commands are routed by the transport
//! ([`TelegramTransport`](crate::TelegramTransport)), which reads the update with
//! [`TelegramWebhook::verified_update`].

use chrono::{TimeZone, Utc};
use switchboard_core::secret::secret_eq;
use switchboard_core::webhook::unauthenticated;
use switchboard_core::{Error, Event, ExposeSecret, InboundMessage, Result, SecretString, Webhook, WebhookRequest};

use crate::SCHEME;
use crate::config::TelegramConfig;
use crate::model::Update;

/// The header carrying the webhook's secret token.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// A bot's webhook: the secret token it checks. See the [module docs](self).
#[derive(Clone)]
pub struct TelegramWebhook {
    secret: Option<SecretString>,
}

/// Never shows the secret.
impl std::fmt::Debug for TelegramWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramWebhook")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}

impl TelegramWebhook {
    /// A webhook checking `secret` (the `secret_token` given to `setWebhook`); without one, every
    /// update is refused with a `Config` error.
    pub fn new(secret: Option<SecretString>) -> Self {
        TelegramWebhook { secret }
    }

    /// The webhook of a configured bot (its `webhook_secret`).
    pub fn from_config(config: &TelegramConfig) -> Self {
        Self::new(config.webhook_secret.clone())
    }

    /// Verifies the request and reads the update in it.
    pub fn verified_update(&self, request: &WebhookRequest) -> Result<Update> {
        self.verify(request)?;
        Self::parse_update(request)
    }

    /// Reads the update in a request's body, without verifying it. Anything but a POST of an update
    /// is `InvalidInput`.
    pub fn parse_update(request: &WebhookRequest) -> Result<Update> {
        if request.method != http::Method::POST {
            return Err(
                Error::invalid_input("Telegram posts updates; this request is not a POST").with_provider(SCHEME),
            );
        }
        request.json::<Update>().map_err(|e| e.with_provider(SCHEME))
    }

    /// The events an update stands for.
    pub fn events(update: &Update) -> Vec<Event> {
        let raw = serde_json::to_value(update).unwrap_or_default();
        match update.new_message() {
            Some(m) if m.text.is_some() => {
                let from = m.from.as_ref().map_or(m.chat.id, |u| u.id);
                let mut inbound = InboundMessage::new(
                    format!("{}:{}", m.chat.id, m.message_id),
                    from.to_string(),
                    m.text.clone().unwrap_or_default(),
                )
                .with_to(m.chat.id.to_string())
                .with_raw(raw);
                if let Some(at) = Utc.timestamp_opt(m.date, 0).single().filter(|_| m.date > 0) {
                    inbound = inbound.with_received_at(at);
                }
                vec![Event::Inbound(inbound)]
            }
            _ => vec![Event::Other {
                kind: update.kind().to_owned(),
                raw,
            }],
        }
    }
}

#[switchboard_core::async_trait]
impl Webhook for TelegramWebhook {
    /// Checks the secret token header against the configured secret in constant time. No configured
    /// secret is a `Config` error; a missing or wrong header is `Auth`.
    fn verify(&self, request: &WebhookRequest) -> Result<()> {
        let secret = self
            .secret
            .as_ref()
            .filter(|s| !s.expose_secret().is_empty())
            .ok_or_else(|| {
                Error::config(
                    "Telegram webhooks need a secret token (webhook_secret); refusing to accept unverified updates",
                )
                .with_provider(SCHEME)
            })?;
        match request.header(SECRET_HEADER) {
            None => Err(unauthenticated("the update carries no X-Telegram-Bot-Api-Secret-Token").with_provider(SCHEME)),
            Some(v) if secret_eq(v, secret) => Ok(()),
            Some(_) => Err(unauthenticated("the update's secret token is wrong").with_provider(SCHEME)),
        }
    }

    /// The update's events ([`TelegramWebhook::events`]).
    fn decode(&self, request: &WebhookRequest) -> Result<Vec<Event>> {
        Ok(Self::events(&Self::parse_update(request)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ErrorKind;
    use switchboard_core::secret::secret;

    fn req(body: &str) -> WebhookRequest {
        WebhookRequest::post("https://bot.example/tg", body.to_owned())
    }

    fn handle(r: &WebhookRequest, s: Option<&SecretString>) -> Result<Update> {
        TelegramWebhook::new(s.cloned()).verified_update(r)
    }

    #[test]
    fn secret_checks() {
        let s = secret("Sup3r_secret-token");
        let body =
            r#"{"update_id":1,"message":{"message_id":2,"chat":{"id":3,"type":"private"},"date":1,"text":"hi"}}"#;
        let good = req(body).with_header(SECRET_HEADER, "Sup3r_secret-token");
        assert_eq!(handle(&good, Some(&s)).unwrap().update_id, 1);
        let e = handle(&req(body), Some(&s)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        let wrong = req(body).with_header(SECRET_HEADER, "Sup3r_secret-tokeN");
        let e = handle(&wrong, Some(&s)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth);
        assert!(!e.to_string().contains("Sup3r"));
        assert_eq!(handle(&good, None).unwrap_err().kind(), ErrorKind::Config);
        assert_eq!(handle(&good, Some(&secret(""))).unwrap_err().kind(), ErrorKind::Config);
    }

    #[test]
    fn garbage_is_invalid_input() {
        let s = secret("t");
        for body in ["", "{", "[]", "null", "{\"update_id\":\"x\"}", "{\"message\":{}}"] {
            let r = req(body).with_header(SECRET_HEADER, "t");
            assert_eq!(
                handle(&r, Some(&s)).unwrap_err().kind(),
                ErrorKind::InvalidInput,
                "{body}"
            );
        }
        let get = WebhookRequest::get("https://bot.example/tg").with_header(SECRET_HEADER, "t");
        assert_eq!(handle(&get, Some(&s)).unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn events_by_kind() {
        let u: Update = serde_json::from_str(
            r#"{"update_id":9,"message":{"message_id":2,"from":{"id":77,"is_bot":false,"first_name":"A"},
                "chat":{"id":-100,"type":"group"},"date":1700000000,"text":"hello"}}"#,
        )
        .unwrap();
        let Event::Inbound(m) = &TelegramWebhook::events(&u)[0] else {
            panic!()
        };
        assert_eq!(
            (m.provider_id.as_str(), m.from.as_str(), m.to.as_deref()),
            ("-100:2", "77", Some("-100"))
        );
        assert_eq!(m.text, "hello");
        assert!(m.received_at.is_some());
        let u: Update = serde_json::from_str(r#"{"update_id":9,"callback_query":{"id":"q","data":"buy"}}"#).unwrap();
        let Event::Other { kind, raw } = &TelegramWebhook::events(&u)[0] else {
            panic!()
        };
        assert_eq!(
            (kind.as_str(), &raw["callback_query"]["data"]),
            ("callback_query", &serde_json::json!("buy"))
        );
    }
}

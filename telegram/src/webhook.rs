//! Updates Telegram pushes to the host's webhook: verified, decoded, turned into events.
//!
//! Telegram does not sign updates; it sends back, in `X-Telegram-Bot-Api-Secret-Token`, the static
//! `secret_token` given to `setWebhook`. [`verify`] compares it in constant time and refuses to run
//! without a configured secret, so an unprotected webhook cannot be deployed by accident. Answer a
//! failed check with 403 (and a good update with 200 quickly: Telegram redelivers until it gets 2xx).
//!
//! Events ([`events`]): a new text message or channel post becomes `Event::Inbound` (provider id
//! `chat_id:message_id`, the key to deduplicate redeliveries on; `from` the sender's user id, `to`
//! the chat id); every other update (edits, callback queries, membership changes…) becomes
//! `Event::Other` with the update kept whole.

use chrono::{TimeZone, Utc};
use switchboard_core::secret::secret_eq;
use switchboard_core::webhook::unauthenticated;
use switchboard_core::{Error, Event, InboundMessage, Result, SecretString, WebhookRequest};

use super::SCHEME;
use super::model::Update;

/// The header carrying the webhook's secret token.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// Checks the secret token header against `secret` in constant time.
///
/// No configured secret is a `Config` error; a missing or wrong header is `Auth`.
pub fn verify(request: &WebhookRequest, secret: Option<&SecretString>) -> Result<()> {
    use switchboard_core::ExposeSecret;
    let secret = secret.filter(|s| !s.expose_secret().is_empty()).ok_or_else(|| {
        Error::config("Telegram webhooks need a secret token (webhook_secret); refusing to accept unverified updates")
            .with_provider(SCHEME)
    })?;
    match request.header(SECRET_HEADER) {
        None => Err(unauthenticated("the update carries no X-Telegram-Bot-Api-Secret-Token").with_provider(SCHEME)),
        Some(v) if secret_eq(v, secret) => Ok(()),
        Some(_) => Err(unauthenticated("the update's secret token is wrong").with_provider(SCHEME)),
    }
}

/// Decodes the update in the body. Anything else is `InvalidInput`.
pub fn decode(request: &WebhookRequest) -> Result<Update> {
    if request.method != http::Method::POST {
        return Err(Error::invalid_input("Telegram posts updates; this request is not a POST").with_provider(SCHEME));
    }
    request.json::<Update>().map_err(|e| e.with_provider(SCHEME))
}

/// Verifies and decodes one pushed update.
pub fn handle(request: &WebhookRequest, secret: Option<&SecretString>) -> Result<Update> {
    verify(request, secret)?;
    decode(request)
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

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::ErrorKind;
    use switchboard_core::secret::secret;

    fn req(body: &str) -> WebhookRequest {
        WebhookRequest::post("https://bot.example/tg", body.to_owned())
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
        let Event::Inbound(m) = &events(&u)[0] else { panic!() };
        assert_eq!(
            (m.provider_id.as_str(), m.from.as_str(), m.to.as_deref()),
            ("-100:2", "77", Some("-100"))
        );
        assert_eq!(m.text, "hello");
        assert!(m.received_at.is_some());
        let u: Update = serde_json::from_str(r#"{"update_id":9,"callback_query":{"id":"q","data":"buy"}}"#).unwrap();
        let Event::Other { kind, raw } = &events(&u)[0] else {
            panic!()
        };
        assert_eq!(
            (kind.as_str(), &raw["callback_query"]["data"]),
            ("callback_query", &serde_json::json!("buy"))
        );
    }
}

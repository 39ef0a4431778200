//! [`MittoTransport`]: Mitto as a switchboard [`Transport`].
//!
//! * `send` goes through the API the configuration selects (legacy `/sms` or messaging
//!   `/Messages/send`), with the sender checked and the legacy `type` chosen from the text's
//!   segmentation.
//! * `send_many` groups messages with the same sender and text and sends each group through the bulk
//!   endpoint (`/smsbulk` or `/Messages/sendbulk`), answering one result per message in order.
//! * `status` looks a message up on the messaging API; the legacy API has no lookup (its delivery
//!   reports come by webhook), so there it is `Unsupported`.
//! * `handle_webhook` verifies the callback URL's secret and decodes delivery reports of both APIs.

use std::collections::BTreeMap;

use async_trait::async_trait;
use switchboard_core::{
    Capabilities, DeliveryStatus, Dsn, Error, ExposeSecret, Handled, Message, PhoneNumber, Receipt, Recipient, Result,
    StatusReport, Transport, Webhook, WebhookRequest,
};

use crate::SCHEME;
use crate::client::MittoClient;
use crate::config::{Flavour, MittoConfig};
use crate::model::{
    BulkSmsRequest, MessagingBulkRequest, MessagingSendRequest, SmsContent, SmsRequest, map_delivery_status,
};
use crate::webhook::MittoWebhook;

/// The most receivers put in one bulk request.
///
/// Unsure limit: Mitto documents none for `/smsbulk` or `/Messages/sendbulk`. 500 keeps a request body
/// around 10 KB of numbers plus the text, far below any plausible cap; a bigger group is split.
pub const BULK_MAX_RECIPIENTS: usize = 500;

/// The `Message::data` key whose value is sent as the legacy `reference` (echoed in delivery reports).
/// Without it a single legacy send uses the message's own id, so reports name the message.
pub const REFERENCE_KEY: &str = "reference";

/// Mitto as a [`Transport`]. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct MittoTransport {
    client: MittoClient,
    webhook: MittoWebhook,
}

impl MittoTransport {
    /// A transport for `config`.
    pub fn new(config: MittoConfig) -> Result<MittoTransport> {
        Ok(MittoTransport {
            webhook: MittoWebhook::from_config(&config),
            client: MittoClient::new(config)?,
        })
    }

    /// A transport from a `mitto://API_KEY@default?from=SENDER…` DSN (see [`MittoConfig::from_dsn`]).
    pub fn from_dsn(dsn: &Dsn) -> Result<MittoTransport> {
        Self::new(MittoConfig::from_dsn(dsn)?)
    }

    /// A transport from a DSN string.
    pub fn from_dsn_str(dsn: &str) -> Result<MittoTransport> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }

    /// The client, for the operations a transport does not cover (usage, conversions).
    pub fn client(&self) -> &MittoClient {
        &self.client
    }

    /// The delivery-report webhook (verification and decoding without a transport round trip).
    pub fn webhook(&self) -> &MittoWebhook {
        &self.webhook
    }

    fn config(&self) -> &MittoConfig {
        self.client.config()
    }

    fn sender_of<'a>(&'a self, m: &'a Message) -> Result<&'a str> {
        m.from.as_deref().or(self.config().from.as_deref()).ok_or_else(|| {
            Error::config("no sender: set `from` in the Mitto DSN or on the message").with_provider(SCHEME)
        })
    }

    fn traffic_account(&self) -> Result<&str> {
        self.config()
            .traffic_account_id
            .as_deref()
            .ok_or_else(|| Error::config("the Mitto messaging API needs a traffic account id").with_provider(SCHEME))
    }

    fn legacy_request(&self, m: &Message, to: &PhoneNumber) -> Result<SmsRequest> {
        let c = self.config();
        let reference = m.data.get(REFERENCE_KEY).cloned().unwrap_or_else(|| m.id.to_string());
        let mut req = SmsRequest::new(self.sender_of(m)?, to, m.text.clone()).with_reference(reference);
        if let Some(v) = c.validity_minutes {
            req = req.with_validity(v);
        }
        if let Some(cb) = &c.callback_url {
            req = req.with_callback(cb.expose_secret());
        }
        if c.test {
            req = req.with_test(true);
        }
        Ok(req)
    }

    async fn send_legacy(&self, m: &Message, to: &PhoneNumber) -> Result<Receipt> {
        let req = self.legacy_request(m, to)?;
        let resp = self.client.send_sms(&req).await?;
        let raw = serde_json::to_value(&resp).unwrap_or_default();
        // In test mode Mitto may answer without an id; nothing was sent, so nothing can be looked up.
        let id = resp.id.unwrap_or_default();
        Ok(Receipt::new(SCHEME, m, id).with_raw(raw))
    }

    async fn send_messaging(&self, m: &Message, to: &PhoneNumber) -> Result<Receipt> {
        let req = MessagingSendRequest::new(
            self.traffic_account()?,
            to,
            SmsContent::new(m.text.clone(), self.sender_of(m)?),
        );
        let resp = self.client.send_message(&req).await?;
        let raw = serde_json::to_value(&resp).unwrap_or_default();
        let ids: Vec<String> = resp.messages.into_iter().map(|s| s.message_id).collect();
        let mut receipt = Receipt::new(SCHEME, m, ids.first().cloned().unwrap_or_default()).with_raw(raw);
        receipt.provider_ids = ids;
        Ok(receipt)
    }

    /// Sends one group (same sender and text) through the bulk endpoint and answers one result per
    /// member, in order.
    async fn send_group(&self, group: &[(&Message, &PhoneNumber)]) -> Vec<Result<Receipt>> {
        let Some((first, _)) = group.first() else {
            return Vec::new();
        };
        let sender = match self.sender_of(first) {
            Ok(s) => s.to_owned(),
            Err(e) => return group.iter().map(|_| Err(e.replicate())).collect(),
        };
        let phones = group.iter().map(|(_, p)| *p);
        // One (id, raw entry) per member; each receipt keeps its own entry of the answer.
        let outcome: Result<Vec<Option<(String, serde_json::Value)>>> = match self.config().api {
            Flavour::Legacy => {
                let c = self.config();
                let mut req = BulkSmsRequest::new(sender, phones, first.text.clone());
                if let Some(r) = first.data.get(REFERENCE_KEY) {
                    req = req.with_reference(r.clone());
                }
                if let Some(v) = c.validity_minutes {
                    req = req.with_validity(v);
                }
                if let Some(cb) = &c.callback_url {
                    req = req.with_callback(cb.expose_secret());
                }
                if c.test {
                    req = req.with_test(true);
                }
                self.client.send_sms_bulk(&req).await.map(|resp| {
                    let test = resp.test == Some(true);
                    let tos: Vec<Option<String>> = resp.messages.iter().map(|m| m.to.clone()).collect();
                    match_entries(&req.to, &tos)
                        .into_iter()
                        .map(|j| {
                            let m = resp.messages.get(j?)?;
                            // In test mode Mitto may leave ids out, as for a single test send.
                            let id = m.id.clone().or_else(|| test.then(String::new))?;
                            let mut raw = serde_json::to_value(m).unwrap_or_default();
                            if let Some(o) = raw.as_object_mut() {
                                o.insert("responseCode".into(), resp.response_code.into());
                                o.insert("test".into(), test.into());
                            }
                            Some((id, raw))
                        })
                        .collect()
                })
            }
            Flavour::Messaging => match self.traffic_account() {
                Err(e) => Err(e),
                Ok(ta) => {
                    let req = MessagingBulkRequest::new(ta, phones, SmsContent::new(first.text.clone(), sender));
                    self.client.send_message_bulk(&req).await.map(|resp| {
                        let tos: Vec<Option<String>> = resp
                            .messages
                            .iter()
                            .map(|m| m.extra.get("destination").and_then(|d| d.as_str()).map(str::to_owned))
                            .collect();
                        match_entries(&req.destinations, &tos)
                            .into_iter()
                            .map(|j| {
                                let m = resp.messages.get(j?)?;
                                let mut raw = serde_json::to_value(m).unwrap_or_default();
                                if let (Some(o), Some(b)) = (raw.as_object_mut(), &resp.bulk_id) {
                                    o.insert("bulkId".into(), b.clone().into());
                                }
                                Some((m.message_id.clone(), raw))
                            })
                            .collect()
                    })
                }
            },
        };
        match outcome {
            Err(e) => group.iter().map(|_| Err(e.replicate())).collect(),
            Ok(found) => group
                .iter()
                .zip(found)
                .map(|((m, _), hit)| match hit {
                    Some((id, raw)) => Ok(Receipt::new(SCHEME, m, id).with_raw(raw)),
                    None => Err(Error::decode(
                        "Mitto accepted the bulk request but its answer names no message id for this receiver",
                    )
                    .with_provider(SCHEME)),
                })
                .collect(),
        }
    }
}

/// Matches a bulk answer's entries to the receivers sent, answering for each receiver the index of its
/// entry. When every entry names its receiver they are matched by it (a receiver listed twice takes its
/// entries in order); otherwise by position, if the counts agree. Unmatched receivers get `None`.
fn match_entries(sent: &[String], entry_to: &[Option<String>]) -> Vec<Option<usize>> {
    let norm = |s: &str| s.trim().trim_start_matches('+').to_owned();
    if !entry_to.is_empty() && entry_to.iter().all(Option::is_some) {
        let mut used = vec![false; entry_to.len()];
        return sent
            .iter()
            .map(|s| {
                let want = norm(s);
                let j = (0..entry_to.len())
                    .find(|&j| !used[j] && entry_to[j].as_deref().map(norm).as_deref() == Some(want.as_str()))?;
                used[j] = true;
                Some(j)
            })
            .collect();
    }
    if entry_to.len() == sent.len() {
        return (0..sent.len()).map(Some).collect();
    }
    vec![None; sent.len()]
}

fn phone_of(m: &Message) -> Result<&PhoneNumber> {
    match &m.to {
        Recipient::Phone(p) => Ok(p),
        other => Err(
            Error::unsupported(format!("Mitto sends SMS to phone numbers, not to a {}", other.kind()))
                .with_provider(SCHEME),
        ),
    }
}

#[async_trait]
impl Transport for MittoTransport {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn capabilities(&self) -> Capabilities {
        let caps = Capabilities::sms().with_delivery_reports();
        match self.config().api {
            Flavour::Legacy => caps,
            Flavour::Messaging => caps.with_status(),
        }
    }

    async fn send(&self, message: &Message) -> Result<Receipt> {
        let to = phone_of(message)?;
        match self.config().api {
            Flavour::Legacy => self.send_legacy(message, to).await,
            Flavour::Messaging => self.send_messaging(message, to).await,
        }
    }

    async fn send_many(&self, messages: &[Message]) -> Vec<Result<Receipt>> {
        let mut out: Vec<Option<Result<Receipt>>> = messages.iter().map(|_| None).collect();
        // Group by (sender, text, reference): one bulk request carries one text and one reference.
        let mut groups: BTreeMap<(Option<&str>, &str, Option<&str>), Vec<usize>> = BTreeMap::new();
        for (i, m) in messages.iter().enumerate() {
            match phone_of(m) {
                Err(e) => out[i] = Some(Err(e)),
                Ok(_) => groups
                    .entry((
                        m.from.as_deref(),
                        m.text.as_str(),
                        m.data.get(REFERENCE_KEY).map(String::as_str),
                    ))
                    .or_default()
                    .push(i),
            }
        }
        let mut order: Vec<Vec<usize>> = groups.into_values().collect();
        order.sort_by_key(|g| g.first().copied());
        for group in order {
            for chunk in group.chunks(BULK_MAX_RECIPIENTS) {
                if let [i] = chunk {
                    out[*i] = Some(self.send(&messages[*i]).await);
                    continue;
                }
                let members: Vec<(&Message, &PhoneNumber)> = chunk
                    .iter()
                    .filter_map(|i| phone_of(&messages[*i]).ok().map(|p| (&messages[*i], p)))
                    .collect();
                for (i, r) in chunk.iter().zip(self.send_group(&members).await) {
                    out[*i] = Some(r);
                }
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::decode("no result for this message").with_provider(SCHEME))))
            .collect()
    }

    async fn status(&self, provider_id: &str) -> Result<StatusReport> {
        if self.config().api == Flavour::Legacy {
            return Err(Error::unsupported(
                "the legacy Mitto SMS API has no status lookup: delivery reports arrive by webhook; to look \
                 messages up, send through the messaging API (DSN options api=messaging&traffic_account=…)",
            )
            .with_provider(SCHEME));
        }
        let rec = self.client.get_message(provider_id).await?;
        let raw_status = rec.delivery_status.clone().unwrap_or_default();
        let status = if raw_status.is_empty() {
            DeliveryStatus::Unknown
        } else {
            map_delivery_status(&raw_status)
        };
        let at = rec
            .updated_at
            .as_deref()
            .or(rec.created_at.as_deref())
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&chrono::Utc));
        let mut report = StatusReport::new(rec.message_id.clone(), status, raw_status)
            .with_raw(serde_json::to_value(&rec).unwrap_or_default());
        if let Some(at) = at {
            report = report.with_at(at);
        }
        Ok(report)
    }

    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<Handled> {
        self.webhook.handle(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_match_by_receiver_then_position() {
        let sent = vec!["41".to_owned(), "42".to_owned(), "41".to_owned()];
        let named = [Some("42".to_owned()), Some("41".to_owned()), Some("+41".to_owned())];
        assert_eq!(match_entries(&sent, &named), vec![Some(1), Some(0), Some(2)]);
        assert_eq!(
            match_entries(&sent, &[None, None, None]),
            vec![Some(0), Some(1), Some(2)]
        );
        assert_eq!(match_entries(&sent, &[None]), vec![None, None, None]);
        let partly = [Some("41".to_owned()), Some("99".to_owned()), Some("41".to_owned())];
        assert_eq!(match_entries(&sent, &partly), vec![Some(0), None, Some(2)]);
    }
}

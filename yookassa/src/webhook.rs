//! YooKassa HTTP notifications: checked by source address, confirmed by re-fetching.
//!
//! YooKassa signs nothing: a notification is an unauthenticated JSON POST. Its docs give two ways to
//! trust one, and this module does both:
//!
//! 1. the request must come from YooKassa's networks ([`PUBLISHED_NOTIFICATION_IPS`], configurable;
//!    behind a proxy the host puts the real client address in
//!    [`WebhookRequest::remote_addr`](switchboard_core::WebhookRequest));
//! 2. the object is fetched again from the API (`GET /v3/payments/{id}` or `/v3/refunds/{id}`) and
//!    only the fetched state is believed. A forged or stale body can at most make us look a payment up.
//!
//! [`YooKassaWebhook::handle`] does both, recognises a repeated delivery through the
//! [`EventStore`], and answers `200` to every notification it accepted, duplicates included; anything
//! else makes YooKassa deliver it again.

use std::sync::Arc;

use switchboard_core::webhook::{IpAllowList, unauthenticated};
use switchboard_core::{Error, ErrorKind, Event, Handled, Result, Webhook, WebhookRequest};
use switchboard_payments::{EventStore, MemoryEventStore, PaymentWebhook, WebhookObject, WebhookOutcome};

use crate::SCHEME;
use crate::client::YooKassaClient;
use crate::gateway::{normalise_payment, normalise_refund};
use crate::model::{Notification, Payment, Refund};

/// The networks YooKassa sends notifications from (YooKassa's "Notifications" page,
/// yookassa.ru/developers/using-api/webhooks, "IP authentication").
///
/// The IPv6 range is given in two forms: recent copies of that page list `2a02:5180::/32`, an older
/// official SDK four /64s inside it. The /32 covers both; the IPv4 ranges agree. This is the one place
/// the default is set; replace it with
/// [`YooKassaConfigBuilder::notification_ips`](crate::YooKassaConfigBuilder::notification_ips) or the
/// DSN's `notify_ips` when YooKassa publishes a new list.
pub const PUBLISHED_NOTIFICATION_IPS: &[&str] = &[
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11",
    "77.75.156.35",
    "77.75.154.128/25",
    "2a02:5180::/32",
];

/// A notification that passed the checks, with the object as re-fetched.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedNotification {
    /// The notification as it came (its `object` is the *claimed* state).
    pub claimed: Notification,
    /// The object as YooKassa's API reports it now.
    pub fetched: Fetched,
}

/// The re-fetched object of a notification.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Fetched {
    /// `payment.*` events.
    Payment(Box<Payment>),
    /// `refund.*` events.
    Refund(Box<Refund>),
    /// Events about objects this client cannot fetch (`payout.*`, `deal.*`, `payment_method.*`): only
    /// the IP check vouches for these, so the object is the claimed one.
    Unverified(serde_json::Value),
}

impl VerifiedNotification {
    /// The event type the fetched state stands for: `"<object>.<fetched status>"` (`payment.succeeded`).
    pub fn trusted_event(&self) -> String {
        match &self.fetched {
            Fetched::Payment(p) => format!("payment.{}", p.status),
            Fetched::Refund(r) => format!("refund.{}", r.status),
            Fetched::Unverified(_) => self.claimed.event.clone(),
        }
    }

    /// The id of the object.
    pub fn object_id(&self) -> String {
        match &self.fetched {
            Fetched::Payment(p) => p.id.clone(),
            Fetched::Refund(r) => r.id.clone(),
            Fetched::Unverified(v) => v.get("id").and_then(|v| v.as_str()).unwrap_or("").to_owned(),
        }
    }
}

/// YooKassa's notifications, checked, confirmed and deduplicated. See the [module docs](self).
///
/// * [`Webhook::verify`]: a POST from an allowed address (with the IP check off, nothing is refused
///   here: the re-fetch in [`Webhook::handle`] is then the only proof).
/// * [`Webhook::decode`]: the event the notification *claims*, without re-fetching; only for payouts
///   and other objects the client cannot fetch is that all there is. Hosts use `handle`.
/// * [`Webhook::handle`]: verify, re-fetch, deduplicate, and answer `200`.
#[derive(Debug, Clone)]
pub struct YooKassaWebhook {
    client: YooKassaClient,
    allow: Option<IpAllowList>,
    events: Arc<dyn EventStore>,
}

impl YooKassaWebhook {
    /// Notifications of the shop `client` reaches, from the addresses its configuration allows,
    /// deduplicated in memory.
    pub fn new(client: YooKassaClient) -> Result<Self> {
        let allow = client.config().allow_list()?;
        Ok(YooKassaWebhook {
            client,
            allow,
            events: Arc::new(MemoryEventStore::new()),
        })
    }

    /// Keeps the record of handled notifications in the host's store.
    pub fn with_event_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.events = store;
        self
    }

    /// The event store.
    pub fn event_store(&self) -> &Arc<dyn EventStore> {
        &self.events
    }

    /// Checks the method and the source address and decodes the body, without fetching anything.
    pub fn check(&self, request: &WebhookRequest) -> Result<Notification> {
        self.verify(request)?;
        parse_notification(request)
    }

    /// Checks the source address, decodes the body and re-fetches the object.
    ///
    /// An object id the shop does not know is an `Auth` error (a forged notification). A failure to
    /// fetch is returned as is: answer YooKassa with an error and it will deliver again.
    pub async fn confirm(&self, request: &WebhookRequest) -> Result<VerifiedNotification> {
        let claimed = self.check(request)?;
        let object_id = claimed
            .object
            .get("id")
            .and_then(|v| v.as_str())
            .ok_or_else(|| Error::invalid_input("the notification's object has no id").with_provider(SCHEME))?
            .to_owned();
        let forged = |e: Error| {
            if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::InvalidInput {
                unauthenticated("the notification names an object this shop does not have").with_provider(SCHEME)
            } else {
                e
            }
        };
        let client = &self.client;
        let fetched = match claimed.event.split_once('.').map(|(o, _)| o) {
            Some("payment") => Fetched::Payment(Box::new(client.get_payment(&object_id).await.map_err(forged)?)),
            Some("refund") => Fetched::Refund(Box::new(client.get_refund(&object_id).await.map_err(forged)?)),
            _ => Fetched::Unverified(claimed.object.clone()),
        };
        Ok(VerifiedNotification { claimed, fetched })
    }

    /// Confirms a notification and reports a repeated delivery of the same state change as
    /// [`WebhookOutcome::Duplicate`] (what [`PaymentGateway::handle_webhook`](switchboard_payments::PaymentGateway::handle_webhook)
    /// answers).
    pub async fn outcome(&self, request: &WebhookRequest) -> Result<WebhookOutcome> {
        let v = self.confirm(request).await?;
        let event_type = v.trusted_event();
        let claimed_event_type = (v.claimed.event != event_type).then(|| v.claimed.event.clone());
        if let Some(claimed) = &claimed_event_type {
            tracing::info!(
                provider = SCHEME,
                claimed = claimed.as_str(),
                fetched = event_type.as_str(),
                "notification's state differs from the fetched one; trusting the fetched state"
            );
        }
        // YooKassa sends no event id. "<trusted event>:<object id>" names the state change itself, so
        // repeats of it are recognised and a forged "succeeded" cannot shadow the real one later.
        let event_id = format!("{event_type}:{}", v.object_id());
        let object = match &v.fetched {
            Fetched::Payment(p) => WebhookObject::Payment(Box::new(normalise_payment(p)?)),
            Fetched::Refund(r) => WebhookObject::Refund(normalise_refund(r)?),
            Fetched::Unverified(raw) => WebhookObject::Other {
                kind: v.claimed.event.split('.').next().unwrap_or("").to_owned(),
                raw: raw.clone(),
            },
        };
        let mut event = PaymentWebhook::new(SCHEME, event_id, event_type, object, serde_json::to_value(&v.claimed)?);
        event.claimed_event_type = claimed_event_type;
        WebhookOutcome::claim(self.events.as_ref(), event).await
    }
}

#[async_trait::async_trait]
impl Webhook for YooKassaWebhook {
    fn verify(&self, request: &WebhookRequest) -> Result<()> {
        if request.method != http::Method::POST {
            return Err(Error::invalid_input("a YooKassa notification is a POST").with_provider(SCHEME));
        }
        if let Some(allow) = &self.allow {
            allow.verify(request).map_err(|e| e.with_provider(SCHEME))?;
        }
        Ok(())
    }

    /// The event the notification claims, unconfirmed (see the type's docs).
    fn decode(&self, request: &WebhookRequest) -> Result<Vec<Event>> {
        let n = parse_notification(request)?;
        let id = n.object.get("id").and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let status = n.object.get("status").and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let event = switchboard_core::PaymentEvent::new(n.event.clone(), id.clone(), status, n.object.clone())
            .with_event_id(format!("{}:{id}", n.event));
        Ok(vec![Event::Payment(event)])
    }

    async fn handle(&self, request: &WebhookRequest) -> Result<Handled> {
        self.outcome(request).await?.into_handled()
    }
}

/// Decodes a notification body: `{"type":"notification","event":"…","object":{…}}`.
pub fn parse_notification(request: &WebhookRequest) -> Result<Notification> {
    let n: Notification = request.json().map_err(|e| e.with_provider(SCHEME))?;
    if n.kind != "notification" {
        return Err(Error::invalid_input(format!(
            "the body's type is '{}', not 'notification'",
            n.kind.chars().take(40).collect::<String>().escape_debug()
        ))
        .with_provider(SCHEME));
    }
    if !n.object.is_object() {
        return Err(Error::invalid_input("the notification's object is not a JSON object").with_provider(SCHEME));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_list_parses_and_holds_yookassas_ranges() {
        let allow = IpAllowList::parse(PUBLISHED_NOTIFICATION_IPS.iter().copied()).unwrap();
        for ip in [
            "185.71.76.1",
            "185.71.77.31",
            "77.75.153.127",
            "77.75.156.11",
            "2a02:5180:0:1509::1",
        ] {
            assert!(allow.contains(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["185.71.76.32", "77.75.156.12", "8.8.8.8", "2a03::1"] {
            assert!(!allow.contains(ip.parse().unwrap()), "{ip}");
        }
    }
}

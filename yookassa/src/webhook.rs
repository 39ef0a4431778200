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
//! Answer `200` to every notification you accepted, duplicates included; anything else makes YooKassa
//! deliver it again.

use switchboard_core::webhook::{IpAllowList, unauthenticated};
use switchboard_core::{Error, ErrorKind, Result, WebhookRequest};

use super::SCHEME;
use super::client::Client;
use super::model::{Notification, Payment, Refund};

/// The networks YooKassa sends notifications from.
///
/// Two versions circulate [?]: recent public copies list `2a02:5180::/32`, an older official SDK lists
/// four /64s inside it. The /32 covers both; the IPv4 ranges agree. This is the one place the default
/// is set; replace it with [`Config::notification_ips`](super::Config::notification_ips) or the DSN's
/// `notify_ips` when YooKassa publishes a new list.
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

/// Checks and confirms notifications. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct NotificationVerifier {
    allow: Option<IpAllowList>,
}

impl NotificationVerifier {
    /// A verifier that accepts notifications from `allow` only; `None` skips the IP check (the re-fetch
    /// still authenticates).
    pub fn new(allow: Option<IpAllowList>) -> Self {
        NotificationVerifier { allow }
    }

    /// A verifier with [`PUBLISHED_NOTIFICATION_IPS`].
    pub fn published() -> Self {
        // The published list is a constant that parses; an empty list would refuse everything.
        NotificationVerifier {
            allow: Some(IpAllowList::parse(PUBLISHED_NOTIFICATION_IPS.iter().copied()).unwrap_or_default()),
        }
    }

    /// Checks the source address and decodes the body, without fetching anything.
    pub fn check(&self, request: &WebhookRequest) -> Result<Notification> {
        if request.method != http::Method::POST {
            return Err(Error::invalid_input("a YooKassa notification is a POST").with_provider(SCHEME));
        }
        if let Some(allow) = &self.allow {
            allow.verify(request).map_err(|e| e.with_provider(SCHEME))?;
        }
        parse_notification(request)
    }

    /// Checks the source address, decodes the body and re-fetches the object through `client`.
    ///
    /// An object id the shop does not know is an `Auth` error (a forged notification). A failure to
    /// fetch is returned as is: answer YooKassa with an error and it will deliver again.
    pub async fn verify(&self, client: &Client, request: &WebhookRequest) -> Result<VerifiedNotification> {
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
        let fetched = match claimed.event.split_once('.').map(|(o, _)| o) {
            Some("payment") => Fetched::Payment(Box::new(client.get_payment(&object_id).await.map_err(forged)?)),
            Some("refund") => Fetched::Refund(Box::new(client.get_refund(&object_id).await.map_err(forged)?)),
            _ => Fetched::Unverified(claimed.object.clone()),
        };
        Ok(VerifiedNotification { claimed, fetched })
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
    fn published_list_parses_and_matches_the_reference() {
        let v = NotificationVerifier::published();
        let allow = v.allow.unwrap();
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

//! Stripe webhooks: `Stripe-Signature` verified exactly as Stripe's own libraries do it.
//!
//! The header is `t=<unix time>,v1=<hex>[,v1=<hex>…][,v0=…]`. The check:
//!
//! 1. split the header on `,`, each element on its first `=`; take `t`, collect **every** `v1` and
//!    ignore other schemes (`v0` is test-mode only and not an HMAC-SHA256 of the secret);
//! 2. the signed payload is `t + "." + raw body` — the exact bytes received; JSON parsed and
//!    re-serialized is different bytes and fails;
//! 3. the expected signature is hex(HMAC-SHA256(key = the endpoint secret `whsec_…` as bytes, payload));
//! 4. accept when it equals any `v1` (constant-time), for any configured secret (several during
//!    rotation, when Stripe signs with each), and `t` is at most the tolerance (300 s by default) in the
//!    past. Like stripe-ruby and stripe-node, a timestamp in the future is not refused: only someone
//!    with the secret can sign one.
//!
//! Every failure is an `Auth` error: no header, a malformed header, no matching signature, too old.
//! None of them show the secret, the signatures or the body.
//!
//! [`StripeWebhook`] is the core [`Webhook`]: it verifies with [`SignatureVerifier`], normalises the
//! event's object into a payment or refund, and recognises a redelivery by its event id through the
//! [`EventStore`].

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use switchboard_core::secret::ct_eq;
use switchboard_core::webhook::{hmac_sha256, unauthenticated};
use switchboard_core::{Error, ExposeSecret, Handled, Result, SecretString, Webhook, WebhookRequest};
use switchboard_payments::{EventStore, MemoryEventStore, PaymentWebhook, WebhookObject, WebhookOutcome};

use crate::SCHEME;
use crate::config::{DEFAULT_TOLERANCE, StripeConfig};
use crate::gateway::{normalise_intent, normalise_refund, normalise_session, strip_client_secrets};
use crate::model::{self, CheckoutSession, Event, PaymentIntent};

/// The header Stripe signs webhooks in.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";

/// A parsed `Stripe-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// `t`.
    pub timestamp: i64,
    /// Every `v1` value.
    pub v1: Vec<String>,
}

impl SignatureHeader {
    /// Parses a header value. No `t`, a non-numeric `t` or no `v1` at all is an `Auth` error.
    pub fn parse(value: &str) -> Result<SignatureHeader> {
        let mut timestamp = None;
        let mut v1 = Vec::new();
        for item in value.split(',') {
            let Some((k, v)) = item.trim().split_once('=') else {
                continue;
            };
            match k.trim() {
                // The first `t` counts, as in stripe-ruby.
                "t" if timestamp.is_none() => timestamp = v.trim().parse::<i64>().ok().or(Some(i64::MIN)),
                "v1" => v1.push(v.trim().to_owned()),
                _ => {}
            }
        }
        let timestamp = match timestamp {
            Some(t) if t != i64::MIN => t,
            _ => {
                return Err(
                    unauthenticated("the Stripe-Signature header is malformed: no valid timestamp (t=)")
                        .with_provider(SCHEME),
                );
            }
        };
        if v1.is_empty() {
            return Err(
                unauthenticated("the Stripe-Signature header is malformed: no signature with the v1 scheme")
                    .with_provider(SCHEME),
            );
        }
        Ok(SignatureHeader { timestamp, v1 })
    }
}

/// hex(HMAC-SHA256(secret, "t.payload")): the `v1` signature of `payload` at `timestamp`.
pub fn compute_signature(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let mut signed = Vec::with_capacity(payload.len() + 24);
    signed.extend_from_slice(timestamp.to_string().as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(payload);
    hex::encode(hmac_sha256(secret.as_bytes(), &signed))
}

/// A whole `Stripe-Signature` value for `payload` signed with each of `secrets` at `timestamp` (what
/// Stripe sends; for simulators and tests).
pub fn signature_header(secrets: &[&str], timestamp: i64, payload: &[u8]) -> String {
    let mut h = format!("t={timestamp}");
    for s in secrets {
        h.push_str(",v1=");
        h.push_str(&compute_signature(s, timestamp, payload));
    }
    h
}

/// Verifies `Stripe-Signature`. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct SignatureVerifier {
    secrets: Vec<SecretString>,
    tolerance: Duration,
}

impl SignatureVerifier {
    /// A verifier with one or more endpoint secrets and the default 300 s tolerance. No secret, or an
    /// empty one, is a `Config` error: verification does not run without a secret.
    pub fn new(secrets: Vec<SecretString>) -> Result<Self> {
        if secrets.is_empty() {
            return Err(Error::config(
                "no Stripe webhook secret is configured (webhook_secret=whsec_…); webhooks are refused without one",
            )
            .with_provider(SCHEME));
        }
        if secrets.iter().any(|s| s.expose_secret().is_empty()) {
            return Err(Error::config("a Stripe webhook secret is empty").with_provider(SCHEME));
        }
        Ok(SignatureVerifier {
            secrets,
            tolerance: DEFAULT_TOLERANCE,
        })
    }

    /// Sets how old a timestamp may be.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies a request now: its `Stripe-Signature` header over its raw body.
    pub fn verify(&self, request: &WebhookRequest) -> Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.verify_at(request, now)
    }

    /// Verifies a request as if the time were `now` (Unix seconds).
    pub fn verify_at(&self, request: &WebhookRequest, now: i64) -> Result<()> {
        request.check_size().map_err(|e| e.with_provider(SCHEME))?;
        let headers: Vec<&str> = request
            .headers
            .get_all(SIGNATURE_HEADER)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let header = match headers.as_slice() {
            [] => {
                return Err(unauthenticated("the request has no Stripe-Signature header").with_provider(SCHEME));
            }
            [one] => *one,
            _ => {
                return Err(
                    unauthenticated("the request has more than one Stripe-Signature header").with_provider(SCHEME)
                );
            }
        };
        self.verify_payload(header, &request.body, now)
    }

    /// Verifies a raw header value over a raw body as if the time were `now` (Unix seconds).
    pub fn verify_payload(&self, header: &str, payload: &[u8], now: i64) -> Result<()> {
        let h = SignatureHeader::parse(header)?;
        let matched = self.secrets.iter().any(|secret| {
            let expected = compute_signature(secret.expose_secret(), h.timestamp, payload);
            // Every candidate is compared, whatever matched before, so timing says nothing.
            h.v1.iter()
                .fold(false, |found, v| ct_eq(expected.as_bytes(), v.as_bytes()) | found)
        });
        if !matched {
            return Err(unauthenticated(
                "no Stripe-Signature signature matches the payload (wrong secret, or the body was altered or re-serialized)",
            )
            .with_provider(SCHEME));
        }
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if h.timestamp < now.saturating_sub(tolerance) {
            return Err(unauthenticated(format!(
                "the Stripe-Signature timestamp is {} s old, more than the {} s tolerated (a replay?)",
                now.saturating_sub(h.timestamp),
                tolerance
            ))
            .with_provider(SCHEME));
        }
        Ok(())
    }

    /// Verifies and decodes the event.
    pub fn construct_event(&self, request: &WebhookRequest) -> Result<Event> {
        self.verify(request)?;
        parse_event(&request.body)
    }
}

/// Stripe's webhooks, verified, normalised and deduplicated. See the [module docs](self).
///
/// Without a webhook secret configured, every webhook is refused with a `Config` error: verification
/// does not run without one.
#[derive(Debug, Clone)]
pub struct StripeWebhook {
    verifier: Option<SignatureVerifier>,
    events: Arc<dyn EventStore>,
}

impl StripeWebhook {
    /// Webhooks signed with the configuration's secrets (and its tolerance), deduplicated in memory.
    pub fn new(config: &StripeConfig) -> Result<Self> {
        let verifier = if config.webhook_secrets.is_empty() {
            None
        } else {
            Some(SignatureVerifier::new(config.webhook_secrets.clone())?.with_tolerance(config.webhook_tolerance))
        };
        Ok(StripeWebhook {
            verifier,
            events: Arc::new(MemoryEventStore::new()),
        })
    }

    /// Keeps the record of handled events in the host's store.
    pub fn with_event_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.events = store;
        self
    }

    /// The event store.
    pub fn event_store(&self) -> &Arc<dyn EventStore> {
        &self.events
    }

    /// Verifies and normalises an event, without deduplicating it.
    pub fn event(&self, request: &WebhookRequest) -> Result<PaymentWebhook> {
        self.verify(request)?;
        let event = parse_event(&request.body)?;
        let object = &event.data.object;
        let kind = object.get("object").and_then(Value::as_str).unwrap_or("").to_owned();
        let malformed = |e: serde_json::Error| {
            Error::invalid_input(format!("the event's {kind} object is not what Stripe sends ({e})"))
                .with_provider(SCHEME)
        };
        // A signed object this crate cannot normalise (an unknown currency) is, like one that does not
        // decode, a malformed body for the host: `InvalidInput`.
        let unusable = |e: Error| {
            Error::invalid_input(format!("the event's {kind} object cannot be used ({})", e.message()))
                .with_provider(SCHEME)
                .with_source(e)
        };
        let object = match kind.as_str() {
            "payment_intent" => {
                let pi: PaymentIntent = serde_json::from_value(object.clone()).map_err(malformed)?;
                WebhookObject::Payment(Box::new(normalise_intent(&pi).map_err(unusable)?))
            }
            "checkout.session" => {
                let s: CheckoutSession = serde_json::from_value(object.clone()).map_err(malformed)?;
                WebhookObject::Payment(Box::new(normalise_session(&s, None).map_err(unusable)?))
            }
            "refund" => {
                let r: model::Refund = serde_json::from_value(object.clone()).map_err(malformed)?;
                WebhookObject::Refund(normalise_refund(&r).map_err(unusable)?)
            }
            _ => {
                let mut raw = object.clone();
                strip_client_secrets(&mut raw);
                WebhookObject::Other { kind, raw }
            }
        };
        let mut raw: Value = serde_json::from_slice(&request.body)?;
        strip_client_secrets(&mut raw);
        Ok(PaymentWebhook::new(SCHEME, event.id, event.kind, object, raw))
    }

    /// Verifies and normalises an event, and reports a redelivery of an event already taken as
    /// [`WebhookOutcome::Duplicate`] (what
    /// [`PaymentGateway::handle_webhook`](switchboard_payments::PaymentGateway::handle_webhook) answers).
    pub async fn outcome(&self, request: &WebhookRequest) -> Result<WebhookOutcome> {
        WebhookOutcome::claim(self.events.as_ref(), self.event(request)?).await
    }
}

#[async_trait::async_trait]
impl Webhook for StripeWebhook {
    /// The `Stripe-Signature` check; a `Config` error when no webhook secret is configured.
    fn verify(&self, request: &WebhookRequest) -> Result<()> {
        match &self.verifier {
            Some(v) => v.verify(request),
            None => Err(Error::config(
                "no Stripe webhook secret is configured (webhook_secret=whsec_…); webhooks are refused without one",
            )
            .with_provider(SCHEME)),
        }
    }

    /// The event as one core payment event (no deduplication: [`Webhook::handle`] does that).
    fn decode(&self, request: &WebhookRequest) -> Result<Vec<switchboard_core::Event>> {
        Ok(vec![self.event(request)?.to_event()?])
    }

    async fn handle(&self, request: &WebhookRequest) -> Result<Handled> {
        self.outcome(request).await?.into_handled()
    }
}

/// Decodes an event body (after verification).
pub fn parse_event(body: &[u8]) -> Result<Event> {
    serde_json::from_slice(body).map_err(|e| {
        Error::invalid_input(format!("the webhook body is not a Stripe event ({e})"))
            .with_provider(SCHEME)
            .with_source(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_signature() {
        // Computed independently with Python's hmac module:
        // hmac.new(b"whsec_test_secret", b'1700000000.{"id":"evt_1","object":"event"}', sha256).hexdigest()
        assert_eq!(
            compute_signature(
                "whsec_test_secret",
                1_700_000_000,
                br#"{"id":"evt_1","object":"event"}"#
            ),
            "0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd"
        );
    }

    #[test]
    fn header_parsing() {
        let h = SignatureHeader::parse("t=12, v1=aa,v0=zz,v1=bb, junk ,x=y").unwrap();
        assert_eq!(h.timestamp, 12);
        assert_eq!(h.v1, vec!["aa", "bb"]);
        assert!(SignatureHeader::parse("v1=aa").is_err());
        assert!(SignatureHeader::parse("t=abc,v1=aa").is_err());
        assert!(SignatureHeader::parse("t=12,v0=aa").is_err());
        assert!(SignatureHeader::parse("").is_err());
    }
}

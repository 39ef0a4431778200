//! How a payment gateway is kept in a core [`Connection`], so that whatever a `yookassa://` or
//! `stripe://` DSN connected to hands out the same two things:
//!
//! * the gateway, as the service: the value stored is an `Arc<dyn PaymentGateway>` (the
//!   connection holds it as `Arc<Arc<dyn PaymentGateway>>`), so a caller finds it with [`gateway()`]
//!   without knowing which provider it is — not the provider's concrete type, which would make every
//!   caller name one provider;
//! * its webhooks, as the webhook source: [`PaymentWebhooks`] over the same gateway, which a Messenger
//!   routes pushed events to (a verified event becomes one core `Event::Payment`, a repeated delivery
//!   none).
//!
//! Provider crates build their connection with [`connection()`], so both halves always match. A caller
//! that needs the concrete gateway (`YooKassaGateway::client`) builds it from the DSN itself.

use std::sync::Arc;

use switchboard_core::Connection;

use crate::gateway::{PaymentGateway, PaymentWebhooks};

/// A connection to a payment provider: `gateway` as the service, and its webhooks as the webhook
/// source. See the [module docs](self).
pub fn connection(provider: &'static str, gateway: Arc<dyn PaymentGateway>) -> Connection {
    Connection::service(provider, Arc::new(gateway.clone())).with_webhooks(Arc::new(PaymentWebhooks(gateway)))
}

/// The payment gateway a connection carries, whichever provider it is; `None` when the DSN was not a
/// payment provider's.
pub fn gateway(conn: &Connection) -> Option<Arc<dyn PaymentGateway>> {
    conn.downcast::<Arc<dyn PaymentGateway>>().map(|g| Arc::clone(&*g))
}

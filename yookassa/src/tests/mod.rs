//! switchboard-yookassa against its simulator, in one test binary: the gateway's payments and
//! refunds, notifications, the wire-level client and configuration, YooKassa's documented answers
//! (contract), what happens after a 2xx answer, and registration.

mod after_2xx;
mod client;
mod contract;
mod gateway;
mod provider;
mod webhooks;

use std::time::Duration;

use crate::model::{Amount, ConfirmationRequest, CreatePaymentRequest};
use crate::sim::Simulator;
use crate::{YooKassaClient, YooKassaConfigBuilder, YooKassaGateway};
use serde_json::json;
use switchboard_core::{RetryPolicy, WebhookRequest};
use switchboard_payments::{CreatePayment, Currency, IdempotencyKey, Money};

/// Retries as the default policy does, without waiting.
pub fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false)
}

/// The simulator's configuration with [`fast`] retries and a 5 s timeout, to change further.
pub fn config(sim: &Simulator) -> YooKassaConfigBuilder {
    sim.config_builder().retry(fast()).timeout(Duration::from_secs(5))
}

/// A gateway on the simulator.
pub fn gateway(sim: &Simulator) -> YooKassaGateway {
    YooKassaGateway::new(config(sim).build().unwrap()).unwrap()
}

/// A wire-level client on the simulator.
pub fn client(sim: &Simulator) -> YooKassaClient {
    YooKassaClient::new(config(sim).build().unwrap()).unwrap()
}

/// Roubles.
pub fn rub(s: &str) -> Money {
    Money::parse(s, Currency::RUB).unwrap()
}

/// An idempotency key.
pub fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::new(s).unwrap()
}

/// A payment with a redirect confirmation, a description and an order id.
pub fn redirect(amount: &str) -> CreatePayment {
    CreatePayment::new(rub(amount))
        .return_url("https://shop.example/return")
        .description("Order 72")
        .metadata("order_id", "72")
}

/// The wire request of a captured payment with a redirect confirmation.
pub fn wire_request(amount: &str) -> CreatePaymentRequest {
    let mut r = CreatePaymentRequest::new(Amount::from_money(rub(amount)));
    r.confirmation = Some(ConfirmationRequest::Redirect {
        return_url: "https://shop.example/return".into(),
        enforce: None,
        locale: None,
    });
    r.capture = Some(true);
    r
}

/// Where the simulator's notifications come from, and where the simulator's DSN allows them from.
pub const LOOPBACK: &str = "127.0.0.1";

/// A notification as YooKassa posts it, from loopback.
pub fn notification(event: &str, object: serde_json::Value) -> WebhookRequest {
    WebhookRequest::post(
        "https://shop.example/yookassa",
        json!({"type": "notification", "event": event, "object": object}).to_string(),
    )
    .with_header("content-type", "application/json")
    .with_remote_addr(LOOPBACK.parse().unwrap())
}

//! A gateway kept in a core `Connection` is found again by `gateway()`, whichever provider made it,
//! and its webhooks are the connection's webhook source.

use std::sync::Arc;

use crate::{
    CreatePayment, CreateRefund, IdempotencyKey, Money, Payment, PaymentGateway, Refund, WebhookOutcome, connection,
    gateway,
};
use switchboard_core::{Connection, Error, Result, WebhookRequest};

/// A gateway that refuses every operation and reports every webhook as already handled: enough to
/// see what the connection hands out.
#[derive(Debug)]
struct Refusing;

fn refused() -> Error {
    Error::unsupported("this test gateway does nothing")
}

#[switchboard_core::async_trait]
impl PaymentGateway for Refusing {
    fn provider(&self) -> &'static str {
        "refusing"
    }
    async fn create_payment(&self, _: &CreatePayment) -> Result<Payment> {
        Err(refused())
    }
    async fn get_payment(&self, _: &str) -> Result<Payment> {
        Err(refused())
    }
    async fn capture_payment(&self, _: &str, _: Option<Money>, _: Option<IdempotencyKey>) -> Result<Payment> {
        Err(refused())
    }
    async fn cancel_payment(&self, _: &str, _: Option<IdempotencyKey>) -> Result<Payment> {
        Err(refused())
    }
    async fn refund(&self, _: &CreateRefund) -> Result<Refund> {
        Err(refused())
    }
    async fn get_refund(&self, _: &str) -> Result<Refund> {
        Err(refused())
    }
    async fn list_refunds(&self, _: &str) -> Result<Vec<Refund>> {
        Err(refused())
    }
    async fn handle_webhook(&self, _: &WebhookRequest) -> Result<WebhookOutcome> {
        Ok(WebhookOutcome::Duplicate {
            event_id: "evt_1".into(),
        })
    }
}

#[tokio::test]
async fn the_gateway_and_its_webhooks_come_back_out_of_the_connection() {
    let conn = connection("refusing", Arc::new(Refusing));
    assert_eq!(conn.provider(), "refusing");
    assert!(conn.as_transport().is_none(), "payments carry no messages");
    let gw = gateway(&conn).expect("the gateway is the service");
    assert_eq!(gw.provider(), "refusing");
    assert!(gw.get_payment("p").await.is_err());

    let source = conn
        .webhook_source()
        .expect("the gateway's webhooks are the webhook source");
    assert_eq!(source.provider(), "refusing");
    let handled = source
        .handle_webhook(&WebhookRequest::post("https://shop.example/hook", "{}"))
        .await
        .unwrap();
    assert!(handled.events.is_empty(), "a duplicate is no event");
    assert!(
        handled.answer.is_success(),
        "and is acknowledged, so the provider stops sending it"
    );
}

#[test]
fn a_connection_that_is_not_a_payment_provider_has_no_gateway() {
    let erp = Connection::service("onec", Arc::new(String::from("an ERP client")));
    assert!(gateway(&erp).is_none());
    // A gateway stored under its concrete type is not found: providers store it with `connection`.
    let concrete = Connection::service("refusing", Arc::new(Refusing));
    assert!(gateway(&concrete).is_none());
}

//! Take a payment and a refund through each provider's simulator, and verify the webhooks they send.
//!
//! ```sh
//! cargo run --example take_payment
//! ```
//!
//! Against real accounts the code is the same; only the DSN changes:
//! `yookassa://SHOP_ID:SECRET_KEY@default`, `stripe://sk_test_…@default?webhook_secret=whsec_…`.

use std::sync::Arc;
use std::time::Duration;

use switchboard::Result;
use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::WebhookSink;
use switchboard::payments::{
    CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, PaymentGateway, WebhookObject, WebhookOutcome,
};
use switchboard::{stripe, yookassa};

/// The payment gateway a DSN connects to.
fn gateway(dsn: &str) -> Result<Arc<dyn PaymentGateway>> {
    let conn = switchboard::connect(dsn)?;
    switchboard::payments::gateway(&conn)
        .ok_or_else(|| switchboard::Error::config(format!("a {} DSN is not a payment provider", conn.provider())))
}

/// Creates a payment, has the customer pay it, refunds part of it, and returns its id.
async fn take_and_refund(
    gateway: &Arc<dyn PaymentGateway>,
    amount: Money,
    pay: impl Fn(&str) -> Result<()>,
) -> Result<String> {
    let provider = gateway.provider();
    // The order id makes the whole flow safe to repeat after a crash: every step derives its key from it.
    let order = IdempotencyKey::new(format!("order-72-{provider}"))?;
    let payment = gateway
        .create_payment(
            &CreatePayment::new(amount)
                .description("Order 72")
                .return_url("https://shop.example/thanks")
                .metadata("order_id", "72")
                .idempotency_key(order.clone()),
        )
        .await?;
    println!(
        "[{provider}] created {} for {} ({}), customer goes to {}",
        payment.id,
        payment.amount,
        payment.status,
        payment.confirmation_url.as_deref().unwrap_or("-")
    );

    pay(&payment.id)?; // the customer pays on the provider's page
    let paid = gateway.get_payment(&payment.id).await?;
    println!(
        "[{provider}] after the customer paid: {} ({})",
        paid.status, paid.raw_status
    );

    let part = Money::from_minor(amount.minor() / 4, amount.currency());
    let refund = gateway
        .refund(&CreateRefund::partial(&payment.id, part).idempotency_key(order.derive("refund-1")?))
        .await?;
    println!(
        "[{provider}] refunded {} in {} ({})",
        refund.amount, refund.id, refund.status
    );
    let after = gateway.get_payment(&payment.id).await?;
    println!(
        "[{provider}] refunded so far: {}",
        after.refunded.map(|m| m.to_string()).unwrap_or_else(|| "?".into())
    );
    Ok(payment.id)
}

/// Hands every webhook the sink received to the gateway, as a web handler would.
async fn verify_webhooks(
    gateway: &Arc<dyn PaymentGateway>,
    sink: &WebhookSink,
    path: &str,
    at_least: usize,
) -> Result<()> {
    let provider = gateway.provider();
    let received = sink.wait_for(at_least, Duration::from_secs(5)).await;
    for request in received.iter().filter(|r| r.url.contains(path)) {
        match gateway.handle_webhook(request).await? {
            WebhookOutcome::Event(event) => {
                let what = match &event.object {
                    WebhookObject::Payment(p) => format!("payment {} is {}", p.id, p.status),
                    WebhookObject::Refund(r) => format!("refund {} of {} is {}", r.id, r.amount, r.status),
                    WebhookObject::Other { kind, .. } => format!("a {kind}"),
                    _ => "something else".to_owned(),
                };
                println!("[{provider}] webhook verified: {} -> {what}", event.event_type);
            }
            WebhookOutcome::Duplicate { event_id } => println!("[{provider}] webhook already handled: {event_id}"),
            _ => {}
        }
    }
    // A forged delivery is refused.
    let forged = switchboard::WebhookRequest::post("https://shop.example/hook", r#"{"type":"notification"}"#)
        .with_remote_addr(
            "203.0.113.9"
                .parse()
                .map_err(|_| switchboard::Error::invalid_input("ip"))?,
        );
    match gateway.handle_webhook(&forged).await {
        Err(e) => println!("[{provider}] forged webhook refused: {e}"),
        Ok(_) => println!("[{provider}] forged webhook ACCEPTED — this must not happen"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let sink = WebhookSink::start().await;

    let yk = yookassa::sim::Simulator::start().await;
    yk.set_webhook_url(format!("{}/yookassa", sink.uri()));
    let yookassa = gateway(&yk.dsn())?;
    take_and_refund(&yookassa, Money::parse("1000.00", Currency::RUB)?, |id| yk.pay(id)).await?;
    verify_webhooks(&yookassa, &sink, "/yookassa", 2).await?;

    let st = stripe::sim::Simulator::start().await;
    st.set_webhook_url(format!("{}/stripe", sink.uri()));
    let stripe = gateway(&st.dsn())?;
    take_and_refund(&stripe, Money::parse("19.99", Currency::USD)?, |id| st.pay(id)).await?;
    // payment_intent.succeeded, checkout.session.completed, refund.created, charge.refunded
    verify_webhooks(&stripe, &sink, "/stripe", 2 + 4).await?;

    println!("simulators: yookassa {:?}, stripe {:?}", yk.stats(), st.stats());
    Ok(())
}

//! Wiring switchboard's metrics to a Prometheus exporter. switchboard records through the `metrics`
//! facade only; the host picks the exporter (here `metrics-exporter-prometheus`, rendering the text
//! format that a `/metrics` endpoint of the host's web framework would serve).
//!
//! ```text
//! cargo run --example metrics
//! ```
//!
//! It sends through two transports on loopback simulators, one of which refuses once so the message
//! fails over, then prints every `switchboard_*` series.

use metrics_exporter_prometheus::PrometheusBuilder;
use switchboard::core::simulated::Simulated;
use switchboard::{Message, Messenger, PhoneNumber, Route, transport_from_dsn};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In a service: install once at start-up, and serve `handle.render()` on GET /metrics.
    let handle = PrometheusBuilder::new().install_recorder()?;

    let gateway = switchboard::dinstar::sim::Simulator::start().await;
    let smsru = switchboard::smsru::sim::Simulator::start().await;
    let messenger = Messenger::builder()
        .transport("gsm", transport_from_dsn(&gateway.dsn())?)
        .transport("cloud", transport_from_dsn(&smsru.dsn())?)
        .route(Route::any_phone().via(["gsm", "cloud"]))
        .build()?;

    let to: PhoneNumber = "+79255070602".parse()?;
    messenger.send(Message::sms(to.clone(), "Your code is 4821")).await?;
    // The gateway answers 503 (busy: nothing was sent) to every try of the next send, so it fails over.
    gateway
        .faults()
        .push_n(switchboard::core::testkit::Fault::Status(503), 8);
    let receipt = messenger.send(Message::sms(to, "Your order has shipped")).await?;
    println!("the second message went out through '{}'\n", receipt.transport);

    for line in handle.render().lines().filter(|l| l.contains("switchboard_")) {
        println!("{line}");
    }
    Ok(())
}

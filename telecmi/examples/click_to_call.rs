//! Places a click-to-call through the TeleCMI simulator and prints the webhooks it receives.
//!
//! ```sh
//! cargo run -p switchboard-telecmi --example click_to_call --features sim
//! ```
//!
//! The simulator plays TeleCMI: it answers the click-to-call API, rings the agent, bridges the customer,
//! and pushes the live events and CDRs of the call to a local webhook sink, the way TeleCMI would push
//! them to the URL configured in its dashboard. The sink hands each push over as the host's web
//! framework would, and the client verifies and decodes it.

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::testkit::WebhookSink;
use switchboard_core::{Event, JournalRecord, MemoryJournal, PhoneNumber};
use switchboard_telecmi::sim::{Outcome, SIM_WEBHOOK_SECRET, Simulator};
use switchboard_telecmi::{AllowList, CallRequest, TeleCmiClient, TeleCmiConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    // The callback URL carries the shared secret; TeleCMI does not sign its webhooks.
    sim.set_webhook_url(format!("{}/hooks/telecmi?token={SIM_WEBHOOK_SECRET}", sink.uri()));

    let journal = Arc::new(MemoryJournal::new());
    let client = TeleCmiClient::builder(TeleCmiConfig::from_dsn_str(&sim.dsn())?)
        // Who may place calls is the host's decision: here, agent 101 only.
        .policy(AllowList::new(["101_1111112"]))
        .journal(journal.clone())
        .build()?;
    println!("TeleCMI simulator at {}", sim.uri());

    let customer = PhoneNumber::parse("+91 98123 45678", None)?;
    let request = CallRequest::new("101_1111112", customer.clone())
        .with_correlation("crm-activity-1001")
        .with_param("lead", "ACME Ltd")
        .requested_by("crm-user-7");
    let placed = client.click_to_call(&request).await?;
    println!(
        "placed: request_id={} correlation={} to={}",
        placed.request_id.as_deref().unwrap_or("-"),
        placed.correlation,
        placed.to.masked()
    );

    match client.click_to_call(&CallRequest::new("102_1111112", customer)).await {
        Ok(_) => println!("agent 102 placed a call (unexpected)"),
        Err(e) => println!("agent 102 refused: {e}"),
    }

    let request_id = placed.request_id.clone().unwrap_or_default();
    let pushed = sim.play(&request_id, Outcome::Answered { talk_secs: 42 }).await?;
    println!("\nthe simulator pushed {} webhooks:", pushed.len());

    for hook in sink.wait_for(pushed.len(), Duration::from_secs(5)).await {
        for note in client.decode_webhook(&hook)? {
            println!("  {note:?}");
        }
        for event in client.handle_webhook(&hook).await? {
            if let Event::Call(call) = event {
                println!(
                    "    -> {:?} call={} correlation={} duration={:?}",
                    call.state,
                    call.call_id,
                    call.correlation.as_deref().unwrap_or("-"),
                    call.duration_secs
                );
            }
        }
    }

    println!("\njournal:");
    for entry in journal.entries() {
        let what = match &entry.record {
            JournalRecord::Attempt { .. } => "attempt".to_owned(),
            JournalRecord::Call { event, .. } => format!("call {:?}", event.state),
            JournalRecord::Failed { error, .. } => format!("failed: {error}"),
            other => format!("{other:?}"),
        };
        let id = entry.message_id.as_ref().map(|m| m.as_str()).unwrap_or("-");
        println!("  {id}: {what}");
    }
    Ok(())
}

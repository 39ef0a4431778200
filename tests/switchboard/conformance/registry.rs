//! The registry check: every provider in `switchboard::registry()` that hands out a simulator is started
//! and driven through what registration makes uniform — `switchboard::connect` on the simulator's DSN,
//! the [`Simulated`] hooks, and the connection's transport, webhook source or payment gateway — so a
//! provider registered tomorrow is checked without anything here naming it. What a provider's hooks
//! leave out is skipped with a note on stderr, never silently.

use std::sync::Arc;
use std::time::Duration;

use switchboard::core::registry::Provider;
use switchboard::core::simulated::{SimFactory, SimOptions, Simulated};
use switchboard::core::testkit::WebhookSink;
use switchboard::{Connection, Dispatch, ErrorKind, Event, Message, Recipient, Transport, WebhookRequest};

use crate::ensure;

/// What one provider's run noted: the parts its hooks did not allow, each with the reason.
type Notes = Vec<String>;

#[tokio::test]
async fn every_registered_provider_conforms() {
    let mut tasks = Vec::new();
    for provider in switchboard::registry().providers() {
        let Some(factory) = provider.simulator() else {
            eprintln!("{}: skipped, the provider registers no simulator", provider.name());
            continue;
        };
        tasks.push((provider.name(), tokio::spawn(conforms(provider, factory))));
    }
    assert!(!tasks.is_empty(), "no registered provider has a simulator");
    let mut failures = Vec::new();
    for (name, task) in tasks {
        match task.await {
            Ok(Ok(notes)) => notes.iter().for_each(|n| eprintln!("{name}: skipped {n}")),
            Ok(Err(e)) => failures.push(format!("{name}: {e}")),
            Err(panic) => failures.push(format!("{name}: panicked: {panic}")),
        }
    }
    assert!(failures.is_empty(), "failed for:\n  {}", failures.join("\n  "));
}

/// Starts `provider`'s simulator and runs every check its hooks allow.
async fn conforms(provider: &'static dyn Provider, factory: &'static dyn SimFactory) -> Result<Notes, String> {
    let sim = factory
        .start(SimOptions::default())
        .await
        .map_err(|e| format!("the simulator does not start: {e}"))?;
    ensure!(
        sim.provider() == provider.name(),
        "the simulator says it is '{}'",
        sim.provider()
    );
    let conn = switchboard::connect(&sim.dsn()).map_err(|e| format!("its simulator's DSN does not connect: {e}"))?;
    ensure!(
        conn.provider() == provider.name(),
        "the connection says it is '{}'",
        conn.provider()
    );

    let mut notes = Notes::new();
    offers(&conn, sim.as_ref(), &mut notes).await?;
    let payments = webhooks(&conn, sim.as_ref(), provider.name(), &mut notes).await?;
    bad_credentials(sim.as_ref(), &payments, &mut notes).await?;
    Ok(notes)
}

/// The connection offers what the provider is: a message transport exactly when the simulator names a
/// recipient (it carries messages), and then a message sent to that recipient is accepted and shows in
/// `sent()` under the receipt's id; otherwise a webhook source or the provider's own client.
async fn offers(conn: &Connection, sim: &dyn Simulated, notes: &mut Notes) -> Result<(), String> {
    let transport = conn.as_transport();
    let Some(to) = sim.recipient() else {
        ensure!(
            transport.is_none(),
            "the connection has a transport, but the simulator names no recipient to send to"
        );
        // The client is reachable only typed (`Connection::downcast`); `has_service` says whether
        // there is one without naming the type.
        ensure!(
            conn.webhook_source().is_some() || conn.has_service(),
            "the connection offers nothing: {conn:?}"
        );
        notes.push("the send: the provider carries no messages".to_owned());
        return Ok(());
    };
    let Some(transport) = transport else {
        return Err(format!(
            "the simulator names a recipient ({}) but the connection has no transport",
            to.masked()
        ));
    };
    let before = sim.sent().len();
    let receipt = transport
        .send(&message(to.clone(), "registry conformance"))
        .await
        .map_err(|e| format!("a send to {} is refused: {e}", to.masked()))?;
    ensure!(!receipt.provider_ids.is_empty(), "the receipt carries no provider id");
    let sent = sim.sent();
    ensure!(
        sent.len() > before,
        "the simulator recorded nothing for an accepted send"
    );
    ensure!(
        sent.iter().any(|r| receipt.provider_ids.contains(&r.id)),
        "none of the receipt's ids {:?} is in the simulator's sent(): {sent:?}",
        receipt.provider_ids
    );
    Ok(())
}

/// Every event the simulator can push reaches a sink, and the connection's webhook receiver (its
/// webhook source, or the transport for providers that carry messages) accepts the request as the sink
/// received it. Answers the ids of the payments the events named, for the credential check.
async fn webhooks(
    conn: &Connection,
    sim: &dyn Simulated,
    provider: &str,
    notes: &mut Notes,
) -> Result<Vec<String>, String> {
    let events = sim.triggers();
    if events.is_empty() {
        notes.push("the webhooks: the simulator has no trigger".to_owned());
        return Ok(Vec::new());
    }
    let receiver = Receiver::of(conn);
    if receiver.is_none() {
        notes.push("handling the webhooks: the connection has no webhook receiver".to_owned());
    }
    let sink = WebhookSink::start().await;
    let url = format!("{}/{provider}", sink.uri());
    let mut payments = Vec::new();
    for (n, event) in events.iter().enumerate() {
        sim.trigger(event, &url)
            .await
            .map_err(|e| format!("trigger '{event}' fails: {e}"))?;
        let received = sink.wait_for(n + 1, Duration::from_secs(5)).await;
        let Some(request) = received.get(n) else {
            return Err(format!("trigger '{event}' pushed nothing to the sink"));
        };
        let Some(receiver) = &receiver else { continue };
        let handled = receiver
            .handle(request)
            .await
            .map_err(|e| format!("the '{event}' webhook is refused: {e}"))?;
        ensure!(
            handled.answer.is_success(),
            "the '{event}' webhook is answered {:?}",
            handled.answer
        );
        payments.extend(handled.events.iter().filter_map(|e| match e {
            Event::Payment(p) => Some(p.object_id.clone()),
            _ => None,
        }));
    }
    Ok(payments)
}

/// A DSN with a credential the simulator refuses connects (nothing is checked before the first call),
/// and its first call fails with `Auth` and `NotSent`: a send for a message transport, a payment
/// lookup for a payment gateway.
async fn bad_credentials(sim: &dyn Simulated, payments: &[String], notes: &mut Notes) -> Result<(), String> {
    let Some(dsn) = sim.dsn_with_bad_credentials() else {
        notes.push("the bad-credential check: the simulator has no credential to get wrong".to_owned());
        return Ok(());
    };
    let conn = switchboard::connect(&dsn).map_err(|e| format!("the bad-credential DSN does not connect: {e}"))?;
    let err = if let (Some(t), Some(to)) = (conn.as_transport(), sim.recipient()) {
        let before = sim.sent().len();
        let r = t.send(&message(to, "registry conformance, bad credentials")).await;
        ensure!(
            sim.sent().len() == before,
            "a send with bad credentials was recorded as sent"
        );
        r.err().ok_or("a send with bad credentials is accepted")?
    } else if let Some(gateway) = switchboard::payments::gateway(&conn) {
        let Some(id) = payments.first() else {
            notes.push("the bad-credential check: no webhook named a payment to look up".to_owned());
            return Ok(());
        };
        gateway
            .get_payment(id)
            .await
            .err()
            .ok_or("a payment lookup with bad credentials succeeds")?
    } else {
        notes.push("the bad-credential check: its client is reachable only by its own type".to_owned());
        return Ok(());
    };
    ensure!(
        err.kind() == ErrorKind::Auth && err.dispatch() == Dispatch::NotSent,
        "bad credentials give {:?}/{:?}, wanted Auth/NotSent: {err}",
        err.kind(),
        err.dispatch()
    );
    Ok(())
}

/// A message to `to` (with a subject where the recipient is a mailbox).
fn message(to: Recipient, text: &str) -> Message {
    match to {
        Recipient::Email(_) => Message::email_to(to, text, text),
        _ => Message::to(to, text),
    }
}

/// What receives a connection's webhooks.
enum Receiver {
    Source(Arc<dyn switchboard::WebhookHandler>),
    Transport(Arc<dyn Transport>),
}

impl Receiver {
    fn of(conn: &Connection) -> Option<Receiver> {
        conn.webhook_source()
            .map(Receiver::Source)
            .or_else(|| conn.as_transport().map(Receiver::Transport))
    }

    async fn handle(&self, request: &WebhookRequest) -> switchboard::Result<switchboard::Handled> {
        match self {
            Receiver::Source(s) => s.handle_webhook(request).await,
            Receiver::Transport(t) => t.handle_webhook(request).await,
        }
    }
}

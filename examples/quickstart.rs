//! The quickstart: a real-looking day of a CRM's messaging, on the built-in simulators, with no account
//! and no network beyond loopback.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Every provider below is a simulator that speaks the provider's real wire protocol (Digest auth for
//! the Dinstar gateway, Mitto's envelopes, TeleCMI's webhook quirks, Stripe's signatures…), started
//! in-process.
//!
//! With real credentials the same Messenger talks to the real providers: set `SWITCHBOARD_DSN` (any DSN
//! the library knows, `failover(…)` and `roundrobin(…)` included) and `SWITCHBOARD_TO` (a recipient:
//! an E.164 number, an email address, `chat:ID`, `token:…` or `topic:…`), optionally `SWITCHBOARD_TEXT`;
//! the quickstart then sends that one message for real, looks its status up, and stops.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::{ConnectionFault, WebhookSink, connection_fault};
use switchboard::payments::{CreatePayment, CreateRefund, Currency, IdempotencyKey, Money, PaymentWebhooks};
use switchboard::{
    Encoding, Event, JournalRecord, MemoryJournal, Message, Messenger, PhoneNumber, Receipt, Recipient, Region, Route,
    Segmentation, WebhookRequest,
};

type AnyError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    if let Ok(dsn) = std::env::var("SWITCHBOARD_DSN") {
        return live(&dsn).await;
    }
    println!("switchboard quickstart: one day of a shop's messaging, on simulators\n");
    numbers_and_texts()?;

    // ── The simulators ────────────────────────────────────────────────────────────────────────────
    let gateway = switchboard::dinstar::sim::Simulator::start().await;
    let mitto = switchboard::mitto::sim::Simulator::start().await;
    let telecmi = switchboard::telecmi::sim::Simulator::start().await;
    let fcm = switchboard::fcm::sim::Simulator::start().await;
    let telegram = switchboard::telegram::sim::Simulator::start().await;
    let stripe = switchboard::stripe::sim::Simulator::start().await;
    let onec = switchboard::onec::sim::Simulator::start().await;
    // Where providers push their webhooks: in production, routes of the host's own web server.
    let hooks = WebhookSink::start().await;
    gateway.set_push_url(format!(
        "{}/hooks/gsm?token={}",
        hooks.uri(),
        switchboard::dinstar::sim::SIM_WEBHOOK_SECRET
    ));
    mitto.set_callback_url(switchboard::mitto::sim::Simulator::callback_url_for(&format!(
        "{}/hooks/cloud",
        hooks.uri()
    )));
    telecmi.set_webhook_url(format!(
        "{}/hooks/calls?token={}",
        hooks.uri(),
        switchboard::telecmi::sim::SIM_WEBHOOK_SECRET
    ));
    stripe.set_webhook_url(format!("{}/hooks/payments", hooks.uri()));

    // ── One Messenger over every transport ────────────────────────────────────────────────────────
    let calls = Arc::new(switchboard::telecmi::TeleCmiClient::from_dsn_str(&telecmi.dsn())?);
    let payments = switchboard::payments::gateway(&switchboard::connect(&stripe.dsn())?).ok_or("not a payment DSN")?;
    let journal = Arc::new(MemoryJournal::new());
    let messenger = Messenger::builder()
        .transport("gsm", switchboard::transport_from_dsn(&gateway.dsn())?)
        .transport("cloud", switchboard::transport_from_dsn(&mitto.dsn_messaging())?)
        .transport(
            "mail",
            switchboard::transport_from_dsn("smtp://localhost?mode=memory&from=shop@example.com")?,
        )
        .transport("push", switchboard::transport_from_dsn(&fcm.dsn())?)
        .transport("chat", switchboard::transport_from_dsn(&telegram.dsn())?)
        .webhook_source("calls", calls.clone())
        .webhook_source("payments", Arc::new(PaymentWebhooks(payments.clone())))
        .route(Route::country(355).via(["gsm", "cloud"])) // Albania: our own SIM cards first, cloud as failover
        .route(Route::any_phone().via(["cloud"]))
        .route(Route::email().via(["mail"]))
        .route(Route::push().via(["push"]))
        .route(Route::chat().via(["chat"]))
        .journal(journal.clone())
        .build()?;
    let mut inbox = Inbox::default();

    println!("3. Morning: order confirmations go out by route");
    let ana: PhoneNumber = "+355694123456".parse()?;
    let hans = PhoneNumber::parse("0151 23456789", Some(Region::parse("DE")?))?;
    let to_ana = messenger
        .send(Message::sms(ana.clone(), "Porosia juaj #1042 u dërgua. Faleminderit!"))
        .await?;
    let to_hans = messenger
        .send(Message::sms(hans, "Ihre Bestellung #1043 ist unterwegs."))
        .await?;
    for r in [&to_ana, &to_hans] {
        print_receipt(r);
    }

    println!("\n4. Statuses move as the networks report");
    for round in 1..=2 {
        gateway.advance().await;
        mitto.advance().await;
        for r in [&to_ana, &to_hans] {
            let s = messenger.status(r).await?;
            println!(
                "   round {round}: {} via {:<5} {:<9} (provider said {:?})",
                r.to.masked(),
                r.transport,
                s.status,
                s.raw_status
            );
        }
    }

    println!("\n5. Noon: the office gateway loses power; Albanian SMS fail over to the cloud");
    let dead = connection_fault(ConnectionFault::Refused).await?;
    let degraded = Messenger::builder()
        .transport(
            "gsm",
            switchboard::transport_from_dsn(&gateway.dsn_at(&dead).unwrap_or_default())?,
        )
        .transport("cloud", switchboard::transport_from_dsn(&mitto.dsn_messaging())?)
        .route(Route::country(355).via(["gsm", "cloud"]))
        .journal(journal.clone())
        .build()?;
    let msg = Message::sms(ana.clone(), "Kuriri do të vijë sot midis orës 14 dhe 16.");
    let id = msg.id.clone();
    let r = degraded.send(msg).await?;
    print_receipt(&r);
    for e in journal.for_message(&id) {
        match e.record {
            JournalRecord::Attempt { transport, attempt, .. } => {
                println!("   journal: attempt {attempt} via {transport}")
            }
            JournalRecord::Failed {
                transport,
                dispatch,
                error,
                ..
            } => {
                println!("   journal: {transport} failed ({dispatch}): {error}")
            }
            JournalRecord::Accepted { receipt } => println!("   journal: accepted by {}", receipt.transport),
            _ => {}
        }
    }

    println!("\n6. Afternoon: a customer answers, and delivery reports arrive by webhook");
    gateway
        .receive_inbound(1, "+355691112223", "Po, jam në shtëpi pas orës 15.")
        .await;
    for _ in 0..3 {
        mitto.advance().await;
    }
    inbox.drain(&hooks, &messenger).await?;

    println!("\n7. A sales agent calls a lead from the CRM (TeleCMI click-to-call)");
    let lead = PhoneNumber::parse("+91 98123 45678", None)?;
    let placed = calls
        .click_to_call(
            &switchboard::telecmi::CallRequest::new("101_1111112", lead).with_correlation("crm-activity-1001"),
        )
        .await?;
    println!(
        "   call placed: request {} for activity {}",
        placed.request_id.as_deref().unwrap_or("-"),
        placed.correlation
    );
    telecmi
        .play(
            placed.request_id.as_deref().unwrap_or_default(),
            switchboard::telecmi::sim::Outcome::Answered { talk_secs: 95 },
        )
        .await?;
    inbox.drain(&hooks, &messenger).await?;

    println!("\n8. An invoice by email, a push to the app, a note to the team chat");
    let mail = Message::email(
        "ana.hoxha@example.al",
        "Fatura #1042",
        "Fatura juaj është bashkëngjitur.",
    )?
    .with_html("<p>Fatura juaj është <b>bashkëngjitur</b>.</p>");
    print_receipt(&messenger.send(mail).await?);
    let device = fcm.register_device();
    print_receipt(
        &messenger
            .send(Message::push(
                Recipient::PushToken(device),
                "Order shipped",
                "#1042 is on its way",
            ))
            .await?,
    );
    telegram.add_private_chat(777, "Ops team");
    print_receipt(
        &messenger
            .send(Message::chat("777", "Order #1042 shipped; courier 14:00–16:00"))
            .await?,
    );

    println!("\n9. Evening: a payment, a partial refund, and their signed webhooks");
    let order = IdempotencyKey::new("order-1044")?;
    let paid = payments
        .create_payment(
            &CreatePayment::new(Money::parse("49.90", Currency::EUR)?)
                .payment_method("pm_card_visa")
                .description("Order 1044")
                .idempotency_key(order.clone()),
        )
        .await?;
    println!("   payment {}: {} {}", paid.id, paid.amount, paid.status);
    let refund = payments
        .refund(
            &CreateRefund::partial(&paid.id, Money::parse("9.90", Currency::EUR)?)
                .idempotency_key(order.derive("refund-1")?),
        )
        .await?;
    println!("   refund {}: {} {}", refund.id, refund.amount, refund.status);
    inbox.drain(&hooks, &messenger).await?;

    println!("\n10. Night: the new customer goes to 1C (and a second run changes nothing)");
    let erp = switchboard::onec::Syncer::new(
        switchboard::onec::OneCClient::from_dsn_str(&onec.dsn())?,
        Arc::new(switchboard::onec::MemorySyncLog::new()),
    );
    let company = switchboard::onec::Counterparty::company("ООО \"Рога и копыта\"", "7707083893", Some("770701001"));
    for run in 1..=2 {
        let s = erp.upsert_counterparty("crm:company:42", &company).await?;
        println!("   run {run}: {:?} Ref_Key {}", s.action, s.ref_key);
    }

    println!(
        "\nThe journal holds {} entries a host could store and audit.",
        journal.entries().len()
    );
    println!("Done: every provider above was a local simulator.");
    Ok(())
}

/// One real message through real providers, configured by environment variables (see the file's docs).
async fn live(dsn: &str) -> Result<(), AnyError> {
    let to = std::env::var("SWITCHBOARD_TO").map_err(|_| "SWITCHBOARD_TO must name the recipient")?;
    let text = std::env::var("SWITCHBOARD_TEXT").unwrap_or_else(|_| "Hello from switchboard".to_owned());
    let to = if let Some(c) = to.strip_prefix("chat:") {
        Recipient::Chat(c.to_owned())
    } else if let Some(t) = to.strip_prefix("token:") {
        Recipient::PushToken(t.to_owned())
    } else if let Some(t) = to.strip_prefix("topic:") {
        Recipient::PushTopic(t.to_owned())
    } else if to.contains('@') {
        Recipient::email(to)?
    } else {
        Recipient::Phone(to.parse()?)
    };
    let journal = Arc::new(MemoryJournal::new());
    let messenger = Messenger::builder_from_dsns([dsn])?.journal(journal.clone()).build()?;
    println!("live run through {}", messenger.transport_names().join(", "));
    let receipt = messenger
        .send(Message::to(to, text).with_subject("switchboard"))
        .await?;
    print_receipt(&receipt);
    match messenger.status(&receipt).await {
        Ok(s) => println!("   status: {} ({})", s.status, s.raw_status),
        Err(e) => println!("   status: {e}"),
    }
    Ok(())
}

/// Part 1 and 2: what the core does before anything is sent.
fn numbers_and_texts() -> Result<(), AnyError> {
    println!("1. Phone numbers, as people write them, become E.164 (and stay masked in logs):");
    for (input, region) in [
        ("069 412 3456", "AL"),
        ("8 (912) 345-67-89", "RU"),
        ("810 44 20 8366 1177", "RU"),
        ("(201) 555-0123", "US"),
        ("12345", "DE"),
    ] {
        let region = Region::parse(region)?;
        match PhoneNumber::parse(input, Some(region)) {
            Ok(n) => println!(
                "   {input:<22} ({region}) -> {:<16} logged as {}",
                n.as_e164(),
                n.masked()
            ),
            Err(e) => println!("   {input:<22} ({region}) -> refused: {e}"),
        }
    }
    println!("\n2. SMS texts: encoding and parts, counted as the network counts them:");
    for t in [
        "Your order #1042 has shipped.".to_owned(),
        "Porosia juaj u dërgua. Faleminderit!".to_owned(),
        "Ваш заказ доставлен. Спасибо, что выбрали нас!".to_owned(),
        "Price: 10€ {promo} [today only]".to_owned(),
        "Reminder: ".to_owned() + &"a".repeat(151),
    ] {
        let s = Segmentation::of(&t);
        let unit = if s.encoding == Encoding::Gsm7 {
            "septets"
        } else {
            "UTF-16 units"
        };
        let shown: String = t.chars().take(36).collect();
        println!(
            "   {:<40} {} · {} {unit} · {} part(s)",
            format!("{shown:?}"),
            s.encoding,
            s.units,
            s.segments
        );
    }
    println!();
    Ok(())
}

fn print_receipt(r: &Receipt) {
    let parts = r
        .segments
        .map(|s| format!(", {} part(s) {}", s.segments, s.encoding))
        .unwrap_or_default();
    println!(
        "   -> {} accepted by {:<5} as {} ({}{parts})",
        r.to.masked(),
        r.transport,
        r.provider_id(),
        r.status
    );
}

/// Hands each webhook the sink received to the Messenger, by the path it was pushed to, once.
#[derive(Default)]
struct Inbox {
    handled: usize,
}

impl Inbox {
    async fn drain(&mut self, hooks: &WebhookSink, messenger: &Messenger) -> Result<(), AnyError> {
        let got: Vec<WebhookRequest> = hooks.wait_for(self.handled + 1, Duration::from_secs(5)).await;
        // Pushes may still be on their way: wait until the count settles.
        let mut got = got;
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let again = hooks.received().await;
            if again.len() == got.len() {
                break;
            }
            got = again;
        }
        let sources: HashMap<&str, &str> = [
            ("/hooks/gsm", "gsm"),
            ("/hooks/cloud", "cloud"),
            ("/hooks/calls", "calls"),
            ("/hooks/payments", "payments"),
        ]
        .into_iter()
        .collect();
        for req in got.iter().skip(self.handled) {
            let path = url_path(&req.url);
            let Some(source) = sources.get(path.as_str()) else {
                continue;
            };
            for te in messenger.handle_webhook(source, req).await?.events {
                match te.event {
                    Event::Inbound(m) => println!(
                        "   [{}] inbound SMS from {}: {:?}",
                        te.transport,
                        switchboard::secret::mask_middle(&m.from),
                        m.text
                    ),
                    Event::Delivery(d) => println!(
                        "   [{}] delivery report: {} is {} ({})",
                        te.transport, d.provider_id, d.status, d.raw_status
                    ),
                    Event::Call(c) => println!(
                        "   [{}] call {}: {:?}{}",
                        te.transport,
                        c.call_id,
                        c.state,
                        c.duration_secs.map(|d| format!(" after {d}s")).unwrap_or_default()
                    ),
                    Event::Payment(p) => println!(
                        "   [{}] {} for {} ({})",
                        te.transport, p.event_type, p.object_id, p.status
                    ),
                    Event::Other { kind, .. } => println!("   [{}] {kind} report", te.transport),
                    _ => {}
                }
            }
        }
        self.handled = got.len();
        Ok(())
    }
}

fn url_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("/").to_owned()
}

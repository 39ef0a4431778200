//! Through the provider registry and the simulator: `register` makes `smtp://` and `smtps://` known,
//! `Registry::connect` hands out the transport and the client, and the simulator (memory mode's
//! outbox) receives what a transport built from its DSN sends, and answers queued faults the way an
//! SMTP server does.

use std::time::Duration;

use crate::sim::{SIM_FROM, SIM_RECIPIENT, Simulator};
use crate::{EmailClient, EmailConfig, EmailTransport, Outbox};
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, Dsn, ErrorKind, Message, Registry, Transport};

fn registry() -> Registry {
    let mut r = Registry::new();
    crate::register(&mut r);
    r
}

#[tokio::test]
async fn register_connects_smtp_and_smtps_dsns() {
    let r = registry();
    assert_eq!(r.schemes(), ["smtp", "smtps"]);
    let conn = r.connect("smtp://localhost?mode=memory&from=a%40shop.example").unwrap();
    assert_eq!(conn.provider(), "smtp");
    let t = conn.as_transport().expect("email carries messages");
    assert!(t.capabilities().email);
    assert!(conn.downcast::<EmailClient>().is_some(), "the client is the service");
    let conn = r
        .connect("smtps://me:s3cret@smtp.example.com?from=a%40shop.example")
        .unwrap();
    assert_eq!(conn.provider(), "smtp");
    assert!(conn.as_transport().is_some());
    let e = r.connect("smtps://me:s3cret@smtp.example.com?tls=none").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(!format!("{e} {e:?}").contains("s3cret"));
}

#[tokio::test]
async fn the_registry_simulator_receives_what_a_registry_transport_sends() {
    let r = registry();
    let factory = r
        .find("smtps")
        .and_then(|p| p.simulator())
        .expect("email has a simulator");
    let sim = factory.start(SimOptions::default()).await.unwrap();
    assert_eq!(sim.provider(), "smtp");
    let mail = r.connect(&sim.dsn()).unwrap().into_transport().unwrap();
    let to = sim.recipient().expect("email has recipients");
    let receipt = mail.send(&Message::email_to(to, "Order #72", "Shipped")).await.unwrap();

    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, receipt.provider_id());
    assert_eq!(
        (sent[0].to.as_str(), sent[0].status.as_str()),
        (SIM_RECIPIENT, "accepted")
    );
    assert!(sent[0].text.contains("Subject: Order #72"), "{}", sent[0].text);
    sim.advance().await;
    assert!(sim.pushed().is_empty() && sim.triggers().is_empty());
    assert!(
        sim.trigger("delivered", "http://127.0.0.1:9/").await.is_err(),
        "SMTP pushes nothing"
    );
    assert_eq!(
        (sim.dsn_with_bad_credentials(), sim.dsn_at("http://127.0.0.1:9")),
        (None, None)
    );

    // Another simulator is another outbox.
    let other = Simulator::start().await;
    assert!(Simulated::sent(&other).is_empty());
    assert_ne!(other.dsn(), sim.dsn());
}

#[tokio::test]
async fn the_simulator_dsn_names_its_outbox_and_sender() {
    let sim = Simulator::start().await;
    let config = EmailConfig::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    assert_eq!(config.from.as_deref(), Some(SIM_FROM));
    let name = config.outbox.clone().expect("a named outbox");
    assert!(sim.uri().ends_with(&name));
    let mail = EmailTransport::new(config).unwrap();
    mail.send(&Message::email_to(
        switchboard_core::Recipient::email(SIM_RECIPIENT).unwrap(),
        "s",
        "t",
    ))
    .await
    .unwrap();
    assert_eq!(Outbox::named(&name).len(), 1, "the same outbox by its name");
    assert_eq!(
        sim.outbox().messages()[0].envelope_from.as_deref(),
        Some("sim@switchboard.example")
    );
    let e = Simulator::start_with(SimOptions::default().port(2525))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
}

#[tokio::test(start_paused = true)]
async fn simulated_faults_are_answered_like_an_smtp_server_answers_the_final_dot() {
    let sim = Simulator::start().await;
    let mail = EmailTransport::from_dsn_str(&format!("{}&timeout=5", sim.dsn())).unwrap();
    let msg = Message::email_to(sim.recipient().unwrap(), "s", "t");
    let send = || mail.send(&msg);
    let cases = [
        (
            Fault::Status(451),
            ErrorKind::Unavailable,
            Dispatch::NotSent,
            Some("451"),
            0,
        ),
        (
            Fault::Status(550),
            ErrorKind::Rejected,
            Dispatch::NotSent,
            Some("550"),
            0,
        ),
        (Fault::Status(535), ErrorKind::Auth, Dispatch::NotSent, Some("535"), 0),
        (
            Fault::Status(552),
            ErrorKind::InvalidInput,
            Dispatch::NotSent,
            Some("552"),
            0,
        ),
        (
            Fault::RateLimited(Some(3)),
            ErrorKind::Unavailable,
            Dispatch::NotSent,
            Some("451"),
            0,
        ),
        (Fault::MalformedJson, ErrorKind::Transport, Dispatch::MaybeSent, None, 1),
        (
            Fault::Delay(Duration::from_secs(6)),
            ErrorKind::Timeout,
            Dispatch::MaybeSent,
            None,
            1,
        ),
        (
            Fault::AfterHandling(Box::new(Fault::Status(554))),
            ErrorKind::Rejected,
            Dispatch::NotSent,
            Some("554"),
            1,
        ),
    ];
    for (fault, kind, dispatch, code, kept) in cases {
        let before = sim.outbox().len();
        sim.fail_next(fault.clone());
        let e = send().await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch(), e.provider_code()),
            (kind, dispatch, code),
            "{fault:?}: {e}"
        );
        assert_eq!(sim.outbox().len() - before, kept, "{fault:?}");
    }
    // A slow but timely answer, and a 2xx, are acceptances.
    sim.fail_next(Fault::Delay(Duration::from_secs(1)));
    send().await.unwrap();
    sim.fail_next(Fault::Status(250));
    send().await.unwrap();
    send().await.unwrap();
    assert_eq!(sim.outbox().len(), 6);
    assert_eq!(sim.faults().pending(), 0);
}

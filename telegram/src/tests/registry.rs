//! Through the provider registry and the `Simulated` vocabulary: `register` makes `telegram://`
//! known, `Registry::connect` hands out the transport and the client, the simulator is driven the way
//! the conformance suite drives every simulator, and the webhook answers what Telegram expects.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::sim::{SIM_CHAT_ID, SIM_WEBHOOK_SECRET, Simulator};
use crate::{CommandRouter, SECRET_HEADER, TelegramClient, TelegramConfig, TelegramTransport, TelegramWebhook};
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{
    Dispatch, Dsn, ErrorKind, Event, Message, Registry, RetryPolicy, Transport, Webhook, WebhookAnswer,
};

fn registry() -> Registry {
    let mut r = Registry::new();
    crate::register(&mut r);
    r
}

#[tokio::test]
async fn register_and_connect_give_a_transport_and_the_client() {
    let sim = Simulator::start().await;
    let r = registry();
    assert_eq!(r.schemes(), ["telegram"]);
    let conn = r.connect(&sim.dsn()).unwrap();
    assert_eq!(conn.provider(), "telegram");
    let bot = conn.as_transport().expect("a bot carries messages");
    assert!(bot.capabilities().chat && bot.capabilities().inbound);
    let client = conn.downcast::<TelegramClient>().expect("the client is the service");
    assert_eq!(
        client.get_me().await.unwrap().username.as_deref(),
        Some("SwitchboardSimBot")
    );
    let e = r.connect("telegram://123456789@default").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn the_registry_simulator_is_driven_through_simulated() {
    let r = registry();
    let factory = r
        .find("telegram")
        .and_then(|p| p.simulator())
        .expect("Telegram has a simulator");
    let sim = factory.start(SimOptions::default()).await.unwrap();
    assert_eq!(sim.provider(), "telegram");
    let bot = r.connect(&sim.dsn()).unwrap().into_transport().unwrap();
    let to = sim.recipient().expect("a chat");
    let receipt = bot
        .send(&Message::to(to.clone(), "Order #72 has shipped"))
        .await
        .unwrap();
    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].id, receipt.provider_id());
    assert_eq!(
        (sent[0].to.as_str(), sent[0].text.as_str()),
        ("100200300", "Order #72 has shipped")
    );

    // The Bot API's own flood answer, through the shared fault queue.
    let mut config = TelegramConfig::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    config.retry = RetryPolicy::never();
    let once = TelegramTransport::new(config).unwrap();
    sim.fail_next(sim.rate_limit_fault(7).expect("Telegram has its own flood answer"));
    let e = once.send(&Message::to(to.clone(), "again")).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code(), e.retry_after()),
        (
            ErrorKind::RateLimited,
            Dispatch::NotSent,
            Some("429"),
            Some(Duration::from_secs(7))
        )
    );

    // A wrong token, and another address.
    let bad = r
        .connect(&sim.dsn_with_bad_credentials().unwrap())
        .unwrap()
        .into_transport()
        .unwrap();
    let e = bad.send(&Message::to(to.clone(), "x")).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Auth, Dispatch::NotSent, Some("401"))
    );
    let other = Simulator::start().await;
    let moved = r
        .connect(&sim.dsn_at(&other.uri()).unwrap())
        .unwrap()
        .into_transport()
        .unwrap();
    moved.send(&Message::to(to, "elsewhere")).await.unwrap();
    assert_eq!((sim.sent().len(), Simulated::sent(&other).len()), (1, 1));
}

#[tokio::test]
async fn triggered_updates_are_answered_200_and_commands_are_routed() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    let url = format!("{}/tg", sink.uri());
    let payloads = Arc::new(Mutex::new(Vec::new()));
    let seen = payloads.clone();
    let bot = TelegramTransport::from_dsn_str(&sim.dsn())
        .unwrap()
        .with_commands(CommandRouter::new().on("start", move |ctx| {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(ctx.command.deep_link_payload().map(str::to_owned));
                Ok(())
            }
        }));
    assert_eq!(sim.triggers(), ["inbound", "command"]);

    let inbound = sim.trigger("inbound", &url).await.unwrap();
    assert_eq!(inbound.header(SECRET_HEADER), Some(SIM_WEBHOOK_SECRET));
    let handled = bot.handle_webhook(&inbound).await.unwrap();
    assert_eq!(handled.answer, WebhookAnswer::ok());
    assert!((handled.answer.status, handled.answer.body.is_empty()) == (200, true));
    let [Event::Inbound(m)] = handled.events.as_slice() else {
        panic!("{:?}", handled.events)
    };
    assert_eq!(
        (m.to.as_deref(), m.text.as_str()),
        (Some("100200300"), "Hello from the Telegram simulator")
    );

    let command = sim.trigger("command", &url).await.unwrap();
    bot.handle_webhook(&command).await.unwrap();
    assert_eq!(
        *payloads.lock().unwrap(),
        [Some("sim".to_owned())],
        "the router ran /start"
    );
    assert_eq!(
        sink.wait_for(2, Duration::from_secs(5)).await.len(),
        2,
        "both reached the URL"
    );
    assert_eq!(sim.pushed().len(), 2);
    let e = sim.trigger("delivered", &url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);

    // The webhook alone, through core's Webhook trait: the same answer, and refusals the host answers 401.
    let hook = TelegramWebhook::from_config(&sim.config());
    assert_eq!(hook.handle(&inbound).await.unwrap().answer, WebhookAnswer::ok());
    let mut forged = inbound.clone();
    forged.headers.insert(SECRET_HEADER, "a-guess".parse().unwrap());
    let e = hook.handle(&forged).await.unwrap_err();
    assert_eq!(WebhookAnswer::for_error(&e).status, 401);
    assert!(!format!("{e} {e:?} {hook:?}").contains(SIM_WEBHOOK_SECRET));
}

#[tokio::test]
async fn a_simulator_started_with_a_webhook_url_pushes_there() {
    let sink = WebhookSink::start().await;
    let sim = Simulator::start_with(SimOptions::default().webhook_url(format!("{}/tg", sink.uri())))
        .await
        .unwrap();
    sim.user_sends(SIM_CHAT_ID, "hi").await;
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got[0].header(SECRET_HEADER), Some(SIM_WEBHOOK_SECRET));
    assert_eq!(sim.pending_updates(), 0);
    assert_eq!(sim.pushed().len(), 1);
}

//! Webhooks: set-up and info, pushed updates verified, decoded and routed to commands, the bot's
//! username, redelivery of what the host did not take, garbage that must not panic.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::sim::{SIM_BOT_USERNAME, SIM_CHAT_ID, SIM_TOKEN, SIM_WEBHOOK_SECRET, Simulator};
use crate::{
    ChatId, CommandRouter, Routed, SECRET_HEADER, SetWebhook, TelegramClient, TelegramConfig, TelegramTransport,
};
use serde_json::{Value, json};
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{ErrorKind, Event, Transport, WebhookRequest};

use crate::tests::client;

#[tokio::test]
async fn webhook_set_up_info_and_delete() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let sink = WebhookSink::start().await;
    let url = format!("{}/tg/hook", sink.uri());
    assert!(
        c.set_webhook(&SetWebhook::new(&url, "s3cret_token".to_owned().into()).allowed_updates(["message"]))
            .await
            .unwrap()
    );
    let info = c.get_webhook_info().await.unwrap();
    assert_eq!(info.url, url);
    assert_eq!(info.allowed_updates, Some(vec!["message".to_owned()]));
    assert_eq!(info.max_connections, Some(40));

    // getUpdates while a webhook is set is a conflict.
    let e = c.get_updates(&Default::default()).await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Rejected, Some("409")));

    let bad_secret = SetWebhook::new(&url, "not allowed!".to_owned().into());
    assert_eq!(
        c.set_webhook(&bad_secret).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    for (bad, why) in [
        ("http://bot.example.com/hook", "HTTPS"),
        ("https://bot.example.com:8080/hook", "ports"),
    ] {
        let e = c
            .set_webhook(&SetWebhook::new(bad, "ok".to_owned().into()))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.provider_text().unwrap().contains(why), "{e}");
    }
    let e = c
        .set_webhook(&SetWebhook::new(&url, "ok".to_owned().into()).max_connections(500))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);

    assert!(c.delete_webhook(true).await.unwrap());
    assert_eq!(c.get_webhook_info().await.unwrap().url, "");
    assert!(c.get_updates(&Default::default()).await.unwrap().is_empty());

    let no_secret = TelegramConfig::builder(SIM_TOKEN).base_url(sim.uri()).build().unwrap();
    let e = TelegramClient::new(no_secret)
        .unwrap()
        .set_webhook_url(&url)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[derive(Default, Clone)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn push(&self, s: String) {
        self.0.lock().unwrap().push(s);
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn router(seen: &Seen) -> CommandRouter {
    let (a, b) = (seen.clone(), seen.clone());
    CommandRouter::new()
        .on("start", move |ctx| {
            let seen = a.clone();
            async move {
                seen.push(format!(
                    "start:{}:{}",
                    ctx.chat_id,
                    ctx.command.deep_link_payload().unwrap_or("-")
                ));
                Ok(())
            }
        })
        .on("fail", move |_ctx| {
            let seen = b.clone();
            async move {
                seen.push("fail".into());
                Err(switchboard_core::Error::new(ErrorKind::Unavailable, "handler broke"))
            }
        })
}

#[tokio::test]
async fn pushed_updates_are_verified_decoded_and_routed() {
    let sim = Simulator::start().await;
    let seen = Seen::default();
    let bot = TelegramTransport::from_dsn_str(&sim.dsn())
        .unwrap()
        .with_commands(router(&seen));
    let sink = WebhookSink::start().await;
    bot.client()
        .set_webhook_url(&format!("{}/tg", sink.uri()))
        .await
        .unwrap();

    for text in [
        "/start",
        "/start ref_42",
        &format!("/start@{SIM_BOT_USERNAME} grp_7"),
        "/start@SomeOtherBot x",
        "/fail",
        "/help",
        "hello bot",
    ] {
        sim.user_sends(SIM_CHAT_ID, text).await;
    }
    let pushed = sink.wait_for(7, Duration::from_secs(5)).await;
    assert_eq!(pushed.len(), 7);
    assert_eq!(sim.pending_updates(), 0, "every push was answered 200");
    let mut inbound = vec![];
    for request in &pushed {
        assert_eq!(request.header(SECRET_HEADER), Some(SIM_WEBHOOK_SECRET));
        for event in bot.handle_webhook(request).await.unwrap().events {
            let Event::Inbound(m) = event else { panic!("{event:?}") };
            assert_eq!(m.to.as_deref(), Some(SIM_CHAT_ID.to_string().as_str()));
            inbound.push(m.text);
        }
    }
    assert_eq!(inbound.len(), 7, "every message is an inbound event, commands included");
    assert_eq!(
        seen.all(),
        [
            format!("start:{SIM_CHAT_ID}:-"),
            format!("start:{SIM_CHAT_ID}:ref_42"),
            format!("start:{SIM_CHAT_ID}:grp_7"),
            "fail".to_owned(),
        ],
        "/start@SomeOtherBot must not run; /help has no handler"
    );
    assert!(!sim.calls().iter().any(|c| c == "getMe"), "the DSN names the bot");

    // Unsigned, wrong secret, garbage.
    let good = &pushed[0];
    let mut unsigned = good.clone();
    unsigned.headers.remove(SECRET_HEADER);
    assert_eq!(bot.handle_webhook(&unsigned).await.unwrap_err().kind(), ErrorKind::Auth);
    let mut wrong = good.clone();
    wrong
        .headers
        .insert(SECRET_HEADER, "sim-webhook-secret_0123456788".parse().unwrap());
    let e = bot.handle_webhook(&wrong).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!format!("{e:?}").contains(SIM_WEBHOOK_SECRET));
    for body in [
        &b"{"[..],
        b"[]",
        b"\xff\xfe",
        b"{\"update_id\":1,\"message\":{\"chat\":7}}",
    ] {
        let r = WebhookRequest::post("https://bot.example/tg", body.to_vec())
            .with_header(SECRET_HEADER, SIM_WEBHOOK_SECRET);
        assert_eq!(
            bot.handle_webhook(&r).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    // Without a configured secret the transport refuses to take updates at all.
    let open = TelegramTransport::new(TelegramConfig::builder(SIM_TOKEN).base_url(sim.uri()).build().unwrap()).unwrap();
    assert_eq!(open.handle_webhook(good).await.unwrap_err().kind(), ErrorKind::Config);
}

#[tokio::test]
async fn the_bot_username_is_learned_once_with_get_me() {
    let sim = Simulator::start().await;
    let seen = Seen::default();
    let config = TelegramConfig::builder(SIM_TOKEN)
        .base_url(sim.uri())
        .webhook_secret(SIM_WEBHOOK_SECRET)
        .build()
        .unwrap();
    let bot = TelegramTransport::new(config).unwrap().with_commands(router(&seen));
    let sink = WebhookSink::start().await;
    bot.client()
        .set_webhook_url(&format!("{}/tg", sink.uri()))
        .await
        .unwrap();
    sim.user_sends(SIM_CHAT_ID, "/start").await;
    sim.user_sends(SIM_CHAT_ID, &format!("/start@{} a", SIM_BOT_USERNAME.to_lowercase()))
        .await;
    sim.user_sends(SIM_CHAT_ID, &format!("/start@{SIM_BOT_USERNAME} b"))
        .await;
    for r in sink.wait_for(3, Duration::from_secs(5)).await {
        bot.handle_webhook(&r).await.unwrap();
    }
    assert_eq!(seen.all().len(), 3);
    assert_eq!(sim.calls().iter().filter(|c| *c == "getMe").count(), 1);
    assert_eq!(bot.bot_username().await.as_deref(), Some(SIM_BOT_USERNAME));
}

#[tokio::test]
async fn router_dispatch_reports_what_it_did() {
    let sim = Simulator::start().await;
    let seen = Seen::default();
    let r = router(&seen);
    let update = |text: &str| -> crate::Update {
        serde_json::from_value(
            json!({"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5, "type": "private"},
            "date": 1, "text": text}}),
        )
        .unwrap()
    };
    assert_eq!(
        r.dispatch(&update("/start"), None).await.unwrap(),
        Routed::Handled("start".into())
    );
    assert_eq!(r.dispatch(&update("/start@X"), None).await.unwrap(), Routed::OtherBot);
    assert_eq!(
        r.dispatch(&update("/nope"), None).await.unwrap(),
        Routed::NoHandler("nope".into())
    );
    assert_eq!(r.dispatch(&update("hi"), None).await.unwrap(), Routed::NotACommand);
    assert!(r.dispatch(&update("/fail"), None).await.is_err());
    drop(sim);
}

#[tokio::test]
async fn failed_webhook_deliveries_stay_pending_until_answered() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let broken = WebhookSink::answering(500, "oops").await;
    c.set_webhook_url(&format!("{}/tg", broken.uri())).await.unwrap();
    sim.user_sends(SIM_CHAT_ID, "first").await;
    sim.user_sends(SIM_CHAT_ID, "second").await;
    let info = c.get_webhook_info().await.unwrap();
    assert_eq!(info.pending_update_count, 2);
    assert_eq!(
        info.last_error_message.as_deref(),
        Some("Wrong response from the webhook: 500 Internal Server Error")
    );

    let healthy = WebhookSink::start().await;
    c.set_webhook_url(&format!("{}/tg", healthy.uri())).await.unwrap();
    sim.advance().await;
    let got = healthy.wait_for(2, Duration::from_secs(5)).await;
    let texts: Vec<String> = got
        .iter()
        .map(|r| {
            r.json::<Value>().unwrap()["message"]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(texts, ["first", "second"], "in order, none lost");
    assert_eq!(c.get_webhook_info().await.unwrap().pending_update_count, 0);
}

#[tokio::test]
async fn garbage_webhooks_never_panic() {
    let sim = Simulator::start().await;
    let bot = TelegramTransport::from_dsn_str(&sim.dsn())
        .unwrap()
        .with_commands(CommandRouter::new());
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for n in 0..300usize {
        let body: Vec<u8> = (0..n % 97)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                b"{}[]\":,0123456789abcdefmessage_idupdatetext/start@ \\\xff"[(seed % 52) as usize]
            })
            .collect();
        let r = WebhookRequest::post("https://bot.example/tg", body).with_header(SECRET_HEADER, SIM_WEBHOOK_SECRET);
        let _ = bot.handle_webhook(&r).await;
    }
    let odd = json!({"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1, "type": "private"}, "date": -5,
        "text": "/start@", "entities": [{"type": "bot_command", "offset": 99, "length": 99}]}});
    let r =
        WebhookRequest::post("https://bot.example/tg", odd.to_string()).with_header(SECRET_HEADER, SIM_WEBHOOK_SECRET);
    assert_eq!(bot.handle_webhook(&r).await.unwrap().events.len(), 1);
    let _ = ChatId::parse("@");
}

//! The Telegram bot client, transport, webhooks and poller against the Bot API simulator.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_core::http::HttpOptions;
use switchboard_core::testkit::{ConnectionFault, Fault, WebhookSink, connection_fault};
use switchboard_core::{
    Dispatch, ErrorKind, Event, Idempotence, MemoryCursorStore, Message, PhoneNumber, RetryPolicy, Transport,
    WebhookRequest,
};
use switchboard_telegram::sim::{SIM_BOT_USERNAME, SIM_CHAT_ID, SIM_TOKEN, SIM_WEBHOOK_SECRET, SimError, Simulator};
use switchboard_telegram::{
    ChatId, Client, CommandRouter, Config, ParseMode, RateLimits, Routed, SECRET_HEADER, SendMessage, SetWebhook,
    TelegramTransport, UpdatePoller, escape_html, escape_markdown_v2, is_blocked, migrated_to,
};

fn client(sim: &Simulator) -> Client {
    Client::new(sim.config()).unwrap()
}

fn assert_no_token(e: &switchboard_core::Error) {
    let secret_part = SIM_TOKEN.split(':').nth(1).unwrap();
    let shown = format!("{e} {e:?} {}", switchboard_core::error::display_chain(e));
    assert!(!shown.contains(secret_part), "the token leaked: {shown}");
}

#[tokio::test]
async fn transport_sends_to_the_default_chat_as_html() {
    let sim = Simulator::start().await;
    let bot = TelegramTransport::from_dsn_str(&sim.dsn()).unwrap();
    let html = format!("Order <b>#72</b> for {}", escape_html("Ana & Co <ltd>"));
    let r = bot
        .send(&Message::chat("", "fallback").with_html(html.clone()))
        .await
        .unwrap();
    let sent = sim.sent_to(SIM_CHAT_ID);
    assert_eq!(sent.len(), 1);
    assert_eq!(r.provider_id(), format!("{SIM_CHAT_ID}:{}", sent[0].message_id));
    assert_eq!(sent[0].text, "Order #72 for Ana & Co <ltd>");
    assert_eq!(sent[0].raw_text, html);
    assert_eq!(sent[0].parse_mode, Some(ParseMode::Html));
    assert_eq!(sent[0].entities[0].kind, "bold");
    assert_eq!(r.raw["entities"][0]["type"], "bold");
    assert!(bot.capabilities().chat && bot.capabilities().inbound);

    // Explicit chats, channels by @username, and recipients a bot cannot reach.
    sim.add_channel(-1001000000001, "shop_news", "Shop news");
    bot.send(&Message::chat("@shop_news", "New arrivals")).await.unwrap();
    assert_eq!(sim.sent_to(-1001000000001)[0].text, "New arrivals");
    let phone = PhoneNumber::parse("+355694123456", None).unwrap();
    assert_eq!(
        bot.send(&Message::sms(phone, "x")).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        bot.send(&Message::chat("not a chat", "x")).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn markdown_v2_escaping_and_parse_errors() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let customer = "Ana_Hoxha (VIP) *gold* 1.5% [x]";
    let text = format!("*Order shipped* for {}", escape_markdown_v2(customer));
    let m = c
        .send_message(&SendMessage::new(SIM_CHAT_ID, text).parse_mode(ParseMode::MarkdownV2))
        .await
        .unwrap();
    assert_eq!(
        m.text.as_deref(),
        Some(format!("Order shipped for {customer}").as_str())
    );
    assert_eq!(m.entities[0].kind, "bold");

    let e = c
        .send_message(&SendMessage::new(SIM_CHAT_ID, "Order 72 shipped.").parse_mode(ParseMode::MarkdownV2))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::InvalidInput, Dispatch::NotSent, Some("400"))
    );
    assert!(
        e.provider_text()
            .unwrap()
            .starts_with("Bad Request: can't parse entities: Character '.' is reserved")
    );
    assert_no_token(&e);
    assert_eq!(sim.sent().len(), 1);
}

#[tokio::test]
async fn the_length_limit_is_4096_utf16_units_after_parsing() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    // Longer than 4096 as written, exactly 4096 as read: accepted.
    let bold = format!("<b>{}</b>", "a".repeat(4096));
    c.send_message(&SendMessage::new(SIM_CHAT_ID, bold).parse_mode(ParseMode::Html))
        .await
        .unwrap();
    // 2049 emoji are 4098 UTF-16 units: refused before any request.
    let calls = sim.calls().len();
    for text in ["😀".repeat(2049), "a".repeat(4097), "   ".into()] {
        let e = c.send_message(&SendMessage::new(SIM_CHAT_ID, text)).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    }
    assert_eq!(sim.calls().len(), calls, "refused locally");
    // What the simulator says to a client that sends it anyway.
    let r: Value = reqwest::Client::new()
        .post(format!("{}/bot{SIM_TOKEN}/sendMessage", sim.uri()))
        .form(&[("chat_id", SIM_CHAT_ID.to_string()), ("text", "😀".repeat(2049))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: message is too long"})
    );
}

#[tokio::test]
async fn bot_api_errors_map() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let e = c.send_message(&SendMessage::new(42, "hi")).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_text()),
        (ErrorKind::NotFound, Some("Bad Request: chat not found"))
    );

    sim.block(SIM_CHAT_ID);
    let e = c.send_message(&SendMessage::new(SIM_CHAT_ID, "hi")).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.http_status()),
        (ErrorKind::Rejected, Dispatch::NotSent, Some(403))
    );
    assert!(is_blocked(&e));

    sim.add_group(-4001, "Shop staff");
    sim.migrate(-4001, -1004001);
    let e = c.send_message(&SendMessage::new(-4001, "hi")).await.unwrap_err();
    assert_eq!(migrated_to(&e), Some(-1004001));
    c.send_message(&SendMessage::new(-1004001, "hi")).await.unwrap();

    sim.queue_error(SimError::flood(35));
    let e = c.send_message(&SendMessage::new(-1004001, "hi")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::RateLimited, Dispatch::NotSent));
    assert_eq!(e.retry_after(), Some(Duration::from_secs(35)));
    assert!(e.is_safe_to_retry(false));

    sim.queue_error(SimError::new(500, "Internal Server Error"));
    let e = c.send_message(&SendMessage::new(-1004001, "hi")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));

    let e = c
        .call::<_, Value>("noSuchMethod", &json!({}), Idempotence::Idempotent)
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("404")));

    let wrong = Config::builder("7000000001:AAHwrongwrongwrongwrongwrongwrong00")
        .base_url(sim.uri())
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let e = Client::new(wrong).unwrap().get_me().await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("401")));
    assert!(!format!("{e} {e:?}").contains("AAHwrong"));
}

#[tokio::test]
async fn a_flood_wait_is_honoured_and_the_send_repeated_once() {
    let sim = Simulator::start().await;
    let config = Config::builder(SIM_TOKEN)
        .base_url(sim.uri())
        .rate_limits(None)
        .retry(
            RetryPolicy::default()
                .with_delays(Duration::from_millis(1), Duration::from_millis(5))
                .with_jitter(false),
        )
        .build()
        .unwrap();
    let c = Client::new(config).unwrap();
    sim.queue_error(SimError::flood(0));
    c.send_message(&SendMessage::new(SIM_CHAT_ID, "hi")).await.unwrap();
    assert_eq!(sim.calls(), ["sendMessage", "sendMessage"]);
    assert_eq!(sim.sent().len(), 1);
    // A server error may have been acted on: never repeated.
    sim.queue_error(SimError::new(500, "Internal Server Error"));
    assert!(c.send_message(&SendMessage::new(SIM_CHAT_ID, "hi")).await.is_err());
    assert_eq!(sim.calls().len(), 3);
}

#[tokio::test]
async fn flood_limits_pace_one_chat_but_not_others() {
    let sim = Simulator::start().await;
    let config = Config::builder(SIM_TOKEN)
        .base_url(sim.uri())
        .rate_limits(Some(RateLimits::default().per_chat_interval(Duration::from_millis(60))))
        .build()
        .unwrap();
    let c = Client::new(config).unwrap();
    sim.add_private_chat(1, "B");
    sim.add_private_chat(2, "C");
    let start = Instant::now();
    for chat in [SIM_CHAT_ID, 1, 2] {
        c.send_message(&SendMessage::new(chat, "hi")).await.unwrap();
    }
    let spread = start.elapsed();
    for _ in 0..2 {
        c.send_message(&SendMessage::new(SIM_CHAT_ID, "again")).await.unwrap();
    }
    assert!(start.elapsed() >= Duration::from_millis(115), "{:?}", start.elapsed());
    assert!(spread < Duration::from_millis(55), "{spread:?}");
    assert_eq!(
        RateLimits::default(),
        Config::builder(SIM_TOKEN).build().unwrap().rate_limits.unwrap()
    );
}

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

    let no_secret = Config::builder(SIM_TOKEN).base_url(sim.uri()).build().unwrap();
    let e = Client::new(no_secret).unwrap().set_webhook_url(&url).await.unwrap_err();
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
    let open = TelegramTransport::new(Config::builder(SIM_TOKEN).base_url(sim.uri()).build().unwrap()).unwrap();
    assert_eq!(open.handle_webhook(good).await.unwrap_err().kind(), ErrorKind::Config);
}

#[tokio::test]
async fn the_bot_username_is_learned_once_with_get_me() {
    let sim = Simulator::start().await;
    let seen = Seen::default();
    let config = Config::builder(SIM_TOKEN)
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
    let update = |text: &str| -> switchboard_telegram::Update {
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
    sim.redeliver().await;
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
async fn polling_neither_loses_nor_repeats_updates() {
    let sim = Simulator::start().await;
    let store = Arc::new(MemoryCursorStore::new());
    let poller = |c: Client| {
        UpdatePoller::new(c)
            .timeout(Duration::ZERO)
            .cursor(store.clone(), "tg-offset")
    };
    let mut a = poller(client(&sim));
    for t in ["1", "2", "3"] {
        sim.user_sends(SIM_CHAT_ID, t).await;
    }
    let texts = |b: &[switchboard_telegram::Update]| -> Vec<String> {
        b.iter()
            .map(|u| u.message.as_ref().unwrap().text.clone().unwrap())
            .collect()
    };
    assert_eq!(texts(&a.next_batch().await.unwrap()), ["1", "2", "3"]);

    // The process dies before handling them: a new poller gets them again (not lost).
    drop(a);
    let mut b = poller(client(&sim));
    assert_eq!(texts(&b.next_batch().await.unwrap()), ["1", "2", "3"]);
    // Handled; the next call acknowledges them and they never come back.
    sim.user_sends(SIM_CHAT_ID, "4").await;
    assert_eq!(texts(&b.next_batch().await.unwrap()), ["4"]);
    assert_eq!(sim.pending_updates(), 1);

    // A failed call keeps the offset: the same update comes again, nothing is skipped.
    sim.user_sends(SIM_CHAT_ID, "5").await;
    sim.faults().push(Fault::Status(502));
    assert!(b.next_batch().await.is_err());
    assert_eq!(texts(&b.next_batch().await.unwrap()), ["5"]);
    assert!(b.next_batch().await.unwrap().is_empty());

    // A restart resumes after what was handled.
    sim.user_sends(SIM_CHAT_ID, "6").await;
    drop(b);
    let mut c = poller(client(&sim));
    assert_eq!(texts(&c.next_batch().await.unwrap()), ["6"]);
    assert!(c.offset().is_some());
}

#[tokio::test]
async fn the_simulator_speaks_query_form_and_json_like_the_bot_api() {
    let sim = Simulator::start().await;
    let http = reqwest::Client::new();
    let base = format!("{}/bot{SIM_TOKEN}", sim.uri());
    let me: Value = http
        .get(format!("{base}/GETME"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["result"]["username"], SIM_BOT_USERNAME);
    let q: Value = http
        .get(format!("{base}/sendMessage?chat_id={SIM_CHAT_ID}&text=query%20text"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["result"]["text"], "query text");
    let f: Value = http
        .post(format!("{base}/sendmessage"))
        .form(&[
            ("chat_id", SIM_CHAT_ID.to_string()),
            ("text", "<i>form</i>".into()),
            ("parse_mode", "HTML".into()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        f["result"]["entities"],
        json!([{"type": "italic", "offset": 0, "length": 4}])
    );
    let r = http
        .post(format!("{}/botnonsense/getMe", sim.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let wh: Value = http
        .post(format!("{base}/setWebhook"))
        .form(&[
            ("url", "https://bot.example.com/hook"),
            ("allowed_updates", "[\"message\",\"callback_query\"]"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        wh,
        json!({"ok": true, "result": true, "description": "Webhook was set"})
    );
}

#[tokio::test]
async fn http_and_connection_faults_classify() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let msg = SendMessage::new(SIM_CHAT_ID, "hi");
    for f in [
        Fault::MalformedJson,
        Fault::TruncatedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
    ] {
        sim.faults().push(f.clone());
        let e = c.send_message(&msg).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::Decode, Dispatch::MaybeSent),
            "{f:?}"
        );
    }
    sim.faults().push(Fault::Status(502));
    let e = c.send_message(&msg).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    sim.faults().push(Fault::RateLimited(Some(4)));
    let e = c.send_message(&msg).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.retry_after()),
        (ErrorKind::RateLimited, Some(Duration::from_secs(4)))
    );

    for (fault, kind, dispatch) in [
        (ConnectionFault::Refused, ErrorKind::Transport, Dispatch::NotSent),
        (
            ConnectionFault::ResetAfterRequest,
            ErrorKind::Transport,
            Dispatch::MaybeSent,
        ),
        (ConnectionFault::CutMidBody, ErrorKind::Transport, Dispatch::MaybeSent),
        (ConnectionFault::NeverAnswers, ErrorKind::Timeout, Dispatch::MaybeSent),
    ] {
        let url = connection_fault(fault).await.unwrap();
        let config = Config::builder(SIM_TOKEN)
            .base_url(url)
            .http(HttpOptions::default().timeout(Duration::from_millis(300)))
            .retry(RetryPolicy::never())
            .rate_limits(None)
            .build()
            .unwrap();
        let e = Client::new(config).unwrap().send_message(&msg).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{fault:?}: {e}");
        assert_no_token(&e);
    }
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

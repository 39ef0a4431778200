//! Sending: chats and channels, HTML and MarkdownV2, the length limit, Bot API errors, flood waits
//! and limits, HTTP and connection faults (never showing the token).

use std::time::{Duration, Instant};

use crate::sim::{SIM_CHAT_ID, SIM_TOKEN, SimError, Simulator};
use crate::{
    ParseMode, RateLimits, SendMessage, TelegramClient, TelegramConfig, TelegramTransport, escape_html,
    escape_markdown_v2, is_blocked, migrated_to,
};
use serde_json::{Value, json};
use switchboard_core::http::HttpOptions;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind, Idempotence, Message, PhoneNumber, RetryPolicy, Transport};

use crate::tests::{assert_no_token, client};

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

    let wrong = TelegramConfig::builder("7000000001:AAHwrongwrongwrongwrongwrongwrong00")
        .base_url(sim.uri())
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let e = TelegramClient::new(wrong).unwrap().get_me().await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Auth, Some("401")));
    assert!(!format!("{e} {e:?}").contains("AAHwrong"));
}

#[tokio::test]
async fn a_flood_wait_is_honoured_and_the_send_repeated_once() {
    let sim = Simulator::start().await;
    let config = TelegramConfig::builder(SIM_TOKEN)
        .base_url(sim.uri())
        .rate_limits(None)
        .retry(
            RetryPolicy::default()
                .with_delays(Duration::from_millis(1), Duration::from_millis(5))
                .with_jitter(false),
        )
        .build()
        .unwrap();
    let c = TelegramClient::new(config).unwrap();
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
    let config = TelegramConfig::builder(SIM_TOKEN)
        .base_url(sim.uri())
        .rate_limits(Some(RateLimits::default().per_chat_interval(Duration::from_millis(60))))
        .build()
        .unwrap();
    let c = TelegramClient::new(config).unwrap();
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
        TelegramConfig::builder(SIM_TOKEN).build().unwrap().rate_limits.unwrap()
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
        let config = TelegramConfig::builder(SIM_TOKEN)
            .base_url(url)
            .http(HttpOptions::default().timeout(Duration::from_millis(300)))
            .retry(RetryPolicy::never())
            .rate_limits(None)
            .build()
            .unwrap();
        let e = TelegramClient::new(config)
            .unwrap()
            .send_message(&msg)
            .await
            .unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{fault:?}: {e}");
        assert_no_token(&e);
    }
}

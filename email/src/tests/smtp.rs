//! Against a real SMTP server: mailin's state machine, started in process on loopback by
//! src/tests/support/smtp_sink.rs, with every message read back by an independent MIME parser.

use crate::{Email, EmailClient, EmailConfig, EmailTransport, Security};
use mailin::AuthMechanism;
use switchboard_core::{Attachment, DeliveryStatus, Dispatch, ErrorKind, Message, RetryPolicy, Transport};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as TokioBufReader};

use crate::tests::support::smtp_sink::SmtpSink;
use crate::tests::{FROM, to};

#[tokio::test]
async fn plain_html_attachment_and_utf8_subject_reach_a_real_server() {
    let sink = SmtpSink::start(None);
    let mail = EmailTransport::from_dsn_str(&sink.dsn("")).unwrap();
    let pdf: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let msg = Message::email_to(
        to("ana@example.al"),
        "Счёт №72 — заказ 📦",
        "Здравствуйте, Ана! Счёт во вложении.",
    )
    .with_html("<p>Здравствуйте, <b>Ана</b>!</p>")
    .with_attachment(Attachment {
        filename: "счёт-72.pdf".into(),
        content_type: "application/pdf".into(),
        content: bytes::Bytes::from(pdf.clone()),
    });
    let r = mail.send(&msg).await.unwrap();
    assert_eq!(r.status, DeliveryStatus::Sent);
    assert_eq!(r.raw["smtp_code"], 250);
    assert!(
        r.raw["smtp_reply"].as_str().unwrap().contains("queued as SINK0001"),
        "{}",
        r.raw
    );

    let got = sink.received();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.subject.as_deref(), Some("Счёт №72 — заказ 📦"));
    assert_eq!(m.from.as_deref(), Some(FROM));
    assert_eq!(m.to.as_deref(), Some("ana@example.al"));
    assert_eq!(m.mail_from, "noreply@shop.example");
    assert_eq!(m.rcpt_tos, ["ana@example.al"]);
    assert_eq!(m.message_id, Some(format!("<{}>", r.provider_id())));
    assert!(r.provider_id().ends_with("@shop.example"));
    assert_eq!(m.mime_version.as_deref(), Some("1.0"));
    assert!(m.date.is_some(), "a Date header that parses");
    assert_eq!(m.content_type, "multipart/mixed");
    assert!(m.is_7bit);
    assert!(
        m.mail_options.is_empty(),
        "a 7-bit message needs no BODY=8BITMIME: {:?}",
        m.mail_options
    );
    let text = m.part("text/plain");
    assert_eq!(text.text(), "Здравствуйте, Ана! Счёт во вложении.");
    assert_eq!(text.charset.as_deref(), Some("utf-8"));
    let html = m.part("text/html");
    assert_eq!(html.text(), "<p>Здравствуйте, <b>Ана</b>!</p>");
    let att = m.part("application/pdf");
    assert_eq!(att.filename.as_deref(), Some("счёт-72.pdf"));
    assert_eq!(att.disposition.as_deref(), Some("attachment"));
    assert_eq!(att.bytes, pdf, "attachment bytes survive");
}

#[tokio::test]
async fn cc_bcc_reply_to_and_connection_reuse() {
    let sink = SmtpSink::start(None);
    let mailer =
        EmailClient::new(EmailConfig::from_dsn(&switchboard_core::Dsn::parse(&sink.dsn("")).unwrap()).unwrap())
            .unwrap();
    for i in 0..3 {
        let e = Email::new("ana@example.al", format!("n{i}"), "t")
            .cc("boss@example.al")
            .bcc("audit@shop.example")
            .reply_to("support@shop.example");
        mailer.send(&e).await.unwrap();
    }
    let got = sink.received();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].cc.as_deref(), Some("boss@example.al"));
    assert_eq!(got[0].reply_to.as_deref(), Some("support@shop.example"));
    assert_eq!(got[0].bcc, None, "Bcc is never a header");
    assert_eq!(got[0].rcpt_tos.len(), 3, "but it is a recipient");
    assert!(got[0].rcpt_tos.iter().any(|r| r == "audit@shop.example"));
    assert_eq!(got[0].peer, got[2].peer, "one pooled connection for all three");
}

#[tokio::test]
async fn auth_plain_login_and_refusals() {
    let sink = SmtpSink::start(Some("shop:s3cret-pass"));
    let mail = EmailTransport::from_dsn_str(&sink.dsn_with_auth("shop", "s3cret-pass")).unwrap();
    mail.send(&Message::email_to(to("a@example.al"), "hi", "t"))
        .await
        .unwrap();
    assert_eq!(sink.received()[0].auth_login.as_deref(), Some("shop"));

    let wrong = EmailTransport::from_dsn_str(&sink.dsn_with_auth("shop", "wrong-pass")).unwrap();
    let e = wrong
        .send(&Message::email_to(to("a@example.al"), "hi", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Auth, Dispatch::NotSent, Some("535"))
    );
    assert!(!format!("{e} {e:?} {wrong:?}").contains("wrong-pass"));

    let anonymous = EmailTransport::from_dsn_str(&sink.dsn("")).unwrap();
    let e = anonymous
        .send(&Message::email_to(to("a@example.al"), "hi", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Auth, Dispatch::NotSent, Some("530"))
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn auth_login_when_the_server_offers_only_login() {
    let sink = SmtpSink::start_with(Some("shop:s3cret-pass"), &[AuthMechanism::Login]);
    let mail = EmailTransport::from_dsn_str(&sink.dsn_with_auth("shop", "s3cret-pass")).unwrap();
    mail.send(&Message::email_to(to("a@example.al"), "hi", "t"))
        .await
        .unwrap();
    assert_eq!(sink.received()[0].auth_login.as_deref(), Some("shop"));

    let wrong = EmailTransport::from_dsn_str(&sink.dsn_with_auth("shop", "wrong-pass")).unwrap();
    let e = wrong
        .send(&Message::email_to(to("a@example.al"), "hi", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Auth, Dispatch::NotSent, Some("535"))
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn a_non_ascii_address_goes_out_with_smtputf8() {
    let sink = SmtpSink::start(None);
    let mail = EmailTransport::from_dsn_str(&sink.dsn("")).unwrap();
    mail.send(&Message::email_to(to("ана@пример.рф"), "Привет", "t"))
        .await
        .unwrap();
    let m = &sink.received()[0];
    assert_eq!(m.rcpt_tos, ["ана@пример.рф"]);
    assert!(
        m.mail_options.iter().any(|o| o.eq_ignore_ascii_case("SMTPUTF8")),
        "{:?}",
        m.mail_options
    );
    assert_eq!(m.to.as_deref(), Some("ана@пример.рф"));
    assert_eq!(m.subject.as_deref(), Some("Привет"));
    // An 8-bit header needs BODY=8BITMIME too (RFC 6531 §3.4).
    assert_eq!(
        m.is_7bit,
        m.mail_options.iter().all(|o| !o.eq_ignore_ascii_case("BODY=8BITMIME"))
    );
}

#[tokio::test]
async fn refusals_at_rcpt_and_after_the_final_dot_prove_nothing_was_accepted() {
    let sink = SmtpSink::start(None);
    let config = EmailConfig::builder("127.0.0.1")
        .port(sink.port)
        .security(Security::None)
        .from(FROM)
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let mail = EmailTransport::new(config).unwrap();
    let cases = [
        ("rcpt-550@example.al", ErrorKind::Rejected, "550"),
        ("rcpt-553@example.al", ErrorKind::Rejected, "553"),
        ("rcpt-451@example.al", ErrorKind::Unavailable, "451"),
        ("rcpt-452@example.al", ErrorKind::Unavailable, "452"),
        ("data-554@example.al", ErrorKind::Rejected, "554"),
        ("data-552@example.al", ErrorKind::InvalidInput, "552"),
        ("data-451@example.al", ErrorKind::Unavailable, "451"),
    ];
    for (addr, kind, code) in cases {
        let e = mail.send(&Message::email_to(to(addr), "s", "t")).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch(), e.provider_code()),
            (kind, Dispatch::NotSent, Some(code)),
            "{addr}: {e}"
        );
        assert!(e.provider_text().unwrap().contains("scripted refusal"), "{addr}");
        assert_eq!(e.is_safe_to_retry(false), kind == ErrorKind::Unavailable);
    }
    assert!(sink.received().is_empty());
    // The connection is still good for the next message.
    mail.send(&Message::email_to(to("ok@example.al"), "s", "t"))
        .await
        .unwrap();
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn starttls_required_never_falls_back_to_plain_text() {
    let sink = SmtpSink::start(Some("shop:s3cret-pass"));
    // The sink offers no STARTTLS: the send must stop before AUTH, credentials unsent.
    let dsn = format!(
        "smtp://shop:s3cret-pass@127.0.0.1:{}?from=noreply@shop.example",
        sink.port
    );
    let e = EmailTransport::from_dsn_str(&dsn)
        .unwrap()
        .send(&Message::email_to(to("a@example.al"), "s", "t"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Config, Dispatch::NotSent), "{e}");
    // Implicit TLS to a plain-text server fails the handshake.
    let dsn = format!(
        "smtps://shop:s3cret-pass@127.0.0.1:{}?from=noreply@shop.example&timeout=5",
        sink.port
    );
    let e = EmailTransport::from_dsn_str(&dsn)
        .unwrap()
        .send(&Message::email_to(to("a@example.al"), "s", "t"))
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent, "{e}");
    assert!(sink.received().is_empty());
}

/// A raw SMTP client, one line at a time.
struct RawClient {
    lines: tokio::io::Lines<TokioBufReader<tokio::net::tcp::OwnedReadHalf>>,
    wr: tokio::net::tcp::OwnedWriteHalf,
}

impl RawClient {
    async fn connect(port: u16) -> RawClient {
        let sock = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (rd, wr) = sock.into_split();
        RawClient {
            lines: TokioBufReader::new(rd).lines(),
            wr,
        }
    }

    /// One reply, all its lines.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        while let Some(line) = self.lines.next_line().await.unwrap() {
            all.push_str(&line);
            all.push('\n');
            if line.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
        all
    }

    async fn say(&mut self, line: &str) -> String {
        self.wr.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
        self.reply().await
    }
}

/// The sink itself, spoken to line by line: what the email tests rely on it to refuse, it refuses.
#[tokio::test]
async fn the_sink_answers_as_the_smtp_rfcs_say() {
    let sink = SmtpSink::start(Some("shop:s3cret-pass"));
    let mut c = RawClient::connect(sink.port).await;
    assert!(c.reply().await.starts_with("220 "));
    let ehlo = c.say("EHLO client.test").await;
    for ext in ["8BITMIME", "SMTPUTF8", "AUTH PLAIN LOGIN"] {
        assert!(ehlo.contains(ext), "{ehlo}");
    }
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    // RFC 4954 §6: nothing but AUTH, EHLO, HELO, NOOP, RSET, QUIT before a required AUTH.
    assert!(c.say("MAIL FROM:<a@shop.example>").await.starts_with("530 5.7.0"));
    assert!(c.say("NOOP").await.starts_with("250"));
    // AUTH LOGIN, challenge by challenge: "shop" / "wrong", then "shop" / "s3cret-pass".
    assert!(c.say("AUTH LOGIN").await.starts_with("334 "));
    assert!(c.say("c2hvcA==").await.starts_with("334 "));
    assert!(c.say("d3Jvbmc=").await.starts_with("535 5.7.8"));
    assert!(c.say("AUTH LOGIN c2hvcA==").await.starts_with("334 "));
    assert!(c.say("czNjcmV0LXBhc3M=").await.starts_with("235 "));
    // RFC 5321 §4.1.1.11: a MAIL parameter the server does not know is refused.
    let unknown = c.say("MAIL FROM:<a@shop.example> SIZE=10 X-UNKNOWN=1").await;
    assert!(unknown.starts_with("555 "), "{unknown}");
    assert!(
        c.say("MAIL FROM:<a@shop.example> BODY=8BITMIME SMTPUTF8")
            .await
            .starts_with("250")
    );
    assert!(c.say("RCPT TO:<rcpt-550@example.al>").await.starts_with("550 5.1.1"));
    assert!(c.say("RCPT TO:<ok@example.al>").await.starts_with("250"));
    assert!(c.say("DATA").await.starts_with("354"));
    // A dot-stuffed line comes out unstuffed; 8-bit text is taken under BODY=8BITMIME.
    let queued = c.say("Subject: héllo\r\n\r\n..dot\r\n.").await;
    assert!(queued.starts_with("250 2.0.0 Ok: queued as SINK0001"), "{queued}");
    let got = sink.received();
    assert_eq!(got[0].mail_options, ["BODY=8BITMIME", "SMTPUTF8"]);
    assert_eq!(got[0].rcpt_tos, ["ok@example.al"]);
    assert_eq!(got[0].auth_login.as_deref(), Some("shop"));
    assert_eq!(got[0].subject.as_deref(), Some("héllo"));
    assert_eq!(got[0].parts[0].text(), ".dot\r\n");
    assert!(!got[0].is_7bit);
    // RFC 5321 §4.5.3.1.6: a text line longer than 1000 octets ends the transaction.
    assert!(c.say("MAIL FROM:<a@shop.example>").await.starts_with("250"));
    assert!(c.say("RCPT TO:<ok@example.al>").await.starts_with("250"));
    assert!(c.say("DATA").await.starts_with("354"));
    assert!(c.say(&"x".repeat(1000)).await.starts_with("500 5.5.2"));
    assert_eq!(sink.received().len(), 1);
}

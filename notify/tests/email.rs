//! The email transport against a real SMTP server (aiosmtpd, started from tests/support/smtp_sink.py)
//! and against raw TCP servers that misbehave on purpose.
//!
//! These tests need Python 3 with aiosmtpd: `python3 -m pip install aiosmtpd`. Without it they fail
//! and say so; they do not skip.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;
use switchboard_core::{Attachment, DeliveryStatus, Dispatch, ErrorKind, Message, Recipient, RetryPolicy, Transport};
use switchboard_notify::email::{Config, Email, EmailTransport, Mailer, Security, Template};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::TcpListener;

const FROM: &str = "Shop <noreply@shop.example>";

/// A running aiosmtpd server writing what it receives to a directory; killed on drop.
struct SmtpSink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn require_aiosmtpd() {
    let ok = Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the email tests need Python 3 with aiosmtpd (a real SMTP server). Install it with:\n\
         \n    python3 -m pip install aiosmtpd\n\n\
         (set PYTHON=/path/to/python3 to use another interpreter)"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SmtpSink {
    fn start(auth: Option<&str>) -> SmtpSink {
        require_aiosmtpd();
        static N: AtomicUsize = AtomicUsize::new(0);
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        for _attempt in 0..3 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "switchboard-smtp-sink-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            let mut cmd = Command::new(python());
            cmd.arg(&script)
                .arg("--port")
                .arg(port.to_string())
                .arg("--dir")
                .arg(&dir);
            if let Some(a) = auth {
                cmd.arg("--auth").arg(a);
            }
            let mut child = cmd
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("python3 starts");
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                let _ = tx.send(line);
            });
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(line) if line.trim() == "READY" => return SmtpSink { child, port, dir },
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("the aiosmtpd sink did not start (see its stderr above)");
    }

    fn dsn(&self, extra: &str) -> String {
        format!(
            "smtp://127.0.0.1:{}?tls=none&from=Shop%20<noreply@shop.example>{extra}",
            self.port
        )
    }

    fn dsn_with_auth(&self, user: &str, pass: &str) -> String {
        format!(
            "smtp://{user}:{pass}@127.0.0.1:{}?tls=none&from=noreply@shop.example",
            self.port
        )
    }

    /// What the server accepted, in order.
    fn received(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for n in 1.. {
            let p = self.dir.join(format!("{n}.json"));
            let Ok(text) = std::fs::read_to_string(&p) else { break };
            out.push(serde_json::from_str(&text).unwrap());
        }
        out
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn part<'a>(record: &'a Value, content_type: &str) -> &'a Value {
    record["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["content_type"] == content_type)
        .unwrap_or_else(|| panic!("no {content_type} part in {record}"))
}

fn decoded(p: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(p["base64"].as_str().unwrap())
        .unwrap()
}

fn to(addr: &str) -> Recipient {
    Recipient::email(addr).unwrap()
}

#[tokio::test]
async fn plain_html_attachment_and_utf8_subject_reach_a_real_server() {
    let sink = SmtpSink::start(None);
    let mail = EmailTransport::from_dsn_str(&sink.dsn("")).unwrap();
    let pdf: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let msg = Message::email(
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
    assert_eq!(m["subject"], "Счёт №72 — заказ 📦");
    assert_eq!(m["from"], FROM);
    assert_eq!(m["to"], "ana@example.al");
    assert_eq!(m["mail_from"], "noreply@shop.example");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["ana@example.al"]));
    assert_eq!(m["message_id"], format!("<{}>", r.provider_id()));
    assert!(r.provider_id().ends_with("@shop.example"));
    assert_eq!(m["mime_version"], "1.0");
    assert!(m["date"].as_str().is_some());
    assert_eq!(m["content_type"], "multipart/mixed");
    assert_eq!(m["is_7bit"], true);
    let text = part(m, "text/plain");
    assert_eq!(
        String::from_utf8(decoded(text)).unwrap(),
        "Здравствуйте, Ана! Счёт во вложении."
    );
    assert_eq!(text["charset"], "utf-8");
    let html = part(m, "text/html");
    assert_eq!(
        String::from_utf8(decoded(html)).unwrap(),
        "<p>Здравствуйте, <b>Ана</b>!</p>"
    );
    let att = part(m, "application/pdf");
    assert_eq!(att["filename"], "счёт-72.pdf");
    assert_eq!(att["disposition"], "attachment");
    assert_eq!(decoded(att), pdf, "attachment bytes survive");
}

#[tokio::test]
async fn cc_bcc_reply_to_and_connection_reuse() {
    let sink = SmtpSink::start(None);
    let mailer = Mailer::new(Config::from_dsn(&switchboard_core::Dsn::parse(&sink.dsn("")).unwrap()).unwrap()).unwrap();
    for i in 0..3 {
        let e = Email::new("ana@example.al", format!("n{i}"), "t")
            .cc("boss@example.al")
            .bcc("audit@shop.example")
            .reply_to("support@shop.example");
        mailer.send(&e).await.unwrap();
    }
    let got = sink.received();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0]["cc"], "boss@example.al");
    assert_eq!(got[0]["reply_to"], "support@shop.example");
    assert!(got[0]["bcc"].is_null(), "Bcc is never a header");
    assert_eq!(got[0]["rcpt_tos"].as_array().unwrap().len(), 3, "but it is a recipient");
    assert_eq!(got[0]["peer"], got[2]["peer"], "one pooled connection for all three");
}

#[tokio::test]
async fn auth_plain_login_and_refusals() {
    let sink = SmtpSink::start(Some("shop:s3cret-pass"));
    let mail = EmailTransport::from_dsn_str(&sink.dsn_with_auth("shop", "s3cret-pass")).unwrap();
    mail.send(&Message::email(to("a@example.al"), "hi", "t")).await.unwrap();
    assert_eq!(sink.received()[0]["auth_login"], "shop");

    let wrong = EmailTransport::from_dsn_str(&sink.dsn_with_auth("shop", "wrong-pass")).unwrap();
    let e = wrong
        .send(&Message::email(to("a@example.al"), "hi", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Auth, Dispatch::NotSent, Some("535"))
    );
    assert!(!format!("{e} {e:?} {wrong:?}").contains("wrong-pass"));

    let anonymous = EmailTransport::from_dsn_str(&sink.dsn("")).unwrap();
    let e = anonymous
        .send(&Message::email(to("a@example.al"), "hi", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Auth, Dispatch::NotSent, Some("530"))
    );
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn refusals_at_rcpt_and_after_the_final_dot_prove_nothing_was_accepted() {
    let sink = SmtpSink::start(None);
    let config = Config::builder("127.0.0.1")
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
        let e = mail.send(&Message::email(to(addr), "s", "t")).await.unwrap_err();
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
    mail.send(&Message::email(to("ok@example.al"), "s", "t")).await.unwrap();
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
        .send(&Message::email(to("a@example.al"), "s", "t"))
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
        .send(&Message::email(to("a@example.al"), "s", "t"))
        .await
        .unwrap_err();
    assert_eq!(e.dispatch(), Dispatch::NotSent, "{e}");
    assert!(sink.received().is_empty());
}

/// How a hand-written SMTP server misbehaves.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Script {
    /// Accepts the connection and never says a word.
    SilentGreeting,
    /// Greets, takes MAIL and RCPT, and never answers DATA.
    StallAtData,
    /// Takes the whole message and never answers the final dot.
    StallAfterDot,
    /// Takes the whole message and hangs up without answering.
    HangUpAfterDot,
    /// Greets the first connection with 421, then behaves.
    BusyOnce,
    /// Takes one message per connection, then closes it (as servers do to idle connections).
    OneMessagePerConnection,
}

/// Starts a raw SMTP server on loopback; returns its port and a count of messages it received whole.
async fn scripted_server(script: Script) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(AtomicUsize::new(0));
    let got = bodies.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((sock, _)) = listener.accept().await {
            n += 1;
            let got = got.clone();
            tokio::spawn(async move {
                let (rd, mut wr) = sock.into_split();
                let mut lines = TokioBufReader::new(rd).lines();
                if script == Script::SilentGreeting {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
                if script == Script::BusyOnce && n == 1 {
                    let _ = wr.write_all(b"421 4.3.2 Service not available, try later\r\n").await;
                    return;
                }
                let _ = wr.write_all(b"220 fake.example ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-fake.example\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                    } else if cmd.starts_with("DATA") {
                        if script == Script::StallAtData {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                        let _ = wr.write_all(b"354 go ahead\r\n").await;
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                        }
                        got.fetch_add(1, Ordering::SeqCst);
                        match script {
                            Script::StallAfterDot => {
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                                return;
                            }
                            Script::HangUpAfterDot => return,
                            Script::OneMessagePerConnection => {
                                let _ = wr.write_all(b"250 2.0.0 queued as FAKE1\r\n").await;
                                return;
                            }
                            _ => b"250 2.0.0 queued as FAKE1\r\n",
                        }
                    } else if cmd.starts_with("QUIT") {
                        let _ = wr.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    if wr.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, bodies)
}

fn fast_transport(port: u16, retry: RetryPolicy) -> EmailTransport {
    let c = Config::builder("127.0.0.1")
        .port(port)
        .security(Security::None)
        .from(FROM)
        .timeout(Duration::from_millis(400))
        .connect_timeout(Duration::from_millis(400))
        .retry(retry)
        .build()
        .unwrap();
    EmailTransport::new(c).unwrap()
}

#[tokio::test]
async fn a_stalled_server_is_cut_off_by_the_whole_send_timeout() {
    let cases = [
        (Script::SilentGreeting, Dispatch::NotSent, 0),
        (Script::StallAtData, Dispatch::NotSent, 0),
        (Script::StallAfterDot, Dispatch::MaybeSent, 1),
    ];
    for (script, dispatch, bodies) in cases {
        let (port, got) = scripted_server(script).await;
        let mail = fast_transport(port, RetryPolicy::never());
        let start = Instant::now();
        let e = mail
            .send(&Message::email(to("a@example.al"), "s", "t"))
            .await
            .unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{script:?} hung for {:?}",
            start.elapsed()
        );
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::Timeout, dispatch),
            "{script:?}: {e}"
        );
        assert_eq!(got.load(Ordering::SeqCst), bodies, "{script:?}");
    }
}

#[tokio::test]
async fn a_hang_up_after_the_dot_may_have_delivered() {
    let (port, got) = scripted_server(Script::HangUpAfterDot).await;
    let e = fast_transport(port, RetryPolicy::default())
        .send(&Message::email(to("a@example.al"), "s", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch()),
        (ErrorKind::Transport, Dispatch::MaybeSent),
        "{e}"
    );
    assert_eq!(
        got.load(Ordering::SeqCst),
        1,
        "never repeated, even with a retry policy"
    );
}

#[tokio::test]
async fn refused_connections_and_busy_servers_are_not_sent_and_retried() {
    let port = free_port();
    let e = fast_transport(port, RetryPolicy::never())
        .send(&Message::email(to("a@example.al"), "s", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch()),
        (ErrorKind::Transport, Dispatch::NotSent),
        "{e}"
    );

    let (port, got) = scripted_server(Script::BusyOnce).await;
    let e = fast_transport(port, RetryPolicy::never())
        .send(&Message::email(to("a@example.al"), "s", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Unavailable, Dispatch::NotSent, Some("421"))
    );

    let (port, got2) = scripted_server(Script::BusyOnce).await;
    let retry = RetryPolicy::default()
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false);
    fast_transport(port, retry)
        .send(&Message::email(to("a@example.al"), "s", "t"))
        .await
        .unwrap();
    assert_eq!((got.load(Ordering::SeqCst), got2.load(Ordering::SeqCst)), (0, 1));
}

#[tokio::test]
async fn a_pooled_connection_the_server_closed_is_replaced_without_a_retry() {
    let (port, got) = scripted_server(Script::OneMessagePerConnection).await;
    let mail = fast_transport(port, RetryPolicy::never());
    mail.mailer().test_connection().await.unwrap();
    for _ in 0..3 {
        mail.send(&Message::email(to("a@example.al"), "s", "t")).await.unwrap();
    }
    assert_eq!(got.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn memory_and_file_modes_need_no_network() {
    let mail = EmailTransport::from_dsn_str("smtp://localhost?mode=memory&from=Shop%20<noreply@shop.example>").unwrap();
    let msg = Message::email(to("ana@example.al"), "Order #72", "plain").with_html("<b>html</b>");
    let r = mail.send(&msg).await.unwrap();
    assert_eq!(r.status, DeliveryStatus::Accepted);
    let out = mail.outbox().unwrap().messages();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].message_id, r.provider_id());
    assert_eq!(out[0].envelope_to, ["ana@example.al"]);
    assert_eq!(out[0].header("Subject").as_deref(), Some("Order #72"));
    assert_eq!(out[0].header("Message-ID"), Some(format!("<{}>", r.provider_id())));
    // The same switchboard message keeps its Message-ID on a retry.
    let again = mail.send(&msg).await.unwrap();
    assert_eq!(again.provider_id(), r.provider_id());

    let dir = std::env::temp_dir().join(format!("switchboard-eml-{}", std::process::id()));
    let mail = EmailTransport::from_dsn_str(&format!(
        "smtp://localhost?mode=file&dir={}&from=noreply@shop.example",
        dir.display()
    ))
    .unwrap();
    let r = mail.send(&msg).await.unwrap();
    let file = std::fs::read_to_string(dir.join(format!("{}.eml", r.provider_id()))).unwrap();
    assert!(file.contains("multipart/alternative") && file.contains("Subject: Order #72"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(mail.outbox().is_none());
}

#[tokio::test]
async fn templates_render_escaped_html_and_refuse_missing_values() {
    let sink = SmtpSink::start(None);
    let mail = EmailTransport::from_dsn_str(&sink.dsn("")).unwrap();
    let t = Template::new(
        "Заказ {{order}} отправлен",
        "Здравствуйте, {{name}}! Заказ {{order}} в пути.",
    )
    .with_html("<p>Здравствуйте, <b>{{name}}</b>! Заказ {{order}} в пути.</p>");
    let vars = [("name", "Ана <script>"), ("order", "#72")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    mail.send(&t.message(to("ana@example.al"), &vars).unwrap())
        .await
        .unwrap();
    let m = &sink.received()[0];
    assert_eq!(m["subject"], "Заказ #72 отправлен");
    assert_eq!(
        String::from_utf8(decoded(part(m, "text/plain"))).unwrap(),
        "Здравствуйте, Ана <script>! Заказ #72 в пути."
    );
    assert_eq!(
        String::from_utf8(decoded(part(m, "text/html"))).unwrap(),
        "<p>Здравствуйте, <b>Ана &lt;script&gt;</b>! Заказ #72 в пути.</p>"
    );
    let e = t.message(to("ana@example.al"), &Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn wrong_recipients_and_missing_senders_are_input_errors() {
    let mail = EmailTransport::from_dsn_str("smtp://localhost?mode=memory").unwrap();
    let e = mail.send(&Message::chat("42", "hi")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    let e = mail
        .send(&Message::email(to("a@example.al"), "s", "t"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("From"), "{e}");
    let ok = mail
        .send(&Message::email(to("a@example.al"), "s", "t").with_from("me@shop.example"))
        .await;
    assert!(ok.is_ok());
    assert!(mail.supports(&to("x@y.example")) && !mail.supports(&Recipient::Chat("1".into())));
}

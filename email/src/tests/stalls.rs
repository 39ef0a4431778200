//! Against raw TCP servers that misbehave on purpose: silent, stalled, hanging up, busy, closing
//! pooled connections. What a failure may have left at the server decides its dispatch fact.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::{EmailConfig, EmailTransport, Security};
use switchboard_core::{Dispatch, ErrorKind, Message, RetryPolicy, Transport};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::TcpListener;

use crate::tests::{FROM, free_port, to};

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
    let c = EmailConfig::builder("127.0.0.1")
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
            .send(&Message::email_to(to("a@example.al"), "s", "t"))
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
        .send(&Message::email_to(to("a@example.al"), "s", "t"))
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
        .send(&Message::email_to(to("a@example.al"), "s", "t"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch()),
        (ErrorKind::Transport, Dispatch::NotSent),
        "{e}"
    );

    let (port, got) = scripted_server(Script::BusyOnce).await;
    let e = fast_transport(port, RetryPolicy::never())
        .send(&Message::email_to(to("a@example.al"), "s", "t"))
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
        .send(&Message::email_to(to("a@example.al"), "s", "t"))
        .await
        .unwrap();
    assert_eq!((got.load(Ordering::SeqCst), got2.load(Ordering::SeqCst)), (0, 1));
}

#[tokio::test]
async fn a_pooled_connection_the_server_closed_is_replaced_without_a_retry() {
    let (port, got) = scripted_server(Script::OneMessagePerConnection).await;
    let mail = fast_transport(port, RetryPolicy::never());
    mail.client().test_connection().await.unwrap();
    for _ in 0..3 {
        mail.send(&Message::email_to(to("a@example.al"), "s", "t"))
            .await
            .unwrap();
    }
    assert_eq!(got.load(Ordering::SeqCst), 3);
}

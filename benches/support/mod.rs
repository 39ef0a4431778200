//! Shared bench support: a minimal keep-alive HTTP/1.1 server on loopback and a transport that posts
//! one JSON request per message to it through switchboard-core's HTTP helpers, as a provider crate does.

#![allow(dead_code)]

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use switchboard::core::http::{HttpOptions, Reply};
use switchboard::{Capabilities, Message, Receipt, Result, Transport, async_trait};

const BODY: &str = r#"{"id":"m-1","status":"ok"}"#;

fn answer() -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
    .into_bytes()
}

/// Starts a server that answers every request with a small JSON body; returns its base URL.
pub async fn start_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let answer = answer();
                let mut buf = vec![0u8; 16 * 1024];
                let mut pending: Vec<u8> = Vec::new();
                loop {
                    let n = match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    // Answer every complete request in the buffer (headers + content-length body).
                    while let Some(len) = complete_request(&pending) {
                        pending.drain(..len);
                        if sock.write_all(&answer).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn complete_request(buf: &[u8]) -> Option<usize> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    (buf.len() >= end + len).then_some(end + len)
}

/// A transport that posts each message as JSON to `{base}/send`.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    url: Arc<str>,
}

impl HttpTransport {
    pub fn new(base: &str) -> Self {
        HttpTransport {
            client: HttpOptions::default().build_client().expect("client"),
            url: format!("{base}/send").into(),
        }
    }
}

#[async_trait]
impl Transport for HttpTransport {
    fn provider(&self) -> &'static str {
        "bench"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::sms()
    }

    async fn send(&self, message: &Message) -> Result<Receipt> {
        let body = serde_json::json!({
            "to": message.to.phone().map(|p| p.as_e164()),
            "text": message.text,
        });
        let reply = Reply::send(self.client.post(&*self.url).json(&body), 1 << 20)
            .await?
            .error_for_status()?;
        #[derive(serde::Deserialize)]
        struct Answer {
            id: String,
        }
        let a: Answer = reply.json()?;
        Ok(Receipt::new("bench", message, a.id))
    }
}

/// Peak resident memory of this process so far, in KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

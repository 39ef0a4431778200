//! A small HTTP/1.1 proxy in front of a simulator that forwards every request except those whose path
//! contains a marker, which get a connection fault instead. For transports that fetch a token from the
//! same host first (MightyCall), so that a reset or a cut-off answer hits the send itself.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyFault {
    /// Forwards the request to the simulator (which handles it), then closes without answering.
    ForwardThenReset,
    /// Closes without forwarding (the simulator never sees it).
    Reset,
    /// Forwards it, then answers only the first half of the simulator's answer.
    ForwardThenCut,
}

/// Starts the proxy; returns its base URL.
pub async fn start(sim_uri: &str, marker: &'static str, fault: ProxyFault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let addr = listener.local_addr().expect("an address");
    let upstream = sim_uri.trim_start_matches("http://").trim_end_matches('/').to_owned();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let _ = serve(client, &upstream, marker, fault).await;
            });
        }
    });
    format!("http://{addr}")
}

async fn serve(mut client: TcpStream, upstream: &str, marker: &str, fault: ProxyFault) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(request) = read_message(&mut client, &mut buf).await? else {
            return Ok(());
        };
        let head = String::from_utf8_lossy(&request[..request.len().min(2048)]).into_owned();
        let path = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
        let hit = path.contains(marker);
        if hit && fault == ProxyFault::Reset {
            return Ok(());
        }
        let mut up = TcpStream::connect(upstream).await?;
        up.write_all(&request).await?;
        let mut up_buf = Vec::new();
        let Some(answer) = read_message(&mut up, &mut up_buf).await? else {
            return Ok(());
        };
        match (hit, fault) {
            (true, ProxyFault::ForwardThenReset) => return Ok(()),
            (true, ProxyFault::ForwardThenCut) => {
                client.write_all(&answer[..answer.len() / 2]).await?;
                client.flush().await?;
                return Ok(());
            }
            _ => client.write_all(&answer).await?,
        }
    }
}

/// Reads one HTTP/1.1 message (headers and a `Content-Length` body) from `sock`; `None` at EOF.
async fn read_message(sock: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<Vec<u8>>> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            let total = end + 4 + len;
            if buf.len() >= total {
                let rest = buf.split_off(total);
                let message = std::mem::replace(buf, rest);
                return Ok(Some(message));
            }
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

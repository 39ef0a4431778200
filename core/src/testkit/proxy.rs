//! A loopback proxy in front of a simulator that loses requests the way a network does: before the
//! provider got them, or after it acted on them with the answer lost. It is how a test proves that a
//! client never repeats a request that may have landed, and reconciles it instead.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How [`lossy_proxy`] loses a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LossMode {
    /// The request never reaches the provider; the client's connection is closed after it was sent.
    DropBeforeForward,
    /// The provider takes and processes the request; its answer is thrown away and the client's
    /// connection closed.
    DropAfterAccept,
}

/// Starts a loopback proxy to `upstream` (a simulator's address) that loses the first `count`
/// requests to `path` the way `mode` says and passes everything else through (HTTP/1.1 with
/// `content-length` bodies, connections kept alive). Answers the proxy's base URL: point a client's
/// DSN at it.
pub async fn lossy_proxy(upstream: SocketAddr, path: &str, mode: LossMode, count: usize) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let remaining = Arc::new(Mutex::new(count));
    let path = path.to_owned();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let remaining = remaining.clone();
            let path = path.clone();
            tokio::spawn(async move {
                let _ = proxy_connection(client, upstream, &path, mode, remaining).await;
            });
        }
    });
    Ok(format!("http://{addr}"))
}

async fn proxy_connection(
    mut client: TcpStream,
    upstream: std::net::SocketAddr,
    path: &str,
    mode: LossMode,
    remaining: Arc<Mutex<usize>>,
) -> std::io::Result<()> {
    loop {
        let Some(request) = read_http_message(&mut client).await? else {
            return Ok(());
        };
        let target = request_path(&request);
        let lose = target == path && {
            let mut r = remaining.lock().unwrap_or_else(|p| p.into_inner());
            if *r > 0 {
                *r -= 1;
                true
            } else {
                false
            }
        };
        if lose && mode == LossMode::DropBeforeForward {
            return Ok(()); // the connection closes with the request unanswered
        }
        let mut up = TcpStream::connect(upstream).await?;
        up.write_all(&request).await?;
        let Some(response) = read_http_message(&mut up).await? else {
            return Ok(());
        };
        if lose {
            return Ok(()); // the gateway processed it; the answer is lost
        }
        client.write_all(&response).await?;
    }
}

/// Reads one HTTP/1.1 message (headers and a `content-length` body). `None` at end of stream.
async fn read_http_message(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(Some(buf));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn request_path(request: &[u8]) -> String {
    let line = request.split(|b| *b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let target = line.split_whitespace().nth(1).unwrap_or_default();
    target.split('?').next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths() {
        assert_eq!(request_path(b"GET /api/x?y=1 HTTP/1.1\r\nhost: h\r\n\r\n"), "/api/x");
        assert_eq!(request_path(b""), "");
    }
}

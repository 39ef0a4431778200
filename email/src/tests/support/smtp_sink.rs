//! A real SMTP server for switchboard-email's tests, in process on a free loopback port.
//!
//! The SMTP protocol is mailin's (<https://docs.rs/mailin>): its command parser and session state
//! machine decide every reply, and a small tokio loop here feeds it the client's lines. Every message
//! it accepts is read back with an independent MIME parser ([`super::received`]), so the tests check
//! lettre's wire format with code that did not write it.
//!
//! Recipients script the server's answers, so error paths run against a real implementation:
//! * `rcpt-CODE@…`: RCPT TO is answered CODE (`rcpt-550@x.test` gets `550 5.1.1 <…>: scripted refusal`);
//! * `data-CODE@…`: the message is refused with CODE after the final dot.
//!
//! With [`SmtpSink::start`]`(Some("user:password"))` AUTH PLAIN and LOGIN are offered over plain text
//! (it is loopback) and required. No STARTTLS is offered.
//!
//! The loop adds what mailin 0.6 leaves out, each from the RFC that defines it:
//! * RFC 4954 §6: a command other than AUTH, EHLO, HELO, NOOP, RSET or QUIT before a required AUTH is
//!   answered `530 5.7.0` (mailin answers 503, "bad sequence");
//! * RFC 6531: SMTPUTF8 is offered and its MAIL parameter taken (mailin's MAIL parser knows only BODY);
//!   other unknown MAIL parameters get `555 5.5.4` (RFC 5321 §4.1.1.11);
//! * RFC 5321 §4.5.3.1: lines are bounded (1000 octets in DATA, 12288 for commands, the AUTH line limit
//!   of RFC 4954 §4); a longer line gets `500 5.5.2` and the connection ends.
//!
//! After mailin refuses a message at the final dot its session stays in its DATA state, so the loop
//! sends that refusal and then closes the connection. switchboard drops a connection after any
//! refusal, so its tests see exactly what a server that stays open would show them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mailin::{Action, AuthMechanism, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::received::{Envelope, Received};

/// The longest command line taken (RFC 4954 §4 lets an AUTH line reach 12288 octets).
const MAX_COMMAND_LINE: usize = 12_288;
/// The longest line of message text taken, CRLF included (RFC 5321 §4.5.3.1.6).
const MAX_TEXT_LINE: usize = 1000;

/// A running SMTP server on `127.0.0.1`; it stops when dropped (or when the test's runtime ends).
pub struct SmtpSink {
    /// The port it listens on.
    pub port: u16,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

struct Shared {
    /// `user:password` when AUTH is required.
    auth: Option<(String, String)>,
    mechanisms: Vec<AuthMechanism>,
    /// Accepted messages, in order.
    received: Mutex<Vec<Received>>,
    /// Queue ids handed out (`SINK0001`, …).
    queued: AtomicUsize,
}

impl SmtpSink {
    /// Starts a sink; with `auth` (`"user:password"`) AUTH PLAIN and LOGIN are offered and required.
    /// Must be called inside a tokio runtime.
    pub fn start(auth: Option<&str>) -> SmtpSink {
        SmtpSink::start_with(auth, &[AuthMechanism::Plain, AuthMechanism::Login])
    }

    /// Like [`SmtpSink::start`], offering only the given AUTH mechanisms.
    pub fn start_with(auth: Option<&str>, mechanisms: &[AuthMechanism]) -> SmtpSink {
        let auth = auth.map(|a| {
            let (user, password) = a.split_once(':').expect("auth is user:password");
            (user.to_owned(), password.to_owned())
        });
        let shared = Arc::new(Shared {
            auth,
            mechanisms: mechanisms.to_vec(),
            received: Mutex::new(Vec::new()),
            queued: AtomicUsize::new(0),
        });
        // Bound here, synchronously, so the port is listening before `start` returns.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        std_listener.set_nonblocking(true).expect("non-blocking listener");
        let port = std_listener.local_addr().expect("a bound address").port();
        let listener = TcpListener::from_std(std_listener).expect("inside a tokio runtime");
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        SmtpSink { port, shared, accept }
    }

    /// A DSN for this sink without TLS, From `Shop <noreply@shop.example>`, plus `extra` query text.
    pub fn dsn(&self, extra: &str) -> String {
        format!(
            "smtp://127.0.0.1:{}?tls=none&from=Shop%20<noreply@shop.example>{extra}",
            self.port
        )
    }

    /// A DSN for this sink without TLS, with credentials.
    pub fn dsn_with_auth(&self, user: &str, pass: &str) -> String {
        format!(
            "smtp://{user}:{pass}@127.0.0.1:{}?tls=none&from=noreply@shop.example",
            self.port
        )
    }

    /// What the server accepted, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // The accept task owns the connections' JoinSet: aborting it ends them too.
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((sock, peer)) => {
                    connections.spawn(serve(sock, peer, shared.clone()));
                }
                Err(_) => return,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// The recipient's scripted reply code: `rcpt-550@x` with prefix `rcpt-` is `Some(550)`.
fn scripted_code(address: &str, prefix: &str) -> Option<u16> {
    let local = address.split('@').next()?;
    let digits = local.strip_prefix(prefix)?.get(..3)?;
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

/// mailin's callbacks for one connection: the scripted refusals, AUTH, and recording.
struct Sink {
    shared: Arc<Shared>,
    peer: SocketAddr,
    /// The current transaction's MAIL parameters, which the loop parses (mailin does not pass them).
    mail_options: Arc<Mutex<Vec<String>>>,
    login: Option<String>,
    mail_from: String,
    rcpt_tos: Vec<String>,
    data: Vec<u8>,
}

impl Sink {
    fn authenticate(&mut self, authz: &str, user: &str, password: &str) -> Response {
        let ok = self
            .shared
            .auth
            .as_ref()
            .is_some_and(|(u, p)| u == user && p == password)
            // RFC 4616 §2: an authorization identity other than the user's own is not granted here.
            && (authz.is_empty() || authz == user);
        if ok {
            self.login = Some(user.to_owned());
            Response::custom(235, "2.7.0 Authentication successful".into())
        } else {
            Response::custom(535, "5.7.8 Authentication credentials invalid".into())
        }
    }
}

impl Handler for Sink {
    fn rcpt(&mut self, to: &str) -> Response {
        match scripted_code(to, "rcpt-") {
            Some(code) => Response::custom(code, format!("{}.1.1 <{to}>: scripted refusal", code / 100)),
            None => Response::custom(250, "2.1.5 OK".into()),
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.mail_from = from.to_owned();
        self.rcpt_tos = to.to_vec();
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let raw = std::mem::take(&mut self.data);
        if let Some(code) = self.rcpt_tos.iter().find_map(|r| scripted_code(r, "data-")) {
            return Response::custom(code, format!("{}.6.0 scripted refusal after DATA", code / 100));
        }
        let envelope = Envelope {
            mail_from: self.mail_from.clone(),
            rcpt_tos: self.rcpt_tos.clone(),
            mail_options: self.mail_options.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            auth_login: self.login.clone(),
            peer: self.peer,
        };
        let Some(received) = Received::parse(envelope, raw) else {
            return Response::custom(554, "5.6.0 not a message".into());
        };
        // Numbered and stored under one lock, so SINK000n is the n-th entry of `received()`.
        let mut all = self.shared.received.lock().unwrap_or_else(PoisonError::into_inner);
        let n = self.shared.queued.fetch_add(1, Ordering::SeqCst) + 1;
        all.push(received);
        Response::custom(250, format!("2.0.0 Ok: queued as SINK{n:04}"))
    }

    fn auth_plain(&mut self, authorization_id: &str, authentication_id: &str, password: &str) -> Response {
        self.authenticate(authorization_id, authentication_id, password)
    }

    fn auth_login(&mut self, username: &str, password: &str) -> Response {
        self.authenticate("", username, password)
    }
}

enum Read {
    Line(Vec<u8>),
    TooLong,
    Closed,
}

/// One CRLF-terminated line of at most `limit` octets.
async fn read_line(rd: &mut BufReader<OwnedReadHalf>, limit: usize) -> Read {
    let mut buf = Vec::new();
    match (&mut *rd).take(limit as u64).read_until(b'\n', &mut buf).await {
        Ok(0) | Err(_) => Read::Closed,
        Ok(_) if buf.ends_with(b"\n") => Read::Line(buf),
        Ok(n) if n == limit => Read::TooLong,
        // The client closed in the middle of a line.
        Ok(_) => Read::Closed,
    }
}

/// The command verb of a line, upper case.
fn verb(line: &[u8]) -> String {
    let end = line.iter().position(|b| b.is_ascii_whitespace()).unwrap_or(line.len());
    String::from_utf8_lossy(&line[..end]).to_ascii_uppercase()
}

/// Splits `MAIL FROM:<path> PARAM…` into the line mailin parses (the path and a BODY parameter)
/// and the parameters as sent; or the reply refusing a parameter this server does not take.
fn mail_parameters(line: &[u8]) -> Result<(Vec<u8>, Vec<String>), &'static [u8]> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    let Some(close) = text.find('>') else {
        return Ok((line.to_vec(), Vec::new()));
    };
    let (head, rest) = text.split_at(close + 1);
    let params: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
    let mut for_mailin = head.to_owned();
    for p in &params {
        let upper = p.to_ascii_uppercase();
        match upper.as_str() {
            "SMTPUTF8" => {}
            "BODY=7BIT" | "BODY=8BITMIME" => {
                for_mailin.push(' ');
                for_mailin.push_str(p);
            }
            _ => return Err(b"555 5.5.4 MAIL FROM parameter not recognized\r\n"),
        }
    }
    for_mailin.push_str("\r\n");
    Ok((for_mailin.into_bytes(), params))
}

/// mailin's EHLO reply with SMTPUTF8 added after its first line.
fn with_smtputf8(reply: Vec<u8>) -> Vec<u8> {
    let Some(first_end) = reply.windows(2).position(|w| w == b"\r\n") else {
        return reply;
    };
    let (first, rest) = reply.split_at(first_end + 2);
    let mut out = first.to_vec();
    if rest.is_empty() {
        // A one-line reply: it now continues.
        out[3] = b'-';
        out.extend_from_slice(b"250 SMTPUTF8\r\n");
    } else {
        out.extend_from_slice(b"250-SMTPUTF8\r\n");
        out.extend_from_slice(rest);
    }
    out
}

async fn serve(sock: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let auth_required = shared.auth.is_some();
    let mut builder = SessionBuilder::new("sink.switchboard.test");
    if auth_required {
        builder.insecure_enable_plaintext_auth();
        for m in &shared.mechanisms {
            builder.enable_auth(m.clone());
        }
    }
    let mail_options = Arc::new(Mutex::new(Vec::new()));
    let handler = Sink {
        shared: shared.clone(),
        peer,
        mail_options: mail_options.clone(),
        login: None,
        mail_from: String::new(),
        rcpt_tos: Vec::new(),
        data: Vec::new(),
    };
    let mut session = builder.build(peer.ip(), handler);
    let (rd, mut wr) = sock.into_split();
    let mut rd = BufReader::new(rd);

    let Ok(greeting) = session.greeting().buffer() else {
        return;
    };
    if wr.write_all(&greeting).await.is_err() {
        return;
    }
    let mut authenticated = false;
    // Between 354 and the reply to the final dot every line is message text.
    let mut in_data = false;
    // After a 334 challenge the next line is the client's AUTH response, not a command.
    let mut in_auth = false;
    loop {
        let limit = if in_data { MAX_TEXT_LINE } else { MAX_COMMAND_LINE };
        let line = match read_line(&mut rd, limit).await {
            Read::Line(line) => line,
            Read::TooLong => {
                let _ = wr.write_all(b"500 5.5.2 Line too long\r\n").await;
                return;
            }
            Read::Closed => return,
        };
        let mut for_mailin = line;
        let mut verb_sent = String::new();
        if !in_data && !in_auth {
            verb_sent = verb(&for_mailin);
            let refusal: Option<&[u8]> = if verb_sent == "STARTTLS" {
                // Not offered; mailin would start a TLS upgrade this loop cannot do.
                Some(b"502 5.5.1 STARTTLS not offered\r\n")
            } else if auth_required
                && !authenticated
                && !["AUTH", "EHLO", "HELO", "NOOP", "RSET", "QUIT"].contains(&verb_sent.as_str())
            {
                Some(b"530 5.7.0 Authentication required\r\n")
            } else if verb_sent == "MAIL" {
                match mail_parameters(&for_mailin) {
                    Ok((line, params)) => {
                        for_mailin = line;
                        *mail_options.lock().unwrap_or_else(PoisonError::into_inner) = params;
                        None
                    }
                    Err(reply) => Some(reply),
                }
            } else {
                None
            };
            if let Some(reply) = refusal {
                if wr.write_all(reply).await.is_err() {
                    return;
                }
                continue;
            }
        }

        let res = session.process(&for_mailin);
        if res.action == Action::NoReply {
            continue;
        }
        let Ok(mut reply) = res.buffer() else { return };
        if verb_sent == "EHLO" && res.code == 250 {
            reply = with_smtputf8(reply);
        }
        if res.code == 235 {
            authenticated = true;
        }
        in_auth = res.code == 334;
        let refused_at_dot = in_data && res.is_error;
        in_data = res.code == 354;
        if wr.write_all(&reply).await.is_err() || res.action == Action::Close || refused_at_dot {
            return;
        }
    }
}

//! `trigger NAME EVENT --to URL`: starts NAME's simulator (from the registry) and makes it push one
//! event of kind EVENT to URL, signed or tokened as the provider does it with the simulator's secret —
//! the DSN `switchboard sim NAME` prints verifies it. Prints what was pushed and the endpoint's answer;
//! exit status 1 when the endpoint refused it (not a 2xx) or could not be reached.
//!
//! The simulators report the request they made, not the answer. To see the answer, the simulator's
//! HTTP client is pointed at a relay in this process through the standard `HTTP_PROXY` variable: the
//! relay passes the request on unchanged (same URL, so URL signatures such as Twilio's still hold) and
//! keeps the answer. An `https://` URL is pushed directly and its answer is not seen.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use switchboard::core::secret::redact_url;
use switchboard::core::simulated::SimOptions;

use crate::Fail;
use crate::output::{Format, error_fields};

/// `trigger` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider (`switchboard providers` lists them with their events).
    name: String,
    /// The kind of event (`delivered`, `failed`, `inbound`…, as the provider's simulator knows them).
    event: String,
    /// Where to push it.
    #[arg(long, value_name = "URL")]
    to: String,
}

/// The relay's socket, bound before the runtime starts.
#[derive(Debug)]
pub struct Relay {
    listener: std::net::TcpListener,
}

/// The endpoint's answer, as the relay saw it.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    body: String,
}

/// Binds the relay and points every HTTP client this process builds from now on at it. Must run before
/// any other thread exists.
pub fn prepare_relay(args: &Args) -> Result<Option<Relay>, Fail> {
    let url = url::Url::parse(&args.to).map_err(|e| Fail(format!("--to {}: {e}", redact_url(&args.to))))?;
    if url.scheme() != "http" {
        return Ok(None);
    }
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Fail(format!("cannot open the relay on 127.0.0.1: {e}")))?;
    listener.set_nonblocking(true)?;
    let proxy = format!("http://{}", listener.local_addr()?);
    // SAFETY: `main` calls this before the async runtime, or any other thread, exists, so nothing
    // reads or writes the environment at the same time. reqwest reads these variables when a client is
    // built (the simulator's, later); NO_PROXY could exempt 127.0.0.1, and REQUEST_METHOD makes it
    // ignore HTTP_PROXY (the CGI rule).
    unsafe {
        std::env::set_var("HTTP_PROXY", &proxy);
        std::env::set_var("http_proxy", &proxy);
        for k in ["NO_PROXY", "no_proxy", "REQUEST_METHOD"] {
            std::env::remove_var(k);
        }
    }
    Ok(Some(Relay { listener }))
}

struct Relayed {
    http: reqwest::Client,
    answers: Mutex<Vec<Answer>>,
}

/// Passes one proxied request on unchanged and keeps the answer.
async fn relay(State(state): State<Arc<Relayed>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, switchboard::core::webhook::MAX_WEBHOOK_BODY).await else {
        return Response::builder().status(413).body(Body::empty()).unwrap_or_default();
    };
    let mut headers = parts.headers.clone();
    for h in [
        "host",
        "content-length",
        "connection",
        "proxy-connection",
        "proxy-authorization",
    ] {
        headers.remove(h);
    }
    let sent = state
        .http
        .request(parts.method.clone(), parts.uri.to_string())
        .headers(headers)
        .body(body)
        .send()
        .await;
    let (status, body) = match sent {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.bytes().await.unwrap_or_default())
        }
        Err(e) => {
            eprintln!("switchboard: the endpoint could not be reached: {}", e.without_url());
            (502, bytes::Bytes::new())
        }
    };
    if let Ok(mut a) = state.answers.lock() {
        a.push(Answer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    Response::builder()
        .status(status)
        .body(Body::from(body))
        .unwrap_or_default()
}

/// Runs `trigger`.
pub async fn run(args: Args, relay_socket: Option<Relay>, format: Format) -> Result<ExitCode, Fail> {
    let registry = switchboard::registry();
    let provider = registry
        .find(&args.name)
        .ok_or_else(|| Fail(format!("unknown provider '{}'", args.name.escape_debug())))?;
    let factory = provider
        .simulator()
        .ok_or_else(|| Fail(format!("the {} provider has no simulator", provider.name())))?;
    let state = Arc::new(Relayed {
        http: reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| Fail(format!("cannot build the HTTP client: {e}")))?,
        answers: Mutex::new(Vec::new()),
    });
    let server = match relay_socket {
        Some(r) => {
            let listener = tokio::net::TcpListener::from_std(r.listener)?;
            let app = axum::Router::new().fallback(relay).with_state(state.clone());
            Some(tokio::spawn(async move { axum::serve(listener, app).await }))
        }
        None => None,
    };
    let sim = factory.start(SimOptions::default()).await?;
    let pushed = sim.trigger(&args.event, &args.to).await;
    if let Some(s) = server {
        s.abort();
    }
    let pushed = match pushed {
        Ok(p) => p,
        Err(e) if e.kind() == switchboard::ErrorKind::Unsupported => return Err(Fail(e.to_string())),
        Err(e) => {
            match format {
                Format::Text => println!("{}\t{}\tfailed\t{e}", provider.name(), args.event),
                Format::Json => {
                    let mut m = error_fields(&e);
                    m.insert("provider".into(), provider.name().into());
                    m.insert("event".into(), args.event.clone().into());
                    println!("{}", serde_json::Value::from(m));
                }
            }
            return Ok(ExitCode::from(1));
        }
    };
    let answer = state.answers.lock().ok().and_then(|a| a.last().cloned());
    let body = String::from_utf8_lossy(&pushed.body).into_owned();
    let refused = answer.as_ref().is_some_and(|a| !(200..300).contains(&a.status));
    match format {
        Format::Text => {
            println!(
                "pushed\t{}\t{}\t{} {}\t{} bytes",
                provider.name(),
                args.event,
                pushed.method,
                redact_url(&pushed.url),
                pushed.body.len()
            );
            match &answer {
                Some(a) => println!("answer\t{}\t{}", a.status, a.body.trim()),
                None => println!("answer\tunknown\t(an https endpoint's answer is not seen)"),
            }
        }
        Format::Json => {
            let headers: Vec<&str> = pushed.headers.keys().map(|k| k.as_str()).collect();
            println!(
                "{}",
                serde_json::json!({
                    "provider": provider.name(),
                    "event": args.event,
                    "method": pushed.method.as_str(),
                    "url": redact_url(&pushed.url),
                    "headers": headers,
                    "body": body,
                    "status": answer.as_ref().map(|a| a.status),
                    "answer": answer.as_ref().map(|a| a.body.as_str()),
                })
            );
        }
    }
    Ok(if refused { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

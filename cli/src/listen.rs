//! `listen`: an HTTP server on 127.0.0.1 that receives a provider's webhooks, verifies each with the
//! DSN's secret through the facade ([`Messenger::handle_webhook`]), prints the events it carried and
//! answers what the provider expects (SMS.ru `100`, Twilio empty TwiML, most an empty `200`). A request
//! that fails verification is refused with the status the library gives (`401`), and a line on stderr.
//! With `--forward-to`, every verified request is posted again, as it came (body, query and signature
//! headers), to a URL — the host's own endpoint under development.
//!
//! The first line printed is `listening: http://127.0.0.1:PORT` (`{"listening": …}` with `-o json`);
//! then one line per event: `source\tkind\tsummary`, or `{"source","event"}`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use switchboard::core::webhook::MAX_WEBHOOK_BODY;
use switchboard::{Dsn, Event, Messenger, WebhookAnswer, WebhookRequest};

use crate::Fail;
use crate::config::{Profile, redact};
use crate::output::Format;

/// `listen` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The DSN whose webhook secret verifies the requests (else `SWITCHBOARD_DSN`, else the profile's).
    #[arg(long)]
    dsn: Option<String>,
    /// The loopback port to listen on (a free one by default).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Posts every verified request again, as it came, to this URL.
    #[arg(long, value_name = "URL")]
    forward_to: Option<String>,
    /// The base URL the provider calls (`https://abc.tunnel.example`), when a tunnel or proxy stands in
    /// front: signatures over the URL (Twilio's) are checked against it. By default the request's Host.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

struct Listener {
    messenger: Messenger,
    sources: Vec<String>,
    forward_to: Option<String>,
    public_url: Option<String>,
    format: Format,
    http: reqwest::Client,
}

/// Runs `listen`.
pub async fn run(args: Args, profile: Option<&str>, format: Format) -> Result<ExitCode, Fail> {
    let (dsn, _) = Profile::load(profile)?.dsn(args.dsn)?;
    let messenger = Messenger::from_dsns([dsn.as_str()])?;
    // A DSN that carries messages is a transport; one that only pushes events (a payment gateway, a
    // click-to-call account) is a webhook source named after its scheme.
    let mut sources = messenger.transport_names().to_vec();
    if sources.is_empty() {
        sources.push(Dsn::parse(dsn.trim())?.scheme().to_owned());
    }
    if let Some(url) = &args.forward_to {
        url::Url::parse(url).map_err(|e| {
            Fail(format!(
                "--forward-to {}: {e}",
                switchboard::core::secret::redact_url(url)
            ))
        })?;
    }
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| Fail(format!("cannot build the HTTP client: {e}")))?;
    let state = Arc::new(Listener {
        messenger,
        sources,
        forward_to: args.forward_to,
        public_url: args.public_url.map(|u| u.trim_end_matches('/').to_owned()),
        format,
        http,
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| Fail(format!("cannot listen on 127.0.0.1:{}: {e}", args.port)))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    match format {
        Format::Text => println!("listening: {url}"),
        Format::Json => println!("{}", serde_json::json!({ "listening": url, "sources": state.sources })),
    }
    eprintln!(
        "switchboard: verifying {} webhooks with the secret of {}; stop with Ctrl-C",
        state.sources.join(", "),
        redact(&dsn)
    );
    let app = axum::Router::new().fallback(handle).with_state(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Fail(format!("the listener failed: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

fn respond(answer: &WebhookAnswer) -> Response {
    let mut r = Response::builder().status(answer.status);
    if let Some(ct) = answer.content_type {
        r = r.header(http::header::CONTENT_TYPE, ct);
    }
    r.body(Body::from(answer.body.clone()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

async fn handle(
    State(state): State<Arc<Listener>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let source = {
        let first = parts.uri.path().trim_start_matches('/').split('/').next().unwrap_or("");
        match state.sources.iter().find(|s| *s == first) {
            Some(s) => s.clone(),
            None if state.sources.len() == 1 => state.sources[0].clone(),
            None => {
                eprintln!(
                    "switchboard: refused a request to {}: name the source in the path (/{})",
                    parts.uri.path(),
                    state.sources.join(", /")
                );
                return respond(&WebhookAnswer::text(404, "unknown webhook source"));
            }
        }
    };
    let body = match axum::body::to_bytes(body, MAX_WEBHOOK_BODY).await {
        Ok(b) => b,
        Err(_) => {
            eprintln!("switchboard: refused a {source} webhook: the body is over {MAX_WEBHOOK_BODY} bytes");
            return respond(&WebhookAnswer::text(413, "payload too large"));
        }
    };
    let base = match &state.public_url {
        Some(u) => u.clone(),
        None => {
            let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok());
            format!("http://{}", host.unwrap_or("127.0.0.1"))
        }
    };
    let hook = WebhookRequest {
        method: parts.method.clone(),
        url: format!("{base}{path_and_query}"),
        headers: parts.headers.clone(),
        body,
        remote_addr: Some(peer.ip()),
    };
    match state.messenger.handle_webhook(&source, &hook).await {
        Ok(handled) => {
            for ev in &handled.events {
                print_event(state.format, &ev.transport, &ev.event);
            }
            if let Some(to) = &state.forward_to {
                forward(&state.http, to, &hook).await;
            }
            respond(&handled.answer)
        }
        Err(e) => {
            let answer = WebhookAnswer::for_error(&e);
            eprintln!(
                "switchboard: refused a {source} webhook: {e} (answered {})",
                answer.status
            );
            respond(&answer)
        }
    }
}

/// One event as a line. In text, a delivery report is `id status raw`, an inbound message `from: text`
/// (the sender masked), anything else its JSON.
fn print_event(format: Format, source: &str, event: &Event) {
    let value = serde_json::to_value(event).unwrap_or(serde_json::Value::Null);
    let kind = value
        .get("event")
        .and_then(|k| k.as_str())
        .unwrap_or("event")
        .to_owned();
    match format {
        Format::Json => println!("{}", serde_json::json!({ "source": source, "event": value })),
        Format::Text => {
            let summary = match event {
                Event::Delivery(r) => {
                    let code = r.error_code.as_ref().map(|c| format!(" {c}")).unwrap_or_default();
                    format!("{} {} {}{code}", r.provider_id, r.status, r.raw_status)
                }
                Event::Inbound(m) => format!("{}: {}", switchboard::core::secret::mask_middle(&m.from), m.text),
                _ => {
                    let mut v = value;
                    if let Some(o) = v.as_object_mut() {
                        o.remove("event");
                    }
                    v.to_string()
                }
            };
            println!("{source}\t{kind}\t{summary}");
        }
    }
}

/// Posts a verified request again to `to`, with its query string, body and headers (signatures
/// included; hop-by-hop headers and Host are the new connection's own). Its fate is reported on stderr
/// and does not change what the provider is answered.
async fn forward(http: &reqwest::Client, to: &str, hook: &WebhookRequest) {
    let mut url = to.to_owned();
    if let Some(q) = hook.raw_query() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(q);
    }
    let mut headers = hook.headers.clone();
    for h in [
        http::header::HOST,
        http::header::CONTENT_LENGTH,
        http::header::CONNECTION,
        http::header::TRANSFER_ENCODING,
    ] {
        headers.remove(h);
    }
    let shown = switchboard::core::secret::redact_url(&url);
    match http
        .request(hook.method.clone(), &url)
        .headers(headers)
        .body(hook.body.clone())
        .send()
        .await
    {
        Ok(r) => eprintln!("switchboard: forwarded to {shown}: {}", r.status().as_u16()),
        Err(e) => eprintln!("switchboard: forwarding to {shown} failed: {}", e.without_url()),
    }
}

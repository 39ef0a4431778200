//! Mounting switchboard's webhook handling in an axum service. The web framework stays the host's:
//! switchboard only needs a [`WebhookRequest`] (method, the full URL as the provider called it, headers,
//! raw body, peer address) and answers typed events with what to reply to the provider, or an error
//! whose kind says which status to send.
//!
//! ```text
//! cargo run --example axum_webhooks            # pushes one inbound SMS from the Dinstar simulator, then exits
//! cargo run --example axum_webhooks -- --serve # keeps serving on the printed address
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::any;
use switchboard::{Event, Messenger, WebhookAnswer, WebhookRequest};

/// `POST /hooks/{source}`: hands the request to the Messenger under the transport or webhook-source name.
async fn hook(
    State(messenger): State<Arc<Messenger>>,
    Path(source): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Signature schemes (Twilio) sign the URL the provider called. Behind a TLS-terminating proxy, build
    // it from the public scheme and host you registered with the provider, not from what the proxy sends;
    // and put the real client address (from your proxy's header) in `remote_addr` for IP allow-lists.
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let request = WebhookRequest {
        method,
        url: format!("http://{host}{uri}"),
        headers,
        body,
        remote_addr: Some(peer.ip()),
    };
    let answer = match messenger.handle_webhook(&source, &request).await {
        Ok(handled) => {
            for e in &handled.events {
                match &e.event {
                    Event::Inbound(m) => println!("[{}] inbound message {}: {:?}", e.transport, m.provider_id, m.text),
                    Event::Delivery(d) => println!("[{}] {} is {}", e.transport, d.provider_id, d.status),
                    other => println!("[{}] {other:?}", e.transport),
                }
            }
            // What this provider expects back: SMS.ru `100`, Twilio empty TwiML, most an empty 200.
            handled.answer
        }
        // 401 for a forged request (never reaches storage), 400 for a malformed body, 503 when the host
        // could not keep the event — so the provider delivers it again later.
        Err(e) => {
            eprintln!("webhook refused: {e}");
            WebhookAnswer::for_error(&e)
        }
    };
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    if let Some(ct) = answer.content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    response
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let serve = std::env::args().any(|a| a == "--serve");
    let gateway = switchboard::dinstar::sim::Simulator::start().await;
    let messenger = Arc::new(
        Messenger::builder()
            .transport("gsm", switchboard::transport_from_dsn(&gateway.dsn())?)
            .build()?,
    );

    let app = Router::new().route("/hooks/{source}", any(hook)).with_state(messenger);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("webhooks served at http://{addr}/hooks/{{source}}");
    let server =
        tokio::spawn(
            async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await },
        );

    // The gateway pushes to the URL registered in its web UI; the secret token in it is the check.
    gateway.set_push_url(format!(
        "http://{addr}/hooks/gsm?token={}",
        switchboard::dinstar::sim::SIM_WEBHOOK_SECRET
    ));
    gateway.receive_inbound(2, "+355691112223", "Po, faleminderit!").await;
    // A forged push without the token is refused with 401.
    let forged = reqwest::Client::new()
        .post(format!("http://{addr}/hooks/gsm"))
        .body(r#"{"sn":"x","sms":[{"incoming_sms_id":9,"port":1,"number":"1","text":"forged"}]}"#)
        .send()
        .await?;
    println!("a push without the secret was answered {}", forged.status());

    if serve {
        println!("serving until Ctrl-C");
        tokio::signal::ctrl_c().await?;
    }
    server.abort();
    Ok(())
}

//! Webhooks as Twilio sends them: a form `POST` signed with `X-Twilio-Signature` (the auth token over
//! the URL and the sorted parameters), for status callbacks and incoming messages.

use switchboard_core::{MessageId, SecretString, WebhookRequest};

use super::state::{Push, Pushed, Shared};
use crate::webhook::{SIGNATURE_HEADER, signature};

/// Signs and posts a webhook, and records it with whether the host answered 2xx. Answers the request
/// and the host's HTTP status (`None` when the connection failed).
pub(super) async fn push(shared: &Shared, (url, params): Push) -> (WebhookRequest, Option<u16>) {
    let token = SecretString::from(shared.lock().auth_token.clone());
    let sig = signature(&token, &url, &params);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let content_type = "application/x-www-form-urlencoded; charset=utf-8";
    let idempotency = MessageId::random();
    let request = WebhookRequest::post(url.clone(), body.clone())
        .with_header("content-type", content_type)
        .with_header(SIGNATURE_HEADER, &sig)
        .with_header("i-twilio-idempotency-token", idempotency.as_str())
        .with_header("user-agent", "TwilioProxy/1.1");
    let sent = shared
        .http
        .post(&url)
        .headers(request.headers.clone())
        .body(body)
        .send()
        .await;
    let status = sent.ok().map(|r| r.status().as_u16());
    shared.lock().pushed.push(Pushed {
        request: request.clone(),
        acknowledged: status.is_some_and(|s| (200..300).contains(&s)),
    });
    (request, status)
}

/// Pushes every callback, in order.
pub(super) async fn push_all(shared: &Shared, pushes: Vec<Push>) {
    for p in pushes {
        push(shared, p).await;
    }
}

//! Pushing delivery reports to the host, as Mitto does: a JSON `POST`, or a `GET` with the report's
//! fields in the query, to the URL the account or the message registered (which carries the secret).

use std::sync::Mutex;

use serde_json::Value;
use switchboard_core::WebhookRequest;

use super::state::{DlrMethod, PendingPush, State, lock};

/// Pushes each report in order and records each request made (whatever the receiver answered).
pub(super) async fn deliver(http: &reqwest::Client, state: &Mutex<State>, pushes: Vec<PendingPush>) {
    for p in pushes {
        let made = request_of(&p);
        let send = match p.method {
            DlrMethod::PostJson => http
                .post(&made.url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(made.body.clone()),
            DlrMethod::Get => http.get(&made.url),
        };
        if let Err(e) = send.send().await {
            tracing::debug!(error = %e.without_url(), "the simulated Mitto delivery report did not reach the receiver");
        }
        lock(state).pushed.push(made);
    }
}

/// The request a push makes, as the receiver gets it.
pub(super) fn request_of(p: &PendingPush) -> WebhookRequest {
    match p.method {
        DlrMethod::PostJson => WebhookRequest::post(p.url.clone(), Value::Object(p.payload.clone()).to_string())
            .with_header("content-type", "application/json"),
        DlrMethod::Get => {
            let url = match url::Url::parse(&p.url) {
                Ok(mut u) => {
                    {
                        let mut q = u.query_pairs_mut();
                        for (k, v) in &p.payload {
                            q.append_pair(k, v.as_str().unwrap_or(&v.to_string()));
                        }
                    }
                    u.to_string()
                }
                Err(_) => p.url.clone(),
            };
            WebhookRequest::get(url)
        }
    }
}

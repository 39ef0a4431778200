//! FCM HTTP v1's routes (<https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages>):
//! `POST /token` (Google's token endpoint, the `auth` module), `POST /v1/projects/{id}/messages:send`
//! (here), and the legacy `POST /fcm/send`, shut down in 2024: 404.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::state::{Inner, SimMessage};
use super::{CLOUD_PLATFORM_SCOPE, auth, message};
use crate::config::FCM_SCOPE;

/// The simulator's whole HTTP API: routes → handlers.
pub(super) fn handler(inner: Arc<Inner>) -> switchboard_core::testkit::Handler {
    Arc::new(move |req: &Request| {
        let path = req.url.path();
        let post = req.method == http::Method::POST;
        if post && path == "/token" {
            return auth::token_endpoint(&inner, req);
        }
        if post
            && let Some(project) = path
                .strip_prefix("/v1/projects/")
                .and_then(|r| r.strip_suffix("/messages:send"))
        {
            return send_endpoint(&inner, req, project);
        }
        if path == "/fcm/send" {
            // The legacy API is gone: Firebase shut it down in 2024 (its migration guide,
            // https://firebase.google.com/docs/cloud-messaging/migrate-v1).
            return ResponseTemplate::new(404).set_body_raw(
                "<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>",
                "text/html; charset=UTF-8",
            );
        }
        ResponseTemplate::new(404).set_body_raw("<!DOCTYPE html><title>Error 404 (Not Found)!!1</title>", "text/html")
    })
}

/// Google's error envelope.
pub(super) fn google_error(http: u16, status: &str, message: &str, details: Vec<Value>) -> ResponseTemplate {
    json_status(
        http,
        &json!({"error": {"code": http, "message": message, "status": status, "details": details}}),
    )
}

pub(super) fn fcm_detail(code: &str) -> Value {
    json!({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code})
}

fn bad_request(field: &str, description: &str) -> Value {
    json!({"@type": "type.googleapis.com/google.rpc.BadRequest",
           "fieldViolations": [{"field": field, "description": description}]})
}

pub(super) fn invalid_argument(message: &str, field: Option<&str>) -> ResponseTemplate {
    let mut details = vec![fcm_detail("INVALID_ARGUMENT")];
    if let Some(f) = field {
        details.push(bad_request(f, message));
    }
    google_error(400, "INVALID_ARGUMENT", message, details)
}

fn send_endpoint(inner: &Inner, req: &Request, project: &str) -> ResponseTemplate {
    let mut s = inner.lock();
    s.send_requests += 1;
    let bearer = req
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let now = Instant::now();
    let Some(issued) = bearer.and_then(|t| s.tokens.get(t)).filter(|i| i.expires > now) else {
        return google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other \
             valid authentication credential.",
            vec![],
        )
        .insert_header("www-authenticate", "Bearer realm=\"https://accounts.google.com/\"");
    };
    if !issued
        .scopes
        .iter()
        .any(|sc| sc == FCM_SCOPE || sc == CLOUD_PLATFORM_SCOPE)
    {
        return google_error(
            403,
            "PERMISSION_DENIED",
            "Request had insufficient authentication scopes.",
            vec![],
        );
    }
    if project != s.project_id {
        return google_error(
            403,
            "PERMISSION_DENIED",
            &format!(
                "Permission 'cloudmessaging.messages.create' denied on resource \
                 '//cloudresourcemanager.googleapis.com/projects/{project}' (or it may not exist)."
            ),
            vec![],
        );
    }
    if let Some(e) = s.errors.pop_front() {
        let details = e.fcm_code.as_deref().map(fcm_detail).into_iter().collect();
        let t = google_error(e.http, &e.status, &e.message, details);
        return match e.retry_after {
            Some(r) => t.insert_header("retry-after", r.to_string().as_str()),
            None => t,
        };
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => return invalid_argument("Invalid JSON payload received.", None),
    };
    if let Err(r) = message::check_request(&body) {
        return r;
    }
    let Some(message) = body.get("message").filter(|m| m.is_object()) else {
        return invalid_argument("Request contains an invalid argument.", Some("message"));
    };
    let validate_only = message::field(&body, "validate_only")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Err(r) = message::check_message(&s, message) {
        return r;
    }
    let name = if validate_only {
        format!("projects/{project}/messages/fake_message_id")
    } else if message.get("token").is_some() {
        let n = inner.next();
        format!(
            "projects/{project}/messages/0:{}%{:016x}",
            chrono::Utc::now().timestamp_micros(),
            n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        )
    } else {
        format!(
            "projects/{project}/messages/{}",
            7_000_000_000_000_000_000u64 + inner.next()
        )
    };
    if !validate_only {
        s.sent.push(SimMessage {
            name: name.clone(),
            message: message.clone(),
        });
    }
    json_status(200, &json!({"name": name}))
}

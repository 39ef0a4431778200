//! Delivery callbacks as SMS.ru sends them: a form `POST` of `data[N]` records (one per changed
//! message) to every registered URL, answered `100` by a host that took it.

use switchboard_core::WebhookRequest;

use super::SIM_WEBHOOK_SECRET;
use super::state::{Pushed, Shared};
use crate::config::DEFAULT_WEBHOOK_TOKEN_PARAM;
use crate::webhook::CALLBACK_ANSWER;

/// A callback body for these `(sms_id, status code)` changes, as SMS.ru writes it.
pub fn callback_body(changes: &[(&str, i32)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (i, (id, code)) in changes.iter().enumerate() {
        s.append_pair(&format!("data[{i}]"), &format!("sms_status\n{id}\n{code}"));
    }
    s.finish()
}

/// `url` carrying the simulator's webhook secret in the token parameter (unless it carries one
/// already), as a host registers its callback URL with SMS.ru.
pub(super) fn with_token(url: &str) -> String {
    if WebhookRequest::get(url)
        .query_param(DEFAULT_WEBHOOK_TOKEN_PARAM)
        .is_some()
    {
        return url.to_owned();
    }
    let pair = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(DEFAULT_WEBHOOK_TOKEN_PARAM, SIM_WEBHOOK_SECRET)
        .finish();
    let (base, fragment) = url.split_once('#').map_or((url, None), |(b, f)| (b, Some(f)));
    let sep = if base.contains('?') { '&' } else { '?' };
    match fragment {
        Some(f) => format!("{base}{sep}{pair}#{f}"),
        None => format!("{base}{sep}{pair}"),
    }
}

/// Posts `body` to `url` and records the request and whether the host answered `100`.
pub(super) async fn push(shared: &Shared, url: &str, body: String) -> WebhookRequest {
    let request =
        WebhookRequest::post(url, body.clone()).with_header("content-type", "application/x-www-form-urlencoded");
    let answer = shared
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await;
    let acknowledged = match answer {
        Ok(r) if r.status().is_success() => r.text().await.is_ok_and(|t| t.trim() == CALLBACK_ANSWER),
        _ => false,
    };
    shared.lock().pushed.push(Pushed {
        request: request.clone(),
        acknowledged,
    });
    request
}

/// Pushes the changes to every registered callback URL, one body per URL.
pub(super) async fn push_changes(shared: &Shared, changes: &[(String, i32)]) {
    let urls = shared.lock().callbacks.clone();
    if urls.is_empty() || changes.is_empty() {
        return;
    }
    let refs: Vec<(&str, i32)> = changes.iter().map(|(id, c)| (id.as_str(), *c)).collect();
    let body = callback_body(&refs);
    for url in urls {
        push(shared, &url, body.clone()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::CallbackRecord;

    #[test]
    fn callback_bodies_round_trip() {
        let body = callback_body(&[("000000-1", 103), ("000000-2", 108)]);
        let req = WebhookRequest::post("https://shop.example/hooks/smsru?token=s3cret", body);
        let recs = CallbackRecord::parse(&req).unwrap();
        assert_eq!(recs[1].sms_status(), Some(("000000-2", 108)));
    }

    #[test]
    fn the_token_is_added_once() {
        let t = format!("token={SIM_WEBHOOK_SECRET}");
        assert_eq!(with_token("https://h/x"), format!("https://h/x?{t}"));
        assert_eq!(with_token("https://h/x?a=1#f"), format!("https://h/x?a=1&{t}#f"));
        assert_eq!(with_token("https://h/x?token=mine"), "https://h/x?token=mine");
    }
}

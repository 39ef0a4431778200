//! Updates, and pushing them to the host's webhook the way Telegram does
//! (<https://core.telegram.org/bots/api#setwebhook>): a JSON `POST` with the secret token in
//! `X-Telegram-Bot-Api-Secret-Token`, repeated until the host answers 2xx, in order, one at a time.

use bytes::Bytes;
use serde_json::{Value, json};
use switchboard_core::WebhookRequest;

use super::SIM_GROUP_MEMBER_ID;
use super::state::{Inner, SimChat, State, now};
use crate::text::utf16_len;
use crate::webhook::SECRET_HEADER;

/// The `message` of an update in which the user of `chat_id` (registered first if new, as a private
/// chat) writes `text`; a command gets its `bot_command` entity, as Telegram marks it.
pub(super) fn user_message(s: &mut State, chat_id: i64, text: &str) -> Value {
    s.chats.entry(chat_id).or_insert_with(|| SimChat {
        chat: json!({"id": chat_id, "first_name": "User", "type": "private"}),
        blocked: false,
        migrated_to: None,
    });
    let chat = s.chats.get(&chat_id).map(|c| c.chat.clone()).unwrap_or(Value::Null);
    let private = chat["type"] == "private";
    let from_id = if private { chat_id } else { SIM_GROUP_MEMBER_ID };
    let first_name = if private {
        chat["first_name"].clone()
    } else {
        json!("Ana")
    };
    let message_id = s.next_message_id(chat_id);
    let mut message = json!({
        "message_id": message_id,
        "from": {"id": from_id, "is_bot": false, "first_name": first_name, "language_code": "en"},
        "chat": chat,
        "date": now(),
        "text": text,
    });
    if text.starts_with('/') {
        let head = text.split(char::is_whitespace).next().unwrap_or("");
        message["entities"] = json!([{"offset": 0, "length": utf16_len(head), "type": "bot_command"}]);
    }
    message
}

/// POSTs `update` to `url` with the secret token, records the request in what was pushed, and answers
/// it with the host's status (`None` when the connection failed).
pub(super) async fn post(
    inner: &Inner,
    url: &str,
    secret: Option<&str>,
    update: &Value,
) -> (WebhookRequest, Option<u16>) {
    let body = Bytes::from(update.to_string());
    let mut request = WebhookRequest::post(url, body.clone()).with_header("content-type", "application/json");
    let mut call = inner
        .http
        .post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(sec) = secret {
        request = request.with_header(SECRET_HEADER, sec);
        call = call.header(SECRET_HEADER, sec);
    }
    let answer = call.send().await;
    inner.lock().pushed.push(request.clone());
    let status = match answer {
        Ok(r) => {
            let code = r.status();
            if !code.is_success() {
                let reason = code.canonical_reason().unwrap_or("");
                inner.lock().last_error = Some((
                    now(),
                    format!("Wrong response from the webhook: {} {reason}", code.as_u16()),
                ));
            }
            Some(code.as_u16())
        }
        Err(_) => {
            inner.lock().last_error = Some((now(), "Connection refused".into()));
            None
        }
    };
    (request, status)
}

/// Pushes pending updates to the webhook, oldest first, until one is not answered 2xx (it stays
/// pending, and so does everything after it) or none is left. Without a webhook, updates wait for
/// `getUpdates`.
pub(super) async fn deliver(inner: &Inner) {
    loop {
        let (url, secret, update) = {
            let s = inner.lock();
            let (Some(w), Some(u)) = (&s.webhook, s.pending.front()) else {
                return;
            };
            (w.url.clone(), w.secret.clone(), u.clone())
        };
        let update_id = update["update_id"].as_i64().unwrap_or(0);
        let (_, status) = post(inner, &url, secret.as_deref(), &update).await;
        if !status.is_some_and(|st| (200..300).contains(&st)) {
            return;
        }
        let mut s = inner.lock();
        if s.pending.front().and_then(|u| u["update_id"].as_i64()) == Some(update_id) {
            s.pending.pop_front();
        }
    }
}

//! `sendMessage`, refused as the Bot API refuses it.
//!
//! Following the Bot API reference (<https://core.telegram.org/bots/api#sendmessage>): the chat must
//! exist ("chat not found"), the text must be 1–4096 characters after entity parsing, `parse_mode`
//! one of `HTML`, `MarkdownV2`, `Markdown`. The structured parameters must parse: `entities` as an
//! array of `MessageEntity` (`type`, `offset`, `length`), `reply_markup` as one of the four keyboard
//! objects (an inline button's `callback_data` is 1–64 bytes: `BUTTON_DATA_INVALID`),
//! `link_preview_options` and `reply_parameters` as objects; a reply must point at a message in the
//! chat ("message to be replied not found") unless `allow_sending_without_reply`, and
//! `message_thread_id` needs a forum ("message thread not found"). A parameter the Bot API does not
//! know is ignored, as the Bot API does; scalars for text parameters are read as their text. The
//! error texts follow the usual Bot API wording; where Telegram does not publish one it is the
//! simulator's.

use serde_json::{Map, Value, json};
use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::api::{fail, fail_with, get_i64, get_str, ok};
use super::state::{SimError, SimSent, State, now};
use crate::text::{MAX_TEXT_UTF16, ParseMode, utf16_len, visible_text};

/// A text parameter; a number or boolean reads as its JSON text, as the Bot API reads it.
fn text_param(p: &Map<String, Value>, k: &str) -> Option<String> {
    match p.get(k)? {
        Value::String(s) => Some(s.clone()),
        v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
        _ => None,
    }
}

/// A structured parameter as an object or array: JSON bodies carry it as such, forms and query strings
/// as JSON text.
fn structured(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) => serde_json::from_str(s).ok(),
        other => Some(other.clone()),
    }
}

fn is_entity(e: &Value) -> bool {
    e.get("type").is_some_and(Value::is_string)
        && e.get("offset").is_some_and(|o| o.as_u64().is_some())
        && e.get("length").is_some_and(|l| l.as_u64().is_some())
}

/// A button row list: an array of arrays of objects with a `text`.
fn rows(v: Option<&Value>) -> Option<Vec<&Map<String, Value>>> {
    let mut out = Vec::new();
    for row in v?.as_array()? {
        for b in row.as_array()? {
            let b = b.as_object()?;
            b.get("text")?.as_str()?;
            out.push(b);
        }
    }
    Some(out)
}

fn check_reply_markup(v: &Value) -> Result<(), ResponseTemplate> {
    let unparsable = || fail(400, "Bad Request: can't parse reply keyboard markup JSON object");
    let Some(markup) = structured(v).filter(Value::is_object) else {
        return Err(unparsable());
    };
    if let Some(kb) = markup.get("inline_keyboard") {
        let Some(buttons) = rows(Some(kb)) else {
            return Err(unparsable());
        };
        for b in buttons {
            if let Some(data) = b.get("callback_data")
                && !data.as_str().is_some_and(|d| (1..=64).contains(&d.len()))
            {
                return Err(fail(400, "Bad Request: BUTTON_DATA_INVALID"));
            }
        }
        return Ok(());
    }
    if let Some(kb) = markup.get("keyboard") {
        // Reply keyboards also take plain strings as buttons.
        let ok = kb.as_array().is_some_and(|rows| {
            rows.iter().all(|r| {
                r.as_array().is_some_and(|bs| {
                    bs.iter()
                        .all(|b| b.is_string() || b.get("text").is_some_and(Value::is_string))
                })
            })
        });
        return if ok { Ok(()) } else { Err(unparsable()) };
    }
    if markup.get("remove_keyboard") == Some(&Value::Bool(true))
        || markup.get("force_reply") == Some(&Value::Bool(true))
    {
        return Ok(());
    }
    Err(unparsable())
}

/// The structured parameters and the references they make.
fn check_structured(s: &State, chat_id: i64, p: &Map<String, Value>) -> Result<(), ResponseTemplate> {
    if let Some(v) = p.get("entities") {
        let ok = structured(v)
            .and_then(|e| e.as_array().cloned())
            .is_some_and(|a| a.iter().all(is_entity));
        if !ok {
            return Err(fail(400, "Bad Request: can't parse entities JSON object"));
        }
    }
    if let Some(v) = p.get("reply_markup") {
        check_reply_markup(v)?;
    }
    if let Some(v) = p.get("link_preview_options")
        && !structured(v).is_some_and(|o| o.is_object())
    {
        return Err(fail(400, "Bad Request: can't parse link preview options JSON object"));
    }
    if let Some(v) = p.get("reply_parameters") {
        let Some(rp) = structured(v).filter(Value::is_object) else {
            return Err(fail(400, "Bad Request: can't parse reply parameters JSON object"));
        };
        let Some(target) = rp.get("message_id").and_then(Value::as_i64) else {
            return Err(fail(400, "Bad Request: can't parse reply parameters JSON object"));
        };
        let exists = target > 0 && s.next_message_id.get(&chat_id).is_some_and(|last| target <= *last);
        let lenient = rp.get("allow_sending_without_reply") == Some(&Value::Bool(true));
        if !exists && !lenient {
            return Err(fail(400, "Bad Request: message to be replied not found"));
        }
    }
    if p.contains_key("message_thread_id") {
        let forum = s
            .chats
            .get(&chat_id)
            .is_some_and(|c| c.chat.get("is_forum") == Some(&Value::Bool(true)));
        if get_i64(p, "message_thread_id").is_none_or(|t| t <= 0) || !forum {
            return Err(fail(400, "Bad Request: message thread not found"));
        }
    }
    Ok(())
}

pub(super) fn resolve_chat(s: &State, p: &Map<String, Value>) -> Result<i64, ResponseTemplate> {
    let id = match p.get("chat_id") {
        None => return Err(fail(400, "Bad Request: chat_id is empty")),
        Some(Value::String(name)) if name.starts_with('@') => s
            .usernames
            .get(&name[1..].to_ascii_lowercase())
            .copied()
            .ok_or_else(|| fail(400, "Bad Request: chat not found"))?,
        Some(_) => get_i64(p, "chat_id").ok_or_else(|| fail(400, "Bad Request: chat not found"))?,
    };
    if s.chats.contains_key(&id) {
        Ok(id)
    } else {
        Err(fail(400, "Bad Request: chat not found"))
    }
}

pub(super) fn send_message(s: &mut State, p: &Map<String, Value>) -> ResponseTemplate {
    let chat_id = match resolve_chat(s, p) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(raw_text) = text_param(p, "text") else {
        return fail(400, "Bad Request: message text is empty");
    };
    let mode = match get_str(p, "parse_mode").filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => match ParseMode::parse(m) {
            Some(mode) => Some(mode),
            None => return fail(400, &format!("Bad Request: unsupported parse_mode \"{m}\"")),
        },
    };
    let (text, entities) = match visible_text(&raw_text, mode) {
        Ok(v) => v,
        Err(e) => return fail(400, &format!("Bad Request: can't parse entities: {e}")),
    };
    if text.trim().is_empty() {
        return fail(400, "Bad Request: message text is empty");
    }
    if utf16_len(&text) > MAX_TEXT_UTF16 {
        return fail(400, "Bad Request: message is too long");
    }
    let Some(chat) = s.chats.get(&chat_id) else {
        return fail(400, "Bad Request: chat not found");
    };
    if let Some(new_id) = chat.migrated_to {
        return fail_with(&SimError {
            migrate_to_chat_id: Some(new_id),
            ..SimError::new(400, "Bad Request: group chat was upgraded to a supergroup chat")
        });
    }
    if chat.blocked {
        return fail(403, "Forbidden: bot was blocked by the user");
    }
    if let Err(r) = check_structured(s, chat_id, p) {
        return r;
    }
    let chat_json = chat.chat.clone();
    let message_id = s.next_message_id(chat_id);
    let mut result = json!({
        "message_id": message_id,
        "from": s.bot.clone(),
        "chat": chat_json,
        "date": now(),
        "text": text,
    });
    if !entities.is_empty() {
        result["entities"] = serde_json::to_value(&entities).unwrap_or_default();
    }
    s.sent.push(SimSent {
        chat_id,
        message_id,
        text,
        raw_text,
        parse_mode: mode,
        entities,
        params: p.clone(),
    });
    ok(result)
}

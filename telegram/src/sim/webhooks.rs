//! `setWebhook`, `getWebhookInfo` and `getUpdates`, as the Bot API reference describes them
//! (<https://core.telegram.org/bots/api#setwebhook>, `#getwebhookinfo`, `#getupdates`).

use serde_json::{Map, Value, json};
use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::api::{fail, get_bool, get_i64, get_str, get_string_list, ok, ok_described};
use super::state::{HookTarget, State, update_kind};
use crate::config::is_valid_secret_token;

pub(super) fn set_webhook(s: &mut State, p: &Map<String, Value>) -> ResponseTemplate {
    let Some(url) = get_str(p, "url") else {
        return fail(400, "Bad Request: parameter \"url\" is required");
    };
    if url.is_empty() {
        let had = s.webhook.take().is_some();
        return ok_described(
            json!(true),
            if had {
                "Webhook was deleted"
            } else {
                "Webhook is already deleted"
            },
        );
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return fail(400, "Bad Request: bad webhook: invalid webhook URL specified");
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => {
            if !matches!(parsed.port_or_known_default(), Some(443 | 80 | 88 | 8443)) {
                return fail(
                    400,
                    "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
                );
            }
        }
        "http" if loopback => {}
        _ => {
            return fail(
                400,
                "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
            );
        }
    }
    let secret = match get_str(p, "secret_token") {
        None => None,
        Some(t) if is_valid_secret_token(t) => Some(t.to_owned()),
        Some(_) => return fail(400, "Bad Request: secret token contains unallowed characters"),
    };
    let max_connections = match get_i64(p, "max_connections") {
        None => 40,
        Some(n) if (1..=100).contains(&n) => n as u32,
        Some(_) => {
            return fail(
                400,
                "Bad Request: bad webhook: max_connections must be between 1 and 100",
            );
        }
    };
    let allowed = match get_string_list(p, "allowed_updates") {
        None => s.webhook.as_ref().and_then(|w| w.allowed_updates.clone()),
        Some(Ok(a)) => Some(a),
        Some(Err(())) => return fail(400, "Bad Request: can't parse allowed updates"),
    };
    if get_bool(p, "drop_pending_updates") {
        s.pending.clear();
    }
    let same = s.webhook.as_ref().is_some_and(|w| w.url == url && w.secret == secret);
    s.webhook = Some(HookTarget {
        url: url.to_owned(),
        secret,
        max_connections,
        allowed_updates: allowed,
    });
    s.last_error = None;
    ok_described(
        json!(true),
        if same {
            "Webhook is already set"
        } else {
            "Webhook was set"
        },
    )
}

pub(super) fn webhook_info(s: &State) -> ResponseTemplate {
    let mut info = json!({
        "url": s.webhook.as_ref().map_or("", |w| w.url.as_str()),
        "has_custom_certificate": false,
        "pending_update_count": s.pending.len(),
    });
    if let Some(w) = &s.webhook {
        info["max_connections"] = json!(w.max_connections);
        info["ip_address"] = json!("127.0.0.1");
        if let Some(a) = &w.allowed_updates {
            info["allowed_updates"] = json!(a);
        }
    }
    if let Some((date, msg)) = &s.last_error {
        info["last_error_date"] = json!(date);
        info["last_error_message"] = json!(msg);
    }
    ok(info)
}

pub(super) fn get_updates(s: &mut State, p: &Map<String, Value>) -> ResponseTemplate {
    if s.webhook.is_some() {
        return fail(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        );
    }
    if let Some(offset) = get_i64(p, "offset") {
        if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while s.pending.len() > keep {
                s.pending.pop_front();
            }
        } else {
            s.pending.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
        }
    }
    let limit = get_i64(p, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let allowed = match get_string_list(p, "allowed_updates") {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(())) => return fail(400, "Bad Request: can't parse allowed updates"),
    };
    let out: Vec<Value> = s
        .pending
        .iter()
        .filter(|u| {
            allowed
                .as_ref()
                .is_none_or(|a| a.is_empty() || a.contains(&update_kind(u)))
        })
        .take(limit)
        .cloned()
        .collect();
    ok(Value::Array(out))
}

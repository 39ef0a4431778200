//! The REST surface of the simulator: routing, errors in Twilio's envelope, the Message resource as
//! JSON, and update. The create, with everything it refuses, is in [`super::create`]; the list in
//! [`super::list`].

use chrono::Utc;
use serde_json::{Value, json};
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};

use super::SIM_PRICE_PER_SEGMENT_MICROS;
use super::create::{INVALID_PARAMETER, create};
use super::state::{SimError, SimMessage, State};
use super::{auth, list};
use crate::config::API_VERSION;

/// The text Twilio gives `error_message` for the delivery errors the simulator produces (the titles
/// of these codes in Twilio's error dictionary, <https://www.twilio.com/docs/api/errors>).
fn error_message(code: i64) -> &'static str {
    match code {
        30003 => "Unreachable destination handset",
        30004 => "Message blocked",
        30005 => "Unknown destination handset",
        30006 => "Landline or unreachable carrier",
        30007 => "Message filtered",
        30008 => "Unknown error",
        _ => "Message delivery failed",
    }
}

pub(super) fn error(status: u16, code: i64, message: impl Into<String>) -> ResponseTemplate {
    json_status(
        status,
        &json!({
            "code": code,
            "message": message.into(),
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status,
        }),
    )
}

fn sim_error(e: &SimError) -> ResponseTemplate {
    let t = error(e.status, e.code, e.message.clone());
    match e.retry_after {
        Some(s) => t.insert_header("retry-after", s.to_string().as_str()),
        None => t,
    }
}

pub(super) fn not_found(path: &str) -> ResponseTemplate {
    error(404, 20404, format!("The requested resource {path} was not found"))
}

pub(super) fn handle(st: &mut State, req: &Request) -> ResponseTemplate {
    let path = req.url.path().to_owned();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if segs.first() != Some(&API_VERSION) || segs.get(1) != Some(&"Accounts") {
        return not_found(&path);
    }
    if !auth::authenticated(st, req) {
        return error(401, 20003, "Authenticate");
    }
    let account = segs.get(2).copied().unwrap_or("");
    let account = account.strip_suffix(".json").unwrap_or(account);
    if account != st.account_sid {
        return error(401, 20003, "Authenticate");
    }
    if let Some(e) = st.errors.pop_front() {
        return sim_error(&e);
    }
    let method = req.method.as_str().to_owned();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body).into_owned().collect();
    match (segs.len(), segs.get(3).copied(), method.as_str()) {
        (3, None, "GET") if segs[2].ends_with(".json") => account_json(st),
        (4, Some("Messages.json"), "POST") => create(st, &form),
        (4, Some("Messages.json"), "GET") => list::list(st, req),
        (5, Some("Messages"), m) => {
            let Some(sid) = segs[4].strip_suffix(".json") else {
                return not_found(&path);
            };
            match m {
                "GET" => match st.message(sid) {
                    Some(msg) => json_status(200, &resource(st, msg)),
                    None => not_found(&path),
                },
                "POST" => update(st, sid, &form, &path),
                "DELETE" => {
                    let before = st.messages.len();
                    st.messages.retain(|x| x.sid != sid);
                    if st.messages.len() == before {
                        not_found(&path)
                    } else {
                        ResponseTemplate::new(204)
                    }
                }
                _ => error(405, 20004, "Method not allowed"),
            }
        }
        _ => not_found(&path),
    }
}

fn account_json(st: &State) -> ResponseTemplate {
    let now = Utc::now().to_rfc2822();
    json_status(
        200,
        &json!({
            "sid": st.account_sid,
            "owner_account_sid": st.account_sid,
            "friendly_name": "switchboard simulator",
            "status": "active",
            "type": "Full",
            "date_created": now,
            "date_updated": now,
            "uri": format!("/{API_VERSION}/Accounts/{}.json", st.account_sid),
        }),
    )
}

pub(super) fn resource(st: &State, m: &SimMessage) -> Value {
    let base = format!("/{API_VERSION}/Accounts/{}/Messages/{}", st.account_sid, m.sid);
    let price = m.date_sent.filter(|_| m.direction == "outbound-api").map(|_| {
        let micros = SIM_PRICE_PER_SEGMENT_MICROS * i64::from(m.num_segments);
        format!("-{}.{:05}", micros / 1_000_000, (micros % 1_000_000) / 10)
    });
    json!({
        "account_sid": st.account_sid,
        "api_version": API_VERSION,
        "body": m.body,
        "date_created": m.date_created.to_rfc2822(),
        "date_sent": m.date_sent.map(|d| d.to_rfc2822()),
        "date_updated": m.date_updated.to_rfc2822(),
        "direction": m.direction,
        "error_code": m.error_code,
        "error_message": m.error_code.map(error_message),
        "from": m.from,
        "messaging_service_sid": m.messaging_service_sid,
        "num_media": m.media.len().to_string(),
        "num_segments": m.num_segments.to_string(),
        "price": price,
        "price_unit": "USD",
        "sid": m.sid,
        "status": m.status,
        "subresource_uris": {
            "media": format!("{base}/Media.json"),
            "feedback": format!("{base}/Feedback.json"),
        },
        "tags": null,
        "to": m.to,
        "uri": format!("{base}.json"),
    })
}

fn update(st: &mut State, sid: &str, form: &[(String, String)], path: &str) -> ResponseTemplate {
    let Some(m) = st.message_mut(sid) else {
        return not_found(path);
    };
    if form.iter().any(|(k, v)| k == "Status" && v == "canceled") {
        if m.status != "scheduled" {
            // Twilio refuses to cancel a message that is not scheduled; the exact code is not
            // established, the simulator's invalid-parameter answer stands in for it.
            return error(400, INVALID_PARAMETER, "Only scheduled messages can be canceled.");
        }
        m.status = "canceled".into();
        m.history.push("canceled".into());
        m.date_updated = Utc::now();
    } else if form.iter().any(|(k, v)| k == "Body" && v.is_empty()) {
        m.body.clear();
        m.date_updated = Utc::now();
    } else {
        return error(400, INVALID_PARAMETER, "Either Body or Status must be provided.");
    }
    let m = m.clone();
    json_status(200, &resource(st, &m))
}

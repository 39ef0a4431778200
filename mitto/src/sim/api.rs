//! The simulated endpoints of both APIs, after their bodies passed [`wire`](super::wire).

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use switchboard_core::PhoneNumber;
use switchboard_core::segment::is_gsm7;
use switchboard_core::testkit::wiremock::{Request, ResponseTemplate};
use switchboard_core::testkit::{json_response, json_status};

use super::PRICE_PER_PART;
use super::auth;
use super::state::{PendingPush, SimMessage, Stage, State, lock, mitto_timestamp};
use super::wire;
use crate::config::Flavour;
use crate::sender::{self, LEGACY_SENDER, MESSAGING_SENDER};

fn response_text(code: i64) -> &'static str {
    match code {
        0 => "SMS sent",
        1 => "Internal error",
        2 => "Invalid type",
        3 => "Empty message",
        4 => "Message text invalid for encoding",
        5 => "Empty sender",
        6 => "Invalid sender",
        7 => "Empty receiver",
        8 => "Invalid receiver",
        _ => "Error",
    }
}

fn code_answer(st: &State, code: i64) -> ResponseTemplate {
    json_status(
        st.error_http_status,
        &json!({"responseCode": code, "responseText": response_text(code)}),
    )
}

fn text_answer(status: u16, text: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(text.to_owned(), "text/plain; charset=utf-8")
}

fn message_error(status: u16, message: &str) -> ResponseTemplate {
    json_status(status, &json!({ "message": message }))
}

type Outcome = (ResponseTemplate, Vec<PendingPush>);

pub(super) fn handle(state: &Mutex<State>, req: &Request) -> Outcome {
    let mut st = lock(state);
    let key_ok = auth::authorised(&st, req);
    let raw_path = req.url.path().to_ascii_lowercase();
    let path = raw_path.trim_end_matches('/');
    if path.ends_with(".xml") {
        return (text_answer(415, "the simulator speaks JSON only"), vec![]);
    }
    let legacy = path.strip_prefix("/v2").unwrap_or(path);
    let legacy = legacy.strip_suffix(".json").unwrap_or(legacy);
    let post = req.method == http::Method::POST;
    let get = req.method == http::Method::GET;
    let route = match legacy {
        "/sms" | "/smsbulk" | "/sms/converted" | "/usage/bycountry" => Some(legacy),
        _ => None,
    };
    if let Some(route) = route {
        if !key_ok {
            st.counters.unauthorized += 1;
            return (auth::legacy_refusal(), vec![]);
        }
        if !post {
            return (text_answer(405, "Method Not Allowed"), vec![]);
        }
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return (text_answer(400, "Bad Request: the body is not a JSON object"), vec![]),
        };
        return match route {
            "/sms" => (legacy_sms(&mut st, &body), vec![]),
            "/smsbulk" => (legacy_bulk(&mut st, &body), vec![]),
            "/sms/converted" => (converted(&mut st, &body), vec![]),
            _ => (usage(&st, &body), vec![]),
        };
    }
    if let Some(rest) = path.strip_prefix("/api/v1.1/messages") {
        if !key_ok {
            st.counters.unauthorized += 1;
            return (auth::messaging_refusal(), vec![]);
        }
        return match rest {
            "/send" | "/sendbulk" if post => {
                let body: Value = match serde_json::from_slice(&req.body) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => return (message_error(400, "The request body is not a JSON object"), vec![]),
                };
                (messaging_send(&mut st, &body, rest == "/sendbulk"), vec![])
            }
            r if get && r.len() > 1 && !r[1..].contains('/') => {
                // The id keeps its case: take it from the original path.
                let id = req.url.path().rsplit('/').next().unwrap_or("").to_owned();
                messaging_get(&mut st, &id)
            }
            _ => (message_error(405, "Method Not Allowed"), vec![]),
        };
    }
    (text_answer(404, "Not Found"), vec![])
}

/// Checks the legacy fields every send has; answers the first failing `responseCode`.
fn legacy_checks(body: &Value, receivers: &[String]) -> Result<(), i64> {
    let from = body.get("from").and_then(Value::as_str).unwrap_or("");
    if from.trim().is_empty() {
        return Err(5);
    }
    if sender::check(from, &LEGACY_SENDER).is_err() {
        return Err(6);
    }
    if receivers.is_empty() || receivers.iter().all(|r| r.trim().is_empty()) {
        return Err(7);
    }
    if receivers.iter().any(|r| !valid_receiver(r)) {
        return Err(8);
    }
    let text = body.get("text").and_then(Value::as_str).unwrap_or("");
    if text.is_empty() {
        return Err(3);
    }
    let kind = match body.get("type") {
        None | Some(Value::Null) => "gsm".to_owned(),
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(_) => return Err(2),
    };
    match kind.as_str() {
        "gsm" if !is_gsm7(text) => Err(4),
        "gsm" | "unicode" | "binary" | "byte" | "auto" => Ok(()),
        _ => Err(2),
    }
}

fn valid_receiver(r: &str) -> bool {
    let d = r.trim().strip_prefix('+').unwrap_or(r.trim());
    (6..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())
}

fn digits(r: &str) -> String {
    r.trim().trim_start_matches('+').to_owned()
}

fn parts_of(text: &str) -> usize {
    switchboard_core::Segmentation::of(text).segments
}

fn store(st: &mut State, api: Flavour, to: &str, body: &Value, text: &str, from: &str) -> SimMessage {
    let id = st.next_id(api);
    let now = Utc::now();
    let m = SimMessage {
        id: id.clone(),
        api,
        to: digits(to),
        from: from.to_owned(),
        text: text.to_owned(),
        kind: body.get("type").and_then(Value::as_str).map(str::to_owned),
        reference: body.get("reference").and_then(Value::as_str).map(str::to_owned),
        callback: body.get("callback").and_then(Value::as_str).map(str::to_owned),
        traffic_account_id: body.get("trafficAccountId").and_then(Value::as_str).map(str::to_owned),
        stage: Stage::Accepted,
        parts: parts_of(text),
        created_at: now,
        updated_at: now,
    };
    st.messages.insert(id.clone(), m.clone());
    st.order.push(id);
    m
}

fn legacy_sms(st: &mut State, body: &Value) -> ResponseTemplate {
    st.counters.sms += 1;
    if let Some(refusal) = wire::refusal(wire::SMS, body, true) {
        return refusal;
    }
    if let Some(code) = st.forced_codes.pop_front() {
        return code_answer(st, code);
    }
    let to = body.get("to").and_then(Value::as_str).unwrap_or("").to_owned();
    if let Err(code) = legacy_checks(body, std::slice::from_ref(&to)) {
        return code_answer(st, code);
    }
    let text = body.get("text").and_then(Value::as_str).unwrap_or("");
    let from = body.get("from").and_then(Value::as_str).unwrap_or("");
    let test = body.get("test").and_then(Value::as_bool).unwrap_or(false);
    let now = mitto_timestamp(Utc::now());
    if test {
        return json_response(&json!({
            "timestamp": now, "to": digits(&to), "responseCode": 0, "responseText": "SMS sent",
            "textLength": text.chars().count(), "test": true
        }));
    }
    let m = store(st, Flavour::Legacy, &to, body, text, from);
    json_response(&json!({
        "id": m.id, "timestamp": now, "to": m.to, "responseCode": 0,
        "textLength": text.chars().count(), "responseText": "SMS sent"
    }))
}

fn legacy_bulk(st: &mut State, body: &Value) -> ResponseTemplate {
    st.counters.bulk += 1;
    if let Some(refusal) = wire::refusal(wire::SMS_BULK, body, true) {
        return refusal;
    }
    if let Some(code) = st.forced_codes.pop_front() {
        return code_answer(st, code);
    }
    // Clients disagree on the shape of `to`: a JSON array, or one string of comma-separated numbers.
    let receivers: Vec<String> = match body.get("to") {
        Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap_or("").to_owned()).collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => s.split(',').map(|p| p.trim().to_owned()).collect(),
        _ => Vec::new(),
    };
    if let Err(code) = legacy_checks(body, &receivers) {
        return code_answer(st, code);
    }
    let text = body.get("text").and_then(Value::as_str).unwrap_or("");
    let from = body.get("from").and_then(Value::as_str).unwrap_or("");
    let test = body.get("test").and_then(Value::as_bool).unwrap_or(false);
    let now = mitto_timestamp(Utc::now());
    let messages: Vec<Value> = receivers
        .iter()
        .map(|to| {
            if test {
                json!({"to": digits(to), "timestamp": now, "textLength": text.chars().count()})
            } else {
                let m = store(st, Flavour::Legacy, to, body, text, from);
                json!({"id": m.id, "to": m.to, "timestamp": now, "textLength": text.chars().count()})
            }
        })
        .collect();
    json_response(&json!({
        "responseCode": 0, "responseText": "SMS sent", "messages": messages, "test": test
    }))
}

fn converted(st: &mut State, body: &Value) -> ResponseTemplate {
    if let Some(refusal) = wire::refusal(wire::CONVERTED, body, true) {
        return refusal;
    }
    let id = body.get("messageId").and_then(Value::as_str).unwrap_or("");
    if !st.conversions_enabled {
        return json_status(
            400,
            &json!("Conversion rate tracking is not enabled for this customer account"),
        );
    }
    if !st.messages.contains_key(id) {
        return json_status(404, &json!(format!("No convertible message found for id \"{id}\"")));
    }
    st.converted.insert(id.to_owned());
    json_response(&json!("OK"))
}

fn usage(st: &State, body: &Value) -> ResponseTemplate {
    if let Some(refusal) = wire::refusal(wire::USAGE, body, true) {
        return refusal;
    }
    let date = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    let (Some(start), Some(end)) = (date("startDate"), date("endDate")) else {
        return text_answer(400, "Bad Request: startDate and endDate must be dates (YYYY-MM-DD)");
    };
    let mut by_country: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for m in st.messages.values() {
        let day = m.created_at.date_naive();
        if day < start || day > end {
            continue;
        }
        let country = PhoneNumber::parse(&format!("+{}", m.to), None)
            .ok()
            .and_then(|p| p.region())
            .map(|r| alpha3(r.as_str()).to_owned())
            .unwrap_or_else(|| "ZZZ".to_owned());
        let e = by_country.entry(country).or_default();
        e.0 += 1;
        e.1 += m.parts as u64 * PRICE_PER_PART;
    }
    let rows: Vec<Value> = by_country
        .into_iter()
        .map(|(country, (n, cost))| {
            json!({"country": country, "messagesCount": n.to_string(), "cost": format!("{}.{:04}", cost / 10_000, cost % 10_000)})
        })
        .collect();
    json_response(&Value::Array(rows))
}

fn messaging_send(st: &mut State, body: &Value, bulk: bool) -> ResponseTemplate {
    st.counters.messaging_sends += 1;
    let schema = if bulk {
        wire::MESSAGING_BULK
    } else {
        wire::MESSAGING_SEND
    };
    if let Some(refusal) = wire::refusal(schema, body, false) {
        return refusal;
    }
    if let Some(sms) = body.get("sms").filter(|v| v.is_object())
        && let Some(refusal) = wire::refusal(wire::MESSAGING_SMS, sms, false)
    {
        return refusal;
    }
    let ta = body.get("trafficAccountId").and_then(Value::as_str).unwrap_or("");
    if ta.is_empty() {
        return message_error(400, "trafficAccountId is required");
    }
    if !st.traffic_accounts.iter().any(|t| t == ta) {
        return message_error(403, "The traffic account does not belong to this API key");
    }
    let destinations: Vec<String> = if bulk {
        match body.get("destinations") {
            Some(Value::Array(a)) => a.iter().map(|v| v.as_str().unwrap_or("").to_owned()).collect(),
            _ => Vec::new(),
        }
    } else {
        body.get("destination")
            .and_then(Value::as_str)
            .map(|d| vec![d.to_owned()])
            .unwrap_or_default()
    };
    if destinations.is_empty() {
        return message_error(400, "destination is required");
    }
    if destinations.iter().any(|d| !valid_receiver(d)) {
        return message_error(400, "destination must be a phone number in E.164 format");
    }
    let sms = body.get("sms").cloned().unwrap_or(Value::Null);
    let text = sms.get("text").and_then(Value::as_str).unwrap_or("");
    let sender_id = sms.get("sender").and_then(Value::as_str).unwrap_or("");
    if text.is_empty() {
        return message_error(400, "sms.text is required");
    }
    if sender::check(sender_id, &MESSAGING_SENDER).is_err() {
        return message_error(400, "sms.sender must be numeric (1-16) or alphanumeric (1-11)");
    }
    let messages: Vec<Value> = destinations
        .iter()
        .map(|d| {
            let m = store(st, Flavour::Messaging, d, body, text, sender_id);
            json!({"messageId": m.id, "trafficAccountId": ta})
        })
        .collect();
    if bulk {
        let bulk_id = st.next_id(Flavour::Messaging);
        json_response(&json!({"bulkId": bulk_id, "messages": messages}))
    } else {
        json_response(&json!({ "messages": messages }))
    }
}

fn messaging_get(st: &mut State, id: &str) -> Outcome {
    st.counters.lookups += 1;
    let known = st.messages.get(id).is_some_and(|m| m.api == Flavour::Messaging);
    if !known {
        return (message_error(404, "Message not found"), vec![]);
    }
    let pushes = if st.auto_advance {
        st.step(id).into_iter().collect()
    } else {
        vec![]
    };
    let Some(m) = st.messages.get(id) else {
        return (message_error(404, "Message not found"), vec![]);
    };
    let record = json!({
        "messageId": m.id,
        "text": m.text,
        "mediaUrl": null,
        "sender": {"id": m.from, "type": "sms"},
        "conversation": {"channel": "SMS", "destination": format!("+{}", m.to)},
        "createdAt": m.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "updatedAt": m.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "trafficAccountId": m.traffic_account_id,
        "deliveryStatus": m.status(),
        "description": if m.stage == Stage::Failed { "Delivery failed" } else { "" },
        "quotedMessageId": null,
        "messageParts": m.parts,
        "requestInfo": {},
        "reference": m.reference,
    });
    (json_response(&record), pushes)
}

/// ISO 3166 alpha-2 → alpha-3 for the usage report (the countries a simulator is likely to see; others
/// are reported under their alpha-2 code).
fn alpha3(alpha2: &str) -> &str {
    match alpha2 {
        "AL" => "ALB",
        "AT" => "AUT",
        "AU" => "AUS",
        "BE" => "BEL",
        "BG" => "BGR",
        "BR" => "BRA",
        "BY" => "BLR",
        "CA" => "CAN",
        "CH" => "CHE",
        "CN" => "CHN",
        "CZ" => "CZE",
        "DE" => "DEU",
        "DK" => "DNK",
        "ES" => "ESP",
        "FI" => "FIN",
        "FR" => "FRA",
        "GB" => "GBR",
        "GR" => "GRC",
        "HR" => "HRV",
        "HU" => "HUN",
        "IE" => "IRL",
        "IN" => "IND",
        "IT" => "ITA",
        "JP" => "JPN",
        "KZ" => "KAZ",
        "LI" => "LIE",
        "LU" => "LUX",
        "ME" => "MNE",
        "MK" => "MKD",
        "NL" => "NLD",
        "NO" => "NOR",
        "PL" => "POL",
        "PT" => "PRT",
        "RO" => "ROU",
        "RS" => "SRB",
        "RU" => "RUS",
        "SE" => "SWE",
        "SG" => "SGP",
        "TR" => "TUR",
        "UA" => "UKR",
        "US" => "USA",
        "XK" => "XKX",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn timestamps_have_seven_fractional_digits() {
        let t = DateTime::parse_from_rfc3339("2019-04-13T12:07:57.862557412Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(mitto_timestamp(t), "2019-04-13T12:07:57.8625574Z");
    }

    #[test]
    fn legacy_checks_follow_the_table() {
        let ok = json!({"from": "Acme", "text": "hi"});
        assert_eq!(legacy_checks(&ok, &["41751231234".into()]), Ok(()));
        assert_eq!(legacy_checks(&json!({"text": "hi"}), &["41751231234".into()]), Err(5));
        assert_eq!(
            legacy_checks(&json!({"from": "A", "text": "hi"}), &["41751231234".into()]),
            Err(6)
        );
        assert_eq!(legacy_checks(&ok, &[]), Err(7));
        assert_eq!(legacy_checks(&ok, &["41-75".into()]), Err(8));
        assert_eq!(
            legacy_checks(&json!({"from": "Acme", "text": ""}), &["41751231234".into()]),
            Err(3)
        );
        assert_eq!(
            legacy_checks(
                &json!({"from": "Acme", "text": "hi", "type": "fax"}),
                &["41751231234".into()]
            ),
            Err(2)
        );
        assert_eq!(
            legacy_checks(
                &json!({"from": "Acme", "text": "Привет", "type": "GSM"}),
                &["41751231234".into()]
            ),
            Err(4)
        );
    }
}

//! What a call pushes as it moves, with TeleCMI's naming and typing quirks: live events (`app_id`,
//! `waiting → started → answered → hangup`) and CDRs (`appid`, `cmiuuid`, two legs for an answered
//! outgoing call, the older missed form with `click_to_call: "true"`), to the URLs the account
//! registered, by POST (JSON) or GET (query).

use std::sync::Mutex;

use chrono::Utc;
use http::Method;
use serde_json::{Value, json};
use switchboard_core::{Error, ErrorKind, Result, WebhookRequest};

use super::state::{Outcome, SimCall, SimCallState, State, StoredCdr, lock, uuid};
use super::{SIM_APP_ID, SIM_VIRTUAL_NUMBER};
use crate::model::CdrKind;

/// A record as the pull APIs show it (`cmiuid`; `from` as a string on outgoing lists).
pub(super) fn pull_record(from: &str, to: &str, agent: Option<&str>, outcome: Outcome, outgoing: bool) -> Value {
    let num = |s: &str| s.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(s));
    let secs = match outcome {
        Outcome::Answered { talk_secs } => talk_secs,
        Outcome::Missed => 0,
    };
    let mut r = json!({
        "cmiuid": uuid(),
        "duration": secs,
        "billedsec": secs,
        "rate": if outgoing { json!(0.1001) } else { json!(0) },
        "name": "unknown",
        "from": if outgoing { Value::from(from) } else { num(from) },
        "to": num(to),
    });
    if let Some(o) = r.as_object_mut() {
        if let Some(a) = agent {
            o.insert("agent".to_owned(), json!(a));
        }
        if secs > 0 {
            o.insert("record".to_owned(), json!("true"));
            o.insert("filename".to_owned(), json!(format!("{}_{SIM_APP_ID}.mp3", uuid())));
        }
        if outgoing {
            o.insert("region".to_owned(), json!("IN"));
        }
    }
    r
}

// ------------------------------------------------------------------------------------------ pushes

/// The payloads of a placed call, in order, and the records to store.
pub(super) fn outbound_payloads(call: &SimCall, outcome: Outcome) -> (Vec<(bool, Value)>, Vec<StoredCdr>) {
    let t0 = Utc::now().timestamp_millis();
    let to_num = call
        .to
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(call.to.clone()));
    let legacy = call.via.starts_with("/v1/");
    // The host's parameters come back as a JSON string: in `extra_params` on CHUB, in `custom` on the
    // legacy host (where they were sent as `custom`).
    let params = match &call.extra_params {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        v => Some(v.to_string()),
    };
    let (conversation, call_id, leg_a, leg_b) = (uuid(), uuid(), uuid(), uuid());
    let event = |status: &str, dt: i64| {
        let mut e = json!({
            "type": "event", "direction": "outbound", "status": status, "leg": "a",
            "app_id": SIM_APP_ID, "user": call.agent, "to": to_num, "callerid": SIM_VIRTUAL_NUMBER,
            "cmiuuid": leg_a, "conversation_uuid": conversation, "call_id": call_id,
            "request_id": call.request_id, "time": t0 + dt,
        });
        if let (Some(o), Some(p)) = (e.as_object_mut(), &params) {
            o.insert("custom".to_owned(), json!(p));
            if !legacy {
                o.insert("extra_params".to_owned(), json!(p));
            }
        }
        e
    };
    let mut out = vec![(true, event("waiting", 0))];
    let mut stored = Vec::new();
    match outcome {
        Outcome::Answered { talk_secs } => {
            out.push((true, event("started", 2_000)));
            out.push((true, event("answered", 6_000)));
            let end = 6_000 + 1000 * talk_secs as i64;
            let mut hangup = event("hangup", end);
            let leg = |name: &str, uuid: &str| {
                let mut c = json!({
                    "type": "cdr", "appid": SIM_APP_ID, "direction": "outbound", "status": "answered",
                    "leg": name, "user": call.agent, "cmiuuid": uuid, "call_id": call_id,
                    "request_id": call.request_id, "time": t0, "answeredsec": talk_secs,
                    "hangup_reason": "sent_bye", "virtual_number": SIM_VIRTUAL_NUMBER,
                });
                if let Some(o) = c.as_object_mut() {
                    if let Some(p) = &params {
                        o.insert("custom".to_owned(), json!(p));
                        if !legacy {
                            o.insert("extra_params".to_owned(), json!(p));
                        }
                    }
                    if name == "a" {
                        o.insert("to".to_owned(), to_num.clone());
                    } else {
                        // Leg B: `to` as a string, `record` as the string "true", and the recording.
                        o.insert("to".to_owned(), json!(call.to));
                        o.insert("record".to_owned(), json!("true"));
                        o.insert("filename".to_owned(), json!(format!("{}_{SIM_APP_ID}.mp3", t0)));
                    }
                }
                c
            };
            let (a, b) = (leg("a", &leg_a), leg("b", &leg_b));
            if let Some(o) = hangup.as_object_mut() {
                o.insert("hangup_reason".to_owned(), json!("sent_bye"));
                o.insert("answeredsec".to_owned(), json!(talk_secs));
            }
            out.push((true, hangup));
            out.push((false, a));
            out.push((false, b));
            let mut record = pull_record(SIM_VIRTUAL_NUMBER, &call.to, Some(&call.agent), outcome, true);
            if let Some(o) = record.as_object_mut() {
                o.insert("cmiuid".to_owned(), json!(leg_b));
                o.insert("time".to_owned(), json!(t0));
            }
            stored.push(StoredCdr {
                kind: CdrKind::OutgoingAnswered,
                agent: Some(call.agent.clone()),
                time: t0,
                record,
            });
        }
        Outcome::Missed => {
            out.push((true, event("started", 2_000)));
            let mut hangup = event("hangup", 32_000);
            if let Some(o) = hangup.as_object_mut() {
                o.insert("hangup_reason".to_owned(), json!("recv_cancel"));
            }
            out.push((true, hangup));
            // The older outgoing-missed form, with `click_to_call` as a string.
            let mut c = json!({
                "type": "cdr", "appid": SIM_APP_ID, "to": to_num, "cmiuuid": leg_a, "status": "missed",
                "user": call.agent, "time": t0, "direction": "outbound", "click_to_call": "true",
                "request_id": call.request_id,
            });
            if let (Some(o), Some(p)) = (c.as_object_mut(), &params) {
                o.insert(if legacy { "custom" } else { "extra_params" }.to_owned(), json!(p));
            }
            out.push((false, c));
            let mut record = pull_record(SIM_VIRTUAL_NUMBER, &call.to, Some(&call.agent), outcome, true);
            if let Some(o) = record.as_object_mut() {
                o.insert("cmiuid".to_owned(), json!(leg_a));
                o.insert("time".to_owned(), json!(t0));
            }
            stored.push(StoredCdr {
                kind: CdrKind::OutgoingMissed,
                agent: Some(call.agent.clone()),
                time: t0,
                record,
            });
        }
    }
    (out, stored)
}

pub(super) fn inbound_payloads(from: &str, agent: &str, outcome: Outcome) -> Vec<(bool, Value)> {
    let t0 = Utc::now().timestamp_millis();
    let from_num = from
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(from));
    let virtual_num = SIM_VIRTUAL_NUMBER.parse::<u64>().unwrap_or(0);
    let (conversation, leg_a, leg_b) = (uuid(), uuid(), uuid());
    let team = format!("Sales_{SIM_APP_ID}");
    let custom = "{\"crm\":\"true\"}";
    let mut out = vec![(
        true,
        json!({"type": "event", "direction": "inbound", "conversation_uuid": conversation, "cmiuuid": leg_a,
               "from": from_num, "app_id": SIM_APP_ID, "time": t0, "to": virtual_num, "status": "waiting"}),
    )];
    match outcome {
        Outcome::Answered { talk_secs } => {
            let b = |status: &str, dt: i64| {
                json!({"leg": "b", "type": "event", "team": team, "user": agent, "conversation_uuid": conversation,
                       "cmiuuid": leg_b, "direction": "outbound", "from": from, "app_id": SIM_APP_ID,
                       "time": t0 + dt, "custom": custom, "status": status})
            };
            out.push((
                true,
                json!({"type": "event", "direction": "inbound", "conversation_uuid": conversation,
                       "cmiuuid": leg_a, "from": from_num, "app_id": SIM_APP_ID, "time": t0 + 3_000,
                       "to": virtual_num, "custom": custom, "status": "answered"}),
            ));
            out.push((true, b("answered", 3_000)));
            out.push((true, b("hangup", 3_000 + 1000 * talk_secs as i64)));
            out.push((
                false,
                json!({"virtual_number": virtual_num, "custom": custom, "appid": SIM_APP_ID, "type": "cdr",
                       "direction": "inbound", "cmiuuid": leg_a, "user": agent, "status": "answered",
                       "to": virtual_num, "from": from_num, "time": t0, "answeredsec": talk_secs, "team": team,
                       "hangup_reason": "recv_bye", "record": true, "filename": format!("{t0}_{SIM_APP_ID}.mp3"),
                       "conversation_uuid": conversation, "ivr_name": "salesivr"}),
            ));
        }
        Outcome::Missed => {
            out.push((
                false,
                json!({"virtual_number": virtual_num, "custom": custom, "appid": SIM_APP_ID, "type": "cdr",
                       "direction": "inbound", "cmiuuid": leg_a, "status": "missed", "from": from_num,
                       "time": t0, "waitedsec": 27, "hangup_reason": "recv_bye", "voicemail": "false",
                       "conversation_uuid": conversation, "team": team, "ivr_name": "salesivr"}),
            ));
        }
    }
    out
}

pub(super) async fn play(
    state: &Mutex<State>,
    pusher: &reqwest::Client,
    request_id: &str,
    outcome: Outcome,
) -> Result<Vec<Value>> {
    let payloads = {
        let mut s = lock(state);
        let Some(call) = s.calls.iter_mut().find(|c| c.request_id == request_id) else {
            return Err(Error::new(
                ErrorKind::NotFound,
                "the simulator placed no call with that request_id",
            ));
        };
        if call.state != SimCallState::Initiated {
            return Err(Error::new(ErrorKind::Rejected, "that simulated call has already ended"));
        }
        call.state = match outcome {
            Outcome::Answered { .. } => SimCallState::Completed,
            Outcome::Missed => SimCallState::Missed,
        };
        let call = call.clone();
        let (payloads, stored) = outbound_payloads(&call, outcome);
        s.cdrs.extend(stored);
        payloads
    };
    push_all(state, pusher, payloads).await
}

/// Pushes each payload in order (`true` = live event URL, `false` = CDR URL), waiting for each answer;
/// answers the payloads. A payload whose URL is not set is not pushed (nor recorded as pushed).
pub(super) async fn push_all(
    state: &Mutex<State>,
    pusher: &reqwest::Client,
    payloads: Vec<(bool, Value)>,
) -> Result<Vec<Value>> {
    let mut sent = Vec::with_capacity(payloads.len());
    for (live, payload) in payloads {
        let (url, method) = {
            let s = lock(state);
            (
                if live { s.event_url.clone() } else { s.cdr_url.clone() },
                s.push_method.clone(),
            )
        };
        if let Some(url) = url {
            let made = request_of(&url, &method, &payload)?;
            lock(state).pushed.push(made.clone());
            push(pusher, &made).await?;
        }
        sent.push(payload);
    }
    Ok(sent)
}

/// The request that pushes `payload` to `url`: a JSON `POST`, or a `GET` with the fields in the query.
pub(super) fn request_of(url: &str, method: &Method, payload: &Value) -> Result<WebhookRequest> {
    if *method == Method::GET {
        let mut u = url::Url::parse(url).map_err(|_| Error::config("the simulator's push URL is not a URL"))?;
        if let Some(o) = payload.as_object() {
            let mut q = u.query_pairs_mut();
            for (k, v) in o {
                match v {
                    Value::String(s) => q.append_pair(k, s),
                    other => q.append_pair(k, &other.to_string()),
                };
            }
        }
        Ok(WebhookRequest::get(u.to_string()))
    } else {
        Ok(WebhookRequest::post(url, payload.to_string()).with_header("content-type", "application/json"))
    }
}

/// Makes `request`, and answers an error when the receiver did not take it.
pub(super) async fn push(pusher: &reqwest::Client, request: &WebhookRequest) -> Result<()> {
    let send = if request.method == Method::GET {
        pusher.get(&request.url)
    } else {
        pusher
            .post(&request.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(request.body.clone())
    };
    let resp = send
        .send()
        .await
        .map_err(switchboard_core::http::classify_reqwest_error)?;
    if !resp.status().is_success() {
        return Err(Error::new(
            ErrorKind::Rejected,
            format!("the webhook receiver answered HTTP {}", resp.status().as_u16()),
        ));
    }
    Ok(())
}

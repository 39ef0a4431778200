//! The SMS endpoints: `send_sms` with its validations, `query_sms_result`,
//! `query_sms_deliver_status`, `stop_sms` and the queue.

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Map, Value, json};
use switchboard_core::testkit::wiremock::ResponseTemplate;
use switchboard_core::{Encoding, Segmentation};

use super::api::{digits, fill, int_list, is_gateway_time, is_number, now, obj};
use super::state::{Record, State, report_json, result_json};
use super::{SimOutcome, SimSms};

impl State {
    pub(super) fn in_queue(&self) -> usize {
        self.records.iter().filter(|r| r.sms.status == "SENDING").count()
    }

    pub(super) fn usable_ports(&self, wanted: Option<&[u8]>) -> Vec<u8> {
        self.ports
            .iter()
            .enumerate()
            .filter_map(|(i, p)| u8::try_from(i).ok().map(|i| (i, p)))
            .filter(|(i, p)| p.powered && !p.blocked && p.reg == "REGISTER_OK" && wanted.is_none_or(|w| w.contains(i)))
            .map(|(i, _)| i)
            .collect()
    }

    pub(super) fn send_sms(&mut self, body: &[u8]) -> ResponseTemplate {
        let Ok(Value::Object(b)) = serde_json::from_slice::<Value>(body) else {
            return self.envelope(400, Map::new());
        };
        let Some(text) = b.get("text").and_then(Value::as_str) else {
            return self.envelope(400, Map::new());
        };
        let Some(params) = b.get("param").and_then(Value::as_array).filter(|p| !p.is_empty()) else {
            return self.envelope(400, Map::new());
        };
        if params.len() > 128 || text.len() > 1500 {
            return self.envelope(413, Map::new());
        }
        let encoding = match b.get("encoding") {
            None => "unicode",
            Some(Value::String(e)) if e == "unicode" || e == "gsm-7bit" => e.as_str(),
            Some(_) => return self.envelope(400, Map::new()),
        };
        let report = match b.get("request_status_report") {
            None => true,
            Some(Value::Bool(v)) => *v,
            Some(_) => return self.envelope(400, Map::new()),
        };
        let wanted = match b.get("port") {
            None => None,
            Some(v) => match int_list(v, 31) {
                Some(p) => Some(p),
                None => return self.envelope(400, Map::new()),
            },
        };
        let mut items = Vec::with_capacity(params.len());
        for p in params {
            let number = p.get("number").and_then(Value::as_str).unwrap_or("");
            let valid_number = is_number(number);
            let user_id = p.get("user_id").and_then(Value::as_u64);
            let text_param = match p.get("text_param") {
                None => Some(Vec::new()),
                Some(Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_owned)).collect(),
                Some(_) => None,
            };
            match (valid_number, user_id, text_param) {
                (true, Some(id), Some(tp)) => items.push((number.to_owned(), id, tp)),
                _ => return self.envelope(400, Map::new()),
            }
        }
        let ports = self.usable_ports(wanted.as_deref());
        if ports.is_empty() {
            return self.envelope(550, Map::new());
        }
        let task_id = self.next_task;
        self.next_task += 1;
        let enc = if encoding == "gsm-7bit" {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        };
        for (number, user_id, tp) in items {
            let filled = fill(text, &tp);
            let count = Segmentation::with_encoding(&filled, enc)
                .unwrap_or_else(|_| Segmentation::of(&filled))
                .segments;
            let port = ports[self.rr % ports.len()];
            self.rr = self.rr.wrapping_add(1);
            let (ref_id, imsi) = match self.ports.get_mut(usize::from(port)) {
                Some(p) => {
                    let r = p.next_ref;
                    p.next_ref = p.next_ref.wrapping_add(u8::try_from(count).unwrap_or(1).max(1));
                    (r, p.imsi.clone())
                }
                None => (0, String::new()),
            };
            let outcome = self
                .outcomes
                .get(&digits(&number))
                .copied()
                .unwrap_or(SimOutcome::Deliver);
            self.records.push(Record {
                sms: SimSms {
                    user_id,
                    number,
                    text: filled,
                    port,
                    status: "SENDING".to_owned(),
                    task_id,
                    encoding: encoding.to_owned(),
                    count: u32::try_from(count).unwrap_or(u32::MAX),
                    request_status_report: report,
                },
                time: now(),
                ref_id,
                imsi,
                succ_count: 0,
                outcome,
                temp_reported: false,
                recorded_at: Instant::now() + self.record_after,
            });
        }
        let queued = self.in_queue();
        self.envelope(202, obj(json!({"sms_in_queue": queued, "task_id": task_id})))
    }

    pub(super) fn query_sms_result(&mut self, body: &[u8]) -> ResponseTemplate {
        let Some(f) = self.filters(body) else {
            return self.envelope(400, Map::new());
        };
        if f.numbers.as_ref().is_some_and(|n| n.len() > 32) {
            return self.envelope(413, Map::new());
        }
        if self.auto_advance {
            self.step();
        }
        let at = Instant::now();
        let result: Vec<Value> = self
            .records
            .iter()
            .filter(|r| r.recorded_at <= at)
            .filter(|r| f.numbers.as_ref().is_none_or(|n| n.contains(&digits(&r.sms.number))))
            .filter(|r| f.user_ids.as_ref().is_none_or(|u| u.contains(&r.sms.user_id)))
            .filter(|r| f.ports.as_ref().is_none_or(|p| p.contains(&r.sms.port)))
            .filter(|r| f.after.as_ref().is_none_or(|a| r.time > *a))
            .filter(|r| f.before.as_ref().is_none_or(|b| r.time < *b))
            .map(result_json)
            .collect();
        self.envelope(200, obj(json!({"result": result})))
    }

    pub(super) fn query_deliver_status(&mut self, body: &[u8]) -> ResponseTemplate {
        let Some(f) = self.filters(body) else {
            return self.envelope(400, Map::new());
        };
        if f.numbers.as_ref().is_some_and(|n| n.len() > 32) {
            return self.envelope(413, Map::new());
        }
        if self.auto_advance {
            self.step();
        }
        let result: Vec<Value> = self
            .reports
            .iter()
            .filter(|r| f.numbers.as_ref().is_none_or(|n| n.contains(&digits(&r.number))))
            .filter(|r| f.ports.as_ref().is_none_or(|p| p.contains(&r.port)))
            .filter(|r| f.after.as_ref().is_none_or(|a| r.time > *a))
            .filter(|r| f.before.as_ref().is_none_or(|b| r.time < *b))
            .map(report_json)
            .collect();
        self.envelope(200, obj(json!({"result": result})))
    }

    pub(super) fn filters(&self, body: &[u8]) -> Option<Filters> {
        let v: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body).ok()?
        };
        let b = v.as_object()?;
        let numbers = match b.get("number") {
            None => None,
            Some(Value::Array(a)) => Some(
                a.iter()
                    .map(|x| x.as_str().filter(|s| is_number(s)).map(digits))
                    .collect::<Option<Vec<_>>>()?,
            ),
            Some(_) => return None,
        };
        let user_ids = match b.get("user_id") {
            None => None,
            Some(Value::Array(a)) => Some(a.iter().map(Value::as_u64).collect::<Option<Vec<_>>>()?),
            Some(_) => return None,
        };
        let ports = match b.get("port") {
            None => None,
            Some(v) => Some(int_list(v, 31)?),
        };
        // Times are the gateway's local time as "YYYY-MM-DD HH:MM:SS" (the manual's only format);
        // anything else is a malformed request.
        let time = |k: &str| match b.get(k) {
            None => Some(None),
            Some(Value::String(s)) if is_gateway_time(s) => Some(Some(s.clone())),
            Some(_) => None,
        };
        Some(Filters {
            numbers,
            user_ids,
            ports,
            after: time("time_after")?,
            before: time("time_before")?,
        })
    }

    pub(super) fn stop_sms(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let Some(task) = q.get("task_id").and_then(|t| t.parse::<u64>().ok()) else {
            return self.envelope(400, Map::new());
        };
        if !self.records.iter().any(|r| r.sms.task_id == task) {
            return self.envelope(404, Map::new());
        }
        // Stopped messages not yet sent end as FAILED (the manual does not say what they become; this
        // simulator's choice).
        for r in self
            .records
            .iter_mut()
            .filter(|r| r.sms.task_id == task && r.sms.status == "SENDING")
        {
            r.sms.status = "FAILED".into();
            r.time = now();
        }
        self.envelope(200, Map::new())
    }
}

pub(super) struct Filters {
    pub(super) numbers: Option<Vec<String>>,
    pub(super) user_ids: Option<Vec<u64>>,
    pub(super) ports: Option<Vec<u8>>,
    pub(super) after: Option<String>,
    pub(super) before: Option<String>,
}

//! The gateway's state: ports, the SMS records and their reports, incoming SMS, nonces, and the state
//! machine that moves each SMS `SENDING → SENT_OK → DELIVERED` (or `FAILED`, or a report with a
//! TP-Status).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::api::now;
use super::{SimOutcome, SimSms, SimStats};

#[derive(Debug, Clone)]
pub(super) struct SimPort {
    pub(super) reg: &'static str,
    pub(super) powered: bool,
    pub(super) blocked: bool,
    pub(super) busy: bool,
    pub(super) slot: u8,
    pub(super) imei: String,
    pub(super) imsi: String,
    pub(super) iccid: String,
    pub(super) number: String,
    pub(super) signal: u8,
    pub(super) ussd_answer: String,
    pub(super) ussd_reply: Option<String>,
    pub(super) call_forward: Map<String, Value>,
    pub(super) next_ref: u8,
}

#[derive(Debug, Clone)]
pub(super) struct Record {
    pub(super) sms: SimSms,
    pub(super) time: String,
    pub(super) ref_id: u8,
    pub(super) imsi: String,
    pub(super) succ_count: u32,
    pub(super) outcome: SimOutcome,
    /// A temporary report was given; the next step delivers.
    pub(super) temp_reported: bool,
    /// When the gateway gets round to recording the task: until then lookups do not show it.
    pub(super) recorded_at: Instant,
}

#[derive(Debug, Clone)]
pub(super) struct Report {
    pub(super) port: u8,
    pub(super) number: String,
    pub(super) time: String,
    pub(super) ref_id: u8,
    pub(super) status_code: u8,
    pub(super) imsi: String,
}

#[derive(Debug, Clone)]
pub(super) struct Incoming {
    pub(super) id: u64,
    pub(super) port: u8,
    pub(super) number: String,
    pub(super) smsc: String,
    pub(super) timestamp: String,
    pub(super) text: String,
    pub(super) read: bool,
}

pub(super) struct NonceInfo {
    pub(super) issued: Instant,
    pub(super) expired: bool,
    pub(super) seen: HashSet<u32>,
}

pub(super) struct State {
    pub(super) username: String,
    pub(super) password: String,
    pub(super) realm: String,
    pub(super) sn: String,
    pub(super) opaque: String,
    pub(super) nonce_ttl: Duration,
    pub(super) ban_after: Option<u32>,
    pub(super) count_probes: bool,
    pub(super) auto_advance: bool,
    pub(super) nonces: HashMap<String, NonceInfo>,
    pub(super) nonce_order: VecDeque<String>,
    pub(super) failures_since_success: u32,
    pub(super) banned: bool,
    pub(super) stats: SimStats,
    pub(super) ports: Vec<SimPort>,
    pub(super) rr: usize,
    pub(super) records: Vec<Record>,
    pub(super) reports: Vec<Report>,
    pub(super) next_task: u64,
    pub(super) outcomes: HashMap<String, SimOutcome>,
    pub(super) incoming: Vec<Incoming>,
    pub(super) next_incoming: u64,
    pub(super) cdrs: Vec<Value>,
    pub(super) forced: HashMap<String, VecDeque<i64>>,
    pub(super) push_url: Option<String>,
    pub(super) record_after: Duration,
    pub(super) pushed: Vec<switchboard_core::WebhookRequest>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("sn", &self.sn)
            .field("records", &self.records.len())
            .finish_non_exhaustive()
    }
}

impl State {
    /// One step of every SMS; returns (changes, sms_result items, sms_deliver_status items).
    pub(super) fn step(&mut self) -> (usize, Vec<Value>, Vec<Value>) {
        let mut changed = 0;
        let mut results = Vec::new();
        let mut new_reports = Vec::new();
        let t = now();
        let at = Instant::now();
        for r in self.records.iter_mut().filter(|r| r.recorded_at <= at) {
            match r.sms.status.as_str() {
                "SENDING" => {
                    if r.outcome == SimOutcome::FailSending {
                        r.sms.status = "FAILED".into();
                    } else {
                        r.sms.status = "SENT_OK".into();
                        r.succ_count = r.sms.count;
                    }
                    r.time = t.clone();
                    changed += 1;
                    results.push(result_push_json(r));
                }
                "SENT_OK" if r.sms.request_status_report => {
                    let code = match r.outcome {
                        SimOutcome::Deliver => Some(0),
                        SimOutcome::Undeliverable(c) if !r.temp_reported => {
                            r.temp_reported = true;
                            Some(c)
                        }
                        SimOutcome::Temporary(c) if !r.temp_reported => {
                            r.temp_reported = true;
                            Some(c)
                        }
                        SimOutcome::Temporary(_) => Some(0),
                        _ => None,
                    };
                    let Some(code) = code else { continue };
                    if code == 0 {
                        r.sms.status = "DELIVERED".into();
                        r.time = t.clone();
                        results.push(result_push_json(r));
                    }
                    changed += 1;
                    let rep = Report {
                        port: r.sms.port,
                        number: r.sms.number.clone(),
                        time: t.clone(),
                        ref_id: r.ref_id,
                        status_code: code,
                        imsi: r.imsi.clone(),
                    };
                    new_reports.push(report_json(&rep));
                    self.reports.push(rep);
                }
                _ => {}
            }
        }
        (changed, results, new_reports)
    }
}

pub(super) fn result_json(r: &Record) -> Value {
    json!({"port": r.sms.port, "user_id": r.sms.user_id, "number": r.sms.number, "time": r.time,
        "status": r.sms.status, "count": r.sms.count, "succ_count": r.succ_count, "ref_id": r.ref_id, "imsi": r.imsi})
}

/// The `sms_result` push: as the manual's example, without `user_id`.
pub(super) fn result_push_json(r: &Record) -> Value {
    let mut v = result_json(r);
    if let Value::Object(m) = &mut v {
        m.remove("user_id");
    }
    v
}

pub(super) fn report_json(r: &Report) -> Value {
    json!({"port": r.port, "number": r.number, "time": r.time, "ref_id": r.ref_id,
        "status_code": r.status_code, "imsi": r.imsi})
}

pub(super) fn incoming_json(m: &Incoming) -> Value {
    json!({"incoming_sms_id": m.id, "port": m.port, "number": m.number, "smsc": m.smsc,
        "timestamp": m.timestamp, "text": m.text})
}

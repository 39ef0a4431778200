//! The device endpoints: incoming SMS (`flag=unread` marks them read), USSD per port, port
//! information and actions, call records and `get_status`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use switchboard_core::testkit::wiremock::ResponseTemplate;

use switchboard_core::testkit::json_response;

use super::api::{int_list, obj, parse_list};
use super::state::{State, incoming_json};

impl State {
    pub(super) fn query_incoming(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let after = match q.get("incoming_sms_id") {
            None => 0,
            Some(v) => match v.parse::<u64>() {
                Ok(v) => v,
                Err(_) => return self.envelope(500, Map::new()),
            },
        };
        let ports = match q.get("port") {
            None => None,
            Some(p) => match parse_list(p) {
                Some(p) => Some(p),
                None => return self.envelope(500, Map::new()),
            },
        };
        let flag = q.get("flag").map(String::as_str).unwrap_or("unread");
        if !matches!(flag, "unread" | "read" | "all") {
            return self.envelope(500, Map::new());
        }
        let mut sms = Vec::new();
        for m in self.incoming.iter_mut().filter(|m| m.id > after) {
            if ports.as_ref().is_some_and(|p| !p.contains(&m.port)) {
                continue;
            }
            let take = match flag {
                "unread" => !m.read,
                "read" => m.read,
                _ => true,
            };
            if take {
                sms.push(incoming_json(m));
                if flag == "unread" {
                    // The pitfall: reading unread messages marks them read.
                    m.read = true;
                }
            }
        }
        let read = self.incoming.iter().filter(|m| m.read).count();
        let unread = self.incoming.len() - read;
        self.envelope(200, obj(json!({"sms": sms, "read": read, "unread": unread})))
    }

    // -- USSD -----------------------------------------------------------------------------------

    pub(super) fn send_ussd(&mut self, body: &[u8]) -> ResponseTemplate {
        let Ok(Value::Object(b)) = serde_json::from_slice::<Value>(body) else {
            return self.envelope(400, Map::new());
        };
        let Some(ports) = b.get("port").and_then(|p| int_list(p, 31)).filter(|p| !p.is_empty()) else {
            return self.envelope(400, Map::new());
        };
        // `command` and `text` are strings when present; another type is malformed, never a default.
        let (command, text) = match (b.get("command"), b.get("text")) {
            (Some(c), _) if !c.is_string() => return self.envelope(400, Map::new()),
            (_, Some(t)) if !t.is_string() => return self.envelope(400, Map::new()),
            (c, t) => (
                c.and_then(Value::as_str).unwrap_or("send"),
                t.and_then(Value::as_str).unwrap_or(""),
            ),
        };
        match command {
            "send" if text.is_empty() || text.len() > 60 => return self.envelope(400, Map::new()),
            "send" | "cancel" => {}
            _ => return self.envelope(400, Map::new()),
        }
        let mut result = Vec::new();
        for port in ports {
            let status = match self.ports.get_mut(usize::from(port)) {
                None => 503,
                Some(p) if !p.powered || p.reg != "REGISTER_OK" => 503,
                Some(p) if p.busy && command == "send" => 486,
                Some(p) => {
                    p.ussd_reply = (command == "send").then(|| p.ussd_answer.clone());
                    200
                }
            };
            result.push(json!({"port": port, "status": status}));
        }
        self.envelope(202, obj(json!({"result": result})))
    }

    pub(super) fn query_ussd_reply(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let Some(ports) = q.get("port").and_then(|p| parse_list(p)).filter(|p| !p.is_empty()) else {
            return self.envelope(400, Map::new());
        };
        let reply: Vec<Value> = ports
            .iter()
            .map(|port| {
                let text = self
                    .ports
                    .get(usize::from(*port))
                    .and_then(|p| p.ussd_reply.clone())
                    .unwrap_or_else(|| " ".to_owned());
                json!({"port": port, "text": text})
            })
            .collect();
        self.envelope(200, obj(json!({"reply": reply})))
    }

    // -- Ports ----------------------------------------------------------------------------------

    pub(super) fn get_port_info(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let Some(types) = q.get("info_type").filter(|t| !t.is_empty()) else {
            return self.envelope(400, Map::new());
        };
        let ports = match q.get("port") {
            None => (0..self.ports.len()).filter_map(|i| u8::try_from(i).ok()).collect(),
            Some(p) => match parse_list(p) {
                Some(p) => p,
                None => return self.envelope(400, Map::new()),
            },
        };
        let mut info = Vec::new();
        for port in ports {
            let Some(p) = self.ports.get(usize::from(port)) else {
                continue;
            };
            let reg = if p.powered { p.reg } else { "POWER_OFF" };
            let mut o = Map::new();
            o.insert("port".into(), json!(port));
            for t in types.split(',') {
                let v = match t.trim() {
                    "type" => json!("GSM"),
                    "imei" => json!(p.imei),
                    "imsi" => json!(p.imsi),
                    "iccid" => json!(p.iccid),
                    "number" => json!(p.number),
                    "reg" => json!(reg),
                    "slot" => json!(p.slot),
                    "callstate" => json!("Idle"),
                    "signal" => json!(if p.powered { p.signal } else { 0 }),
                    "gprs" => json!("attached"),
                    "remain_credit" | "remain_monthly_credit" | "remain_daily_credit" => json!("10.00"),
                    "remain_daily_calltime" | "remain_hourly_calltime" | "remain_daily_connect" => json!("unlimited"),
                    "CallForward" => {
                        o.insert("CallForwarding".into(), Value::Object(p.call_forward.clone()));
                        continue;
                    }
                    _ => continue,
                };
                o.insert(t.trim().to_owned(), v);
            }
            info.push(Value::Object(o));
        }
        self.envelope(200, obj(json!({"info": info})))
    }

    pub(super) fn set_port_info(&mut self, q: &HashMap<String, String>) -> ResponseTemplate {
        let Some(port) = q.get("port").and_then(|p| p.parse::<u8>().ok()) else {
            return self.envelope(400, Map::new());
        };
        let action = q.get("action").map(String::as_str).unwrap_or("");
        let param = q.get("param").map(String::as_str);
        let number = q.get("number").cloned();
        let Some(p) = self.ports.get_mut(usize::from(port)) else {
            return self.envelope(400, Map::new());
        };
        let ok = match (action, param) {
            ("slot", Some(s)) => match s.parse::<u8>() {
                Ok(s) if s <= 3 => {
                    p.slot = s;
                    true
                }
                _ => false,
            },
            ("reset", _) => {
                p.powered = true;
                p.reg = "REGISTER_OK";
                true
            }
            ("power", Some("on")) => {
                p.powered = true;
                true
            }
            ("power", Some("off")) => {
                p.powered = false;
                true
            }
            ("imei", Some(v)) if v.len() == 15 && v.chars().all(|c| c.is_ascii_digit()) => {
                p.imei = v.to_owned();
                true
            }
            ("number", Some(v)) if !v.is_empty() => {
                p.number = v.to_owned();
                true
            }
            ("lock" | "unlock", Some(v)) if !v.is_empty() => true,
            ("block", _) => {
                p.blocked = true;
                true
            }
            ("unblock", _) => {
                p.blocked = false;
                true
            }
            ("CallForward", Some("CancelAll")) => {
                p.call_forward.clear();
                true
            }
            ("CallForward", Some(c @ ("Unconditional" | "NoReply" | "Busy" | "Not_Reachable"))) => match number {
                Some(n) if !n.is_empty() => {
                    p.call_forward.insert(c.to_owned(), json!(n));
                    true
                }
                _ => false,
            },
            ("CheckCallForward", _) => true,
            _ => false,
        };
        self.envelope(if ok { 200 } else { 400 }, Map::new())
    }

    pub(super) fn get_cdr(&mut self, body: &[u8]) -> ResponseTemplate {
        let Some(f) = self.filters(body) else {
            return self.envelope(400, Map::new());
        };
        let cdr: Vec<Value> = self
            .cdrs
            .iter()
            .filter(|c| {
                let port = c.get("port").and_then(Value::as_u64).and_then(|p| u8::try_from(p).ok());
                f.ports.as_ref().is_none_or(|ps| port.is_some_and(|p| ps.contains(&p)))
            })
            .filter(|c| {
                let start = c.get("start_date").and_then(Value::as_str).unwrap_or("");
                f.after.as_deref().is_none_or(|a| start > a) && f.before.as_deref().is_none_or(|b| start < b)
            })
            .cloned()
            .collect();
        self.envelope(200, obj(json!({"cdr": cdr})))
    }

    pub(super) fn get_status(&mut self, body: &[u8]) -> ResponseTemplate {
        let wants = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .is_some_and(|a| a.iter().any(|x| x == "performance"));
        if !wants {
            return self.envelope(400, Map::new());
        }
        // The only shape seen in the field: no error_code, no sn (the manual shows no answer for it).
        json_response(
            &json!({"performance": {"cpu_used": "12", "flash_total": "27648", "flash_used": "17428",
            "memory_total": "109448", "memory_cached": "34192", "memory_buffers": "0", "memory_free": "58928",
            "memory_used": "50520"}}),
        )
    }
}

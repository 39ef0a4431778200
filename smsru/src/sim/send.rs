//! `sms/send`, `sms/cost` and `sms/status`: what is sent, priced and refused.
//!
//! SMS.ru's method page (<https://sms.ru/api/send>) documents the parameters this checks:
//!
//! * `to`: numbers as digits in international format (`79255070602`), one per recipient; the page
//!   writes them without `+`, spaces or punctuation, and the simulator accepts only that form. A
//!   number written otherwise is refused for that number with `202` ("Неправильно указан номер
//!   телефона получателя, либо на него нет маршрута"). Whether the live service tolerates a `+` is
//!   not documented; the simulator holds clients to the documented form.
//! * `ttl`: the message lifetime, 1 to 1440 minutes. The page gives the range but no code for a value
//!   outside it; the simulator refuses the request with [`TTL_REFUSAL_CODE`] (see its docs), kept
//!   here in one place.
//! * `time`: a UNIX time at most two months ahead (`208` otherwise).
//! * `ip`: the end user's IP address; a value that is not one, or a private or loopback address, is
//!   `507` ("Неверный IP-адрес пользователя или IP из частной сети").

use std::net::IpAddr;

use serde_json::{Map, Value, json};
use switchboard_core::Segmentation;
use switchboard_core::testkit::wiremock::ResponseTemplate;

use super::api::{Format, Params, digits, money, ok, text_of};
use super::state::{SimSms, State};
use crate::config::MAX_TTL_MINUTES;
use crate::model::MAX_RECIPIENTS_PER_REQUEST;

/// The code the simulator answers an `sms/send` whose `ttl` is not 1 to 1440 minutes. SMS.ru
/// documents the range but not the code it answers outside it; `208` is its code for the other
/// timing parameter given wrong (`time`), the closest documented meaning, and the simulator words it
/// for `ttl` ([`TTL_REFUSAL_TEXT`]).
pub const TTL_REFUSAL_CODE: i32 = 208;
/// The `status_text` of [`TTL_REFUSAL_CODE`] when it is about `ttl`.
pub const TTL_REFUSAL_TEXT: &str = "Параметр ttl указан неправильно";

/// The fewest and most digits a number may have (E.164 allows 15).
const NUMBER_DIGITS: std::ops::RangeInclusive<usize> = 8..=15;

/// The digits of a number written as SMS.ru documents it, `None` for any other form.
pub(super) fn documented_number(number: &str) -> Option<&str> {
    let n = number.trim();
    (NUMBER_DIGITS.contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())).then_some(n)
}

/// Whether an `ip` parameter is a public address SMS.ru accepts for its anti-fraud checks.
fn is_public_ip(s: &str) -> bool {
    match s.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => !(a.is_private() || a.is_loopback() || a.is_link_local() || a.is_unspecified()),
        Ok(IpAddr::V6(a)) => {
            let unique_local = (a.segments()[0] & 0xfe00) == 0xfc00;
            let link_local = (a.segments()[0] & 0xffc0) == 0xfe80;
            !(a.is_loopback() || a.is_unspecified() || unique_local || link_local)
        }
        Err(_) => false,
    }
}

fn recipients(p: &Params) -> Result<Vec<(String, String)>, i32> {
    let per: Vec<(String, String)> = p
        .pairs
        .iter()
        .filter_map(|(k, v)| {
            let n = k
                .strip_prefix("to[")
                .or_else(|| k.strip_prefix("multi["))?
                .strip_suffix(']')?;
            Some((n.to_owned(), v.clone()))
        })
        .collect();
    if !per.is_empty() {
        return Ok(per);
    }
    let to: Vec<String> = p
        .get("to")
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if to.is_empty() {
        return Err(202);
    }
    let msg = p.get("msg").unwrap_or("");
    if msg.trim().is_empty() {
        return Err(203);
    }
    Ok(to.into_iter().map(|n| (n, msg.to_owned())).collect())
}

/// Why one number cannot be sent to, if it cannot.
pub(super) fn refusal(st: &State, number: &str, text: &str) -> Option<i32> {
    let Some(d) = documented_number(number) else {
        return Some(202);
    };
    if let Some(code) = st.refusals.get(d) {
        return Some(*code);
    }
    if st.stoplist.contains_key(d) {
        return Some(209);
    }
    if text.trim().is_empty() {
        return Some(203);
    }
    if Segmentation::of(text).segments > 8 {
        return Some(205);
    }
    None
}

pub(super) fn send(st: &mut State, p: &Params, fmt: Format, cost_only: bool) -> ResponseTemplate {
    let list = match recipients(p) {
        Ok(l) => l,
        Err(code) => return fmt.error(code),
    };
    if list.len() > 5000 {
        return fmt.error(213);
    }
    if list.len() > MAX_RECIPIENTS_PER_REQUEST {
        return fmt.answer(
            json!({"status": "ERROR", "status_code": 207, "status_text": "Указано более 100 номеров в списке получателей"}),
            "207".into(),
        );
    }
    let from = match p.get("from") {
        Some(f) if st.senders.iter().any(|s| s == f) => f.to_owned(),
        Some(_) => return fmt.error(204),
        None => st.senders.first().cloned().unwrap_or_default(),
    };
    if let Some(t) = p.get("time") {
        let limit = chrono::Utc::now().timestamp() + 61 * 86_400;
        match t.trim().parse::<i64>() {
            Ok(secs) if secs <= limit => {}
            _ => return fmt.error(208),
        }
    }
    if !cost_only {
        if let Some(ttl) = p.get("ttl")
            && !ttl
                .trim()
                .parse::<u16>()
                .is_ok_and(|m| (1..=MAX_TTL_MINUTES).contains(&m))
        {
            return fmt.answer(
                json!({"status": "ERROR", "status_code": TTL_REFUSAL_CODE, "status_text": TTL_REFUSAL_TEXT}),
                TTL_REFUSAL_CODE.to_string(),
            );
        }
        if p.get("ip").is_some_and(|ip| !is_public_ip(ip)) {
            return fmt.error(507);
        }
    }
    let test = p.get("test") == Some("1");
    let price = st.price_per_part;
    // Price every number first: a request the balance cannot cover is refused as a whole.
    let priced: Vec<(String, String, Result<u32, i32>)> = list
        .into_iter()
        .map(|(n, text)| {
            let r = match refusal(st, &n, &text) {
                Some(code) => Err(code),
                None => Ok(u32::try_from(Segmentation::of(&text).segments).unwrap_or(u32::MAX)),
            };
            (n, text, r)
        })
        .collect();
    let total_parts: i64 = priced
        .iter()
        .filter_map(|(_, _, r)| r.as_ref().ok())
        .map(|p| i64::from(*p))
        .sum();
    let total = total_parts * price;

    let mut sms = Map::new();
    let mut lines = vec!["100".to_owned()];
    if cost_only {
        for (n, _, r) in &priced {
            let entry = match r {
                Ok(parts) => {
                    json!({"status": "OK", "status_code": 100, "cost": money(i64::from(*parts) * price), "sms": parts})
                }
                Err(code) => json!({"status": "ERROR", "status_code": code, "status_text": text_of(*code)}),
            };
            sms.insert(digits(n), entry);
        }
        let mut m = ok();
        m.insert("sms".into(), Value::Object(sms));
        m.insert("total_cost".into(), money(total));
        m.insert("total_sms".into(), json!(total_parts));
        return fmt.answer(
            Value::Object(m),
            format!("100\n{:.2}\n{total_parts}", total as f64 / 100.0),
        );
    }
    if !test && total > st.balance {
        return fmt.error(201);
    }
    for (n, text, r) in priced {
        let d = digits(&n);
        let entry = match r {
            Ok(parts) => {
                let id = st.new_id();
                let cost = if test { 0 } else { i64::from(parts) * price };
                st.balance -= cost;
                st.messages.insert(
                    id.clone(),
                    SimSms {
                        sms_id: id.clone(),
                        to: d.clone(),
                        text,
                        from: from.clone(),
                        status_code: 100,
                        history: vec![100],
                        parts,
                        cost_kopecks: cost,
                        test,
                    },
                );
                lines.push(id.clone());
                json!({"status": "OK", "status_code": 100, "sms_id": id})
            }
            Err(code) => {
                lines.push(code.to_string());
                json!({"status": "ERROR", "status_code": code, "status_text": text_of(code)})
            }
        };
        sms.insert(d, entry);
    }
    lines.push(format!("balance={:.2}", st.balance as f64 / 100.0));
    let mut m = ok();
    m.insert("sms".into(), Value::Object(sms));
    m.insert("balance".into(), money(st.balance));
    fmt.answer(Value::Object(m), lines.join("\n"))
}

pub(super) fn status(st: &State, p: &Params, fmt: Format) -> ResponseTemplate {
    let ids: Vec<&str> = p
        .get("sms_id")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return fmt.error(-1);
    }
    let mut sms = Map::new();
    let mut lines = vec!["100".to_owned()];
    for id in ids {
        let entry = match st.messages.get(id) {
            Some(m) => {
                lines.push(m.status_code.to_string());
                json!({"status": "OK", "status_code": m.status_code, "status_text": text_of(m.status_code),
                       "cost": money(m.cost_kopecks), "sms": m.parts})
            }
            None => {
                lines.push("-1".into());
                json!({"status": "ERROR", "status_code": -1, "status_text": text_of(-1)})
            }
        };
        sms.insert(id.to_owned(), entry);
    }
    let mut m = ok();
    m.insert("sms".into(), Value::Object(sms));
    m.insert("balance".into(), money(st.balance));
    fmt.answer(Value::Object(m), lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_only_in_the_documented_form() {
        let st = State::new();
        assert_eq!(refusal(&st, "79255070602", "hi"), None);
        assert_eq!(refusal(&st, " 79255070602 ", "hi"), None);
        for bad in [
            "+79255070602",
            "+7 (925) 507-06-02",
            "7925-507-06-02",
            "12345",
            "7925507060x",
            "",
        ] {
            assert_eq!(refusal(&st, bad, "hi"), Some(202), "{bad}");
        }
        assert_eq!(refusal(&st, "79255070602", &"x".repeat(153 * 8 + 1)), Some(205));
    }

    #[test]
    fn end_user_ips() {
        for good in ["8.8.8.8", "2a00:1450:4010:c05::8a"] {
            assert!(is_public_ip(good), "{good}");
        }
        for bad in [
            "192.168.1.2",
            "10.0.0.1",
            "127.0.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "host",
            "",
        ] {
            assert!(!is_public_ip(bad), "{bad}");
        }
    }
}

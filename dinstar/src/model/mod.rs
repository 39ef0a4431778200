//! Request and response types exactly as the gateway's HTTP API has them (Dinstar, "Instructions for
//! Using HTTP API", the request and response sections of each operation).
//!
//! Every answer type keeps the fields this client does not know in `extra`, so nothing a firmware
//! version adds is lost. Integers are read leniently (a number or a numeric string), because clients
//! and firmware disagree on `"port":"1"` vs `"port":1`; times stay the gateway's local-time strings
//! (`"YYYY-MM-DD HH:MM:SS"`), with [`parse_gateway_time`] to turn them into UTC.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use switchboard_core::{DeliveryStatus, Segmentation};

/// A gateway port (0–31).
pub type Port = u8;

/// The highest port number a gateway has.
pub const MAX_PORT: Port = 31;
/// Recipients per `send_sms` request.
pub const MAX_RECIPIENTS_PER_SEND: usize = 128;
/// Bytes of `text` per `send_sms` request.
pub const MAX_TEXT_BYTES: usize = 1500;
/// Numbers (and, by this client's choice, user ids) per result/delivery query.
pub const MAX_NUMBERS_PER_QUERY: usize = 32;
/// Bytes of USSD text.
pub const MAX_USSD_BYTES: usize = 60;
/// Bytes of one number.
pub const MAX_NUMBER_BYTES: usize = 24;

mod device;
mod sms;

pub use device::*;
pub use sms::*;

/// Parses a gateway time (`"YYYY-MM-DD HH:MM:SS"`, the gateway's local time) into UTC, given the
/// gateway's offset from UTC. `None` for anything else.
pub fn parse_gateway_time(s: &str, offset: FixedOffset) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Formats a UTC time as the gateway's local time (for `time_after`/`time_before`).
pub fn format_gateway_time(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Masks a digit string for Debug output: first two and last two digits.
pub(crate) fn mask_digits(s: &str) -> String {
    let n = s.chars().count();
    if n <= 4 {
        return "*".repeat(n);
    }
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < 2 || i >= n - 2 { c } else { '*' })
        .collect()
}

/// Integers read leniently (a number or a numeric string; `null` where optional): core's readers.
pub(crate) use switchboard_core::serde_util::lenient;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn send_request_matches_the_manual() {
        let r = SendSmsRequest {
            text: "#param#".into(),
            param: vec![SmsParam {
                number: "10086".into(),
                text_param: vec!["bj".into()],
                user_id: 1,
            }],
            port: Some(vec![2, 3]),
            encoding: Some(SmsEncoding::Unicode),
            request_status_report: Some(true),
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"text":"#param#","port":[2,3],"encoding":"unicode","request_status_report":true,
                   "param":[{"number":"10086","text_param":["bj"],"user_id":1}]})
        );
        assert!(!format!("{r:?}").contains("10086"));
    }

    #[test]
    fn results_read_leniently_and_keep_unknown_fields() {
        let r: SmsResultResponse = serde_json::from_value(json!({"error_code":200,"sn":"a-b","result":[
            {"port":"0","user_id":1,"number":"12351","time":"2014-12-21 12:06:01","status":"SENT_OK",
             "count":3,"succ_count":3,"ref_id":12,"imsi":"460004642148063","future":true}]}))
        .unwrap();
        let x = &r.result[0];
        assert_eq!(
            (x.port, x.user_id, x.status.clone()),
            (Some(0), Some(1), SmsStatus::SentOk)
        );
        assert_eq!(x.extra.get("future"), Some(&json!(true)));
        let empty: SmsResultResponse = serde_json::from_value(json!({"error_code":200,"result":null})).unwrap();
        assert!(empty.result.is_empty());
        let odd: SmsResult = serde_json::from_value(json!({"number":"1","status":"QUEUED"})).unwrap();
        assert_eq!(odd.status.delivery_status(), DeliveryStatus::Unknown);
        assert!(serde_json::from_value::<SmsResult>(json!({"port":"x","status":"FAILED"})).is_err());
        assert!(serde_json::from_value::<SmsResult>(json!({"port":999,"status":"FAILED"})).is_err());
    }

    #[test]
    fn tp_status_classes() {
        assert_eq!(DeliveryCode::delivery_status(0), DeliveryStatus::Delivered);
        assert_eq!(DeliveryCode::delivery_status(32), DeliveryStatus::Sent);
        assert_eq!(DeliveryCode::delivery_status(63), DeliveryStatus::Sent);
        assert_eq!(DeliveryCode::delivery_status(64), DeliveryStatus::Failed);
        assert_eq!(DeliveryCode::delivery_status(0x46), DeliveryStatus::Expired);
        assert_eq!(DeliveryCode::delivery_status(255), DeliveryStatus::Failed);
    }

    #[test]
    fn gateway_times() {
        let plus3 = FixedOffset::east_opt(3 * 3600).unwrap();
        let t = parse_gateway_time("2016-07-12 15:46:18", plus3).unwrap();
        assert_eq!(t.to_rfc3339(), "2016-07-12T12:46:18+00:00");
        assert_eq!(format_gateway_time(t, plus3), "2016-07-12 15:46:18");
        assert!(parse_gateway_time("yesterday", plus3).is_none());
    }

    #[test]
    fn port_actions() {
        let q = PortAction::CallForward {
            condition: CallForwardCondition::NotReachable,
            number: "123".into(),
        }
        .query();
        assert_eq!(
            q,
            vec![
                ("action", "CallForward".to_owned()),
                ("param", "Not_Reachable".to_owned()),
                ("number", "123".to_owned())
            ]
        );
        assert!(!format!("{:?}", PortAction::Unlock("1234".into())).contains("1234"));
        assert_eq!(PortAction::Power(false).query()[1].1, "off");
    }

    #[test]
    fn encodings() {
        assert_eq!(SmsEncoding::for_text("Hello {there}"), SmsEncoding::Gsm7Bit);
        assert_eq!(SmsEncoding::for_text("مرحبا"), SmsEncoding::Unicode);
        assert_eq!("gsm-7bit".parse::<SmsEncoding>().unwrap(), SmsEncoding::Gsm7Bit);
        assert_eq!(mask_digits("355694123456"), "35********56");
    }
}

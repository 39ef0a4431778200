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

// ---------------------------------------------------------------------------------------------
// send_sms

/// How the gateway encodes the text (`encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SmsEncoding {
    /// `"unicode"` (UCS-2): any text. The gateway's default.
    #[serde(rename = "unicode")]
    Unicode,
    /// `"gsm-7bit"`: only the GSM 03.38 alphabet, more characters per part.
    #[serde(rename = "gsm-7bit")]
    Gsm7Bit,
}

impl SmsEncoding {
    /// The encoding a text needs by its segmentation: GSM-7 when every character is in the GSM
    /// alphabet, unicode otherwise (sending Arabic or Cyrillic as `gsm-7bit` arrives as `?????`).
    pub fn for_text(text: &str) -> Self {
        match Segmentation::of(text).encoding {
            switchboard_core::Encoding::Gsm7 => SmsEncoding::Gsm7Bit,
            _ => SmsEncoding::Unicode,
        }
    }

    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            SmsEncoding::Unicode => "unicode",
            SmsEncoding::Gsm7Bit => "gsm-7bit",
        }
    }

    /// The core encoding this stands for.
    pub fn core(self) -> switchboard_core::Encoding {
        match self {
            SmsEncoding::Unicode => switchboard_core::Encoding::Ucs2,
            SmsEncoding::Gsm7Bit => switchboard_core::Encoding::Gsm7,
        }
    }
}

impl std::str::FromStr for SmsEncoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "unicode" | "ucs2" | "ucs-2" => Ok(SmsEncoding::Unicode),
            "gsm-7bit" | "gsm7" | "gsm-7" | "gsm" => Ok(SmsEncoding::Gsm7Bit),
            _ => Err(format!("unknown encoding '{}'", s.escape_debug())),
        }
    }
}

/// One recipient of a `send_sms` request (`param[]`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsParam {
    /// The number, digits only (≤ 24 bytes).
    pub number: String,
    /// Values for the text's `#param#` placeholders, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_param: Vec<String>,
    /// The caller's id for this SMS, the key of `query_sms_result`.
    pub user_id: u32,
}

/// Numbers are personal data: Debug shows only their length.
impl fmt::Debug for SmsParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsParam")
            .field("number", &format_args!("<{} digits>", self.number.len()))
            .field("text_param", &self.text_param.len())
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// The body of `POST /api/send_sms`. `port` and `encoding` are top-level keys (one client puts them
/// inside `param[]`, which the gateway ignores).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SendSmsRequest {
    /// The text; `#param#` is replaced by each recipient's `text_param`, in order.
    pub text: String,
    /// The recipients (≤ 128).
    pub param: Vec<SmsParam>,
    /// Ports to send from; absent lets the gateway choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Vec<Port>>,
    /// The encoding; absent means the gateway's default (unicode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<SmsEncoding>,
    /// Whether to ask the network for delivery reports (gateway default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_status_report: Option<bool>,
}

/// Debug leaves the text out (private correspondence).
impl fmt::Debug for SendSmsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSmsRequest")
            .field("text_bytes", &self.text.len())
            .field("param", &self.param)
            .field("port", &self.port)
            .field("encoding", &self.encoding)
            .field("request_status_report", &self.request_status_report)
            .finish()
    }
}

/// The answer to `send_sms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendSmsResponse {
    /// 202 (accepted); errors never reach this type.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// Messages waiting in the gateway's queue after this one.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub sms_in_queue: Option<u64>,
    /// The task id, for `stop_sms`.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub task_id: Option<u64>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// query_sms_result / query_sms_deliver_status

/// Filters of `POST /api/query_sms_result` (all optional; at most 32 numbers).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsResultQuery {
    /// Recipient numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<Vec<String>>,
    /// Ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Vec<Port>>,
    /// Only results after this gateway-local time (`YYYY-MM-DD HH:MM:SS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_after: Option<String>,
    /// Only results before this gateway-local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_before: Option<String>,
    /// The caller's ids (the recommended key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Vec<u32>>,
}

impl fmt::Debug for SmsResultQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsResultQuery")
            .field("numbers", &self.number.as_ref().map(Vec::len))
            .field("port", &self.port)
            .field("time_after", &self.time_after)
            .field("time_before", &self.time_before)
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// The sending state of one SMS in `query_sms_result` and the `sms_result` push.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SmsStatus {
    /// `SENDING`: queued or being transmitted by the module.
    Sending,
    /// `SENT_OK`: the network took every part.
    SentOk,
    /// `DELIVERED`: the handset confirmed (status report).
    Delivered,
    /// `FAILED`: the module could not send it.
    Failed,
    /// A word this client does not know, kept.
    Other(String),
}

impl SmsStatus {
    /// The wire word.
    pub fn as_str(&self) -> &str {
        match self {
            SmsStatus::Sending => "SENDING",
            SmsStatus::SentOk => "SENT_OK",
            SmsStatus::Delivered => "DELIVERED",
            SmsStatus::Failed => "FAILED",
            SmsStatus::Other(s) => s,
        }
    }

    /// The normalised status. `SENDING` is `Queued` (the gateway holds it; it may still be
    /// waiting for a free port), `SENT_OK` is `Sent`.
    pub fn delivery_status(&self) -> DeliveryStatus {
        match self {
            SmsStatus::Sending => DeliveryStatus::Queued,
            SmsStatus::SentOk => DeliveryStatus::Sent,
            SmsStatus::Delivered => DeliveryStatus::Delivered,
            SmsStatus::Failed => DeliveryStatus::Failed,
            SmsStatus::Other(_) => DeliveryStatus::Unknown,
        }
    }
}

/// An absent status reads as an empty unknown word.
impl Default for SmsStatus {
    fn default() -> Self {
        SmsStatus::Other(String::new())
    }
}

impl From<String> for SmsStatus {
    fn from(s: String) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "SENDING" => SmsStatus::Sending,
            "SENT_OK" => SmsStatus::SentOk,
            "DELIVERED" => SmsStatus::Delivered,
            "FAILED" => SmsStatus::Failed,
            _ => SmsStatus::Other(s),
        }
    }
}

impl Serialize for SmsStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SmsStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SmsStatus::from)
    }
}

impl fmt::Display for SmsStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One record of `query_sms_result` (and of the `sms_result` push, which may lack `user_id`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SmsResult {
    /// The port it went out on.
    #[serde(default, deserialize_with = "lenient::opt_u8")]
    pub port: Option<Port>,
    /// The caller's id.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub user_id: Option<u32>,
    /// The recipient number as the gateway has it.
    #[serde(default)]
    pub number: String,
    /// Gateway-local time of the last change.
    #[serde(default)]
    pub time: Option<String>,
    /// The sending state.
    #[serde(default)]
    pub status: SmsStatus,
    /// Parts in the SMS.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub count: Option<u32>,
    /// Parts sent successfully.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub succ_count: Option<u32>,
    /// The first part's reference (0–255); with number, port and time it matches a delivery status.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub ref_id: Option<u32>,
    /// The sending SIM's IMSI.
    #[serde(default)]
    pub imsi: Option<String>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for SmsResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsResult")
            .field("port", &self.port)
            .field("user_id", &self.user_id)
            .field("number", &mask_digits(&self.number))
            .field("time", &self.time)
            .field("status", &self.status)
            .field("count", &self.count)
            .field("succ_count", &self.succ_count)
            .field("ref_id", &self.ref_id)
            .finish_non_exhaustive()
    }
}

/// The answer to `query_sms_result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmsResultResponse {
    /// 200.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// The records found.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub result: Vec<SmsResult>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Filters of `POST /api/query_sms_deliver_status` (no `user_id` here; at most 32 numbers).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverStatusQuery {
    /// Recipient numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<Vec<String>>,
    /// Ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Vec<Port>>,
    /// Only reports after this gateway-local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_after: Option<String>,
    /// Only reports before this gateway-local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_before: Option<String>,
}

impl fmt::Debug for DeliverStatusQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliverStatusQuery")
            .field("numbers", &self.number.as_ref().map(Vec::len))
            .field("port", &self.port)
            .field("time_after", &self.time_after)
            .field("time_before", &self.time_before)
            .finish()
    }
}

/// What a delivery report's TP-Status (`status_code`, 3GPP TS 23.040 §9.2.3.15) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryCode {
    /// 0–31: the transaction completed (0 = received by the handset).
    Completed,
    /// 32–63: a temporary error; the service centre is still trying.
    Temporary,
    /// 64–255: a permanent error (or a temporary one the centre gave up on).
    Permanent,
}

impl DeliveryCode {
    /// Classifies a TP-Status value.
    pub fn of(status_code: u32) -> Self {
        match status_code {
            0..=31 => DeliveryCode::Completed,
            32..=63 => DeliveryCode::Temporary,
            _ => DeliveryCode::Permanent,
        }
    }

    /// The normalised status of a TP-Status value: delivered, still pending (`Sent`), expired
    /// (0x46, validity period over) or failed.
    pub fn delivery_status(status_code: u32) -> DeliveryStatus {
        match Self::of(status_code) {
            DeliveryCode::Completed => DeliveryStatus::Delivered,
            DeliveryCode::Temporary => DeliveryStatus::Sent,
            DeliveryCode::Permanent if status_code == 0x46 => DeliveryStatus::Expired,
            DeliveryCode::Permanent => DeliveryStatus::Failed,
        }
    }
}

/// One record of `query_sms_deliver_status` and of the `sms_deliver_status` push.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverStatus {
    /// The port the SMS went out on.
    #[serde(default, deserialize_with = "lenient::opt_u8")]
    pub port: Option<Port>,
    /// The recipient number.
    #[serde(default)]
    pub number: String,
    /// Gateway-local time of the report.
    #[serde(default)]
    pub time: Option<String>,
    /// The first part's reference, as in [`SmsResult::ref_id`].
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub ref_id: Option<u32>,
    /// TP-Status: 0 received, 32–63 temporary error, 64–255 permanent error.
    #[serde(deserialize_with = "lenient::u32")]
    pub status_code: u32,
    /// The sending SIM's IMSI.
    #[serde(default)]
    pub imsi: Option<String>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DeliverStatus {
    /// The normalised status of this report.
    pub fn delivery_status(&self) -> DeliveryStatus {
        DeliveryCode::delivery_status(self.status_code)
    }
}

impl fmt::Debug for DeliverStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliverStatus")
            .field("port", &self.port)
            .field("number", &mask_digits(&self.number))
            .field("time", &self.time)
            .field("ref_id", &self.ref_id)
            .field("status_code", &self.status_code)
            .finish_non_exhaustive()
    }
}

/// The answer to `query_sms_deliver_status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverStatusResponse {
    /// 200.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// The reports found.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub result: Vec<DeliverStatus>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// query_incoming_sms / query_sms_in_queue

/// Which incoming messages `query_incoming_sms` returns.
///
/// `unread` (the gateway's default) is deliberately missing: it **marks the messages read**, so a
/// client that crashes after the request loses them for good. Poll with [`IncomingFlag::All`] and a
/// high-water mark instead (what [`IncomingPoller`](crate::IncomingPoller) does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IncomingFlag {
    /// Every message, read or not; does not change anything on the gateway.
    #[default]
    All,
    /// Only messages already read.
    Read,
}

impl IncomingFlag {
    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            IncomingFlag::All => "all",
            IncomingFlag::Read => "read",
        }
    }
}

/// Parameters of `GET /api/query_incoming_sms`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncomingSmsQuery {
    /// Only messages with an id greater than this.
    pub incoming_sms_id: u64,
    /// Which messages.
    pub flag: IncomingFlag,
    /// Only these ports (all when empty).
    pub ports: Vec<Port>,
}

/// One received SMS (`sms[]`, also in the `sms` push).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingSms {
    /// The gateway's id, increasing; the high-water mark of polling.
    #[serde(deserialize_with = "lenient::u64")]
    pub incoming_sms_id: u64,
    /// The port it came in on.
    #[serde(default, deserialize_with = "lenient::opt_u8")]
    pub port: Option<Port>,
    /// The sender, as the network gave it (may be a short code or alphanumeric).
    #[serde(default)]
    pub number: String,
    /// The service centre.
    #[serde(default)]
    pub smsc: Option<String>,
    /// Gateway-local time of reception.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// The text.
    #[serde(default)]
    pub text: String,
    /// Fields this client does not know (`imsi` on some firmware).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for IncomingSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncomingSms")
            .field("incoming_sms_id", &self.incoming_sms_id)
            .field("port", &self.port)
            .field("number", &mask_digits(&self.number))
            .field("timestamp", &self.timestamp)
            .field("text_chars", &self.text.chars().count())
            .finish_non_exhaustive()
    }
}

/// The answer to `query_incoming_sms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingSmsResponse {
    /// 200.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// The messages.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub sms: Vec<IncomingSms>,
    /// How many messages are read.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub read: Option<u64>,
    /// How many are unread.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub unread: Option<u64>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer to `query_sms_in_queue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InQueueResponse {
    /// 200.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// Messages waiting to be sent.
    #[serde(default, deserialize_with = "lenient::u64_or_default")]
    pub in_queue: u64,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A bare envelope (`stop_sms`, `set_port_info`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// 200.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// USSD

/// `command` of `send_ussd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UssdCommand {
    /// Send the text.
    Send,
    /// Cancel the USSD session.
    Cancel,
}

/// The body of `POST /api/send_ussd`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UssdRequest {
    /// Ports to send on (required).
    pub port: Vec<Port>,
    /// `send` or `cancel`.
    pub command: UssdCommand,
    /// The USSD string (≤ 60 bytes; required for `send`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One port's outcome of `send_ussd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UssdPortResult {
    /// The port.
    #[serde(deserialize_with = "lenient::u8")]
    pub port: Port,
    /// 200 sent, 486 busy, 503 not registered.
    #[serde(deserialize_with = "lenient::u16")]
    pub status: u16,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UssdPortResult {
    /// The typed status.
    pub fn port_status(&self) -> crate::UssdPortStatus {
        crate::UssdPortStatus::from_code(self.status)
    }
}

/// The answer to `send_ussd`: 202 for the envelope, and one status per port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UssdResponse {
    /// 202.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// Per-port outcome.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub result: Vec<UssdPortResult>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UssdResponse {
    /// The ports the request went out on.
    pub fn sent_ports(&self) -> Vec<Port> {
        self.result
            .iter()
            .filter(|r| r.port_status() == crate::UssdPortStatus::Sent)
            .map(|r| r.port)
            .collect()
    }
}

/// One port's USSD reply (`reply[]`, also the `ussd` push).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UssdReply {
    /// The port.
    #[serde(deserialize_with = "lenient::u8")]
    pub port: Port,
    /// The network's reply; empty or `" "` means nothing yet.
    #[serde(default)]
    pub text: String,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UssdReply {
    /// The reply, or `None` when nothing came yet.
    pub fn text(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(self.text.as_str())
    }
}

/// The answer to `query_ussd_reply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UssdReplyResponse {
    /// 200.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// One entry per port asked.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub reply: Vec<UssdReply>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// Ports

/// What `get_port_info` should report (`info_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InfoType {
    /// `type`: GSM, CDMA, WCDMA, LTE.
    Type,
    /// `imei`.
    Imei,
    /// `imsi`.
    Imsi,
    /// `iccid`.
    Iccid,
    /// `number`: the SIM's own number, when set.
    Number,
    /// `reg`: registration state.
    Reg,
    /// `slot`: the active SIM slot (255 on single-SIM units).
    Slot,
    /// `callstate`.
    CallState,
    /// `signal`: 0–31.
    Signal,
    /// `gprs`: attached or detached.
    Gprs,
    /// `remain_credit`.
    RemainCredit,
    /// `remain_monthly_credit`.
    RemainMonthlyCredit,
    /// `remain_daily_credit`.
    RemainDailyCredit,
    /// `remain_daily_calltime`.
    RemainDailyCalltime,
    /// `remain_hourly_calltime`.
    RemainHourlyCalltime,
    /// `remain_daily_connect`.
    RemainDailyConnect,
    /// `CallForward`: the call-forwarding settings.
    CallForward,
}

impl InfoType {
    /// Every documented info type except `CallForward` (which makes the module query the network).
    pub const ALL: [InfoType; 16] = [
        InfoType::Type,
        InfoType::Imei,
        InfoType::Imsi,
        InfoType::Iccid,
        InfoType::Number,
        InfoType::Reg,
        InfoType::Slot,
        InfoType::CallState,
        InfoType::Signal,
        InfoType::Gprs,
        InfoType::RemainCredit,
        InfoType::RemainMonthlyCredit,
        InfoType::RemainDailyCredit,
        InfoType::RemainDailyCalltime,
        InfoType::RemainHourlyCalltime,
        InfoType::RemainDailyConnect,
    ];

    /// The wire word (the manual's spelling, not one client's `remain_daily_call_time`).
    pub fn as_str(self) -> &'static str {
        match self {
            InfoType::Type => "type",
            InfoType::Imei => "imei",
            InfoType::Imsi => "imsi",
            InfoType::Iccid => "iccid",
            InfoType::Number => "number",
            InfoType::Reg => "reg",
            InfoType::Slot => "slot",
            InfoType::CallState => "callstate",
            InfoType::Signal => "signal",
            InfoType::Gprs => "gprs",
            InfoType::RemainCredit => "remain_credit",
            InfoType::RemainMonthlyCredit => "remain_monthly_credit",
            InfoType::RemainDailyCredit => "remain_daily_credit",
            InfoType::RemainDailyCalltime => "remain_daily_calltime",
            InfoType::RemainHourlyCalltime => "remain_hourly_calltime",
            InfoType::RemainDailyConnect => "remain_daily_connect",
            InfoType::CallForward => "CallForward",
        }
    }
}

/// A port's registration state (`reg`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegState {
    /// `POWER_OFF`.
    PowerOff,
    /// `NO_SIM`.
    NoSim,
    /// `PIN_REQUIRE`.
    PinRequired,
    /// `PUK_REQUIRE`.
    PukRequired,
    /// `UNREGISTER`.
    Unregistered,
    /// `SEARCHING_NETWORK`.
    Searching,
    /// `REGISTER_OK`: the port can send.
    Registered,
    /// `UNKNOWN` or a word this client does not know, kept.
    Other(String),
}

impl RegState {
    /// The wire word.
    pub fn as_str(&self) -> &str {
        match self {
            RegState::PowerOff => "POWER_OFF",
            RegState::NoSim => "NO_SIM",
            RegState::PinRequired => "PIN_REQUIRE",
            RegState::PukRequired => "PUK_REQUIRE",
            RegState::Unregistered => "UNREGISTER",
            RegState::Searching => "SEARCHING_NETWORK",
            RegState::Registered => "REGISTER_OK",
            RegState::Other(s) => s,
        }
    }

    /// Whether the port can send.
    pub fn is_registered(&self) -> bool {
        *self == RegState::Registered
    }
}

impl From<String> for RegState {
    fn from(s: String) -> Self {
        match s.as_str() {
            "POWER_OFF" => RegState::PowerOff,
            "NO_SIM" => RegState::NoSim,
            "PIN_REQUIRE" => RegState::PinRequired,
            "PUK_REQUIRE" => RegState::PukRequired,
            "UNREGISTER" => RegState::Unregistered,
            "SEARCHING_NETWORK" => RegState::Searching,
            "REGISTER_OK" => RegState::Registered,
            _ => RegState::Other(s),
        }
    }
}

impl Serialize for RegState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RegState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(RegState::from)
    }
}

/// One port of `get_port_info` (`info[]`). Only the fields asked for are present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortInfo {
    /// The port.
    #[serde(deserialize_with = "lenient::u8")]
    pub port: Port,
    /// GSM, CDMA, WCDMA, LTE or UNKNOWN.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The module's IMEI.
    #[serde(default)]
    pub imei: Option<String>,
    /// The SIM's IMSI.
    #[serde(default)]
    pub imsi: Option<String>,
    /// The SIM's ICCID.
    #[serde(default)]
    pub iccid: Option<String>,
    /// The SIM's own number, when configured.
    #[serde(default)]
    pub number: Option<String>,
    /// The registration state.
    #[serde(default)]
    pub reg: Option<RegState>,
    /// The active slot (0–3; 255 on single-SIM units).
    #[serde(default, deserialize_with = "lenient::opt_u8")]
    pub slot: Option<u8>,
    /// Idle, Processing, Ringing, Active, Alerting, Call Waiting, Call holding, Unknown.
    #[serde(default)]
    pub callstate: Option<String>,
    /// Signal strength 0–31.
    #[serde(default, deserialize_with = "lenient::opt_u8")]
    pub signal: Option<u8>,
    /// attached / detached.
    #[serde(default)]
    pub gprs: Option<String>,
    /// Remaining credit.
    #[serde(default)]
    pub remain_credit: Option<String>,
    /// Remaining monthly credit.
    #[serde(default)]
    pub remain_monthly_credit: Option<String>,
    /// Remaining daily credit.
    #[serde(default)]
    pub remain_daily_credit: Option<String>,
    /// Remaining daily call time.
    #[serde(default)]
    pub remain_daily_calltime: Option<String>,
    /// Remaining hourly call time.
    #[serde(default)]
    pub remain_hourly_calltime: Option<String>,
    /// Remaining daily connections.
    #[serde(default)]
    pub remain_daily_connect: Option<String>,
    /// Call forwarding, keyed Unconditional / NoReply / Busy / Not_Reachable.
    #[serde(default, rename = "CallForwarding")]
    pub call_forwarding: Option<Value>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer to `get_port_info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortInfoResponse {
    /// 200.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// One entry per port.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub info: Vec<PortInfo>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The condition of a call-forwarding setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallForwardCondition {
    /// Always.
    Unconditional,
    /// When not answered.
    NoReply,
    /// When busy.
    Busy,
    /// When not reachable.
    NotReachable,
}

impl CallForwardCondition {
    /// The wire word.
    pub fn as_str(self) -> &'static str {
        match self {
            CallForwardCondition::Unconditional => "Unconditional",
            CallForwardCondition::NoReply => "NoReply",
            CallForwardCondition::Busy => "Busy",
            CallForwardCondition::NotReachable => "Not_Reachable",
        }
    }
}

/// What `set_port_info` does to a port (`action` and `param`).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortAction {
    /// Switch to SIM slot 0–3.
    Slot(u8),
    /// Reset the module.
    Reset,
    /// Power the module on or off.
    Power(bool),
    /// Set the module's IMEI.
    Imei(String),
    /// Set the SIM's own number.
    Number(String),
    /// Lock the SIM with a PIN.
    Lock(String),
    /// Unlock the SIM with its PIN.
    Unlock(String),
    /// Block the port (no sending).
    Block,
    /// Unblock the port.
    Unblock,
    /// Forward calls to `number` on `condition`.
    CallForward {
        /// When to forward.
        condition: CallForwardCondition,
        /// Where to.
        number: String,
    },
    /// Cancel every call forwarding.
    CancelCallForward,
    /// Ask the network for the forwarding settings (read them with `get_port_info` + `CallForward`).
    CheckCallForward,
}

impl PortAction {
    /// The query parameters after `port=`: `action`, then `param` and `number` when the action has them.
    pub(crate) fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![("action", self.action().to_owned())];
        match self {
            PortAction::Slot(s) => q.push(("param", s.to_string())),
            PortAction::Power(on) => q.push(("param", if *on { "on" } else { "off" }.to_owned())),
            PortAction::Imei(v) | PortAction::Number(v) | PortAction::Lock(v) | PortAction::Unlock(v) => {
                q.push(("param", v.clone()))
            }
            PortAction::CallForward { condition, number } => {
                q.push(("param", condition.as_str().to_owned()));
                q.push(("number", number.clone()));
            }
            PortAction::CancelCallForward => q.push(("param", "CancelAll".to_owned())),
            PortAction::Reset | PortAction::Block | PortAction::Unblock | PortAction::CheckCallForward => {}
        }
        q
    }

    /// The wire `action`.
    pub fn action(&self) -> &'static str {
        match self {
            PortAction::Slot(_) => "slot",
            PortAction::Reset => "reset",
            PortAction::Power(_) => "power",
            PortAction::Imei(_) => "imei",
            PortAction::Number(_) => "number",
            PortAction::Lock(_) => "lock",
            PortAction::Unlock(_) => "unlock",
            PortAction::Block => "block",
            PortAction::Unblock => "unblock",
            PortAction::CallForward { .. } | PortAction::CancelCallForward => "CallForward",
            PortAction::CheckCallForward => "CheckCallForward",
        }
    }
}

/// PINs and numbers stay out of logs.
impl fmt::Debug for PortAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortAction::Slot(s) => write!(f, "Slot({s})"),
            PortAction::Power(on) => write!(f, "Power({on})"),
            PortAction::CallForward { condition, .. } => write!(f, "CallForward({condition:?}, <number>)"),
            other => write!(f, "{}(..)", other.action()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CDR and status

/// Filters of `POST /api/get_cdr` (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrQuery {
    /// Ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Vec<Port>>,
    /// Only calls after this gateway-local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_after: Option<String>,
    /// Only calls before this gateway-local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_before: Option<String>,
}

/// One call record (`cdr[]`, also the `cdr` push, which carries answered calls only).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Cdr {
    /// The port.
    #[serde(default, deserialize_with = "lenient::opt_u8")]
    pub port: Option<Port>,
    /// When the call started (gateway-local).
    #[serde(default)]
    pub start_date: Option<String>,
    /// When it was answered.
    #[serde(default)]
    pub answer_date: Option<String>,
    /// Seconds.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub duration: Option<u64>,
    /// The caller.
    #[serde(default)]
    pub source_number: Option<String>,
    /// The called number.
    #[serde(default)]
    pub destination_number: Option<String>,
    /// `gsm->ip`, `ip->gsm` or `callback`.
    #[serde(default)]
    pub direction: Option<String>,
    /// The VoIP peer.
    #[serde(default)]
    pub ip: Option<String>,
    /// G.711U, G.711A, G.723.1, G.729AB.
    #[serde(default)]
    pub codec: Option<String>,
    /// Who hung up: called, calling, gateway.
    #[serde(default)]
    pub hangup: Option<String>,
    /// The GSM release cause.
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    pub gsm_code: Option<u32>,
    /// The cell's BCCH (one firmware spells it `bech`).
    #[serde(default, alias = "bech")]
    pub bcch: Option<Value>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for Cdr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cdr")
            .field("port", &self.port)
            .field("start_date", &self.start_date)
            .field("duration", &self.duration)
            .field("direction", &self.direction)
            .field("hangup", &self.hangup)
            .field("gsm_code", &self.gsm_code)
            .finish_non_exhaustive()
    }
}

/// The answer to `get_cdr`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdrResponse {
    /// 200.
    #[serde(default, deserialize_with = "lenient::i64_or_default")]
    pub error_code: i64,
    /// The gateway's serial number.
    #[serde(default)]
    pub sn: Option<String>,
    /// The records.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub cdr: Vec<Cdr>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `performance` of `get_status` (every value is a string on the wire).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    /// CPU use, percent.
    #[serde(default)]
    pub cpu_used: Option<String>,
    /// Flash size, KiB.
    #[serde(default)]
    pub flash_total: Option<String>,
    /// Flash used, KiB.
    #[serde(default)]
    pub flash_used: Option<String>,
    /// Memory size, KiB.
    #[serde(default)]
    pub memory_total: Option<String>,
    /// Cached memory, KiB.
    #[serde(default)]
    pub memory_cached: Option<String>,
    /// Buffer memory, KiB.
    #[serde(default)]
    pub memory_buffers: Option<String>,
    /// Free memory, KiB.
    #[serde(default)]
    pub memory_free: Option<String>,
    /// Used memory, KiB.
    #[serde(default)]
    pub memory_used: Option<String>,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Performance {
    /// CPU use as a number.
    pub fn cpu_percent(&self) -> Option<f64> {
        self.cpu_used.as_deref().and_then(|v| v.trim().parse().ok())
    }
}

/// The answer to `get_status` (`["performance"]`). Whether it carries `error_code`/`sn` is not
/// documented; both are optional here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// 200 when present.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub error_code: Option<i64>,
    /// The gateway's serial number, when present.
    #[serde(default)]
    pub sn: Option<String>,
    /// CPU, flash and memory figures.
    #[serde(default)]
    pub performance: Performance,
    /// Fields this client does not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// Helpers

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

/// Lenient integer readers: a JSON number or a numeric string; `null` where optional.
pub(crate) mod lenient {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn to_i128(v: &Value) -> Option<i128> {
        match v {
            Value::Number(n) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 1e18)
                        .map(|f| f as i128)
                }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn opt<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<Option<T>, D::Error> {
        let v = Value::deserialize(d)?;
        match v {
            Value::Null => Ok(None),
            Value::String(ref s) if s.trim().is_empty() => Ok(None),
            ref other => {
                let n = to_i128(other).ok_or_else(|| D::Error::custom(format!("expected an integer, got {other}")))?;
                T::try_from(n)
                    .map(Some)
                    .map_err(|_| D::Error::custom(format!("integer {n} out of range")))
            }
        }
    }

    fn req<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
        opt(d)?.ok_or_else(|| D::Error::custom("expected an integer, got null"))
    }

    pub fn opt_u8<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
        opt(d)
    }
    pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        opt(d)
    }
    pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        opt(d)
    }
    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        opt(d)
    }
    pub fn u8<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
        req(d)
    }
    pub fn u16<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        req(d)
    }
    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        req(d)
    }
    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        req(d)
    }
    pub fn i64_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        Ok(opt(d)?.unwrap_or_default())
    }
    pub fn u64_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        Ok(opt(d)?.unwrap_or_default())
    }

    /// A list that some firmware sends as `null` when empty.
    pub fn vec_or_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }
}

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

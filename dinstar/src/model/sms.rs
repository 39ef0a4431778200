//! `send_sms`, `query_sms_result`, `query_sms_deliver_status`, `query_incoming_sms`,
//! `query_sms_in_queue` and the bare envelope.

use super::*;

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
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
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
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
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
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
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

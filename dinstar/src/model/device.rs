//! USSD, port information and actions, call records and device status.

use super::*;

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
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
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
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
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
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
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
    #[serde(default, deserialize_with = "switchboard_core::serde_util::null_as_default")]
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

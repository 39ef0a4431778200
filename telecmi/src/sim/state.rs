//! The simulator's state: the users and their tokens, the calls placed, the records the list APIs page
//! through, and where pushes go.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono::Utc;
use http::Method;
use serde_json::{Value, json};
use switchboard_core::WebhookRequest;
use switchboard_core::testkit::json_status;
use switchboard_core::testkit::wiremock::ResponseTemplate;

use crate::model::CdrKind;

/// How a simulated call ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Both sides talk for this many seconds, then the agent hangs up.
    Answered {
        /// Seconds of conversation.
        talk_secs: u64,
    },
    /// Nobody picks up: the call ends unanswered.
    Missed,
}

/// Where a simulated call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimCallState {
    /// Accepted by the API; nothing pushed yet.
    Initiated,
    /// Played to the end, answered.
    Completed,
    /// Played to the end, unanswered.
    Missed,
}

/// A call the simulator accepted.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SimCall {
    /// The `request_id` it answered.
    pub request_id: String,
    /// The agent rung first.
    pub agent: String,
    /// The destination as it came on the wire.
    pub to: String,
    /// `extra_params` (or the legacy `custom`) as it came.
    pub extra_params: Value,
    /// `webrtc` as sent.
    pub webrtc: Option<bool>,
    /// `followme` as sent.
    pub followme: Option<bool>,
    /// `callerid` as sent.
    pub callerid: Option<String>,
    /// The path it came in on.
    pub via: String,
    /// Where it is.
    pub state: SimCallState,
}

#[derive(Debug, Clone)]
pub(super) struct StoredCdr {
    pub(super) kind: CdrKind,
    pub(super) agent: Option<String>,
    pub(super) time: i64,
    pub(super) record: Value,
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) users: BTreeMap<String, String>,
    pub(super) tokens: HashMap<String, String>,
    pub(super) logins: u64,
    pub(super) calls: Vec<SimCall>,
    pub(super) cdrs: Vec<StoredCdr>,
    pub(super) event_url: Option<String>,
    pub(super) cdr_url: Option<String>,
    pub(super) push_method: Method,
    pub(super) pushed: Vec<WebhookRequest>,
    pub(super) auto_play: Option<Outcome>,
    pub(super) refused_numbers: Vec<String>,
}

static IDS: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    IDS.fetch_add(1, Ordering::Relaxed)
}

pub(super) fn uuid() -> String {
    let n = next_id();
    let t = Utc::now().timestamp_millis() as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        t & 0xffff_ffff,
        (t >> 32) & 0xffff,
        n & 0xfff,
        (n >> 12) & 0xfff,
        n.wrapping_mul(0x9e37_79b9_7f4a_7c15) & 0xffff_ffff_ffff
    )
}

pub(super) fn request_id() -> String {
    let n = next_id();
    format!(
        "sim{:x}{:x}",
        Utc::now().timestamp_millis(),
        n.wrapping_mul(0x2545_f491_4f6c_dd1d)
    )
}

pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn reply(code: u16, msg: &str) -> ResponseTemplate {
    json_status(code, &json!({"code": code, "msg": msg}))
}

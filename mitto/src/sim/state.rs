//! The simulator's state machine: the messages Mitto took, where each one is, and the delivery report
//! each change of stage pushes.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use switchboard_core::simulated::SimRecord;

use crate::config::Flavour;

/// How delivery reports are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DlrMethod {
    /// `POST` with a JSON object body (the default).
    #[default]
    PostJson,
    /// `GET` with the fields as query parameters (Mitto lets accounts register GET callbacks).
    Get,
}

/// Where a simulated message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Taken, not yet handed on.
    Accepted,
    /// Handed to the network.
    Sent,
    /// On the handset.
    Delivered,
    /// Could not be delivered.
    Failed,
}

impl Stage {
    /// Whether no further change is expected.
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Delivered | Stage::Failed)
    }
}

/// The status word the simulator reports for a stage.
///
/// Unsure words: Mitto's status enums are not public. The messaging API's words are those third-party
/// code reads (`sent`, `delivered`, `failed`); the legacy reports use the same words capitalised.
pub fn status_word(api: Flavour, stage: Stage) -> &'static str {
    match (api, stage) {
        (Flavour::Legacy, Stage::Accepted) => "Accepted",
        (Flavour::Legacy, Stage::Sent) => "Sent",
        (Flavour::Legacy, Stage::Delivered) => "Delivered",
        (Flavour::Legacy, Stage::Failed) => "Failed",
        (Flavour::Messaging, Stage::Accepted) => "accepted",
        (Flavour::Messaging, Stage::Sent) => "sent",
        (Flavour::Messaging, Stage::Delivered) => "delivered",
        (Flavour::Messaging, Stage::Failed) => "failed",
    }
}

/// A message the simulator accepted.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct SimMessage {
    /// The id it answered.
    pub id: String,
    /// Which API took it.
    pub api: Flavour,
    /// The receiver's digits.
    pub to: String,
    /// The sender.
    pub from: String,
    /// The text.
    pub text: String,
    /// The legacy `type` as sent.
    pub kind: Option<String>,
    /// The legacy `reference`.
    pub reference: Option<String>,
    /// The per-message callback URL.
    pub callback: Option<String>,
    /// The messaging API's traffic account.
    pub traffic_account_id: Option<String>,
    /// The current stage.
    pub stage: Stage,
    /// The number of SMS parts.
    pub parts: usize,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// When its stage last changed.
    pub updated_at: DateTime<Utc>,
}

impl SimMessage {
    /// A message the simulator did not take, for a pushed report that names none it took.
    pub(super) fn made_up(id: String, to: &str, at: DateTime<Utc>) -> SimMessage {
        SimMessage {
            id,
            api: Flavour::Legacy,
            to: to.to_owned(),
            from: String::new(),
            text: String::new(),
            kind: None,
            reference: None,
            callback: None,
            traffic_account_id: None,
            stage: Stage::Accepted,
            parts: 0,
            created_at: at,
            updated_at: at,
        }
    }

    /// The status word of its stage.
    pub fn status(&self) -> &'static str {
        status_word(self.api, self.stage)
    }
}

impl std::fmt::Debug for SimMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimMessage")
            .field("id", &self.id)
            .field("api", &self.api)
            .field("to", &switchboard_core::secret::mask_middle(&self.to))
            .field("from", &self.from)
            .field("kind", &self.kind)
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

pub(super) struct PendingPush {
    pub(super) url: String,
    pub(super) method: DlrMethod,
    pub(super) payload: Map<String, Value>,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) sms: usize,
    pub(super) bulk: usize,
    pub(super) messaging_sends: usize,
    pub(super) lookups: usize,
    pub(super) unauthorized: usize,
}

pub(super) struct State {
    pub(super) api_key: String,
    pub(super) traffic_accounts: Vec<String>,
    pub(super) messages: BTreeMap<String, SimMessage>,
    pub(super) order: Vec<String>,
    pub(super) seq: u64,
    pub(super) seed: u64,
    pub(super) error_http_status: u16,
    pub(super) forced_codes: VecDeque<i64>,
    pub(super) callback_url: Option<String>,
    pub(super) dlr_method: DlrMethod,
    pub(super) auto_advance: bool,
    pub(super) conversions_enabled: bool,
    pub(super) converted: HashSet<String>,
    pub(super) failing: HashSet<String>,
    pub(super) counters: Counters,
    pub(super) pushed: Vec<switchboard_core::WebhookRequest>,
}

impl State {
    pub(super) fn new(api_key: &str, traffic_account: &str, error_http_status: u16) -> State {
        State {
            api_key: api_key.to_owned(),
            traffic_accounts: vec![traffic_account.to_owned()],
            messages: BTreeMap::new(),
            order: Vec::new(),
            seq: 0,
            seed: std::collections::hash_map::RandomState::new().build_hasher().finish(),
            error_http_status,
            forced_codes: VecDeque::new(),
            callback_url: None,
            dlr_method: DlrMethod::default(),
            auto_advance: true,
            conversions_enabled: true,
            converted: HashSet::new(),
            failing: HashSet::new(),
            counters: Counters::default(),
            pushed: Vec::new(),
        }
    }

    pub(super) fn next_id(&mut self, api: Flavour) -> String {
        self.seq += 1;
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(self.seed ^ self.seq);
        let r = u128::from(h.finish()) << 64 | u128::from(self.seq);
        let hex = format!("{r:032x}");
        match api {
            Flavour::Legacy => hex,
            Flavour::Messaging => format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ),
        }
    }

    /// Moves one message a step; answers the push it causes, if any.
    pub(super) fn step(&mut self, id: &str) -> Option<PendingPush> {
        let fail = {
            let m = self.messages.get(id)?;
            self.failing.contains(&m.to)
        };
        let (account_cb, method) = (self.callback_url.clone(), self.dlr_method);
        let m = self.messages.get_mut(id)?;
        let next = match m.stage {
            Stage::Accepted => Stage::Sent,
            Stage::Sent if fail => Stage::Failed,
            Stage::Sent => Stage::Delivered,
            s => s,
        };
        if next == m.stage {
            return None;
        }
        m.stage = next;
        m.updated_at = Utc::now();
        let url = m.callback.clone().or(account_cb)?;
        Some(PendingPush {
            url,
            method,
            payload: report(m),
        })
    }

    /// Moves every message one step; answers the pushes that causes.
    pub(super) fn step_all(&mut self) -> Vec<PendingPush> {
        let ids = self.order.clone();
        ids.iter().filter_map(|id| self.step(id)).collect()
    }

    /// What the simulator accepted, in order, as core's records.
    pub(super) fn records(&self) -> Vec<SimRecord> {
        self.order
            .iter()
            .filter_map(|id| self.messages.get(id))
            .map(|m| SimRecord::new(m.id.clone(), m.to.clone(), m.text.clone(), m.status()))
            .collect()
    }
}

/// The delivery report of a message where it is now: `messageId`, `status`, `errorcode` after Mitto's
/// Chat Apps report, plus `to`, `reference`, `trafficAccountId` and `timestamp`.
pub(super) fn report(m: &SimMessage) -> Map<String, Value> {
    let mut payload = Map::new();
    payload.insert("messageId".into(), json!(m.id));
    payload.insert("status".into(), json!(m.status()));
    payload.insert(
        "errorcode".into(),
        json!(if m.stage == Stage::Failed { "1" } else { "0" }),
    );
    payload.insert("to".into(), json!(m.to));
    if let Some(r) = &m.reference {
        payload.insert("reference".into(), json!(r));
    }
    if let Some(t) = &m.traffic_account_id {
        payload.insert("trafficAccountId".into(), json!(t));
    }
    payload.insert("timestamp".into(), json!(mitto_timestamp(m.updated_at)));
    payload
}

pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Mitto's timestamp: ISO 8601 with 7 fractional digits and `Z`.
pub(super) fn mitto_timestamp(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

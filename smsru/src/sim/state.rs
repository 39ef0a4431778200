//! What the simulated SMS.ru account holds, and how a message moves: `100 → 101 → 102 → 103` (or the
//! final code set for its number).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use switchboard_core::WebhookRequest;

use super::{SIM_API_ID, SIM_PRICE_PER_PART, SIM_SENDER, SIM_START_BALANCE};
use crate::error::mask;

/// A message the simulator holds.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SimSms {
    /// Its id.
    pub sms_id: String,
    /// The number, digits only.
    pub to: String,
    /// The text.
    pub text: String,
    /// The sender.
    pub from: String,
    /// The current state code.
    pub status_code: i32,
    /// Every state it went through, in order.
    pub history: Vec<i32>,
    /// SMS parts.
    pub parts: u32,
    /// What it cost, in kopecks (0 in test mode).
    pub cost_kopecks: i64,
    /// Sent with `test=1`.
    pub test: bool,
}

impl fmt::Debug for SimSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimSms")
            .field("sms_id", &self.sms_id)
            .field("to", &mask(&self.to))
            .field("text_chars", &self.text.chars().count())
            .field("from", &self.from)
            .field("status_code", &self.status_code)
            .field("history", &self.history)
            .field("parts", &self.parts)
            .field("cost_kopecks", &self.cost_kopecks)
            .field("test", &self.test)
            .finish()
    }
}

/// A callback the simulator pushed, and whether the host answered as SMS.ru requires.
pub(super) struct Pushed {
    pub(super) request: WebhookRequest,
    pub(super) acknowledged: bool,
}

pub(super) struct State {
    pub(super) api_id: String,
    pub(super) balance: i64,
    pub(super) price_per_part: i64,
    pub(super) senders: Vec<String>,
    pub(super) messages: BTreeMap<String, SimSms>,
    pub(super) next_id: u64,
    pub(super) outcomes: HashMap<String, i32>,
    pub(super) refusals: HashMap<String, i32>,
    pub(super) stoplist: BTreeMap<String, String>,
    /// Codes the next requests are refused with, after authentication.
    pub(super) refuse_next: VecDeque<i32>,
    pub(super) callbacks: Vec<String>,
    pub(super) pushed: Vec<Pushed>,
    pub(super) daily_limit: u64,
    pub(super) free_total: u64,
}

impl State {
    pub(super) fn new() -> Self {
        State {
            api_id: SIM_API_ID.to_owned(),
            balance: SIM_START_BALANCE,
            price_per_part: SIM_PRICE_PER_PART,
            senders: vec![SIM_SENDER.to_owned()],
            messages: BTreeMap::new(),
            next_id: 10_000_000,
            outcomes: HashMap::new(),
            refusals: HashMap::new(),
            stoplist: BTreeMap::new(),
            refuse_next: VecDeque::new(),
            callbacks: Vec::new(),
            pushed: Vec::new(),
            daily_limit: 5000,
            free_total: 5,
        }
    }

    pub(super) fn used_today(&self) -> u64 {
        self.messages.values().filter(|m| !m.test).count() as u64
    }

    /// A new message id in SMS.ru's form (`NNNNNN-NNNNNNNN`).
    pub(super) fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:06}-{:08}", 202_401, self.next_id)
    }

    /// Moves one message one state on; the new code, `None` when it is unknown or final.
    fn step(&mut self, sms_id: &str) -> Option<i32> {
        let outcome = {
            let m = self.messages.get(sms_id)?;
            self.outcomes.get(&m.to).copied().unwrap_or(103)
        };
        let m = self.messages.get_mut(sms_id)?;
        let next = match m.status_code {
            100 => 101,
            101 => 102,
            102 => outcome,
            _ => return None,
        };
        m.status_code = next;
        m.history.push(next);
        Some(next)
    }

    /// Moves every message that is not final one state on; the changes, in id order.
    pub(super) fn step_all(&mut self) -> Vec<(String, i32)> {
        let ids: Vec<String> = self.messages.keys().cloned().collect();
        ids.into_iter()
            .filter_map(|id| self.step(&id).map(|c| (id, c)))
            .collect()
    }
}

/// The state behind its lock, shared by the server's handler and the test's handle.
pub(super) struct Shared {
    state: Mutex<State>,
    pub(super) http: reqwest::Client,
}

impl Shared {
    pub(super) fn new(http: reqwest::Client) -> Self {
        Shared {
            state: Mutex::new(State::new()),
            http,
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the state half-written in a way that matters to
        // a simulator; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

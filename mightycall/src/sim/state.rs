//! The simulator's state: the account's keys and tokens, the journal (calls and messages), and how an
//! outgoing message moves through it.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use switchboard_core::simulated::SimRecord;

use super::{SIM_API_KEY, SIM_BUSINESS_NUMBER, SIM_BUSINESS_NUMBER_2, SIM_USER_KEY, TOKEN_LIFETIME};

/// Token grants the simulator handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenStats {
    /// Successful `client_credentials` grants.
    pub client_credentials: usize,
    /// Successful `refresh_token` grants.
    pub refresh: usize,
    /// Refused token requests (bad keys, refused refresh tokens, malformed).
    pub refused: usize,
}

impl TokenStats {
    /// Every token request, granted or not.
    pub fn total(&self) -> usize {
        self.client_credentials + self.refresh + self.refused
    }
}

/// A journal entry of the simulator.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct SimEntry {
    /// The request id.
    pub id: String,
    /// `Message` or `Call`.
    pub kind: String,
    /// `Incoming` or `Outgoing`.
    pub origin: String,
    /// The state word.
    pub state: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The calling or sending party.
    pub from: String,
    /// The called or receiving party.
    pub to: String,
    /// The business number.
    pub business_number: String,
    /// The text of a message.
    pub text: Option<String>,
    /// The duration of a call.
    pub duration: Option<u64>,
    /// An entry added as raw JSON (`Simulator::add_raw_entry`), served exactly as given.
    pub raw: Option<Value>,
}

impl std::fmt::Debug for SimEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimEntry")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("origin", &self.origin)
            .field("state", &self.state)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

impl SimEntry {
    /// The entry as the journal lists it. With `object_parties`, in the other shape seen in
    /// third-party integrations: `businessNumber` as `{"number", "name"}` and the customer as
    /// `client: {"address"}`, without `from`/`to`.
    pub(super) fn to_json(&self, object_parties: bool) -> Value {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let mut v = json!({
            "id": self.id,
            "type": self.kind,
            "origin": self.origin,
            "state": self.state,
            "dateTimeUtc": self.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        if object_parties {
            let customer = if self.origin.eq_ignore_ascii_case("incoming") {
                &self.from
            } else {
                &self.to
            };
            v["businessNumber"] = json!({"number": self.business_number, "name": "Main line"});
            v["client"] = json!({"address": customer});
        } else {
            v["from"] = json!(self.from);
            v["to"] = json!(self.to);
            v["businessNumber"] = json!(self.business_number);
        }
        if let Some(t) = &self.text {
            v["text"] = json!(t);
        }
        if let Some(d) = self.duration {
            v["duration"] = json!(d);
        }
        v
    }
}

/// Outgoing message states, in order (unsure words; see the [module docs](self)).
pub(super) const OUT_QUEUED: &str = "Queued";
pub(super) const OUT_SENT: &str = "Sent";
pub(super) const OUT_DELIVERED: &str = "Delivered";
pub(super) const OUT_FAILED: &str = "Failed";

pub(super) struct SimToken {
    pub(super) expires_at: Duration,
}

pub(super) struct State {
    pub(super) api_key: String,
    pub(super) user_key: String,
    pub(super) business_numbers: Vec<String>,
    pub(super) now: Duration,
    pub(super) token_lifetime: Duration,
    pub(super) access: HashMap<String, SimToken>,
    pub(super) refresh: HashSet<String>,
    pub(super) seq: u64,
    pub(super) seed: u64,
    pub(super) stats: TokenStats,
    pub(super) api_calls: usize,
    pub(super) unauthorized: usize,
    pub(super) sends: usize,
    pub(super) always_unauthorized: bool,
    pub(super) invalid_client_status: u16,
    pub(super) journal: Vec<SimEntry>,
    pub(super) auto_advance: bool,
    pub(super) failing: HashSet<String>,
    pub(super) object_parties: bool,
}

impl State {
    pub(super) fn new() -> State {
        let seed = std::collections::hash_map::RandomState::new().build_hasher().finish();
        let mut st = State {
            api_key: SIM_API_KEY.to_owned(),
            user_key: SIM_USER_KEY.to_owned(),
            business_numbers: vec![SIM_BUSINESS_NUMBER.to_owned(), SIM_BUSINESS_NUMBER_2.to_owned()],
            now: Duration::ZERO,
            token_lifetime: TOKEN_LIFETIME,
            access: HashMap::new(),
            refresh: HashSet::new(),
            seq: 0,
            seed,
            stats: TokenStats::default(),
            api_calls: 0,
            unauthorized: 0,
            sends: 0,
            always_unauthorized: false,
            invalid_client_status: 400,
            journal: Vec::new(),
            auto_advance: true,
            failing: HashSet::new(),
            object_parties: false,
        };
        // A little history, so a fresh simulator has something to list.
        let now = Utc::now();
        let seed_entries = [
            ("Call", "Incoming", "Connected", 180, "+15550001111", Some(125), None),
            (
                "Message",
                "Incoming",
                "Received",
                120,
                "+15550002222",
                None,
                Some("Do you open on Sunday?"),
            ),
            ("Call", "Incoming", "Missed", 60, "+15550003333", Some(0), None),
        ];
        for (kind, origin, state, mins_ago, party, duration, text) in seed_entries {
            let id = st.id();
            st.journal.push(SimEntry {
                id,
                kind: kind.to_owned(),
                origin: origin.to_owned(),
                state: state.to_owned(),
                at: now - chrono::Duration::minutes(mins_ago),
                from: party.to_owned(),
                to: SIM_BUSINESS_NUMBER.to_owned(),
                business_number: SIM_BUSINESS_NUMBER.to_owned(),
                text: text.map(str::to_owned),
                duration,
                raw: None,
            });
        }
        st
    }

    /// The outgoing messages, in order, as core's records.
    pub(super) fn records(&self) -> Vec<SimRecord> {
        self.journal
            .iter()
            .filter(|e| e.kind == "Message" && e.origin == "Outgoing")
            .map(|e| {
                SimRecord::new(
                    e.id.clone(),
                    e.to.clone(),
                    e.text.clone().unwrap_or_default(),
                    e.state.clone(),
                )
            })
            .collect()
    }

    /// Moves every outgoing message one step.
    pub(super) fn step_all(&mut self) {
        let ids: Vec<String> = self.journal.iter().map(|e| e.id.clone()).collect();
        for id in ids {
            self.step(&id);
        }
    }

    pub(super) fn id(&mut self) -> String {
        self.seq += 1;
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(self.seed ^ self.seq);
        let hex = format!("{:016x}{:016x}", h.finish(), self.seq);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }

    pub(super) fn issue(&mut self) -> Value {
        let access = format!("at-{}", self.id());
        let refresh = format!("rt-{}", self.id());
        let expires_at = self.now + self.token_lifetime;
        self.access.insert(access.clone(), SimToken { expires_at });
        self.refresh.insert(refresh.clone());
        json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.token_lifetime.as_secs(),
            "refresh_token": refresh,
        })
    }

    pub(super) fn step(&mut self, id: &str) {
        let failing = self.failing.clone();
        if let Some(e) = self.journal.iter_mut().find(|e| e.id == id)
            && e.kind == "Message"
            && e.origin == "Outgoing"
        {
            e.state = match e.state.as_str() {
                OUT_QUEUED => OUT_SENT,
                OUT_SENT if failing.contains(&e.to) => OUT_FAILED,
                OUT_SENT => OUT_DELIVERED,
                _ => return,
            }
            .to_owned();
        }
    }
}

pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

//! Durable sending: the [`Store`] decides, *before* anything is sent, whether a message with a
//! [`MessageKey`] may go out, and remembers how each attempt ended — across retries, restarts and
//! several processes or machines sharing one store.
//!
//! A key moves through these states ([`KeyState`]):
//!
//! ```text
//!  (new) ──claim──▶ InFlight ──note_attempt──▶ InFlight + attempt ──finish(Accepted)──▶ Accepted
//!                      │                              │
//!                      │ finish(NotSent)              │ finish(MaybeSent), or the lease ran out
//!                      ▼                              ▼
//!                  Released ◀──resolve(NotSent)── Uncertain ──resolve(Accepted | Failed)──▶ …
//!                      │                              
//!                      └──claim──▶ InFlight …         finish(Failed) ──▶ Failed
//! ```
//!
//! * **Accepted** keys answer their earlier [`Receipt`] and are never sent again.
//! * **InFlight** keys belong to the sender holding the [`Lease`]; anyone else is told to wait. A lease
//!   that runs out *before* an attempt was noted is taken over (the holder never started a request);
//!   one that runs out *after* becomes **Uncertain**, because the holder may have sent and crashed.
//! * **Uncertain** keys are never resent blindly: the sender reconciles them where the provider allows
//!   a lookup (a Dinstar `user_id`, a client reference the provider echoes), or reports that a person or
//!   the host must [`Store::resolve`] them.
//! * **Released** keys (the last attempt proved nothing went out) may be claimed and sent again.
//! * **Failed** keys were refused by the provider for good; claiming one answers the refusal again.
//!
//! Implementations must make `claim`, `note_attempt`, `finish` and `resolve` atomic with respect to
//! every other process using the same store (a unique key plus row locks or a serialisable
//! transaction), and must judge lease expiry by one clock (the database server's, not each client's).
//! [`MemoryStore`] is the in-process implementation for tests and single-process tools; the
//! `switchboard-store` crate has SQLite and PostgreSQL ones.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::error::{Dispatch, Error, ErrorKind, Result};
use crate::journal::{CursorStore, Journal, JournalEntry, MemoryCursorStore, MemoryJournal};
use crate::message::Receipt;

/// The host's name for one logical message (`"order-72-assigned"`), stable across retries, restarts
/// and processes: the same key is sent at most once.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageKey(String);

impl MessageKey {
    /// The longest key accepted, in bytes.
    pub const MAX_LEN: usize = 200;

    /// A key; it must be 1 to [`MessageKey::MAX_LEN`] bytes of printable text.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        if key.is_empty() || key.len() > Self::MAX_LEN || key.chars().any(char::is_control) {
            return Err(Error::invalid_input(format!(
                "an idempotency key must be 1 to {} bytes of printable text",
                Self::MAX_LEN
            )));
        }
        Ok(MessageKey(key))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MessageKey {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        MessageKey::new(s)
    }
}

impl TryFrom<&str> for MessageKey {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self> {
        MessageKey::new(s)
    }
}

impl From<MessageKey> for String {
    fn from(k: MessageKey) -> String {
        k.0
    }
}

impl fmt::Display for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageKey({:?})", self.0)
    }
}

/// A digest of what a message says and to whom (see [`crate::Message::fingerprint`]), stored with its
/// key so that a key reused for a *different* message is refused rather than answered with the other
/// message's receipt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

/// An error as the store keeps it: the facts a later reader needs, without the source chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorRecord {
    /// [`ErrorKind::as_str`] of the error.
    pub kind: String,
    /// `"not_sent"`, `"maybe_sent"` or `"sent"`.
    pub dispatch: String,
    /// The provider that failed, when known.
    pub provider: Option<String>,
    /// The provider's own code, when it gave one.
    pub provider_code: Option<String>,
    /// The error as displayed (never a secret, numbers masked).
    pub message: String,
}

impl ErrorRecord {
    /// The record of `err`.
    pub fn of(err: &Error) -> Self {
        ErrorRecord {
            kind: err.kind().as_str().to_owned(),
            dispatch: dispatch_word(err.dispatch()).to_owned(),
            provider: err.provider().map(str::to_owned),
            provider_code: err.provider_code().map(str::to_owned),
            message: err.to_string(),
        }
    }

    /// A record made from parts (for a reason the store itself decides, such as a lost lease).
    pub fn new(kind: ErrorKind, dispatch: Dispatch, message: impl Into<String>) -> Self {
        ErrorRecord {
            kind: kind.as_str().to_owned(),
            dispatch: dispatch_word(dispatch).to_owned(),
            provider: None,
            provider_code: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ErrorRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The stable word for a dispatch fact, as stored and journaled.
pub fn dispatch_word(d: Dispatch) -> &'static str {
    match d {
        Dispatch::NotSent => "not_sent",
        Dispatch::MaybeSent => "maybe_sent",
        Dispatch::Sent => "sent",
    }
}

/// The attempt a sender is about to make, noted *before* the request leaves so that a crash
/// mid-request leaves enough behind to reconcile it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttemptNote {
    /// The transport's registered name.
    pub transport: String,
    /// The reference the provider can later be searched by (a Dinstar `user_id`, a client reference
    /// the provider echoes), when the transport has one.
    pub reference: Option<String>,
}

impl AttemptNote {
    /// An attempt over `transport` with an optional provider-side reference.
    pub fn new(transport: impl Into<String>, reference: Option<String>) -> Self {
        AttemptNote {
            transport: transport.into(),
            reference,
        }
    }
}

/// Where a key stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyState {
    /// A sender holds the key until `lease_until`.
    InFlight {
        /// Who holds it (see [`Store::claim`]'s `owner`).
        owner: String,
        /// When the lease runs out, by the store's clock.
        lease_until: DateTime<Utc>,
        /// The attempt under way, once noted.
        attempt: Option<AttemptNote>,
    },
    /// The provider accepted it.
    Accepted {
        /// The receipt of the accepted attempt.
        receipt: Box<Receipt>,
    },
    /// The provider refused it for good.
    Failed {
        /// Why.
        error: ErrorRecord,
    },
    /// The last attempt may have reached the provider.
    Uncertain {
        /// What is known of the failure.
        error: ErrorRecord,
        /// The attempt that may have landed.
        attempt: Option<AttemptNote>,
    },
    /// The last attempt proved nothing went out; the key may be claimed again.
    Released {
        /// Why the attempt failed.
        error: ErrorRecord,
    },
}

impl KeyState {
    /// The state as a word (`"in_flight"`, `"accepted"`…), for logs and columns.
    pub fn name(&self) -> &'static str {
        match self {
            KeyState::InFlight { .. } => "in_flight",
            KeyState::Accepted { .. } => "accepted",
            KeyState::Failed { .. } => "failed",
            KeyState::Uncertain { .. } => "uncertain",
            KeyState::Released { .. } => "released",
        }
    }
}

/// Everything the store knows about one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyRecord {
    /// The key.
    pub key: MessageKey,
    /// The fingerprint of the message first claimed under it.
    pub fingerprint: Fingerprint,
    /// Where it stands.
    pub state: KeyState,
    /// How many times it was claimed for sending.
    pub claims: u32,
    /// When it was first claimed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl KeyRecord {
    /// A record as a store reads it back (stores outside this crate build them with this).
    pub fn new(
        key: MessageKey,
        fingerprint: Fingerprint,
        state: KeyState,
        claims: u32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        KeyRecord {
            key,
            fingerprint,
            state,
            claims,
            created_at,
            updated_at,
        }
    }
}

/// Proof of holding a key, handed out by [`Store::claim`] and required to note or finish an attempt.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Lease {
    /// The key held.
    pub key: MessageKey,
    /// A random token only this holder knows; the store refuses `note_attempt`/`finish` without it.
    pub token: String,
    /// Which claim of the key this is (1 for the first).
    pub claim: u32,
}

impl Lease {
    /// A lease on `key` with a fresh random token.
    pub fn issue(key: MessageKey, claim: u32) -> Self {
        Lease {
            key,
            token: format!("{:032x}", crate::random::u128()),
            claim,
        }
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease")
            .field("key", &self.key)
            .field("claim", &self.claim)
            .finish_non_exhaustive()
    }
}

/// What [`Store::claim`] decided.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Claim {
    /// The caller holds the key: send now, then [`Store::finish`].
    Acquired(Lease),
    /// Accepted earlier: nothing may be sent; here is the receipt.
    Accepted(Box<Receipt>),
    /// Another sender holds it until `until`.
    InFlight {
        /// Who holds it.
        owner: String,
        /// When its lease runs out.
        until: DateTime<Utc>,
    },
    /// The last attempt may have gone out: reconcile or [`Store::resolve`], never resend blindly.
    Uncertain {
        /// What is known of the failure.
        error: ErrorRecord,
        /// The attempt that may have landed.
        attempt: Option<AttemptNote>,
    },
    /// Refused for good earlier.
    Failed(ErrorRecord),
}

/// How an attempt ended, for [`Store::finish`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// The provider accepted it.
    Accepted(Box<Receipt>),
    /// Nothing went out (every error was `NotSent`): the key is released for a later claim.
    NotSent(ErrorRecord),
    /// The provider refused it for good (`Sent` and not temporary).
    Failed(ErrorRecord),
    /// It may have gone out.
    MaybeSent(ErrorRecord),
}

impl Outcome {
    /// The outcome of a send that ended in `err`: `MaybeSent` unless the error proves nothing went
    /// out (`NotSent`) or the provider answered with a final refusal (`Sent`).
    pub fn of_error(err: &Error) -> Self {
        let rec = ErrorRecord::of(err);
        match err.dispatch() {
            Dispatch::NotSent => Outcome::NotSent(rec),
            Dispatch::Sent => Outcome::Failed(rec),
            Dispatch::MaybeSent => Outcome::MaybeSent(rec),
        }
    }
}

/// A decision about an uncertain key, by a reconciliation or a person ([`Store::resolve`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Resolution {
    /// It did land: here is its receipt.
    Accepted(Box<Receipt>),
    /// It did not land: release the key so it may be sent again.
    NotSent(ErrorRecord),
    /// Give up on it: the key answers this error from now on.
    Failed(ErrorRecord),
}

/// Durable idempotency, journal and cursors for a whole deployment. See the [module docs](self).
///
/// Every method is atomic against every other process using the same store.
#[async_trait]
pub trait Store: Journal + CursorStore {
    /// Claims `key` for sending a message whose [`Fingerprint`] is `fingerprint`, for `lease` (how long
    /// the caller may take before others treat it as gone). `owner` names the caller in diagnostics
    /// (host, process).
    ///
    /// Errors: `Conflict` when the key was claimed before for a message with another fingerprint.
    async fn claim(&self, key: &MessageKey, fingerprint: &Fingerprint, owner: &str, lease: Duration) -> Result<Claim>;

    /// Notes the attempt the lease holder is about to make. Call it before each request leaves; a
    /// lease that expires after this becomes `Uncertain` rather than being taken over.
    ///
    /// Errors: `Conflict` when the lease is no longer held (taken over, or the key finished): the caller
    /// must not send.
    async fn note_attempt(&self, lease: &Lease, attempt: &AttemptNote) -> Result<()>;

    /// Records how the holder's attempt ended. It is applied even when the lease ran out meanwhile (the
    /// key then shows `Uncertain` to others until this arrives), as long as no one took the key over.
    ///
    /// Errors: `Conflict` when another holder has the key now.
    async fn finish(&self, lease: &Lease, outcome: Outcome) -> Result<()>;

    /// Everything known about a key, or `None` if it was never claimed.
    async fn lookup(&self, key: &MessageKey) -> Result<Option<KeyRecord>>;

    /// Settles an `Uncertain` key (or an `InFlight` one whose lease ran out after an attempt was noted).
    ///
    /// Errors: `Conflict` when the key is in any other state (an accepted key cannot be un-accepted);
    /// `NotFound` for an unknown key.
    async fn resolve(&self, key: &MessageKey, resolution: Resolution) -> Result<()>;

    /// Up to `limit` keys that need reconciling or a decision: `Uncertain` ones, and `InFlight` ones whose
    /// lease ran out after an attempt was noted. Oldest first.
    async fn uncertain(&self, limit: usize) -> Result<Vec<KeyRecord>>;

    /// Reserves `n` consecutive numbers of the named sequence and returns the first. Sequences start at
    /// 1 and are shared by every process on the store (Dinstar `user_id`s come from here, so two
    /// processes never hand out the same one).
    async fn next_ids(&self, sequence: &str, n: u32) -> Result<u64>;
}

/// The error for a lease that is no longer held.
pub fn lease_lost(key: &MessageKey) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!("the lease on key '{key}' is no longer held (another sender took it over or it finished); nothing was sent by this call"),
    )
    .with_dispatch(Dispatch::NotSent)
}

/// The error for a key reused with a different message.
pub fn fingerprint_mismatch(key: &MessageKey) -> Error {
    Error::new(
        ErrorKind::Conflict,
        format!(
            "the key '{key}' was used before for a different message (recipient or content differ); choose a new key"
        ),
    )
    .with_dispatch(Dispatch::NotSent)
}

/// Why a key is `Uncertain` when its holder's lease ran out after an attempt was noted: every store
/// reports this same record for it.
pub fn lease_ran_out_after_attempt() -> ErrorRecord {
    ErrorRecord::new(
        ErrorKind::Timeout,
        Dispatch::MaybeSent,
        "the sender's lease ran out after its request may have left (it crashed or stalled)",
    )
}

struct Row {
    record: KeyRecord,
    token: String,
    /// For in-flight keys: when the lease runs out, by the store's monotonic clock.
    expires: Option<Instant>,
}

/// A [`Store`] in memory: atomic within one process, gone when it ends. For tests, examples and
/// one-shot tools; services with replicas or restarts use a database store.
#[derive(Debug)]
pub struct MemoryStore {
    keys: Mutex<HashMap<MessageKey, Row>>,
    sequences: Mutex<HashMap<String, u64>>,
    journal: MemoryJournal,
    cursors: MemoryCursorStore,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose leases run on `clock` (a [`crate::clock::ManualClock`] in tests).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryStore {
            keys: Mutex::new(HashMap::new()),
            sequences: Mutex::new(HashMap::new()),
            journal: MemoryJournal::new(),
            cursors: MemoryCursorStore::new(),
            clock,
        }
    }

    /// The journal entries recorded so far.
    pub fn journal_entries(&self) -> Vec<JournalEntry> {
        self.journal.entries()
    }

    fn rows(&self) -> Result<std::sync::MutexGuard<'_, HashMap<MessageKey, Row>>> {
        self.keys
            .lock()
            .map_err(|_| Error::new(ErrorKind::Unavailable, "the in-memory store is poisoned"))
    }

    fn utc_in(&self, d: Duration) -> DateTime<Utc> {
        // A lease too long for the calendar (`Duration::MAX`) ends at the end of time, not in a panic.
        chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| Utc::now().checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Turns an in-flight row whose lease ran out after an attempt was noted into `Uncertain`.
    fn expire(&self, row: &mut Row) -> bool {
        let now = self.clock.now();
        if let KeyState::InFlight { attempt, .. } = &row.record.state
            && row.expires.is_some_and(|e| e <= now)
        {
            if attempt.is_none() {
                return true; // never started: may be taken over
            }
            row.record.state = KeyState::Uncertain {
                error: lease_ran_out_after_attempt(),
                attempt: attempt.clone(),
            };
            row.expires = None;
            row.record.updated_at = Utc::now();
        }
        false
    }
}

#[async_trait]
impl Journal for MemoryStore {
    async fn record(&self, entry: JournalEntry) -> Result<()> {
        self.journal.record(entry).await
    }
}

#[async_trait]
impl CursorStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<String>> {
        self.cursors.load(key).await
    }

    async fn store(&self, key: &str, value: &str) -> Result<()> {
        self.cursors.store(key, value).await
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn claim(&self, key: &MessageKey, fingerprint: &Fingerprint, owner: &str, lease: Duration) -> Result<Claim> {
        let mut rows = self.rows()?;
        let expires = self.clock.now().checked_add(lease);
        let in_flight = |attempt: Option<AttemptNote>| KeyState::InFlight {
            owner: owner.to_owned(),
            lease_until: self.utc_in(lease),
            attempt,
        };
        let Some(row) = rows.get_mut(key) else {
            let l = Lease::issue(key.clone(), 1);
            let now = Utc::now();
            rows.insert(
                key.clone(),
                Row {
                    record: KeyRecord {
                        key: key.clone(),
                        fingerprint: fingerprint.clone(),
                        state: in_flight(None),
                        claims: 1,
                        created_at: now,
                        updated_at: now,
                    },
                    token: l.token.clone(),
                    expires,
                },
            );
            return Ok(Claim::Acquired(l));
        };
        if &row.record.fingerprint != fingerprint {
            return Err(fingerprint_mismatch(key));
        }
        let takeover = self.expire(row);
        let claim = match &row.record.state {
            KeyState::Accepted { receipt } => return Ok(Claim::Accepted(receipt.clone())),
            KeyState::Failed { error } => return Ok(Claim::Failed(error.clone())),
            KeyState::Uncertain { error, attempt } => {
                return Ok(Claim::Uncertain {
                    error: error.clone(),
                    attempt: attempt.clone(),
                });
            }
            KeyState::InFlight { owner, lease_until, .. } if !takeover => {
                return Ok(Claim::InFlight {
                    owner: owner.clone(),
                    until: *lease_until,
                });
            }
            KeyState::InFlight { .. } | KeyState::Released { .. } => row.record.claims + 1,
        };
        let l = Lease::issue(key.clone(), claim);
        row.record.claims = claim;
        row.record.state = in_flight(None);
        row.record.updated_at = Utc::now();
        row.token = l.token.clone();
        row.expires = expires;
        Ok(Claim::Acquired(l))
    }

    async fn note_attempt(&self, lease: &Lease, attempt: &AttemptNote) -> Result<()> {
        let mut rows = self.rows()?;
        let row = rows
            .get_mut(&lease.key)
            .filter(|r| r.token == lease.token)
            .ok_or_else(|| lease_lost(&lease.key))?;
        // A lease that ran out after an attempt makes the key uncertain whether or not anyone has looked
        // since: the stalled holder must not start another attempt (a failover) on top of that one.
        self.expire(row);
        match &mut row.record.state {
            KeyState::InFlight { attempt: a, .. } => {
                *a = Some(attempt.clone());
                row.record.updated_at = Utc::now();
                Ok(())
            }
            _ => Err(lease_lost(&lease.key)),
        }
    }

    async fn finish(&self, lease: &Lease, outcome: Outcome) -> Result<()> {
        let mut rows = self.rows()?;
        let row = rows
            .get_mut(&lease.key)
            .filter(|r| r.token == lease.token)
            .ok_or_else(|| lease_lost(&lease.key))?;
        let attempt = match &row.record.state {
            KeyState::InFlight { attempt, .. } | KeyState::Uncertain { attempt, .. } => attempt.clone(),
            _ => return Err(lease_lost(&lease.key)),
        };
        row.record.state = match outcome {
            Outcome::Accepted(receipt) => KeyState::Accepted { receipt },
            Outcome::NotSent(error) => KeyState::Released { error },
            Outcome::Failed(error) => KeyState::Failed { error },
            Outcome::MaybeSent(error) => KeyState::Uncertain { error, attempt },
        };
        row.expires = None;
        row.record.updated_at = Utc::now();
        Ok(())
    }

    async fn lookup(&self, key: &MessageKey) -> Result<Option<KeyRecord>> {
        let mut rows = self.rows()?;
        Ok(rows.get_mut(key).map(|row| {
            self.expire(row);
            row.record.clone()
        }))
    }

    async fn resolve(&self, key: &MessageKey, resolution: Resolution) -> Result<()> {
        let mut rows = self.rows()?;
        let Some(row) = rows.get_mut(key) else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("no key '{key}' was ever claimed"),
            ));
        };
        self.expire(row);
        if !matches!(row.record.state, KeyState::Uncertain { .. }) {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!(
                    "the key '{key}' is {}, not uncertain; only uncertain keys can be resolved",
                    row.record.state.name()
                ),
            )
            .with_dispatch(Dispatch::NotSent));
        }
        row.record.state = match resolution {
            Resolution::Accepted(receipt) => KeyState::Accepted { receipt },
            Resolution::NotSent(error) => KeyState::Released { error },
            Resolution::Failed(error) => KeyState::Failed { error },
        };
        // A late `finish` from the old holder must not overwrite a decision.
        row.token = String::new();
        row.record.updated_at = Utc::now();
        Ok(())
    }

    async fn uncertain(&self, limit: usize) -> Result<Vec<KeyRecord>> {
        let mut rows = self.rows()?;
        let mut out: Vec<KeyRecord> = rows
            .values_mut()
            .filter_map(|row| {
                self.expire(row);
                matches!(row.record.state, KeyState::Uncertain { .. }).then(|| row.record.clone())
            })
            .collect();
        out.sort_by_key(|r| r.created_at);
        out.truncate(limit);
        Ok(out)
    }

    async fn next_ids(&self, sequence: &str, n: u32) -> Result<u64> {
        let mut seqs = self
            .sequences
            .lock()
            .map_err(|_| Error::new(ErrorKind::Unavailable, "the in-memory store is poisoned"))?;
        let next = seqs.entry(sequence.to_owned()).or_insert(1);
        let first = *next;
        *next += u64::from(n.max(1));
        Ok(first)
    }
}

#[cfg(all(test, feature = "testkit"))]
mod conformance {
    use super::*;
    use crate::clock::ManualClock;
    use crate::testkit::{StoreFixture, store_conformance};

    /// Leases on a manual clock: the suite's waits cost nothing.
    struct Manual(ManualClock);

    #[async_trait]
    impl StoreFixture for Manual {
        async fn store(&self) -> Arc<dyn Store> {
            Arc::new(MemoryStore::with_clock(Arc::new(self.0.clone())))
        }

        async fn pass(&self, by: Duration) {
            self.0.advance(by);
        }
    }

    /// Leases on the system clock, waited out for real (briefly).
    struct Real;

    #[async_trait]
    impl StoreFixture for Real {
        async fn store(&self) -> Arc<dyn Store> {
            Arc::new(MemoryStore::new())
        }

        fn short_lease(&self) -> Duration {
            Duration::from_millis(100)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_store_passes_on_a_manual_clock() {
        store_conformance(&Manual(ManualClock::new())).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_store_passes_on_the_system_clock() {
        store_conformance(&Real).await;
    }
}
/// A process's default name in a store (a Messenger's owner of the keys it claims, an outbox worker's
/// name on the jobs it takes): host, process id and a random suffix, so two of them in one process are
/// told apart. The host is `$HOSTNAME` or `/etc/hostname`, else `host`.
pub fn default_owner() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    format!("{host}:{}:{:04x}", std::process::id(), crate::random::u64() as u16)
}

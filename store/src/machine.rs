//! The state machine both SQL stores share (see [`switchboard_core::store`] for the rules): a key's
//! row as stored, what callers see of it, and what a claim does. The backends only read a row under a
//! lock and write what this module decides, so SQLite and PostgreSQL cannot drift apart.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::message::Receipt;
use switchboard_core::store::{
    AttemptNote, Claim, ErrorRecord, Fingerprint, KeyRecord, KeyState, MessageKey, Outcome, Resolution,
    fingerprint_mismatch, lease_ran_out_after_attempt,
};
use switchboard_core::{Dispatch, Error, ErrorKind, Result};

/// The `state` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Word {
    InFlight,
    Accepted,
    Failed,
    Uncertain,
    Released,
}

impl Word {
    pub fn as_str(self) -> &'static str {
        match self {
            Word::InFlight => "in_flight",
            Word::Accepted => "accepted",
            Word::Failed => "failed",
            Word::Uncertain => "uncertain",
            Word::Released => "released",
        }
    }

    fn parse(s: &str) -> Result<Word> {
        Ok(match s {
            "in_flight" => Word::InFlight,
            "accepted" => Word::Accepted,
            "failed" => Word::Failed,
            "uncertain" => Word::Uncertain,
            "released" => Word::Released,
            other => return Err(unreadable(&format!("an unknown state {other:?}"))),
        })
    }
}

/// A key's columns as the database returned them.
pub(crate) struct RawRow {
    pub key: String,
    pub fingerprint: String,
    pub state: String,
    pub owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub attempt: Option<String>,
    pub receipt: Option<String>,
    pub error: Option<String>,
    pub claims: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A key's row, decoded.
pub(crate) struct Row {
    pub key: MessageKey,
    pub fingerprint: Fingerprint,
    pub state: Word,
    pub owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub attempt: Option<AttemptNote>,
    pub receipt: Option<Box<Receipt>>,
    pub error: Option<ErrorRecord>,
    pub claims: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RawRow {
    pub fn decode(self) -> Result<Row> {
        Ok(Row {
            key: MessageKey::new(self.key).map_err(|e| unreadable(&format!("a malformed key ({e})")))?,
            fingerprint: Fingerprint(self.fingerprint),
            state: Word::parse(&self.state)?,
            owner: self.owner,
            lease_until: self.lease_until,
            attempt: from_json(self.attempt.as_deref())?,
            receipt: from_json(self.receipt.as_deref())?,
            error: from_json(self.error.as_deref())?,
            claims: u32::try_from(self.claims).map_err(|_| unreadable("a negative claim count"))?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl Row {
    /// In flight, and the holder's lease ran out after it noted an attempt: the request may have left.
    fn stalled(&self, now: DateTime<Utc>) -> bool {
        self.state == Word::InFlight && self.attempt.is_some() && self.lease_until.is_some_and(|u| u <= now)
    }

    /// In flight, and the holder's lease ran out before any attempt: it never started; take it over.
    fn abandoned(&self, now: DateTime<Utc>) -> bool {
        self.state == Word::InFlight && self.attempt.is_none() && self.lease_until.is_none_or(|u| u <= now)
    }

    fn error(&self) -> Result<ErrorRecord> {
        self.error
            .clone()
            .ok_or_else(|| unreadable(&format!("a {} key without its error", self.state.as_str())))
    }

    /// Where the key stands for callers at `now` (a stalled attempt shows as `Uncertain`).
    pub fn state_at(&self, now: DateTime<Utc>) -> Result<KeyState> {
        Ok(match self.state {
            Word::InFlight if self.stalled(now) => KeyState::Uncertain {
                error: lease_ran_out_after_attempt(),
                attempt: self.attempt.clone(),
            },
            Word::InFlight => KeyState::InFlight {
                owner: self.owner.clone().unwrap_or_default(),
                lease_until: self.lease_until.unwrap_or(DateTime::<Utc>::MIN_UTC),
                attempt: self.attempt.clone(),
            },
            Word::Accepted => KeyState::Accepted {
                receipt: self
                    .receipt
                    .clone()
                    .ok_or_else(|| unreadable("an accepted key without its receipt"))?,
            },
            Word::Failed => KeyState::Failed { error: self.error()? },
            Word::Uncertain => KeyState::Uncertain {
                error: self.error()?,
                attempt: self.attempt.clone(),
            },
            Word::Released => KeyState::Released { error: self.error()? },
        })
    }

    /// The record callers see at `now`.
    pub fn record_at(&self, now: DateTime<Utc>) -> Result<KeyRecord> {
        let state = self.state_at(now)?;
        // A stalled attempt became uncertain when its lease ran out.
        let updated_at = match (self.stalled(now), self.lease_until) {
            (true, Some(until)) => until.max(self.updated_at),
            _ => self.updated_at,
        };
        Ok(KeyRecord::new(
            self.key.clone(),
            self.fingerprint.clone(),
            state,
            self.claims,
            self.created_at,
            updated_at,
        ))
    }
}

/// What a claim on an existing key does.
pub(crate) enum Decision {
    /// Answer without changing anything.
    Answer(Claim),
    /// Hand the key to the caller as claim number `claim`.
    Take { claim: u32 },
}

/// Decides a claim for a message fingerprinted `fingerprint` on an existing `row` at `now`.
pub(crate) fn decide_claim(row: &Row, fingerprint: &Fingerprint, now: DateTime<Utc>) -> Result<Decision> {
    if &row.fingerprint != fingerprint {
        return Err(fingerprint_mismatch(&row.key));
    }
    let take = || Decision::Take {
        claim: row.claims.saturating_add(1),
    };
    Ok(match row.state_at(now)? {
        KeyState::Accepted { receipt } => Decision::Answer(Claim::Accepted(receipt)),
        KeyState::Failed { error } => Decision::Answer(Claim::Failed(error)),
        KeyState::Uncertain { error, attempt } => Decision::Answer(Claim::Uncertain { error, attempt }),
        KeyState::Released { .. } => take(),
        KeyState::InFlight { .. } if row.abandoned(now) => take(),
        KeyState::InFlight { owner, lease_until, .. } => Decision::Answer(Claim::InFlight {
            owner,
            until: lease_until,
        }),
        other => return Err(unreadable(&format!("an unexpected state {}", other.name()))),
    })
}

/// The columns a finished attempt or a decision writes.
pub(crate) struct Settled {
    pub state: Word,
    pub receipt: Option<String>,
    pub error: Option<String>,
}

/// The columns `finish(outcome)` writes. The attempt column is left alone: an uncertain key keeps the
/// attempt to reconcile.
pub(crate) fn settle_outcome(outcome: Outcome) -> Result<Settled> {
    match outcome {
        Outcome::Accepted(r) => settled(Word::Accepted, Some(to_json(&r)?), None),
        Outcome::NotSent(e) => settled(Word::Released, None, Some(to_json(&e)?)),
        Outcome::Failed(e) => settled(Word::Failed, None, Some(to_json(&e)?)),
        Outcome::MaybeSent(e) => settled(Word::Uncertain, None, Some(to_json(&e)?)),
        _ => Err(Error::unsupported(
            "this store does not know that outcome; upgrade switchboard-store",
        )),
    }
}

/// The columns `resolve(resolution)` writes.
pub(crate) fn settle_resolution(resolution: Resolution) -> Result<Settled> {
    match resolution {
        Resolution::Accepted(r) => settled(Word::Accepted, Some(to_json(&r)?), None),
        Resolution::NotSent(e) => settled(Word::Released, None, Some(to_json(&e)?)),
        Resolution::Failed(e) => settled(Word::Failed, None, Some(to_json(&e)?)),
        _ => Err(Error::unsupported(
            "this store does not know that resolution; upgrade switchboard-store",
        )),
    }
}

fn settled(state: Word, receipt: Option<String>, error: Option<String>) -> Result<Settled> {
    Ok(Settled { state, receipt, error })
}

/// The error for resolving a key that is not waiting for a decision.
pub(crate) fn not_resolvable(key: &MessageKey, state: Option<&KeyState>) -> Error {
    match state {
        None => {
            Error::new(ErrorKind::NotFound, format!("no key '{key}' was ever claimed")).with_dispatch(Dispatch::NotSent)
        }
        Some(s) => Error::new(
            ErrorKind::Conflict,
            format!(
                "the key '{key}' is {}, not uncertain; only uncertain keys can be resolved",
                s.name()
            ),
        )
        .with_dispatch(Dispatch::NotSent),
    }
}

/// The owner as kept: printable and at most 200 characters (it is only for people reading it).
pub(crate) fn owner(owner: &str) -> String {
    owner.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The longest lease kept; longer ones (up to `Duration::MAX`) are held this long, which is forever
/// for any sender.
const MAX_LEASE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A lease in milliseconds, capped at [`MAX_LEASE`].
pub(crate) fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.min(MAX_LEASE).as_millis()).unwrap_or(i64::MAX)
}

/// Refuses text a database cannot hold (PostgreSQL refuses the NUL character in text).
pub(crate) fn storable(what: &str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(
            Error::invalid_input(format!("a {what} cannot contain the NUL character")).with_dispatch(Dispatch::NotSent),
        );
    }
    Ok(())
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| {
        Error::invalid_input(format!("the store could not serialise a value: {e}")).with_dispatch(Dispatch::NotSent)
    })
}

pub(crate) fn from_json<T: DeserializeOwned>(text: Option<&str>) -> Result<Option<T>> {
    text.map(|t| serde_json::from_str(t).map_err(|e| unreadable(&format!("unreadable JSON ({e})"))))
        .transpose()
}

/// The error for a row this build cannot read (written by hand, or by a newer build).
pub(crate) fn unreadable(what: &str) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!("the store holds {what}; was it written by a newer switchboard-store?"),
    )
    .with_dispatch(Dispatch::NotSent)
    .with_provider("store")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: Word, attempt: bool, lease_in_ms: i64) -> Row {
        let now = Utc::now();
        Row {
            key: MessageKey::new("k").unwrap(),
            fingerprint: Fingerprint("f".into()),
            state,
            owner: Some("a".into()),
            lease_until: Some(now + chrono::Duration::milliseconds(lease_in_ms)),
            attempt: attempt.then(|| AttemptNote::new("gsm", None)),
            receipt: None,
            error: None,
            claims: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn in_flight_rows_by_lease_and_attempt() {
        let now = Utc::now();
        let fp = Fingerprint("f".into());
        assert!(matches!(
            decide_claim(&row(Word::InFlight, false, 10_000), &fp, now).unwrap(),
            Decision::Answer(Claim::InFlight { .. })
        ));
        assert!(matches!(
            decide_claim(&row(Word::InFlight, false, -1), &fp, now).unwrap(),
            Decision::Take { claim: 2 }
        ));
        assert!(matches!(
            decide_claim(&row(Word::InFlight, true, -1), &fp, now).unwrap(),
            Decision::Answer(Claim::Uncertain { .. })
        ));
        let e = decide_claim(&row(Word::InFlight, false, 10_000), &Fingerprint("g".into()), now)
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::Conflict);
    }

    #[test]
    fn a_settled_row_without_its_payload_is_unreadable_not_a_panic() {
        let e = row(Word::Accepted, false, 0).state_at(Utc::now()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert!(
            RawRow {
                key: "k".into(),
                fingerprint: "f".into(),
                state: "exploded".into(),
                owner: None,
                lease_until: None,
                attempt: None,
                receipt: None,
                error: None,
                claims: 1,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            }
            .decode()
            .is_err()
        );
    }

    #[test]
    fn leases_and_owners_are_bounded() {
        assert_eq!(lease_ms(Duration::from_millis(250)), 250);
        assert_eq!(lease_ms(Duration::MAX), lease_ms(MAX_LEASE));
        assert_eq!(owner("host\n1\u{0}"), "host1");
        assert_eq!(owner(&"x".repeat(500)).len(), 200);
    }
}

//! The conformance suite for [`Store`] implementations: every transition and every refusal of the
//! state machine in [`crate::store`], plus races between concurrent claimers.
//!
//! An implementation passes it by providing a [`StoreFixture`] (a fresh store per case, a short lease,
//! and a way to let that lease run out) and calling [`store_conformance`]:
//!
//! ```no_run
//! use std::sync::Arc;
//! use switchboard_core::store::{MemoryStore, Store};
//! use switchboard_core::testkit::{StoreFixture, store_conformance};
//!
//! struct Fresh;
//!
//! #[switchboard_core::async_trait]
//! impl StoreFixture for Fresh {
//!     async fn store(&self) -> Arc<dyn Store> {
//!         Arc::new(MemoryStore::new())
//!     }
//! }
//!
//! # async fn run() {
//! store_conformance(&Fresh).await;
//! # }
//! ```
//!
//! Database stores judge leases by the database's clock, so the default [`StoreFixture::pass`] really
//! waits; the default lease is short (200 ms) so the whole suite waits about two seconds.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use crate::error::{Dispatch, Error, ErrorKind};
use crate::journal::{JournalEntry, JournalRecord};
use crate::message::{Message, MessageId, Receipt, Recipient};
mod decisions;
mod leases;
mod shared;

use crate::store::{
    AttemptNote, Claim, ErrorRecord, Fingerprint, KeyState, Lease, MessageKey, Outcome, Resolution, Store,
};

/// What [`store_conformance`] needs from the implementation under test.
#[async_trait]
pub trait StoreFixture: Send + Sync {
    /// A new, empty store (each case gets its own, so cases cannot see each other's keys).
    async fn store(&self) -> Arc<dyn Store>;

    /// The lease the suite gives claims it then lets run out.
    fn short_lease(&self) -> Duration {
        Duration::from_millis(200)
    }

    /// Lets `by` pass on the stores' clock. The default sleeps, which is what a store judging leases
    /// by a database server's clock needs; a store on an injectable clock advances it instead.
    async fn pass(&self, by: Duration) {
        tokio::time::sleep(by).await;
    }
}

/// Runs every case against stores from `fixture`, panicking with the case's name at the first broken
/// rule.
pub async fn store_conformance<F: StoreFixture + ?Sized>(fixture: &F) {
    use decisions::*;
    use leases::*;
    use shared::*;
    new_key_is_acquired(fixture).await;
    accepted_key_answers_its_receipt(fixture).await;
    in_flight_key_is_refused_with_owner_and_until(fixture).await;
    lease_expiry_before_an_attempt_allows_takeover(fixture).await;
    lease_expiry_after_an_attempt_is_uncertain(fixture).await;
    finish_after_expiry_is_applied(fixture).await;
    stale_and_forged_leases_are_refused(fixture).await;
    fingerprint_mismatch_is_refused(fixture).await;
    not_sent_releases_the_key(fixture).await;
    failed_answers_the_refusal(fixture).await;
    maybe_sent_is_uncertain(fixture).await;
    resolve_rules(fixture).await;
    uncertain_lists_what_needs_a_decision(fixture).await;
    next_ids_are_contiguous_and_shared(fixture).await;
    journal_appends(fixture).await;
    cursors_round_trip(fixture).await;
    extreme_leases_do_not_panic(fixture).await;
    concurrent_claims_acquire_once(fixture).await;
}

const LONG: Duration = Duration::from_secs(60);

fn key(name: &str) -> MessageKey {
    MessageKey::new(format!("conformance-{name}")).unwrap_or_else(|e| panic!("test key {name}: {e}"))
}

fn message(text: &str) -> Message {
    let to = "+355694123456".parse().unwrap_or_else(|e| panic!("test number: {e}"));
    Message::sms(to, text)
}

fn fingerprint(text: &str) -> Fingerprint {
    message(text).fingerprint()
}

fn receipt(provider_id: &str) -> Box<Receipt> {
    Box::new(
        Receipt::new("stub", &message("hello"), provider_id)
            .with_raw(serde_json::json!({"id": provider_id, "parts": [1, 2], "note": "ünïcode"})),
    )
}

fn error(kind: ErrorKind, dispatch: Dispatch, text: &str) -> ErrorRecord {
    ErrorRecord::of(
        &Error::new(kind, text.to_owned())
            .with_dispatch(dispatch)
            .with_provider("stub")
            .with_provider_code("E42"),
    )
}

fn note(reference: &str) -> AttemptNote {
    AttemptNote::new("gsm", Some(reference.to_owned()))
}

async fn acquire(
    store: &dyn Store,
    case: &str,
    k: &MessageKey,
    fp: &Fingerprint,
    owner: &str,
    lease: Duration,
) -> Lease {
    match store.claim(k, fp, owner, lease).await {
        Ok(Claim::Acquired(l)) => l,
        other => panic!("{case}: expected Acquired for {k}, got {other:?}"),
    }
}

fn assert_refused(case: &str, what: &str, res: crate::Result<()>, kind: ErrorKind) {
    match res {
        Err(e) => {
            assert_eq!(e.kind(), kind, "{case}: {what}: wrong kind in {e}");
            assert_eq!(
                e.dispatch(),
                Dispatch::NotSent,
                "{case}: {what}: a refusal must say nothing was sent"
            );
        }
        Ok(()) => panic!("{case}: {what} must be refused"),
    }
}

async fn state_of(store: &dyn Store, case: &str, k: &MessageKey) -> KeyState {
    match store.lookup(k).await {
        Ok(Some(rec)) => rec.state,
        other => panic!("{case}: lookup of {k} gave {other:?}"),
    }
}

/// Lets a short lease run out, with a margin for clock resolution.
async fn expire<F: StoreFixture + ?Sized>(fixture: &F) {
    fixture.pass(fixture.short_lease() + Duration::from_millis(60)).await;
}

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

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use crate::error::{Dispatch, Error, ErrorKind};
use crate::journal::{JournalEntry, JournalRecord};
use crate::message::{Message, MessageId, Receipt, Recipient};
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

async fn new_key_is_acquired<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "new key is acquired";
    let store = fixture.store().await;
    let k = key("new");
    assert!(
        store
            .lookup(&k)
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"))
            .is_none(),
        "{case}: an unknown key must look up as None"
    );
    let before = Utc::now() - chrono::Duration::seconds(5);
    let lease = acquire(&*store, case, &k, &fingerprint("hi"), "worker-a", LONG).await;
    assert_eq!(lease.key, k, "{case}: the lease names the key");
    assert_eq!(lease.claim, 1, "{case}: the first claim is claim 1");
    assert!(lease.token.len() >= 16, "{case}: the token must be unguessable");
    let rec = store
        .lookup(&k)
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"))
        .unwrap_or_else(|| panic!("{case}: no record"));
    assert_eq!(rec.key, k);
    assert_eq!(rec.fingerprint, fingerprint("hi"), "{case}: the fingerprint is kept");
    assert_eq!(rec.claims, 1, "{case}: claims");
    assert!(
        rec.created_at >= before && rec.updated_at >= rec.created_at,
        "{case}: timestamps {rec:?}"
    );
    match rec.state {
        KeyState::InFlight {
            owner,
            lease_until,
            attempt,
        } => {
            assert_eq!(owner, "worker-a", "{case}: owner");
            assert!(
                lease_until > Utc::now() + chrono::Duration::seconds(30),
                "{case}: lease_until {lease_until}"
            );
            assert_eq!(attempt, None, "{case}: no attempt yet");
        }
        other => panic!("{case}: expected InFlight, got {other:?}"),
    }
    // Noting an attempt shows in the record.
    store
        .note_attempt(&lease, &note("ref-1"))
        .await
        .unwrap_or_else(|e| panic!("{case}: note_attempt: {e}"));
    match state_of(&*store, case, &k).await {
        KeyState::InFlight { attempt, .. } => assert_eq!(attempt, Some(note("ref-1")), "{case}: attempt"),
        other => panic!("{case}: expected InFlight, got {other:?}"),
    }
}

async fn accepted_key_answers_its_receipt<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "accepted key answers its receipt";
    let store = fixture.store().await;
    let k = key("accepted");
    let fp = fingerprint("hi");
    let lease = acquire(&*store, case, &k, &fp, "a", LONG).await;
    store
        .note_attempt(&lease, &note("r"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let r = receipt("prov-1");
    store
        .finish(&lease, Outcome::Accepted(r.clone()))
        .await
        .unwrap_or_else(|e| panic!("{case}: finish: {e}"));
    for owner in ["a", "b"] {
        match store.claim(&k, &fp, owner, LONG).await {
            Ok(Claim::Accepted(got)) => assert_eq!(got, r, "{case}: the receipt must come back as it was"),
            other => panic!("{case}: expected Accepted, got {other:?}"),
        }
    }
    match state_of(&*store, case, &k).await {
        KeyState::Accepted { receipt: got } => assert_eq!(got, r, "{case}: lookup receipt"),
        other => panic!("{case}: expected Accepted, got {other:?}"),
    }
    // The holder cannot finish twice, and nothing can note an attempt on an accepted key.
    assert_refused(
        case,
        "a second finish",
        store.finish(&lease, Outcome::Accepted(receipt("prov-2"))).await,
        ErrorKind::Conflict,
    );
    assert_refused(
        case,
        "note_attempt on an accepted key",
        store.note_attempt(&lease, &note("r")).await,
        ErrorKind::Conflict,
    );
    match state_of(&*store, case, &k).await {
        KeyState::Accepted { receipt: got } => assert_eq!(got, r, "{case}: the first receipt stays"),
        other => panic!("{case}: expected Accepted, got {other:?}"),
    }
    let rec = store
        .lookup(&k)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{case}: record"));
    assert_eq!(rec.claims, 1, "{case}: answering a receipt is not a claim");
}

async fn in_flight_key_is_refused_with_owner_and_until<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "in-flight key is refused with owner and until";
    let store = fixture.store().await;
    let k = key("busy");
    let fp = fingerprint("hi");
    let _lease = acquire(&*store, case, &k, &fp, "host-1/pid-7", LONG).await;
    let lease_until = match state_of(&*store, case, &k).await {
        KeyState::InFlight { lease_until, .. } => lease_until,
        other => panic!("{case}: expected InFlight, got {other:?}"),
    };
    match store.claim(&k, &fp, "host-2/pid-9", LONG).await {
        Ok(Claim::InFlight { owner, until }) => {
            assert_eq!(owner, "host-1/pid-7", "{case}: the holder is named");
            let diff = (until - lease_until).num_milliseconds().abs();
            assert!(diff <= 1_000, "{case}: until {until} vs lease_until {lease_until}");
            assert!(
                until > Utc::now() + chrono::Duration::seconds(30),
                "{case}: until {until}"
            );
        }
        other => panic!("{case}: expected InFlight, got {other:?}"),
    }
    let rec = store
        .lookup(&k)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{case}: record"));
    assert_eq!(rec.claims, 1, "{case}: a refused claim does not count");
}

async fn lease_expiry_before_an_attempt_allows_takeover<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "lease expiry before an attempt allows takeover";
    let store = fixture.store().await;
    let k = key("takeover");
    let fp = fingerprint("hi");
    let old = acquire(&*store, case, &k, &fp, "a", fixture.short_lease()).await;
    expire(fixture).await;
    let new = acquire(&*store, case, &k, &fp, "b", LONG).await;
    assert_eq!(new.claim, 2, "{case}: the takeover is claim 2");
    assert_ne!(new.token, old.token, "{case}: a new token");
    match state_of(&*store, case, &k).await {
        KeyState::InFlight { owner, attempt, .. } => {
            assert_eq!(owner, "b", "{case}: the new holder");
            assert_eq!(attempt, None, "{case}: no attempt carried over");
        }
        other => panic!("{case}: expected InFlight, got {other:?}"),
    }
    // The old holder woke up: it must not send, and cannot finish.
    assert_refused(
        case,
        "the old holder's note_attempt",
        store.note_attempt(&old, &note("x")).await,
        ErrorKind::Conflict,
    );
    assert_refused(
        case,
        "the old holder's finish",
        store.finish(&old, Outcome::Accepted(receipt("p"))).await,
        ErrorKind::Conflict,
    );
    // The new holder is unaffected.
    store
        .note_attempt(&new, &note("y"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    store
        .finish(&new, Outcome::Accepted(receipt("p2")))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    match store.claim(&k, &fp, "c", LONG).await {
        Ok(Claim::Accepted(r)) => assert_eq!(r.provider_id(), "p2", "{case}: the new holder's receipt"),
        other => panic!("{case}: expected Accepted, got {other:?}"),
    }
}

async fn lease_expiry_after_an_attempt_is_uncertain<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "lease expiry after an attempt is uncertain";
    let store = fixture.store().await;
    let k = key("crashed");
    let fp = fingerprint("hi");
    let old = acquire(&*store, case, &k, &fp, "a", fixture.short_lease()).await;
    store
        .note_attempt(&old, &note("dinstar-77"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    expire(fixture).await;
    // The stalled holder may not start another attempt (a failover) once its key is uncertain, whether
    // or not anyone has looked at the key since.
    assert_refused(
        case,
        "a second attempt after expiry",
        store.note_attempt(&old, &note("other")).await,
        ErrorKind::Conflict,
    );
    match store.claim(&k, &fp, "b", LONG).await {
        Ok(Claim::Uncertain { error, attempt }) => {
            assert_eq!(attempt, Some(note("dinstar-77")), "{case}: the attempt to reconcile");
            assert_eq!(error.dispatch, "maybe_sent", "{case}: {error:?}");
        }
        other => panic!("{case}: expected Uncertain, got {other:?}"),
    }
    match state_of(&*store, case, &k).await {
        KeyState::Uncertain { attempt, .. } => assert_eq!(attempt, Some(note("dinstar-77"))),
        other => panic!("{case}: expected Uncertain, got {other:?}"),
    }
    assert_refused(
        case,
        "a second attempt after a look",
        store.note_attempt(&old, &note("other")).await,
        ErrorKind::Conflict,
    );
    let listed = store.uncertain(10).await.unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(listed.len(), 1, "{case}: listed {listed:?}");
    assert_eq!(listed[0].key, k);
    let rec = store
        .lookup(&k)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{case}: record"));
    assert_eq!(rec.claims, 1, "{case}: nobody took it over");
}

async fn finish_after_expiry_is_applied<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "finish after expiry is applied";
    let store = fixture.store().await;
    let fp = fingerprint("hi");
    // Accepted late: the receipt wins.
    let k = key("late-accepted");
    let lease = acquire(&*store, case, &k, &fp, "a", fixture.short_lease()).await;
    store
        .note_attempt(&lease, &note("r"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    expire(fixture).await;
    store
        .finish(&lease, Outcome::Accepted(receipt("late")))
        .await
        .unwrap_or_else(|e| panic!("{case}: a late finish must be applied: {e}"));
    match store.claim(&k, &fp, "b", LONG).await {
        Ok(Claim::Accepted(r)) => assert_eq!(r.provider_id(), "late"),
        other => panic!("{case}: expected Accepted, got {other:?}"),
    }
    // Seen as uncertain by someone first, then finished: still applied.
    let k = key("late-after-look");
    let lease = acquire(&*store, case, &k, &fp, "a", fixture.short_lease()).await;
    store
        .note_attempt(&lease, &note("r"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    expire(fixture).await;
    assert!(
        matches!(store.claim(&k, &fp, "b", LONG).await, Ok(Claim::Uncertain { .. })),
        "{case}: uncertain first"
    );
    store
        .finish(
            &lease,
            Outcome::NotSent(error(ErrorKind::Transport, Dispatch::NotSent, "refused")),
        )
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let again = acquire(&*store, case, &k, &fp, "b", LONG).await;
    assert_eq!(again.claim, 2, "{case}: released and claimed again");
    // Expired without an attempt and not taken over: the holder's finish still counts.
    let k = key("late-no-attempt");
    let lease = acquire(&*store, case, &k, &fp, "a", fixture.short_lease()).await;
    expire(fixture).await;
    store
        .finish(
            &lease,
            Outcome::Failed(error(ErrorKind::Rejected, Dispatch::Sent, "blocked")),
        )
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(
        matches!(store.claim(&k, &fp, "b", LONG).await, Ok(Claim::Failed(_))),
        "{case}: failed"
    );
}

async fn stale_and_forged_leases_are_refused<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "stale and forged leases are refused";
    let store = fixture.store().await;
    let k = key("forged");
    let fp = fingerprint("hi");
    let real = acquire(&*store, case, &k, &fp, "a", LONG).await;
    let forged = Lease::issue(k.clone(), real.claim);
    assert_refused(
        case,
        "note with a forged token",
        store.note_attempt(&forged, &note("x")).await,
        ErrorKind::Conflict,
    );
    assert_refused(
        case,
        "finish with a forged token",
        store.finish(&forged, Outcome::Accepted(receipt("x"))).await,
        ErrorKind::Conflict,
    );
    let unknown = Lease::issue(key("never-claimed"), 1);
    assert_refused(
        case,
        "note on an unknown key",
        store.note_attempt(&unknown, &note("x")).await,
        ErrorKind::Conflict,
    );
    assert_refused(
        case,
        "finish on an unknown key",
        store.finish(&unknown, Outcome::Accepted(receipt("x"))).await,
        ErrorKind::Conflict,
    );
    assert!(
        store.lookup(&unknown.key).await.ok().flatten().is_none(),
        "{case}: a refused finish creates nothing"
    );
    match state_of(&*store, case, &k).await {
        KeyState::InFlight { owner, attempt, .. } => {
            assert_eq!(owner, "a");
            assert_eq!(attempt, None, "{case}: the forged note left no trace");
        }
        other => panic!("{case}: expected InFlight, got {other:?}"),
    }
}

async fn fingerprint_mismatch_is_refused<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "fingerprint mismatch is refused";
    let store = fixture.store().await;
    let k = key("reused");
    let lease = acquire(&*store, case, &k, &fingerprint("first text"), "a", LONG).await;
    let check = |res: crate::Result<Claim>, when: &str| match res {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Conflict, "{case} {when}: {e}");
            assert_eq!(e.dispatch(), Dispatch::NotSent, "{case} {when}");
        }
        Ok(c) => panic!("{case} {when}: a key reused for another message must be refused, got {c:?}"),
    };
    check(
        store.claim(&k, &fingerprint("other text"), "b", LONG).await,
        "while in flight",
    );
    store
        .finish(&lease, Outcome::Accepted(receipt("p")))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    check(
        store.claim(&k, &fingerprint("other text"), "b", LONG).await,
        "once accepted",
    );
    assert!(
        matches!(
            store.claim(&k, &fingerprint("first text"), "b", LONG).await,
            Ok(Claim::Accepted(_))
        ),
        "{case}: the right message still gets its receipt"
    );
}

async fn not_sent_releases_the_key<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "not sent releases the key";
    let store = fixture.store().await;
    let k = key("released");
    let fp = fingerprint("hi");
    let lease = acquire(&*store, case, &k, &fp, "a", LONG).await;
    let why = error(ErrorKind::Unavailable, Dispatch::NotSent, "gateway busy");
    store
        .finish(&lease, Outcome::NotSent(why.clone()))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    match state_of(&*store, case, &k).await {
        KeyState::Released { error } => assert_eq!(error, why, "{case}: the reason is kept"),
        other => panic!("{case}: expected Released, got {other:?}"),
    }
    assert_refused(
        case,
        "finish after release",
        store.finish(&lease, Outcome::Accepted(receipt("p"))).await,
        ErrorKind::Conflict,
    );
    let again = acquire(&*store, case, &k, &fp, "b", LONG).await;
    assert_eq!(again.claim, 2, "{case}: claim 2");
    let rec = store
        .lookup(&k)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{case}: record"));
    assert_eq!(rec.claims, 2, "{case}: claims counted");
}

async fn failed_answers_the_refusal<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "failed answers the refusal";
    let store = fixture.store().await;
    let k = key("failed");
    let fp = fingerprint("hi");
    let lease = acquire(&*store, case, &k, &fp, "a", LONG).await;
    let why = error(ErrorKind::Rejected, Dispatch::Sent, "number blocked");
    store
        .finish(&lease, Outcome::Failed(why.clone()))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    match store.claim(&k, &fp, "b", LONG).await {
        Ok(Claim::Failed(e)) => assert_eq!(e, why, "{case}"),
        other => panic!("{case}: expected Failed, got {other:?}"),
    }
    match state_of(&*store, case, &k).await {
        KeyState::Failed { error } => assert_eq!(error, why),
        other => panic!("{case}: expected Failed, got {other:?}"),
    }
}

async fn maybe_sent_is_uncertain<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "maybe sent is uncertain";
    let store = fixture.store().await;
    let k = key("maybe");
    let fp = fingerprint("hi");
    let lease = acquire(&*store, case, &k, &fp, "a", LONG).await;
    store
        .note_attempt(&lease, &note("ref-9"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let why = error(ErrorKind::Timeout, Dispatch::MaybeSent, "no answer");
    store
        .finish(&lease, Outcome::MaybeSent(why.clone()))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    match store.claim(&k, &fp, "b", LONG).await {
        Ok(Claim::Uncertain { error, attempt }) => {
            assert_eq!(error, why, "{case}: error");
            assert_eq!(attempt, Some(note("ref-9")), "{case}: attempt");
        }
        other => panic!("{case}: expected Uncertain, got {other:?}"),
    }
    assert_refused(
        case,
        "note_attempt on an uncertain key",
        store.note_attempt(&lease, &note("x")).await,
        ErrorKind::Conflict,
    );
}

async fn resolve_rules<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "resolve rules";
    let store = fixture.store().await;
    let fp = fingerprint("hi");
    let maybe = |t: &str| Outcome::MaybeSent(error(ErrorKind::Timeout, Dispatch::MaybeSent, t));
    let resolve_err = |res: crate::Result<()>, kind: ErrorKind, what: &str| match res {
        Err(e) => assert_eq!(e.kind(), kind, "{case}: {what}: {e}"),
        Ok(()) => panic!("{case}: {what} must be refused"),
    };

    resolve_err(
        store.resolve(&key("nobody"), Resolution::Accepted(receipt("p"))).await,
        ErrorKind::NotFound,
        "resolving an unknown key",
    );

    let live = key("live");
    let _l = acquire(&*store, case, &live, &fp, "a", LONG).await;
    resolve_err(
        store
            .resolve(
                &live,
                Resolution::NotSent(error(ErrorKind::Timeout, Dispatch::NotSent, "x")),
            )
            .await,
        ErrorKind::Conflict,
        "resolving a live in-flight key",
    );

    let done = key("done");
    let l = acquire(&*store, case, &done, &fp, "a", LONG).await;
    store
        .finish(&l, Outcome::Accepted(receipt("p")))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    resolve_err(
        store
            .resolve(
                &done,
                Resolution::NotSent(error(ErrorKind::Timeout, Dispatch::NotSent, "x")),
            )
            .await,
        ErrorKind::Conflict,
        "un-accepting a key",
    );

    // Uncertain → Accepted: the receipt answers from now on; the old holder's late finish cannot
    // overwrite the decision.
    let a = key("to-accept");
    let l = acquire(&*store, case, &a, &fp, "a", LONG).await;
    store
        .note_attempt(&l, &note("r"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    store
        .finish(&l, maybe("t"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    store
        .resolve(&a, Resolution::Accepted(receipt("found")))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_refused(
        case,
        "a finish after the decision",
        store
            .finish(
                &l,
                Outcome::NotSent(error(ErrorKind::Transport, Dispatch::NotSent, "x")),
            )
            .await,
        ErrorKind::Conflict,
    );
    match store.claim(&a, &fp, "b", LONG).await {
        Ok(Claim::Accepted(r)) => assert_eq!(r.provider_id(), "found", "{case}"),
        other => panic!("{case}: expected Accepted, got {other:?}"),
    }
    resolve_err(
        store.resolve(&a, Resolution::Accepted(receipt("again"))).await,
        ErrorKind::Conflict,
        "resolving twice",
    );

    // Uncertain → NotSent: released, may be claimed again.
    let n = key("to-release");
    let l = acquire(&*store, case, &n, &fp, "a", LONG).await;
    store
        .finish(&l, maybe("t"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let why = error(
        ErrorKind::NotFound,
        Dispatch::NotSent,
        "the provider has no such message",
    );
    store
        .resolve(&n, Resolution::NotSent(why.clone()))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    match state_of(&*store, case, &n).await {
        KeyState::Released { error } => assert_eq!(error, why),
        other => panic!("{case}: expected Released, got {other:?}"),
    }
    assert_eq!(
        acquire(&*store, case, &n, &fp, "b", LONG).await.claim,
        2,
        "{case}: claimed again"
    );

    // Uncertain → Failed: answers the error from now on.
    let f = key("to-fail");
    let l = acquire(&*store, case, &f, &fp, "a", LONG).await;
    store
        .finish(&l, maybe("t"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let why = error(ErrorKind::NeedsDecision, Dispatch::MaybeSent, "given up by an operator");
    store
        .resolve(&f, Resolution::Failed(why.clone()))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    match store.claim(&f, &fp, "b", LONG).await {
        Ok(Claim::Failed(e)) => assert_eq!(e, why),
        other => panic!("{case}: expected Failed, got {other:?}"),
    }

    // An in-flight key whose lease ran out after an attempt may be resolved directly.
    let x = key("expired-attempt");
    let l = acquire(&*store, case, &x, &fp, "a", fixture.short_lease()).await;
    store
        .note_attempt(&l, &note("r"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    expire(fixture).await;
    store
        .resolve(&x, Resolution::Accepted(receipt("reconciled")))
        .await
        .unwrap_or_else(|e| panic!("{case}: resolving an expired attempt: {e}"));
    assert_refused(
        case,
        "the stalled holder's finish after the decision",
        store.finish(&l, Outcome::Accepted(receipt("late"))).await,
        ErrorKind::Conflict,
    );
    match state_of(&*store, case, &x).await {
        KeyState::Accepted { receipt } => assert_eq!(receipt.provider_id(), "reconciled"),
        other => panic!("{case}: expected Accepted, got {other:?}"),
    }

    // An in-flight key whose lease ran out before any attempt has nothing to decide.
    let y = key("expired-no-attempt");
    let _l = acquire(&*store, case, &y, &fp, "a", fixture.short_lease()).await;
    expire(fixture).await;
    resolve_err(
        store
            .resolve(
                &y,
                Resolution::NotSent(error(ErrorKind::Timeout, Dispatch::NotSent, "x")),
            )
            .await,
        ErrorKind::Conflict,
        "resolving an expired key without an attempt",
    );
}

async fn uncertain_lists_what_needs_a_decision<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "uncertain lists what needs a decision";
    let store = fixture.store().await;
    let fp = fingerprint("hi");
    let maybe = || Outcome::MaybeSent(error(ErrorKind::Timeout, Dispatch::MaybeSent, "t"));
    assert!(
        store
            .uncertain(10)
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"))
            .is_empty(),
        "{case}: empty store"
    );

    let mut expected = HashSet::new();
    for i in 0..3 {
        let k = key(&format!("u{i}"));
        let l = acquire(&*store, case, &k, &fp, "a", LONG).await;
        store
            .note_attempt(&l, &note("r"))
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        store
            .finish(&l, maybe())
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        expected.insert(k);
    }
    let stalled = key("stalled");
    let l = acquire(&*store, case, &stalled, &fp, "a", fixture.short_lease()).await;
    store
        .note_attempt(&l, &note("r"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    expected.insert(stalled);
    // Not listed: accepted, live, released, failed, and expired before an attempt.
    let l = acquire(&*store, case, &key("ok"), &fp, "a", LONG).await;
    store
        .finish(&l, Outcome::Accepted(receipt("p")))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let l = acquire(&*store, case, &key("live"), &fp, "a", LONG).await;
    store
        .note_attempt(&l, &note("r"))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let l = acquire(&*store, case, &key("rel"), &fp, "a", LONG).await;
    store
        .finish(
            &l,
            Outcome::NotSent(error(ErrorKind::Transport, Dispatch::NotSent, "x")),
        )
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let l = acquire(&*store, case, &key("fail"), &fp, "a", LONG).await;
    store
        .finish(&l, Outcome::Failed(error(ErrorKind::Rejected, Dispatch::Sent, "x")))
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let _l = acquire(&*store, case, &key("idle"), &fp, "a", fixture.short_lease()).await;
    expire(fixture).await;

    let all = store.uncertain(100).await.unwrap_or_else(|e| panic!("{case}: {e}"));
    let got: HashSet<MessageKey> = all.iter().map(|r| r.key.clone()).collect();
    assert_eq!(
        got, expected,
        "{case}: exactly the uncertain keys and the stalled attempt"
    );
    assert!(
        all.windows(2).all(|w| w[0].created_at <= w[1].created_at),
        "{case}: oldest first: {all:?}"
    );
    for rec in &all {
        assert!(
            matches!(rec.state, KeyState::Uncertain { .. }),
            "{case}: listed as uncertain: {rec:?}"
        );
    }
    let two = store.uncertain(2).await.unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(two.len(), 2, "{case}: the limit holds");
    assert_eq!(two[0].key, all[0].key, "{case}: the oldest come first");
    assert!(
        store
            .uncertain(0)
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"))
            .is_empty(),
        "{case}: limit 0"
    );
}

async fn next_ids_are_contiguous_and_shared<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "next_ids are contiguous and shared";
    let store = fixture.store().await;
    let next = |s: &'static str, n: u32| {
        let store = store.clone();
        async move { store.next_ids(s, n).await.unwrap_or_else(|e| panic!("{case}: {e}")) }
    };
    assert_eq!(next("dinstar:gw1", 1).await, 1, "{case}: sequences start at 1");
    assert_eq!(next("dinstar:gw1", 3).await, 2, "{case}: then 2");
    assert_eq!(next("dinstar:gw1", 1).await, 5, "{case}: 2..=4 were reserved");
    assert_eq!(next("other", 10).await, 1, "{case}: sequences are independent");
    assert_eq!(next("dinstar:gw1", 0).await, 6, "{case}: zero reserves one");
    assert_eq!(next("dinstar:gw1", 1).await, 7, "{case}: zero reserved one");

    // Concurrent reservations never overlap and leave no gap.
    let mut tasks = Vec::new();
    for t in 0..8u32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..15u32 {
                let n = 1 + (t + i) % 4;
                let first = store.next_ids("race", n).await.map_err(|e| e.to_string())?;
                got.push((first, n));
            }
            Ok::<_, String>(got)
        }));
    }
    let mut ranges = Vec::new();
    for t in tasks {
        match t.await {
            Ok(Ok(got)) => ranges.extend(got),
            other => panic!("{case}: a reserving task failed: {other:?}"),
        }
    }
    ranges.sort_unstable();
    let mut expect = 1u64;
    for (first, n) in &ranges {
        assert_eq!(*first, expect, "{case}: ranges overlap or leave a gap: {ranges:?}");
        expect += u64::from(*n);
    }
}

async fn journal_appends<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "journal appends";
    let store = fixture.store().await;
    let id = MessageId::random();
    let to: Recipient = Recipient::Phone("+355694123456".parse().unwrap_or_else(|e| panic!("{e}")));
    let entries = [
        JournalEntry::new(
            Some(id.clone()),
            JournalRecord::Attempt {
                transport: "gsm".into(),
                attempt: 1,
                to,
            },
        ),
        JournalEntry::new(
            Some(id.clone()),
            JournalRecord::failed("gsm", &Error::new(ErrorKind::Timeout, "slow")),
        ),
        JournalEntry::new(Some(id), JournalRecord::Accepted { receipt: receipt("p") }),
        JournalEntry::new(
            None,
            JournalRecord::failed("cloud", &Error::new(ErrorKind::Auth, "bad key")),
        ),
    ];
    for e in entries {
        store.record(e).await.unwrap_or_else(|e| panic!("{case}: {e}"));
    }
}

async fn cursors_round_trip<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "cursors round trip";
    let store = fixture.store().await;
    assert_eq!(
        store
            .load("dinstar:inbox")
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}")),
        None,
        "{case}: unknown"
    );
    store
        .store("dinstar:inbox", "41")
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    store
        .store("dinstar:inbox", "42")
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    store
        .store("sync:page", "token/ü+=")
        .await
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(
        store.load("dinstar:inbox").await.ok().flatten().as_deref(),
        Some("42"),
        "{case}: last write wins"
    );
    assert_eq!(
        store.load("sync:page").await.ok().flatten().as_deref(),
        Some("token/ü+="),
        "{case}: kept as is"
    );
}

async fn extreme_leases_do_not_panic<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "extreme leases do not panic";
    let store = fixture.store().await;
    let fp = fingerprint("hi");
    // An absurdly long lease is either refused as bad input or held (practically) forever.
    let k = key("forever");
    match store.claim(&k, &fp, "a", Duration::MAX).await {
        Ok(Claim::Acquired(_)) => {
            assert!(
                matches!(store.claim(&k, &fp, "b", LONG).await, Ok(Claim::InFlight { .. })),
                "{case}: held"
            );
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidInput, "{case}: {e}"),
        Ok(other) => panic!("{case}: {other:?}"),
    }
    // A zero lease runs out at once: the next claimer takes over.
    let k = key("zero");
    acquire(&*store, case, &k, &fp, "a", Duration::ZERO).await;
    fixture.pass(Duration::from_millis(5)).await;
    assert_eq!(
        acquire(&*store, case, &k, &fp, "b", LONG).await.claim,
        2,
        "{case}: taken over"
    );
}

async fn concurrent_claims_acquire_once<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "concurrent claims acquire once";
    let store = fixture.store().await;
    let k = key("contended");
    let fp = fingerprint("hi");
    let race = |lease: Duration| {
        let barrier = Arc::new(tokio::sync::Barrier::new(16));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (store, k, fp, barrier) = (store.clone(), k.clone(), fp.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .claim(&k, &fp, &format!("task-{i}"), lease)
                        .await
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        async move {
            let mut acquired = Vec::new();
            for t in tasks {
                match t.await {
                    Ok(Ok(Claim::Acquired(l))) => acquired.push(l),
                    Ok(Ok(Claim::InFlight { .. })) => {}
                    other => panic!("{case}: a claimer got {other:?}"),
                }
            }
            acquired
        }
    };
    let first = race(fixture.short_lease()).await;
    assert_eq!(first.len(), 1, "{case}: exactly one of 16 claimers acquires a new key");
    assert_eq!(first[0].claim, 1);
    expire(fixture).await;
    let second = race(LONG).await;
    assert_eq!(second.len(), 1, "{case}: exactly one of 16 takes over an expired lease");
    assert_eq!(second[0].claim, 2);
}

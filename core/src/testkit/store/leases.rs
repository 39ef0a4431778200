//! Claims, leases and how the holder finishes: the cases about who may send.

use super::*;

pub(super) async fn new_key_is_acquired<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn accepted_key_answers_its_receipt<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn in_flight_key_is_refused_with_owner_and_until<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn lease_expiry_before_an_attempt_allows_takeover<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn lease_expiry_after_an_attempt_is_uncertain<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn finish_after_expiry_is_applied<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn stale_and_forged_leases_are_refused<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn fingerprint_mismatch_is_refused<F: StoreFixture + ?Sized>(fixture: &F) {
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

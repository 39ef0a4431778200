//! Keys that were not accepted: released, failed, uncertain, and the decisions that settle them.

use std::collections::HashSet;

use super::*;

pub(super) async fn not_sent_releases_the_key<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn failed_answers_the_refusal<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn maybe_sent_is_uncertain<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn resolve_rules<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn uncertain_lists_what_needs_a_decision<F: StoreFixture + ?Sized>(fixture: &F) {
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

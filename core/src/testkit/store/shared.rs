//! What every process shares: sequences, the journal, cursors; and races between claimers.

use super::*;

pub(super) async fn next_ids_are_contiguous_and_shared<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn journal_appends<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn cursors_round_trip<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn extreme_leases_do_not_panic<F: StoreFixture + ?Sized>(fixture: &F) {
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

pub(super) async fn concurrent_claims_acquire_once<F: StoreFixture + ?Sized>(fixture: &F) {
    let case = "concurrent claims acquire once";
    let store = fixture.store().await;
    let fp = fingerprint("hi");
    // Every claimer asks for a long lease: a short one could run out while the slowest claimers are
    // still on their way, and then taking it over would be right.
    let race = |k: MessageKey| {
        let barrier = Arc::new(tokio::sync::Barrier::new(16));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (store, k, fp, barrier) = (store.clone(), k.clone(), fp.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .claim(&k, &fp, &format!("task-{i}"), LONG)
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
    let first = race(key("contended")).await;
    assert_eq!(first.len(), 1, "{case}: exactly one of 16 claimers acquires a new key");
    assert_eq!(first[0].claim, 1);
    let k = key("contended-expired");
    acquire(&*store, case, &k, &fp, "gone", fixture.short_lease()).await;
    expire(fixture).await;
    let second = race(k).await;
    assert_eq!(second.len(), 1, "{case}: exactly one of 16 takes over an expired lease");
    assert_eq!(second[0].claim, 2);
}

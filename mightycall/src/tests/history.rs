//! Journal paging and the resumable history sync.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::sim::{SIM_API_KEY, SIM_USER_KEY, Simulator};
use crate::{JournalQuery, ManualClock, MightyCallClient, MightyCallConfig, SyncCursor};
use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use switchboard_core::testkit::Fault;
use switchboard_core::{CursorStore, Event, MemoryCursorStore, PhoneNumber, RetryPolicy};

fn client(sim: &Simulator) -> MightyCallClient {
    let config = MightyCallConfig::builder(SIM_API_KEY, SIM_USER_KEY)
        .base_url(format!("{}/v4", sim.uri()))
        .retry(
            RetryPolicy::default()
                .with_delays(Duration::from_millis(1), Duration::from_millis(2))
                .with_jitter(false),
        )
        .build()
        .unwrap();
    MightyCallClient::with_clock(config, Arc::new(ManualClock::new())).unwrap()
}

fn party(i: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1202555{:04}", 1000 + i % 9000), None).unwrap()
}

/// Adds `n` entries spread over the last `n` minutes (before now), alternating messages and calls.
fn seed(sim: &Simulator, n: u32) {
    let now = Utc::now();
    for i in 0..n {
        let at = now - chrono::Duration::seconds(i64::from(i) * 60 + 30);
        if i % 2 == 0 {
            sim.add_entry(
                "Message",
                "Incoming",
                "Received",
                &party(i),
                Some(format!("msg {i}")),
                None,
                at,
            );
        } else {
            sim.add_entry("Call", "Incoming", "Connected", &party(i), None, Some(u64::from(i)), at);
        }
    }
}

#[tokio::test]
async fn pages_are_newest_first_and_end_with_a_short_page() {
    let sim = Simulator::start().await;
    seed(&sim, 247); // + 3 seeded by the simulator = 250
    let c = client(&sim);
    let q = JournalQuery::new().page_size(100);
    let p1 = c.journal_page(&q, 1).await.unwrap();
    assert_eq!((p1.current_page, p1.requests.len()), (Some(1), 100));
    let times: Vec<_> = p1.requests.iter().map(|r| r.at().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(c.journal_page(&q, 3).await.unwrap().requests.len(), 50);
    let messages = c
        .journal_page(&JournalQuery::new().page_size(1000).kind("Message"), 1)
        .await
        .unwrap();
    assert!(messages.requests.iter().all(|r| r.is_message()));
    assert_eq!(messages.requests.len(), 124 + 1);
}

#[tokio::test]
async fn a_sync_visits_every_entry_once_and_can_resume() {
    let sim = Simulator::start().await;
    seed(&sim, 247);
    let c = client(&sim);
    let store = MemoryCursorStore::new();
    let start = SyncCursor::from_now(None).with_page_size(100);

    // First run: process one page, store the cursor, "crash".
    let mut seen = HashSet::new();
    {
        let mut pages = Box::pin(c.history(start.clone(), JournalQuery::new()));
        let page = pages.next().await.unwrap().unwrap();
        assert_eq!(page.requests.len(), 100);
        assert!(!page.cursor.done);
        seen.extend(page.requests.iter().map(|r| r.id.clone()));
        store.store("mightycall", &page.cursor.encode()).await.unwrap();
    }

    // New activity while we were down: it falls after the window and must not shift its pages.
    for i in 0..7 {
        sim.add_inbound_message(&party(9000 + i), "late");
    }

    // Second run resumes from the stored cursor.
    let cursor = SyncCursor::decode(&store.load("mightycall").await.unwrap().unwrap()).unwrap();
    assert_eq!(cursor.next_page, 2);
    let rest: Vec<_> = c.history(cursor, JournalQuery::new()).try_collect().await.unwrap();
    assert_eq!(rest.iter().map(|p| p.requests.len()).collect::<Vec<_>>(), [100, 50]);
    let last = rest.last().unwrap().cursor.clone();
    assert!(last.done);
    for p in &rest {
        for r in &p.requests {
            assert!(seen.insert(r.id.clone()), "entry {} seen twice", r.id);
        }
    }
    assert_eq!(seen.len(), 250);

    // The next window picks up what arrived meanwhile, and nothing else.
    let next: Vec<_> = c
        .history(
            last.next_window(Utc::now() + chrono::Duration::seconds(1)),
            JournalQuery::new(),
        )
        .try_collect()
        .await
        .unwrap();
    let new: Vec<_> = next.iter().flat_map(|p| p.requests.iter()).collect();
    assert_eq!(new.len(), 7);
    assert!(new.iter().all(|r| r.text.as_deref() == Some("late")));
    for r in new {
        match r.to_event() {
            Event::Inbound(m) => assert_eq!(m.text, "late"),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_done_cursor_yields_nothing_and_a_failure_ends_the_stream() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let mut done = SyncCursor::from_now(None);
    done.done = true;
    assert_eq!(c.history(done, JournalQuery::new()).count().await, 0);

    c.authenticate().await.unwrap();
    sim.faults().push_n(switchboard_core::testkit::Fault::Status(503), 3);
    let items: Vec<_> = c
        .history(SyncCursor::from_now(None), JournalQuery::new())
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
}

#[tokio::test]
async fn a_server_that_ignores_paging_is_caught() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.authenticate().await.unwrap();
    let page = r#"{"currentPage":1,"requests":[{"id":"a","type":"Call"},{"id":"b","type":"Call"}]}"#;
    sim.faults().push_n(Fault::StatusJson(200, page.into()), 2);
    let items: Vec<_> = c
        .history(SyncCursor::from_now(None).with_page_size(2), JournalQuery::new())
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let e = items[1].as_ref().unwrap_err();
    assert_eq!(e.kind(), switchboard_core::ErrorKind::Decode);
}

#[tokio::test]
async fn a_journal_page_wrapped_in_an_array_or_envelope_reads_the_same() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.authenticate().await.unwrap();
    let bare = r#"{"currentPage":1,"requests":[{"id":7,"type":"Message","origin":"Outgoing","state":"Sent"}]}"#;
    for body in [
        format!("[{bare}]"),
        format!(r#"{{"isSuccess":true,"data":{bare}}}"#),
        bare.to_owned(),
    ] {
        sim.faults().push(Fault::StatusJson(200, body.clone()));
        let p = c.journal_page(&JournalQuery::new(), 1).await.unwrap();
        assert_eq!(p.requests.len(), 1, "{body}");
        assert_eq!(p.requests[0].id, "7");
    }
}

#[tokio::test]
async fn a_page_mixing_good_alternative_and_broken_entries_syncs_past_the_broken_ones() {
    let sim = Simulator::start().await;
    let now = Utc::now();
    let minutes = |m: i64| now - chrono::Duration::minutes(m);
    let iso = |m: i64| minutes(m).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    // Newest first, five per page: [1, 2*, 3', 4, 5'] [6, 7*, 8, seed, seed] [seed], where * is broken
    // and ' the object shape of `businessNumber`/`client`.
    for m in [1, 4, 6, 8] {
        sim.add_entry(
            "Message",
            "Incoming",
            "Received",
            &party(m as u32),
            Some(format!("plain {m}")),
            None,
            minutes(m),
        );
    }
    let broken_a = serde_json::json!({"id": "broken-a", "type": "Message", "origin": "Incoming",
        "dateTimeUtc": iso(2), "businessNumber": ["+18444131701"], "from": "+12025550101", "text": "x"});
    let broken_b = serde_json::json!({"id": {"nested": true}, "type": "Call", "dateTimeUtc": iso(7)});
    sim.add_raw_entry(minutes(2), broken_a.clone());
    sim.add_raw_entry(minutes(7), broken_b.clone());
    for m in [3, 5] {
        sim.add_raw_entry(
            minutes(m),
            serde_json::json!({"id": format!("alt-{m}"), "type": "Message", "origin": "Incoming",
                "state": "Received", "dateTimeUtc": iso(m), "text": format!("alt {m}"),
                "businessNumber": {"number": "+18444131701", "name": "Main line"},
                "client": {"address": "+12025550177"}}),
        );
    }

    let c = client(&sim);
    let pages: Vec<_> = c
        .history(SyncCursor::from_now(None).with_page_size(5), JournalQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages
            .iter()
            .map(|p| (p.requests.len(), p.undecodable.len()))
            .collect::<Vec<_>>(),
        [(4, 1), (4, 1), (1, 0)],
        "a full page with a broken entry is still full, so the sync goes on"
    );
    assert!(pages.last().unwrap().cursor.done);

    let bad: Vec<_> = pages.iter().flat_map(|p| p.undecodable.iter()).collect();
    assert_eq!(bad[0].raw, broken_a, "kept exactly as MightyCall sent it");
    assert_eq!(bad[0].id.as_deref(), Some("broken-a"));
    assert!(bad[0].reason.contains("businessNumber"), "{}", bad[0].reason);
    assert_eq!((bad[1].raw.clone(), bad[1].id.clone()), (broken_b, None));
    for b in &bad {
        assert!(!b.reason.contains("555") && !format!("{b:?}").contains("5550101"));
    }

    let alt: Vec<_> = pages
        .iter()
        .flat_map(|p| p.requests.iter())
        .filter(|r| r.id.starts_with("alt-"))
        .collect();
    assert_eq!(alt.len(), 2);
    for r in alt {
        assert_eq!(r.business_phone(), Some("+18444131701"));
        assert_eq!(r.business_number.as_ref().unwrap().name(), Some("Main line"));
        match r.to_event() {
            Event::Inbound(m) => {
                assert_eq!(m.from, "+12025550177", "the sender comes from `client`");
                assert_eq!(m.to.as_deref(), Some("+18444131701"));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn journal_entries_in_the_object_shape_read_like_the_plain_ones() {
    let sim = Simulator::start().await;
    sim.set_object_parties(true);
    let c = client(&sim);
    let page = c.journal_page(&JournalQuery::new(), 1).await.unwrap();
    assert!(page.undecodable.is_empty());
    assert_eq!(page.requests.len(), 3);
    for r in &page.requests {
        assert!(r.from.is_none() && r.to.is_none(), "the object shape has no from/to");
        assert_eq!(r.party_to(), Some(crate::sim::SIM_BUSINESS_NUMBER));
        assert!(r.party_from().unwrap().starts_with("+1555000"));
    }
    let inbound = page.requests.iter().find(|r| r.is_message()).unwrap();
    match inbound.to_event() {
        Event::Inbound(m) => assert_eq!(m.from, "+15550002222"),
        other => panic!("{other:?}"),
    }
    let call = page.requests.iter().find(|r| r.is_call()).unwrap();
    match call.to_event() {
        Event::Call(e) => assert!(e.from.as_deref().unwrap().starts_with("+1555000")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn one_entry_looked_up_by_id_that_does_not_read_is_a_decode_error_without_the_number() {
    let sim = Simulator::start().await;
    sim.add_raw_entry(
        Utc::now(),
        serde_json::json!({"id": "odd", "type": "Message", "client": [{"address": "+12025550188"}]}),
    );
    let e = client(&sim).journal_request("odd").await.unwrap_err();
    assert_eq!(e.kind(), switchboard_core::ErrorKind::Decode);
    assert!(e.to_string().contains("client"), "{e}");
    assert!(!format!("{e} {e:?}").contains("5550188"));
}

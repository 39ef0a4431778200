//! Webhooks: calls played by the simulator and pushed to a sink, decoded and journaled; the secret in
//! the URL; every documented quirk; garbage.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{Outcome, SIM_APP_ID, SIM_SECRET, SIM_WEBHOOK_SECRET, Simulator};
use crate::webhook::{CallStatus, Direction, HangupReason, Leg, PushKind};
use crate::{
    AllowAll, CallNotification, CallRequest, Credentials, TeleCmiClient, TeleCmiConfig, TeleCmiConfigBuilder,
    TeleCmiWebhook,
};
use serde_json::{Value, json};
use switchboard_core::testkit::WebhookSink;
use switchboard_core::webhook::{Webhook, WebhookRequest};
use switchboard_core::{
    CallState, Error, ErrorKind, Event, Journal, JournalEntry, JournalRecord, MemoryJournal, MessageId, PhoneNumber,
    async_trait,
};

const AGENT: &str = "101_1111112";

fn customer() -> PhoneNumber {
    PhoneNumber::parse("+91 98123 45678", None).unwrap()
}

fn config(sim: &Simulator) -> TeleCmiConfigBuilder {
    TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, SIM_SECRET))
        .endpoint(sim.uri())
        .webhook_secret(SIM_WEBHOOK_SECRET)
}

struct Rig {
    sim: Simulator,
    sink: WebhookSink,
    client: TeleCmiClient,
    journal: Arc<MemoryJournal>,
}

async fn rig() -> Rig {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_webhook_url(format!("{}/hooks/telecmi?token={SIM_WEBHOOK_SECRET}", sink.uri()));
    let journal = Arc::new(MemoryJournal::new());
    let client = TeleCmiClient::builder(config(&sim).build().unwrap())
        .policy(AllowAll)
        .journal(journal.clone())
        .build()
        .unwrap();
    Rig {
        sim,
        sink,
        client,
        journal,
    }
}

async fn events_of(rig: &Rig, n: usize) -> Vec<Event> {
    let mut out = Vec::new();
    for hook in rig.sink.wait_for(n, Duration::from_secs(5)).await {
        out.extend(rig.client.handle_webhook(&hook).await.unwrap());
    }
    out
}

fn calls(events: &[Event]) -> Vec<switchboard_core::CallEvent> {
    events
        .iter()
        .map(|e| match e {
            Event::Call(c) => c.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn an_answered_call_moves_through_every_state_and_every_push_correlates() {
    let rig = rig().await;
    let placed = rig
        .client
        .click_to_call(
            &CallRequest::new(AGENT, customer())
                .with_correlation("deal-42")
                .with_param("crm", "yes"),
        )
        .await
        .unwrap();
    let rid = placed.request_id.clone().unwrap();
    let pushed = rig.sim.play(&rid, Outcome::Answered { talk_secs: 42 }).await.unwrap();
    assert_eq!(pushed.len(), 6, "four live events and two CDR legs");

    let events = calls(&events_of(&rig, 6).await);
    let states: Vec<CallState> = events.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            CallState::Ringing,
            CallState::Started,
            CallState::Answered,
            CallState::Completed,
            CallState::Completed,
            CallState::Completed
        ]
    );
    for e in &events {
        assert_eq!(e.call_id, rid, "request_id names the call in every push");
        assert_eq!(e.correlation.as_deref(), Some("deal-42"));
        assert_eq!(e.to.as_deref(), Some("919812345678"));
    }
    assert_eq!(events[3].duration_secs, Some(42));
    assert_eq!(events[3].raw_state, "hangup");

    // The journal holds the attempt, the ringing call and one entry per push, all under the
    // correlation id.
    let entries = rig.journal.for_message(&MessageId::new("deal-42").unwrap());
    assert_eq!(entries.len(), 2 + 6);
    assert!(matches!(entries[0].record, JournalRecord::Attempt { .. }));
    assert!(
        entries[1..]
            .iter()
            .all(|e| matches!(e.record, JournalRecord::Call { .. }))
    );
}

#[tokio::test]
async fn the_pushes_carry_telecmis_quirks_and_decode_anyway() {
    let rig = rig().await;
    let placed = rig
        .client
        .click_to_call(&CallRequest::new(AGENT, customer()).with_correlation("q"))
        .await
        .unwrap();
    let rid = placed.request_id.unwrap();
    rig.sim.play(&rid, Outcome::Answered { talk_secs: 5 }).await.unwrap();
    let hooks = rig.sink.wait_for(6, Duration::from_secs(5)).await;
    let raw: Vec<Value> = hooks.iter().map(|h| serde_json::from_slice(&h.body).unwrap()).collect();
    // Live events say app_id, CDRs appid; custom/extra_params are JSON strings.
    assert!(raw[0].get("app_id").is_some() && raw[0].get("appid").is_none());
    assert!(raw[4].get("appid").is_some() && raw[4].get("app_id").is_none());
    assert!(raw[0]["extra_params"].is_string());
    // Leg B writes `to` as a string and `record` as "true"; leg A `to` as a number.
    assert!(raw[4]["to"].is_u64() && raw[5]["to"].is_string());
    assert_eq!(raw[5]["record"], "true");

    let notes: Vec<CallNotification> = hooks
        .iter()
        .flat_map(|h| rig.client.decode_webhook(h).unwrap())
        .collect();
    assert_eq!(notes[0].kind, PushKind::Event);
    assert_eq!(notes[0].status, Some(CallStatus::Waiting));
    assert_eq!(notes[0].direction, Some(Direction::Outbound));
    assert_eq!(notes[0].app_id, Some(SIM_APP_ID));
    assert_eq!(notes[4].app_id, Some(SIM_APP_ID));
    assert_eq!(notes[4].kind, PushKind::Cdr);
    assert_eq!(
        (notes[4].leg.clone(), notes[5].leg.clone()),
        (Some(Leg::A), Some(Leg::B))
    );
    assert_eq!(notes[4].to, notes[5].to, "number and string read alike");
    assert_eq!(notes[5].record, Some(true));
    assert!(notes[5].filename.is_some());
    assert_eq!(notes[3].hangup_reason, Some(HangupReason::SentBye));
    assert_eq!(notes[0].extra_params.as_ref().unwrap()["switchboard_ref"], "q");
    assert_ne!(notes[4].cmiuuid, notes[5].cmiuuid, "each leg has its own cmiuuid");
    assert_eq!(notes[0].call_key(), Some(rid.as_str()));
}

#[tokio::test]
async fn a_missed_call() {
    let rig = rig().await;
    let placed = rig
        .client
        .click_to_call(&CallRequest::new(AGENT, customer()).with_correlation("m"))
        .await
        .unwrap();
    let pushed = rig
        .sim
        .play(placed.request_id.as_deref().unwrap(), Outcome::Missed)
        .await
        .unwrap();
    assert_eq!(pushed.len(), 4);
    let events = calls(&events_of(&rig, 4).await);
    let states: Vec<_> = events.iter().map(|e| e.state).collect();
    assert_eq!(
        states,
        [
            CallState::Ringing,
            CallState::Started,
            CallState::Missed,
            CallState::Missed
        ]
    );
    assert!(events.iter().all(|e| e.correlation.as_deref() == Some("m")));
    let cdr = CallNotification::from_value(pushed[3].clone());
    assert_eq!(cdr.click_to_call, Some(true), "\"true\" reads as true");
    assert_eq!(
        rig.sim
            .play(placed.request_id.as_deref().unwrap(), Outcome::Missed)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Rejected,
        "a call ends once"
    );
}

#[tokio::test]
async fn auto_play_moves_calls_by_itself() {
    let rig = rig().await;
    rig.sim.set_auto_play(Some(Outcome::Answered { talk_secs: 3 }));
    rig.client
        .click_to_call(&CallRequest::new(AGENT, customer()).with_correlation("auto"))
        .await
        .unwrap();
    let events = calls(&events_of(&rig, 6).await);
    assert_eq!(events.len(), 6);
    assert_eq!(events.last().unwrap().state, CallState::Completed);
}

#[tokio::test]
async fn pushes_by_get_decode_the_same() {
    let rig = rig().await;
    rig.sim.push_by_get(true);
    let placed = rig
        .client
        .click_to_call(&CallRequest::new(AGENT, customer()).with_correlation("get"))
        .await
        .unwrap();
    rig.sim
        .play(
            placed.request_id.as_deref().unwrap(),
            Outcome::Answered { talk_secs: 9 },
        )
        .await
        .unwrap();
    let hooks = rig.sink.wait_for(6, Duration::from_secs(5)).await;
    assert!(hooks.iter().all(|h| h.method == http::Method::GET && h.body.is_empty()));
    let events = calls(
        &futures::future::join_all(hooks.iter().map(|h| rig.client.handle_webhook(h)))
            .await
            .into_iter()
            .flat_map(Result::unwrap)
            .collect::<Vec<_>>(),
    );
    assert_eq!(events[0].state, CallState::Ringing);
    assert_eq!(events[3].duration_secs, Some(9));
    assert!(events.iter().all(|e| e.correlation.as_deref() == Some("get")));
    let note = CallNotification::from_value(events[0].raw.clone());
    assert_eq!(note.app_id, Some(SIM_APP_ID), "numbers as query strings");
    assert!(note.raw.get("token").is_none(), "the secret is not part of the payload");
}

#[tokio::test]
async fn inbound_calls() {
    let rig = rig().await;
    let pushed = rig
        .sim
        .inbound_call("919700000001", AGENT, Outcome::Answered { talk_secs: 11 })
        .await
        .unwrap();
    let notes: Vec<CallNotification> = pushed.into_iter().map(CallNotification::from_value).collect();
    assert_eq!(notes[0].direction, Some(Direction::Inbound));
    assert_eq!(notes[0].state(), CallState::Ringing);
    assert_eq!(notes.last().unwrap().kind, PushKind::Cdr);
    assert_eq!(notes.last().unwrap().custom, Some(json!({"crm": "true"})));
    assert_eq!(notes.last().unwrap().team.as_deref(), Some("Sales_1111112"));
    let key = notes[0].call_key().unwrap().to_owned();
    assert!(
        notes.iter().all(|n| n.call_key() == Some(key.as_str())),
        "conversation_uuid ties the legs"
    );
    let events = calls(&events_of(&rig, notes.len()).await);
    assert_eq!(events.last().unwrap().state, CallState::Completed);
    assert_eq!(events[0].from.as_deref(), Some("919700000001"));

    let missed = rig
        .sim
        .inbound_call("919700000002", AGENT, Outcome::Missed)
        .await
        .unwrap();
    let last = CallNotification::from_value(missed.last().unwrap().clone());
    assert_eq!(last.state(), CallState::Missed);
    assert_eq!(last.voicemail, Some(false));
    assert_eq!(last.waited_secs, Some(27));
}

#[tokio::test]
async fn legacy_calls_correlate_through_custom() {
    let rig = rig().await;
    let legacy = TeleCmiClient::builder(config(&rig.sim).flavour(crate::Flavour::India).build().unwrap())
        .policy(AllowAll)
        .build()
        .unwrap();
    let placed = legacy
        .click_to_call(&CallRequest::new(AGENT, customer()).with_correlation("old-1"))
        .await
        .unwrap();
    let pushed = rig
        .sim
        .play(
            placed.request_id.as_deref().unwrap(),
            Outcome::Answered { talk_secs: 1 },
        )
        .await
        .unwrap();
    assert!(
        pushed
            .iter()
            .all(|p| p.get("extra_params").is_none() && p["custom"].is_string())
    );
    let events = calls(&events_of(&rig, pushed.len()).await);
    assert!(events.iter().all(|e| e.correlation.as_deref() == Some("old-1")));
}

#[tokio::test]
async fn verification() {
    let sim = Simulator::start().await;
    let client = TeleCmiClient::new(config(&sim).build().unwrap()).unwrap();
    let body = r#"{"type":"event","status":"waiting","app_id":1111112,"cmiuuid":"x"}"#;
    let good = WebhookRequest::post(format!("https://crm.example/h?token={SIM_WEBHOOK_SECRET}"), body);
    assert_eq!(client.handle_webhook(&good).await.unwrap().len(), 1);

    for url in [
        "https://crm.example/h".to_owned(),
        "https://crm.example/h?token=".to_owned(),
        "https://crm.example/h?token=guess".to_owned(),
        format!("https://crm.example/h?tok={SIM_WEBHOOK_SECRET}"),
        format!("https://crm.example/h?token={SIM_WEBHOOK_SECRET}x"),
    ] {
        let e = client
            .handle_webhook(&WebhookRequest::post(url.clone(), body))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth, "{url}");
        assert!(!e.to_string().contains(SIM_WEBHOOK_SECRET));
    }

    // No secret configured: refuses to run.
    let no_secret = TeleCmiClient::new(
        TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, SIM_SECRET))
            .endpoint(sim.uri())
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = no_secret.handle_webhook(&good).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);

    // Turned off explicitly: believed without a secret.
    let off = TeleCmiClient::new(
        TeleCmiConfig::builder(Credentials::admin(SIM_APP_ID, SIM_SECRET))
            .endpoint(sim.uri())
            .dangerously_skip_webhook_verification()
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        off.handle_webhook(&WebhookRequest::post("https://h/", body))
            .await
            .unwrap()
            .len(),
        1
    );

    // A handler of its own, with another parameter name.
    let h = TeleCmiWebhook::new("s3").with_param("key");
    assert!(h.handle(&WebhookRequest::post("https://h/?key=s3", body)).await.is_ok());
    assert_eq!(
        h.handle(&WebhookRequest::post("https://h/?token=s3", body))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Auth
    );
}

#[tokio::test]
async fn bodies_of_every_shape() {
    let sim = Simulator::start().await;
    let client = TeleCmiClient::new(config(&sim).build().unwrap()).unwrap();
    let url = format!("https://crm.example/h?token={SIM_WEBHOOK_SECRET}");

    // A list of payloads.
    let list = r#"[{"type":"cdr","status":"answered","appid":"1111112","cmiuuid":"a"},
                   {"type":"cdr","status":"missed","appid":1111112,"cmiuid":"b"}]"#;
    let events = client.handle_webhook(&WebhookRequest::post(&url, list)).await.unwrap();
    assert_eq!(
        calls(&events).iter().map(|e| e.state).collect::<Vec<_>>(),
        [CallState::Completed, CallState::Missed]
    );
    assert_eq!(calls(&events)[1].call_id, "b", "cmiuid reads as cmiuuid");

    // Form-encoded.
    let form = WebhookRequest::post(&url, "type=event&status=answered&app_id=1111112&cmiuuid=f")
        .with_header("content-type", "application/x-www-form-urlencoded");
    assert_eq!(
        calls(&client.handle_webhook(&form).await.unwrap())[0].state,
        CallState::Answered
    );

    // GET with query fields.
    let get = WebhookRequest::get(format!(
        "{url}&type=event&status=hangup&cmiuuid=g&hangup_reason=sent_reject"
    ));
    assert_eq!(
        calls(&client.handle_webhook(&get).await.unwrap())[0].state,
        CallState::Missed
    );

    // Something that is not a call: kept as Other.
    let other = client
        .handle_webhook(&WebhookRequest::post(
            &url,
            r#"{"type":"agent_status","status":"online"}"#,
        ))
        .await
        .unwrap();
    assert!(matches!(&other[0], Event::Other { kind, .. } if kind == "telecmi:agent_status"));
}

#[tokio::test]
async fn garbage_is_an_input_error_never_a_panic() {
    let sim = Simulator::start().await;
    let client = TeleCmiClient::new(config(&sim).build().unwrap()).unwrap();
    let url = format!("https://crm.example/h?token={SIM_WEBHOOK_SECRET}");
    let cases: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"[]".to_vec(),
        b"42".to_vec(),
        b"\"string\"".to_vec(),
        b"[1,2]".to_vec(),
        b"null".to_vec(),
        vec![0xff, 0xfe, 0x00],
        vec![b'['; 100_000],
        vec![b' '; 10],
    ];
    for body in cases {
        let e = client
            .handle_webhook(&WebhookRequest::post(&url, body.clone()))
            .await
            .unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::InvalidInput,
            "{:?}",
            String::from_utf8_lossy(&body[..body.len().min(20)])
        );
    }
    let huge = vec![b' '; switchboard_core::webhook::MAX_WEBHOOK_BODY + 1];
    assert_eq!(
        client
            .handle_webhook(&WebhookRequest::post(&url, huge))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );

    // Objects of every wrong type decode (as absent fields) without a panic.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let keys = [
        "type",
        "status",
        "appid",
        "app_id",
        "cmiuuid",
        "from",
        "to",
        "time",
        "answeredsec",
        "record",
        "custom",
        "extra_params",
        "leg",
        "direction",
        "hangup_reason",
        "request_id",
    ];
    for _ in 0..500 {
        let mut m = serde_json::Map::new();
        for k in keys {
            let v = match next() % 9 {
                0 => Value::Null,
                1 => json!(next()),
                2 => json!(-(next() as i64 % 1000)),
                3 => json!(f64::from_bits(next() >> 2)),
                4 => json!(format!("{}", next())),
                5 => json!("{\"switchboard_ref\":{\"nested\":[1,2]}}"),
                6 => json!([next(), "x"]),
                7 => json!({"a": next()}),
                _ => json!(next() % 2 == 0),
            };
            m.insert(k.to_owned(), v);
        }
        let body = serde_json::to_vec(&Value::Object(m)).unwrap();
        let _ = client.handle_webhook(&WebhookRequest::post(&url, body)).await;
    }
}

#[derive(Debug)]
struct BrokenJournal;

#[async_trait]
impl Journal for BrokenJournal {
    async fn record(&self, _entry: JournalEntry) -> switchboard_core::Result<()> {
        Err(Error::new(ErrorKind::Unavailable, "disk full"))
    }
}

#[tokio::test]
async fn a_journal_failure_is_not_acknowledged() {
    let sim = Simulator::start().await;
    let client = TeleCmiClient::builder(config(&sim).build().unwrap())
        .journal(Arc::new(BrokenJournal))
        .build()
        .unwrap();
    let req = WebhookRequest::post(
        format!("https://h/?token={SIM_WEBHOOK_SECRET}"),
        r#"{"type":"cdr","status":"answered","cmiuuid":"x"}"#,
    );
    assert_eq!(
        client.handle_webhook(&req).await.unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    // Without a journal, the same request decodes.
    assert!(client.decode_webhook(&req).is_ok());
}

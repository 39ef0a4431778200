//! Registration and the shared simulator vocabulary: 1C found by scheme in a registry, connected from a
//! DSN as a service (the OData client), and its simulator started by the registry and driven through
//! `Simulated` alone. Also: creating a document is not idempotent in 1C, so every failure after the
//! request left is `MaybeSent` or `Sent`, and nothing sends it twice.

use std::sync::Arc;
use std::time::Duration;

use crate::sim::{Simulator, WriteFault};
use crate::{EntitySet, OneCClient, PostingMode, Query, SCHEME};
use serde_json::{Value, json};
use switchboard_core::registry::Registry;
use switchboard_core::simulated::{SimOptions, Simulated};
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, ErrorKind};

use super::common;

fn registry() -> Registry {
    let mut r = Registry::new();
    crate::register(&mut r);
    r
}

async fn started(options: SimOptions) -> Arc<dyn Simulated> {
    let provider = registry().find(SCHEME).unwrap();
    provider.simulator().unwrap().start(options).await.unwrap()
}

fn orders() -> EntitySet {
    EntitySet::document("ЗаказКлиента")
}

/// A customer order as a CRM would create it: the counterparty, the organisation, one row.
fn order(sim: &Simulator) -> Value {
    let customer = sim
        .seed(
            "Catalog_Контрагенты",
            json!({"Description": "ООО Ромашка", "ИНН": "7700000001"}),
        )
        .unwrap();
    let item = sim
        .seed("Catalog_Номенклатура", json!({"Description": "Чайник"}))
        .unwrap();
    json!({
        "Date": "2024-03-01T10:00:00",
        "Организация_Key": sim.organization().to_string(),
        "Контрагент_Key": customer.to_string(),
        "Товары": [{"LineNumber": "1", "Номенклатура_Key": item.to_string(), "Количество": 1, "Цена": 1500, "Сумма": 1500}],
    })
}

async fn posts(sim: &Simulator) -> usize {
    sim.requests()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count()
}

#[tokio::test]
async fn registered_as_a_service_with_its_simulator() {
    let r = registry();
    let p = r.find("onec").expect("1C answers its scheme");
    assert_eq!(p.name(), "onec");
    assert!(p.dsn_form().starts_with("onec://"));
    assert!(p.simulator().is_some(), "the registry can start the simulator");

    let sim = started(SimOptions::default()).await;
    assert_eq!(sim.provider(), "onec");
    let conn = r.connect(&sim.dsn()).unwrap();
    assert_eq!(conn.provider(), "onec");
    assert!(conn.as_transport().is_none(), "1C carries no messages");
    assert!(conn.webhook_source().is_none(), "1C pushes nothing");
    let e = conn.clone().into_transport().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let client = conn.downcast::<OneCClient>().expect("the connection holds the client");
    assert!(client.metadata().await.unwrap().contains("EntityContainer"));

    let bad = r.connect(&sim.dsn_with_bad_credentials().unwrap()).unwrap();
    let e = bad.downcast::<OneCClient>().unwrap().metadata().await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Auth, Dispatch::NotSent));

    // The registry refuses a 1C DSN without a server, without echoing the password.
    let e = r.connect("onec://u:topsecret@default/base").unwrap_err();
    assert!(!e.to_string().contains("topsecret"), "{e}");
}

#[tokio::test]
async fn the_simulator_through_the_shared_vocabulary() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    assert!(sim.sent().is_empty());
    assert!(sim.recipient().is_none(), "not a message transport");
    assert!(sim.triggers().is_empty());
    assert!(sim.trigger("delivered", "http://127.0.0.1:9/").await.is_err());

    // sent(): what was created through the interface, with its state now.
    let created: Value = c.create(&orders(), &order(&sim)).await.unwrap();
    let key = created["Ref_Key"].as_str().unwrap().to_owned();
    let sent = sim.sent();
    assert_eq!(sent.len(), 1, "seeded entities are not in sent()");
    assert_eq!(
        (sent[0].id.as_str(), sent[0].to.as_str()),
        (key.as_str(), "Document_ЗаказКлиента")
    );
    assert_eq!(sent[0].text, created["Number"].as_str().unwrap());
    assert_eq!(sent[0].status, "written");
    let guid = crate::Guid::parse(&key).unwrap();
    c.post_document(&orders(), guid, PostingMode::Regular).await.unwrap();
    assert_eq!(sim.sent()[0].status, "posted");
    c.delete_physically(&orders(), guid).await.unwrap();
    assert_eq!(sim.sent()[0].status, "deleted");

    // advance(): the clock moves one step; nothing is pushed.
    let before = sim.now();
    Simulated::advance(&sim).await;
    assert_eq!(sim.now() - before, chrono::Duration::seconds(1));
    assert!(sim.pushed().is_empty());

    // fail_next(): the next request gets the fault.
    sim.fail_next(Fault::Status(401));
    let e = c.metadata().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);

    // dsn_at(): the same credentials at another address.
    let at = sim.dsn_at("http://127.0.0.1:1").unwrap();
    assert!(
        at.starts_with("onec://odata.user:") && at.ends_with("@127.0.0.1:1/base"),
        "{at}"
    );
}

#[tokio::test]
async fn the_simulator_takes_a_port_and_refuses_a_webhook_url() {
    let e = Simulator::start_with(SimOptions::default().webhook_url("http://127.0.0.1:9/hooks"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let sim = Simulator::start_with(SimOptions::default()).await.unwrap();
    assert!(common::client(&sim).metadata().await.is_ok());
}

/// A document create that may have landed is `MaybeSent` and sent once; one that landed but whose answer
/// cannot be read is `Sent`. Whatever the retry policy, the client never repeats it.
#[tokio::test]
async fn a_document_create_that_may_have_landed_is_never_sent_again() {
    let sim = Simulator::start().await;
    let body = order(&sim);

    // The answer is lost after 1C wrote the document (a timeout).
    let c = common::client_with_timeout(&sim, 250);
    sim.fault_next_write(WriteFault::ApplyThenDelay(Duration::from_millis(800)));
    let e = c.create::<Value>(&orders(), &body).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::MaybeSent));
    assert_eq!(posts(&sim).await, 1, "not repeated");
    assert_eq!(sim.sent().len(), 1, "1C holds it once");

    // 1C's internal error (500, code -1) may come after the write.
    let c = common::client(&sim);
    sim.fault_next_write(WriteFault::InternalError);
    let e = c.create::<Value>(&orders(), &body).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(e.provider_code(), Some("-1"));
    assert_eq!(posts(&sim).await, 2, "not repeated");

    // A 2xx that cannot be read: 1C acted, so the error says Sent.
    for fault in [
        Fault::EmptyBody,
        Fault::MalformedJson,
        Fault::StatusJson(201, "[]".into()),
    ] {
        sim.fail_next(fault.clone());
        let e = c.create::<Value>(&orders(), &body).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::Decode, Dispatch::Sent),
            "{fault:?}"
        );
    }
    assert_eq!(posts(&sim).await, 5, "each sent once");

    // Only a refusal before 1C acted is repeated.
    sim.fail_next(Fault::Status(503));
    let _: Value = c.create(&orders(), &body).await.unwrap();
    assert_eq!(posts(&sim).await, 7);
    let docs = c.list::<Value>(&orders(), &Query::new()).await.unwrap();
    assert_eq!(docs.items.len(), 2, "the lost one and the last one");
}

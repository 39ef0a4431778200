//! 1C sync on the 1C simulator.

use serde_json::json;
use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::Fault;

use crate::common::Crm;

fn sim(crm: &Crm) -> &dyn Simulated {
    crm.running
        .state
        .integrations
        .onec
        .as_ref()
        .unwrap()
        .simulator
        .as_deref()
        .unwrap()
}

/// The objects in a 1C set, read over OData as the simulator's own user.
async fn objects(crm: &Crm, set: &str) -> Vec<serde_json::Value> {
    let client = crm
        .running
        .state
        .integrations
        .onec
        .as_ref()
        .unwrap()
        .connection
        .downcast::<switchboard::onec::OneCClient>()
        .unwrap();
    client
        .list::<serde_json::Value>(
            &switchboard::onec::EntitySet::parse(set).unwrap(),
            &switchboard::onec::Query::new(),
        )
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn a_company_synced_twice_is_one_object_updated() {
    let crm = Crm::start(&[]).await;
    let (_, c) = crm
        .post("/api/companies", json!({"name": "ООО Ромашка", "inn": "7707083893"}))
        .await;
    let path = format!("/api/onec/sync/company/{}", c["id"]);
    let (s, first) = crm.post(&path, json!({})).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["status"], "synced");
    let key = first["ref_key"].as_str().unwrap().to_owned();
    // Renamed in the CRM, synced again: the same object changes.
    switchboard::store::sqlx::query("UPDATE companies SET name = 'ООО Ромашка-2' WHERE id = ?1")
        .bind(c["id"].as_i64())
        .execute(crm.running.state.pool())
        .await
        .unwrap();
    let (s, second) = crm.post(&path, json!({})).await;
    assert_eq!(s, 200, "{second}");
    assert_eq!(second["ref_key"], key);
    let found = objects(&crm, "Catalog_Контрагенты").await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["Description"], "ООО Ромашка-2");
    assert_eq!(found[0]["ИНН"], "7707083893");
    let (_, log) = crm.get("/api/onec/log?entity=company").await;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update", "create"], "newest first");
    let (s, st) = crm.get(&path).await;
    assert_eq!((s, &st["ref_key"]), (200, &json!(key)));
}

#[tokio::test]
async fn when_1c_is_down_the_sync_fails_with_the_reason_logged_and_a_later_one_succeeds() {
    let crm = Crm::start(&[]).await;
    let (_, d) = crm.post("/api/drivers", json!({"name": "Ivan Petrov"})).await;
    let path = format!("/api/onec/sync/driver/{}", d["id"]);
    for _ in 0..3 {
        sim(&crm).fail_next(Fault::Status(503));
    }
    let (s, e) = crm.post(&path, json!({})).await;
    assert!(s == 502 || s == 503, "{s} {e}");
    let (_, st) = crm.get(&path).await;
    assert_eq!(st["status"], "failed", "{st}");
    let (_, log) = crm.get("/api/onec/log").await;
    assert_eq!(log[0]["outcome"], "failed");
    assert!(log[0]["error"].as_str().unwrap().contains("503"), "{log}");
    let (s, ok) = crm.post(&path, json!({})).await;
    assert_eq!((s, &ok["status"]), (200, &json!("synced")), "{ok}");
    assert_eq!(objects(&crm, "Catalog_Контрагенты").await.len(), 1);
}

#[tokio::test]
async fn applications_and_payments_become_documents() {
    let crm = Crm::start(&[]).await;
    let (_, c) = crm.post("/api/companies", json!({"name": "Acme"})).await;
    let (_, a) = crm
        .post(
            "/api/applications",
            json!({"company_id": c["id"], "pickup": "A", "dropoff": "B", "price_minor": 150_050}),
        )
        .await;
    let (s, r) = crm
        .post(&format!("/api/onec/sync/application/{}", a["id"]), json!({}))
        .await;
    assert_eq!(s, 200, "{r}");
    let orders = objects(&crm, "Document_ЗаказКлиента").await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["СуммаДокумента"], json!(1500.5));
    let (_, company) = crm.get(&format!("/api/onec/sync/company/{}", c["id"])).await;
    assert_eq!(
        orders[0]["Контрагент_Key"], company["ref_key"],
        "the customer was synced first"
    );
}

#[tokio::test]
async fn unknown_entity_is_400_and_unknown_id_404() {
    let crm = Crm::start(&[]).await;
    let (s, e) = crm.post("/api/onec/sync/invoice/1", json!({})).await;
    assert_eq!(s, 400, "{e}");
    let (s, _) = crm.post("/api/onec/sync/company/999", json!({})).await;
    assert_eq!(s, 404);
    let (s, _) = crm.get("/api/onec/sync/company/999").await;
    assert_eq!(s, 404);
    let (_, log) = crm.get("/api/onec/log").await;
    assert_eq!(log, json!([]), "nothing was attempted");
}

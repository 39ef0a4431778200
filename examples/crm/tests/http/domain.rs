//! The CRM's own records.

use serde_json::json;

use crate::common::Crm;

#[tokio::test]
async fn records_are_created_read_and_changed() {
    let crm = Crm::start(&[]).await;
    let (s, company) = crm
        .post("/api/companies", json!({"name": "ООО Ромашка", "inn": "7707083893"}))
        .await;
    assert_eq!(s, 201, "{company}");
    let (s, driver) = crm
        .post(
            "/api/drivers",
            json!({"name": "Ivan Petrov", "phone": "+7 912 345-67-89"}),
        )
        .await;
    assert_eq!(s, 201, "{driver}");
    assert_eq!(driver["phone"], "+79123456789", "stored in E.164");
    let (s, app) = crm
        .post(
            "/api/applications",
            json!({"company_id": company["id"], "pickup": "Moscow", "dropoff": "Tver", "price_minor": 1_500_000}),
        )
        .await;
    assert_eq!(s, 201, "{app}");
    assert_eq!(app["status"], "new");
    let path = format!("/api/applications/{}", app["id"]);
    let (s, changed) = crm
        .patch(&path, json!({"status": "assigned", "driver_id": driver["id"]}))
        .await;
    assert_eq!(s, 200, "{changed}");
    assert_eq!(changed["status"], "assigned");
    assert_eq!(changed["driver_id"], driver["id"]);
    let (s, read) = crm.get(&path).await;
    assert_eq!((s, &read["pickup"]), (200, &json!("Moscow")));
}

#[tokio::test]
async fn bad_input_gets_a_json_4xx_and_nothing_is_stored() {
    let crm = Crm::start(&[]).await;
    let (s, e) = crm.post_raw("/api/companies", "application/json", "{\"name\":").await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_body")), "{e}");
    let (s, e) = crm.post("/api/companies", json!({"name": "X", "inn": "12ab"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("invalid_input")), "{e}");
    let (s, e) = crm
        .post(
            "/api/applications",
            json!({"company_id": 999, "pickup": "a", "dropoff": "b", "price_minor": 1}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("unknown_reference")),
        "{e}"
    );
    let (s, e) = crm
        .post("/api/drivers", json!({"name": "N", "phone": "+7 not a number"}))
        .await;
    assert_eq!(s, 400, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().starts_with("phone:"), "{e}");
    let (s, _) = crm.get("/api/applications/1").await;
    assert_eq!(s, 404, "the refused application was not stored");
    let (s, e) = crm.patch("/api/applications/1", json!({"status": "flying"})).await;
    assert_eq!(s, 400, "{e}");
}

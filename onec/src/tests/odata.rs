//! The OData client against the simulator: addressing, reads, paging, writes, posting, errors, auth.

use super::common;

use crate::sim::{SimBase, Simulator};
use crate::{Counterparty, EntityKey, EntitySet, Guid, OneCClient, PostingMode, Query, SalesDocument, field};
use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::simulated::Simulated;
use switchboard_core::{Dispatch, ErrorKind};

fn counterparties() -> EntitySet {
    EntitySet::catalog("Контрагенты")
}

fn orders() -> EntitySet {
    EntitySet::document("ЗаказКлиента")
}

#[tokio::test]
async fn metadata_and_cyrillic_names_on_the_wire() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let edmx = c.metadata().await.unwrap();
    assert!(edmx.contains("<EntitySet Name=\"Catalog_Контрагенты\""));
    assert!(edmx.contains("Document_ЗаказКлиента_Товары"));

    let page = c.list::<Value>(&counterparties(), &Query::new()).await.unwrap();
    assert!(page.items.is_empty());
    let reqs = sim.requests().await;
    let last = reqs.last().unwrap();
    assert_eq!(
        last.url.path(),
        "/base/odata/standard.odata/Catalog_%D0%9A%D0%BE%D0%BD%D1%82%D1%80%D0%B0%D0%B3%D0%B5%D0%BD%D1%82%D1%8B"
    );
    assert_eq!(last.url.query(), Some("$format=json"));
    assert_eq!(last.headers.get("accept").unwrap(), "application/json");
    assert!(
        last.headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
}

#[tokio::test]
async fn create_is_201_and_get_reads_it_back() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let created: Counterparty = c
        .create(
            &counterparties(),
            &Counterparty::company("ООО Ромашка", "7707083893", Some("770701001")),
        )
        .await
        .unwrap();
    let key = created.ref_key.unwrap();
    assert_eq!(created.code.as_deref(), Some("00-000001"));
    assert!(created.extra.contains_key("DataVersion"));
    assert!(
        !created.extra.contains_key("odata.metadata"),
        "annotations are not data"
    );
    let posts = sim.requests().await;
    assert_eq!(posts.last().unwrap().method.as_str(), "POST");

    let got: Counterparty = c.get(&counterparties(), key, &Query::new()).await.unwrap();
    assert_eq!(got.inn.as_deref(), Some("7707083893"));
    assert_eq!(got.description, "ООО Ромашка");

    let selected: Value = c
        .get(&counterparties(), key, &Query::new().select(["ИНН"]))
        .await
        .unwrap();
    assert_eq!(selected, json!({"ИНН": "7707083893"}));

    let missing = Guid::from_u128(42);
    assert_eq!(c.find::<Value>(&counterparties(), missing).await.unwrap(), None);
    let e = c
        .get::<Value>(&counterparties(), missing, &Query::new())
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::NotFound, Dispatch::Sent));
    assert_eq!(e.provider(), Some("onec"));
    assert_eq!(e.http_status(), Some(404));
    assert!(e.provider_code().is_some());
}

#[tokio::test]
async fn list_filters_selects_orders_pages_and_counts() {
    let sim = Simulator::start().await;
    for i in 0..7 {
        sim.seed(
            "Catalog_Контрагенты",
            json!({"Description": format!("Клиент {i}"), "ИНН": format!("77000000{i:02}"), "КПП": if i % 2 == 0 { "770001001" } else { "" }}),
        )
        .unwrap();
    }
    let c = common::client(&sim);
    let q = Query::new()
        .filter(field("КПП").eq("770001001"))
        .select(["Description", "ИНН"])
        .order_by_desc("ИНН")
        .top(2)
        .skip(1)
        .with_count();
    let page = c.list::<Value>(&counterparties(), &q).await.unwrap();
    assert_eq!(page.count, Some(4));
    assert_eq!(
        page.items,
        vec![
            json!({"Description": "Клиент 4", "ИНН": "7700000004"}),
            json!({"Description": "Клиент 2", "ИНН": "7700000002"}),
        ]
    );
    assert_eq!(c.count(&counterparties(), None).await.unwrap(), 7);
    assert_eq!(
        c.count(&counterparties(), Some(field("ИНН").ge("7700000005")))
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn stream_pages_with_top_and_skip() {
    let sim = Simulator::start().await;
    for i in 0..25 {
        sim.seed(
            "Catalog_Номенклатура",
            json!({"Description": format!("Товар {i}"), "Артикул": format!("SKU-{i:03}")}),
        )
        .unwrap();
    }
    let mut cfg = common::config(&sim);
    cfg.page_size = 10;
    let c = OneCClient::new(cfg).unwrap();
    let items = EntitySet::catalog("Номенклатура");
    let before = sim.requests().await.len();
    let all: Vec<Value> = c
        .stream::<Value>(&items, Query::new())
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(all.len(), 25);
    let pages = &sim.requests().await[before..];
    assert_eq!(pages.len(), 3, "25 entities in pages of 10");
    for (i, p) in pages.iter().enumerate() {
        let q: Vec<(String, String)> = p.url.query_pairs().into_owned().collect();
        assert!(q.contains(&("$top".into(), "10".into())));
        assert!(q.contains(&("$skip".into(), (i * 10).to_string())));
        assert!(
            q.contains(&("$orderby".into(), "Ref_Key".into())),
            "pages need a stable order"
        );
    }
    let keys: std::collections::HashSet<_> = all.iter().map(|v| v["Ref_Key"].clone()).collect();
    assert_eq!(keys.len(), 25, "no overlap between pages");

    let window: Vec<Value> = c
        .stream::<Value>(&items, Query::new().order_by("Артикул").skip(5).top(12))
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(window.len(), 12);
    assert_eq!(window[0]["Артикул"], "SKU-005");
    assert_eq!(window[11]["Артикул"], "SKU-016");

    let none: Vec<_> = c
        .stream::<Value>(&items, Query::new().filter(field("Артикул").eq("nope")))
        .collect()
        .await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn stream_stops_at_the_first_error() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let results: Vec<_> = c
        .stream::<Value>(&EntitySet::catalog("НетТакого"), Query::new())
        .collect()
        .await;
    assert_eq!(results.len(), 1);
    let e = results.into_iter().next().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn update_mark_for_deletion_and_physical_delete() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let key = sim
        .seed(
            "Catalog_Контрагенты",
            json!({"Description": "Старое имя", "ИНН": "7707083893"}),
        )
        .unwrap();
    let version = sim.record("Catalog_Контрагенты", key).unwrap()["DataVersion"].clone();
    let updated: Counterparty = c
        .update(&counterparties(), key, &json!({"Description": "Новое имя"}))
        .await
        .unwrap();
    assert_eq!(updated.description, "Новое имя");
    assert_eq!(updated.inn.as_deref(), Some("7707083893"), "PATCH keeps other fields");
    assert_ne!(sim.record("Catalog_Контрагенты", key).unwrap()["DataVersion"], version);

    c.mark_for_deletion(&counterparties(), key).await.unwrap();
    let rec = sim.record("Catalog_Контрагенты", key).unwrap();
    assert_eq!(rec["DeletionMark"], true, "marked, not removed");
    c.unmark_for_deletion(&counterparties(), key).await.unwrap();
    assert_eq!(sim.record("Catalog_Контрагенты", key).unwrap()["DeletionMark"], false);

    c.delete_physically(&counterparties(), key).await.unwrap();
    assert!(sim.record("Catalog_Контрагенты", key).is_none());
    let e = c.delete_physically(&counterparties(), key).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn documents_with_rows_post_and_unpost() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let item = sim
        .seed("Catalog_Номенклатура", json!({"Description": "Стол"}))
        .unwrap();
    let doc: SalesDocument = c
        .create(
            &orders(),
            &json!({
                "Number": "CRM-1", "Date": "2024-03-01T10:00:00",
                "Организация_Key": sim.organization(),
                "Товары": [{"LineNumber": "1", "Номенклатура_Key": item, "Количество": 2, "Цена": 1500.5, "Сумма": 3001}]
            }),
        )
        .await
        .unwrap();
    let key = doc.ref_key.unwrap();
    assert_eq!(doc.posted, Some(false));
    let rows = doc.goods.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].item_key, item);
    assert_eq!(
        rows[0].extra["Ref_Key"],
        json!(key.to_string()),
        "rows carry their document's key"
    );

    c.post_document(&orders(), key, PostingMode::Regular).await.unwrap();
    assert_eq!(sim.record("Document_ЗаказКлиента", key).unwrap()["Posted"], true);
    let req = sim.requests().await.pop().unwrap();
    assert!(req.url.path().ends_with("')/Post"), "{}", req.url.path());
    assert!(req.url.query().unwrap().contains("PostingModeOperational=false"));

    // Re-posting is harmless.
    c.post_document(&orders(), key, PostingMode::Regular).await.unwrap();
    c.unpost_document(&orders(), key).await.unwrap();
    assert_eq!(sim.record("Document_ЗаказКлиента", key).unwrap()["Posted"], false);

    // A PATCH with a section replaces it.
    let patched: SalesDocument = c
        .update(
            &orders(),
            key,
            &json!({"Товары": [
                {"LineNumber": "1", "Номенклатура_Key": item, "Количество": 1},
                {"LineNumber": "2", "Номенклатура_Key": item, "Количество": 5}
            ]}),
        )
        .await
        .unwrap();
    assert_eq!(patched.goods.unwrap().len(), 2);

    // The rows can be read from the section's own set.
    let rows = c
        .list::<Value>(&orders().tabular_section("Товары"), &Query::new())
        .await
        .unwrap();
    assert_eq!(rows.items.len(), 2);
}

#[tokio::test]
async fn posting_errors_map_to_internal_error() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    // Dated yesterday (the simulator's clock starts on 2024-03-01).
    let key = sim
        .seed("Document_ЗаказКлиента", json!({"Date": "2024-02-29T12:00:00"}))
        .unwrap();
    let e = c
        .post_document(&orders(), key, PostingMode::Operational)
        .await
        .unwrap_err();
    assert_eq!(e.provider_code(), Some("-1"));
    assert_eq!(e.http_status(), Some(500));
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.to_string().contains("technology log"));
    c.post_document(&orders(), key, PostingMode::Regular).await.unwrap();

    sim.refuse_posting("Document_ЗаказКлиента", true);
    let e = c.post_document(&orders(), key, PostingMode::Regular).await.unwrap_err();
    assert_eq!(e.provider_code(), Some("-1"));
    sim.refuse_posting("Document_ЗаказКлиента", false);

    c.mark_for_deletion(&orders(), key).await.unwrap();
    let e = c.post_document(&orders(), key, PostingMode::Regular).await.unwrap_err();
    assert_eq!(e.provider_code(), Some("-1"));

    let e = c
        .post_document(&counterparties(), Guid::from_u128(1), PostingMode::Regular)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn tabular_rows_cannot_be_created_directly_code_13() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let key = sim.seed("Document_ЗаказКлиента", json!({})).unwrap();
    let e = c
        .create::<Value>(
            &orders().tabular_section("Товары"),
            &json!({"Ref_Key": key, "LineNumber": "1", "Количество": 1}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(e.dispatch(), Dispatch::Sent);
    assert_eq!(e.provider_code(), Some("13"));
    assert!(e.provider_text().unwrap().contains("табличной части"));
    assert!(e.to_string().contains("inside their document"));
}

#[tokio::test]
async fn rows_without_line_number_are_an_internal_error() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let e = c
        .create::<Value>(&orders(), &json!({"Товары": [{"Количество": 1}]}))
        .await
        .unwrap_err();
    assert_eq!(e.provider_code(), Some("-1"));
    assert_eq!(e.dispatch(), Dispatch::MaybeSent, "a 500 may come after 1C acted");
    assert_eq!(sim.count("Document_ЗаказКлиента"), 0);
}

#[tokio::test]
async fn unknown_properties_and_bad_values_are_refused() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let e = c
        .create::<Value>(&counterparties(), &json!({"Description": "x", "Несуществующее": 1}))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::Sent));
    assert!(e.provider_text().unwrap().contains("Несуществующее"));
    let e = c
        .create::<Value>(&counterparties(), &json!({"Parent_Key": "not-a-guid"}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = c
        .create::<Value>(&EntitySet::information_register("ЦеныНоменклатуры"), &json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(sim.count("Catalog_Контрагенты"), 0);
}

#[tokio::test]
async fn expand_and_navigation_links() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let cp = sim
        .seed(
            "Catalog_Контрагенты",
            json!({"Description": "ООО Ромашка", "ИНН": "7707083893"}),
        )
        .unwrap();
    let key = sim
        .seed("Document_ЗаказКлиента", json!({"Контрагент_Key": cp}))
        .unwrap();
    let doc: SalesDocument = c.get(&orders(), key, &Query::new()).await.unwrap();
    assert_eq!(doc.counterparty_key, Some(cp));
    assert_eq!(
        doc.extra["Контрагент@navigationLinkUrl"],
        json!(format!("Document_ЗаказКлиента(guid'{key}')/Контрагент"))
    );
    let v: Value = c
        .get(&orders(), key, &Query::new().expand(["Контрагент"]))
        .await
        .unwrap();
    assert_eq!(v["Контрагент"]["ИНН"], "7707083893");
    // An entity read back can be sent back: annotations are dropped on the way out.
    let _: SalesDocument = c.update(&orders(), key, &doc).await.unwrap();
}

#[tokio::test]
async fn register_records_by_composite_key() {
    let sim = Simulator::start().await;
    let c = common::client(&sim);
    let item = sim
        .seed("Catalog_Номенклатура", json!({"Description": "Стол"}))
        .unwrap();
    let doc = sim
        .seed(
            "Document_УстановкаЦенНоменклатуры",
            json!({"Date": "2024-03-01T00:00:00", "ТипЦен_Key": sim.price_type(),
                   "Товары": [{"LineNumber": 1, "Номенклатура_Key": item, "Цена": 990.9}]}),
        )
        .unwrap();
    let set = EntitySet::document("УстановкаЦенНоменклатуры");
    c.post_document(&set, doc, PostingMode::Regular).await.unwrap();
    let period = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let key = EntityKey::from(period)
        .and("Номенклатура_Key", item)
        .and("ТипЦен_Key", sim.price_type());
    let rec: Value = c
        .get(&EntitySet::information_register("ЦеныНоменклатуры"), key, &Query::new())
        .await
        .unwrap();
    assert_eq!(rec["Цена"], 990.9);
    assert_eq!(rec["Recorder"], json!(doc.to_string()));
    c.unpost_document(&set, doc).await.unwrap();
    assert_eq!(
        sim.count("InformationRegister_ЦеныНоменклатуры"),
        0,
        "unposting removes the movements"
    );
}

#[tokio::test]
async fn authentication() {
    let sim = Simulator::start().await;
    let bad = OneCClient::from_dsn_str(&sim.dsn_with("odata.user", "wrong")).unwrap();
    let e = bad.metadata().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_ne!(e.dispatch(), Dispatch::MaybeSent, "a refused login did nothing");
    assert!(!e.to_string().contains("wrong"));
    let e = OneCClient::from_dsn_str(&sim.dsn_with("someone", "sim-password"))
        .unwrap()
        .list::<Value>(&counterparties(), &Query::new())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    let reqs = sim.requests().await;
    assert!(reqs.len() <= 2, "an auth failure is not retried");

    // A Cyrillic infobase user with a password containing URL delimiters.
    let sim = Simulator::start_with_base(SimBase::user("Администратор", "p@ss:w/rd?#").publication("trade")).await;
    assert!(sim.dsn().starts_with("onec://%D0%90"));
    let c = OneCClient::from_dsn_str(&sim.dsn()).unwrap();
    assert!(c.metadata().await.unwrap().contains("EntityContainer"));
    assert!(!format!("{c:?}").contains("p@ss"));
}

#[tokio::test]
async fn wrong_publication_is_not_found() {
    let sim = Simulator::start().await;
    let dsn = sim.dsn().replace("/base", "/other");
    let e = OneCClient::from_dsn_str(&dsn).unwrap().metadata().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("publication"));
}

#[tokio::test]
async fn data_load_mode_header() {
    let sim = Simulator::start().await;
    let c = OneCClient::from_dsn_str(&format!("{}?data_load_mode=true", sim.dsn())).unwrap();
    let _: Value = c.create(&counterparties(), &json!({"Description": "x"})).await.unwrap();
    assert_eq!(sim.data_load_writes(), 1);
    let req = sim.requests().await.pop().unwrap();
    assert_eq!(req.headers.get("1C_OData_DataLoadMode").unwrap(), "true");
}

#[tokio::test]
async fn without_json_the_interface_answers_atom() {
    let sim = Simulator::start().await;
    let resp = reqwest::Client::new()
        .get(format!("{}/Catalog_Контрагенты", sim.odata_url()))
        .basic_auth("odata.user", Some("sim-password"))
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
}

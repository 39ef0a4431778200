//! HTTP services (`/hs/<root>/…`): a thin typed call with the OData client's auth and error rules.

use super::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::HsRequest;
use crate::sim::{HsAnswer, Simulator};
use http::Method;
use serde_json::{Value, json};
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, ErrorKind, Idempotence};

fn crm(sim: &Simulator, calls: Arc<AtomicUsize>) {
    sim.http_service("crm", move |call| {
        calls.fetch_add(1, Ordering::SeqCst);
        match (call.method.as_str(), call.path.as_str()) {
            ("GET", p) if p.starts_with("orders/") && p.ends_with("/status") => {
                let number = p.trim_start_matches("orders/").trim_end_matches("/status");
                let verbose = call.query.iter().any(|(k, v)| k == "verbose" && v == "да");
                HsAnswer::json(200, json!({"number": number, "status": "Отгружен", "verbose": verbose}))
            }
            ("POST", "leads") => match call.json() {
                Some(body) => HsAnswer::json(201, json!({"id": "L-1", "echo": body})),
                None => HsAnswer::json(400, json!({"error": "JSON expected"})),
            },
            ("POST", "fail") => HsAnswer::json(500, json!({"error": "Ошибка обработчика"})),
            ("PUT", "invalid") => HsAnswer::json(422, json!({"error": "ИНН неверен"})),
            _ => HsAnswer::json(404, json!({"error": "no such template"})),
        }
    });
}

#[tokio::test]
async fn get_with_cyrillic_path_and_query() {
    let sim = Simulator::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    crm(&sim, calls.clone());
    let hs = common::client(&sim).http_service("crm");
    let v: Value = hs.get("orders/ЗК-000123/status", &[("verbose", "да")]).await.unwrap();
    assert_eq!(v, json!({"number": "ЗК-000123", "status": "Отгружен", "verbose": true}));
    let req = sim.requests().await.pop().unwrap();
    assert_eq!(
        req.url.path(),
        "/base/hs/crm/orders/%D0%97%D0%9A-000123/status",
        "segments are percent-encoded one by one"
    );
    assert!(req.headers.contains_key("authorization"));
    assert_eq!(
        hs.url("a b/c?d").unwrap(),
        format!("{}/hs/crm/a%20b/c%3Fd", sim.base_url())
    );
}

#[tokio::test]
async fn post_json_and_answers() {
    let sim = Simulator::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    crm(&sim, calls.clone());
    let hs = common::client(&sim).http_service("/crm/");
    assert_eq!(hs.root(), "crm");
    let v: Value = hs
        .post("leads", &json!({"name": "ООО \"Рога и копыта\""}))
        .await
        .unwrap();
    assert_eq!(v["echo"]["name"], "ООО \"Рога и копыта\"");

    let resp = hs
        .call(
            HsRequest::new(Method::PUT, "invalid")
                .json(&json!({"inn": "1"}))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (resp.kind(), resp.dispatch()),
        (ErrorKind::InvalidInput, Dispatch::Sent)
    );
    assert!(resp.provider_text().unwrap().contains("ИНН неверен"));

    let e = hs.get::<Value>("nope", &[]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = common::client(&sim)
        .http_service("other")
        .get::<Value>("x", &[])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn posts_are_not_retried_once_sent_gets_are() {
    let sim = Simulator::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    crm(&sim, calls.clone());
    let hs = common::client(&sim).http_service("crm");
    let e = hs.post::<Value>("fail", &json!({})).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a POST that may have run is not repeated"
    );

    // Unless the service's contract says it is idempotent.
    let r = hs
        .call(
            HsRequest::new(Method::POST, "fail")
                .json(&json!({}))
                .unwrap()
                .idempotence(Idempotence::Idempotent),
        )
        .await
        .unwrap_err();
    assert_eq!(r.http_status(), Some(500));
    assert_eq!(calls.load(Ordering::SeqCst), 4);

    sim.fail_next(Fault::Status(503));
    let v: Value = hs.get("orders/1/status", &[]).await.unwrap();
    assert_eq!(v["number"], "1");
    let ok = hs.call(HsRequest::new(Method::GET, "orders/2/status")).await.unwrap();
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains("Отгружен"));
}

#[tokio::test]
async fn paths_cannot_escape_the_service() {
    let sim = Simulator::start().await;
    let hs = common::client(&sim).http_service("crm");
    let before = sim.requests().await.len();
    for bad in ["../odata/standard.odata/$metadata", "a/./b"] {
        let e = hs.get::<Value>(bad, &[]).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::InvalidInput, Dispatch::NotSent),
            "{bad}"
        );
    }
    let e = common::client(&sim)
        .http_service("a/b")
        .get::<Value>("x", &[])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(sim.requests().await.len(), before);
}

#[tokio::test]
async fn wrong_credentials_and_non_json_answers() {
    let sim = Simulator::start().await;
    crm(&sim, Arc::new(AtomicUsize::new(0)));
    let bad = crate::OneCClient::from_dsn_str(&sim.dsn_with("odata.user", "nope")).unwrap();
    let e = bad
        .http_service("crm")
        .get::<Value>("orders/1/status", &[])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);

    let hs = common::client(&sim).http_service("crm");
    sim.fail_next(Fault::WrongContentType);
    let e = hs.get::<Value>("orders/1/status", &[]).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));
}

#[tokio::test]
async fn a_service_can_read_the_simulated_base() {
    let sim = Simulator::start().await;
    sim.seed("Catalog_Контрагенты", json!({"Description": "ООО Ромашка"}))
        .unwrap();
    let base = sim.clone();
    sim.http_service("stats", move |_| {
        HsAnswer::json(200, json!({"counterparties": base.count("Catalog_Контрагенты")}))
    });
    let v: Value = common::client(&sim).http_service("stats").get("", &[]).await.unwrap();
    assert_eq!(v["counterparties"], 1);
}

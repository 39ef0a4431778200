//! `$filter` values travel as values: quotes, Cyrillic and OData syntax inside a value match exactly that
//! value, and never change the query. The simulator parses what the client sends, so an escaping bug
//! would show up here as a wrong match or a 400.

use super::common;

use crate::sim::Simulator;
use crate::{Decimal, EntitySet, Filter, Guid, Query, field};
use serde_json::{Value, json};
use switchboard_core::{Dispatch, ErrorKind};

const NAMES: &[&str] = &[
    "ООО \"Рога и копыта\"",
    "O'Brien",
    "O",
    "Brien",
    "O''Brien",
    "' or Description ne '",
    "x') or (1 eq 1",
    "A & B #1 + 50% ?",
    "'",
];

fn counterparties() -> EntitySet {
    EntitySet::catalog("Контрагенты")
}

async fn seeded() -> Simulator {
    let sim = Simulator::start().await;
    for (i, n) in NAMES.iter().enumerate() {
        sim.seed(
            "Catalog_Контрагенты",
            json!({"Description": n, "ИНН": format!("77070838{i:02}")}),
        )
        .unwrap();
    }
    sim
}

async fn names_matching(sim: &Simulator, f: Filter) -> Vec<String> {
    let page = common::client(sim)
        .list::<Value>(&counterparties(), &Query::new().filter(f).order_by("ИНН"))
        .await
        .unwrap();
    page.items
        .iter()
        .map(|v| v["Description"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_name_matches_only_itself() {
    let sim = seeded().await;
    for n in NAMES {
        assert_eq!(
            names_matching(&sim, field("Description").eq(*n)).await,
            vec![n.to_string()],
            "{n}"
        );
    }
}

#[tokio::test]
async fn injection_attempts_are_plain_values() {
    let sim = seeded().await;
    for attack in [
        "x' or Description ne 'x",
        "' or 1 eq 1 or Description eq '",
        "O'Brien' or ИНН ne '",
        "x'); DROP TABLE",
    ] {
        assert!(
            names_matching(&sim, field("Description").eq(attack)).await.is_empty(),
            "{attack}"
        );
    }
    // ne with a quote: everything but O'Brien.
    let rest = names_matching(&sim, field("Description").ne("O'Brien")).await;
    assert_eq!(rest.len(), NAMES.len() - 1);
    assert!(!rest.iter().any(|n| n == "O'Brien"));
}

#[tokio::test]
async fn substringof_with_quotes_and_cyrillic() {
    let sim = seeded().await;
    assert_eq!(
        names_matching(&sim, field("Description").contains("O'Br")).await,
        vec!["O'Brien".to_owned()]
    );
    assert_eq!(
        names_matching(&sim, field("Description").contains("\"Рога")).await,
        vec!["ООО \"Рога и копыта\"".to_owned()]
    );
    let both = names_matching(
        &sim,
        field("Description").contains("рога").or(field("Description").eq("O")),
    )
    .await;
    assert_eq!(both.len(), 2, "1C compares strings ignoring case");
    let not = names_matching(&sim, field("Description").contains("Brien").not()).await;
    assert_eq!(not.len(), NAMES.len() - 3);
}

#[tokio::test]
async fn typed_literals_guid_datetime_number_bool() {
    let sim = Simulator::start().await;
    let cp = sim.seed("Catalog_Контрагенты", json!({"Description": "A"})).unwrap();
    let mut keys = Vec::new();
    for (i, (date, sum)) in [
        ("2024-01-15T10:00:00", 100.5),
        ("2024-02-01T00:00:00", 2000.0),
        ("2024-02-29T23:59:59", 0.01),
    ]
    .iter()
    .enumerate()
    {
        keys.push(
            sim.seed(
                "Document_ЗаказКлиента",
                json!({"Date": date, "СуммаДокумента": sum, "Контрагент_Key": if i == 1 { cp } else { Guid::NIL },
                       "Комментарий": format!("#{i}")}),
            )
            .unwrap(),
        );
    }
    let c = common::client(&sim);
    let orders = EntitySet::document("ЗаказКлиента");
    let comments = |q: Filter| {
        let c = c.clone();
        let orders = orders.clone();
        async move {
            c.list::<Value>(&orders, &Query::new().filter(q).order_by("Date"))
                .await
                .unwrap()
                .items
                .iter()
                .map(|v| v["Комментарий"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let feb = chrono::NaiveDate::from_ymd_opt(2024, 2, 1).unwrap();
    let mar = chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
    assert_eq!(
        comments(field("Date").ge(feb).and(field("Date").lt(mar))).await,
        ["#1", "#2"]
    );
    assert_eq!(comments(field("Контрагент_Key").eq(cp)).await, ["#1"]);
    assert_eq!(comments(field("Контрагент_Key").eq(Guid::NIL)).await, ["#0", "#2"]);
    assert_eq!(
        comments(field("СуммаДокумента").gt(Decimal::parse("100.49").unwrap())).await,
        ["#0", "#1"]
    );
    assert_eq!(comments(field("СуммаДокумента").le(100)).await, ["#2"]);
    assert_eq!(
        comments(field("Posted").eq(false).and(field("Ref_Key").eq(keys[2]))).await,
        ["#2"]
    );
    assert_eq!(
        comments(Filter::any(keys.iter().map(|k| field("Ref_Key").eq(*k))).unwrap()).await,
        ["#0", "#1", "#2"]
    );
}

#[tokio::test]
async fn bad_field_names_are_refused_before_anything_is_sent() {
    let sim = seeded().await;
    let c = common::client(&sim);
    let before = sim.requests().await.len();
    for bad in ["Description eq 'x' or ИНН", "Description)", "", "a b"] {
        let e = c
            .list::<Value>(&counterparties(), &Query::new().filter(field(bad).eq("x")))
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::InvalidInput, Dispatch::NotSent),
            "{bad}"
        );
    }
    assert_eq!(sim.requests().await.len(), before, "nothing reached 1C");
}

#[tokio::test]
async fn unknown_fields_are_a_400_from_1c() {
    let sim = seeded().await;
    let e = common::client(&sim)
        .list::<Value>(&counterparties(), &Query::new().filter(field("Нет").eq(1)))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::Sent));
    assert!(e.provider_code().is_some());
}

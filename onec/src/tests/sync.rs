//! The sync end to end against the simulator: everything an integrator moves, a re-run that changes
//! nothing, updates, ambiguity, deletion marks, the log, statuses and delta sync.

use super::common;

use std::sync::Arc;
use std::time::Duration;

use crate::model::{contract_kind, payment_operation};
use crate::sim::Simulator;
use crate::{
    BankPayment, Contract, Counterparty, Decimal, Delta, DocumentRow, EntitySet, EnumValue, Guid, Item, Marker,
    MemorySyncLog, PaymentDirection, PaymentRow, Posting, PriceList, PriceRow, SalesDocument, SalesKind, SyncAction,
    SyncEntry, SyncLog, Syncer, field,
};
use chrono::NaiveDate;
use serde_json::{Value, json};
use switchboard_core::{Dispatch, ErrorKind};

fn d(s: &str) -> Decimal {
    Decimal::parse(s).unwrap()
}

fn date(y: i32, m: u32, day: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, day)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

/// Everything a CRM pushes, in dependency order; returns what each upsert did.
async fn push_everything(sync: &Syncer, sim: &Simulator) -> Vec<(String, SyncAction)> {
    let mut done = Vec::new();
    let mut note = |what: &str, a: SyncAction| done.push((what.to_owned(), a));

    let horns = sync
        .upsert_counterparty(
            "crm:company:1",
            &Counterparty::company("ООО \"Рога и копыта\"", "7707083893", Some("770701001")),
        )
        .await
        .unwrap();
    note("horns", horns.action);
    let obrien = sync
        .upsert_counterparty(
            "crm:company:2",
            &Counterparty::person("O'Brien Patrick", "500100732259"),
        )
        .await
        .unwrap();
    note("obrien", obrien.action);
    // A branch: same INN, another KPP, is another counterparty.
    let branch = sync
        .upsert_counterparty(
            "crm:company:3",
            &Counterparty::company("ООО \"Рога и копыта\" (СПб)", "7707083893", Some("781001001")),
        )
        .await
        .unwrap();
    note("branch", branch.action);

    let contract = sync
        .upsert_contract(
            "crm:contract:1",
            &Contract {
                description: "Договор поставки № 15".into(),
                owner_key: horns.ref_key,
                organization_key: Some(sim.organization()),
                kind: Some(EnumValue::new(contract_kind::WITH_CUSTOMER)),
                number: Some("15".into()),
                date: Some(date(2024, 1, 10)),
                currency_key: Some(sim.currency()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    note("contract", contract.action);

    let table = sync
        .upsert_item(
            "crm:product:1",
            &Item {
                description: "Стол письменный".into(),
                article: Some("TBL-001".into()),
                vat_rate: Some("НДС20".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    note("table", table.action);
    let install = sync
        .upsert_item(
            "crm:product:2",
            &Item {
                description: "Сборка".into(),
                article: Some("SRV-ASM".into()),
                is_service: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    note("install", install.action);

    let prices = sync
        .upsert_price_list(
            "crm:prices:2024-03",
            &PriceList {
                number: Some("PR-2024-03".into()),
                date: Some(date(2024, 3, 1)),
                price_type_key: Some(sim.price_type()),
                rows: Some(vec![
                    PriceRow::new(table.ref_key, d("12990.90")),
                    PriceRow::new(install.ref_key, d("1500")),
                ]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    note("prices", prices.action);

    let order = SalesDocument {
        number: Some("CRM-1001".into()),
        date: Some(date(2024, 3, 1)),
        organization_key: Some(sim.organization()),
        counterparty_key: Some(horns.ref_key),
        contract_key: Some(contract.ref_key),
        total: Some(d("27481.80")),
        goods: Some(vec![DocumentRow::new(table.ref_key, d("2"), d("12990.90"))]),
        services: Some(vec![DocumentRow {
            content: Some("Сборка столов".into()),
            ..DocumentRow::new(install.ref_key, d("1"), d("1500"))
        }]),
        ..Default::default()
    };
    assert_eq!(order.rows_total(), order.total);
    let o = sync
        .upsert_sales_document(SalesKind::Order, "crm:order:1001", &order, Posting::post())
        .await
        .unwrap();
    note("order", o.action);
    let inv = sync
        .upsert_sales_document(SalesKind::Invoice, "crm:invoice:1001", &order, Posting::Leave)
        .await
        .unwrap();
    note("invoice", inv.action);
    let sale = sync
        .upsert_sales_document(SalesKind::Sale, "crm:shipment:1001", &order, Posting::post())
        .await
        .unwrap();
    note("sale", sale.action);

    let incoming = BankPayment {
        date: Some(date(2024, 3, 4)),
        operation: Some(EnumValue::new(payment_operation::FROM_CUSTOMER)),
        organization_key: Some(sim.organization()),
        bank_account_key: Some(sim.bank_account()),
        counterparty_key: Some(horns.ref_key),
        amount: Some(d("27481.80")),
        purpose: Some("Оплата по счету CRM-1001, в т.ч. НДС".into()),
        incoming_number: Some("731".into()),
        incoming_date: Some(date(2024, 3, 4)),
        breakdown: Some(vec![PaymentRow {
            contract_key: Some(contract.ref_key),
            amount: Some(d("27481.80")),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let p = sync
        .upsert_payment(PaymentDirection::Incoming, "bank:731", &incoming, Posting::post())
        .await
        .unwrap();
    note("incoming", p.action);
    let outgoing = BankPayment {
        number: Some("ПП-17".into()),
        date: Some(date(2024, 3, 5)),
        operation: Some(EnumValue::new(payment_operation::REFUND_TO_CUSTOMER)),
        organization_key: Some(sim.organization()),
        counterparty_key: Some(obrien.ref_key),
        amount: Some(d("100.01")),
        ..Default::default()
    };
    let p = sync
        .upsert_payment(PaymentDirection::Outgoing, "crm:refund:17", &outgoing, Posting::Leave)
        .await
        .unwrap();
    note("outgoing", p.action);
    done
}

const SETS: &[&str] = &[
    "Catalog_Контрагенты",
    "Catalog_ДоговорыКонтрагентов",
    "Catalog_Номенклатура",
    "Document_УстановкаЦенНоменклатуры",
    "InformationRegister_ЦеныНоменклатуры",
    "Document_ЗаказКлиента",
    "Document_СчетНаОплатуПокупателю",
    "Document_РеализацияТоваровУслуг",
    "Document_ПоступлениеНаРасчетныйСчет",
    "Document_СписаниеСРасчетногоСчета",
];

fn counts(sim: &Simulator) -> Vec<usize> {
    SETS.iter().map(|s| sim.count(s)).collect()
}

#[tokio::test]
async fn full_sync_then_a_rerun_changes_nothing() {
    let sim = Simulator::start().await;
    let (sync, log) = common::syncer(&sim);
    let first = push_everything(&sync, &sim).await;
    assert!(first.iter().all(|(_, a)| *a == SyncAction::Created), "{first:?}");
    assert_eq!(counts(&sim), vec![3, 1, 2, 1, 2, 1, 1, 1, 1, 1]);

    // 1C holds what was sent.
    let order = &sim.records("Document_ЗаказКлиента")[0];
    assert_eq!(order["Number"], "CRM-1001");
    assert_eq!(order["Posted"], true);
    assert_eq!(order["СуммаДокумента"], 27481.8);
    assert_eq!(order["Товары"][0]["Сумма"], 25981.8);
    assert_eq!(order["Товары"][0]["LineNumber"], "1");
    assert_eq!(order["Услуги"][0]["Содержание"], "Сборка столов");
    assert_eq!(sim.records("Document_СчетНаОплатуПокупателю")[0]["Posted"], false);
    let pay = &sim.records("Document_ПоступлениеНаРасчетныйСчет")[0];
    assert_eq!(pay["НазначениеПлатежа"], "Оплата по счету CRM-1001, в т.ч. НДС");
    assert_eq!(pay["РасшифровкаПлатежа"][0]["СуммаПлатежа"], 27481.8);
    let horns = sim
        .records("Catalog_Контрагенты")
        .into_iter()
        .find(|c| c["КПП"] == "770701001")
        .unwrap();
    assert_eq!(horns["Description"], "ООО \"Рога и копыта\"");

    // The log knows every Ref_Key and what was sent.
    let entries = log.entries();
    assert_eq!(entries.len(), first.len());
    assert!(
        entries
            .iter()
            .all(|e| e.ref_key.is_some() && e.sent.is_some() && e.error.is_none())
    );
    let order_entry = log.entries_for("crm:order:1001").pop().unwrap();
    assert_eq!(order_entry.entity_set, "Document_ЗаказКлиента");
    assert_eq!(order_entry.posted, Some(true));
    assert_eq!(order_entry.sent.as_ref().unwrap()["Number"], "CRM-1001");

    // The same sync again: nothing is written.
    let writes = sim.writes();
    let again = push_everything(&sync, &sim).await;
    assert!(again.iter().all(|(_, a)| *a == SyncAction::Unchanged), "{again:?}");
    assert_eq!(sim.writes(), writes, "a re-run writes nothing");
    assert_eq!(counts(&sim), vec![3, 1, 2, 1, 2, 1, 1, 1, 1, 1]);
    assert!(log.entries()[first.len()..].iter().all(|e| e.sent.is_none()));

    // Even with the log's mapping lost, the stable keys find everything.
    let fresh = Syncer::new(common::client(&sim), Arc::new(MemorySyncLog::new()));
    let third = push_everything(&fresh, &sim).await;
    assert!(third.iter().all(|(_, a)| *a == SyncAction::Unchanged), "{third:?}");
    assert_eq!(sim.writes(), writes);
}

#[tokio::test]
async fn a_changed_field_is_patched_alone_and_documents_are_reposted() {
    let sim = Simulator::start().await;
    let (sync, log) = common::syncer(&sim);
    let mut c = Counterparty::company("ООО Ромашка", "7707083893", Some("770701001"));
    let first = sync.upsert_counterparty("crm:1", &c).await.unwrap();
    c.comment = Some("VIP".into());
    let second = sync.upsert_counterparty("crm:1", &c).await.unwrap();
    assert_eq!(second.action, SyncAction::Updated);
    assert_eq!(second.ref_key, first.ref_key);
    assert_eq!(log.entries_for("crm:1")[1].sent, Some(json!({"Комментарий": "VIP"})));
    assert_eq!(
        sim.record("Catalog_Контрагенты", first.ref_key).unwrap()["Комментарий"],
        "VIP"
    );

    let item = sim
        .seed("Catalog_Номенклатура", json!({"Description": "Стол"}))
        .unwrap();
    let mut order = SalesDocument {
        number: Some("CRM-7".into()),
        date: Some(date(2024, 3, 1)),
        counterparty_key: Some(first.ref_key),
        goods: Some(vec![DocumentRow::new(item, d("1"), d("10"))]),
        ..Default::default()
    };
    let o = sync
        .upsert_sales_document(SalesKind::Order, "crm:order:7", &order, Posting::post())
        .await
        .unwrap();
    assert_eq!(o.posted, Some(true));
    let posts_before = posts(&sim).await;
    order.goods = Some(vec![
        DocumentRow::new(item, d("1"), d("10")),
        DocumentRow::new(item, d("3"), d("10")),
    ]);
    let o2 = sync
        .upsert_sales_document(SalesKind::Order, "crm:order:7", &order, Posting::post())
        .await
        .unwrap();
    assert_eq!(o2.action, SyncAction::Updated);
    assert_eq!(
        posts(&sim).await,
        posts_before + 1,
        "a changed posted document is posted again"
    );
    let stored = sim.record("Document_ЗаказКлиента", o.ref_key).unwrap();
    assert_eq!(stored["Товары"].as_array().unwrap().len(), 2);
    assert_eq!(stored["Товары"][1]["LineNumber"], "2");

    // Unposted in 1C by someone: the next sync posts it again, without writing anything else.
    crate::OneCClient::unpost_document(sync.client(), &EntitySet::document("ЗаказКлиента"), o.ref_key)
        .await
        .unwrap();
    let o3 = sync
        .upsert_sales_document(SalesKind::Order, "crm:order:7", &order, Posting::post())
        .await
        .unwrap();
    assert_eq!((o3.action, o3.posted), (SyncAction::Unchanged, Some(true)));
    assert_eq!(sim.record("Document_ЗаказКлиента", o.ref_key).unwrap()["Posted"], true);
}

async fn posts(sim: &Simulator) -> usize {
    sim.requests()
        .await
        .iter()
        .filter(|r| r.url.path().ends_with("/Post"))
        .count()
}

#[tokio::test]
async fn duplicates_in_1c_are_an_error_not_a_guess() {
    let sim = Simulator::start().await;
    for _ in 0..2 {
        sim.seed(
            "Catalog_Контрагенты",
            json!({"Description": "Дубль", "ИНН": "7707083893", "КПП": "770701001"}),
        )
        .unwrap();
    }
    let (sync, log) = common::syncer(&sim);
    let e = sync
        .upsert_counterparty(
            "crm:1",
            &Counterparty::company("Дубль", "7707083893", Some("770701001")),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Rejected);
    assert!(e.to_string().contains("2 entities"), "{e}");
    assert_eq!(sim.count("Catalog_Контрагенты"), 2);
    let entry = log.entries().pop().unwrap();
    assert_eq!(entry.action, SyncAction::Failed);
    assert!(entry.error.unwrap().message.contains("duplicates"));
}

#[tokio::test]
async fn a_match_marked_for_deletion_is_reused_and_can_be_restored() {
    let sim = Simulator::start().await;
    let key = sim
        .seed(
            "Catalog_Контрагенты",
            json!({"Description": "ООО Ромашка", "ИНН": "7707083893", "DeletionMark": true}),
        )
        .unwrap();
    let (sync, _) = common::syncer(&sim);
    let mut c = Counterparty::company("ООО Ромашка", "7707083893", None);
    c.full_name = None;
    c.legal_form = None;
    let s = sync.upsert_counterparty("crm:1", &c).await.unwrap();
    assert_eq!((s.ref_key, s.action), (key, SyncAction::Unchanged));
    assert_eq!(sim.count("Catalog_Контрагенты"), 1);
    c.deletion_mark = Some(false);
    let s = sync.upsert_counterparty("crm:1", &c).await.unwrap();
    assert_eq!(s.action, SyncAction::Updated);
    assert_eq!(sim.record("Catalog_Контрагенты", key).unwrap()["DeletionMark"], false);
}

#[tokio::test]
async fn records_without_a_stable_key_are_refused_before_sending() {
    let sim = Simulator::start().await;
    let (sync, log) = common::syncer(&sim);
    let before = sim.requests().await.len();
    let e = sync
        .upsert_counterparty("crm:1", &Counterparty::company("Без ИНН", "", None))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    let e = sync
        .upsert_sales_document(SalesKind::Order, "crm:2", &SalesDocument::default(), Posting::post())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert_eq!(sim.requests().await.len(), before);
    assert_eq!(log.count(SyncAction::Failed), 2);
}

#[tokio::test]
async fn a_stale_ref_in_the_log_falls_back_to_the_stable_key() {
    let sim = Simulator::start().await;
    let (sync, log) = common::syncer(&sim);
    let c = Counterparty::company("ООО Ромашка", "7707083893", Some("770701001"));
    let first = sync.upsert_counterparty("crm:1", &c).await.unwrap();
    // Someone deleted it physically in 1C.
    sync.client()
        .delete_physically(&sync.sets().counterparties, first.ref_key)
        .await
        .unwrap();
    let second = sync.upsert_counterparty("crm:1", &c).await.unwrap();
    assert_eq!(second.action, SyncAction::Created);
    assert_ne!(second.ref_key, first.ref_key);
    assert_eq!(log.entries().len(), 2);
}

#[tokio::test]
async fn keyed_upsert_for_custom_objects() {
    let sim = Simulator::start().await;
    sim.add_field("Catalog_Контрагенты", "ВнешнийКод", "string");
    let (sync, _) = common::syncer(&sim);
    let body = json!({"Description": "Клиент сайта", "ВнешнийКод": "site-77"});
    let key = field("ВнешнийКод").eq("site-77");
    let set = EntitySet::catalog("Контрагенты");
    let a = sync
        .upsert_keyed(&set, "site:77", &body, key.clone(), Posting::Leave)
        .await
        .unwrap();
    let b = sync
        .upsert_keyed(&set, "site:77", &body, key, Posting::Leave)
        .await
        .unwrap();
    assert_eq!((a.action, b.action), (SyncAction::Created, SyncAction::Unchanged));
    assert_eq!(sim.count("Catalog_Контрагенты"), 1);
}

#[tokio::test]
async fn prices_are_written_by_posting_the_price_list() {
    let sim = Simulator::start().await;
    let (sync, _) = common::syncer(&sim);
    let item = sync
        .upsert_item(
            "p:1",
            &Item {
                description: "Стол".into(),
                article: Some("T-1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let list = PriceList {
        number: Some("PR-1".into()),
        date: Some(date(2024, 3, 1)),
        price_type_key: Some(sim.price_type()),
        rows: Some(vec![PriceRow::new(item.ref_key, d("999.99"))]),
        ..Default::default()
    };
    let s = sync.upsert_price_list("prices:1", &list).await.unwrap();
    assert_eq!(s.posted, Some(true));
    let prices = sync.prices(item.ref_key).await.unwrap();
    assert_eq!(prices.len(), 1);
    assert_eq!(prices[0].price, d("999.99"));
    assert_eq!(prices[0].price_type_key, sim.price_type());
    assert_eq!(prices[0].period, Some(date(2024, 3, 1)));
    assert!(sync.prices(Guid::from_u128(3)).await.unwrap().is_empty());
}

#[tokio::test]
async fn document_statuses_are_pulled_back() {
    let sim = Simulator::start().await;
    let (sync, _) = common::syncer(&sim);
    let mut refs = Vec::new();
    for i in 0..25 {
        let s = sync
            .upsert_sales_document(
                SalesKind::Order,
                &format!("crm:{i}"),
                &SalesDocument {
                    number: Some(format!("CRM-{i}")),
                    ..Default::default()
                },
                if i % 2 == 0 { Posting::post() } else { Posting::Leave },
            )
            .await
            .unwrap();
        refs.push(s.ref_key);
    }
    sim.set_field("Document_ЗаказКлиента", refs[3], "Статус", json!("Закрыт"));
    refs.push(Guid::from_u128(99)); // not in 1C
    let statuses = sync
        .document_statuses(&EntitySet::document("ЗаказКлиента"), &refs, &["Статус"])
        .await
        .unwrap();
    assert_eq!(statuses.len(), 25);
    let by_ref = |g: Guid| statuses.iter().find(|s| s.ref_key == g).unwrap();
    assert!(by_ref(refs[0]).posted);
    assert!(!by_ref(refs[1]).posted);
    assert_eq!(by_ref(refs[3]).number, "CRM-3");
    assert_eq!(by_ref(refs[3]).extra["Статус"], "Закрыт");
    let status_queries = sim
        .requests()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.query().is_some_and(|q| q.contains("$select")))
        .count();
    assert_eq!(status_queries, 2, "26 keys in chunks of 20");
}

#[tokio::test]
async fn delta_sync_by_change_date() {
    let sim = Simulator::start().await;
    assert!(sim.track_changes("Document_ЗаказКлиента", "ДатаИзменения"));
    let (sync, log) = common::syncer(&sim);
    let mut refs = Vec::new();
    for i in 0..3 {
        refs.push(
            sync.upsert_sales_document(
                SalesKind::Order,
                &format!("crm:{i}"),
                &SalesDocument {
                    number: Some(format!("CRM-{i}")),
                    ..Default::default()
                },
                Posting::Leave,
            )
            .await
            .unwrap()
            .ref_key,
        );
    }
    let delta = Delta::new(EntitySet::document("ЗаказКлиента"), "ДатаИзменения").select(["Number", "Posted"]);
    let batch = sync.pull_changes::<Value>(&delta).await.unwrap();
    assert_eq!(batch.items.len(), 3);
    assert!(batch.complete);
    assert_eq!(batch.items[0]["Number"], "CRM-0");
    sync.commit(&batch).await.unwrap();
    let stored = log.load_marker(delta.stream()).await.unwrap().unwrap();
    assert_eq!(Marker::parse(&stored).unwrap(), batch.next.clone().unwrap());

    let empty = sync.pull_changes::<Value>(&delta).await.unwrap();
    assert!(empty.items.is_empty(), "nothing changed since the marker");

    sim.advance_clock(Duration::from_secs(60));
    sim.set_field("Document_ЗаказКлиента", refs[1], "Статус", json!("Согласован"));
    let one = sync.pull_changes::<Value>(&delta).await.unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0]["Ref_Key"], json!(refs[1].to_string()));
    // Not committed: the same change comes again.
    assert_eq!(sync.pull_changes::<Value>(&delta).await.unwrap().items.len(), 1);
    sync.commit(&one).await.unwrap();
    assert!(sync.pull_changes::<Value>(&delta).await.unwrap().items.is_empty());

    // A host-supplied marker: everything since the start of the day.
    let all = sync
        .pull_changes::<Value>(&delta.clone().since(Marker::at_datetime(date(2024, 3, 1))))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 3);
}

#[tokio::test]
async fn delta_sync_pages_through_changes_sharing_one_second() {
    let sim = Simulator::start().await;
    sim.track_changes("Catalog_Контрагенты", "ДатаИзменения");
    sim.set_clock_step(Duration::ZERO);
    let (sync, _) = common::syncer(&sim);
    for i in 0..5 {
        sync.upsert_counterparty(
            &format!("crm:{i}"),
            &Counterparty::company(format!("К{i}"), format!("77000000{i:02}"), None),
        )
        .await
        .unwrap();
    }
    let delta = Delta::new(EntitySet::catalog("Контрагенты"), "ДатаИзменения").max_items(2);
    let mut seen = Vec::new();
    for _ in 0..5 {
        let batch = sync.pull_changes::<Counterparty>(&delta).await.unwrap();
        seen.extend(batch.items.iter().map(|c| c.inn.clone().unwrap()));
        sync.commit(&batch).await.unwrap();
        if batch.complete {
            break;
        }
    }
    seen.sort();
    let expected: Vec<String> = (0..5).map(|i| format!("77000000{i:02}")).collect();
    assert_eq!(seen, expected, "every change exactly once, though all share one second");
}

#[tokio::test]
async fn the_log_identity_wins_so_a_corrected_inn_updates_instead_of_duplicating() {
    let sim = Simulator::start().await;
    let (sync, _) = common::syncer(&sim);
    let mut c = Counterparty::company("ООО Ромашка", "7707083890", Some("770701001"));
    let first = sync.upsert_counterparty("crm:1", &c).await.unwrap();
    c.inn = Some("7707083893".into()); // the CRM fixed a typo
    let second = sync.upsert_counterparty("crm:1", &c).await.unwrap();
    assert_eq!((second.action, second.ref_key), (SyncAction::Updated, first.ref_key));
    assert_eq!(sim.count("Catalog_Контрагенты"), 1);
    assert_eq!(
        sim.record("Catalog_Контрагенты", first.ref_key).unwrap()["ИНН"],
        "7707083893"
    );
}

/// A host log whose database is down.
#[derive(Debug)]
struct BrokenLog;

#[async_trait::async_trait]
impl SyncLog for BrokenLog {
    async fn record(&self, _: SyncEntry) -> switchboard_core::Result<()> {
        Err(switchboard_core::Error::new(ErrorKind::Unavailable, "database down"))
    }
    async fn ref_key(&self, _: &str, _: &str) -> switchboard_core::Result<Option<Guid>> {
        Ok(None)
    }
    async fn load_marker(&self, _: &str) -> switchboard_core::Result<Option<String>> {
        Ok(None)
    }
    async fn store_marker(&self, _: &str, _: &str) -> switchboard_core::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_failing_log_is_reported_and_a_rerun_is_safe() {
    let sim = Simulator::start().await;
    let sync = Syncer::new(common::client(&sim), Arc::new(BrokenLog));
    let c = Counterparty::company("ООО Ромашка", "7707083893", None);
    let e = sync.upsert_counterparty("crm:1", &c).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.to_string().contains("running the sync again is safe"), "{e}");
    let e = sync.upsert_counterparty("crm:1", &c).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert_eq!(sim.count("Catalog_Контрагенты"), 1, "the re-run found it");
}

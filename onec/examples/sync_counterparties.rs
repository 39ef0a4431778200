//! Syncs a few CRM companies into 1C as counterparties, records a customer's payment against one of
//! them, runs the same sync again to show that nothing is written twice, and pulls the payment's
//! status back.
//!
//! ```text
//! cargo run -p switchboard-onec --example sync_counterparties --features sim
//! ```
//!
//! It runs against the built-in simulator of a 1C base. Against a real base the only change is the
//! client: `OneCClient::from_dsn_str("onec://USER:PASSWORD@erp.example.com/PUBLICATION")`, with the objects
//! added to the OData composition (`УстановитьСоставСтандартногоИнтерфейсаOData`) and an infobase user
//! allowed to write and post them.

use std::sync::Arc;

use chrono::NaiveDate;
use switchboard_core::simulated::Simulated;
use switchboard_onec::model::payment_operation;
use switchboard_onec::sim::Simulator;
use switchboard_onec::{
    BankPayment, Counterparty, Decimal, EnumValue, MemorySyncLog, OneCClient, PaymentDirection, PaymentRow, Posting,
    SyncAction, Syncer,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::start().await;
    println!("1C simulator: {}", sim.odata_url());

    let client = OneCClient::from_dsn_str(&sim.dsn())?;
    let log = Arc::new(MemorySyncLog::new()); // your database in production
    let sync = Syncer::new(client, log.clone());

    // What the CRM has: its own id, the company name, INN and KPP.
    let companies = [
        (
            "crm:company:1",
            Counterparty::company("ООО \"Рога и копыта\"", "7707083893", Some("770701001")),
        ),
        (
            "crm:company:2",
            Counterparty::company("АО «Северсталь-Трейд»", "3528000597", Some("352801001")),
        ),
        ("crm:company:3", Counterparty::person("O'Brien Patrick", "500100732259")),
    ];

    for round in 1..=2 {
        println!("\nsync run {round}:");
        for (id, company) in &companies {
            let s = sync.upsert_counterparty(id, company).await?;
            println!(
                "  {id:<14} {:<9} -> Catalog_Контрагенты({})",
                action(s.action),
                s.ref_key
            );
        }
    }

    // A payment from the first customer, as the bank statement has it.
    let payer = sync.upsert_counterparty(companies[0].0, &companies[0].1).await?.ref_key;
    let day = NaiveDate::from_ymd_opt(2024, 3, 4).and_then(|d| d.and_hms_opt(0, 0, 0));
    let payment = BankPayment {
        date: day,
        operation: Some(EnumValue::new(payment_operation::FROM_CUSTOMER)),
        organization_key: Some(sim.organization()),
        bank_account_key: Some(sim.bank_account()),
        counterparty_key: Some(payer),
        amount: Some(Decimal::parse("125000.50")?),
        purpose: Some("Оплата по счету № 1001 от 01.03.2024, в т.ч. НДС 20%".into()),
        incoming_number: Some("731".into()),
        incoming_date: day,
        breakdown: Some(vec![PaymentRow {
            amount: Some(Decimal::parse("125000.50")?),
            ..Default::default()
        }]),
        ..Default::default()
    };
    println!("\npayment:");
    let mut payment_ref = None;
    for _ in 0..2 {
        let s = sync
            .upsert_payment(PaymentDirection::Incoming, "bank:731", &payment, Posting::post())
            .await?;
        println!(
            "  bank:731       {:<9} -> Document_ПоступлениеНаРасчетныйСчет({}), posted: {}",
            action(s.action),
            s.ref_key,
            s.posted.unwrap_or(false)
        );
        payment_ref = Some(s.ref_key);
    }

    // Statuses back, as a CRM polls them.
    let statuses = sync
        .document_statuses(&sync.sets().incoming_payments, payment_ref.as_slice(), &[])
        .await?;
    for st in statuses {
        println!("  status back from 1C: number {}, posted {}", st.number, st.posted);
    }

    println!(
        "\n1C holds {} counterparties and {} payment; {} writes in all; the sync log has {} entries.",
        sim.count("Catalog_Контрагенты"),
        sim.count("Document_ПоступлениеНаРасчетныйСчет"),
        sim.writes(),
        log.entries().len()
    );
    Ok(())
}

fn action(a: SyncAction) -> &'static str {
    match a {
        SyncAction::Created => "created",
        SyncAction::Recovered => "recovered",
        SyncAction::Updated => "updated",
        SyncAction::Unchanged => "unchanged",
        _ => "failed",
    }
}

//! The CRM under load on loopback: 10,000 GPS updates posted over HTTP, then 10,000 SMS posted over
//! HTTP, queued in the outbox and sent by the worker to the SMS.ru simulator. Reports throughput and
//! the process's memory (resident set, and its peak) after each phase; the figures are in BENCHMARKS.md.
//!
//! ```text
//! cargo run --release -p switchboard-crm --example load            # 10,000 of each
//! cargo run --release -p switchboard-crm --example load -- 2000    # fewer
//! ```
//!
//! Bounded: 16 requests in flight, every wait has a deadline, and the run fails (exit 1) if any SMS is
//! missing or reached the simulator twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard::core::simulated::Simulated;
use switchboard_crm::{Config, Env, spawn};

const IN_FLIGHT: usize = 16;

/// `VmRSS` and `VmHWM` (peak) of this process, in MiB (Linux; zeros elsewhere).
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Posts every body to its path with at most [`IN_FLIGHT`] at once; answers how many got `expect`.
async fn post_all(http: &reqwest::Client, base: &str, requests: Vec<(String, Value)>, expect: u16) -> usize {
    futures::stream::iter(requests)
        .map(|(path, body)| {
            let http = http.clone();
            let url = format!("{base}{path}");
            async move {
                match http.post(url).json(&body).send().await {
                    Ok(r) => r.status().as_u16() == expect,
                    Err(_) => false,
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = std::env::temp_dir().join(format!("crm-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    // SMS.ru's simulator, started here to give it the balance for any run (it refuses after 1000 ₽).
    let sms = Arc::new(switchboard::smsru::sim::Simulator::start().await);
    sms.set_balance_kopecks(i64::MAX / 4);
    let config = Config::from(Env::fixed([
        ("CRM_TEST_MODE", "1".to_owned()),
        ("CRM_LISTEN", "127.0.0.1:0".to_owned()),
        ("CRM_DATABASE", format!("sqlite:{}", dir.join("crm.db").display())),
        ("CRM_SMS", sms.dsn()),
        // The per-driver limit is not what is measured here.
        ("CRM_GPS_MAX_PER_MINUTE", "100000000".to_owned()),
    ]))?;
    let crm = spawn(config).await?;
    let http = switchboard::core::http::HttpOptions::default().build_client()?;
    let (rss, _) = memory();
    println!("started: RSS {rss:.1} MiB");

    // Ten drivers, each reporting n/10 points a second apart.
    let mut drivers = Vec::new();
    for i in 0..10 {
        let r = http
            .post(format!("{}/api/drivers", crm.url))
            .json(&json!({ "name": format!("Driver {i}") }))
            .send()
            .await?;
        let d: Value = r.json().await?;
        drivers.push(d["id"].as_i64().ok_or("a driver id")?);
    }
    let start = chrono::Utc::now() - chrono::Duration::seconds(n as i64 + 60);
    let gps: Vec<(String, Value)> = (0..n)
        .map(|i| {
            let driver = drivers[i % drivers.len()];
            let at = start + chrono::Duration::seconds(i as i64);
            let body = json!({
                "latitude": 55.75 + (i % 1000) as f64 * 1e-4, "longitude": 37.61, "accuracy_m": 5.0,
                "speed_kmh": 40.0, "heading_deg": 90.0, "battery_pct": 80,
                "recorded_at": at.to_rfc3339(),
            });
            (format!("/api/drivers/{driver}/locations"), body)
        })
        .collect();
    let t = Instant::now();
    let stored = post_all(&http, &crm.url, gps, 201).await;
    let gps_secs = t.elapsed().as_secs_f64();
    let (rss, peak) = memory();
    println!(
        "GPS: {stored}/{n} stored in {gps_secs:.2} s = {:.0} updates/s; RSS {rss:.1} MiB, peak {peak:.1} MiB",
        stored as f64 / gps_secs
    );

    let sms_requests: Vec<(String, Value)> = (0..n)
        .map(|i| {
            let phone = format!("+7912{:07}", 1_000_000 + i);
            (
                "/api/sms".to_owned(),
                json!({ "phone": phone, "text": format!("Order {i} is on its way") }),
            )
        })
        .collect();
    let t = Instant::now();
    let queued = post_all(&http, &crm.url, sms_requests, 202).await;
    let queue_secs = t.elapsed().as_secs_f64();
    println!(
        "SMS: {queued}/{n} accepted (202, in the outbox) in {queue_secs:.2} s = {:.0} requests/s",
        queued as f64 / queue_secs
    );
    // Wait (bounded) until the worker has sent every one and the rows show it.
    let deadline = Instant::now() + Duration::from_secs(1800);
    let sent = loop {
        let sent: i64 =
            switchboard::store::sqlx::query_scalar("SELECT COUNT(*) FROM sms_messages WHERE status = 'sent'")
                .fetch_one(crm.state.pool())
                .await?;
        if sent as usize >= queued || Instant::now() > deadline {
            break sent as usize;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let total_secs = t.elapsed().as_secs_f64();
    let (rss, peak) = memory();
    let records = sms.sent();
    let distinct: HashSet<&str> = records.iter().map(|r| r.to.as_str()).collect();
    println!(
        "SMS: {sent}/{queued} sent through the outbox in {total_secs:.2} s = {:.0} SMS/s end to end; \
         at the simulator {} ({} distinct numbers); RSS {rss:.1} MiB, peak {peak:.1} MiB",
        sent as f64 / total_secs,
        records.len(),
        distinct.len()
    );
    crm.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    if stored != n || sent != n || records.len() != n || distinct.len() != n {
        eprintln!("load: something was lost or sent twice");
        std::process::exit(1);
    }
    Ok(())
}

//! 10 000 recipients through `DinstarTransport` to the simulator on loopback: batched `send_many`
//! (≤128 recipients per `send_sms`) against the same work done one message per request, sequentially
//! and 16 in flight. Reports requests made (as the simulator counted them), wall time and peak memory
//! (`VmHWM` from `/proc/self/status`).
//!
//! Each mode runs in its own child process so that the peak-memory figures do not mix:
//!
//! ```sh
//! cargo bench -p switchboard-dinstar --features sim --bench bulk
//! ```
//!
//! `BULK_RECIPIENTS=N` changes the count.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use switchboard_core::{Dsn, Message, PhoneNumber, Transport};
use switchboard_dinstar::DinstarTransport;
use switchboard_dinstar::sim::Simulator;

const MODES: [&str; 3] = ["batched", "single", "single-x16"];
const TEXT: &str = "Your order is ready for pickup at the Tirana store. Reply STOP to opt out.";

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn recipients() -> usize {
    std::env::var("BULK_RECIPIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn messages(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| {
            let to = PhoneNumber::parse(&format!("+35569{:07}", 1_000_000 + i), None).expect("valid number");
            Message::sms(to, TEXT)
        })
        .collect()
}

async fn run(mode: &str, n: usize) -> (u64, u64, f64, usize) {
    let sim = Simulator::builder().start_on_port(0).await.expect("simulator");
    let t = Arc::new(DinstarTransport::from_dsn(&Dsn::parse(&sim.dsn()).expect("dsn")).expect("transport"));
    let msgs = messages(n);
    let start = Instant::now();
    let ok = match mode {
        "batched" => t.send_many(&msgs).await.iter().filter(|r| r.is_ok()).count(),
        "single" => {
            let mut ok = 0;
            for m in &msgs {
                ok += usize::from(t.send(m).await.is_ok());
            }
            ok
        }
        _ => {
            let msgs = Arc::new(msgs);
            let workers = 16;
            let mut handles = Vec::new();
            for w in 0..workers {
                let (t, msgs) = (t.clone(), msgs.clone());
                handles.push(tokio::spawn(async move {
                    let mut ok = 0;
                    for m in msgs.iter().skip(w).step_by(workers) {
                        ok += usize::from(t.send(m).await.is_ok());
                    }
                    ok
                }));
            }
            let mut ok = 0;
            for h in handles {
                ok += h.await.unwrap_or(0);
            }
            ok
        }
    };
    let wall = start.elapsed().as_secs_f64();
    let stats = sim.stats();
    (stats.requests, stats.authorized_path("/api/send_sms"), wall, ok)
}

fn main() {
    let n = recipients();
    if let Ok(mode) = std::env::var("BULK_MODE") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (requests, sends, wall, ok) = rt.block_on(run(&mode, n));
        println!(
            "{mode}\t{n}\t{ok}\t{requests}\t{sends}\t{wall:.3}\t{}",
            vm_hwm_kib().unwrap_or(0)
        );
        return;
    }
    let exe = std::env::current_exe().expect("current exe");
    println!(
        "| mode | recipients | accepted | HTTP requests | send_sms requests | wall time | msg/s | peak RSS (VmHWM) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for mode in MODES {
        let out = Command::new(&exe)
            .env("BULK_MODE", mode)
            .env("BULK_RECIPIENTS", n.to_string())
            .output()
            .expect("child run");
        let line = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = line.trim().split('\t').collect();
        if f.len() != 7 {
            eprintln!("{mode} failed: {line} {}", String::from_utf8_lossy(&out.stderr));
            continue;
        }
        let wall: f64 = f[5].parse().unwrap_or(0.0);
        let rate = if wall > 0.0 { n as f64 / wall } else { 0.0 };
        let hwm_mib = f[6].parse::<f64>().unwrap_or(0.0) / 1024.0;
        println!(
            "| {} | {} | {} | {} | {} | {:.2} s | {:.0} | {:.1} MiB |",
            f[0], f[1], f[2], f[3], f[4], wall, rate, hwm_mib
        );
    }
}

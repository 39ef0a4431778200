//! The bulk paths: 10,000 recipients through `Messenger::send_batch` to the Dinstar and Mitto
//! simulators, against the same work done one message per request. Prints requests made, wall time
//! and peak memory.
//!
//! ```text
//! cargo bench --bench bulk_paths
//! ```

mod support;

use std::time::Instant;

use switchboard::{Message, Messenger, PhoneNumber};

const N: usize = 10_000;

fn recipients() -> Vec<Message> {
    (0..N)
        .map(|i| {
            let to: PhoneNumber = format!("+35569{:07}", 1_000_000 + i).parse().expect("number");
            Message::sms(to, "Porosia juaj u dërgua.")
        })
        .collect()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Dinstar: one send_sms request carries up to 128 recipients of the same text.
        let gw = switchboard::dinstar::sim::Simulator::start().await;
        let m = Messenger::from_dsns([gw.dsn()]).expect("messenger");
        let msgs = recipients();
        let t = Instant::now();
        let ok = m.send_batch(&msgs).await.iter().filter(|r| r.is_ok()).count();
        let wall = t.elapsed();
        let requests = gw.stats().path("/api/send_sms");
        println!(
            "dinstar send_batch: {ok}/{N} accepted, {requests} send_sms requests, {:.2}s, peak RSS {} KiB",
            wall.as_secs_f64(),
            support::peak_rss_kib()
        );
        let t = Instant::now();
        let mut ok = 0;
        for msg in msgs.iter().take(N) {
            if m.send(msg.clone()).await.is_ok() {
                ok += 1;
            }
        }
        println!(
            "dinstar one per request: {ok}/{N} accepted, {} send_sms requests, {:.2}s",
            gw.stats().path("/api/send_sms") - requests,
            t.elapsed().as_secs_f64()
        );

        // Mitto legacy API: /smsbulk takes many recipients of the same text.
        let mitto = switchboard::mitto::sim::Simulator::start().await;
        let m = Messenger::from_dsns([mitto.dsn()]).expect("messenger");
        let t = Instant::now();
        let ok = m.send_batch(&msgs).await.iter().filter(|r| r.is_ok()).count();
        println!(
            "mitto send_batch: {ok}/{N} accepted, {} /smsbulk + {} /sms requests, {:.2}s, peak RSS {} KiB",
            mitto.bulk_requests(),
            mitto.sms_requests(),
            t.elapsed().as_secs_f64(),
            support::peak_rss_kib()
        );
        let (bulk, single) = (mitto.bulk_requests(), mitto.sms_requests());
        let t = Instant::now();
        let mut ok = 0;
        for msg in &msgs {
            if m.send(msg.clone()).await.is_ok() {
                ok += 1;
            }
        }
        println!(
            "mitto one per request: {ok}/{N} accepted, {} /smsbulk + {} /sms requests, {:.2}s",
            mitto.bulk_requests() - bulk,
            mitto.sms_requests() - single,
            t.elapsed().as_secs_f64()
        );
    });
}

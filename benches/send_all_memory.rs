//! Peak memory of `Messenger::send_all` as N grows: it should stay flat, since at most the configured
//! number of sends is in flight and results are consumed as they come.
//!
//! ```text
//! cargo bench --bench send_all_memory -- 10000
//! cargo bench --bench send_all_memory -- 100000
//! ```
//! (Each N in its own process, so one run's peak does not hide the other's.)

mod support;

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use switchboard::{Message, Messenger, PhoneNumber, Route};

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let base = support::start_server().await;
        let messenger = Arc::new(
            Messenger::builder()
                .transport("bench", support::HttpTransport::new(&base))
                .route(Route::any_phone().via(["bench"]))
                .send_all_concurrency(64)
                .build()
                .expect("messenger"),
        );
        let to: PhoneNumber = "+355694123456".parse().expect("number");
        let before = support::peak_rss_kib();
        let start = Instant::now();
        let messages = futures::stream::iter(0..n).map(move |i| Message::sms(to.clone(), format!("message {i}")));
        let mut ok = 0usize;
        let mut results = std::pin::pin!(messenger.send_all(messages));
        while let Some((_, r)) = results.next().await {
            if r.is_ok() {
                ok += 1;
            }
        }
        let elapsed = start.elapsed();
        println!(
            "send_all n={n} ok={ok} wall={:.2}s rate={:.0}/s peak_rss_before={}KiB peak_rss_after={}KiB",
            elapsed.as_secs_f64(),
            n as f64 / elapsed.as_secs_f64(),
            before,
            support::peak_rss_kib()
        );
        assert_eq!(ok, n);
    });
}

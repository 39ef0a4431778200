//! Throughput of `Messenger::send` against raw reqwest posting the same requests to the same loopback
//! server, at 1 and 64 requests in flight.
//!
//! ```text
//! cargo bench --bench messenger -- --warm-up-time 1 --measurement-time 5
//! ```

mod support;

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use switchboard::core::http::HttpOptions;
use switchboard::{Message, Messenger, PhoneNumber, Route};

const BATCH: usize = 256;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let base = rt.block_on(support::start_server());
    let to: PhoneNumber = "+355694123456".parse().expect("number");

    let raw = HttpOptions::default().build_client().expect("client");
    let raw_url = format!("{base}/send");
    let messenger = Arc::new(
        Messenger::builder()
            .transport("bench", support::HttpTransport::new(&base))
            .route(Route::any_phone().via(["bench"]))
            .journal(Arc::new(NullJournal))
            .build()
            .expect("messenger"),
    );

    let mut group = c.benchmark_group("send_256_messages");
    group.throughput(Throughput::Elements(BATCH as u64));
    for in_flight in [1usize, 64] {
        group.bench_with_input(BenchmarkId::new("raw_reqwest", in_flight), &in_flight, |b, &n| {
            b.to_async(&rt).iter(|| {
                let raw = raw.clone();
                let url = raw_url.clone();
                let to = to.clone();
                async move {
                    futures::stream::iter(0..BATCH)
                        .map(|i| {
                            let raw = raw.clone();
                            let url = url.clone();
                            let body = serde_json::json!({"to": to.as_e164(), "text": format!("message {i}")});
                            async move {
                                let r = raw.post(&url).json(&body).send().await.expect("send");
                                let v: serde_json::Value = r.json().await.expect("json");
                                assert_eq!(v["status"], "ok");
                            }
                        })
                        .buffer_unordered(n)
                        .collect::<Vec<_>>()
                        .await
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("messenger", in_flight), &in_flight, |b, &n| {
            b.to_async(&rt).iter(|| {
                let m = messenger.clone();
                let to = to.clone();
                async move {
                    futures::stream::iter(0..BATCH)
                        .map(|i| {
                            let m = m.clone();
                            let msg = Message::sms(to.clone(), format!("message {i}"));
                            async move { m.send(msg).await.expect("send") }
                        })
                        .buffer_unordered(n)
                        .collect::<Vec<_>>()
                        .await
                }
            })
        });
    }
    group.finish();
}

/// A journal that stores nothing, so the bench measures the Messenger, not a Vec growing.
#[derive(Debug)]
struct NullJournal;

#[switchboard::async_trait]
impl switchboard::Journal for NullJournal {
    async fn record(&self, _entry: switchboard::JournalEntry) -> switchboard::Result<()> {
        Ok(())
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

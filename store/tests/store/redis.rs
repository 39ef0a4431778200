//! Shared rate limits against a real Redis server (started by the tests, or
//! `SWITCHBOARD_TEST_REDIS_URL`): measured rates under concurrency, refusals, and the fallback when
//! Redis goes away.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use switchboard_core::{Dispatch, ErrorKind, RateLimiter};
use switchboard_store::testing::{RedisServer, redis, unique_name};
use switchboard_store::{RedisLimits, SharedLimit};

/// Eight acquirers on two connections (as two processes would be) take 80 permits of a limit of 50 a
/// second with bursts of 5: they cannot finish faster than the limit allows, and do not take much
/// longer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_acquirers_never_exceed_the_limit() {
    let Some(server) = redis() else { return };
    let name = unique_name("acquire-");
    let limit = SharedLimit::per_second(name, 50).burst(5);
    let a = Arc::new(
        RedisLimits::connect(server.url())
            .await
            .unwrap()
            .limit(limit.clone())
            .unwrap(),
    );
    let b = Arc::new(RedisLimits::connect(server.url()).await.unwrap().limit(limit).unwrap());
    let start = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let l = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                for _ in 0..10 {
                    l.acquire().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    // 80 permits, 5 of them from the burst, the other 75 one every 20 ms.
    let least = Duration::from_millis(75 * 20);
    assert!(
        elapsed + Duration::from_millis(2) >= least,
        "80 permits in {elapsed:?}: faster than 50/s allows"
    );
    assert!(elapsed < least + Duration::from_secs(1), "80 permits took {elapsed:?}");
}

/// Tasks asking without waiting (`check`, and the trait's blocking `try_acquire` from other threads)
/// for 600 ms get no more permits than the limit allows over that time, and about that many.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tries_over_a_window_stay_within_the_limit() {
    let Some(server) = redis() else { return };
    let limits = RedisLimits::connect(server.url()).await.unwrap();
    let limiter = Arc::new(
        limits
            .limit(SharedLimit::per_second(unique_name("try-"), 20).burst(4))
            .unwrap(),
    );
    let granted = Arc::new(AtomicU32::new(0));
    let start = Instant::now();
    let until = start + Duration::from_millis(600);
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (l, g) = (limiter.clone(), granted.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < until {
                let r = if i % 2 == 0 {
                    l.check().await
                } else {
                    // The synchronous trait method, on a runtime worker.
                    l.try_acquire()
                };
                match r {
                    Ok(()) => {
                        g.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        assert_eq!(
                            (e.kind(), e.dispatch()),
                            (ErrorKind::RateLimited, Dispatch::NotSent),
                            "{e}"
                        );
                        let wait = e.retry_after().expect("a refusal says how long to wait");
                        assert!(wait <= Duration::from_millis(50), "{wait:?}");
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = start.elapsed();
    let got = granted.load(Ordering::Relaxed);
    let most = 4 + (elapsed.as_millis() / 50) as u32 + 1;
    let least = 4 + (600 / 50) - 2;
    assert!(got <= most, "{got} permits in {elapsed:?}; the limit allows {most}");
    assert!(
        got >= least,
        "only {got} permits in {elapsed:?}; the limit allows about {most}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_says_not_sent_and_when_to_retry() {
    let Some(server) = redis() else { return };
    let limits = RedisLimits::connect(server.url()).await.unwrap();
    let gateway = limits
        .limit(SharedLimit::every(unique_name("sim-"), Duration::from_millis(300)))
        .unwrap();
    let other = limits
        .limit(SharedLimit::every(unique_name("sim-"), Duration::from_millis(300)))
        .unwrap();
    gateway.try_acquire().unwrap();
    let e = gateway.try_acquire().unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::RateLimited, Dispatch::NotSent));
    let wait = e.retry_after().unwrap();
    assert!(
        wait > Duration::from_millis(200) && wait <= Duration::from_millis(300),
        "{wait:?}"
    );
    let e = gateway.check().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    // Another name is another limit.
    other.check().await.unwrap();
    tokio::time::sleep(e.retry_after().unwrap() + Duration::from_millis(5)).await;
    gateway.check().await.unwrap();
}

/// On a single-threaded runtime the blocking call cannot hand its thread over; it still answers.
#[tokio::test]
async fn try_acquire_works_on_a_current_thread_runtime() {
    let Some(server) = redis() else { return };
    let limits = RedisLimits::connect(server.url()).await.unwrap();
    let l = limits.limit(SharedLimit::per_second(unique_name("ct-"), 1)).unwrap();
    l.try_acquire().unwrap();
    assert_eq!(l.try_acquire().unwrap_err().kind(), ErrorKind::RateLimited);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_limit_falls_back_to_this_process() {
    let e = RedisLimits::connect("redis://:pw-hunter2@127.0.0.1:1/")
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch()),
        (ErrorKind::Unavailable, Dispatch::NotSent),
        "{e}"
    );
    assert!(!format!("{e} {e:?}").contains("hunter2"), "{e}");

    let Some(server) = RedisServer::start() else { return };
    if !server.is_throwaway() {
        eprintln!("SWITCHBOARD_TEST_REDIS_URL is set: the server cannot be stopped, so the fallback is not tested");
        return;
    }
    let limits = RedisLimits::connect_with(server.url(), "t:", Duration::from_millis(300))
        .await
        .unwrap();
    let l = limits
        .limit(SharedLimit::every("fallback", Duration::from_millis(200)).burst(2))
        .unwrap();
    l.check().await.unwrap();
    drop(server);
    // Redis is gone: the process's own bucket (same rate, bursts of 2) takes over.
    assert!(l.check().await.is_err_and(|e| e.kind() == ErrorKind::Unavailable));
    l.try_acquire().unwrap();
    l.try_acquire().unwrap();
    let e = l.try_acquire().unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::RateLimited, Dispatch::NotSent));
    let start = Instant::now();
    l.acquire().await;
    assert!(
        start.elapsed() >= Duration::from_millis(100),
        "the fallback bucket still limits"
    );
}

//! The conformance suite: one set of checks run against every message transport's simulator, each
//! check gated by what the transport declares in `capabilities()`. A failure names the subject.
//!
//! Every provider the registry knows is also driven through its registration alone (its simulator's
//! hooks and `switchboard::connect`) by `registry::every_registered_provider_conforms`, so a provider
//! registered later is checked without being listed here.
//!
//! The subjects (adapters) live in the `common` module (shared with the `faults` module); the checks in
//! `conformance/checks.rs`. A new transport gets the whole suite by adding its adapter and one line to
//! `common::subjects()`.

mod checks;
mod registry;

use crate::common::{for_each, subjects};

#[tokio::test]
async fn send() {
    for_each(subjects().await, checks::send).await;
}

#[tokio::test]
async fn unicode() {
    for_each(subjects().await, checks::unicode).await;
}

#[tokio::test]
async fn long_messages() {
    for_each(subjects().await, checks::long_message).await;
}

#[tokio::test]
async fn status() {
    for_each(subjects().await, checks::status).await;
}

#[tokio::test]
async fn delivery_reports() {
    for_each(subjects().await, checks::delivery_reports).await;
}

#[tokio::test]
async fn inbound() {
    for_each(subjects().await, checks::inbound).await;
}

#[tokio::test]
async fn rate_limited() {
    for_each(subjects().await, checks::rate_limited).await;
}

#[tokio::test]
async fn provider_rate_limit_codes() {
    for_each(subjects().await, checks::provider_rate_limit).await;
}

#[tokio::test]
async fn auth_failure() {
    for_each(subjects().await, checks::auth_failure).await;
}

#[tokio::test]
async fn outage_503() {
    for_each(subjects().await, checks::outage_503).await;
}

#[tokio::test]
async fn server_error_500() {
    for_each(subjects().await, checks::server_error_500).await;
}

#[tokio::test]
async fn malformed_replies() {
    for_each(subjects().await, checks::malformed).await;
}

#[tokio::test]
async fn every_subject_is_listed_once() {
    let names: Vec<&str> = subjects().await.iter().map(|s| s.name()).collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    assert_eq!(names.len(), 9, "{names:?}");
}

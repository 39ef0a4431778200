//! Configuration from DSNs, and Stripe's error envelopes.

use std::time::Duration;

use crate::sim::Simulator;
use crate::{StripeClient, StripeConfig, StripeGateway};
use serde_json::json;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::Fault;
use switchboard_core::{Dispatch, Dsn, ErrorKind, RetryPolicy};
use switchboard_payments::{PaymentGateway, PaymentStatus};

use super::{card, config, gateway, key};

#[tokio::test]
async fn dsn_configuration() {
    let sim = Simulator::start().await;
    let gw = StripeGateway::from_dsn(&Dsn::parse(&sim.dsn()).unwrap()).unwrap();
    assert_eq!(gw.provider(), "stripe");
    gw.create_payment(&card("1")).await.unwrap();
    let d = Dsn::parse("stripe://sk_live_TopSecret@default?webhook_secret=whsec_a,whsec_b&webhook_secret=whsec_c&webhook_tolerance=60&stripe_version=2024-06-20").unwrap();
    let c = StripeConfig::from_dsn(&d).unwrap();
    assert_eq!(c.endpoint, "https://api.stripe.com");
    assert_eq!(c.webhook_secrets.len(), 3);
    assert_eq!(c.webhook_tolerance, Duration::from_secs(60));
    assert_eq!(c.stripe_version.as_deref(), Some("2024-06-20"));
    let shown = format!("{c:?} {:?} {d}", StripeClient::new(c.clone()).unwrap());
    assert!(!shown.contains("TopSecret") && !shown.contains("whsec_a"), "{shown}");
    for bad in [
        "stripe://pk_live_abc@default",
        "stripe://default",
        "stripe://sk_x@default?webhook_tolerance=x",
    ] {
        let e = StripeConfig::from_dsn(&Dsn::parse(bad).unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
    }
    // The version header goes out when configured.
    let versioned = StripeGateway::new(config(&sim).stripe_version("2024-06-20").build().unwrap()).unwrap();
    versioned.create_payment(&card("1")).await.unwrap();
    let last = sim.requests().await.pop().unwrap();
    assert_eq!(last.headers["stripe-version"], "2024-06-20");
}

#[tokio::test]
async fn every_documented_error_maps_to_kind_and_dispatch() {
    let sim = Simulator::start().await;
    let gw = StripeGateway::new(config(&sim).retry(RetryPolicy::never()).build().unwrap()).unwrap();
    let cases = [
        (
            400,
            "invalid_request_error",
            Some("parameter_missing"),
            ErrorKind::InvalidInput,
            Dispatch::Sent,
        ),
        (400, "idempotency_error", None, ErrorKind::InvalidInput, Dispatch::Sent),
        (401, "invalid_request_error", None, ErrorKind::Auth, Dispatch::NotSent),
        (
            402,
            "card_error",
            Some("card_declined"),
            ErrorKind::Rejected,
            Dispatch::Sent,
        ),
        (403, "invalid_request_error", None, ErrorKind::Auth, Dispatch::NotSent),
        (
            404,
            "invalid_request_error",
            Some("resource_missing"),
            ErrorKind::NotFound,
            Dispatch::Sent,
        ),
        (
            409,
            "idempotency_error",
            Some("idempotency_key_in_use"),
            ErrorKind::Unavailable,
            Dispatch::Sent,
        ),
        (424, "api_error", None, ErrorKind::Unavailable, Dispatch::MaybeSent),
        (
            429,
            "invalid_request_error",
            Some("rate_limit"),
            ErrorKind::RateLimited,
            Dispatch::NotSent,
        ),
        (500, "api_error", None, ErrorKind::Unavailable, Dispatch::MaybeSent),
        (502, "api_error", None, ErrorKind::Unavailable, Dispatch::MaybeSent),
        (503, "api_error", None, ErrorKind::Unavailable, Dispatch::NotSent),
        (504, "api_error", None, ErrorKind::Unavailable, Dispatch::MaybeSent),
    ];
    for (status, kind_word, code, kind, dispatch) in cases {
        let mut error = json!({"type": kind_word, "message": "simulated", "param": "amount"});
        if let Some(c) = code {
            error["code"] = json!(c);
        }
        sim.faults()
            .push(Fault::StatusJson(status, json!({ "error": error }).to_string()));
        let e = gw.create_payment(&card("1")).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{status} {kind_word}: {e}");
        assert_eq!(e.provider_code(), Some(code.unwrap_or(kind_word)));
        assert_eq!(e.http_status(), Some(status));
        assert!(e.provider_text().unwrap().contains("param amount"));
    }
    assert_eq!(sim.stats().charges, 0);
}

#[tokio::test]
async fn a_concurrent_request_with_the_key_is_waited_out() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let busy = json!({"error": {"type": "idempotency_error", "code": "idempotency_key_in_use", "message": "in use"}});
    sim.faults().push(Fault::StatusJson(409, busy.to_string()));
    let p = gw
        .create_payment(&card("20").idempotency_key(key("order-409")))
        .await
        .unwrap();
    assert_eq!(p.status, PaymentStatus::Succeeded);
    assert_eq!(sim.stats().charges, 1);
}

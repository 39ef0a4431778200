//! The Stripe simulator and client against Stripe's published contract: objects with every field the
//! API reference lists as always present, `Stripe-Version`, `next_action`, declines, failed refunds,
//! Checkout's customer details, and the requests Stripe refuses.

use crate::config::DEFAULT_STRIPE_VERSION;
use crate::model::{CancellationReason, NextActionKind, RefundFailureReason, TaxExempt};
use crate::sim::Simulator;
use crate::{StripeConfig, StripeGateway};
use serde_json::{Value, json};
use switchboard_core::simulated::Simulated;
use switchboard_core::{Dsn, ErrorKind};
use switchboard_payments::{CreatePayment, CreateRefund, IdempotencyKey, PaymentGateway, PaymentStatus, RefundStatus};

use super::{config, gateway, usd};

fn card(amount: &str) -> CreatePayment {
    CreatePayment::new(usd(amount)).payment_method("pm_card_visa")
}

/// Every field Stripe's API reference lists for each object without a "?" (always present; the value
/// may be null), for API version 2026-08-26.dahlia.
const PAYMENT_INTENT: &[&str] = &[
    "id",
    "object",
    "amount",
    "amount_capturable",
    "amount_received",
    "application",
    "application_fee_amount",
    "automatic_payment_methods",
    "canceled_at",
    "cancellation_reason",
    "capture_method",
    "client_secret",
    "confirmation_method",
    "created",
    "currency",
    "customer",
    "customer_account",
    "description",
    "excluded_payment_method_types",
    "last_payment_error",
    "latest_charge",
    "livemode",
    "managed_payments",
    "metadata",
    "next_action",
    "on_behalf_of",
    "payment_method",
    "payment_method_configuration_details",
    "payment_method_options",
    "payment_method_types",
    "processing",
    "receipt_email",
    "review",
    "setup_future_usage",
    "shipping",
    "source",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "status",
    "transfer_group",
];
const CHARGE: &[&str] = &[
    "id",
    "object",
    "amount",
    "amount_captured",
    "amount_refunded",
    "application",
    "application_fee",
    "application_fee_amount",
    "balance_transaction",
    "billing_details",
    "calculated_statement_descriptor",
    "captured",
    "created",
    "currency",
    "customer",
    "description",
    "disputed",
    "failure_balance_transaction",
    "failure_code",
    "failure_message",
    "fraud_details",
    "livemode",
    "metadata",
    "on_behalf_of",
    "outcome",
    "paid",
    "payment_intent",
    "payment_method",
    "payment_method_details",
    "receipt_email",
    "receipt_number",
    "receipt_url",
    "refunded",
    "review",
    "shipping",
    "source",
    "source_transfer",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "status",
    "transfer_data",
    "transfer_group",
];
const REFUND: &[&str] = &[
    "id",
    "object",
    "amount",
    "balance_transaction",
    "charge",
    "created",
    "currency",
    "customer",
    "customer_account",
    "metadata",
    "payment_intent",
    "payment_method",
    "reason",
    "receipt_number",
    "source_transfer_reversal",
    "status",
    "transfer_reversal",
];
const CHECKOUT_SESSION: &[&str] = &[
    "id",
    "object",
    "adaptive_pricing",
    "after_expiration",
    "allow_promotion_codes",
    "amount_subtotal",
    "amount_total",
    "automatic_tax",
    "billing_address_collection",
    "cancel_url",
    "client_reference_id",
    "client_secret",
    "collected_information",
    "consent",
    "consent_collection",
    "created",
    "currency",
    "currency_conversion",
    "custom_fields",
    "custom_text",
    "customer",
    "customer_account",
    "customer_creation",
    "customer_details",
    "customer_email",
    "discounts",
    "expires_at",
    "integration_identifier",
    "invoice",
    "invoice_creation",
    "livemode",
    "locale",
    "managed_payments",
    "metadata",
    "mode",
    "origin_context",
    "payment_intent",
    "payment_link",
    "payment_method_collection",
    "payment_method_configuration_details",
    "payment_method_options",
    "payment_method_types",
    "payment_status",
    "permissions",
    "recovered_from",
    "saved_payment_method_options",
    "setup_intent",
    "shipping_address_collection",
    "shipping_cost",
    "shipping_options",
    "status",
    "submit_type",
    "subscription",
    "success_url",
    "total_details",
    "ui_mode",
    "url",
    "wallet_options",
];
const EVENT: &[&str] = &[
    "id",
    "object",
    "api_version",
    "created",
    "data",
    "livemode",
    "pending_webhooks",
    "request",
    "type",
];

#[track_caller]
fn has_all(what: &str, v: &Value, fields: &[&str]) {
    let o = v.as_object().unwrap_or_else(|| panic!("{what} is not an object: {v}"));
    let missing: Vec<&&str> = fields.iter().filter(|f| !o.contains_key(**f)).collect();
    assert!(missing.is_empty(), "{what} lacks {missing:?}");
}

#[tokio::test]
async fn every_object_has_every_field_stripe_always_sends() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&card("20")).await.unwrap();
    let pi = sim.payment_intent(&p.id).unwrap();
    has_all("PaymentIntent", &pi, PAYMENT_INTENT);
    // Nullable fields are null where Stripe has nothing to say.
    for f in [
        "customer",
        "next_action",
        "last_payment_error",
        "canceled_at",
        "cancellation_reason",
        "review",
    ] {
        assert_eq!(pi[f], Value::Null, "PaymentIntent.{f}");
    }
    let charge = sim.charge(pi["latest_charge"].as_str().unwrap()).unwrap();
    has_all("Charge", &charge, CHARGE);
    has_all(
        "Charge.billing_details",
        &charge["billing_details"],
        &["address", "email", "name", "phone", "tax_id"],
    );
    has_all(
        "Charge.billing_details.address",
        &charge["billing_details"]["address"],
        &["city", "country", "line1", "line2", "postal_code", "state"],
    );
    assert_eq!(charge["disputed"], json!(false));
    assert_eq!(charge["failure_code"], Value::Null);
    assert_eq!(charge["payment_method_details"]["card"]["last4"], json!("4242"));
    let r = gw.refund(&CreateRefund::partial(&p.id, usd("5"))).await.unwrap();
    let refund = sim.refund(&r.id).unwrap();
    has_all("Refund", &refund, REFUND);
    assert!(refund.get("failure_reason").is_none(), "only a failed refund has one");

    let s = gw
        .create_payment(&CreatePayment::new(usd("10")).return_url("https://shop.example/r"))
        .await
        .unwrap();
    let session = sim.session(&s.id).unwrap();
    has_all("Checkout Session", &session, CHECKOUT_SESSION);
    has_all(
        "Checkout Session.automatic_tax",
        &session["automatic_tax"],
        &["enabled", "liability", "provider", "status"],
    );
    has_all(
        "Checkout Session.custom_text",
        &session["custom_text"],
        &[
            "after_submit",
            "shipping_address",
            "submit",
            "terms_of_service_acceptance",
        ],
    );
    assert_eq!(session["payment_method_types"], json!(["card"]));
    assert_eq!(session["shipping_options"], json!([]));
    for f in [
        "customer",
        "customer_details",
        "payment_intent",
        "invoice",
        "subscription",
        "setup_intent",
    ] {
        assert_eq!(session[f], Value::Null, "Checkout Session.{f}");
    }
    for e in sim.events() {
        has_all("Event", &e, EVENT);
        has_all("Event.request", &e["request"], &["id", "idempotency_key"]);
        assert_eq!(e["api_version"], json!(DEFAULT_STRIPE_VERSION));
    }
}

#[tokio::test]
async fn a_stripe_version_is_sent_so_latest_charge_works_on_accounts_pinned_to_old_versions() {
    let sim = Simulator::start().await;
    // An account made before 2022-11-15 answers PaymentIntents with a `charges` list, not
    // `latest_charge`, when the request does not ask for a version.
    sim.set_account_api_version("2020-08-27");
    let pinned = gateway(&sim);
    let p = pinned.create_payment(&card("20")).await.unwrap();
    assert_eq!(p.refunded, Some(usd("0")), "latest_charge was expanded");
    let sent = sim.requests().await;
    assert!(
        sent.iter()
            .all(|r| r.headers["stripe-version"] == DEFAULT_STRIPE_VERSION)
    );

    let account = StripeGateway::new(config(&sim).account_default_version().build().unwrap()).unwrap();
    let old = account.get_payment(&p.id).await.unwrap();
    assert_eq!(old.refunded, None, "no latest_charge in the account's old version");
    assert!(old.raw["charges"]["data"].is_array());
    assert!(
        !sim.requests()
            .await
            .last()
            .unwrap()
            .headers
            .contains_key("stripe-version")
    );

    // The DSN takes a version, or `account` for none; a version must look like one.
    let dsn = |q: &str| StripeConfig::from_dsn(&Dsn::parse(&format!("stripe://sk_test_x@default?{q}")).unwrap());
    assert_eq!(
        dsn("a=b").unwrap().stripe_version.as_deref(),
        Some(DEFAULT_STRIPE_VERSION)
    );
    assert_eq!(dsn("stripe_version=account").unwrap().stripe_version, None);
    assert_eq!(
        dsn("stripe_version=2024-06-20").unwrap().stripe_version.as_deref(),
        Some("2024-06-20")
    );
    assert_eq!(dsn("stripe_version=latest").unwrap_err().kind(), ErrorKind::Config);
}

#[tokio::test]
async fn three_d_secure_next_action_is_surfaced_for_every_flow() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    // With a return URL: redirect_to_url, and the payment's confirmation_url is the 3-D Secure page.
    let p = gw
        .create_payment(
            &CreatePayment::new(usd("30"))
                .payment_method("pm_card_authenticationRequired")
                .return_url("https://shop.example/back"),
        )
        .await
        .unwrap();
    assert_eq!(
        (p.status, p.raw_status.as_str()),
        (PaymentStatus::Pending, "requires_action")
    );
    let wire = gw.client().retrieve_payment_intent(&p.id, &[]).await.unwrap();
    let next = wire.next_action.clone().unwrap();
    assert_eq!(next.kind, NextActionKind::RedirectToUrl);
    let redirect = next.redirect_to_url().unwrap();
    assert_eq!(redirect.return_url.as_deref(), Some("https://shop.example/back"));
    assert_eq!(p.confirmation_url, redirect.url);
    // The customer authenticates on that page and comes back.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(p.confirmation_url.clone().unwrap()).send().await.unwrap();
    assert_eq!(page.status(), 302);
    let back = page.headers()["location"].to_str().unwrap();
    assert!(back.starts_with("https://shop.example/back?payment_intent="), "{back}");
    assert!(back.ends_with("redirect_status=succeeded"), "{back}");
    assert_eq!(gw.get_payment(&p.id).await.unwrap().status, PaymentStatus::Succeeded);
    assert!(
        gw.client()
            .retrieve_payment_intent(&p.id, &[])
            .await
            .unwrap()
            .next_action
            .is_none()
    );

    // Without one (redirects ruled out): use_stripe_sdk, handled by Stripe.js; no page to send to.
    let p = gw
        .create_payment(&CreatePayment::new(usd("30")).payment_method("pm_card_authenticationRequired"))
        .await
        .unwrap();
    assert_eq!(p.raw_status, "requires_action");
    assert_eq!(p.confirmation_url, None);
    let wire = gw.client().retrieve_payment_intent(&p.id, &[]).await.unwrap();
    assert_eq!(wire.next_action.unwrap().kind, NextActionKind::UseStripeSdk);
    sim.authenticate(&p.id).unwrap();
    assert_eq!(gw.get_payment(&p.id).await.unwrap().status, PaymentStatus::Succeeded);

    // Another kind, as Stripe may send it: the voucher page is where the customer goes.
    sim.alter_next_lookup(json!({"status": "requires_action", "next_action": {
        "type": "oxxo_display_details",
        "oxxo_display_details": {"expires_after": 1_900_000_000, "hosted_voucher_url": "https://payments.stripe.com/oxxo/v", "number": "123"}
    }}));
    let p = gw.get_payment(&p.id).await.unwrap();
    assert_eq!(
        p.confirmation_url.as_deref(),
        Some("https://payments.stripe.com/oxxo/v")
    );
}

#[tokio::test]
async fn declines_cancellations_and_holds_are_typed() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&CreatePayment::new(usd("40"))).await.unwrap();
    sim.decline(&p.id).unwrap();
    let wire = gw.client().retrieve_payment_intent(&p.id, &[]).await.unwrap();
    let err = wire.last_payment_error.clone().unwrap();
    assert_eq!(err.kind, "card_error");
    assert_eq!(err.decline_code.as_deref(), Some("insufficient_funds"));
    assert!(err.charge.as_deref().is_some_and(|c| c.starts_with("ch_")));
    assert_eq!(err.payment_method_type.as_deref(), Some("card"));
    let ch = sim.charge(err.charge.as_deref().unwrap()).unwrap();
    assert_eq!(
        (ch["status"].as_str(), ch["failure_code"].as_str()),
        (Some("failed"), Some("card_declined"))
    );

    let key = IdempotencyKey::new("cancel-40").unwrap();
    let canceled = gw
        .client()
        .cancel_payment_intent(&p.id, Some("requested_by_customer"), &[], &key)
        .await
        .unwrap();
    assert_eq!(
        canceled.cancellation_reason,
        Some(CancellationReason::RequestedByCustomer)
    );
    assert!(canceled.canceled_at.is_some());

    let held = gw.create_payment(&card("50").manual_capture()).await.unwrap();
    let wire = gw.client().retrieve_payment_intent(&held.id, &[]).await.unwrap();
    assert_eq!(wire.amount_capturable, 5000);
    gw.capture_payment(&held.id, Some(usd("20")), None).await.unwrap();
    let wire = gw.client().retrieve_payment_intent(&held.id, &[]).await.unwrap();
    assert_eq!((wire.amount_capturable, wire.amount_received), (0, 2000));
}

#[tokio::test]
async fn a_failed_refund_says_why() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let p = gw.create_payment(&card("25")).await.unwrap();
    let r = gw.refund(&CreateRefund::full(&p.id)).await.unwrap();
    sim.fail_refund(&r.id, "expired_or_canceled_card").unwrap();
    let got = gw.get_refund(&r.id).await.unwrap();
    assert_eq!(got.status, RefundStatus::Failed);
    let wire = gw.client().retrieve_refund(&r.id).await.unwrap();
    assert_eq!(wire.failure_reason, Some(RefundFailureReason::ExpiredOrCanceledCard));
    assert_eq!(
        gw.get_payment(&p.id).await.unwrap().refunded,
        Some(usd("0")),
        "the money was not returned"
    );
    assert_eq!(sim.events().last().unwrap()["type"], "refund.failed");
    // A reason Stripe adds later is kept, not a decode failure.
    sim.alter_next_lookup(json!({"failure_reason": "teleported"}));
    let wire = gw.client().retrieve_refund(&r.id).await.unwrap();
    assert_eq!(
        wire.failure_reason,
        Some(RefundFailureReason::Other("teleported".into()))
    );
}

#[tokio::test]
async fn checkout_customer_details_and_expiry() {
    let sim = Simulator::start().await;
    let gw = gateway(&sim);
    let s = gw
        .create_payment(
            &CreatePayment::new(usd("15"))
                .return_url("https://shop.example/ok")
                .customer_email("jenny@example.com"),
        )
        .await
        .unwrap();
    let wire = gw.client().retrieve_checkout_session(&s.id, &[]).await.unwrap();
    let created = wire.created.unwrap();
    assert_eq!(wire.expires_at, Some(created + 24 * 3600), "24 hours by default");
    assert_eq!(
        wire.customer_details.unwrap().email.as_deref(),
        Some("jenny@example.com")
    );
    sim.pay(&s.id).unwrap();
    let wire = gw.client().retrieve_checkout_session(&s.id, &[]).await.unwrap();
    let d = wire.customer_details.unwrap();
    assert_eq!((d.name.is_some(), d.tax_exempt.clone()), (true, Some(TaxExempt::None)));
    assert_eq!(d.address.as_ref().and_then(|a| a.country.as_deref()), Some("US"));
    let shown = format!("{d:?}");
    assert!(
        !shown.contains("jenny@") && !shown.contains("Jenny"),
        "Debug shows no personal data: {shown}"
    );
}

/// What is refused, where, the body and headers sent, the status, code and param expected.
type Case<'a> = (
    &'a str,
    &'a str,
    String,
    &'a [(&'a str, &'a str)],
    u16,
    Option<&'a str>,
    Option<&'a str>,
);

/// Sends a raw request to the simulator and returns (status, error type, code, param).
async fn raw(sim: &Simulator, method: &str, path: &str, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let http = reqwest::Client::new();
    let mut rb = http
        .request(method.parse().unwrap(), format!("{}{path}", sim.uri()))
        .bearer_auth(Simulator::SECRET_KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_simulator_refuses_what_stripe_refuses() {
    let sim = Simulator::start().await;
    let soon = chrono::Utc::now().timestamp() + 60;
    let later = chrono::Utc::now().timestamp() + 2 * 24 * 3600;
    let long_key = "k".repeat(256);
    let long_key_header = [("idempotency-key", long_key.as_str())];
    let session = "mode=payment&success_url=https://s.example/ok&line_items[0][quantity]=1\
        &line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=1000\
        &line_items[0][price_data][product_data][name]=T";
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("unknown parameter", "/v1/payment_intents", "amount=100&currency=usd&colour=red".into(), &[], 400, Some("parameter_unknown"), Some("colour")),
        ("unknown nested parameter", "/v1/payment_intents", "amount=100&currency=usd&automatic_payment_methods[enabld]=true".into(), &[], 400, Some("parameter_unknown"), Some("automatic_payment_methods[enabld]")),
        ("unknown deep parameter", "/v1/checkout/sessions", format!("{session}&line_items[0][price_data][product_data][colour]=red"), &[], 400, Some("parameter_unknown"), Some("line_items[0][price_data][product_data][colour]")),
        ("not an integer", "/v1/payment_intents", "amount=ten&currency=usd".into(), &[], 400, Some("parameter_invalid_integer"), Some("amount")),
        ("a hash for a value", "/v1/payment_intents", "amount[x]=1&currency=usd".into(), &[], 400, None, Some("amount")),
        ("a value for a hash", "/v1/payment_intents", "amount=100&currency=usd&metadata=x".into(), &[], 400, None, Some("metadata")),
        ("a value for a list", "/v1/payment_intents", "amount=100&currency=usd&expand=latest_charge".into(), &[], 400, None, Some("expand")),
        ("an empty value", "/v1/payment_intents", "amount=100&currency=usd&description=".into(), &[], 400, Some("parameter_invalid_empty"), Some("description")),
        ("missing amount", "/v1/payment_intents", "currency=usd".into(), &[], 400, Some("parameter_missing"), Some("amount")),
        ("too small", "/v1/payment_intents", "amount=10&currency=usd".into(), &[], 400, Some("amount_too_small"), Some("amount")),
        ("too large", "/v1/payment_intents", "amount=100000000&currency=usd".into(), &[], 400, Some("amount_too_large"), Some("amount")),
        ("unknown currency", "/v1/payment_intents", "amount=100&currency=zzz".into(), &[], 400, None, Some("currency")),
        ("bad enum word", "/v1/payment_intents", "amount=100&currency=usd&capture_method=sometimes".into(), &[], 400, None, Some("capture_method")),
        ("bad boolean", "/v1/payment_intents", "amount=100&currency=usd&confirm=yes".into(), &[], 400, None, Some("confirm")),
        ("bad email", "/v1/payment_intents", "amount=100&currency=usd&receipt_email=nobody".into(), &[], 400, Some("email_invalid"), Some("receipt_email")),
        ("return_url without confirm", "/v1/payment_intents", "amount=100&currency=usd&return_url=https://s.example/r".into(), &[], 400, None, Some("return_url")),
        ("exclusive parameters", "/v1/payment_intents", "amount=100&currency=usd&automatic_payment_methods[enabled]=true&payment_method_types[]=card".into(), &[], 400, Some("parameters_exclusive"), Some("payment_method_types")),
        ("not expandable", "/v1/payment_intents", "amount=100&currency=usd&expand[]=amount".into(), &[], 400, None, Some("expand")),
        ("bad url", "/v1/checkout/sessions", session.replace("https://s.example/ok", "not-a-url"), &[], 400, Some("url_invalid"), Some("success_url")),
        ("bad customer email", "/v1/checkout/sessions", format!("{session}&customer_email=x@"), &[], 400, Some("email_invalid"), Some("customer_email")),
        ("expires too soon", "/v1/checkout/sessions", format!("{session}&expires_at={soon}"), &[], 400, None, Some("expires_at")),
        ("expires too late", "/v1/checkout/sessions", format!("{session}&expires_at={later}"), &[], 400, None, Some("expires_at")),
        ("quantity 0", "/v1/checkout/sessions", session.replace("[quantity]=1", "[quantity]=0"), &[], 400, None, Some("line_items[0][quantity]")),
        ("old ui_mode word", "/v1/checkout/sessions", format!("{session}&ui_mode=hosted"), &[], 400, None, Some("ui_mode")),
        ("bad refund reason", "/v1/refunds", "payment_intent=pi_x&reason=because".into(), &[], 400, None, Some("reason")),
        ("bad cancellation reason", "/v1/payment_intents/pi_x/cancel", "cancellation_reason=bored".into(), &[], 400, None, Some("cancellation_reason")),
        ("idempotency key too long", "/v1/payment_intents", "amount=100&currency=usd".into(), &long_key_header, 400, None, Some("Idempotency-Key")),
    ];
    for (what, path, body, headers, status, code, param) in cases {
        let (got, v) = raw(&sim, "POST", path, &body, headers).await;
        assert_eq!(got, status, "{what}: {v}");
        assert_eq!(v["error"]["type"], json!("invalid_request_error"), "{what}: {v}");
        assert_eq!(v["error"]["code"].as_str(), code, "{what}: {v}");
        assert_eq!(v["error"]["param"].as_str(), param, "{what}: {v}");
    }
    assert_eq!(sim.stats().payments_created, 0, "nothing refused was created");

    // A body that is not form-encoded, an unknown path, a method Stripe does not serve, an unknown
    // query parameter, a version that does not exist.
    let http = reqwest::Client::new();
    let json_body = http
        .post(format!("{}/v1/payment_intents", sim.uri()))
        .bearer_auth(Simulator::SECRET_KEY)
        .json(&json!({"amount": 100, "currency": "usd"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 400);
    let (s, v) = raw(&sim, "GET", "/v1/teleports/x", "", &[]).await;
    assert_eq!(s, 404, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized request URL (GET: /v1/teleports/x)")
    );
    let (s, v) = raw(&sim, "DELETE", "/v1/payment_intents/pi_x", "", &[]).await;
    assert_eq!(
        (s, v["error"]["type"].as_str()),
        (404, Some("invalid_request_error")),
        "{v}"
    );
    let (s, v) = raw(&sim, "GET", "/v1/refunds?colour=red", "", &[]).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("parameter_unknown")),
        "{v}"
    );
    let (s, v) = raw(&sim, "GET", "/v1/refunds?limit=500", "", &[]).await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("limit")), "{v}");
    for bad in ["2099-01-01", "latest", "2024-13-01"] {
        let (s, v) = raw(&sim, "GET", "/v1/refunds", "", &[("stripe-version", bad)]).await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Invalid Stripe API version"),
            "{v}"
        );
    }
    let ok = http
        .get(format!("{}/v1/refunds", sim.uri()))
        .bearer_auth(Simulator::SECRET_KEY)
        .header("stripe-version", "2024-06-20")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["stripe-version"], "2024-06-20");
    // The crate's own requests pass every check.
    let gw = gateway(&sim);
    gw.create_payment(&card("1")).await.unwrap();
    gw.create_payment(
        &CreatePayment::new(usd("1"))
            .return_url("https://shop.example/r")
            .customer_email("a@b.example"),
    )
    .await
    .unwrap();
}

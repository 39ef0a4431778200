//! No key, password, token or full phone number ever shows: not in a log line at TRACE level (events
//! and span fields alike), not in the `Debug` or `Display` of any config, transport, client, DSN,
//! error, receipt, status report, event or message.
//!
//! Every provider in `switchboard::registry()` that hands out a simulator is driven against it through
//! the public API (the Messenger for message transports): a successful send, a status lookup, failed
//! sends (a wrong credential, HTTP 401/403/500, a malformed answer), and webhooks (every event the
//! simulator pushes, genuine and in the variants a receiver refuses). A provider registered tomorrow is
//! covered without naming it here; what the simulators' shared hooks cannot reach (typed clients, a
//! second API flavour, run-time tokens) has a small test of its own. The secrets are taken from the
//! DSN (password, user-part key, token, webhook secret), from the simulator's service-account file
//! (FCM's private key), and from the `Authorization` headers the simulator received (bearer tokens
//! obtained at run time). The full E.164 numbers used are secrets too: logs show them masked.
//!
//! Logs are captured by a small `tracing` subscriber ([`probe`]) that records every event and every
//! span field, set as the thread's default on the test's current-thread runtime, so everything the
//! client side does is seen.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard::core::simulated::{SimOptions, Simulated};
use switchboard::core::testkit::{Fault, Faults, WebhookSink};
use switchboard::{Dsn, Message, Messenger, PhoneNumber, Recipient, WebhookRequest, transport_from_dsn};

mod probe;

use probe::Probe;

/// The DSN with one credential replaced, for a wrong-credential run.
fn with_wrong(dsn: &str, right: &str, wrong: &str) -> String {
    assert!(dsn.contains(right), "{right} not in the DSN");
    dsn.replace(right, wrong)
}

/// Drives one message transport through a Messenger built from `dsn`: construction, a successful send
/// and its status, faults, a wrong-credential DSN, and the given webhooks.
async fn drive(
    p: &mut Probe,
    scheme: &str,
    dsn: &str,
    wrong_dsn: Option<&str>,
    message: Message,
    faults: &Faults,
    webhooks: Vec<WebhookRequest>,
) {
    let parsed = Dsn::parse(dsn).unwrap();
    p.show("Dsn", &parsed);
    let t = transport_from_dsn(dsn).unwrap();
    p.dbg("transport", &t);
    let journal = Arc::new(switchboard::MemoryJournal::new());
    let m = Messenger::builder_from_dsns([dsn])
        .unwrap()
        .journal(journal.clone())
        .build()
        .unwrap();
    p.dbg("messenger", &m);
    p.dbg("message", &message);

    let sent = m.send(message.clone()).await;
    p.result("send", &sent);
    let receipt = sent.unwrap_or_else(|e| panic!("{scheme}: the send failed: {e}"));
    let status = m.status(&receipt).await;
    p.result("status", &status);
    if let Ok(s) = &status {
        p.show("delivery status", &s.status);
    }
    p.result(
        "status of an unknown id",
        &t.status("0000000000000000000000000000dead").await,
    );

    for fault in [
        Fault::Status(401),
        Fault::StatusJson(403, r#"{"error":"forbidden"}"#.to_owned()),
        Fault::Status(500),
        Fault::MalformedJson,
        Fault::TruncatedJson,
    ] {
        faults.clear();
        faults.push_n(fault.clone(), 4);
        let r = m.send(message.clone().with_id(switchboard::MessageId::random())).await;
        p.result(&format!("send under {fault:?}"), &r);
        faults.clear();
        faults.push_n(fault.clone(), 4);
        p.result(&format!("status under {fault:?}"), &m.status(&receipt).await);
        faults.clear();
    }

    if let Some(wrong) = wrong_dsn {
        match Messenger::from_dsns([wrong]) {
            Ok(w) => {
                p.dbg("wrong-credential messenger", &w);
                let r = w.send(message.clone().with_id(switchboard::MessageId::random())).await;
                assert!(r.is_err(), "{scheme}: a wrong credential was accepted");
                p.result("send with a wrong credential", &r);
                p.result("status with a wrong credential", &w.status(&receipt).await);
            }
            Err(e) => p.err("wrong-credential DSN", &e),
        }
    }

    for (i, w) in webhooks.iter().enumerate() {
        let r = m.handle_webhook(scheme, w).await;
        match &r {
            Ok(events) => {
                for e in &events.events {
                    p.dbg(&format!("webhook {i} event"), &e.event);
                    p.dbg(&format!("webhook {i} transport event"), e);
                }
            }
            Err(e) => p.err(&format!("webhook {i}"), e),
        }
    }
    let entries = journal.entries();
    assert!(!entries.is_empty(), "{scheme}: nothing was journaled");
    p.dbg("journal", &entries);
}

/// The probe itself finds a secret in a log field, a span field and a rendering.
#[test]
fn the_probe_catches_leaks() {
    for leak in 0..3 {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut p = Probe::start();
            p.secret("hunter2-hunter2");
            tracing::trace!(target: "anything", note = "harmless", "nothing to see");
            match leak {
                0 => tracing::trace!(password = %"hunter2-hunter2", "oops"),
                1 => {
                    let _s = tracing::trace_span!("call", key = ?"hunter2-hunter2").entered();
                }
                _ => p.dbg("a config", &("user", "hunter2-hunter2")),
            }
            p.check();
        }));
        assert!(r.is_err(), "leak {leak} went unnoticed");
    }
}

/// Registers every phone-like value (7+ digits) of fields naming a party in a provider's JSON, except
/// those `own` (the DSN) names: the host's own sender number is configuration it shows on purpose.
fn phones_in(p: &mut Probe, v: &Value, own: &str) {
    const PARTY: &[&str] = &["number", "from", "to", "phone", "sender", "caller", "callee", "msisdn"];
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                let k = k.to_ascii_lowercase();
                let digits = match v {
                    Value::String(s) => Some(s.trim_start_matches('+').to_owned()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
                match digits {
                    Some(d)
                        if PARTY.iter().any(|w| k.contains(w))
                            && d.len() >= 7
                            && d.bytes().all(|b| b.is_ascii_digit())
                            && !own.contains(&d) =>
                    {
                        p.secret(d);
                    }
                    _ => phones_in(p, v, own),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| phones_in(p, v, own)),
        _ => {}
    }
}

fn phone(s: &str) -> PhoneNumber {
    s.parse().unwrap()
}

fn auth_headers(reqs: &[switchboard::core::testkit::wiremock::Request]) -> Vec<String> {
    reqs.iter()
        .filter_map(|r| {
            r.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .collect()
}

// ------------------------------------------------------------------------------- every provider

/// Providers whose secrets go beyond what [`exercise`] finds, with a test of their own below that
/// runs [`exercise`] on their typed simulator and adds the rest.
const OWN_CASES: &[&str] = &["dinstar", "mightycall", "fcm"];

/// Every registered provider's simulator, started from the registry and run through [`exercise`], so a
/// provider registered tomorrow is covered without naming it here.
#[tokio::test]
async fn no_registered_provider_shows_secrets() {
    let mut checked = Vec::new();
    for provider in switchboard::registry().providers() {
        let Some(factory) = provider.simulator() else {
            eprintln!("{}: skipped, the provider registers no simulator", provider.name());
            continue;
        };
        if OWN_CASES.contains(&provider.name()) {
            continue;
        }
        let mut p = Probe::start();
        let sim = factory
            .start(SimOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{}: the simulator does not start: {e}", provider.name()));
        let dsn = sim.dsn();
        exercise(&mut p, sim.as_ref(), &dsn, Vec::new()).await;
        eprintln!("{}:", provider.name());
        p.check();
        checked.push(provider.name());
    }
    assert!(checked.len() >= 2, "only {checked:?} were checked");
}

/// Drives a provider through what every simulator offers, with `dsn`: the DSN and the connection it
/// makes; for a message transport ([`Simulated::recipient`]) everything [`drive`] does, with the
/// simulator's bad-credential DSN as the wrong one; for any other provider, that wrong DSN's
/// connection. Every webhook the simulator can push ([`Simulated::trigger`]) is handled as pushed and
/// in the variants a receiver must refuse ([`refused`]), plus `hooks`.
///
/// The secrets: the DSN's (its user part too when the simulator's bad-credential DSN changes it, so it
/// is the credential), the bad-credential DSN's, the recipient's number, the guessed webhook secret,
/// and every phone number in the pushed bodies.
async fn exercise(p: &mut Probe, sim: &dyn Simulated, dsn: &str, mut hooks: Vec<WebhookRequest>) {
    let name = sim.provider();
    let parsed = Dsn::parse(dsn).unwrap();
    let wrong = sim.dsn_with_bad_credentials();
    let user_is_key = wrong
        .as_deref()
        .is_some_and(|w| Dsn::parse(w).unwrap().user() != parsed.user());
    p.dsn_secrets(dsn, user_is_key);
    if let Some(w) = &wrong {
        p.dsn_secrets(w, user_is_key);
    }
    p.secret(GUESS);
    let to = sim.recipient();
    if let Some(Recipient::Phone(n)) = &to {
        p.phone(n);
    }
    hooks.extend(pushed(p, sim, dsn).await);
    let conn = switchboard::connect(dsn).unwrap_or_else(|e| panic!("{name}: the DSN does not connect: {e}"));
    p.dbg("connection", &conn);
    match to {
        Some(to) => {
            let message = match to {
                Recipient::Email(_) => Message::email_to(to, "Order 72", "Shipped"),
                _ => Message::to(to, "Order 72 is confirmed"),
            };
            drive(p, parsed.scheme(), dsn, wrong.as_deref(), message, sim.faults(), hooks).await;
        }
        None => {
            p.show("Dsn", &parsed);
            if let Some(w) = &wrong {
                p.result(
                    "connection with a wrong credential",
                    &switchboard::connect(w).map(|c| format!("{c:?}")),
                );
            }
            let Some(source) = conn.webhook_source().filter(|_| !hooks.is_empty()) else {
                // Nothing here calls the provider (its typed client has a test of its own below).
                p.logs_expected = false;
                return;
            };
            let m = Messenger::builder().webhook_source(name, source).build().unwrap();
            for (i, h) in hooks.iter().enumerate() {
                p.result(&format!("webhook {i}"), &m.handle_webhook(name, h).await);
            }
        }
    }
}

/// A webhook secret nobody configured.
const GUESS: &str = "wrong-webhook-guess";

/// Every event the simulator can push, as a sink received it, each followed by its [`refused`]
/// variants; the phone numbers in the bodies (JSON, or a form) are registered as secrets, except the
/// sender number `dsn` configures.
async fn pushed(p: &mut Probe, sim: &dyn Simulated, dsn: &str) -> Vec<WebhookRequest> {
    let events = sim.triggers();
    if events.is_empty() {
        return Vec::new();
    }
    let sink = WebhookSink::start().await;
    let url = format!("{}/{}", sink.uri(), sim.provider());
    for event in events {
        sim.trigger(event, &url)
            .await
            .unwrap_or_else(|e| panic!("{}: trigger '{event}' fails: {e}", sim.provider()));
    }
    let received = sink.wait_for(events.len(), Duration::from_secs(5)).await;
    assert_eq!(
        received.len(),
        events.len(),
        "{}: not every trigger pushed",
        sim.provider()
    );
    let mut hooks = Vec::new();
    for r in received {
        let body = serde_json::from_slice::<Value>(&r.body).ok().or_else(|| {
            let pairs = r.form_pairs().ok()?;
            Some(Value::Object(
                pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
            ))
        });
        if let Some(body) = body {
            phones_in(p, &body, dsn);
        }
        let variants = refused(&r, &p.secrets);
        hooks.push(r);
        hooks.extend(variants);
    }
    hooks
}

/// What a webhook receiver must refuse, made from a genuine request: every secret in its URL and every
/// credential header (a token, a signature) replaced by [`GUESS`]; the credential query parameters and
/// headers left out; the body broken.
fn refused(r: &WebhookRequest, secrets: &[String]) -> Vec<WebhookRequest> {
    let mut guessed = r.clone();
    for s in secrets {
        guessed.url = guessed.url.replace(s.as_str(), GUESS);
    }
    let mut bare = r.clone();
    if let Some((path, query)) = r.url.split_once('?') {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| !switchboard::core::secret::is_sensitive_name(kv.split('=').next().unwrap_or(kv)))
            .collect();
        bare.url = format!("{path}?{}", kept.join("&"));
    }
    for name in r.headers.keys() {
        if switchboard::core::secret::is_sensitive_name(name.as_str()) {
            guessed.headers.remove(name);
            guessed = guessed.with_header(name.as_str(), GUESS);
            bare.headers.remove(name);
        }
    }
    let mut broken = r.clone();
    broken.body = "{broken".into();
    vec![guessed, bare, broken]
}

#[tokio::test]
async fn dinstar_never_shows_secrets() {
    use switchboard::dinstar::sim::{SIM_WEBHOOK_SECRET, Simulator};
    let mut p = Probe::start();
    let sim = Simulator::start().await;
    let dsn = sim.dsn();
    // Every kind of push the gateway makes (more than its triggers), and every phone number in them
    // (fields that name a party).
    let mut hooks = Vec::new();
    for body in &sim.sample_pushes() {
        phones_in(&mut p, body, "");
        hooks.push(WebhookRequest::post(
            format!("https://crm.example/h?token={SIM_WEBHOOK_SECRET}"),
            body.to_string(),
        ));
    }
    exercise(&mut p, &sim, &dsn, hooks).await;
    p.check();
}

/// The Messaging API flavour (the registry's run covers the legacy one).
#[tokio::test]
async fn mitto_messaging_api_never_shows_secrets() {
    use switchboard::mitto::sim::Simulator;
    let mut p = Probe::start();
    let sim = Simulator::start().await;
    exercise(&mut p, &sim, &sim.dsn_messaging(), Vec::new()).await;
    p.check();
}

/// With the bearer tokens the simulator handed out at run time.
#[tokio::test]
async fn mightycall_never_shows_secrets() {
    use switchboard::mightycall::sim::Simulator;
    let mut p = Probe::start();
    let sim = Simulator::start().await;
    exercise(
        &mut p,
        &sim,
        &sim.dsn(),
        vec![WebhookRequest::post("https://crm.example/h", "{}")],
    )
    .await;
    p.authorization_headers(auth_headers(&sim.requests().await).iter().map(String::as_str));
    p.check();
}

/// With the service account's private key, a send after the key was revoked, and the access tokens
/// the simulator handed out at run time.
#[tokio::test]
async fn fcm_never_shows_secrets() {
    use switchboard::fcm::sim::Simulator;
    let mut p = Probe::start();
    let sim = Simulator::start().await;
    let dsn = sim.dsn();
    let key: Value = serde_json::from_str(&sim.service_account_json()).unwrap();
    let pem = key["private_key"].as_str().unwrap().to_owned();
    p.secret(pem.clone());
    for line in pem.lines().filter(|l| !l.starts_with("-----") && l.len() >= 16) {
        p.secret(line.to_owned());
    }
    exercise(&mut p, &sim, &dsn, vec![WebhookRequest::post("https://h/", "{}")]).await;
    // A key file whose key was revoked: the token request fails.
    sim.revoke_tokens();
    let m = Messenger::from_dsns([dsn.as_str()]).unwrap();
    let msg = Message::push(Recipient::PushToken(sim.register_device()), "t", "b");
    p.result("send after revocation", &m.send(msg).await);
    p.authorization_headers(auth_headers(&sim.requests().await).iter().map(String::as_str));
    p.check();
}

#[tokio::test]
async fn email_memory_never_shows_secrets() {
    let mut p = Probe::start();
    let dsn = "smtp://mailer:smtp-password-123@localhost?mode=memory&from=shop%40example.com";
    p.dsn_secrets(dsn, false);
    let parsed = Dsn::parse(dsn).unwrap();
    p.show("Dsn", &parsed);
    let t = transport_from_dsn(dsn).unwrap();
    p.dbg("transport", &t);
    let m = Messenger::from_dsns([dsn]).unwrap();
    p.dbg("messenger", &m);
    let msg = Message::email("customer@example.org", "Order", "Shipped").unwrap();
    p.dbg("message", &msg);
    let r = m.send(msg).await;
    p.result("send", &r);
    let r = r.unwrap();
    p.result("status", &m.status(&r).await);
    p.result(
        "webhook",
        &m.handle_webhook("smtp", &WebhookRequest::post("https://h/", "")).await,
    );
    let bad = Message::email_to(
        Recipient::email("customer@example.org").unwrap(),
        "x\r\nBcc: a@b.c",
        "x",
    );
    p.result("send of a header injection", &m.send(bad).await);
    p.check();
}

// ------------------------------------------------------------------------------------ other clients

#[tokio::test]
async fn telecmi_never_shows_secrets() {
    use switchboard::telecmi::sim::{SIM_WEBHOOK_SECRET, Simulator};
    use switchboard::telecmi::{CallRequest, TeleCmiClient};
    let mut p = Probe::start();
    let sim = Simulator::start().await;
    let to = phone("+919812345678");
    p.phone(&to);
    for dsn in [sim.dsn(), sim.user_dsn()] {
        p.dsn_secrets(&dsn, false);
        p.show("Dsn", &Dsn::parse(&dsn).unwrap());
        let c = TeleCmiClient::from_dsn_str(&dsn).unwrap();
        p.dbg("client", &c);
        p.dbg("config", c.config());
        p.result("login", &c.login().await);
        let req = CallRequest::new("101_1111112", to.clone()).with_correlation("deal-1");
        p.dbg("call request", &req);
        p.result("click to call", &c.click_to_call(&req).await);
        for fault in [Fault::Status(401), Fault::Status(500), Fault::MalformedJson] {
            sim.faults().clear();
            sim.faults().push_n(fault.clone(), 4);
            p.result(&format!("click to call under {fault:?}"), &c.click_to_call(&req).await);
            sim.faults().clear();
        }
        p.result(
            "not allowed",
            &c.click_to_call(&CallRequest::new("999_1111112", to.clone())).await,
        );
        let body = r#"{"type":"event","status":"waiting","app_id":1111112,"cmiuuid":"x","from":"919812345678"}"#;
        let (m, _) = (
            Messenger::builder()
                .webhook_source("telecmi", Arc::new(c.clone()))
                .build()
                .unwrap(),
            (),
        );
        for url in [
            format!("https://crm.example/h?token={SIM_WEBHOOK_SECRET}"),
            "https://crm.example/h?token=wrong-webhook-guess".to_owned(),
        ] {
            let r = m.handle_webhook("telecmi", &WebhookRequest::post(url, body)).await;
            p.result("webhook", &r);
        }
    }
    let wrong = with_wrong(
        &sim.dsn(),
        switchboard::telecmi::sim::SIM_SECRET,
        "wrong-telecmi-secret",
    );
    p.secret("wrong-telecmi-secret");
    let c = TeleCmiClient::from_dsn_str(&wrong).unwrap();
    p.result(
        "click to call with a wrong secret",
        &c.click_to_call(&CallRequest::new("101_1111112", to.clone())).await,
    );
    let wrong_user = with_wrong(&sim.user_dsn(), "pass-101", "wrong-user-pass");
    p.secret("wrong-user-pass");
    let c = TeleCmiClient::from_dsn_str(&wrong_user).unwrap();
    p.result("user login with a wrong password", &c.login().await);
    p.authorization_headers(auth_headers(&sim.requests().await).iter().map(String::as_str));
    p.check();
}

#[tokio::test]
async fn payments_never_show_secrets() {
    use switchboard::core::simulated::Simulated;
    use switchboard::payments::gateway::PaymentWebhooks;
    use switchboard::payments::{self, CreatePayment, Currency, Money, PaymentGateway};
    use switchboard::stripe::webhook::{SIGNATURE_HEADER, signature_header};
    let mut p = Probe::start();
    let ys = switchboard::yookassa::sim::Simulator::start().await;
    let ss = switchboard::stripe::sim::Simulator::start().await;
    let (y_wrong, s_wrong) = ("test_WrongSecretKey_0000", "sk_test_51WrongKey000000000000");
    p.secret(y_wrong);
    p.secret(s_wrong);
    let cases: Vec<(String, String, bool, Currency, &str)> = vec![
        (
            ys.dsn(),
            with_wrong(&ys.dsn(), switchboard::yookassa::sim::Simulator::SECRET_KEY, y_wrong),
            false,
            Currency::RUB,
            switchboard::yookassa::sim::Simulator::SAVED_CARD,
        ),
        (
            ss.dsn(),
            with_wrong(&ss.dsn(), switchboard::stripe::sim::Simulator::SECRET_KEY, s_wrong),
            true,
            Currency::USD,
            "pm_card_visa",
        ),
    ];
    for (dsn, wrong, user_is_key, currency, card) in cases {
        p.dsn_secrets(&dsn, user_is_key);
        let parsed = Dsn::parse(&dsn).unwrap();
        p.show("Dsn", &parsed);
        let gw: Arc<dyn PaymentGateway> = payments::gateway(&switchboard::connect(&dsn).unwrap()).unwrap();
        p.dbg("gateway", &gw);
        let req = CreatePayment::new(Money::parse("10.00", currency).unwrap())
            .payment_method(card)
            .customer_email("payer@example.org");
        p.dbg("create payment", &req);
        let created = gw.create_payment(&req).await;
        p.result("create", &created);
        let created = created.unwrap();
        p.result("get", &gw.get_payment(&created.id).await);
        p.result("get unknown", &gw.get_payment("unknown-payment-0000").await);
        let faults = if user_is_key { ss.faults() } else { ys.faults() };
        for fault in [Fault::Status(401), Fault::Status(500), Fault::MalformedJson] {
            faults.clear();
            faults.push_n(fault.clone(), 4);
            p.result(&format!("create under {fault:?}"), &gw.create_payment(&req).await);
            faults.clear();
        }
        let w = payments::gateway(&switchboard::connect(&wrong).unwrap()).unwrap();
        let r = w.create_payment(&req).await;
        assert!(r.is_err());
        p.result("create with a wrong key", &r);
        p.result("get with a wrong key", &w.get_payment(&created.id).await);

        let m = Messenger::builder()
            .webhook_source("pay", Arc::new(PaymentWebhooks(gw.clone())))
            .build()
            .unwrap();
        let hooks = if user_is_key {
            p.secret("+4915112345678");
            let body = json!({"id": "evt_secrets_1", "object": "event", "type": "customer.created",
                "data": {"object": {"id": "cus_1", "object": "customer", "phone": "+4915112345678"}}})
            .to_string();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            let secrets = ss.webhook_secrets();
            vec![
                WebhookRequest::post("https://shop.example/stripe", body.clone()).with_header(
                    SIGNATURE_HEADER,
                    &signature_header(&[secrets[0].as_str()], now, body.as_bytes()),
                ),
                WebhookRequest::post("https://shop.example/stripe", body.clone()).with_header(
                    SIGNATURE_HEADER,
                    &signature_header(&["whsec_wrongWebhookSecret"], now, body.as_bytes()),
                ),
                WebhookRequest::post("https://shop.example/stripe", body),
            ]
        } else {
            let body = json!({"type": "notification", "event": "payment.succeeded",
                "object": {"id": created.id, "status": "succeeded"}})
            .to_string();
            vec![
                WebhookRequest::post("https://shop.example/y", body.clone())
                    .with_remote_addr("127.0.0.1".parse().unwrap()),
                WebhookRequest::post("https://shop.example/y", body).with_remote_addr("203.0.113.9".parse().unwrap()),
            ]
        };
        for (i, h) in hooks.iter().enumerate() {
            let r = m.handle_webhook("pay", h).await;
            p.result(&format!("payment webhook {i}"), &r);
        }
        // The gateway's own outcome type, for an event not seen yet (a refund for Stripe, so the
        // typed refund is rendered too).
        if user_is_key {
            let refund = gw.refund(&payments::CreateRefund::full(created.id.clone())).await;
            p.result("refund", &refund);
            let refund_id = refund.map(|r| r.id).unwrap_or_default();
            p.result("get refund", &gw.get_refund(&refund_id).await);
            let body = json!({"id": "evt_secrets_2", "object": "event", "type": "charge.updated",
                "data": {"object": {"id": "ch_1", "object": "charge",
                    "billing_details": {"phone": "+4915112345678", "email": "payer@example.org"}}}})
            .to_string();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            let secrets = ss.webhook_secrets();
            let h = WebhookRequest::post("https://shop.example/stripe", body.clone()).with_header(
                SIGNATURE_HEADER,
                &signature_header(&[secrets[0].as_str()], now, body.as_bytes()),
            );
            p.result("gateway webhook outcome", &gw.handle_webhook(&h).await);
        } else {
            let body = json!({"type": "notification", "event": "payment.waiting_for_capture",
                "object": {"id": created.id, "status": "waiting_for_capture"}})
            .to_string();
            let h = WebhookRequest::post("https://shop.example/y", body).with_remote_addr("127.0.0.1".parse().unwrap());
            p.result("gateway webhook outcome", &gw.handle_webhook(&h).await);
        }
    }
    p.authorization_headers(auth_headers(&ys.requests().await).iter().map(String::as_str));
    p.authorization_headers(auth_headers(&ss.requests().await).iter().map(String::as_str));
    p.check();
}

#[tokio::test]
async fn erp_never_shows_secrets() {
    use switchboard::core::simulated::Simulated;
    use switchboard::onec::sim::Simulator;
    use switchboard::onec::{EntitySet, OneCClient, Query};
    let mut p = Probe::start();
    let sim = Simulator::start().await;
    let dsn = sim.dsn();
    p.dsn_secrets(&dsn, false);
    p.secret("wrong-erp-password");
    p.show("Dsn", &Dsn::parse(&dsn).unwrap());
    let c = OneCClient::from_dsn_str(&dsn).unwrap();
    p.dbg("client", &c);
    let set = EntitySet::catalog("Контрагенты");
    p.result("list", &c.list::<Value>(&set, &Query::new()).await);
    p.result("count", &c.count(&set, None).await);
    p.result(
        "create",
        &c.create::<Value>(&set, &json!({"Description": "ООО Ромашка", "ИНН": "7700000000"}))
            .await,
    );
    for fault in [Fault::Status(401), Fault::Status(500), Fault::MalformedJson] {
        sim.faults().clear();
        sim.faults().push_n(fault.clone(), 4);
        p.result(
            &format!("list under {fault:?}"),
            &c.list::<Value>(&set, &Query::new()).await,
        );
        sim.faults().clear();
    }
    let w = OneCClient::from_dsn_str(&sim.dsn_with(sim.user(), "wrong-erp-password")).unwrap();
    let r = w.list::<Value>(&set, &Query::new()).await;
    assert!(r.is_err());
    p.result("list with a wrong password", &r);
    p.authorization_headers(auth_headers(&sim.requests().await).iter().map(String::as_str));
    p.check();
}

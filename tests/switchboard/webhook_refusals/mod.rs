//! Every webhook decoder refuses what it cannot verify, through `Messenger::handle_webhook`.
//!
//! One table-driven test per provider. Each row is a request that must be refused: the error kind
//! (`Auth` for anything unverified, `InvalidInput` for a malformed body), a fragment the error text must
//! contain (it names what is wrong), the secret must appear in neither its `Display` nor its `Debug`,
//! and nothing may be journaled or accepted. Every table ends with a positive control: the genuine
//! request is accepted (so the refusals were not an artefact of a broken setup), and for payments it is
//! a *fresh* event, proving none of the refused requests was claimed in the event store. A decoder
//! configured with an empty secret refuses to run (`Config`).

mod payments;

use std::sync::Arc;

use serde_json::json;
use switchboard::core::webhook::sha256_hex;
use switchboard::{ErrorKind, Event, MemoryJournal, Messenger, SecretString, WebhookRequest};

/// One request that must be refused.
struct Refusal {
    name: &'static str,
    request: WebhookRequest,
    kind: ErrorKind,
    /// A fragment (case-insensitive) the error text must contain.
    says: &'static str,
}

fn refusal(name: &'static str, request: WebhookRequest, kind: ErrorKind, says: &'static str) -> Refusal {
    Refusal {
        name,
        request,
        kind,
        says,
    }
}

/// A Messenger with `source` registered, journaling into the returned journal.
fn messenger_from_dsn(dsn: &str) -> (Messenger, Arc<MemoryJournal>) {
    let journal = Arc::new(MemoryJournal::new());
    let m = Messenger::builder_from_dsns([dsn])
        .unwrap()
        .journal(journal.clone())
        .build()
        .unwrap();
    (m, journal)
}

fn messenger_with_source(name: &str, h: Arc<dyn switchboard::WebhookHandler>) -> (Messenger, Arc<MemoryJournal>) {
    let journal = Arc::new(MemoryJournal::new());
    let m = Messenger::builder()
        .webhook_source(name, h)
        .journal(journal.clone())
        .build()
        .unwrap();
    (m, journal)
}

/// Runs the table: every row refused as described, nothing journaled.
async fn assert_refused(m: &Messenger, journal: &MemoryJournal, source: &str, secrets: &[&str], table: Vec<Refusal>) {
    assert!(!table.is_empty());
    for row in table {
        let before = journal.entries().len();
        let e = match m.handle_webhook(source, &row.request).await {
            Ok(handled) => panic!(
                "{source}/{}: accepted, {} events: {handled:?}",
                row.name,
                handled.events.len()
            ),
            Err(e) => e,
        };
        let (shown, debug) = (e.to_string(), format!("{e:?}"));
        assert_eq!(e.kind(), row.kind, "{source}/{}: {shown}", row.name);
        assert!(
            shown.to_lowercase().contains(&row.says.to_lowercase()),
            "{source}/{}: the error should say '{}': {shown}",
            row.name,
            row.says
        );
        for s in secrets {
            assert!(
                !shown.contains(s),
                "{source}/{}: the error shows a secret: {shown}",
                row.name
            );
            assert!(
                !debug.contains(s),
                "{source}/{}: the error's Debug shows a secret: {debug}",
                row.name
            );
        }
        assert_eq!(
            journal.entries().len(),
            before,
            "{source}/{}: something was journaled",
            row.name
        );
    }
}

/// The positive control: the genuine request is accepted and yields events.
async fn assert_accepted(m: &Messenger, source: &str, request: &WebhookRequest) -> Vec<Event> {
    let events = m
        .handle_webhook(source, request)
        .await
        .unwrap_or_else(|e| panic!("{source}: the genuine request was refused: {e}"));
    assert!(
        !events.events.is_empty(),
        "{source}: the genuine request yielded no event"
    );
    assert!(
        events.answer.is_success(),
        "{source}: answered {}",
        events.answer.status
    );
    events.events.into_iter().map(|t| t.event).collect()
}

/// The error a decoder with an empty or missing secret gives: building fails, or handling does.
async fn assert_refuses_to_run(dsn: &str, source: &str, request: &WebhookRequest) {
    match Messenger::builder_from_dsns([dsn]).and_then(|b| b.build()) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Config, "{source}: {e}"),
        Ok(m) => {
            let e = m.handle_webhook(source, request).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{source} with no secret: {e}");
            assert!(e.to_string().to_lowercase().contains("secret"), "{source}: {e}");
        }
    }
}

fn with_query(base: &str, query: &str) -> String {
    format!("{base}?{query}")
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const HOOK: &str = "https://crm.example/hooks";

// ---------------------------------------------------------------------------------------------- dinstar

#[tokio::test]
async fn dinstar_push_refusals() {
    const S: &str = "dinstar-push-s3cret";
    let sim = switchboard::dinstar::sim::Simulator::start().await;
    let push = sim.sample_pushes()[0].clone();
    let body = push.to_string();
    let mut other = push.clone();
    other["sn"] = json!("DG-SOMEONE-ELSE");
    let dsn = format!(
        "dinstar://admin:pw-dinstar@127.0.0.1:9?sn={}&webhook_secret={S}",
        sim.sn()
    );
    let (m, j) = messenger_from_dsn(&dsn);
    let post = |url: String| WebhookRequest::post(url, body.clone()).with_header("content-type", "application/json");
    let table = vec![
        refusal(
            "unsigned",
            post(format!("{HOOK}/gsm")),
            ErrorKind::Auth,
            "carries no 'token'",
        ),
        refusal(
            "empty token",
            post(with_query(HOOK, "token=")),
            ErrorKind::Auth,
            "'token' secret is wrong",
        ),
        refusal(
            "wrong secret",
            post(with_query(HOOK, "token=guess")),
            ErrorKind::Auth,
            "'token' secret is wrong",
        ),
        refusal(
            "secret + suffix",
            post(with_query(HOOK, &format!("token={S}x"))),
            ErrorKind::Auth,
            "wrong",
        ),
        refusal(
            "other param",
            post(with_query(HOOK, &format!("tok={S}"))),
            ErrorKind::Auth,
            "carries no",
        ),
        refusal(
            "another gateway's push",
            WebhookRequest::post(with_query(HOOK, &format!("token={S}")), other.to_string()),
            ErrorKind::Auth,
            "not the configured",
        ),
        refusal(
            "malformed body",
            WebhookRequest::post(with_query(HOOK, &format!("token={S}")), "{not json"),
            ErrorKind::InvalidInput,
            "json",
        ),
    ];
    assert_refused(&m, &j, "dinstar", &[S, "pw-dinstar"], table).await;
    assert_accepted(&m, "dinstar", &post(with_query(HOOK, &format!("token={S}")))).await;

    let good = post(with_query(HOOK, "token=x"));
    assert_refuses_to_run("dinstar://admin:pw@127.0.0.1:9?sn=DG-1", "dinstar", &good).await;
    assert_refuses_to_run(
        "dinstar://admin:pw@127.0.0.1:9?sn=DG-1&webhook_secret=",
        "dinstar",
        &good,
    )
    .await;
}

// ------------------------------------------------------------------------------------------------ mitto

#[tokio::test]
async fn mitto_refusals_legacy_and_messaging() {
    const S: &str = "mitto-hook-s3cret";
    let legacy = r#"{"messageId":"abc","status":"Delivered","errorcode":"0"}"#;
    let messaging = r#"{"id":"9b1c0b57-0000-4000-8000-000000000001","deliveryStatus":"Delivered"}"#;
    for (api, body) in [("legacy", legacy), ("messaging", messaging)] {
        let dsn =
            format!("mitto://mitto-api-k3y@127.0.0.1:9?from=Acme&api={api}&traffic_account=ta-1&webhook_secret={S}");
        let (m, j) = messenger_from_dsn(&dsn);
        let post = |url: String| WebhookRequest::post(url, body).with_header("content-type", "application/json");
        let table = vec![
            refusal("unsigned", post(HOOK.to_owned()), ErrorKind::Auth, "carries no 'token'"),
            refusal(
                "wrong secret",
                post(with_query(HOOK, "token=guess")),
                ErrorKind::Auth,
                "secret is wrong",
            ),
            refusal(
                "prefix of secret",
                post(with_query(HOOK, "token=mitto-hook")),
                ErrorKind::Auth,
                "wrong",
            ),
            refusal(
                "GET without secret",
                WebhookRequest::get(format!("{HOOK}?messageId=abc&status=Delivered")),
                ErrorKind::Auth,
                "carries no",
            ),
            refusal(
                "malformed body",
                WebhookRequest::post(with_query(HOOK, &format!("token={S}")), "{\"messageId\":")
                    .with_header("content-type", "application/json"),
                ErrorKind::InvalidInput,
                "not the JSON expected",
            ),
        ];
        assert_refused(&m, &j, "mitto", &[S, "mitto-api-k3y"], table).await;
        let ev = assert_accepted(&m, "mitto", &post(with_query(HOOK, &format!("token={S}")))).await;
        assert!(matches!(ev[0], Event::Delivery(_)), "{api}: {ev:?}");
        assert_eq!(j.entries().len(), 1, "{api}: the genuine report is journaled");

        let good = post(with_query(HOOK, "token=x"));
        assert_refuses_to_run(
            &format!("mitto://k@127.0.0.1:9?from=Acme&api={api}&traffic_account=ta-1"),
            "mitto",
            &good,
        )
        .await;
        assert_refuses_to_run(
            &format!("mitto://k@127.0.0.1:9?from=Acme&api={api}&traffic_account=ta-1&webhook_secret="),
            "mitto",
            &good,
        )
        .await;
    }
}

// ------------------------------------------------------------------------------------------------ sms.ru

#[tokio::test]
async fn smsru_callback_refusals() {
    const S: &str = "smsru-callback-s3cret";
    let dsn = format!("smsru://5A1E-API-ID-0001@127.0.0.1:9?from=Shop&webhook_secret={S}");
    let (m, j) = messenger_from_dsn(&dsn);
    let body = "data%5B0%5D=sms_status%0A000000-10000000%0A103";
    let post =
        |url: String| WebhookRequest::post(url, body).with_header("content-type", "application/x-www-form-urlencoded");
    let table = vec![
        refusal("unsigned", post(HOOK.to_owned()), ErrorKind::Auth, "carries no 'token'"),
        refusal(
            "wrong secret",
            post(with_query(HOOK, "token=guess")),
            ErrorKind::Auth,
            "secret is wrong",
        ),
        refusal(
            "case differs",
            post(with_query(HOOK, &format!("token={}", S.to_uppercase()))),
            ErrorKind::Auth,
            "wrong",
        ),
        refusal(
            "malformed record",
            WebhookRequest::post(
                with_query(HOOK, &format!("token={S}")),
                "data%5B0%5D=sms_status%0Aonly-id",
            ),
            ErrorKind::InvalidInput,
            "without a message id",
        ),
    ];
    assert_refused(&m, &j, "smsru", &[S, "5A1E-API-ID-0001"], table).await;
    let ev = assert_accepted(&m, "smsru", &post(with_query(HOOK, &format!("token={S}")))).await;
    assert!(matches!(ev[0], Event::Delivery(_)), "{ev:?}");

    let good = post(with_query(HOOK, "token=x"));
    assert_refuses_to_run("smsru://K@127.0.0.1:9?from=Shop", "smsru", &good).await;
    assert_refuses_to_run("smsru://K@127.0.0.1:9?from=Shop&webhook_secret=", "smsru", &good).await;
}

// ------------------------------------------------------------------------------------------------ twilio

#[tokio::test]
async fn twilio_refusals_form_and_json_body_hash() {
    use switchboard::twilio::webhook::{SIGNATURE_HEADER, signature};
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    const SID: &str = "AC00000000000000000000000000000001";
    let dsn = format!("twilio://{SID}:{TOKEN}@127.0.0.1:9?from=%2B15005550006");
    let (m, j) = messenger_from_dsn(&dsn);
    let token = SecretString::from(TOKEN.to_owned());
    let url = format!("{HOOK}/twilio");
    let params: Vec<(String, String)> = [
        ("MessageSid", "SM00000000000000000000000000000001"),
        ("MessageStatus", "delivered"),
        ("To", "+12015550123"),
        ("From", "+15005550006"),
        ("AccountSid", SID),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let form: String = params
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let good_sig = signature(&token, &url, &params);
    let wrong_sig = signature(&SecretString::from("not-the-token".to_owned()), &url, &params);
    let form_req = |url: &str, body: &str, sig: Option<&str>| {
        let r =
            WebhookRequest::post(url, body.to_owned()).with_header("content-type", "application/x-www-form-urlencoded");
        match sig {
            Some(s) => r.with_header(SIGNATURE_HEADER, s),
            None => r,
        }
    };
    let tampered = form.replace("delivered", "failed");

    // The JSON variant: the body's SHA-256 is a query parameter of the signed URL.
    let json_body =
        json!({"MessageSid": "SM00000000000000000000000000000002", "MessageStatus": "delivered"}).to_string();
    let json_url = format!("{url}?bodySHA256={}", sha256_hex(json_body.as_bytes()));
    let json_sig = signature(&token, &json_url, &[]);
    let json_req = |body: &str, sig: &str| {
        WebhookRequest::post(json_url.clone(), body.to_owned())
            .with_header("content-type", "application/json")
            .with_header(SIGNATURE_HEADER, sig)
    };
    let altered_json = json_body.replace("delivered", "undelivered");

    let table = vec![
        refusal(
            "form: unsigned",
            form_req(&url, &form, None),
            ErrorKind::Auth,
            "no X-Twilio-Signature",
        ),
        refusal(
            "form: empty signature",
            form_req(&url, &form, Some(" ")),
            ErrorKind::Auth,
            "no X-Twilio-Signature",
        ),
        refusal(
            "form: wrong token",
            form_req(&url, &form, Some(&wrong_sig)),
            ErrorKind::Auth,
            "does not match",
        ),
        refusal(
            "form: garbage signature",
            form_req(&url, &form, Some("bm9wZQ==")),
            ErrorKind::Auth,
            "does not match",
        ),
        refusal(
            "form: tampered params",
            form_req(&url, &tampered, Some(&good_sig)),
            ErrorKind::Auth,
            "does not match",
        ),
        refusal(
            "form: another URL",
            form_req(&format!("{HOOK}/other"), &form, Some(&good_sig)),
            ErrorKind::Auth,
            "does not match",
        ),
        refusal(
            "json: unsigned",
            WebhookRequest::post(json_url.clone(), json_body.clone()),
            ErrorKind::Auth,
            "no X-Twilio-Signature",
        ),
        refusal(
            "json: wrong token",
            json_req(&json_body, &wrong_sig),
            ErrorKind::Auth,
            "does not match",
        ),
        refusal(
            "json: altered body",
            json_req(&altered_json, &json_sig),
            ErrorKind::Auth,
            "bodySHA256",
        ),
        refusal(
            "json: hash swapped",
            WebhookRequest::post(
                format!("{url}?bodySHA256={}", sha256_hex(altered_json.as_bytes())),
                altered_json.clone(),
            )
            .with_header(SIGNATURE_HEADER, &json_sig),
            ErrorKind::Auth,
            "does not match",
        ),
    ];
    assert_refused(&m, &j, "twilio", &[TOKEN], table).await;
    let ev = assert_accepted(&m, "twilio", &form_req(&url, &form, Some(&good_sig))).await;
    assert!(matches!(ev[0], Event::Delivery(_)), "{ev:?}");
    let ev = assert_accepted(&m, "twilio", &json_req(&json_body, &json_sig)).await;
    assert!(matches!(ev[0], Event::Delivery(_)), "{ev:?}");

    let good = form_req(&url, &form, Some(&good_sig));
    assert_refuses_to_run(
        &format!("twilio://{SID}:@127.0.0.1:9?from=%2B15005550006"),
        "twilio",
        &good,
    )
    .await;
}

// ------------------------------------------------------------------------------------------------ telecmi

#[tokio::test]
async fn telecmi_refusals() {
    use switchboard::telecmi::TeleCmiClient;
    const S: &str = "telecmi-hook-s3cret";
    const APP_SECRET: &str = "telecmi-app-s3cret";
    let client = TeleCmiClient::from_dsn_str(&format!(
        "telecmi://1111112:{APP_SECRET}@127.0.0.1:9?webhook_secret={S}&allow=101_1111112"
    ))
    .unwrap();
    let (m, j) = messenger_with_source("telecmi", Arc::new(client));
    let body = r#"{"type":"event","status":"waiting","app_id":1111112,"cmiuuid":"x-1","from":"919800000001"}"#;
    let post = |url: String| WebhookRequest::post(url, body).with_header("content-type", "application/json");
    let table = vec![
        refusal("unsigned", post(HOOK.to_owned()), ErrorKind::Auth, "carries no 'token'"),
        refusal("empty", post(with_query(HOOK, "token=")), ErrorKind::Auth, "wrong"),
        refusal(
            "wrong secret",
            post(with_query(HOOK, "token=guess")),
            ErrorKind::Auth,
            "secret is wrong",
        ),
        refusal(
            "other param",
            post(with_query(HOOK, &format!("key={S}"))),
            ErrorKind::Auth,
            "carries no",
        ),
        refusal(
            "malformed body",
            WebhookRequest::post(with_query(HOOK, &format!("token={S}")), "[]"),
            ErrorKind::InvalidInput,
            "empty list",
        ),
    ];
    assert_refused(&m, &j, "telecmi", &[S, APP_SECRET], table).await;
    let ev = assert_accepted(&m, "telecmi", &post(with_query(HOOK, &format!("token={S}")))).await;
    assert!(matches!(ev[0], Event::Call(_)), "{ev:?}");
    assert_eq!(j.entries().len(), 1, "the genuine call event is journaled");

    for dsn in [
        format!("telecmi://1111112:{APP_SECRET}@127.0.0.1:9?allow=101_1111112"),
        format!("telecmi://1111112:{APP_SECRET}@127.0.0.1:9?webhook_secret=&allow=101_1111112"),
    ] {
        let good = post(with_query(HOOK, "token=x"));
        match TeleCmiClient::from_dsn_str(&dsn) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::Config, "{e}"),
            Ok(c) => {
                let (m, _) = messenger_with_source("telecmi", Arc::new(c));
                let e = m.handle_webhook("telecmi", &good).await.unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Config, "{e}");
            }
        }
    }
}

// ----------------------------------------------------------------------------------------------- telegram

#[tokio::test]
async fn telegram_secret_token_refusals() {
    use switchboard::telegram::webhook::SECRET_HEADER;
    const S: &str = "tg-hook-S3cret_token";
    const BOT: &str = "7000000002:AAHrefusalsTestTokenXYZ";
    let dsn = format!("telegram://{BOT}@127.0.0.1:9?chat_id=5&webhook_secret={S}&rate_limit=false");
    let (m, j) = messenger_from_dsn(&dsn);
    let body = json!({"update_id": 1, "message": {"message_id": 1, "date": 1_700_000_000,
        "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": false, "first_name": "A"}, "text": "hi"}})
    .to_string();
    let post = |secret: Option<&str>| {
        let r =
            WebhookRequest::post(format!("{HOOK}/tg"), body.clone()).with_header("content-type", "application/json");
        match secret {
            Some(s) => r.with_header(SECRET_HEADER, s),
            None => r,
        }
    };
    let table = vec![
        refusal(
            "no header",
            post(None),
            ErrorKind::Auth,
            "no X-Telegram-Bot-Api-Secret-Token",
        ),
        refusal("empty header", post(Some("")), ErrorKind::Auth, "wrong"),
        refusal(
            "wrong secret",
            post(Some("tg-hook-guess")),
            ErrorKind::Auth,
            "secret token is wrong",
        ),
        refusal("the bot token instead", post(Some(BOT)), ErrorKind::Auth, "wrong"),
        refusal(
            "secret in the URL, not the header",
            WebhookRequest::post(format!("{HOOK}/tg?token={S}"), body.clone()),
            ErrorKind::Auth,
            "no X-Telegram-Bot-Api-Secret-Token",
        ),
        refusal(
            "malformed body",
            WebhookRequest::post(format!("{HOOK}/tg"), "{\"update_id\":").with_header(SECRET_HEADER, S),
            ErrorKind::InvalidInput,
            "not the JSON expected",
        ),
    ];
    assert_refused(&m, &j, "telegram", &[S, BOT], table).await;
    assert_accepted(&m, "telegram", &post(Some(S))).await;

    let good = post(Some("x"));
    assert_refuses_to_run(&format!("telegram://{BOT}@127.0.0.1:9?chat_id=5"), "telegram", &good).await;
    assert_refuses_to_run(
        &format!("telegram://{BOT}@127.0.0.1:9?chat_id=5&webhook_secret="),
        "telegram",
        &good,
    )
    .await;
}

// ------------------------------------------------------------------------------------------------ stripe

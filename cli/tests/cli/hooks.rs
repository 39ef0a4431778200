//! Simulators from the registry (`sim`, `providers`), the webhook listener (`listen`) and pushed
//! events (`trigger`).

use std::time::Duration;

use switchboard::core::simulated::Simulated;
use switchboard::core::testkit::WebhookSink;

use super::run::{Serving, run};

#[tokio::test]
async fn sim_prints_its_dsn_first_and_serves_it() {
    let mut sim = Serving::start(&["sim", "smsru"], &[]);
    let first = sim.line().await;
    let dsn = first
        .strip_prefix("dsn: ")
        .unwrap_or_else(|| panic!("first line: {first}"));
    assert!(dsn.starts_with("smsru://"), "{dsn}");
    let o = run(&["send", "--dsn", dsn, "--text", "Hi", "--to", "+79255070602"]).await;
    assert_eq!(o.code, 0, "{o:?}");
    sim.stop().await;

    let mut sim = Serving::start(&["-o", "json", "sim", "twilio"], &[]);
    let j: serde_json::Value = serde_json::from_str(&sim.line().await).unwrap();
    assert!(j["dsn"].as_str().is_some_and(|d| d.starts_with("twilio://")), "{j}");
    sim.stop().await;

    let o = run(&["sim", "nosuch"]).await;
    assert_eq!(o.code, 2, "{o:?}");
    assert!(
        o.stderr.contains("smsru"),
        "the error lists what there is: {}",
        o.stderr
    );
}

#[tokio::test]
async fn providers_and_sim_without_a_name_list_the_registry() {
    let o = run(&["-o", "json", "providers"]).await;
    assert_eq!(o.code, 0, "{o:?}");
    let all = o.json();
    let smsru = all.iter().find(|p| p["name"] == "smsru").expect("smsru is listed");
    assert!(smsru["dsn"].as_str().is_some_and(|d| d.starts_with("smsru://")));
    assert_eq!(smsru["triggers"], serde_json::json!(["delivered", "failed"]));
    for name in ["twilio", "mitto", "telegram", "stripe"] {
        assert!(
            all.iter().any(|p| p["name"] == name && p["simulator"] == true),
            "{name}"
        );
    }
    let o = run(&["sim"]).await;
    assert_eq!(o.code, 0);
    assert!(
        o.stdout
            .lines()
            .any(|l| l.starts_with("smsru\t") && l.ends_with("trigger: delivered,failed")),
        "{}",
        o.stdout
    );
}

/// `listen` on the DSN, answering its first line's URL.
async fn listen(args: &[&str]) -> (Serving, String) {
    let mut l = Serving::start(args, &[]);
    let first = l.line().await;
    let url = match first.strip_prefix("listening: ") {
        Some(u) => u.to_owned(),
        None => {
            let j: serde_json::Value = serde_json::from_str(&first).unwrap_or_else(|_| panic!("first line: {first}"));
            j["listening"].as_str().expect("the listening URL").to_owned()
        }
    };
    (l, url)
}

#[tokio::test]
async fn listen_accepts_a_signed_webhook_prints_it_and_answers_as_smsru_wants() {
    let sim = switchboard::smsru::sim::Simulator::start().await;
    let sink = WebhookSink::start().await;
    let forward = format!("{}/app/hook", sink.uri());
    let (mut l, url) = listen(&["listen", "--dsn", &sim.dsn(), "--forward-to", &forward]).await;
    sim.trigger("delivered", &format!("{url}/hooks/smsru")).await.unwrap();
    let line = l.line().await;
    let f: Vec<&str> = line.split('\t').collect();
    assert_eq!(&f[..2], ["smsru", "delivery"], "{line}");
    assert!(f[2].ends_with(" delivered 103"), "{line}");
    assert_eq!(sim.acknowledged(), vec![true], "SMS.ru wants the body 100");
    // The forwarded copy: the same body and the token in the query.
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, sim.pushed()[0].body);
    assert!(got[0].url.contains("/app/hook?token="), "{}", got[0].url);

    // A forged one (no token, then a wrong one) is refused with 401 and a line on stderr.
    let http = reqwest::Client::new();
    for q in ["", "?token=wrong"] {
        let r = http
            .post(format!("{url}/hooks/smsru{q}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("data%5B0%5D=sms_status%0A1%0A103")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let err = l.stop().await;
    assert_eq!(err.matches("refused a smsru webhook").count(), 2, "{err}");
    assert!(!err.contains("sim-callback-secret"), "{err}");
    assert_eq!(sink.received().await.len(), 1, "forged requests are not forwarded");
}

#[tokio::test]
async fn listen_answers_twilio_with_empty_twiml_and_checks_its_url_signature() {
    let sim = switchboard::twilio::sim::Simulator::start().await;
    let (mut l, url) = listen(&["-o", "json", "listen", "--dsn", &sim.dsn()]).await;
    let hook = format!("{url}/hooks/twilio");
    let pushed = sim.trigger("inbound", &hook).await.unwrap();
    let j: serde_json::Value = serde_json::from_str(&l.line().await).unwrap();
    assert_eq!(j["source"], "twilio");
    assert_eq!(j["event"]["event"], "inbound", "{j}");
    // What Twilio is answered: the same request again, read by this test.
    let http = reqwest::Client::new();
    let r = http
        .post(&hook)
        .headers(pushed.headers.clone())
        .body(pushed.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), switchboard::twilio::EMPTY_TWIML);
    // The same signature on another URL is a forgery.
    let r = http
        .post(format!("{url}/hooks/other"))
        .headers(pushed.headers.clone())
        .body(pushed.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let err = l.stop().await;
    assert!(err.contains("refused a twilio webhook"), "{err}");
}

#[tokio::test]
async fn trigger_pushes_a_signed_event_and_reports_the_answer() {
    let ok = WebhookSink::answering(200, "100").await;
    let o = run(&["trigger", "smsru", "delivered", "--to", &format!("{}/hook", ok.uri())]).await;
    assert_eq!(o.code, 0, "{o:?}");
    let lines = o.lines();
    assert!(
        lines[0].starts_with("pushed\tsmsru\tdelivered\tPOST http://127.0.0.1:"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("token=***"),
        "the secret is not printed: {}",
        lines[0]
    );
    assert_eq!(lines[1], "answer\t200\t100");
    let got = ok.received().await;
    assert_eq!(got.len(), 1, "pushed once, through the relay");
    assert!(got[0].query_param("token").is_some());

    let refusing = WebhookSink::answering(401, "").await;
    let o = run(&[
        "-o",
        "json",
        "trigger",
        "twilio",
        "failed",
        "--to",
        &format!("{}/hook", refusing.uri()),
    ])
    .await;
    assert_eq!(o.code, 1, "{o:?}");
    let j = &o.json()[0];
    assert_eq!(
        (&j["provider"], &j["event"], &j["status"]),
        (&"twilio".into(), &"failed".into(), &401.into())
    );
    assert!(
        j["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == "x-twilio-signature"),
        "{j}"
    );

    // Against `listen` with the simulator's own DSN: the URL signature holds through the relay.
    let sim = switchboard::twilio::sim::Simulator::start().await;
    let (mut l, url) = listen(&["listen", "--dsn", &sim.dsn()]).await;
    let o = run(&["trigger", "twilio", "inbound", "--to", &format!("{url}/hooks/twilio")]).await;
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.lines()[1].starts_with("answer\t200\t<?xml"), "{o:?}");
    assert!(l.line().await.starts_with("twilio\tinbound\t"));
    l.stop().await;

    let o = run(&["trigger", "smsru", "nosuch", "--to", "http://127.0.0.1:9/"]).await;
    assert_eq!(o.code, 2, "{o:?}");
    assert!(o.stderr.contains("delivered, failed"), "{}", o.stderr);
}

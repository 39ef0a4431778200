//! SMS.ru's documented contract against the client and the simulator: the status report's price, what
//! an answer the client cannot use means, and every refusal the simulator shares with SMS.ru.

use std::time::Duration;

use crate::sim::{SIM_API_ID, Simulator, TTL_REFUSAL_CODE, TTL_REFUSAL_TEXT};
use crate::{SendRequest, SmsRuClient, SmsRuTransport};
use serde_json::Value;
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::Fault;
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Message, RetryPolicy, Transport};

use super::{config, n, settle};

/// A raw `json=1` call, as a client that checks nothing would make it.
async fn raw(sim: &Simulator, method: &str, form: &[(&str, &str)]) -> Value {
    let mut f = vec![("api_id", SIM_API_ID), ("json", "1")];
    f.extend_from_slice(form);
    let r = reqwest::Client::new()
        .post(format!("{}/{method}", sim.uri()))
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "SMS.ru answers every call with HTTP 200");
    r.json().await.unwrap()
}

#[tokio::test]
async fn numbers_not_written_as_sms_ru_documents_them_are_refused_per_number() {
    let sim = Simulator::start().await;
    for to in ["+79255070602", "7 (925) 507-06-02", "7925-507-0602", "8925507060x"] {
        let v = raw(&sim, "sms/send", &[("to", to), ("msg", "hi")]).await;
        assert_eq!(v["status"], "OK", "the request itself is fine: {v}");
        let per: Vec<&Value> = v["sms"].as_object().unwrap().values().collect();
        assert_eq!(per.len(), 1, "{v}");
        assert_eq!(
            (per[0]["status"].as_str(), per[0]["status_code"].as_i64()),
            (Some("ERROR"), Some(202)),
            "{to}"
        );
        assert!(per[0]["sms_id"].is_null());
    }
    // The same through the per-number form, next to a good number that still goes.
    let v = raw(&sim, "sms/send", &[("to[+79255070602]", "a"), ("to[74993221627]", "b")]).await;
    assert_eq!(v["sms"]["79255070602"]["status_code"], 202, "{v}");
    assert_eq!(v["sms"]["74993221627"]["status_code"], 100, "{v}");
    assert_eq!(sim.sent().len(), 1);
    // The stop-list takes numbers in the same form only.
    let v = raw(
        &sim,
        "stoplist/add",
        &[("stoplist_phone", "+79255070602"), ("stoplist_text", "x")],
    )
    .await;
    assert_eq!(
        (v["status"].as_str(), v["status_code"].as_i64()),
        (Some("ERROR"), Some(202))
    );

    // The client writes numbers the documented way, so none of this reaches it.
    let t = SmsRuTransport::new(config(&sim)).unwrap();
    let r = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    assert_eq!(sim.message(r.provider_id()).unwrap().to, "79255070602");
}

#[tokio::test]
async fn ttl_outside_1_to_1440_minutes_and_private_ips_are_refused() {
    let sim = Simulator::start().await;
    for ttl in ["0", "1441", "-5", "60m", ""] {
        let v = raw(&sim, "sms/send", &[("to", "79255070602"), ("msg", "hi"), ("ttl", ttl)]).await;
        assert_eq!(
            (
                v["status"].as_str(),
                v["status_code"].as_i64(),
                v["status_text"].as_str()
            ),
            (Some("ERROR"), Some(i64::from(TTL_REFUSAL_CODE)), Some(TTL_REFUSAL_TEXT)),
            "ttl={ttl}"
        );
    }
    for ip in ["192.168.0.10", "10.1.2.3", "127.0.0.1", "::1", "not-an-ip"] {
        let v = raw(&sim, "sms/send", &[("to", "79255070602"), ("msg", "hi"), ("ip", ip)]).await;
        assert_eq!(
            (v["status"].as_str(), v["status_code"].as_i64()),
            (Some("ERROR"), Some(507)),
            "ip={ip}"
        );
    }
    assert!(sim.sent().is_empty(), "no refused request queued a message");
    for (ttl, ip) in [("1", "8.8.8.8"), ("1440", "2a00:1450:4010:c05::8a")] {
        let v = raw(
            &sim,
            "sms/send",
            &[("to", "79255070602"), ("msg", "hi"), ("ttl", ttl), ("ip", ip)],
        )
        .await;
        assert_eq!(v["sms"]["79255070602"]["status_code"], 100, "{v}");
    }

    // The client checks the range itself and sends nothing out of it.
    let c = SmsRuClient::new(config(&sim)).unwrap();
    let before = sim.requests().await.len();
    let e = c
        .send(&SendRequest::single(n("+79255070602"), "x").ttl_minutes(1441))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    assert_eq!(sim.requests().await.len(), before);
    // A ttl it does send is one the simulator takes.
    let r = c
        .send(&SendRequest::single(n("+79255070602"), "x").ttl_minutes(1440))
        .await
        .unwrap();
    assert!(r.result_for(&n("+79255070602")).unwrap().is_ok());
}

#[tokio::test]
async fn an_answer_the_client_cannot_use_is_never_not_sent() {
    let sim = Simulator::start().await;
    let mut cfg = config(&sim);
    // Retries on: none of these may be repeated, since SMS.ru may have queued the message.
    cfg.retry = RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false);
    let t = SmsRuTransport::new(cfg).unwrap();
    let msg = Message::sms(n("+79255070602"), "x");
    let cases = [
        // OK for the number, but no id to look it up by.
        (
            r#"{"status":"OK","status_code":100,"sms":{"79255070602":{"status":"OK","status_code":100}}}"#,
            ErrorKind::Decode,
        ),
        (
            r#"{"status":"OK","status_code":100,"sms":{"79255070602":{"status":"OK","status_code":100,"sms_id":""}}}"#,
            ErrorKind::Decode,
        ),
        // ERROR for the number, yet an id: the message may exist.
        (
            r#"{"status":"OK","status_code":100,"sms":{"79255070602":{"status":"ERROR","status_code":207,"sms_id":"000000-10000001"}}}"#,
            ErrorKind::Rejected,
        ),
        // Nothing about the number, or nothing readable.
        (r#"{"status":"OK","status_code":100,"sms":{}}"#, ErrorKind::Decode),
        (r#"{"status":"OK","status_code":100,"sms":"queued"}"#, ErrorKind::Decode),
        (r#"{"status":"OK"}"#, ErrorKind::Decode),
        (r#"["OK"]"#, ErrorKind::Decode),
    ];
    for (body, kind) in cases {
        let before = sim.requests().await.len();
        sim.faults().push(Fault::StatusJson(200, body.to_owned()));
        let e = t.send(&msg).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, Dispatch::MaybeSent), "{body}");
        assert_eq!(e.provider(), Some("smsru"));
        assert_eq!(sim.requests().await.len(), before + 1, "not repeated: {body}");
    }
    // A plain refusal of the number stays what it is: nothing was queued.
    sim.faults().push(Fault::StatusJson(
        200,
        r#"{"status":"OK","status_code":100,"sms":{"79255070602":{"status":"ERROR","status_code":207}}}"#.to_owned(),
    ));
    let e = t.send(&msg).await.unwrap_err();
    assert_eq!((e.provider_code(), e.dispatch()), (Some("207"), Dispatch::NotSent));
}

#[tokio::test]
async fn a_status_report_carries_the_cost_and_sms_rus_words_for_a_failure() {
    let sim = Simulator::start().await;
    sim.set_outcome("74993221627", 104);
    let t = SmsRuTransport::new(config(&sim)).unwrap();
    let ok = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    settle(&sim).await;
    let rep = t.status(ok.provider_id()).await.unwrap();
    assert_eq!(rep.status, DeliveryStatus::Delivered);
    let price = rep.price.expect("SMS.ru says what it cost");
    assert_eq!((price.currency(), price.to_micros()), ("RUB", Some(3_500_000)));
    assert_eq!((rep.error_code, rep.error_message), (None, None));

    let late = t.send(&Message::sms(n("+74993221627"), "x")).await.unwrap();
    settle(&sim).await;
    let rep = t.status(late.provider_id()).await.unwrap();
    assert_eq!(
        (rep.status, rep.error_code.as_deref()),
        (DeliveryStatus::Expired, Some("104"))
    );
    assert_eq!(
        rep.error_message.as_deref(),
        Some("Не может быть доставлено: время жизни истекло")
    );
}

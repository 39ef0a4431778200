//! Sending through the client and the transport, status lookups, cost and balance, and what the
//! simulator refuses and answers as SMS.ru does.

use crate::sim::{SIM_API_ID, SIM_PRICE_PER_PART, Simulator};
use crate::{SendRequest, SmsRuTransport};
use switchboard_core::simulated::Simulated;
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Message, Recipient, Transport};

use super::{SECRET, client, field, form_of, n, transport};

#[tokio::test]
async fn send_one_through_the_transport() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let r = t
        .send(&Message::sms(n("+79255070602"), "Заказ 17 отправлен"))
        .await
        .unwrap();
    assert_eq!(r.status, DeliveryStatus::Queued);
    assert_eq!(r.transport, "smsru");
    let id = r.provider_id().to_owned();
    assert!(id.len() == 15 && id.as_bytes()[6] == b'-', "{id}");
    let m = sim.message(&id).unwrap();
    assert_eq!(
        (m.to.as_str(), m.status_code, m.from.as_str()),
        ("79255070602", 100, "switchboard")
    );
    assert_eq!(sim.balance_kopecks(), 100_000 - SIM_PRICE_PER_PART);
    assert_eq!(r.raw["sms"]["sms_id"], id.as_str());

    // One POST with the credentials and json=1 in the body, nothing secret in the URL.
    let reqs = sim.requests().await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method.as_str(), "POST");
    assert_eq!(reqs[0].url.path(), "/sms/send");
    assert!(reqs[0].url.query().is_none());
    let f = form_of(&reqs[0]);
    assert_eq!(field(&f, "api_id"), Some(SIM_API_ID));
    assert_eq!(field(&f, "json"), Some("1"));
    assert_eq!(field(&f, "to"), Some("79255070602"));
    assert_eq!(field(&f, "from"), Some("switchboard"));
}

#[tokio::test]
async fn send_a_list_with_a_refused_number() {
    let sim = Simulator::start().await;
    sim.refuse_number("+74993221627", 207);
    let c = client(&sim);
    let reply = c
        .send(&SendRequest::to_many(
            [n("+79255070602"), n("+74993221627")],
            "hello world",
        ))
        .await
        .unwrap();
    assert!(reply.envelope.is_ok());
    let ok = reply.result_for(&n("+79255070602")).unwrap();
    assert!(ok.is_ok());
    let bad = reply.result_for(&n("+74993221627")).unwrap();
    let e = bad.error().unwrap();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Rejected, Dispatch::NotSent));
    assert_eq!(e.provider_code(), Some("207"));
    assert_eq!(reply.balance.unwrap().to_minor_units(), Some(sim.balance_kopecks()));
    assert_eq!(sim.sent().len(), 1);
}

#[tokio::test]
async fn per_recipient_texts_go_in_one_request() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let reply = c
        .send(&SendRequest::per_recipient([
            (n("+79255070602"), "Привет 1".to_owned()),
            (n("+74993221627"), "Привет 2".to_owned()),
        ]))
        .await
        .unwrap();
    assert_eq!(reply.sms.len(), 2);
    let f = form_of(&sim.requests().await[0]);
    assert_eq!(field(&f, "to[79255070602]"), Some("Привет 1"));
    assert_eq!(field(&f, "msg"), None);
    let texts: Vec<String> = sim.sent().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, vec!["Привет 1", "Привет 2"]);
}

#[tokio::test]
async fn send_many_packs_requests_and_answers_in_order() {
    let sim = Simulator::start().await;
    sim.refuse_number("+79255070603", 209);
    let t = transport(&sim);
    let msgs = vec![
        Message::sms(n("+79255070601"), "same"),
        Message::sms(n("+79255070602"), "same"),
        Message::to(Recipient::email("a@b.co").unwrap(), "not an sms"),
        Message::sms(n("+79255070603"), "other"),
        Message::sms(n("+79255070601"), "again, same number"),
        Message::sms(n("+79255070604"), "   "),
    ];
    let out = t.send_many(&msgs).await;
    assert_eq!(out.len(), 6);
    assert!(out[0].is_ok() && out[1].is_ok() && out[4].is_ok());
    let e = out[2].as_ref().unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    assert_eq!(out[3].as_ref().unwrap_err().provider_code(), Some("209"));
    assert_eq!(out[5].as_ref().unwrap_err().kind(), ErrorKind::InvalidInput);
    // Numbers 1, 2, 3 in one request; number 1's second message in another.
    let sends = sim.requests().await;
    assert_eq!(sends.len(), 2);
    assert_eq!(field(&form_of(&sends[0]), "to[79255070601]"), Some("same"));
    assert_eq!(field(&form_of(&sends[1]), "to"), Some("79255070601"));
    let ids: Vec<&str> = [0, 1, 4]
        .iter()
        .map(|i| out[*i].as_ref().unwrap().provider_id())
        .collect();
    assert_eq!(sim.message(ids[2]).unwrap().text, "again, same number");
    assert_eq!(sim.message(ids[0]).unwrap().to, "79255070601");

    // 150 messages with one text: two requests, `to=` lists of 100 and 50.
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let many: Vec<Message> = (0..150)
        .map(|i| Message::sms(n(&format!("+7925507{i:04}")), "promo"))
        .collect();
    let out = t.send_many(&many).await;
    assert!(out.iter().all(|r| r.is_ok()));
    let sends = sim.requests().await;
    assert_eq!(sends.len(), 2);
    let first = form_of(&sends[0]);
    assert_eq!(field(&first, "to").unwrap().split(',').count(), 100);
    assert_eq!(field(&first, "msg"), Some("promo"));
}

#[tokio::test]
async fn a_failed_batch_fails_every_message_with_the_same_facts() {
    let sim = Simulator::start().await;
    sim.refuse_next(500);
    let t = transport(&sim);
    let out = t
        .send_many(&[
            Message::sms(n("+79255070601"), "a"),
            Message::sms(n("+79255070602"), "b"),
        ])
        .await;
    for r in &out {
        let e = r.as_ref().unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch(), e.provider_code()),
            (ErrorKind::Unavailable, Dispatch::NotSent, Some("500"))
        );
    }
}

#[tokio::test]
async fn statuses_move_and_map() {
    let sim = Simulator::start().await;
    sim.set_outcome("+79255070609", 104);
    let t = transport(&sim);
    let a = t.send(&Message::sms(n("+79255070602"), "a")).await.unwrap();
    let b = t.send(&Message::sms(n("+79255070609"), "b")).await.unwrap();
    let seen = |code: i32| code.to_string();
    let code = |id: &str| sim.message(id).unwrap().status_code;
    assert_eq!(t.status(a.provider_id()).await.unwrap().raw_status, seen(100));
    sim.advance().await;
    assert_eq!(code(a.provider_id()), 101);
    assert_eq!(t.status(a.provider_id()).await.unwrap().status, DeliveryStatus::Queued);
    sim.advance().await;
    assert_eq!(code(a.provider_id()), 102);
    assert_eq!(t.status(a.provider_id()).await.unwrap().status, DeliveryStatus::Sent);
    sim.advance().await;
    assert_eq!(code(a.provider_id()), 103);
    let r = t.status(a.provider_id()).await.unwrap();
    assert_eq!((r.status, r.error_code), (DeliveryStatus::Delivered, None));
    assert_eq!(code(b.provider_id()), 104);
    let r = t.status(b.provider_id()).await.unwrap();
    assert_eq!(
        (r.status, r.error_code.as_deref()),
        (DeliveryStatus::Expired, Some("104"))
    );
    sim.advance().await;
    assert_eq!(
        sim.message(b.provider_id()).unwrap().history,
        vec![100, 101, 102, 104],
        "final states do not move"
    );

    let e = t.status("000000-99999999").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = t.status("1&api_id=x").await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));

    // The client asks about several ids at once.
    let c = client(&sim);
    let st = c.status(&[a.provider_id(), b.provider_id(), "000000-1"]).await.unwrap();
    assert_eq!(st.sms[a.provider_id()].status_code, 103);
    assert!(!st.sms["000000-1"].is_found());
}

#[tokio::test]
async fn cost_balance_limits_senders() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let long = "x".repeat(200); // two GSM-7 parts
    let cost = c
        .cost(&SendRequest::per_recipient([
            (n("+79255070601"), long.clone()),
            (n("+79255070602"), "short".to_owned()),
        ]))
        .await
        .unwrap();
    assert_eq!(cost.cost_for(&n("+79255070601")).unwrap().sms, Some(2));
    assert_eq!(
        cost.total_cost.as_ref().unwrap().to_minor_units(),
        Some(3 * SIM_PRICE_PER_PART)
    );
    assert_eq!(cost.total_sms, Some(3));
    assert!(sim.sent().is_empty(), "cost sends nothing");
    assert_eq!(sim.balance_kopecks(), 100_000);

    sim.set_balance_kopecks(123_456);
    let b = c.balance().await.unwrap();
    assert_eq!(b.balance.to_minor_units(), Some(123_456));
    assert_eq!(c.limit().await.unwrap().total_limit, Some(5000));
    assert_eq!(c.free().await.unwrap().total_free, Some(5));
    sim.approve_sender("Shop");
    assert_eq!(c.senders().await.unwrap().senders, vec!["switchboard", "Shop"]);
    c.auth_check().await.unwrap();
}

#[tokio::test]
async fn the_simulator_validates_like_sms_ru() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let e = t
        .send(&Message::sms(n("+79255070602"), "x").with_from("Unapproved"))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Rejected, Some("204")));
    let e = t
        .send(&Message::sms(n("+79255070602"), "z".repeat(153 * 8 + 1)))
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::InvalidInput, Some("205")));
    sim.set_balance_kopecks(100);
    let e = t.send(&Message::sms(n("+79255070602"), "x")).await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::Rejected, Some("201")));

    // test=1: answered like a send, nothing charged.
    let test = SmsRuTransport::from_dsn_str(&format!("{}&test=1", sim.dsn())).unwrap();
    let r = test.send(&Message::sms(n("+79255070602"), "x")).await.unwrap();
    assert!(sim.message(r.provider_id()).unwrap().test);
    assert_eq!(sim.balance_kopecks(), 100);
}

#[tokio::test]
async fn raw_protocol_quirks() {
    let sim = Simulator::start().await;
    let http = reqwest::Client::new();
    let base = sim.uri();
    // GET works as well as POST (the official examples use GET).
    let v: serde_json::Value = http
        .get(format!(
            "{base}/sms/send?api_id={SIM_API_ID}&to=79255070602,74993221627&msg=hello+world&json=1"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "OK");
    assert_eq!(v["sms"]["74993221627"]["status_code"], 100);
    // Without json=1, the legacy text answer.
    let text = http
        .post(format!("{base}/my/balance"))
        .form(&[("api_id", SIM_API_ID)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.starts_with("100\n"), "{text}");
    // Always HTTP 200, even for errors.
    let r = http
        .post(format!("{base}/no/such"))
        .form(&[("api_id", SIM_API_ID), ("json", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (v["status"].as_str(), v["status_code"].as_i64()),
        (Some("ERROR"), Some(211))
    );
    // A text that is not UTF-8: 212.
    let r = http
        .post(format!("{base}/sms/send"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("api_id={SIM_API_ID}&json=1&to=79255070602&msg=%FF%FE"))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status_code"], 212);
}

#[tokio::test]
async fn nothing_secret_or_personal_in_debug() {
    let sim = Simulator::start().await;
    let t = transport(&sim);
    let r = t
        .client()
        .send(&SendRequest::single(n("+79255070602"), "secret text"))
        .await
        .unwrap();
    let shown = format!("{t:?} {r:?} {:?}", sim.sent());
    for needle in [SIM_API_ID, SECRET, "79255070602", "secret text"] {
        assert!(!shown.contains(needle), "{needle} in {shown}");
    }
}

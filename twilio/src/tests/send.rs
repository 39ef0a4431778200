//! Sending through the client and the transport, the message lifecycle, lists, cancel, redact and
//! delete.

use crate::sim::{Outcome, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_FROM, SIM_MESSAGING_SERVICE_SID, Simulator};
use crate::{CreateMessage, ListMessages, MessageStatus, TwilioClient, TwilioTransport};
use base64::Engine;
use switchboard_core::simulated::Simulated;
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, ExposeSecret, Message, Transport};

use super::{TO, config, field, form_of, n, settle};

#[tokio::test]
async fn send_through_the_transport() {
    let sim = Simulator::start().await;
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let r = t.send(&Message::sms(n(TO), "Your order has shipped")).await.unwrap();
    assert_eq!(r.status, DeliveryStatus::Queued);
    assert!(r.provider_id().starts_with("SM") && r.provider_id().len() == 34);
    assert_eq!(r.raw["status"], "queued");
    assert_eq!(r.raw["num_segments"], "1");
    assert_eq!(r.raw["price"], serde_json::Value::Null);
    assert!(r.raw["date_created"].as_str().unwrap().ends_with("+0000"));

    let reqs = sim.requests().await;
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method.as_str(), "POST");
    assert_eq!(
        reqs[0].url.path(),
        format!("/2010-04-01/Accounts/{SIM_ACCOUNT_SID}/Messages.json")
    );
    let auth = reqs[0].headers.get("authorization").unwrap().to_str().unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{SIM_ACCOUNT_SID}:{SIM_AUTH_TOKEN}"));
    assert_eq!(auth, format!("Basic {expected}"));
    let f = form_of(&reqs[0]);
    assert_eq!(field(&f, "To"), Some(TO));
    assert_eq!(field(&f, "From"), Some(SIM_FROM));
    assert_eq!(field(&f, "Body"), Some("Your order has shipped"));

    let m = sim.message(r.provider_id()).unwrap();
    assert_eq!((m.status.as_str(), m.to.as_str()), ("queued", TO));

    // Only phone recipients, refused before anything is sent.
    let e = t.send(&Message::chat("42", "hi")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    assert_eq!(sim.requests().await.len(), 1);
}

#[tokio::test]
async fn messaging_service_messages_start_accepted() {
    let sim = Simulator::start().await;
    let dsn = format!(
        "twilio://{SIM_ACCOUNT_SID}:{SIM_AUTH_TOKEN}@{}?messaging_service={SIM_MESSAGING_SERVICE_SID}",
        sim.uri().trim_start_matches("http://")
    );
    let t = TwilioTransport::from_dsn_str(&dsn).unwrap();
    let r = t.send(&Message::sms(n(TO), "hi")).await.unwrap();
    assert_eq!(r.status, DeliveryStatus::Accepted);
    let f = form_of(&sim.requests().await[0]);
    assert_eq!(field(&f, "MessagingServiceSid"), Some(SIM_MESSAGING_SERVICE_SID));
    assert_eq!(field(&f, "From"), None);
    assert_eq!(r.raw["from"], serde_json::Value::Null);
    sim.advance().await;
    assert_eq!(sim.message(r.provider_id()).unwrap().status, "queued");
    let m = t.client().fetch_message(r.provider_id()).await.unwrap();
    assert_eq!(m.from.as_deref(), Some(SIM_FROM), "the service picked a sender");
    assert_eq!(m.messaging_service_sid.as_deref(), Some(SIM_MESSAGING_SERVICE_SID));
}

#[tokio::test]
async fn status_lifecycle_and_outcomes() {
    let sim = Simulator::start().await;
    sim.set_outcome("+14155550001", Outcome::Undelivered(30003));
    sim.set_outcome("+14155550002", Outcome::Failed(30008));
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let ok = t.send(&Message::sms(n(TO), "a")).await.unwrap();
    let mut seen: Vec<(String, DeliveryStatus)> = Vec::new();
    // One status a step, until a step moves it no more.
    for _ in 0..5 {
        sim.advance().await;
        let s = sim.message(ok.provider_id()).unwrap().status;
        if seen.last().is_some_and(|(last, _)| *last == s) {
            break;
        }
        let rep = t.status(ok.provider_id()).await.unwrap();
        assert_eq!(rep.raw_status, s);
        seen.push((s, rep.status));
    }
    assert_eq!(
        seen,
        vec![
            ("sending".to_owned(), DeliveryStatus::Queued),
            ("sent".to_owned(), DeliveryStatus::Sent),
            ("delivered".to_owned(), DeliveryStatus::Delivered),
        ]
    );
    let m = t.client().fetch_message(ok.provider_id()).await.unwrap();
    assert_eq!(m.price.as_deref(), Some("-0.00790"));
    assert!(m.sent_at().is_some());

    let und = t.send(&Message::sms(n("+14155550001"), "b")).await.unwrap();
    settle(&sim).await;
    assert_eq!(sim.message(und.provider_id()).unwrap().status, "undelivered");
    let rep = t.status(und.provider_id()).await.unwrap();
    assert_eq!(
        (rep.status, rep.error_code.as_deref()),
        (DeliveryStatus::Failed, Some("30003"))
    );
    let failed = t.send(&Message::sms(n("+14155550002"), "c")).await.unwrap();
    settle(&sim).await;
    assert_eq!(sim.message(failed.provider_id()).unwrap().status, "failed");
    assert_eq!(
        sim.message(failed.provider_id()).unwrap().history,
        vec!["queued", "failed"]
    );
    let rep = t.status(failed.provider_id()).await.unwrap();
    assert_eq!(
        (rep.status, rep.error_code.as_deref()),
        (DeliveryStatus::Failed, Some("30008"))
    );

    let e = t.status("SM00000000000000000000000000000000").await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::NotFound, Some("20404")));
    let e = t.status("../Accounts").await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
}

#[tokio::test]
async fn list_pages_cancel_redact_delete() {
    let sim = Simulator::start().await;
    let c = TwilioClient::new(config(&sim)).unwrap();
    let mut sids = Vec::new();
    for i in 0..5 {
        sids.push(
            c.create_message(&CreateMessage::new(TO).body(format!("m{i}")))
                .await
                .unwrap()
                .sid,
        );
    }
    c.create_message(&CreateMessage::new("+14155550009").body("other"))
        .await
        .unwrap();
    let filter = ListMessages::new().to(TO).page_size(2);
    let mut page = c.list_messages(&filter).await.unwrap();
    let mut listed = Vec::new();
    loop {
        listed.extend(page.messages.iter().map(|m| m.sid.clone()));
        match c.next_page(&page).await.unwrap() {
            Some(p) => page = p,
            None => break,
        }
    }
    sids.reverse(); // newest first
    assert_eq!(listed, sids);

    let redacted = c.redact_message(&sids[0]).await.unwrap();
    assert_eq!(redacted.body.as_deref(), Some(""));
    let e = c.cancel_message(&sids[0]).await.unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::InvalidInput,
        "only scheduled messages can be canceled"
    );

    let scheduled = c
        .create_message(
            &CreateMessage::new(TO)
                .messaging_service_sid(SIM_MESSAGING_SERVICE_SID)
                .body("later")
                .send_at(chrono::Utc::now() + chrono::Duration::hours(2)),
        )
        .await
        .unwrap();
    assert_eq!(scheduled.message_status(), MessageStatus::Scheduled);
    let canceled = c.cancel_message(&scheduled.sid).await.unwrap();
    assert_eq!(canceled.message_status(), MessageStatus::Canceled);
    assert_eq!(canceled.message_status().delivery_status(), DeliveryStatus::Failed);

    c.delete_message(&sids[1]).await.unwrap();
    assert_eq!(c.fetch_message(&sids[1]).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        c.delete_message(&sids[1]).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn nothing_secret_or_personal_in_debug() {
    let sim = Simulator::start().await;
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let m = t
        .client()
        .create_message(&CreateMessage::new(TO).body("secret text"))
        .await
        .unwrap();
    let page = t
        .client()
        .list_messages(&ListMessages::new().to(TO).page_size(1))
        .await
        .unwrap();
    let shown = format!("{t:?} {m:?} {page:?} {:?} {:?}", sim.sent(), sim.auth_token());
    for needle in [SIM_AUTH_TOKEN, "4155552671", "secret text"] {
        assert!(!shown.contains(needle), "{needle} in {shown}");
    }
    assert_eq!(sim.auth_token().expose_secret(), SIM_AUTH_TOKEN);
}

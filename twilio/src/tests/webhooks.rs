//! Signed webhooks: status callbacks and incoming messages end to end, every refusal, proxies and
//! default ports, and Twilio's published signature vector.

use crate::sim::{Outcome, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, SIM_FROM, Simulator};
use crate::webhook::{SIGNATURE_HEADER, signature};
use crate::{MessageStatus, TwilioTransport};
use switchboard_core::simulated::Simulated;
use switchboard_core::testkit::WebhookSink;
use switchboard_core::{DeliveryStatus, ErrorKind, Event, Message, Recipient, Transport, WebhookRequest};

use super::{TO, config, field, form_of, n, received, settle, with_callback};

#[tokio::test]
async fn signed_status_callbacks_end_to_end() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    sim.set_outcome("+14155550001", Outcome::Undelivered(30005));
    let t = with_callback(&sim, &sink);
    let r = t.send(&Message::sms(n(TO), "a")).await.unwrap();
    assert_eq!(
        field(&form_of(&sim.requests().await[0]), "StatusCallback").map(|u| u.ends_with("?acct=1")),
        Some(true)
    );
    settle(&sim).await;
    let got = received(&sink, 3).await;
    assert_eq!(got.len(), 3, "no callback for the initial status");
    let mut statuses = Vec::new();
    for req in &got {
        assert!(req.header(SIGNATURE_HEADER).is_some());
        match &t.handle_webhook(req).await.unwrap().events[..] {
            [Event::Delivery(rep)] => {
                assert_eq!(rep.provider_id, r.provider_id());
                assert_eq!(rep.recipient, Some(Recipient::Phone(n(TO))));
                assert_eq!(rep.raw["AccountSid"], SIM_ACCOUNT_SID);
                statuses.push(rep.raw_status.clone());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(statuses, vec!["sending", "sent", "delivered"]);
    assert_eq!(sim.acknowledged(), vec![true; 3], "the host answered 200 to each");

    let u = t.send(&Message::sms(n("+14155550001"), "b")).await.unwrap();
    settle(&sim).await;
    assert_eq!(sim.message(u.provider_id()).unwrap().status, "undelivered");
    let got = received(&sink, 6).await;
    match &t.handle_webhook(&got[5]).await.unwrap().events[..] {
        [Event::Delivery(rep)] => {
            assert_eq!(rep.provider_id, u.provider_id());
            assert_eq!(
                (rep.status, rep.raw_status.as_str()),
                (DeliveryStatus::Failed, "undelivered")
            );
            assert_eq!(rep.error_code.as_deref(), Some("30005"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn inbound_messages() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::answering(200, crate::EMPTY_TWIML).await;
    let t = TwilioTransport::new(config(&sim)).unwrap();
    let (sid, status) = sim
        .receive_inbound(&format!("{}/hooks/twilio/sms", sink.uri()), TO, SIM_FROM, "STOP")
        .await;
    assert_eq!(status, Some(200));
    let got = received(&sink, 1).await;
    match &t.handle_webhook(&got[0]).await.unwrap().events[..] {
        [Event::Inbound(m)] => {
            assert_eq!(
                (m.provider_id.as_str(), m.from.as_str(), m.text.as_str()),
                (sid.as_str(), TO, "STOP")
            );
            assert_eq!(m.to.as_deref(), Some(SIM_FROM));
            assert_eq!(m.raw["SmsStatus"], "received");
        }
        other => panic!("{other:?}"),
    }
    let m = t.client().fetch_message(&sid).await.unwrap();
    assert_eq!(
        (m.message_status(), m.direction.as_deref()),
        (MessageStatus::Received, Some("inbound"))
    );
}

#[tokio::test]
async fn webhook_refusals() {
    let sim = Simulator::start().await;
    let sink = WebhookSink::start().await;
    let t = with_callback(&sim, &sink);
    let r = t.send(&Message::sms(n(TO), "a")).await.unwrap();
    sim.advance().await;
    assert_eq!(sim.message(r.provider_id()).unwrap().status, "sending");
    let good = received(&sink, 1).await.remove(0);
    assert_eq!(t.handle_webhook(&good).await.unwrap().events.len(), 1);

    let mut unsigned = good.clone();
    unsigned.headers.remove(SIGNATURE_HEADER);
    assert_eq!(t.handle_webhook(&unsigned).await.unwrap_err().kind(), ErrorKind::Auth);

    let mut wrong = good.clone();
    wrong
        .headers
        .insert(SIGNATURE_HEADER, "GvWf1cFY/Q7PnoempGyD5oXAezc=".parse().unwrap());
    assert_eq!(t.handle_webhook(&wrong).await.unwrap_err().kind(), ErrorKind::Auth);

    let mut tampered = good.clone();
    let body = String::from_utf8(tampered.body.to_vec())
        .unwrap()
        .replace("sending", "delivered");
    tampered.body = body.into();
    assert_eq!(t.handle_webhook(&tampered).await.unwrap_err().kind(), ErrorKind::Auth);

    let mut extra_param = good.clone();
    let body = format!("{}&Injected=1", String::from_utf8(extra_param.body.to_vec()).unwrap());
    extra_param.body = body.into();
    assert_eq!(
        t.handle_webhook(&extra_param).await.unwrap_err().kind(),
        ErrorKind::Auth
    );

    let mut other_query = good.clone();
    other_query.url = other_query.url.replace("acct=1", "acct=2");
    assert_eq!(
        t.handle_webhook(&other_query).await.unwrap_err().kind(),
        ErrorKind::Auth
    );

    // Another account's token does not verify this account's webhooks.
    let mut other = config(&sim);
    other.auth_token = "0000000000000000000000000000dead".to_owned().into();
    let other = TwilioTransport::new(other).unwrap();
    let e = other.handle_webhook(&good).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(!e.to_string().contains(SIM_AUTH_TOKEN));

    // Correctly signed but malformed: an input error, never a panic.
    let url = "https://shop.example/hooks/twilio";
    let token = sim.auth_token();
    for params in [
        vec![("MessageStatus", "sent")],
        vec![("SmsStatus", "received"), ("Body", "x")],
    ] {
        let p: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&p)
            .finish();
        let req = WebhookRequest::post(url, body).with_header(SIGNATURE_HEADER, &signature(&token, url, &p));
        assert_eq!(
            t.handle_webhook(&req).await.unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{params:?}"
        );
    }
    // Garbage bodies with garbage signatures.
    for body in [&b"\xff\xfe"[..], b"=&=&&", b"{\"MessageSid\":1}", b""] {
        let req = WebhookRequest::post(url, body.to_vec()).with_header(SIGNATURE_HEADER, "AAAA");
        assert_eq!(t.handle_webhook(&req).await.unwrap_err().kind(), ErrorKind::Auth);
    }
    let huge = WebhookRequest::post(url, vec![b'a'; 2 * 1024 * 1024]).with_header(SIGNATURE_HEADER, "AAAA");
    assert_eq!(
        t.handle_webhook(&huge).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    // A JSON body whose hash does not match the signed bodySHA256.
    let json_url = format!("{url}?bodySHA256={}", "0".repeat(64));
    let sig = signature(&token, &json_url, &[]);
    let req = WebhookRequest::post(json_url, r#"{"MessageSid":"SM1"}"#).with_header(SIGNATURE_HEADER, &sig);
    assert_eq!(t.handle_webhook(&req).await.unwrap_err().kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn webhooks_behind_a_proxy_and_on_default_ports() {
    let sim = Simulator::start().await;
    let token = sim.auth_token();
    let p = vec![
        ("MessageSid".to_owned(), "SM1".to_owned()),
        ("MessageStatus".to_owned(), "delivered".to_owned()),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&p)
        .finish();
    // Twilio called the public URL; the host behind a TLS-terminating proxy sees another one.
    let public = "https://hooks.example.com/twilio/status?x=1";
    let sig = signature(&token, public, &p);
    let seen = WebhookRequest::post("http://10.0.0.5:8080/twilio/status?x=1", body.clone())
        .with_header(SIGNATURE_HEADER, &sig);
    let plain = TwilioTransport::new(config(&sim)).unwrap();
    assert_eq!(plain.handle_webhook(&seen).await.unwrap_err().kind(), ErrorKind::Auth);
    let mut c = config(&sim);
    c.webhook_origin = Some("https://hooks.example.com".into());
    let proxied = TwilioTransport::new(c).unwrap();
    assert_eq!(proxied.handle_webhook(&seen).await.unwrap().events.len(), 1);

    // Signed with the default port, received without it (and the other way round).
    let with_port = "https://hooks.example.com:443/twilio/status?x=1";
    let req =
        WebhookRequest::post(public, body.clone()).with_header(SIGNATURE_HEADER, &signature(&token, with_port, &p));
    assert_eq!(plain.handle_webhook(&req).await.unwrap().events.len(), 1);
    let req = WebhookRequest::post(with_port, body).with_header(SIGNATURE_HEADER, &sig);
    assert_eq!(plain.handle_webhook(&req).await.unwrap().events.len(), 1);
}

#[tokio::test]
async fn twilios_published_signature_vector() {
    // https://www.twilio.com/docs/usage/security: auth token 12345.
    let p: Vec<(String, String)> = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675310"),
        ("Digits", "1234"),
        ("From", "+14158675310"),
        ("To", "+18005551212"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let token = "12345".to_owned().into();
    assert_eq!(signature(&token, url, &p), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
}

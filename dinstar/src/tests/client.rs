//! Every endpoint of the HTTP API against the simulator, every documented `error_code`, the
//! validations that stop a bad batch before anything is sent, and HTTP/connection faults.

use std::time::Duration;

use crate::model::{CallForwardCondition, CdrQuery, DeliverStatusQuery, IncomingSmsQuery, SmsResultQuery};
use crate::sim::Simulator;
use crate::tests::{client, config, number, numbers, sms};
use crate::{
    BatchRecipient, DinstarClient, DinstarConfig, InfoType, PortAction, RegState, SendSmsRequest, SmsBatch,
    SmsEncoding, SmsParam, SmsStatus, UssdPortStatus,
};
use serde_json::json;
use switchboard_core::testkit::{ConnectionFault, Fault, connection_fault};
use switchboard_core::{Dispatch, ErrorKind};

#[tokio::test]
async fn a_batch_of_300_takes_three_requests_with_unique_ids() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let out = c
        .send_batch(&SmsBatch::new("Your parcel is ready").to_all(numbers(300)))
        .await
        .unwrap();
    assert!(out.all_accepted());
    assert_eq!(out.requests, 3);
    assert_eq!(sim.stats().authorized_path("/api/send_sms"), 3);
    let sent = sms(&sim);
    assert_eq!(sent.len(), 300);
    let mut ids: Vec<u64> = sent.iter().map(|s| s.user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 300, "every recipient has its own user_id");
    // The receipts carry the same ids, in order, and the numbers went out as international digits.
    for (s, sub) in sent.iter().zip(&out.submissions) {
        assert_eq!(s.user_id, u64::from(sub.user_id));
        assert_eq!(s.number, sub.number.digits());
        assert_eq!(s.encoding, "gsm-7bit");
    }
    // Three tasks: 128 + 128 + 44.
    let mut per_task = std::collections::BTreeMap::new();
    for s in &sent {
        *per_task.entry(s.task_id).or_insert(0) += 1;
    }
    assert_eq!(per_task.values().copied().collect::<Vec<_>>(), vec![128, 128, 44]);
    let task_ids: Vec<Option<u64>> = out
        .submissions
        .iter()
        .map(|s| s.outcome.as_ref().unwrap().task_id)
        .collect();
    assert_eq!(task_ids[0], task_ids[127]);
    assert_ne!(task_ids[127], task_ids[128]);
}

#[tokio::test]
async fn no_sms_body_goes_out_unauthenticated() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.send_batch(&SmsBatch::new("Hello").to(number(0))).await.unwrap();
    let reqs = sim.requests().await;
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].url.path(), "/api/query_sms_in_queue");
    assert!(reqs[0].headers.get("authorization").is_none());
    assert!(reqs[0].body.is_empty());
    assert_eq!(reqs[1].url.path(), "/api/send_sms");
    assert!(reqs[1].headers.get("authorization").is_some());
}

#[tokio::test]
async fn encoding_is_chosen_by_the_text_unless_forced() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.send_batch(&SmsBatch::new("Ваш заказ доставлен").to(number(0)))
        .await
        .unwrap();
    c.send_batch(&SmsBatch::new("Price: 10€ {promo}").to(number(1)))
        .await
        .unwrap();
    c.send_batch(&SmsBatch::new("plain").to(number(2)).encoding(SmsEncoding::Unicode))
        .await
        .unwrap();
    // A template whose parameters need unicode makes the whole request unicode.
    c.send_batch(&SmsBatch::new("Hi #param#").to_with_params(number(3), ["Çelë"]))
        .await
        .unwrap();
    let enc: Vec<String> = sms(&sim).into_iter().map(|s| s.encoding).collect();
    assert_eq!(enc, ["unicode", "gsm-7bit", "unicode", "unicode"]);
    let e = c
        .send_batch(&SmsBatch::new("مرحبا").to(number(0)).encoding(SmsEncoding::Gsm7Bit))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("unicode"), "{e}");
}

#[tokio::test]
async fn templates_ports_and_status_reports_reach_the_gateway() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let out = c
        .send_batch(
            &SmsBatch::new("Dear #param#, order #param# is ready")
                .to_with_params(number(0), ["Ana", "A-17"])
                .to_with_params(number(1), ["Besa \"B\"\n", "A-18"])
                .ports([2, 3])
                .request_status_report(false),
        )
        .await
        .unwrap();
    assert!(out.all_accepted());
    let sent = sms(&sim);
    assert_eq!(sent[0].text, "Dear Ana, order A-17 is ready");
    assert_eq!(
        sent[1].text, "Dear Besa \"B\"\n, order A-18 is ready",
        "JSON escaping is right"
    );
    assert!(sent.iter().all(|s| [2, 3].contains(&s.port)));
    assert!(sent.iter().all(|s| !s.request_status_report));
    // The wire keeps port/encoding at the top level, user_id an int.
    let reqs = sim.requests().await;
    let body: serde_json::Value = serde_json::from_slice(&reqs.last().unwrap().body).unwrap();
    assert_eq!(body["port"], json!([2, 3]));
    assert!(body["param"][0]["user_id"].is_u64());
    assert!(body["param"][0].get("port").is_none());
}

#[tokio::test]
async fn invalid_batches_are_refused_before_anything_is_sent() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let cases = [
        SmsBatch::new("nobody"),
        SmsBatch::new("").to(number(0)),
        SmsBatch::new("x".repeat(1501)).to(number(0)),
        SmsBatch::new("я".repeat(751)).to(number(0)),
        SmsBatch::new("Hi #param#").to(number(0)),
        SmsBatch::new("Hi").to_with_params(number(0), ["extra"]),
        SmsBatch::new("#param#").to_with_params(number(0), ["y".repeat(1501)]),
        SmsBatch::new("Hi").to(number(0)).ports([32]),
    ];
    for b in &cases {
        let e = c.send_batch(b).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::InvalidInput, Dispatch::NotSent),
            "{b:?}: {e}"
        );
    }
    // 1500 bytes exactly is fine.
    c.send_batch(&SmsBatch::new("x".repeat(1500)).to(number(0)))
        .await
        .unwrap();
    assert_eq!(sim.stats().authorized_path("/api/send_sms"), 1);
    // The raw call checks its limits too.
    let too_many = SendSmsRequest {
        text: "x".into(),
        param: (0..129)
            .map(|i| SmsParam {
                number: format!("35569{i:07}"),
                text_param: vec![],
                user_id: i,
            })
            .collect(),
        port: None,
        encoding: None,
        request_status_report: None,
    };
    assert_eq!(c.send_sms(&too_many).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(sim.stats().authorized_path("/api/send_sms"), 1);
}

#[tokio::test]
async fn every_send_error_code_maps_with_the_right_dispatch() {
    let sim = Simulator::start().await;
    let c = DinstarClient::new(config(&sim).into_builder().retry_attempts(1).build().unwrap()).unwrap();
    let batch = SmsBatch::new("Hi").to(number(0));
    for (code, kind, dispatch) in [
        (400, ErrorKind::InvalidInput, Dispatch::Sent),
        (413, ErrorKind::InvalidInput, Dispatch::Sent),
        (500, ErrorKind::Unavailable, Dispatch::MaybeSent),
        (550, ErrorKind::Unavailable, Dispatch::NotSent),
        (777, ErrorKind::Rejected, Dispatch::MaybeSent),
    ] {
        sim.fail_next_with_code("/api/send_sms", code);
        let out = c.send_batch(&batch).await.unwrap();
        let e = out.submissions[0].outcome.as_ref().unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{code}: {e}");
        assert_eq!(e.provider_code(), Some(code.to_string().as_str()));
        assert_eq!(e.provider(), Some("dinstar"));
        assert_eq!(e.http_status(), Some(200), "errors come with HTTP 200");
    }
    // 200 on a send is success too (some firmware), 202 the documented one.
    sim.fail_next_with_code("/api/send_sms", 200);
    assert!(c.send_batch(&batch).await.unwrap().all_accepted());
    assert!(c.send_batch(&batch).await.unwrap().all_accepted());
    assert!(sim.sent().len() == 1, "only the real 202 queued something");
}

#[tokio::test]
async fn no_registered_port_is_550_and_not_sent() {
    let sim = Simulator::start().await;
    let c = DinstarClient::new(config(&sim).into_builder().retry_attempts(1).build().unwrap()).unwrap();
    for p in 0..4 {
        sim.set_port_reg(p, "UNREGISTER");
    }
    let out = c.send_batch(&SmsBatch::new("Hi").to(number(0))).await.unwrap();
    let e = out.submissions[0].outcome.as_ref().unwrap_err();
    assert_eq!(
        (e.kind(), e.dispatch(), e.provider_code()),
        (ErrorKind::Unavailable, Dispatch::NotSent, Some("550"))
    );
    assert!(e.is_safe_to_retry(false), "another route may take it");
    sim.set_port_reg(3, "REGISTER_OK");
    c.send_batch(&SmsBatch::new("Hi").to(number(0))).await.unwrap();
    assert_eq!(sms(&sim)[0].port, 3);
}

#[tokio::test]
async fn a_not_sent_550_is_retried_but_a_maybe_sent_500_is_not() {
    let sim = Simulator::start().await;
    let c = DinstarClient::new(
        config(&sim)
            .into_builder()
            .retry_attempts(3)
            .reconcile(false)
            .build()
            .unwrap(),
    )
    .unwrap();
    sim.fail_next_with_code("/api/send_sms", 550);
    assert!(
        c.send_batch(&SmsBatch::new("Hi").to(number(0)))
            .await
            .unwrap()
            .all_accepted()
    );
    assert_eq!(sim.stats().authorized_path("/api/send_sms"), 2);
    sim.fail_next_with_code("/api/send_sms", 500);
    let out = c.send_batch(&SmsBatch::new("Hi").to(number(0))).await.unwrap();
    assert!(!out.all_accepted());
    assert_eq!(
        sim.stats().authorized_path("/api/send_sms"),
        3,
        "a MaybeSent send is never repeated blindly"
    );
}

#[tokio::test]
async fn query_error_codes_and_retries_of_reads() {
    let sim = Simulator::start().await;
    let c = DinstarClient::new(config(&sim).into_builder().retry_attempts(1).build().unwrap()).unwrap();
    for (code, kind) in [
        (400, ErrorKind::InvalidInput),
        (413, ErrorKind::InvalidInput),
        (500, ErrorKind::Unavailable),
    ] {
        sim.fail_next_with_code("/api/query_sms_result", code);
        let e = c.query_sms_result(&SmsResultQuery::default()).await.unwrap_err();
        assert_eq!((e.kind(), e.dispatch()), (kind, Dispatch::Sent), "{code}");
    }
    // Reads are idempotent: a 500 is retried.
    let c = DinstarClient::new(config(&sim).into_builder().retry_attempts(3).build().unwrap()).unwrap();
    sim.fail_next_with_code("/api/query_sms_in_queue", 500);
    assert_eq!(c.query_sms_in_queue().await.unwrap().in_queue, 0);
    // More than 32 numbers is refused here, as the gateway would with 413.
    let q = SmsResultQuery {
        number: Some((0..33).map(|i| i.to_string()).collect()),
        ..SmsResultQuery::default()
    };
    assert_eq!(
        c.query_sms_result(&q).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let q = DeliverStatusQuery {
        number: Some((0..33).map(|i| i.to_string()).collect()),
        ..DeliverStatusQuery::default()
    };
    assert_eq!(
        c.query_sms_deliver_status(&q).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn queue_and_stop_sms() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let out = c.send_batch(&SmsBatch::new("Hi").to_all(numbers(5))).await.unwrap();
    assert_eq!(c.query_sms_in_queue().await.unwrap().in_queue, 5);
    let task = out.submissions[0].outcome.as_ref().unwrap().task_id.unwrap();
    c.stop_sms(task).await.unwrap();
    assert_eq!(c.query_sms_in_queue().await.unwrap().in_queue, 0);
    assert!(sms(&sim).iter().all(|s| s.status == "FAILED"));
    let e = c.stop_sms(task + 100).await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::NotFound, Some("404")));
}

#[tokio::test]
async fn ussd_per_port_outcomes_and_replies() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    sim.set_port_reg(0, "UNREGISTER");
    sim.set_port_busy(1, true);
    sim.set_ussd_answer(2, "Balance 5.00");
    let r = c.send_ussd(&[0, 1, 2], "*125#").await.unwrap();
    assert_eq!(r.error_code, 202);
    let statuses: Vec<UssdPortStatus> = r.result.iter().map(|x| x.port_status()).collect();
    assert_eq!(
        statuses,
        [
            UssdPortStatus::NotRegistered,
            UssdPortStatus::Busy,
            UssdPortStatus::Sent
        ]
    );
    assert_eq!(r.sent_ports(), vec![2]);
    let busy = statuses[1].error(1).unwrap();
    assert_eq!(
        (busy.kind(), busy.dispatch()),
        (ErrorKind::Unavailable, Dispatch::NotSent)
    );
    let replies = c.query_ussd_reply(&[2, 3]).await.unwrap();
    assert_eq!(replies.reply[0].text(), Some("Balance 5.00"));
    assert_eq!(replies.reply[1].text(), None, "nothing yet reads as None");
    c.cancel_ussd(&[2]).await.unwrap();
    assert_eq!(c.query_ussd_reply(&[2]).await.unwrap().reply[0].text(), None);
    // Validation before sending.
    assert_eq!(
        c.send_ussd(&[], "*1#").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(c.send_ussd(&[1], "").await.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(
        c.send_ussd(&[1], &"1".repeat(61)).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    sim.fail_next_with_code("/api/send_ussd", 400);
    assert_eq!(
        c.send_ussd(&[2], "*1#").await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn port_info_and_port_actions() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let all = c.get_port_info(&[], &[]).await.unwrap();
    assert_eq!(all.info.len(), 4);
    let p0 = &all.info[0];
    assert_eq!(p0.reg, Some(RegState::Registered));
    assert_eq!(p0.kind.as_deref(), Some("GSM"));
    assert!(p0.imei.is_some() && p0.iccid.is_some() && p0.signal.is_some() && p0.remain_daily_calltime.is_some());

    c.set_port_info(1, &PortAction::Power(false)).await.unwrap();
    c.set_port_info(2, &PortAction::Block).await.unwrap();
    c.set_port_info(3, &PortAction::Slot(2)).await.unwrap();
    let info = c
        .get_port_info(&[1, 3], &[InfoType::Reg, InfoType::Slot])
        .await
        .unwrap();
    assert_eq!(info.info[0].reg, Some(RegState::PowerOff));
    assert_eq!(info.info[1].slot, Some(2));
    // Sending avoids the powered-off and blocked ports.
    c.send_batch(&SmsBatch::new("Hi").to_all(numbers(6))).await.unwrap();
    assert!(sms(&sim).iter().all(|s| s.port == 0 || s.port == 3));

    c.set_port_info(
        0,
        &PortAction::CallForward {
            condition: CallForwardCondition::Busy,
            number: "355691111111".into(),
        },
    )
    .await
    .unwrap();
    let cf = c.get_port_info(&[0], &[InfoType::CallForward]).await.unwrap();
    assert_eq!(cf.info[0].call_forwarding.as_ref().unwrap()["Busy"], "355691111111");
    c.set_port_info(0, &PortAction::CancelCallForward).await.unwrap();
    c.set_port_info(1, &PortAction::Reset).await.unwrap();
    c.set_port_info(1, &PortAction::Unlock("1234".into())).await.unwrap();
    let e = c.set_port_info(0, &PortAction::Imei("123".into())).await.unwrap_err();
    assert_eq!((e.kind(), e.provider_code()), (ErrorKind::InvalidInput, Some("400")));
    assert_eq!(
        c.set_port_info(32, &PortAction::Block).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn cdr_and_device_status() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    sim.receive_cdr(
        json!({"port": 2, "start_date": "2024-05-01 10:00:00", "answer_date": null, "duration": 0,
        "source_number": "355691", "destination_number": "800", "direction": "ip->gsm", "hangup": "called",
        "gsm_code": 17, "bech": "41"}),
    )
    .await;
    sim.receive_cdr(json!({"port": 1, "start_date": "2024-05-02 10:00:00", "duration": 61}))
        .await;
    let all = c.get_cdr(&CdrQuery::default()).await.unwrap();
    assert_eq!(all.cdr.len(), 2);
    let port2 = c
        .get_cdr(&CdrQuery {
            port: Some(vec![2]),
            ..CdrQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(port2.cdr.len(), 1);
    assert_eq!(port2.cdr[0].gsm_code, Some(17));
    assert_eq!(port2.cdr[0].bcch, Some(json!("41")), "the 'bech' spelling is read too");
    let after = c
        .get_cdr(&CdrQuery {
            time_after: Some("2024-05-01 12:00:00".into()),
            ..CdrQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(after.cdr.len(), 1);

    let st = c.get_status().await.unwrap();
    assert_eq!(st.error_code, None, "answered without an envelope");
    assert_eq!(st.performance.cpu_percent(), Some(12.0));
    assert_eq!(st.performance.memory_total.as_deref(), Some("109448"));
}

#[tokio::test]
async fn incoming_sms_query_is_all_by_default_and_leaves_messages_unread() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    sim.receive_inbound(1, "355691234567", "one").await;
    sim.receive_inbound(2, "355691234568", "two").await;
    let r = c.query_incoming_sms(&IncomingSmsQuery::default()).await.unwrap();
    assert_eq!(r.sms.len(), 2);
    assert_eq!(sim.unread(), 2, "flag=all changes nothing on the gateway");
    let r = c
        .query_incoming_sms(&IncomingSmsQuery {
            incoming_sms_id: 1,
            ports: vec![2],
            ..IncomingSmsQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(r.sms.len(), 1);
    assert_eq!(r.sms[0].text, "two");
}

#[tokio::test]
async fn http_and_connection_faults_keep_their_dispatch_facts() {
    let sim = Simulator::start().await;
    let c = DinstarClient::new(
        config(&sim)
            .into_builder()
            .retry_attempts(1)
            .reconcile(false)
            .build()
            .unwrap(),
    )
    .unwrap();
    c.query_sms_in_queue().await.unwrap();
    let send = SmsBatch::new("Hi").to(number(0));
    let send_err = |out: crate::BatchOutcome| out.submissions.into_iter().next().unwrap().outcome.unwrap_err();

    sim.faults().push(Fault::MalformedJson);
    let e = send_err(c.send_batch(&send).await.unwrap());
    assert_eq!(
        (e.kind(), e.dispatch()),
        (ErrorKind::Decode, Dispatch::MaybeSent),
        "{e}"
    );
    sim.faults().push(Fault::TruncatedJson);
    let e = c.query_sms_in_queue().await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));
    sim.faults().push(Fault::WrongContentType);
    assert_eq!(c.query_sms_in_queue().await.unwrap_err().kind(), ErrorKind::Decode);
    sim.faults().push(Fault::EmptyBody);
    assert_eq!(c.query_sms_in_queue().await.unwrap_err().kind(), ErrorKind::Decode);
    sim.faults().push(Fault::StatusJson(200, r#"{"sn":"x"}"#.into()));
    let e = c.query_sms_in_queue().await.unwrap_err();
    assert!(e.to_string().contains("error_code"), "{e}");
    sim.faults().push(Fault::Status(502));
    let e = send_err(c.send_batch(&send).await.unwrap());
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Unavailable, Dispatch::MaybeSent));
    sim.faults().push(Fault::RateLimited(Some(1)));
    let e = c.query_sms_in_queue().await.unwrap_err();
    assert_eq!(
        (e.kind(), e.retry_after()),
        (ErrorKind::RateLimited, Some(Duration::from_secs(1)))
    );
    sim.faults().push(Fault::Delay(Duration::from_secs(5)));
    let e = send_err(c.send_batch(&send).await.unwrap());
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::MaybeSent));

    // Nothing listening: not sent.
    let refused = connection_fault(ConnectionFault::Refused).await.unwrap();
    let c = DinstarClient::new(
        DinstarConfig::builder(refused, "admin", "x")
            .retry_attempts(1)
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = c
        .send_batch(&send)
        .await
        .unwrap()
        .submissions
        .remove(0)
        .outcome
        .unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Transport, Dispatch::NotSent));
}

#[tokio::test]
async fn an_api_that_is_not_enabled_is_not_found_with_a_hint() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.query_sms_in_queue().await.unwrap();
    sim.faults().push(Fault::Status(404));
    let e = c.query_sms_in_queue().await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::NotFound, Dispatch::NotSent));
    assert!(e.to_string().contains("1102"), "{e}");
}

#[tokio::test]
async fn results_by_number_port_and_time() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    c.send_batch(&SmsBatch::new("Hi").to_all(numbers(3)).ports([1]))
        .await
        .unwrap();
    let r = c
        .query_sms_result(&SmsResultQuery {
            number: Some(vec![number(1).digits().to_owned()]),
            ..SmsResultQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(r.result.len(), 1);
    assert_eq!(r.result[0].status, SmsStatus::Sending);
    assert_eq!(r.result[0].port, Some(1));
    let none = c
        .query_sms_result(&SmsResultQuery {
            time_before: Some("2000-01-01 00:00:00".into()),
            ..SmsResultQuery::default()
        })
        .await
        .unwrap();
    assert!(none.result.is_empty());
    assert_eq!(r.sn.as_deref(), Some(sim.sn().as_str()));
    assert_eq!(c.sn(), Some(sim.sn()));
}

#[tokio::test]
async fn caller_chosen_user_ids_are_kept() {
    let sim = Simulator::start().await;
    let c = client(&sim);
    let out = c
        .send_batch(&SmsBatch::new("Hi").recipient(BatchRecipient::new(number(0)).with_user_id(4242)))
        .await
        .unwrap();
    assert_eq!(out.submissions[0].user_id, 4242);
    assert_eq!(sms(&sim)[0].user_id, 4242);
}

//! Push: devices per user, one push per device, dead tokens dropped.

use serde_json::{Value, json};
use switchboard::core::simulated::Simulated;
use switchboard::fcm::sim::Simulator;

use crate::common::Crm;

async fn user(crm: &Crm, role: &str) -> Value {
    let (s, u) = crm.post("/api/users", json!({"name": "Ivan", "role": role})).await;
    assert_eq!(s, 201, "{u}");
    u
}

#[tokio::test]
async fn each_device_gets_the_push_and_a_dead_token_is_dropped() {
    let sim = Simulator::start().await;
    let crm = Crm::start(&[("CRM_PUSH", sim.dsn().as_str())]).await;
    let driver = user(&crm, "driver").await;
    let (phone, browser) = (sim.register_device(), sim.register_device());
    for (token, platform, name) in [(&phone, "android", "Pixel"), (&browser, "web", "Chrome")] {
        let (s, d) = crm
            .post(
                "/api/push/devices",
                json!({"user_id": driver["id"], "token": token, "platform": platform, "name": name}),
            )
            .await;
        assert_eq!(s, 201, "{d}");
    }
    // The same token again is an update, not a second device.
    let (s, _) = crm
        .post(
            "/api/push/devices",
            json!({"user_id": driver["id"], "token": phone, "platform": "android", "name": "Pixel 9"}),
        )
        .await;
    assert_eq!(s, 200);
    let devices_path = format!("/api/users/{}/devices", driver["id"]);
    let (_, devices) = crm.get(&devices_path).await;
    assert_eq!(devices.as_array().map(Vec::len), Some(2), "{devices}");
    assert_eq!(devices[0]["name"], "Pixel 9");

    let push = json!({"user_id": driver["id"], "title": "Application 72", "body": "Pickup at 10:00",
                      "data": {"application_id": "72"}});
    let (s, answer) = crm.post("/api/push/send", push.clone()).await;
    assert_eq!(s, 200, "{answer}");
    let outcomes: Vec<&str> = answer["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["sent", "sent"], "{answer}");
    let sent = sim.sent();
    assert_eq!(sent.len(), 2);
    let mut tokens: Vec<String> = sent.iter().map(|r| r.to.clone()).collect();
    tokens.sort();
    let mut expected = vec![phone.clone(), browser.clone()];
    expected.sort();
    assert_eq!(tokens, expected);
    for r in &sent {
        let m = sim.message(&r.id).unwrap();
        assert_eq!(
            (m.title(), m.body(), m.data("application_id")),
            (Some("Application 72"), Some("Pickup at 10:00"), Some("72"))
        );
    }

    sim.unregister(&browser); // the web app was removed
    let (s, answer) = crm.post("/api/push/send", push).await;
    assert_eq!(s, 200, "{answer}");
    let by_name = |n: &str| {
        answer["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("Pixel 9")["outcome"], "sent", "{answer}");
    assert_eq!(by_name("Chrome")["outcome"], "token_removed", "{answer}");
    let (_, devices) = crm.get(&devices_path).await;
    assert_eq!(devices.as_array().map(Vec::len), Some(1), "{devices}");
    assert_eq!(devices[0]["token"], phone.as_str());
    assert_eq!(sim.sent().len(), 3);
}

#[tokio::test]
async fn a_retried_push_with_the_same_key_is_not_pushed_again() {
    let sim = Simulator::start().await;
    let crm = Crm::start(&[("CRM_PUSH", sim.dsn().as_str())]).await;
    let u = user(&crm, "driver").await;
    let token = sim.register_device();
    crm.post(
        "/api/push/devices",
        json!({"user_id": u["id"], "token": token, "platform": "ios", "name": "iPhone"}),
    )
    .await;
    let push = json!({"user_id": u["id"], "title": "t", "body": "b"});
    let key = [("Idempotency-Key", "push-1")];
    let (_, first) = crm.post_with("/api/push/send", &key, push.clone()).await;
    let (_, again) = crm.post_with("/api/push/send", &key, push).await;
    assert_eq!(first["notification_id"], again["notification_id"]);
    assert_eq!(
        first["devices"][0]["provider_message_id"], again["devices"][0]["provider_message_id"],
        "{again}"
    );
    assert_eq!(sim.sent().len(), 1);
}

#[tokio::test]
async fn bad_push_requests_get_a_4xx() {
    let crm = Crm::start(&[]).await;
    let u = user(&crm, "driver").await;
    let (s, e) = crm
        .post(
            "/api/push/devices",
            json!({"user_id": 999, "token": "t1", "platform": "android", "name": "n"}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("unknown_reference")),
        "{e}"
    );
    let (s, e) = crm
        .post(
            "/api/push/devices",
            json!({"user_id": u["id"], "token": "t1", "platform": "symbian", "name": "n"}),
        )
        .await;
    assert!(
        s == 400 && e["error"]["message"].as_str().unwrap().starts_with("platform"),
        "{e}"
    );
    let (s, e) = crm
        .post("/api/push/send", json!({"user_id": 999, "title": "t", "body": "b"}))
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = crm
        .post(
            "/api/push/send",
            json!({"user_id": u["id"], "title": "t", "body": "b", "data": {"n": 1}}),
        )
        .await;
    assert_eq!(s, 400, "data values are strings: {e}");
    let (s, _) = crm.get("/api/users/999/devices").await;
    assert_eq!(s, 404);
    let (s, devices) = crm.get(&format!("/api/users/{}/devices", u["id"])).await;
    assert_eq!((s, devices), (200, json!([])));
    let r = crm.http.delete(crm.url("/api/push/devices/nope")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

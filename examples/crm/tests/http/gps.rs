//! GPS tracking.

use serde_json::{Value, json};

use crate::common::Crm;

async fn driver(crm: &Crm) -> i64 {
    let (s, d) = crm.post("/api/drivers", json!({"name": "Ivan"})).await;
    assert_eq!(s, 201, "{d}");
    d["id"].as_i64().unwrap()
}

fn point(lat: f64, at: &str) -> Value {
    json!({"latitude": lat, "longitude": 37.6, "accuracy_m": 5.0, "speed_kmh": 42.0, "heading_deg": 90.0,
           "battery_pct": 80, "recorded_at": at})
}

fn minutes_ago(m: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(m)).to_rfc3339()
}

async fn count(crm: &Crm) -> i64 {
    switchboard::store::sqlx::query_scalar("SELECT COUNT(*) FROM driver_locations")
        .fetch_one(crm.running.state.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn every_bad_value_is_refused_by_name_and_nothing_of_the_batch_is_stored() {
    let crm = Crm::start(&[]).await;
    let id = driver(&crm).await;
    let path = format!("/api/drivers/{id}/locations");
    let good = point(55.7, &minutes_ago(1));
    let cases: Vec<(&str, Value, &str)> = vec![
        ("latitude", json!(91.2), "points[1].latitude: 91.2 is outside -90..=90"),
        ("latitude", json!(-90.5), "points[1].latitude"),
        ("longitude", json!(180.5), "points[1].longitude"),
        ("accuracy_m", json!(-1), "points[1].accuracy_m"),
        ("accuracy_m", json!(10001), "points[1].accuracy_m"),
        ("speed_kmh", json!(401), "points[1].speed_kmh"),
        (
            "heading_deg",
            json!(360),
            "points[1].heading_deg: 360 is outside 0..<360",
        ),
        ("battery_pct", json!(101), "points[1].battery_pct"),
        ("recorded_at", json!("yesterday"), "points[1].recorded_at"),
        (
            "recorded_at",
            json!((chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339()),
            "in the future",
        ),
        (
            "recorded_at",
            json!((chrono::Utc::now() - chrono::Duration::days(91)).to_rfc3339()),
            "older than",
        ),
    ];
    for (field, value, expected) in cases {
        let mut bad = good.clone();
        bad[field] = value;
        let (s, e) = crm.post(&path, json!({"points": [good.clone(), bad]})).await;
        assert_eq!(s, 400, "{field}: {e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.contains(expected), "{field}: {msg}");
        assert_eq!(
            count(&crm).await,
            0,
            "{field}: the good point of the batch was not stored either"
        );
    }
    // A single point names the field without an index; the edges are allowed.
    let (s, e) = crm.post(&path, point(-91.0, &minutes_ago(1))).await;
    assert_eq!(s, 400);
    assert!(e["error"]["message"].as_str().unwrap().starts_with("latitude:"), "{e}");
    let mut edge = point(90.0, &minutes_ago(1));
    edge["longitude"] = json!(-180.0);
    edge["heading_deg"] = json!(359.9);
    edge["speed_kmh"] = json!(0);
    let (s, e) = crm.post(&path, edge).await;
    assert_eq!((s, &e["stored"]), (201, &json!(1)), "{e}");
    // Too many in one batch, an unknown driver.
    let many: Vec<Value> = (0..501).map(|_| good.clone()).collect();
    let (s, _) = crm.post(&path, json!({"points": many})).await;
    assert_eq!(s, 400);
    let (s, _) = crm.post("/api/drivers/999/locations", good).await;
    assert_eq!(s, 404);
    assert_eq!(count(&crm).await, 1);
}

#[tokio::test]
async fn history_is_the_utc_day_in_order_and_latest_is_the_last_recorded() {
    let crm = Crm::start(&[]).await;
    let id = driver(&crm).await;
    let now = chrono::Utc::now();
    let today = now.date_naive();
    // Out of order in the batch, and one point on the previous day (when it is still within retention).
    let pts = vec![
        point(55.2, &(now - chrono::Duration::seconds(20)).to_rfc3339()),
        point(55.1, &(now - chrono::Duration::seconds(40)).to_rfc3339()),
        point(55.3, &now.to_rfc3339()),
        point(50.0, &format!("{}T23:59:59Z", today.pred_opt().unwrap())),
    ];
    let (s, e) = crm
        .post(&format!("/api/drivers/{id}/locations"), json!({"points": pts}))
        .await;
    assert_eq!(s, 201, "{e}");
    let (s, h) = crm.get(&format!("/api/drivers/{id}/locations?date={today}")).await;
    assert_eq!(s, 200, "{h}");
    let lats: Vec<f64> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["latitude"].as_f64().unwrap())
        .collect();
    // Points within the last minute may straddle midnight UTC; the order holds either way.
    assert!(lats.windows(2).all(|w| w[0] < w[1]), "{lats:?}");
    assert!(!lats.contains(&50.0), "yesterday's point is not today's");
    let (s, l) = crm.get(&format!("/api/drivers/{id}/locations/latest")).await;
    assert_eq!((s, l["latitude"].as_f64()), (200, Some(55.3)), "{l}");
    let (s, _) = crm.get(&format!("/api/drivers/{id}/locations?date=03.12.2026")).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn the_per_driver_limit_answers_429_and_lets_the_driver_in_again_later() {
    let crm = Crm::start(&[("CRM_GPS_MAX_PER_MINUTE", "3")]).await;
    let a = driver(&crm).await;
    let b = driver(&crm).await;
    let pa = format!("/api/drivers/{a}/locations");
    let two = json!({"points": [point(55.0, &minutes_ago(1)), point(55.1, &minutes_ago(1))]});
    assert_eq!(crm.post(&pa, two.clone()).await.0, 201);
    // The batch counts its points: two more do not fit in the one left.
    let r = crm.http.post(crm.url(&pa)).json(&two).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=40).contains(&wait), "{wait}");
    // Another driver has his own bucket.
    assert_eq!(
        crm.post(&format!("/api/drivers/{b}/locations"), two.clone()).await.0,
        201
    );
    // A minute later the bucket is full again.
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_secs(61)).await;
    tokio::time::resume();
    assert_eq!(crm.post(&pa, two).await.0, 201);
    assert_eq!(count(&crm).await, 6);
}

#[tokio::test]
async fn cleanup_deletes_points_older_than_the_retention() {
    let crm = Crm::start(&[("CRM_GPS_RETENTION_DAYS", "30")]).await;
    let id = driver(&crm).await;
    assert_eq!(
        crm.post(&format!("/api/drivers/{id}/locations"), point(55.0, &minutes_ago(1)))
            .await
            .0,
        201
    );
    // Points reported long ago (the API refuses old ones, so they are put in directly).
    for days in [31, 45] {
        let at =
            (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        switchboard::store::sqlx::query(
            "INSERT INTO driver_locations (driver_id, latitude, longitude, accuracy_m, recorded_at, received_at)
             VALUES (?1, 1, 1, 1, ?2, ?2)",
        )
        .bind(id)
        .bind(at)
        .execute(crm.running.state.pool())
        .await
        .unwrap();
    }
    assert_eq!(count(&crm).await, 3);
    let (s, r) = crm.post("/api/gps/cleanup", json!({})).await;
    assert_eq!((s, &r["deleted"]), (200, &json!(2)), "{r}");
    assert_eq!(count(&crm).await, 1);
}

//! Email: plain and templated, with attachments, through the SMTP simulator.

use serde_json::{Value, json};

use crate::common::Crm;

/// The raw message with quoted-printable soft breaks and `=3D` undone, so parts can be searched.
fn readable(raw: &str) -> String {
    raw.replace("=\r\n", "").replace("=3D", "=")
}

fn sent(v: &Value) -> bool {
    v["status"] == "sent"
}

#[tokio::test]
async fn a_templated_email_has_both_parts_escaped_html_and_the_attachment() {
    let crm = Crm::start(&[]).await;
    let sim = crm.sim(&crm.running.state.integrations.email);
    let (s, row) = crm
        .post(
            "/api/email/template",
            json!({
                "to": "ana@example.org",
                "template": "application_assigned",
                "data": {"name": "Ana <script>alert(1)</script>", "application_id": 72, "pickup": "Moscow",
                         "dropoff": "Tver", "driver": "Ivan & Sons"},
                "attachments": [{"filename": "invoice.pdf", "content_type": "application/pdf",
                                 "content_base64": "JVBERi0xLjQgdGVzdA=="}]
            }),
        )
        .await;
    assert_eq!(s, 202, "{row}");
    assert_eq!(
        (&row["status"], &row["template"], &row["attachments"]),
        (&json!("queued"), &json!("application_assigned"), &json!(1))
    );
    let done = crm.wait_for(&format!("/api/email/{}", row["id"]), sent).await;
    assert_eq!(done["status"], "sent", "{done}");
    assert_eq!(done["provider"], "smtp");
    let records = sim.sent();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].to, "ana@example.org");
    let raw = readable(&records[0].text);
    assert!(raw.contains("Subject: Application 72: driver assigned"), "{raw}");
    assert!(raw.contains("text/plain") && raw.contains("text/html"), "{raw}");
    assert!(
        raw.contains("Hello Ana <script>alert(1)</script>,"),
        "the text part as written: {raw}"
    );
    assert!(
        raw.contains("Hello Ana &lt;script&gt;alert(1)&lt;/script&gt;,") && raw.contains("Ivan &amp; Sons"),
        "the HTML part escaped: {raw}"
    );
    assert!(!raw.contains("<p>Hello Ana <script>"), "{raw}");
    assert!(
        raw.contains("filename=\"invoice.pdf\"") && raw.contains("%PDF-1.4 test"),
        "{raw}"
    );
}

#[tokio::test]
async fn a_plain_email_with_html_is_sent_once_for_a_retried_post() {
    let crm = Crm::start(&[]).await;
    let sim = crm.sim(&crm.running.state.integrations.email);
    let body =
        json!({"to": "ops@example.org", "subject": "Daily", "text": "All good", "html": "<p>All <b>good</b></p>"});
    let key = [("Idempotency-Key", "daily-2026-01-05")];
    let (s1, first) = crm.post_with("/api/email", &key, body.clone()).await;
    let (s2, again) = crm.post_with("/api/email", &key, body).await;
    assert_eq!((s1, s2, &first["id"]), (202, 200, &again["id"]), "{first} {again}");
    let (s, e) = crm
        .post_with(
            "/api/email",
            &key,
            json!({"to": "ops@example.org", "subject": "Other", "text": "x"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    let done = crm.wait_for(&format!("/api/email/{}", first["id"]), sent).await;
    assert_eq!(done["status"], "sent", "{done}");
    assert_eq!(sim.sent().len(), 1);
    assert!(readable(&sim.sent()[0].text).contains("<p>All <b>good</b></p>"));
}

#[tokio::test]
async fn bad_email_requests_get_a_4xx_and_nothing_is_queued() {
    let crm = Crm::start(&[("CRM_EMAIL_MAX_ATTACHMENT_BYTES", "8")]).await;
    let msg = |e: &Value| e["error"]["message"].as_str().unwrap_or_default().to_owned();
    let (s, e) = crm
        .post(
            "/api/email/template",
            json!({"to": "a@example.org", "template": "nope", "data": {}}),
        )
        .await;
    assert!(
        s == 400 && msg(&e).contains("weekly_report") && msg(&e).contains("password_reset"),
        "{e}"
    );
    let (s, e) = crm
        .post(
            "/api/email/template",
            json!({"to": "a@example.org", "template": "status_changed", "data": {"name": "A", "application_id": 1}}),
        )
        .await;
    assert!(
        s == 400 && msg(&e).contains("{{status}}"),
        "names the missing field: {e}"
    );
    let (s, e) = crm
        .post(
            "/api/email",
            json!({"to": "not an address", "subject": "s", "text": "t"}),
        )
        .await;
    assert!(s == 400 && msg(&e).starts_with("to:"), "{e}");
    let file = |b64: &str, ct: &str| json!([{"filename": "f.bin", "content_type": ct, "content_base64": b64}]);
    let (s, e) = crm
        .post(
            "/api/email",
            json!({"to": "a@example.org", "subject": "s", "text": "t", "attachments": file("%%%", "application/pdf")}),
        )
        .await;
    assert!(s == 400 && msg(&e).starts_with("attachments[0].content_base64"), "{e}");
    let (s, e) = crm
        .post(
            "/api/email",
            json!({"to": "a@example.org", "subject": "s", "text": "t", "attachments": file("AAAA", "pdf")}),
        )
        .await;
    assert!(s == 400 && msg(&e).starts_with("attachments[0].content_type"), "{e}");
    // 9 bytes against a limit of 8.
    let (s, e) = crm
        .post("/api/email", json!({"to": "a@example.org", "subject": "s", "text": "t", "attachments": file("AAAAAAAAAAAA", "application/pdf")}))
        .await;
    assert_eq!((s, e["error"]["code"].as_str()), (413, Some("too_large")), "{e}");
    let (s, _) = crm.get("/api/email/1").await;
    assert_eq!(s, 404, "nothing stored");
    assert_eq!(crm.running.state.outbox.counts().await.unwrap().queued, 0);
}

//! Exports: every format parses back, the row maximum, expiry.

use serde_json::{Value, json};

use crate::common::Crm;

/// Creates an export and downloads it: (status, content type, disposition, bytes, answer).
async fn export(crm: &Crm, body: Value) -> (u16, Value, Option<(String, String, Vec<u8>)>) {
    let (s, created) = crm.post("/api/exports", body).await;
    if s != 201 {
        return (s, created, None);
    }
    let r = crm
        .http
        .get(created["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    let cd = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    let bytes = r.bytes().await.unwrap().to_vec();
    (s, created, Some((ct, cd, bytes)))
}

async fn seed(crm: &Crm) {
    for (pickup, status) in [
        ("Moscow; \"Central\" store", "new"),
        ("=HYPERLINK(\"http://evil\")", "new"),
        ("Тверь\r\nсклад 2", "done"),
        ("@SUM(A1)", "done"),
    ] {
        let (s, a) = crm
            .post(
                "/api/applications",
                json!({"pickup": pickup, "dropoff": "-5 Kazan", "price_minor": 150000, "status": status}),
            )
            .await;
        assert_eq!(s, 201, "{a}");
    }
}

#[tokio::test]
async fn csv_has_a_bom_semicolons_crlf_quoting_and_the_formula_guard() {
    let crm = Crm::start(&[]).await;
    seed(&crm).await;
    let (s, created, file) = export(&crm, json!({"entity": "applications", "format": "csv"})).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["rows"], 4);
    assert_eq!(created["id"].as_str().unwrap().len(), 32, "128 random bits");
    let (ct, cd, bytes) = file.unwrap();
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(
        cd.starts_with("attachment; filename=\"applications-") && cd.ends_with(".csv\""),
        "{cd}"
    );
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf", "UTF-8 BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id;company_id;driver_id;status;pickup;dropoff;price_minor;created_at"
    );
    assert!(
        lines[1].starts_with("1;;;new;\"Moscow; \"\"Central\"\" store\";'-5 Kazan;150000;"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(";\"'=HYPERLINK(\"\"http://evil\"\")\";"),
        "{}",
        lines[2]
    );
    // The CR LF inside a quoted field does not end the record.
    assert!(text.contains("\"Тверь\r\nсклад 2\""), "{text}");
    assert!(text.contains(";'@SUM(A1);"), "{text}");
    assert!(text.ends_with("\r\n"));
}

#[tokio::test]
async fn json_has_the_rows_and_the_filters_apply() {
    let crm = Crm::start(&[]).await;
    seed(&crm).await;
    let (_, created, file) = export(
        &crm,
        json!({"entity": "applications", "format": "json", "status": "done"}),
    )
    .await;
    assert_eq!(created["rows"], 2);
    let rows: Value = serde_json::from_slice(&file.unwrap().2).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "done" && r["price_minor"] == 150000));
    assert_eq!(rows[0]["company_id"], Value::Null);
    let today = chrono::Utc::now().date_naive();
    let (_, c, _) = export(
        &crm,
        json!({"entity": "applications", "format": "json", "from": today.succ_opt().unwrap().to_string()}),
    )
    .await;
    assert_eq!(c["rows"], 0, "nothing was created tomorrow");
    let (_, c, _) = export(&crm, json!({"entity": "applications", "format": "json", "from": today.to_string(), "to": today.to_string(), "limit": 3})).await;
    assert_eq!(c["rows"], 3);
    let (s, e, _) = export(&crm, json!({"entity": "vehicles", "format": "json", "status": "new"})).await;
    assert_eq!(s, 400, "{e}");
    let (s, _, _) = export(&crm, json!({"entity": "invoices", "format": "json"})).await;
    assert_eq!(s, 400);
    let (s, _, _) = export(&crm, json!({"entity": "drivers", "format": "docx"})).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn the_row_maximum_is_named() {
    let crm = Crm::start(&[("CRM_EXPORT_MAX_ROWS", "3")]).await;
    seed(&crm).await;
    let (s, e, _) = export(&crm, json!({"entity": "applications", "format": "csv", "limit": 4})).await;
    assert_eq!(s, 400, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("maximum of 3"), "{e}");
    let (s, c, _) = export(&crm, json!({"entity": "applications", "format": "csv"})).await;
    assert_eq!((s, &c["rows"]), (201, &json!(3)), "without a limit, the maximum");
}

/// The entries of a ZIP, read from its local headers (stored or not, names and raw data).
fn unzip(b: &[u8]) -> Vec<(String, u16, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    let u16at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u32at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    while u32at(i) == 0x0403_4b50 {
        let method = u16at(i + 8);
        let size = u32at(i + 18) as usize;
        let name_len = u16at(i + 26) as usize;
        let extra = u16at(i + 28) as usize;
        let name = String::from_utf8(b[i + 30..i + 30 + name_len].to_vec()).unwrap();
        let start = i + 30 + name_len + extra;
        out.push((name, method, b[start..start + size].to_vec()));
        i = start + size;
    }
    assert_eq!(u32at(i), 0x0201_4b50, "the central directory follows the entries");
    out
}

#[tokio::test]
async fn xlsx_is_a_workbook_with_a_header_numbers_and_dates() {
    let crm = Crm::start(&[]).await;
    seed(&crm).await;
    let (_, _, file) = export(&crm, json!({"entity": "applications", "format": "xlsx"})).await;
    let (ct, _, bytes) = file.unwrap();
    assert_eq!(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let entries = unzip(&bytes);
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    for part in [
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",
    ] {
        assert!(names.contains(&part), "{names:?}");
    }
    let sheet = entries.iter().find(|e| e.0 == "xl/worksheets/sheet1.xml").unwrap();
    assert_eq!(sheet.1, 0, "stored");
    let xml = String::from_utf8(sheet.2.clone()).unwrap();
    assert!(
        xml.contains(r#"<c r="A1" s="2" t="inlineStr"><is><t>id</t></is></c>"#),
        "bold header"
    );
    assert!(xml.contains(r#"<c r="G2" t="n"><v>150000</v></c>"#), "a typed number");
    assert!(
        xml.contains(r#"<c r="H2" s="1" t="n"><v>4"#),
        "a date serial (4xxxx days)"
    );
    assert!(xml.contains("Moscow; &quot;Central&quot; store"), "escaped text");
    assert!(xml.contains(r#"<row r="5">"#) && !xml.contains(r#"<row r="6">"#));
}

#[tokio::test]
async fn pdf_has_a_correct_xref_pages_and_transliterated_text() {
    let crm = Crm::start(&[]).await;
    let (s, d) = crm.post("/api/drivers", json!({"name": "Щукин Юрий 中"})).await;
    assert_eq!(s, 201, "{d}");
    for i in 0..120 {
        let (s, _) = crm.post("/api/drivers", json!({"name": format!("Driver {i}")})).await;
        assert_eq!(s, 201);
    }
    let (_, created, file) = export(&crm, json!({"entity": "drivers", "format": "pdf"})).await;
    assert_eq!(created["rows"], 121);
    let (ct, _, pdf) = file.unwrap();
    assert_eq!(ct, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    assert!(pdf.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(&pdf).into_owned();
    // startxref points at the table, and every entry at its object.
    let startxref: usize = text
        .rsplit("startxref\n")
        .next()
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Offsets count bytes (the header's second line is binary): check against the bytes.
    assert!(pdf[startxref..].starts_with(b"xref\n0 "));
    let table = String::from_utf8(pdf[startxref..].to_vec()).unwrap();
    let count: usize = table
        .lines()
        .nth(1)
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let entries: Vec<&str> = table.lines().skip(3).take(count - 1).collect();
    assert_eq!(entries.len(), count - 1);
    for (n, line) in entries.iter().enumerate() {
        assert_eq!(line.len(), 19, "20 bytes with the newline: {line:?}");
        let offset: usize = line[..10].parse().unwrap();
        let obj = format!("{} 0 obj", n + 1);
        assert!(pdf[offset..].starts_with(obj.as_bytes()), "{obj}");
    }
    // 43 rows fit a page under the title and header: 121 rows are 3 pages.
    let pages = text.matches("/Type /Page ").count();
    assert_eq!(pages, 3);
    assert!(text.contains(&format!("/Count {pages}")));
    assert!(
        text.contains("(Shchukin Iurii ?)"),
        "Cyrillic transliterated, the rest '?'"
    );
    assert!(text.contains("/BaseFont /Helvetica"));
}

#[tokio::test]
async fn an_expired_export_is_gone_and_its_file_deleted() {
    let dir = std::env::temp_dir().join(format!("crm-export-test-{}", std::process::id()));
    let crm = Crm::start(&[("CRM_EXPORT_TTL_SECS", "0"), ("CRM_EXPORT_DIR", dir.to_str().unwrap())]).await;
    seed(&crm).await;
    let (s, created) = crm
        .post("/api/exports", json!({"entity": "applications", "format": "csv"}))
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let file = dir.join(format!("{id}.csv"));
    assert!(file.exists());
    let (s, e) = crm.get(&format!("/api/exports/{id}")).await;
    assert_eq!((s, e["error"]["code"].as_str()), (410, Some("expired")), "{e}");
    assert!(!file.exists(), "the file was deleted");
    // The sweep removes the row.
    let swept = crm.running.state.exports.sweep(crm.running.state.pool()).await.unwrap();
    assert_eq!(swept, 1);
    assert_eq!(crm.get(&format!("/api/exports/{id}")).await.0, 404);
    assert_eq!(crm.get("/api/exports/0123456789abcdef0123456789abcdef").await.0, 404);
    let _ = std::fs::remove_dir_all(dir);
}

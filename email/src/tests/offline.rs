//! The offline modes (memory, `.eml` files), templates and input checks: no network.

use crate::{EmailTransport, Template};
use switchboard_core::{DeliveryStatus, Dispatch, ErrorKind, Message, Recipient, Transport};

use crate::tests::support::smtp_sink::SmtpSink;
use crate::tests::to;

#[tokio::test]
async fn memory_and_file_modes_need_no_network() {
    let mail = EmailTransport::from_dsn_str("smtp://localhost?mode=memory&from=Shop%20<noreply@shop.example>").unwrap();
    let msg = Message::email_to(to("ana@example.al"), "Order #72", "plain").with_html("<b>html</b>");
    let r = mail.send(&msg).await.unwrap();
    assert_eq!(r.status, DeliveryStatus::Accepted);
    let out = mail.outbox().unwrap().messages();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].message_id, r.provider_id());
    assert_eq!(out[0].envelope_to, ["ana@example.al"]);
    assert_eq!(out[0].header("Subject").as_deref(), Some("Order #72"));
    assert_eq!(out[0].header("Message-ID"), Some(format!("<{}>", r.provider_id())));
    // The same switchboard message keeps its Message-ID on a retry.
    let again = mail.send(&msg).await.unwrap();
    assert_eq!(again.provider_id(), r.provider_id());

    let dir = std::env::temp_dir().join(format!("switchboard-eml-{}", std::process::id()));
    let mail = EmailTransport::from_dsn_str(&format!(
        "smtp://localhost?mode=file&dir={}&from=noreply@shop.example",
        dir.display()
    ))
    .unwrap();
    let r = mail.send(&msg).await.unwrap();
    let file = std::fs::read_to_string(dir.join(format!("{}.eml", r.provider_id()))).unwrap();
    assert!(file.contains("multipart/alternative") && file.contains("Subject: Order #72"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(mail.outbox().is_none());
}

#[tokio::test]
async fn templates_render_escaped_html_and_refuse_missing_values() {
    let sink = SmtpSink::start(None);
    let mail = EmailTransport::from_dsn_str(&sink.dsn("")).unwrap();
    let t = Template::new(
        "Заказ {{order}} отправлен",
        "Здравствуйте, {{name}}! Заказ {{order}} в пути.",
    )
    .with_html("<p>Здравствуйте, <b>{{name}}</b>! Заказ {{order}} в пути.</p>");
    let vars = [("name", "Ана <script>"), ("order", "#72")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    mail.send(&t.message(to("ana@example.al"), &vars).unwrap())
        .await
        .unwrap();
    let m = &sink.received()[0];
    assert_eq!(m.subject.as_deref(), Some("Заказ #72 отправлен"));
    assert_eq!(
        m.part("text/plain").text(),
        "Здравствуйте, Ана <script>! Заказ #72 в пути."
    );
    assert_eq!(
        m.part("text/html").text(),
        "<p>Здравствуйте, <b>Ана &lt;script&gt;</b>! Заказ #72 в пути.</p>"
    );
    let e = t.message(to("ana@example.al"), &Default::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn wrong_recipients_and_missing_senders_are_input_errors() {
    let mail = EmailTransport::from_dsn_str("smtp://localhost?mode=memory").unwrap();
    let e = mail.send(&Message::chat("42", "hi")).await.unwrap_err();
    assert_eq!((e.kind(), e.dispatch()), (ErrorKind::InvalidInput, Dispatch::NotSent));
    let e = mail
        .send(&Message::email_to(to("a@example.al"), "s", "t"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("From"), "{e}");
    let ok = mail
        .send(&Message::email_to(to("a@example.al"), "s", "t").with_from("me@shop.example"))
        .await;
    assert!(ok.is_ok());
    assert!(mail.supports(&to("x@y.example")) && !mail.supports(&Recipient::Chat("1".into())));
}

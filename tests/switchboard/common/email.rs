//! Email in memory mode: no network, so no HTTP or connection faults and no credentials.

use std::sync::Arc;

use futures::future::BoxFuture;
use switchboard::core::testkit::Faults;
use switchboard::email::EmailTransport;
use switchboard::{Message, Receipt, Recipient, Transport, WebhookRequest};

use super::Subject;

const DSN: &str = "smtp://localhost?mode=memory&from=switchboard%40example.com";

pub struct Email {
    mail: Arc<EmailTransport>,
}

pub async fn start() -> Arc<dyn Subject> {
    // Built as its concrete type (not through transport_from_dsn) to read its outbox.
    let mail = Arc::new(EmailTransport::from_dsn_str(DSN).expect("the memory SMTP DSN builds"));
    Arc::new(Email { mail })
}

impl Subject for Email {
    fn name(&self) -> &'static str {
        "email"
    }
    fn dsn(&self) -> String {
        DSN.to_owned()
    }
    fn transport(&self) -> Arc<dyn Transport> {
        self.mail.clone()
    }
    fn recipient(&self) -> Recipient {
        Recipient::email("someone@example.org").expect("a valid address")
    }
    fn message(&self, text: &str) -> Message {
        Message::email_to(self.recipient(), self.marker(text), text)
    }
    fn marker(&self, text: &str) -> String {
        // The body is encoded in the MIME source; an ASCII subject derived from the text is not.
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        format!("conformance-{:016x}", h.finish())
    }
    fn faults(&self) -> Option<&Faults> {
        None
    }
    fn bad_credential_dsn(&self) -> Option<String> {
        None
    }
    fn accepted_texts(&self) -> Vec<String> {
        self.mail
            .outbox()
            .map(|o| {
                o.messages()
                    .into_iter()
                    .map(|m| String::from_utf8_lossy(&m.raw).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
    fn texts_verbatim(&self) -> bool {
        false
    }
    fn deliver<'a>(&'a self, _receipt: &'a Receipt) -> BoxFuture<'a, Vec<WebhookRequest>> {
        Box::pin(async { Vec::new() })
    }
}

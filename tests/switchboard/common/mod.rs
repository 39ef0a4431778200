//! What the conformance suite and the fault tests share: one [`Subject`] adapter per message transport
//! (its simulator, a transport built from the simulator's DSN, how to make the simulator deliver, push a
//! report or an inbound message, and how to count what it accepted), the list of subjects, and journal
//! helpers.
//!
//! This is a closed list, kept because its adapters drive checks deeper than the simulator hooks reach
//! (delivery reports, inbound messages, provider rate-limit codes, malformed answers, connection
//! faults). Every registered provider, listed here or not, is covered by the registry check
//! (`conformance::registry::every_registered_provider_conforms`), which iterates over
//! `switchboard::registry()` instead. A new transport gets this whole suite by writing its adapter and
//! adding one line to [`subjects`].

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use switchboard::core::testkit::{Faults, WebhookSink};
use switchboard::{
    Capabilities, Dispatch, Error, ErrorKind, JournalRecord, MemoryJournal, Message, MessageId, Messenger, Receipt,
    Recipient, RetryPolicy, Transport, WebhookRequest,
};

pub mod dinstar;
pub mod email;
pub mod fcm;
pub mod mightycall;
pub mod mitto;
pub mod proxy;
pub mod smsru;
pub mod telegram;
pub mod twilio;

/// A message transport under test, with its simulator.
pub trait Subject: Send + Sync {
    /// The subject's name in reports (`"mitto-messaging"`).
    fn name(&self) -> &'static str;

    /// The DSN of the transport on its simulator.
    fn dsn(&self) -> String;

    /// The transport the checks send through (built from [`Subject::dsn`] where possible).
    fn transport(&self) -> Arc<dyn Transport>;

    /// A transport built from another DSN (bad credentials, a connection fault's address).
    fn transport_for(&self, dsn: &str) -> switchboard::Result<Arc<dyn Transport>> {
        switchboard::transport_from_dsn(dsn)
    }

    /// The same transport with a fast retry policy (1–2 ms back-off) and, where the config takes one,
    /// a [`FAST_TIMEOUT`] client timeout, for the property test; `None`
    /// when the provider's config cannot take one.
    fn fast_retry_transport(&self) -> Option<Arc<dyn Transport>> {
        None
    }

    /// A recipient of the right kind.
    fn recipient(&self) -> Recipient;

    /// A message with this text to [`Subject::recipient`].
    fn message(&self, text: &str) -> Message {
        Message::to(self.recipient(), text)
    }

    /// The simulator's HTTP fault queue; `None` for transports that are not HTTP (SMTP).
    fn faults(&self) -> Option<&Faults>;

    /// The DSN with a credential the simulator does not know; `None` when there is no credential.
    fn bad_credential_dsn(&self) -> Option<String>;

    /// The DSN pointed at another `http://host:port` (a connection fault); `None` when not HTTP.
    fn dsn_at(&self, base_url: &str) -> Option<String> {
        let _ = base_url;
        None
    }

    /// The DSN with a short client timeout, where the DSN can say one.
    fn dsn_with_timeout(&self, dsn: &str, timeout: Duration) -> Option<String> {
        let _ = (dsn, timeout);
        None
    }

    /// Every text the simulator accepted for sending, in order (one entry per accepted message).
    fn accepted_texts(&self) -> Vec<String>;

    /// Whether [`Subject::accepted_texts`] holds texts verbatim (an SMTP outbox holds encoded MIME).
    fn texts_verbatim(&self) -> bool {
        true
    }

    /// What to look for in [`Subject::accepted_texts`] to find a message with `text` (the text itself,
    /// or a tag an opaque outbox keeps readable).
    fn marker(&self, text: &str) -> String {
        text.to_owned()
    }

    /// Makes the simulator deliver what `receipt` names and returns the delivery-report webhooks it
    /// pushed (empty when the provider pushes none).
    fn deliver<'a>(&'a self, receipt: &'a Receipt) -> BoxFuture<'a, Vec<WebhookRequest>>;

    /// Makes the simulator receive an inbound message with `text` and returns the webhooks it pushed.
    fn inbound<'a>(&'a self, text: &'a str) -> BoxFuture<'a, Vec<WebhookRequest>> {
        let _ = text;
        Box::pin(async { Vec::new() })
    }

    /// Queues the provider's own rate-limit answer (its code, in its envelope) with `Retry-After`
    /// `secs`; `false` when the provider has no own shape beyond a plain 429.
    fn queue_provider_rate_limit(&self, secs: u64) -> bool {
        let _ = secs;
        false
    }

    /// What a plain `500` answer to a send must become, for this provider.
    fn expect_500(&self) -> (ErrorKind, Dispatch) {
        (ErrorKind::Unavailable, Dispatch::MaybeSent)
    }
}

/// Starts one subject per transport. Add a transport here and it gets the whole suite.
pub async fn subjects() -> Vec<Arc<dyn Subject>> {
    vec![
        dinstar::start().await,
        mitto::start_legacy().await,
        mitto::start_messaging().await,
        mightycall::start().await,
        smsru::start().await,
        twilio::start().await,
        fcm::start().await,
        telegram::start().await,
        email::start().await,
    ]
}

/// The subjects whose transport speaks HTTP (they take HTTP and connection faults).
pub async fn http_subjects() -> Vec<Arc<dyn Subject>> {
    subjects().await.into_iter().filter(|s| s.faults().is_some()).collect()
}

/// The client timeout of [`Subject::fast_retry_transport`]s that can take one (Mitto, Twilio).
pub const FAST_TIMEOUT: Duration = Duration::from_millis(100);

/// A fast retry policy (same attempts, millisecond back-off, no jitter).
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_delays(Duration::from_millis(1), Duration::from_millis(2))
        .with_jitter(false)
}

/// A Messenger over one transport, journaling into `journal`.
pub fn messenger(name: &str, transport: Arc<dyn Transport>, journal: &Arc<MemoryJournal>) -> Messenger {
    Messenger::builder()
        .transport(name, transport)
        .journal(journal.clone())
        .build()
        .unwrap_or_else(|e| panic!("{name}: the Messenger builds: {e}"))
}

/// The journal's records for one message, as words: `attempt`, `accepted`, `failed:<kind>:<dispatch>`.
pub fn journal_shape(journal: &MemoryJournal, id: &MessageId) -> Vec<String> {
    journal
        .for_message(id)
        .into_iter()
        .map(|e| match e.record {
            JournalRecord::Attempt { .. } => "attempt".to_owned(),
            JournalRecord::Accepted { .. } => "accepted".to_owned(),
            JournalRecord::Failed { kind, dispatch, .. } => format!("failed:{kind}:{dispatch}"),
            JournalRecord::Status { .. } => "status".to_owned(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// The journal word for a dispatch fact.
pub fn dispatch_word(d: Dispatch) -> &'static str {
    match d {
        Dispatch::NotSent => "not_sent",
        Dispatch::MaybeSent => "maybe_sent",
        Dispatch::Sent => "sent",
    }
}

/// Checks that a failed single-transport send was journaled as exactly `attempt`, `failed` with the
/// error's kind and dispatch, and (for an accepted one) `attempt`, `accepted`.
pub fn journal_matches(
    journal: &MemoryJournal,
    id: &MessageId,
    result: &switchboard::Result<Receipt>,
) -> Result<(), String> {
    let shape = journal_shape(journal, id);
    let want = match result {
        Ok(_) => vec!["attempt".to_owned(), "accepted".to_owned()],
        Err(e) => vec![
            "attempt".to_owned(),
            format!("failed:{}:{}", e.kind().as_str(), dispatch_word(e.dispatch())),
        ],
    };
    if shape == want {
        Ok(())
    } else {
        Err(format!("journal {shape:?}, wanted {want:?}"))
    }
}

/// How many of the simulator's accepted texts are exactly `text` (or contain it, for opaque outboxes).
pub fn count_accepted(subject: &dyn Subject, text: &str) -> usize {
    let text = subject.marker(text);
    let text = text.as_str();
    subject
        .accepted_texts()
        .iter()
        .filter(|t| {
            if subject.texts_verbatim() {
                t.as_str() == text
            } else {
                t.contains(text)
            }
        })
        .count()
}

/// The webhooks a sink received after the first `before`, waiting up to 3 s for at least `want` new ones.
pub async fn new_pushes(sink: &WebhookSink, before: usize, want: usize) -> Vec<WebhookRequest> {
    let got = sink.wait_for(before + want, Duration::from_secs(3)).await;
    got.into_iter().skip(before).collect()
}

/// Replaces the simulator's `host:port` in a DSN with the one of `base_url`.
pub fn repoint(dsn: &str, sim_uri: &str, base_url: &str) -> String {
    let strip = |u: &str| {
        u.trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_owned()
    };
    dsn.replace(&strip(sim_uri), &strip(base_url))
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The capabilities, with the message kinds a subject sends.
pub fn sends_anything(c: &Capabilities) -> bool {
    c.sms || c.email || c.push || c.chat
}

/// Runs `check` for every subject at once (each on its own task, so one panic names its subject) and
/// fails with every subject that failed, by name.
pub async fn for_each<F, Fut>(subjects: Vec<Arc<dyn Subject>>, check: F)
where
    F: Fn(Arc<dyn Subject>) -> Fut,
    Fut: std::future::Future<Output = Result<Outcome, String>> + Send + 'static,
{
    let mut tasks = Vec::new();
    for s in subjects {
        let name = s.name();
        let fut = check(s);
        tasks.push((
            name,
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let r = fut.await;
                eprintln!("{name}: {:?} in {:?}", r, started.elapsed());
                r
            }),
        ));
    }
    let mut failures = Vec::new();
    let mut ran = Vec::new();
    let mut skipped = Vec::new();
    for (name, t) in tasks {
        match t.await {
            Ok(Ok(Outcome::Ran)) => ran.push(name),
            Ok(Ok(Outcome::Skipped(why))) => skipped.push(format!("{name}: {why}")),
            Ok(Err(e)) => failures.push(format!("{name}: {e}")),
            Err(panic) => failures.push(format!("{name}: panicked: {panic}")),
        }
    }
    assert!(failures.is_empty(), "failed for:\n  {}", failures.join("\n  "));
    assert!(!ran.is_empty(), "no subject ran this check; skipped: {skipped:?}");
}

/// Whether a check ran for a subject.
#[derive(Debug)]
pub enum Outcome {
    /// It ran and passed.
    Ran,
    /// The subject's capabilities exclude it.
    Skipped(&'static str),
}

/// `Err(format!(…))` unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err(format!($($arg)+));
        }
    };
}

/// The error, or a description of the unexpected success.
pub fn expect_err(r: switchboard::Result<Receipt>, what: &str) -> Result<Error, String> {
    match r {
        Ok(rc) => Err(format!(
            "{what}: expected an error, got a receipt {:?}",
            rc.provider_ids
        )),
        Err(e) => Ok(e),
    }
}

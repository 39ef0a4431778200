//! What memory mode keeps instead of sending: [`SentEmail`]s in an [`Outbox`].
//!
//! A client in memory mode has an outbox of its own, unless its configuration names a process-wide
//! one (`smtp://localhost?mode=memory&outbox=NAME`): then every client configured with that name, and
//! [`Outbox::named`], reach the same outbox. That is how code that holds only a DSN (a Messenger built
//! from configuration, the provider registry) and code that reads what was sent (a test, the
//! simulator) meet.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use switchboard_core::Result;

/// A message the memory or file mode took, as it would have gone on the wire.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentEmail {
    /// The `Message-ID`, without brackets.
    pub message_id: String,
    /// `MAIL FROM`.
    pub envelope_from: Option<String>,
    /// `RCPT TO`, Bcc included.
    pub envelope_to: Vec<String>,
    /// The whole formatted message (headers and MIME body, CRLF line ends).
    pub raw: Bytes,
}

/// Shows counts, not addresses.
impl fmt::Debug for SentEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentEmail")
            .field("message_id", &self.message_id)
            .field("recipients", &self.envelope_to.len())
            .field("bytes", &self.raw.len())
            .finish()
    }
}

impl SentEmail {
    /// A record of a message as it went out.
    pub fn new(
        message_id: impl Into<String>,
        envelope_from: Option<String>,
        envelope_to: Vec<String>,
        raw: Bytes,
    ) -> Self {
        SentEmail {
            message_id: message_id.into(),
            envelope_from,
            envelope_to,
            raw,
        }
    }

    /// The (unfolded, still encoded) value of the first header called `name`.
    pub fn header(&self, name: &str) -> Option<String> {
        let text = String::from_utf8_lossy(&self.raw);
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = found.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push_str(line);
                    continue;
                }
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                found = Some(v.trim_start().to_owned());
            }
        }
        found
    }

    /// The raw message as text (it is 7-bit).
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// How many messages an outbox keeps unless told otherwise.
pub const DEFAULT_CAPACITY: usize = 1000;

struct Shared {
    messages: Mutex<VecDeque<SentEmail>>,
    capacity: usize,
    /// Faults the simulator queued for the next sends into this outbox.
    #[cfg(feature = "sim")]
    faults: switchboard_core::testkit::Faults,
}

/// The memory mode's outbox: the last messages "sent", oldest dropped past its capacity. Clones share
/// the messages.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<Shared>,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("len", &self.len())
            .field("capacity", &self.inner.capacity)
            .finish()
    }
}

/// The process-wide outboxes by name. Weak: an outbox nobody holds any more is forgotten.
fn named_outboxes() -> &'static Mutex<HashMap<String, Weak<Shared>>> {
    static NAMED: OnceLock<Mutex<HashMap<String, Weak<Shared>>>> = OnceLock::new();
    NAMED.get_or_init(Default::default)
}

impl Outbox {
    /// An outbox of its own that keeps the last `capacity` messages.
    pub fn new(capacity: usize) -> Self {
        Outbox {
            inner: Arc::new(Shared {
                messages: Mutex::new(VecDeque::new()),
                capacity: capacity.max(1),
                #[cfg(feature = "sim")]
                faults: Default::default(),
            }),
        }
    }

    /// The process-wide outbox called `name`, made (keeping [`DEFAULT_CAPACITY`] messages) the first
    /// time any client or caller asks for it. Every client configured with `outbox=name` sends here.
    pub fn named(name: &str) -> Self {
        Self::named_with_capacity(name, DEFAULT_CAPACITY)
    }

    /// Like [`Outbox::named`]; `capacity` applies only when this call makes the outbox.
    pub fn named_with_capacity(name: &str, capacity: usize) -> Self {
        let mut all = named_outboxes().lock().unwrap_or_else(|p| p.into_inner());
        if let Some(inner) = all.get(name).and_then(Weak::upgrade) {
            return Outbox { inner };
        }
        all.retain(|_, w| w.strong_count() > 0);
        let outbox = Outbox::new(capacity);
        all.insert(name.to_owned(), Arc::downgrade(&outbox.inner));
        outbox
    }

    /// Takes a message the client sends in memory mode: keeps it, or, when the simulator queued a
    /// fault, answers the fault the way an SMTP server would (`timeout` is the client's whole-send
    /// timeout, which a simulated stall runs into).
    pub(crate) async fn take_in(&self, message: SentEmail, timeout: Duration) -> Result<()> {
        #[cfg(feature = "sim")]
        if let Some(fault) = self.inner.faults.take() {
            return crate::sim::answer_fault(fault, self, message, timeout).await;
        }
        #[cfg(not(feature = "sim"))]
        let _ = timeout;
        self.push(message);
        Ok(())
    }

    pub(crate) fn push(&self, m: SentEmail) {
        let mut q = self.inner.messages.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() >= self.inner.capacity {
            q.pop_front();
        }
        q.push_back(m);
    }

    /// Every message kept, oldest first.
    pub fn messages(&self) -> Vec<SentEmail> {
        self.inner
            .messages
            .lock()
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// How many messages are kept.
    pub fn len(&self) -> usize {
        self.inner.messages.lock().map(|q| q.len()).unwrap_or(0)
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every message.
    pub fn clear(&self) {
        if let Ok(mut q) = self.inner.messages.lock() {
            q.clear();
        }
    }

    /// The faults the next sends into this outbox take instead of being kept (the simulator's).
    #[cfg(feature = "sim")]
    pub(crate) fn faults(&self) -> &switchboard_core::testkit::Faults {
        &self.inner.faults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_unfold() {
        let s = SentEmail {
            message_id: "x".into(),
            envelope_from: None,
            envelope_to: vec![],
            raw: Bytes::from_static(b"Subject: a\r\n b\r\nTo: c@d\r\n\r\nTo: body"),
        };
        assert_eq!(s.header("subject").as_deref(), Some("a b"));
        assert_eq!(s.header("To").as_deref(), Some("c@d"));
        assert_eq!(s.header("From"), None);
    }

    #[test]
    fn named_outboxes_are_shared_and_bounded() {
        let a = Outbox::named_with_capacity("outbox-unit-test", 2);
        let b = Outbox::named("outbox-unit-test");
        for id in ["1", "2", "3"] {
            b.push(SentEmail::new(id, None, vec![], Bytes::new()));
        }
        let kept: Vec<String> = a.messages().into_iter().map(|m| m.message_id).collect();
        assert_eq!(kept, ["2", "3"], "one outbox, its capacity set by whoever made it");
        assert!(Outbox::named("another-outbox").is_empty());
        drop((a, b));
        assert!(
            Outbox::named("outbox-unit-test").is_empty(),
            "forgotten once nobody holds it"
        );
    }
}

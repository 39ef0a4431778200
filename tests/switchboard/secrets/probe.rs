//! The log capture and the probe the secrets tests share: a small `tracing` subscriber written here
//! (no extra dependency) that records every event and every span field, and what one test rendered,
//! checked against the secrets it registered.

use std::fmt::{Debug, Display, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use switchboard::{Dsn, Error, ExposeSecret, PhoneNumber};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};

/// Records every event and span field as text.
struct Collector {
    out: Arc<Mutex<String>>,
    next: AtomicU64,
}

struct Text<'a>(&'a mut String);

impl Visit for Text<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        // Unescaped as well, so nothing hides behind Debug's escaping.
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let _ = write!(self.0, " {}={} / {:?}", field.name(), value, value);
        let mut s = value.source();
        while let Some(e) = s {
            let _ = write!(self.0, " <- {e} / {e:?}");
            s = e.source();
        }
    }
}

impl Collector {
    fn line(&self, kind: &str, meta: &Metadata<'_>, fill: impl FnOnce(&mut String)) {
        let mut s = format!("{kind} {} {} {}:", meta.level(), meta.target(), meta.name());
        fill(&mut s);
        s.push('\n');
        if let Ok(mut out) = self.out.lock() {
            out.push_str(&s);
        }
    }
}

impl Subscriber for Collector {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::always()
    }
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.line("span", span.metadata(), |s| span.record(&mut Text(s)));
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut s = String::from("record:");
        values.record(&mut Text(&mut s));
        s.push('\n');
        if let Ok(mut out) = self.out.lock() {
            out.push_str(&s);
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        self.line("event", event.metadata(), |s| event.record(&mut Text(s)));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// What one test saw: captured logs plus every `Debug`/`Display` it rendered, and the secrets to look
/// for in all of it.
pub(super) struct Probe {
    logs: Arc<Mutex<String>>,
    _guard: tracing::subscriber::DefaultGuard,
    seen: Vec<(String, String)>,
    pub(super) secrets: Vec<String>,
    /// Whether what ran must have logged (everything that calls a provider does).
    pub(super) logs_expected: bool,
}

impl Probe {
    pub(super) fn start() -> Probe {
        let logs = Arc::new(Mutex::new(String::new()));
        let guard = tracing::subscriber::set_default(Collector {
            out: logs.clone(),
            next: AtomicU64::new(0),
        });
        Probe {
            logs,
            _guard: guard,
            seen: Vec::new(),
            secrets: Vec::new(),
            logs_expected: true,
        }
    }

    /// A value that must never show. Short values would match by accident and are refused here.
    pub(super) fn secret(&mut self, s: impl Into<String>) {
        let s = s.into();
        assert!(s.len() >= 8, "'{s}' is too short to look for");
        if !self.secrets.contains(&s) {
            self.secrets.push(s);
        }
    }

    /// The secrets of a DSN: its password, its user part when that is a key, and any option whose
    /// name says it is a credential (comma-separated lists split).
    pub(super) fn dsn_secrets(&mut self, dsn: &str, user_is_key: bool) {
        let d = Dsn::parse(dsn).unwrap();
        if let Some(p) = d
            .password()
            .map(|p| p.expose_secret().to_owned())
            .filter(|p| !p.is_empty())
        {
            self.secret(p);
        }
        if user_is_key && let Some(u) = d.user() {
            self.secret(u.to_owned());
        }
        let opts: Vec<(String, String)> = d.options().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        for (k, v) in opts {
            // `auth=user` names a mode, not a credential: only values long enough to be keys count.
            if switchboard::core::secret::is_sensitive_name(&k) {
                for part in v.split(',').filter(|p| p.len() >= 8) {
                    self.secret(part.to_owned());
                }
            }
        }
    }

    /// A phone number used: the E.164 form and the bare digits must never show whole.
    pub(super) fn phone(&mut self, n: &PhoneNumber) {
        self.secret(n.as_e164().to_owned());
        self.secret(n.as_e164().trim_start_matches('+').to_owned());
    }

    /// Bearer and Basic credentials the simulator received.
    pub(super) fn authorization_headers<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) {
        for v in values {
            let v = v.trim();
            let cred = v.split_once(' ').map_or(v, |(_, c)| c.trim());
            if cred.len() >= 8 && !v.starts_with("Digest") {
                self.secret(cred.to_owned());
            }
        }
    }

    pub(super) fn dbg(&mut self, what: &str, v: &impl Debug) {
        self.seen.push((format!("{what} (Debug)"), format!("{v:?}")));
        self.seen
            .push((format!("{what} (Debug, alternate)"), format!("{v:#?}")));
    }

    pub(super) fn show(&mut self, what: &str, v: &(impl Display + Debug)) {
        self.seen.push((format!("{what} (Display)"), v.to_string()));
        self.dbg(what, v);
    }

    pub(super) fn err(&mut self, what: &str, e: &Error) {
        self.show(what, e);
        self.seen.push((format!("{what} (message)"), e.message().to_owned()));
        if let Some(t) = e.provider_text() {
            self.seen.push((format!("{what} (provider text)"), t.to_owned()));
        }
        self.seen
            .push((format!("{what} (chain)"), switchboard::core::error::display_chain(e)));
    }

    /// Records an outcome, whichever it was.
    pub(super) fn result<T: Debug>(&mut self, what: &str, r: &switchboard::Result<T>) {
        match r {
            Ok(v) => self.dbg(what, v),
            Err(e) => self.err(what, e),
        }
    }

    /// Fails with every place a secret showed.
    pub(super) fn check(self) {
        let logs = self.logs.lock().unwrap().clone();
        assert!(
            !logs.is_empty() || !self.logs_expected,
            "the collector captured nothing: is tracing compiled out?"
        );
        let mut leaks = Vec::new();
        let mut all: Vec<(String, String)> = self.seen;
        all.push(("logs".to_owned(), logs));
        for (what, text) in &all {
            for s in &self.secrets {
                if let Some(at) = text.find(s.as_str()) {
                    let from = text[..at].char_indices().rev().nth(120).map_or(0, |(i, _)| i);
                    let to = (at + s.len() + 60).min(text.len());
                    let to = (to..=text.len())
                        .find(|i| text.is_char_boundary(*i))
                        .unwrap_or(text.len());
                    leaks.push(format!("{what} shows '{s}': …{}…", &text[from..to]));
                }
            }
        }
        assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n\n"));
        assert!(!self.secrets.is_empty());
        let log_lines = all.last().map_or(0, |(_, l)| l.lines().count());
        eprintln!(
            "checked {} secrets against {log_lines} log lines and {} renderings",
            self.secrets.len(),
            all.len() - 1
        );
    }
}

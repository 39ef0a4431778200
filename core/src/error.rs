//! The one error type every switchboard crate returns.
//!
//! An [`Error`] answers the three questions a caller has after a failed call:
//!
//! * **What went wrong?** [`Error::kind`], plus the provider's own code and text when it gave one.
//! * **Did anything reach the provider?** [`Error::dispatch`]: [`Dispatch::NotSent`] means the request
//!   certainly never left (or was refused before it was acted on), [`Dispatch::MaybeSent`] means it may
//!   have been acted on (a timeout after the body was written, a connection dropped mid-response), and
//!   [`Dispatch::Sent`] means the provider answered.
//! * **May I try again?** [`Error::is_retryable`] says whether the *kind* is temporary;
//!   [`Error::is_safe_to_retry`] combines that with the dispatch fact, which is what retry and failover use,
//!   because a blind retry of a `MaybeSent` SMS is how customers get the same text twice.
//!
//! `Display` is one line: what happened, and what to do. It never contains a secret and never the
//! source error (walk [`std::error::Error::source`] for the chain, as the smithy-rs guidelines advise).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// A boxed error that can cross threads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with switchboard's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure this is. New kinds may be added, so match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input is wrong (a malformed number, an oversized text, an empty recipient list).
    InvalidInput,
    /// The configuration is wrong or incomplete (a bad DSN, a missing secret).
    Config,
    /// The provider refused the credentials.
    Auth,
    /// The provider (or our own limiter) said to slow down.
    RateLimited,
    /// The provider understood the request and refused it (a blocked sender, no balance, a bad destination).
    Rejected,
    /// The object asked for does not exist.
    NotFound,
    /// The provider is temporarily unable to serve (5xx, maintenance, no free gateway port).
    Unavailable,
    /// No answer came in time.
    Timeout,
    /// The connection failed (refused, reset, TLS).
    Transport,
    /// The provider answered something we could not understand.
    Decode,
    /// The operation is not offered by this provider or transport.
    Unsupported,
    /// The request clashes with the state of something else: an idempotency key in flight in another
    /// process, or reused for a different message.
    Conflict,
    /// An earlier attempt may have gone out and could not be reconciled: a person or the host must
    /// decide (look at the provider's records, then resolve the key) before it is sent again.
    NeedsDecision,
}

impl ErrorKind {
    /// Whether failures of this kind are temporary, so the same request may succeed later.
    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Transport
        )
    }

    /// A short, stable name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Config => "configuration error",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Rejected => "rejected",
            ErrorKind::NotFound => "not found",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Transport => "connection failed",
            ErrorKind::Decode => "unreadable answer",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Conflict => "conflict",
            ErrorKind::NeedsDecision => "needs a decision",
        }
    }

    /// What a caller should usually do about an error of this kind.
    fn advice(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "fix the input and send again",
            ErrorKind::Config => "fix the configuration",
            ErrorKind::Auth => "check the credentials",
            ErrorKind::RateLimited => "slow down and retry later",
            ErrorKind::Rejected => "the provider will not accept this request as it is",
            ErrorKind::NotFound => "check the identifier",
            ErrorKind::Unavailable => "retry later or fail over",
            ErrorKind::Timeout => "check whether it landed before sending again",
            ErrorKind::Transport => "check the network and the endpoint",
            ErrorKind::Decode => "the provider's answer changed or is broken; report it",
            ErrorKind::Unsupported => "use a transport that offers it",
            ErrorKind::Conflict => "wait for the other sender, or use a new key for a new message",
            ErrorKind::NeedsDecision => "check the provider's records, then resolve the key in the store",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the failed request may have reached the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dispatch {
    /// The request never left, or was refused before the provider acted on it (connect refused, built
    /// wrong, rate limited before sending). Repeating it cannot duplicate anything.
    NotSent,
    /// The request may have been acted on: it was written and then the answer was lost (timeout after
    /// writing, connection dropped mid-response). Repeat only if the operation is idempotent.
    MaybeSent,
    /// The provider answered; whatever it said is final for this request.
    Sent,
}

impl fmt::Display for Dispatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dispatch::NotSent => "not sent",
            Dispatch::MaybeSent => "may have been sent",
            Dispatch::Sent => "sent",
        })
    }
}

/// The error of every switchboard operation. See the [module docs](self).
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    dispatch: Dispatch,
    provider: Option<Cow<'static, str>>,
    message: Cow<'static, str>,
    provider_code: Option<String>,
    provider_text: Option<String>,
    http_status: Option<u16>,
    retry_after: Option<Duration>,
    source: Option<BoxError>,
}

/// The longest provider text kept in an error; provider error pages can be megabytes.
const MAX_PROVIDER_TEXT: usize = 300;

impl Error {
    /// A new error of `kind` with a human message. The dispatch fact defaults to the one that fits the
    /// kind best: `NotSent` for input, configuration, unsupported and conflict errors (nothing was sent),
    /// `MaybeSent` for timeouts and undecided keys, `Sent` otherwise. Correct it with [`Error::with_dispatch`].
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        let dispatch = match kind {
            ErrorKind::InvalidInput | ErrorKind::Config | ErrorKind::Unsupported | ErrorKind::Conflict => {
                Dispatch::NotSent
            }
            ErrorKind::Timeout | ErrorKind::NeedsDecision => Dispatch::MaybeSent,
            _ => Dispatch::Sent,
        };
        Error {
            inner: Box::new(Inner {
                kind,
                dispatch,
                provider: None,
                message: message.into(),
                provider_code: None,
                provider_text: None,
                http_status: None,
                retry_after: None,
                source: None,
            }),
        }
    }

    /// Shorthand for an [`ErrorKind::InvalidInput`] error.
    pub fn invalid_input(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Shorthand for an [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// Shorthand for an [`ErrorKind::Decode`] error: the provider answered, we could not read it.
    pub fn decode(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    /// Shorthand for an [`ErrorKind::Unsupported`] error.
    pub fn unsupported(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// Names the provider or transport that failed (`"dinstar"`, `"mitto"`).
    pub fn with_provider(mut self, provider: impl Into<Cow<'static, str>>) -> Self {
        self.inner.provider = Some(provider.into());
        self
    }

    /// Sets the dispatch fact.
    pub fn with_dispatch(mut self, dispatch: Dispatch) -> Self {
        self.inner.dispatch = dispatch;
        self
    }

    /// Keeps the provider's own error code (`"413"`, `"21211"`, `"UNREGISTERED"`).
    pub fn with_provider_code(mut self, code: impl ToString) -> Self {
        self.inner.provider_code = Some(code.to_string());
        self
    }

    /// Keeps the provider's own error text, capped so an HTML error page cannot flood a log, with phone
    /// numbers in it masked (providers like to quote the number they refused).
    pub fn with_provider_text(mut self, text: impl AsRef<str>) -> Self {
        let text = crate::secret::scrub_numbers(text.as_ref());
        self.inner.provider_text = Some(truncate(&text, MAX_PROVIDER_TEXT));
        self
    }

    /// Keeps the HTTP status of the answer.
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.inner.http_status = Some(status);
        self
    }

    /// How long the provider asked us to wait before trying again.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.inner.retry_after = Some(after);
        self
    }

    /// Chains the underlying cause, reachable through [`std::error::Error::source`].
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// Replaces the human message, keeping everything else.
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.inner.message = message.into();
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether the request may have reached the provider.
    pub fn dispatch(&self) -> Dispatch {
        self.inner.dispatch
    }

    /// The provider or transport that failed, when known.
    pub fn provider(&self) -> Option<&str> {
        self.inner.provider.as_deref()
    }

    /// The human message, without provider details.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The provider's own error code.
    pub fn provider_code(&self) -> Option<&str> {
        self.inner.provider_code.as_deref()
    }

    /// The provider's own error text (capped).
    pub fn provider_text(&self) -> Option<&str> {
        self.inner.provider_text.as_deref()
    }

    /// The HTTP status of the provider's answer.
    pub fn http_status(&self) -> Option<u16> {
        self.inner.http_status
    }

    /// How long the provider asked to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// Whether the kind is temporary: the same request may succeed later. This says nothing about
    /// whether repeating it is *safe*; see [`Error::is_safe_to_retry`].
    pub fn is_retryable(&self) -> bool {
        self.inner.kind.is_temporary()
    }

    /// Whether another transport may be tried for the same message: nothing was sent, and the failure
    /// is about this transport (down, slow, rate limited, badly configured, refusing our credentials,
    /// unable to do this) rather than about the message (invalid input, a final rejection), which another
    /// transport would most likely refuse as well.
    pub fn may_fail_over(&self) -> bool {
        self.inner.dispatch == Dispatch::NotSent
            && matches!(
                self.inner.kind,
                ErrorKind::RateLimited
                    | ErrorKind::Unavailable
                    | ErrorKind::Timeout
                    | ErrorKind::Transport
                    | ErrorKind::Auth
                    | ErrorKind::Config
                    | ErrorKind::Unsupported
            )
    }

    /// A copy with every fact (kind, dispatch, provider, codes, status, `Retry-After`) but the source
    /// chain, whose text is folded into the copy's source. For handing one failure to many callers: a
    /// refused bulk request fails each of its messages, a failed token fetch fails every waiter.
    /// (`Error` is not `Clone` because sources are not.)
    pub fn replicate(&self) -> Error {
        let i = &self.inner;
        Error {
            inner: Box::new(Inner {
                kind: i.kind,
                dispatch: i.dispatch,
                provider: i.provider.clone(),
                message: i.message.clone(),
                provider_code: i.provider_code.clone(),
                provider_text: i.provider_text.clone(),
                http_status: i.http_status,
                retry_after: i.retry_after,
                source: i.source.as_ref().map(|s| BoxError::from(display_chain(s.as_ref()))),
            }),
        }
    }

    /// Whether repeating the request can neither fail the same way for sure nor duplicate its effect:
    /// the kind is temporary and either nothing was sent, or the caller vouches that the operation is
    /// `idempotent` (an idempotency key, a read, or a lookup that proved the first try did not land).
    pub fn is_safe_to_retry(&self, idempotent: bool) -> bool {
        self.is_retryable() && (self.inner.dispatch == Dispatch::NotSent || idempotent)
    }
}

/// What to do, where the dispatch fact changes the answer: an unreadable answer to a request the
/// provider acted on must be looked up, not repeated.
fn advice(kind: ErrorKind, dispatch: Dispatch) -> &'static str {
    match (kind, dispatch) {
        (ErrorKind::Decode, Dispatch::Sent | Dispatch::MaybeSent) => {
            "the provider acted on the request but its answer is unreadable: look the object up before repeating anything, and report the answer"
        }
        _ => kind.advice(),
    }
}

fn truncate(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        if let Some(p) = &i.provider {
            write!(f, "{p}: ")?;
        }
        write!(f, "{}: {}", i.kind, i.message)?;
        match (&i.provider_code, &i.provider_text) {
            (Some(c), Some(t)) => write!(f, " (provider code {c}: {t})")?,
            (Some(c), None) => write!(f, " (provider code {c})")?,
            (None, Some(t)) => write!(f, " (provider said: {t})")?,
            (None, None) => {}
        }
        if let Some(s) = i.http_status {
            write!(f, " [HTTP {s}]")?;
        }
        if let Some(r) = i.retry_after {
            write!(f, " [retry after {}s]", r.as_secs_f32())?;
        }
        // A configuration error is found before any request exists: "not sent" says nothing there.
        if i.kind == ErrorKind::Config {
            write!(f, "; {}", i.kind.advice())
        } else {
            write!(f, "; {}; {}", i.dispatch, advice(i.kind, i.dispatch))
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("Error");
        d.field("kind", &i.kind).field("dispatch", &i.dispatch);
        if let Some(p) = &i.provider {
            d.field("provider", p);
        }
        d.field("message", &i.message);
        if let Some(c) = &i.provider_code {
            d.field("provider_code", c);
        }
        if let Some(t) = &i.provider_text {
            d.field("provider_text", t);
        }
        if let Some(s) = &i.http_status {
            d.field("http_status", s);
        }
        if let Some(r) = &i.retry_after {
            d.field("retry_after", r);
        }
        if let Some(s) = &i.source {
            d.field("source", &s.to_string());
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.source {
            Some(s) => Some(s.as_ref()),
            None => None,
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        // serde_json's message names the position, never the value, so it is safe to keep.
        Error::decode(format!("malformed JSON: {e}")).with_source(e)
    }
}

impl From<crate::phone::PhoneError> for Error {
    fn from(e: crate::phone::PhoneError) -> Self {
        Error::invalid_input(e.to_string()).with_source(e)
    }
}

impl From<crate::segment::SegmentError> for Error {
    fn from(e: crate::segment::SegmentError) -> Self {
        Error::invalid_input(e.to_string()).with_source(e)
    }
}

/// Formats an error and every cause below it, joined by `: `, for a log line.
pub fn display_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_of_dispatch_follow_the_kind() {
        assert_eq!(Error::invalid_input("x").dispatch(), Dispatch::NotSent);
        assert_eq!(Error::config("x").dispatch(), Dispatch::NotSent);
        assert_eq!(Error::unsupported("x").dispatch(), Dispatch::NotSent);
        assert_eq!(Error::new(ErrorKind::Timeout, "x").dispatch(), Dispatch::MaybeSent);
        assert_eq!(Error::new(ErrorKind::Rejected, "x").dispatch(), Dispatch::Sent);
    }

    #[test]
    fn every_kind_has_a_temporary_flag() {
        use ErrorKind::*;
        let temporary = [RateLimited, Unavailable, Timeout, Transport];
        let permanent = [InvalidInput, Config, Auth, Rejected, NotFound, Decode, Unsupported];
        for k in temporary {
            assert!(k.is_temporary(), "{k:?}");
        }
        for k in permanent {
            assert!(!k.is_temporary(), "{k:?}");
        }
    }

    #[test]
    fn safe_to_retry_needs_not_sent_or_idempotence() {
        let e = Error::new(ErrorKind::Unavailable, "down").with_dispatch(Dispatch::NotSent);
        assert!(e.is_safe_to_retry(false));
        let e = Error::new(ErrorKind::Timeout, "slow");
        assert!(e.is_retryable());
        assert!(!e.is_safe_to_retry(false));
        assert!(e.is_safe_to_retry(true));
        let e = Error::new(ErrorKind::Rejected, "no").with_dispatch(Dispatch::NotSent);
        assert!(!e.is_safe_to_retry(true));
    }

    #[test]
    fn display_is_one_line_with_advice_and_without_source() {
        let e = Error::new(ErrorKind::Rejected, "text too long")
            .with_provider("dinstar")
            .with_provider_code(413)
            .with_provider_text("over 128 numbers\nor 1500 bytes")
            .with_http_status(200)
            .with_source(std::io::Error::other("secret-cause"));
        let s = e.to_string();
        assert!(s.starts_with("dinstar: rejected: text too long (provider code 413"));
        assert!(s.contains("[HTTP 200]"));
        assert!(s.ends_with("the provider will not accept this request as it is"));
        assert!(!s.contains("secret-cause"));
        assert_eq!(display_chain(&e).matches("secret-cause").count(), 1);
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn replicate_keeps_every_fact() {
        let e = Error::new(ErrorKind::RateLimited, "slow down")
            .with_provider("mitto")
            .with_dispatch(Dispatch::NotSent)
            .with_provider_code("1")
            .with_provider_text("busy")
            .with_http_status(429)
            .with_retry_after(Duration::from_secs(2))
            .with_source(std::io::Error::other("root cause"));
        let c = e.replicate();
        assert_eq!(c.to_string(), e.to_string());
        assert_eq!(format!("{c:?}"), format!("{e:?}"));
        assert_eq!(display_chain(&c), display_chain(&e));
    }

    #[test]
    fn fail_over_only_for_transport_side_failures_that_did_not_send() {
        let ns = |k| Error::new(k, "x").with_dispatch(Dispatch::NotSent);
        for k in [
            ErrorKind::Unavailable,
            ErrorKind::Auth,
            ErrorKind::Transport,
            ErrorKind::Unsupported,
        ] {
            assert!(ns(k).may_fail_over(), "{k:?}");
        }
        for k in [
            ErrorKind::InvalidInput,
            ErrorKind::Rejected,
            ErrorKind::Decode,
            ErrorKind::NotFound,
        ] {
            assert!(!ns(k).may_fail_over(), "{k:?}");
        }
        assert!(
            !Error::new(ErrorKind::Unavailable, "x")
                .with_dispatch(Dispatch::MaybeSent)
                .may_fail_over()
        );
    }

    #[test]
    fn provider_text_is_capped_on_a_char_boundary() {
        let long = "я".repeat(1000);
        let e = Error::decode("x").with_provider_text(&long);
        let t = e.provider_text().unwrap();
        assert!(t.len() <= MAX_PROVIDER_TEXT + "…".len());
        assert!(t.ends_with('…'));
    }
}

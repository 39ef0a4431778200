//! Routes: which transports a message may go through, and in what order.
//!
//! A [`Route`] is a matcher (any recipient, a recipient kind, a country calling code) and a list of
//! transport names tried as a failover chain, or as a round-robin group whose starting member rotates.
//! Routes are checked in the order they were added; the first that matches the recipient (and has a
//! member that supports it) is used.

use switchboard_core::Recipient;

/// What a route matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Matcher {
    Any,
    AnyPhone,
    Email,
    Push,
    Chat,
    Country(u16),
}

/// How a route uses its transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// In order: the first, then the next when the first certainly did not send.
    Failover,
    /// Each send starts at the next member; the others follow as failover.
    RoundRobin,
}

/// A routing rule. Build one with a matcher constructor, then [`Route::via`] or [`Route::round_robin`].
///
/// ```
/// use switchboard::Route;
/// let albania = Route::country(355).via(["gsm", "cloud"]); // gateway first, cloud as failover
/// let rest = Route::any_phone().round_robin(["cloud-a", "cloud-b"]);
/// # let _ = (albania, rest);
/// ```
#[derive(Debug, Clone)]
pub struct Route {
    pub(crate) matcher: Matcher,
    pub(crate) strategy: Strategy,
    pub(crate) transports: Vec<String>,
}

impl Route {
    fn with(matcher: Matcher) -> Self {
        Route {
            matcher,
            strategy: Strategy::Failover,
            transports: Vec::new(),
        }
    }

    /// Matches every recipient.
    pub fn any() -> Self {
        Self::with(Matcher::Any)
    }

    /// Matches every phone number.
    pub fn any_phone() -> Self {
        Self::with(Matcher::AnyPhone)
    }

    /// Matches phone numbers of one country calling code (`355` for Albania, `7` for Russia and
    /// Kazakhstan).
    pub fn country(calling_code: u16) -> Self {
        Self::with(Matcher::Country(calling_code))
    }

    /// Matches email addresses.
    pub fn email() -> Self {
        Self::with(Matcher::Email)
    }

    /// Matches push tokens and topics.
    pub fn push() -> Self {
        Self::with(Matcher::Push)
    }

    /// Matches chats.
    pub fn chat() -> Self {
        Self::with(Matcher::Chat)
    }

    /// Sends through these transports as a failover chain, in this order.
    pub fn via<I, S>(mut self, transports: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.transports = transports.into_iter().map(Into::into).collect();
        self.strategy = Strategy::Failover;
        self
    }

    /// Spreads sends over these transports in turn; on a failure that certainly did not send, the
    /// others are tried as failover.
    pub fn round_robin<I, S>(mut self, transports: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.transports = transports.into_iter().map(Into::into).collect();
        self.strategy = Strategy::RoundRobin;
        self
    }

    pub(crate) fn matches(&self, r: &Recipient) -> bool {
        match (&self.matcher, r) {
            (Matcher::Any, _) => true,
            (Matcher::AnyPhone, Recipient::Phone(_)) => true,
            (Matcher::Country(cc), Recipient::Phone(p)) => p.country_code() == *cc,
            (Matcher::Email, Recipient::Email(_)) => true,
            (Matcher::Push, Recipient::PushToken(_) | Recipient::PushTopic(_)) => true,
            (Matcher::Chat, Recipient::Chat(_)) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::PhoneNumber;

    #[test]
    fn matchers() {
        let al = Recipient::Phone(PhoneNumber::parse("+355694123456", None).unwrap());
        let ru = Recipient::Phone(PhoneNumber::parse("+79123456789", None).unwrap());
        let mail = Recipient::email("a@b.co").unwrap();
        assert!(Route::country(355).matches(&al));
        assert!(!Route::country(355).matches(&ru));
        assert!(Route::any_phone().matches(&ru));
        assert!(!Route::any_phone().matches(&mail));
        assert!(Route::email().matches(&mail));
        assert!(Route::any().matches(&mail));
        assert!(!Route::chat().matches(&mail));
        assert!(Route::push().matches(&Recipient::PushTopic("news".into())));
    }
}

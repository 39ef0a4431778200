//! SMTP failures → switchboard [`Error`]s, with the dispatch fact decided by *where* in the
//! conversation the failure happened.
//!
//! What proves nothing was accepted: an SMTP server takes responsibility for a message only with a
//! positive reply to the final `.` of DATA (RFC 5321 §4.1.1.4). So
//!
//! * every **negative reply** (4xx or 5xx), at any stage, even right after the final dot, means the
//!   server refused the message: `NotSent`. 4xx is temporary (`Unavailable`, retryable), 5xx is final;
//! * a **connection failure or timeout before the body was written** (greeting, EHLO, STARTTLS, AUTH,
//!   MAIL, RCPT, the DATA command) is `NotSent`: without the final dot there is no message;
//! * a **connection failure or timeout after the body was written**, before the server's reply, is
//!   `MaybeSent`: the server may have queued it and the reply was lost.
//!
//! | reply | kind |
//! |---|---|
//! | 421, 450, 451, 452, 454 and other 4xx | `Unavailable` (temporary) |
//! | 530, 534, 535, 538 | `Auth` |
//! | 552 (size / storage) | `InvalidInput` |
//! | 550, 551, 553, 554, 5xx others | `Rejected` |

use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;

/// How far an SMTP conversation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Stage {
    /// TCP (and implicit TLS) connect and the greeting.
    Connect = 0,
    /// EHLO, STARTTLS, AUTH.
    Session = 1,
    /// MAIL FROM and RCPT TO.
    Envelope = 2,
    /// The DATA command, before the server's 354.
    Data = 3,
    /// The message body and final dot were (being) written; the reply is awaited.
    Body = 4,
}

impl Stage {
    pub(crate) fn from_u8(n: u8) -> Stage {
        match n {
            0 => Stage::Connect,
            1 => Stage::Session,
            2 => Stage::Envelope,
            3 => Stage::Data,
            _ => Stage::Body,
        }
    }

    /// Whether a failure here (other than a negative reply) may have left the message accepted.
    pub fn may_have_landed(self) -> bool {
        self == Stage::Body
    }

    fn dispatch(self) -> Dispatch {
        if self.may_have_landed() {
            Dispatch::MaybeSent
        } else {
            Dispatch::NotSent
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Stage::Connect => "connecting",
            Stage::Session => "setting up the session",
            Stage::Envelope => "sending the envelope",
            Stage::Data => "starting DATA",
            Stage::Body => "waiting for the reply to the message",
        }
    }
}

/// The kind a negative reply code stands for.
pub fn reply_kind(code: u16) -> ErrorKind {
    match code {
        530 | 534 | 535 | 538 => ErrorKind::Auth,
        552 => ErrorKind::InvalidInput,
        400..=499 => ErrorKind::Unavailable,
        _ => ErrorKind::Rejected,
    }
}

/// The one mapping of SMTP failures: a lettre SMTP error raised at `stage` (a negative reply, a
/// dropped connection, a TLS or capability failure) as an [`Error`] whose dispatch fact follows the
/// rules in the [module docs](self).
pub fn parse_error(err: lettre::transport::smtp::Error, stage: Stage) -> Error {
    if let Some(code) = err.status() {
        let text = std::error::Error::source(&err)
            .map(|s| s.to_string())
            .unwrap_or_default();
        return refusal(u16::from(code), &text, stage).with_source(err);
    }
    let (kind, what) = if err.is_timeout() {
        (ErrorKind::Timeout, "the SMTP server did not answer in time")
    } else if err.is_tls() {
        (ErrorKind::Transport, "the TLS handshake with the SMTP server failed")
    } else if err.is_client() && stage <= Stage::Session {
        (
            ErrorKind::Config,
            "the SMTP server does not offer what the configuration needs (STARTTLS or an AUTH mechanism)",
        )
    } else if err.is_client() {
        (
            ErrorKind::Unsupported,
            "the SMTP server cannot take this message (8BITMIME or SMTPUTF8 missing)",
        )
    } else {
        (ErrorKind::Transport, "the connection to the SMTP server failed")
    };
    Error::new(kind, format!("{what} while {}", stage.as_str()))
        .with_dispatch(if err.is_client() {
            Dispatch::NotSent
        } else {
            stage.dispatch()
        })
        .with_provider(SCHEME)
        .with_source(err)
}

/// A negative reply `code` (with its text) at `stage`: the server refused, so nothing was accepted.
pub(crate) fn refusal(code: u16, text: &str, stage: Stage) -> Error {
    let what = match reply_kind(code) {
        ErrorKind::Auth => "the SMTP server refused the credentials",
        ErrorKind::Unavailable => "the SMTP server refused the message for now (temporary)",
        ErrorKind::InvalidInput => "the SMTP server refused the message's size",
        _ => "the SMTP server refused the message",
    };
    let e = Error::new(reply_kind(code), format!("{what} while {}", stage.as_str()))
        .with_dispatch(Dispatch::NotSent)
        .with_provider(SCHEME)
        .with_provider_code(code);
    if text.is_empty() { e } else { e.with_provider_text(text) }
}

/// The error for the whole-send timeout firing at `stage`.
pub fn timed_out(stage: Stage, after: std::time::Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "the SMTP send did not finish within {after:?} (stalled while {})",
            stage.as_str()
        ),
    )
    .with_dispatch(stage.dispatch())
    .with_provider(SCHEME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_kinds() {
        for (c, k) in [
            (421, ErrorKind::Unavailable),
            (451, ErrorKind::Unavailable),
            (535, ErrorKind::Auth),
            (530, ErrorKind::Auth),
            (550, ErrorKind::Rejected),
            (552, ErrorKind::InvalidInput),
            (554, ErrorKind::Rejected),
            (500, ErrorKind::Rejected),
        ] {
            assert_eq!(reply_kind(c), k, "{c}");
        }
    }

    #[test]
    fn timeouts_before_the_body_are_not_sent() {
        for s in [Stage::Connect, Stage::Session, Stage::Envelope, Stage::Data] {
            assert_eq!(
                timed_out(s, std::time::Duration::from_secs(1)).dispatch(),
                Dispatch::NotSent
            );
        }
        assert_eq!(
            timed_out(Stage::Body, std::time::Duration::from_secs(1)).dispatch(),
            Dispatch::MaybeSent
        );
        assert_eq!(Stage::from_u8(3), Stage::Data);
    }
}

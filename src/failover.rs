//! What failover reports when no transport took a message.

use std::fmt;

use switchboard_core::{Error, ErrorKind};

/// One transport's failed attempt.
#[derive(Debug)]
pub struct Attempt {
    /// The registered transport name.
    pub transport: String,
    /// Why it failed.
    pub error: Error,
}

/// Every attempt of a send that no transport took, in order. It is the [`source`](std::error::Error::source)
/// of the error [`Messenger::send`](crate::Messenger::send) returns when more than one transport was
/// tried; reach it with `err.source().and_then(|s| s.downcast_ref::<AllFailed>())`.
#[derive(Debug)]
pub struct AllFailed {
    /// The attempts, first to last.
    pub attempts: Vec<Attempt>,
}

impl AllFailed {
    /// The error for a send whose every attempt failed. One attempt: its own error. Several: an error
    /// of the last attempt's kind and dispatch fact (failover only moves on from attempts that certainly
    /// did not send, so only the last can have gone out), naming every cause, with this as its source.
    pub(crate) fn into_error(mut attempts: Vec<Attempt>) -> Error {
        match attempts.len() {
            0 => Error::new(ErrorKind::Unavailable, "no transport was available to try")
                .with_dispatch(switchboard_core::Dispatch::NotSent),
            1 => attempts.remove(0).error,
            n => {
                let last = &attempts[n - 1].error;
                let (kind, dispatch) = (last.kind(), last.dispatch());
                let summary = attempts
                    .iter()
                    .map(|a| format!("{}: {}", a.transport, a.error.message()))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut e = Error::new(kind, format!("all {n} transports failed ({summary})")).with_dispatch(dispatch);
                if let Some(after) = attempts.iter().filter_map(|a| a.error.retry_after()).min() {
                    e = e.with_retry_after(after);
                }
                e.with_source(AllFailed { attempts })
            }
        }
    }
}

impl fmt::Display for AllFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.attempts.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", a.transport, a.error)?;
        }
        Ok(())
    }
}

impl std::error::Error for AllFailed {}

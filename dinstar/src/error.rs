//! The gateway's `error_code` table, mapped to core [`Error`]s.
//!
//! A Dinstar gateway answers HTTP 200 to almost everything and puts the real outcome in the body's
//! `error_code` (Dinstar, "Instructions for Using HTTP API": every operation's answer carries it), so
//! the client branches on the body, never on the HTTP status.
//! The meaning of a code depends on the operation (413 on `send_sms` is "more than 128 numbers or text
//! over 1500 bytes", on a query "more than 32 numbers"), and so does the dispatch fact: a 500 on
//! `send_sms` may come after the task was queued, a 550 certainly before.

use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;

/// Which API operation an answer belongs to; it decides what a code means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `POST /api/send_sms`.
    SendSms,
    /// `POST /api/send_ussd`.
    SendUssd,
    /// A read: results, delivery status, incoming SMS, queue, USSD reply, port info, CDR, status.
    Query,
    /// `GET /api/stop_sms`.
    StopSms,
    /// `GET /api/set_port_info`.
    SetPortInfo,
}

/// `error_code` 200: the request was processed.
pub const CODE_OK: i64 = 200;
/// `error_code` 202: accepted, processed later (`send_sms`, `send_ussd`). Success, not an error.
pub const CODE_ACCEPTED: i64 = 202;
/// `error_code` 400: the request is malformed.
pub const CODE_BAD_REQUEST: i64 = 400;
/// `error_code` 404: no such task (`stop_sms`).
pub const CODE_NOT_FOUND: i64 = 404;
/// `error_code` 413: too many numbers (128 per send, 32 per query) or text over 1500 bytes.
pub const CODE_TOO_LARGE: i64 = 413;
/// `error_code` 500: any other failure.
pub const CODE_OTHER: i64 = 500;
/// `error_code` 550: no port is available to send.
pub const CODE_NO_PORT: i64 = 550;

/// Whether `code` means success for `op`.
///
/// 202 is the documented success of `send_sms`/`send_ussd`; some firmware answers 200 there (and
/// open-source clients for it accept both), so both are success everywhere.
pub(crate) fn is_success(code: i64) -> bool {
    code == CODE_OK || code == CODE_ACCEPTED
}

/// The error a non-success `error_code` stands for. `text` is a short excerpt of the answer.
pub(crate) fn code_error(op: Operation, code: i64, text: Option<&str>) -> Error {
    let send = matches!(op, Operation::SendSms | Operation::SendUssd);
    let (kind, dispatch, message): (ErrorKind, Dispatch, &'static str) = match code {
        CODE_BAD_REQUEST => (
            ErrorKind::InvalidInput,
            Dispatch::Sent,
            "the gateway refused the request as malformed (error_code 400)",
        ),
        CODE_NOT_FOUND => (
            ErrorKind::NotFound,
            Dispatch::Sent,
            match op {
                Operation::StopSms => "the gateway knows no such task (error_code 404)",
                _ => "the gateway found nothing by that key (error_code 404)",
            },
        ),
        CODE_TOO_LARGE => (
            ErrorKind::InvalidInput,
            Dispatch::Sent,
            match op {
                Operation::SendSms => {
                    "the gateway refused the batch: more than 128 numbers or text over 1500 bytes (error_code 413)"
                }
                Operation::SendUssd => "the gateway refused the USSD request as too large (error_code 413)",
                _ => "the gateway refused the query: more than 32 numbers (error_code 413)",
            },
        ),
        // "Other error": for a send, the task may have been queued before it failed, so the caller
        // must reconcile by user_id before sending again. Reads are safe to repeat.
        CODE_OTHER => (
            ErrorKind::Unavailable,
            if send { Dispatch::MaybeSent } else { Dispatch::Sent },
            "the gateway reported an internal error (error_code 500)",
        ),
        // No port: refused before anything was queued, so another route may take the message.
        CODE_NO_PORT => (
            ErrorKind::Unavailable,
            Dispatch::NotSent,
            "the gateway has no port available to send: SIMs unregistered, busy, blocked or powered off (error_code 550)",
        ),
        _ => (
            ErrorKind::Rejected,
            if send { Dispatch::MaybeSent } else { Dispatch::Sent },
            "the gateway answered an error_code this client does not know",
        ),
    };
    let mut e = Error::new(kind, message)
        .with_dispatch(dispatch)
        .with_provider(SCHEME)
        .with_provider_code(code)
        .with_http_status(200);
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        e = e.with_provider_text(t);
    }
    e
}

/// The per-port outcome of `send_ussd` (`result[].status`): the envelope's 202 alone does not mean
/// a USSD request went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UssdPortStatus {
    /// 200: sent on this port.
    Sent,
    /// 486: the port is busy (sending SMS, in a call).
    Busy,
    /// 503: the port is not registered to a network.
    NotRegistered,
    /// Any other code, kept.
    Other(u16),
}

impl UssdPortStatus {
    /// Reads the wire code.
    pub fn from_code(code: u16) -> Self {
        match code {
            200 => UssdPortStatus::Sent,
            486 => UssdPortStatus::Busy,
            503 => UssdPortStatus::NotRegistered,
            c => UssdPortStatus::Other(c),
        }
    }

    /// The wire code.
    pub fn code(self) -> u16 {
        match self {
            UssdPortStatus::Sent => 200,
            UssdPortStatus::Busy => 486,
            UssdPortStatus::NotRegistered => 503,
            UssdPortStatus::Other(c) => c,
        }
    }

    /// `None` when sent, otherwise the error for this port. Busy and unregistered ports refused
    /// before sending (`NotSent`), so the request may be repeated on them later.
    pub fn error(self, port: u8) -> Option<Error> {
        let (kind, msg) = match self {
            UssdPortStatus::Sent => return None,
            UssdPortStatus::Busy => (ErrorKind::Unavailable, format!("port {port} is busy (USSD status 486)")),
            UssdPortStatus::NotRegistered => (
                ErrorKind::Unavailable,
                format!("port {port} is not registered to a network (USSD status 503)"),
            ),
            UssdPortStatus::Other(c) => (ErrorKind::Rejected, format!("port {port} answered USSD status {c}")),
        };
        Some(
            Error::new(kind, msg)
                .with_dispatch(Dispatch::NotSent)
                .with_provider(SCHEME)
                .with_provider_code(self.code()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code() {
        assert!(is_success(200) && is_success(202));
        let cases = [
            (Operation::SendSms, 400, ErrorKind::InvalidInput, Dispatch::Sent),
            (Operation::SendSms, 413, ErrorKind::InvalidInput, Dispatch::Sent),
            (Operation::SendSms, 500, ErrorKind::Unavailable, Dispatch::MaybeSent),
            (Operation::SendSms, 550, ErrorKind::Unavailable, Dispatch::NotSent),
            (Operation::SendSms, 999, ErrorKind::Rejected, Dispatch::MaybeSent),
            (Operation::Query, 413, ErrorKind::InvalidInput, Dispatch::Sent),
            (Operation::Query, 500, ErrorKind::Unavailable, Dispatch::Sent),
            (Operation::StopSms, 404, ErrorKind::NotFound, Dispatch::Sent),
            (Operation::SendUssd, 400, ErrorKind::InvalidInput, Dispatch::Sent),
        ];
        for (op, code, kind, dispatch) in cases {
            let e = code_error(op, code, Some("x"));
            assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{op:?} {code}");
            assert_eq!(e.provider_code(), Some(code.to_string().as_str()));
            assert_eq!(e.provider(), Some(SCHEME));
        }
        assert!(code_error(Operation::Query, 413, None).message().contains("32"));
        assert!(code_error(Operation::SendSms, 413, None).message().contains("128"));
    }

    #[test]
    fn ussd_port_statuses() {
        assert!(UssdPortStatus::from_code(200).error(1).is_none());
        let busy = UssdPortStatus::from_code(486).error(2).unwrap();
        assert_eq!(
            (busy.kind(), busy.dispatch()),
            (ErrorKind::Unavailable, Dispatch::NotSent)
        );
        assert_eq!(UssdPortStatus::from_code(503), UssdPortStatus::NotRegistered);
        assert_eq!(UssdPortStatus::from_code(777).code(), 777);
    }
}

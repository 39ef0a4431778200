//! The gateway's `error_code` table, mapped to core [`Error`]s.
//!
//! A Dinstar gateway answers HTTP 200 to almost everything and puts the real outcome in the body's
//! `error_code` (Dinstar, "Instructions for Using HTTP API": every operation's answer carries it), so
//! the client branches on the body, never on the HTTP status.
//! The meaning of a code depends on the operation (413 on `send_sms` is "more than 128 numbers or text
//! over 1500 bytes", on a query "more than 32 numbers"), and so does the dispatch fact: a 500 on
//! `send_sms` may come after the task was queued, a 550 certainly before.

use serde_json::Value;
use switchboard_core::http::Reply;
use switchboard_core::{Dispatch, Error, ErrorKind, Idempotence};

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

impl Operation {
    /// The operation of an endpoint (`send_sms`), from the last segment of its path.
    pub(crate) fn of_endpoint(endpoint: &str) -> Operation {
        match endpoint {
            "send_sms" => Operation::SendSms,
            "send_ussd" => Operation::SendUssd,
            "stop_sms" => Operation::StopSms,
            "set_port_info" => Operation::SetPortInfo,
            _ => Operation::Query,
        }
    }

    /// Whether it sends something (an SMS, a USSD request) the gateway may have acted on.
    pub(crate) fn sends(self) -> bool {
        matches!(self, Operation::SendSms | Operation::SendUssd)
    }

    /// How the retry policy may treat it: reads and `stop_sms` may be repeated, changes only when the
    /// error proves nothing happened.
    pub(crate) fn idempotence(self) -> Idempotence {
        match self {
            Operation::Query | Operation::StopSms => Idempotence::Idempotent,
            Operation::SendSms | Operation::SendUssd | Operation::SetPortInfo => Idempotence::NotIdempotent,
        }
    }

    /// An answer that could not be read: for a send it says nothing about whether the task was queued.
    pub(crate) fn undecodable(self, e: Error) -> Error {
        let e = e.with_provider(SCHEME);
        if self.sends() {
            e.with_dispatch(Dispatch::MaybeSent)
        } else {
            e
        }
    }
}

/// The error an answer stands for, or `None` for a success (core's pipeline asks this of every
/// answer). The operation comes from the endpoint the answer is for; the verdict from the body's
/// `error_code`, which HTTP 200 carries too. Only `get_status` is known to answer without one.
pub(crate) fn parse_error(reply: &Reply) -> Option<Error> {
    let op = Operation::of_endpoint(&reply.endpoint);
    if reply.status.as_u16() == 404 {
        return Some(
            Error::new(
                ErrorKind::NotFound,
                format!(
                    "the gateway has no /api/{}: enable its HTTP API (\"new-version API\", firmware 1102 or later)",
                    reply.endpoint
                ),
            )
            .with_dispatch(Dispatch::NotSent)
            .with_http_status(404)
            .with_provider(SCHEME),
        );
    }
    if !reply.is_success() {
        return Some(reply.status_error().with_provider(SCHEME));
    }
    let value: Value = match reply.json() {
        Ok(v) => v,
        Err(e) => return Some(op.undecodable(e)),
    };
    let code = match value.get("error_code") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())) {
            Some(c) => Some(c),
            None => return Some(op.undecodable(Error::decode("the answer's error_code is not a number"))),
        },
    };
    match code {
        Some(c) if is_success(c) => None,
        Some(c) => Some(code_error(op, c, Some(&reply.excerpt()))),
        None if reply.endpoint == "get_status" => None,
        None => {
            Some(op.undecodable(Error::decode("the answer carries no error_code").with_provider_text(reply.excerpt())))
        }
    }
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
    fn parse_error_reads_the_code_by_the_endpoint_it_came_from() {
        let body = r#"{"error_code":413,"sn":"x"}"#;
        let send = parse_error(&Reply::of(200, body).with_endpoint("send_sms")).unwrap();
        let query = parse_error(&Reply::of(200, body).with_endpoint("query_sms_result")).unwrap();
        assert!(send.message().contains("128"), "{send}");
        assert!(query.message().contains("32"), "{query}");
        assert_eq!(send.provider(), Some(SCHEME));

        // 500 on a send may follow the queued task; on a read it changes nothing.
        let body = r#"{"error_code":500}"#;
        let e = parse_error(&Reply::of(200, body).with_endpoint("send_sms")).unwrap();
        assert_eq!(e.dispatch(), Dispatch::MaybeSent);
        let e = parse_error(&Reply::of(200, body).with_endpoint("get_port_info")).unwrap();
        assert_eq!(e.dispatch(), Dispatch::Sent);

        for ok in [r#"{"error_code":200}"#, r#"{"error_code":"202"}"#] {
            assert!(
                parse_error(&Reply::of(200, ok).with_endpoint("send_sms")).is_none(),
                "{ok}"
            );
        }
    }

    #[test]
    fn parse_error_refuses_what_it_cannot_read_with_the_right_dispatch() {
        let e = parse_error(&Reply::of(404, "").with_endpoint("send_sms")).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::NotFound, Dispatch::NotSent));
        assert!(e.message().contains("/api/send_sms"), "{e}");

        // No envelope: only get_status may answer without one.
        assert!(parse_error(&Reply::of(200, r#"{"sn":"x"}"#).with_endpoint("get_status")).is_none());
        let e = parse_error(&Reply::of(200, r#"{"sn":"x"}"#).with_endpoint("send_sms")).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::MaybeSent));
        let e = parse_error(&Reply::of(200, "<html>").with_endpoint("query_sms_result")).unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));
        let e = parse_error(&Reply::of(200, r#"{"error_code":"two"}"#).with_endpoint("send_ussd")).unwrap();
        assert_eq!(e.dispatch(), Dispatch::MaybeSent);
        let e = parse_error(&Reply::of(502, "bad gateway").with_endpoint("send_sms")).unwrap();
        assert_eq!(e.kind(), ErrorKind::Unavailable);
    }

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

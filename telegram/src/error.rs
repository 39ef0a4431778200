//! Bot API failures → switchboard [`Error`]s.
//!
//! | `error_code` / description | kind | meaning |
//! |---|---|---|
//! | 429 (`parameters.retry_after`) | `RateLimited`, with `retry_after` | flood control: wait that long |
//! | 400 "chat not found" | `NotFound` | the chat id is wrong, or the user never started the bot |
//! | 400 with `migrate_to_chat_id` | `Rejected` | the group became a supergroup: send to the new id ([`migrated_to`]) |
//! | 400 others ("message is too long", "can't parse entities"…) | `InvalidInput` | fix the request |
//! | 401 | `Auth` | the token is wrong or was revoked |
//! | 403 ("bot was blocked by the user", "kicked") | `Rejected` | the recipient does not accept the bot |
//! | 404 | `Auth` | the token is malformed, or the method does not exist |
//! | 409 | `Rejected` | a webhook is set while polling, or another poller runs |
//! | 5xx | `Unavailable` | dispatch by HTTP status (500/502 may have been acted on) |
//!
//! 4xx answers are `NotSent`: Telegram refused the call, no message exists. An `ok: false` that comes
//! with a 2xx status contradicts itself (Telegram sends a refusal with the HTTP status of its
//! `error_code`), so it is `MaybeSent`. The error code and the description are the provider code and
//! text; the whole decoded error is the source ([`ApiError`], reach it with [`ApiError::of`]). The
//! client puts the method's name in front of the message. Nothing here ever contains the URL, which
//! holds the bot token.

use std::fmt;

use http::StatusCode;
use switchboard_core::http::{Reply, retry_after, status_kind};
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::SCHEME;
use crate::model::{ApiResponse, ResponseParameters};

/// A Bot API error, decoded: the source of every Telegram API [`Error`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// `error_code`.
    pub error_code: i64,
    /// `description`.
    pub description: String,
    /// `parameters`.
    pub parameters: ResponseParameters,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the Bot API answered {}: {}", self.error_code, self.description)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// The decoded Bot API error behind an [`Error`], if there is one.
    pub fn of(e: &Error) -> Option<&ApiError> {
        std::error::Error::source(e)?.downcast_ref::<ApiError>()
    }
}

/// The supergroup a group became, when Telegram refused a send for that reason.
pub fn migrated_to(e: &Error) -> Option<i64> {
    ApiError::of(e)?.parameters.migrate_to_chat_id
}

/// Whether the user blocked the bot (or the bot was removed from the chat): stop sending there.
pub fn is_blocked(e: &Error) -> bool {
    e.provider() == Some(SCHEME) && e.provider_code() == Some("403")
}

/// The error an answer stands for: `None` for a 2xx that does not say `ok: false`; otherwise the
/// mapping in the [module docs](self), with the kind, the dispatch fact and the flood wait.
pub fn parse_error(reply: &Reply) -> Option<Error> {
    let env = reply.json::<ApiResponse<serde_json::Value>>().ok().filter(|e| !e.ok);
    let Some(env) = env else {
        if reply.is_success() {
            return None;
        }
        return Some(
            reply
                .status_error()
                .with_provider(SCHEME)
                .with_message(format!("HTTP {} without the Bot API envelope", reply.status.as_u16())),
        );
    };
    let code = env.error_code.unwrap_or(i64::from(reply.status.as_u16()));
    let description = env.description.unwrap_or_default();
    let parameters = env.parameters.unwrap_or_default();
    let lower = description.to_ascii_lowercase();
    let (kind, what): (ErrorKind, &str) = match code {
        429 => (
            ErrorKind::RateLimited,
            "flood control; Telegram asks to wait before sending again",
        ),
        400 if parameters.migrate_to_chat_id.is_some() => (
            ErrorKind::Rejected,
            "the group became a supergroup; send to its new chat id",
        ),
        400 if lower.contains("chat not found") => (
            ErrorKind::NotFound,
            "the chat does not exist, or the user has not started the bot",
        ),
        400 => (ErrorKind::InvalidInput, "Telegram refused the request"),
        401 => (ErrorKind::Auth, "the bot token is wrong or was revoked"),
        403 => (
            ErrorKind::Rejected,
            "the bot may not write there (blocked by the user, or removed from the chat)",
        ),
        404 => (
            ErrorKind::Auth,
            "the bot token is malformed or the method does not exist",
        ),
        409 => (
            ErrorKind::Rejected,
            "conflict (a webhook is set, or another getUpdates poller runs)",
        ),
        c if c >= 500 => (ErrorKind::Unavailable, "Telegram had a server error"),
        _ => (ErrorKind::Rejected, "Telegram refused the request"),
    };
    let dispatch = if reply.is_success() {
        // A refusal in the body of a success: the status and the body disagree.
        Dispatch::MaybeSent
    } else if code >= 500 {
        StatusCode::from_u16(code as u16)
            .map(|s| status_kind(s).1)
            .unwrap_or(Dispatch::MaybeSent)
    } else {
        Dispatch::NotSent
    };
    let mut e = Error::new(kind, what)
        .with_dispatch(dispatch)
        .with_provider(SCHEME)
        .with_provider_code(code)
        .with_http_status(reply.status.as_u16());
    if !description.is_empty() {
        e = e.with_provider_text(&description);
    }
    let wait = parameters
        .retry_after
        .map(std::time::Duration::from_secs)
        .or_else(|| retry_after(&reply.headers));
    if let Some(w) = wait {
        e = e.with_retry_after(w);
    }
    Some(e.with_source(ApiError {
        error_code: code,
        description,
        parameters,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderMap;
    use serde_json::json;

    fn reply(status: u16, body: serde_json::Value) -> Reply {
        Reply::of(status, Bytes::from(body.to_string()))
    }

    #[test]
    fn codes_map() {
        let cases = [
            (
                400,
                "Bad Request: chat not found",
                ErrorKind::NotFound,
                Dispatch::NotSent,
            ),
            (
                400,
                "Bad Request: message is too long",
                ErrorKind::InvalidInput,
                Dispatch::NotSent,
            ),
            (401, "Unauthorized", ErrorKind::Auth, Dispatch::NotSent),
            (
                403,
                "Forbidden: bot was blocked by the user",
                ErrorKind::Rejected,
                Dispatch::NotSent,
            ),
            (404, "Not Found", ErrorKind::Auth, Dispatch::NotSent),
            (
                409,
                "Conflict: terminated by other getUpdates request",
                ErrorKind::Rejected,
                Dispatch::NotSent,
            ),
            (
                500,
                "Internal Server Error",
                ErrorKind::Unavailable,
                Dispatch::MaybeSent,
            ),
            (502, "Bad Gateway", ErrorKind::Unavailable, Dispatch::MaybeSent),
        ];
        for (code, desc, kind, dispatch) in cases {
            let e = parse_error(&reply(code, json!({"ok":false,"error_code":code,"description":desc}))).unwrap();
            assert_eq!((e.kind(), e.dispatch()), (kind, dispatch), "{desc}");
            assert_eq!(e.provider_code(), Some(code.to_string().as_str()));
            assert_eq!(e.provider_text(), Some(desc));
        }
    }

    #[test]
    fn flood_and_migration_parameters() {
        let e = parse_error(&reply(
                429,
                json!({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}),
            ),
        )
        .unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::RateLimited, Dispatch::NotSent));
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(35)));
        let e = parse_error(&reply(
                400,
                json!({"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001}}),
            ),
        )
        .unwrap();
        assert_eq!(migrated_to(&e), Some(-1001));
        assert_eq!(e.kind(), ErrorKind::Rejected);
    }

    #[test]
    fn garbage_is_safe() {
        let e = parse_error(&reply(502, json!("<html>"))).unwrap();
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        let r = Reply::new(
            StatusCode::BAD_GATEWAY,
            HeaderMap::new(),
            Bytes::from_static(b"<html>bad gateway</html>"),
        );
        assert_eq!(parse_error(&r).unwrap().dispatch(), Dispatch::MaybeSent);
    }

    #[test]
    fn a_2xx_is_an_error_only_when_it_says_ok_false() {
        assert!(parse_error(&reply(200, json!({"ok":true,"result":true}))).is_none());
        assert!(
            parse_error(&reply(200, json!("not the envelope"))).is_none(),
            "a decoding question"
        );
        let e = parse_error(&reply(
            200,
            json!({"ok":false,"error_code":400,"description":"Bad Request: chat not found"}),
        ))
        .unwrap();
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::NotFound, Dispatch::MaybeSent));
        assert_eq!(ApiError::of(&e).map(|a| a.error_code), Some(400));
    }
}

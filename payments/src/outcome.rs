//! What an error says about a provider call that has already happened, or provably has not.
//!
//! A 2xx answer means the provider did what was asked: the payment exists, the refund is under way.
//! Anything that fails after it — an answer that does not decode, a value in it this crate cannot
//! represent (a `currency: null`, an amount with too many decimals) — must keep that fact: dispatch
//! `Sent`, never `NotSent`, and a message that says to look the result up rather than do it again. A
//! host that reads "not sent" after a Checkout Session was created creates a second one.
//!
//! The other way round, a lookup an operation makes *before* its POST (the payment's currency before a
//! partial refund, the PaymentIntent behind a Checkout Session before a capture) that fails proves the
//! POST never left: that failure is `NotSent` for the operation, whatever the lookup's own fact was.

use switchboard_core::http::Reply;
use switchboard_core::{Dispatch, Error, ErrorKind};

use crate::idempotency::{IdempotencyKey, note_key};

/// `err` rebuilt with another kind, dispatch fact and message, every other fact kept and `err` itself
/// chained as the source.
fn rebuild(err: Error, kind: ErrorKind, dispatch: Dispatch, provider: &'static str, message: String) -> Error {
    let mut e = Error::new(kind, message)
        .with_dispatch(dispatch)
        .with_provider(provider);
    if let Some(s) = err.http_status() {
        e = e.with_http_status(s);
    }
    if let Some(c) = err.provider_code() {
        e = e.with_provider_code(c);
    }
    if let Some(t) = err.provider_text() {
        e = e.with_provider_text(t);
    }
    if let Some(r) = err.retry_after() {
        e = e.with_retry_after(r);
    }
    e.with_source(err)
}

/// The kind of a failure to use an answer: the caller's input is not the problem (an `InvalidInput`
/// raised while reading the answer is really a `Decode`), anything else keeps its kind.
fn answer_kind(err: &Error) -> ErrorKind {
    match err.kind() {
        ErrorKind::InvalidInput | ErrorKind::Config | ErrorKind::Unsupported => ErrorKind::Decode,
        k => k,
    }
}

/// A change the provider carried out (it answered 2xx) whose answer could not be used. `done` says
/// what happened ("Stripe created the Checkout Session"), `object_id` what to look up when it is known,
/// `key` the idempotency key the request carried.
///
/// The error is `Sent` and says not to repeat the change under a new key: look the object up, or repeat
/// with the same key, which both providers answer with the stored result without acting again.
pub fn acted_but_unusable(
    err: Error,
    provider: &'static str,
    done: &str,
    object_id: Option<&str>,
    key: Option<&IdempotencyKey>,
) -> Error {
    let mut msg = format!(
        "{done}, but its answer could not be used ({}); it happened, so do not do it again under a new idempotency key",
        err.message()
    );
    match object_id {
        Some(id) => msg.push_str(&format!(": look up '{id}' instead")),
        None => msg.push_str(": look the object up instead"),
    }
    if let Some(k) = key {
        msg.push_str(&format!(
            " (repeating with key '{k}' gets the stored answer and does not act again)"
        ));
    }
    let kind = answer_kind(&err);
    rebuild(err, kind, Dispatch::Sent, provider, msg)
}

/// The `id` of an answer that did not decode as the type expected, when it is JSON with one: what to
/// look up instead of repeating the operation.
pub fn answer_id(reply: &Reply) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&reply.body).ok()?;
    v.get("id")?.as_str().map(str::to_owned)
}

/// A lookup the provider answered (2xx) whose answer could not be used: `Sent`, a `Decode` error.
pub fn read_but_unusable(err: Error, provider: &'static str, what: &str) -> Error {
    let msg = format!(
        "{what} was answered, but the answer could not be used ({})",
        err.message()
    );
    let kind = answer_kind(&err);
    rebuild(err, kind, Dispatch::Sent, provider, msg)
}

/// What the failure of a keyed POST to `path` says, for a provider client (`who` is the provider's
/// name as people write it, `"Stripe"`): a 2xx answer too large to even read means the provider acted
/// (as for an answer that does not decode), and any failure that may have reached the provider names
/// the key to repeat with.
pub fn post_failed(err: Error, who: &str, provider: &'static str, path: &str, key: &IdempotencyKey) -> Error {
    let err = match err.http_status() {
        Some(s) if (200..300).contains(&s) && err.kind() == ErrorKind::Decode => {
            let done = format!("{who} carried out POST {path} (HTTP {s})");
            acted_but_unusable(err, provider, &done, None, Some(key))
        }
        _ => err,
    };
    note_key(err, key)
}

/// A keyed POST to `path` that the provider answered 2xx, whose answer (`reply`) could not be used:
/// the provider acted, so this is [`acted_but_unusable`], naming the id the answer carries. It is the
/// final answer: repeating would get the same stored answer.
pub fn post_unusable(
    err: Error,
    who: &str,
    provider: &'static str,
    path: &str,
    reply: &Reply,
    key: &IdempotencyKey,
) -> Error {
    let done = format!("{who} carried out POST {path} (HTTP {})", reply.status.as_u16());
    acted_but_unusable(err, provider, &done, answer_id(reply).as_deref(), Some(key))
}

/// A failure of a step taken before an operation's POST: the POST never left, so the operation is
/// `NotSent` (an error that already says so is returned as it is).
pub fn nothing_sent(err: Error, step: &str) -> Error {
    if err.dispatch() == Dispatch::NotSent {
        return err;
    }
    let msg = format!(
        "{step} failed, so nothing was changed and the operation was not sent: {}",
        err.message()
    );
    err.with_message(msg).with_dispatch(Dispatch::NotSent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_2xx_nothing_is_not_sent_and_the_advice_names_the_object() {
        let cause = Error::invalid_input("'' is not a currency this library knows").with_http_status(200);
        assert_eq!(cause.dispatch(), Dispatch::NotSent);
        let key = IdempotencyKey::new("order-72").unwrap();
        let e = acted_but_unusable(
            cause,
            "stripe",
            "Stripe created the Checkout Session",
            Some("cs_1"),
            Some(&key),
        );
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Decode, Dispatch::Sent));
        assert_eq!(e.http_status(), Some(200));
        let text = e.to_string();
        assert!(text.contains("look up 'cs_1'"), "{text}");
        assert!(text.contains("order-72"), "{text}");
        assert!(!text.contains("not sent"), "{text}");
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn a_failed_step_before_the_post_is_not_sent() {
        let lookup = Error::new(ErrorKind::Timeout, "no answer within the timeout");
        assert_eq!(lookup.dispatch(), Dispatch::MaybeSent);
        let e = nothing_sent(lookup, "reading the payment's currency");
        assert_eq!((e.kind(), e.dispatch()), (ErrorKind::Timeout, Dispatch::NotSent));
        let already = Error::invalid_input("no payment yet");
        assert_eq!(nothing_sent(already, "x").message(), "no payment yet");
    }
}

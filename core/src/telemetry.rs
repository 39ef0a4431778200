//! What switchboard tells a host's observability stack: metrics through the [`metrics`] facade (the
//! host installs whatever exporter it likes — Prometheus, StatsD, OpenTelemetry — or none, which costs
//! nothing), and `tracing` spans whose fields follow the OpenTelemetry semantic conventions for
//! messaging and HTTP clients. Phone numbers and addresses never appear in either: recipients are
//! masked in spans and absent from metric labels, whose values are low-cardinality names.
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `switchboard_messages_sent_total` | counter | `transport`, `provider` | messages a provider accepted |
//! | `switchboard_messages_failed_total` | counter | `transport`, `provider`, `error_type`, `dispatch` | attempts that failed |
//! | `switchboard_send_duration_seconds` | histogram | `transport`, `provider` | one attempt, journal to answer |
//! | `switchboard_failovers_total` | counter | `from` | messages moved on to the next transport |
//! | `switchboard_http_requests_total` | counter | `provider`, `status` | HTTP requests (status `error` when no answer came) |
//! | `switchboard_http_retries_total` | counter | `provider` | repeats of a request by the retry policy |
//! | `switchboard_webhooks_total` | counter | `source`, `outcome` | webhooks handled (`accepted`) or refused (`refused_auth`, `refused_input`, `failed`) |
//!
//! Span fields: `messaging.system` (the provider), `messaging.operation.type` (`send`),
//! `messaging.message.id` (the provider's id, once accepted), `http.request.method`, `server.address`,
//! `server.port`, `http.response.status_code`, `error.type` (the [`ErrorKind`] word).

use std::time::Duration;

use crate::error::{Error, ErrorKind};

/// Messages a provider accepted.
pub const MESSAGES_SENT: &str = "switchboard_messages_sent_total";
/// Send attempts that failed.
pub const MESSAGES_FAILED: &str = "switchboard_messages_failed_total";
/// How long one send attempt took.
pub const SEND_DURATION: &str = "switchboard_send_duration_seconds";
/// Messages moved on to the next transport of their route.
pub const FAILOVERS: &str = "switchboard_failovers_total";
/// HTTP requests made to providers.
pub const HTTP_REQUESTS: &str = "switchboard_http_requests_total";
/// Repeats of an HTTP request by the retry policy.
pub const HTTP_RETRIES: &str = "switchboard_http_retries_total";
/// Webhooks handled or refused.
pub const WEBHOOKS: &str = "switchboard_webhooks_total";

/// The `error.type` word of an error kind (stable, low-cardinality).
pub fn error_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidInput => "invalid_input",
        ErrorKind::Config => "config",
        ErrorKind::Auth => "auth",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::Rejected => "rejected",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Transport => "transport",
        ErrorKind::Decode => "decode",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::Conflict => "conflict",
        ErrorKind::NeedsDecision => "needs_decision",
    }
}

/// Records one send attempt's outcome.
pub fn record_send(transport: &str, provider: &str, took: Duration, result: Result<(), &Error>) {
    let (transport, provider) = (transport.to_owned(), provider.to_owned());
    metrics::histogram!(SEND_DURATION, "transport" => transport.clone(), "provider" => provider.clone())
        .record(took.as_secs_f64());
    match result {
        Ok(()) => metrics::counter!(MESSAGES_SENT, "transport" => transport, "provider" => provider).increment(1),
        Err(e) => metrics::counter!(
            MESSAGES_FAILED,
            "transport" => transport,
            "provider" => provider,
            "error_type" => error_type(e.kind()),
            "dispatch" => crate::store::dispatch_word(e.dispatch()),
        )
        .increment(1),
    }
}

/// Records a message moving on from transport `from` to the next of its route.
pub fn record_failover(from: &str) {
    metrics::counter!(FAILOVERS, "from" => from.to_owned()).increment(1);
}

/// Records one HTTP request: its status, or `error` when no answer came.
pub fn record_http(provider: &'static str, status: Option<u16>) {
    let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
    metrics::counter!(HTTP_REQUESTS, "provider" => provider, "status" => status).increment(1);
}

/// Records `n` repeats of a request by the retry policy.
pub fn record_retries(provider: &'static str, n: u64) {
    if n > 0 {
        metrics::counter!(HTTP_RETRIES, "provider" => provider).increment(n);
    }
}

/// Records a webhook: handled, or refused and why.
pub fn record_webhook(source: &str, result: Result<(), &Error>) {
    let outcome = match result {
        Ok(()) => "accepted",
        Err(e) => match e.kind() {
            ErrorKind::Auth => "refused_auth",
            ErrorKind::InvalidInput | ErrorKind::Decode => "refused_input",
            _ => "failed",
        },
    };
    metrics::counter!(WEBHOOKS, "source" => source.to_owned(), "outcome" => outcome).increment(1);
}

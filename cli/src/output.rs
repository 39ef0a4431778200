//! Text or JSON output: every command prints either tab-separated text lines (the contract scripts
//! have relied on) or, with `-o json`, one JSON object a line.

use std::io::Write;

use switchboard::{Error, ErrorKind};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tab-separated text lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// Writes one JSON object as a line; a closed stdout (a pipe into `head`) is not an error worth a
/// panic, so the result is only reported.
pub fn json_line(out: &mut impl Write, value: &serde_json::Value) -> std::io::Result<()> {
    writeln!(out, "{value}")
}

/// The machine-readable name of a dispatch fact.
pub fn dispatch_name(e: &Error) -> &'static str {
    match e.dispatch() {
        switchboard::Dispatch::NotSent => "not_sent",
        switchboard::Dispatch::MaybeSent => "maybe_sent",
        switchboard::Dispatch::Sent => "sent",
    }
}

/// An error as the JSON fields every command uses: `error`, `kind`, `dispatch`, and the provider's code
/// when it gave one.
pub fn error_fields(e: &Error) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("error".into(), e.to_string().into());
    // `ErrorKind::as_str` is words ("invalid input"); scripts get one token ("invalid_input").
    m.insert("kind".into(), e.kind().as_str().replace(' ', "_").into());
    m.insert("dispatch".into(), dispatch_name(e).into());
    if let Some(code) = e.provider_code() {
        m.insert("code".into(), code.into());
    }
    m
}

/// An input that could not be read as a recipient: an `InvalidInput` error, certainly not sent.
pub fn invalid(reason: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, reason.into()).with_dispatch(switchboard::Dispatch::NotSent)
}

//! `switchboard`: the command-line face of the library. `cargo install --path cli` installs it.
//!
//! Exit status: 0 when the work was done (for `send`, every recipient accepted or already sent; bad input
//! lines of `normalize`/`segments` are reported in place and do not stop them), 1 when a send, lookup or
//! pushed webhook failed, 2 on a usage or configuration error.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod config;
mod listen;
mod normalize;
mod output;
mod providers;
mod segments;
mod send;
mod sim;
mod status;
mod trigger;

use output::Format;

/// One Rust API for SMS gateways, cloud SMS, telephony, email, push, chat and payments, from the shell.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, propagate_version = true)]
struct Cli {
    /// How results are printed: `text` (tab-separated lines), or `json` (one JSON object a line).
    #[arg(short = 'o', long = "output", global = true, value_enum, default_value_t = Format::Text)]
    output: Format,
    /// The profile of the configuration file to take `dsn` and `default_region` from (else
    /// `SWITCHBOARD_PROFILE`, else `default`).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reads one phone number a line from stdin and prints its E.164 form, or `error: <reason>`, on the
    /// same line.
    Normalize(normalize::Args),
    /// Counts how a text splits into SMS parts.
    Segments(segments::Args),
    /// Sends a text to each recipient: one line each, in input order.
    Send(send::Args),
    /// Looks a sent message up by the provider's id.
    Status(status::Args),
    /// Serves a provider's simulator on 127.0.0.1 until killed (with no NAME: lists them).
    Sim(sim::Args),
    /// Receives a provider's webhooks on 127.0.0.1, verifies them with the DSN's secret and prints
    /// their events.
    Listen(listen::Args),
    /// Starts a provider's simulator and makes it push one signed event to a URL.
    Trigger(trigger::Args),
    /// Lists the providers this build knows: names, summaries, DSN forms and trigger events.
    Providers,
    /// Shows the configuration in effect (DSNs redacted).
    Config(config::Args),
    /// Prints a completion script for a shell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Why a command could not run: a usage or configuration error, exit status 2. The message never
/// carries a secret (DSNs are shown redacted).
#[derive(Debug)]
struct Fail(String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `trigger` points the simulator's HTTP client at a relay through the environment, which has to be
    // set before any thread starts (the async runtime's included).
    let relay = match &cli.command {
        Command::Trigger(args) => match trigger::prepare_relay(args) {
            Ok(r) => r,
            Err(Fail(msg)) => return usage_error(&msg),
        },
        _ => None,
    };
    let format = cli.output;
    let profile = cli.profile;
    let result = match cli.command {
        Command::Normalize(args) => {
            config::Profile::load(profile.as_deref()).and_then(|p| normalize::run(args, &p, format))
        }
        Command::Segments(args) => segments::run(args, format),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "switchboard", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(args) => config::run(args, profile.as_deref(), format),
        command => match runtime() {
            Err(e) => Err(e),
            Ok(rt) => rt.block_on(async move {
                match command {
                    Command::Send(args) => send::run(args, profile.as_deref(), format).await,
                    Command::Status(args) => status::run(args, profile.as_deref(), format).await,
                    Command::Sim(args) => sim::run(args, format).await,
                    Command::Listen(args) => listen::run(args, profile.as_deref(), format).await,
                    Command::Trigger(args) => trigger::run(args, relay, format).await,
                    Command::Providers => providers::run(format).await,
                    _ => unreachable!("the commands without a runtime are matched above"),
                }
            }),
        },
    };
    match result {
        Ok(code) => code,
        Err(Fail(msg)) => usage_error(&msg),
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("switchboard: {msg}");
    ExitCode::from(2)
}

fn runtime() -> Result<tokio::runtime::Runtime, Fail> {
    // The library's HTTP clients install ring as rustls' provider when they are built; the CLI's own
    // clients (forwarding, the relay) are built here too, so it is installed once up front.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Fail(format!("could not start the async runtime: {e}")))
}

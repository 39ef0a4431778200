//! `crm`: the reference host as a program. Configured from the environment (see the `config` module);
//! `CRM_TEST_MODE=1 cargo run -p switchboard-crm` serves every integration on its simulator.
//! `CRM_LOG` sets how much it logs to stderr: `error`, `warn`, `info` (the default), `debug`, `trace`.
//! Phone numbers in its logs are masked and secrets never appear; `debug` adds each provider request's
//! method, host and status.

use switchboard_crm::{Config, serve};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let level = match std::env::var("CRM_LOG")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        Ok("error") => tracing::Level::ERROR,
        Ok("warn") => tracing::Level::WARN,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("crm: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match serve(config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crm: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

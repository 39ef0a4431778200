//! `sim NAME [--port P]`: starts the provider's simulator from the registry on 127.0.0.1 and serves until
//! killed. The first line printed is `dsn: <DSN>` (with `-o json`: `{"dsn","url"}`), the DSN that
//! connects a client to it. With no NAME it lists the providers, as `providers` does.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use switchboard::core::simulated::SimOptions;

use crate::Fail;
use crate::output::Format;

/// `sim` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider (`switchboard providers` lists them); none lists them.
    name: Option<String>,
    /// The loopback port to listen on (a free one by default).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Moves every pending message one step on (queued → sent → delivered) every SECS seconds, pushing
    /// what the provider would push; 0 never does.
    #[arg(long, value_name = "SECS", default_value_t = 2)]
    advance_every: u64,
    /// Where the simulator pushes what it pushes on its own (delivery reports, inbound messages).
    #[arg(long, value_name = "URL")]
    webhook_url: Option<String>,
}

/// Runs `sim`.
pub async fn run(args: Args, format: Format) -> Result<ExitCode, Fail> {
    let Some(name) = args.name else {
        return crate::providers::run(format).await;
    };
    let registry = switchboard::registry();
    let provider = registry.find(&name).ok_or_else(|| {
        Fail(format!(
            "unknown simulator '{}'; this build has: {}",
            name.escape_debug(),
            registry
                .providers()
                .filter(|p| p.simulator().is_some())
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let factory = provider
        .simulator()
        .ok_or_else(|| Fail(format!("the {} provider has no simulator", provider.name())))?;
    let mut options = SimOptions::default();
    if args.port != 0 {
        options = options.port(args.port);
    }
    if let Some(url) = args.webhook_url {
        options = options.webhook_url(url);
    }
    let sim = factory.start(options).await?;
    match format {
        Format::Text => {
            println!("dsn: {}", sim.dsn());
            println!("url: {}", sim.uri());
        }
        Format::Json => println!("{}", serde_json::json!({ "dsn": sim.dsn(), "url": sim.uri() })),
    }
    let _ = std::io::stdout().flush();
    eprintln!(
        "switchboard: the {} simulator is serving; stop it with Ctrl-C",
        provider.name()
    );
    if args.advance_every > 0 {
        let sim = sim.clone();
        let period = Duration::from_secs(args.advance_every);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.tick().await;
            loop {
                tick.tick().await;
                sim.advance().await;
            }
        });
    }
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Fail(format!("cannot wait for Ctrl-C: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

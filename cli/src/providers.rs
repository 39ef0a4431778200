//! `providers` (and `sim` with no name): every provider this build registered, from the registry —
//! name, summary, DSN form, the schemes it answers, whether it has a simulator, and the events that
//! simulator can push (`trigger`).

use std::process::ExitCode;

use switchboard::core::simulated::SimOptions;

use crate::Fail;
use crate::output::Format;

/// The event kinds a provider's simulator can push; the simulator is started on a free loopback port
/// to ask, and stopped again.
async fn triggers(p: &'static dyn switchboard::Provider) -> Option<Vec<&'static str>> {
    let sim = p.simulator()?.start(SimOptions::default()).await.ok()?;
    Some(sim.triggers().to_vec())
}

/// Runs `providers`.
pub async fn run(format: Format) -> Result<ExitCode, Fail> {
    let registry = switchboard::registry();
    let providers: Vec<_> = registry.providers().collect();
    let events = futures::future::join_all(providers.iter().map(|p| triggers(*p))).await;
    for (p, events) in providers.iter().zip(events) {
        let schemes: Vec<&str> = std::iter::once(p.name())
            .chain(p.schemes().iter().copied().filter(|s| *s != p.name()))
            .collect();
        let simulator = p.simulator().is_some();
        match format {
            Format::Json => println!(
                "{}",
                serde_json::json!({
                    "name": p.name(),
                    "summary": p.summary(),
                    "dsn": p.dsn_form(),
                    "schemes": schemes,
                    "simulator": simulator,
                    "triggers": events.unwrap_or_default(),
                })
            ),
            Format::Text => {
                let events = events.map(|e| e.join(",")).filter(|e| !e.is_empty());
                println!(
                    "{}\t{}\t{}\t{}",
                    p.name(),
                    p.summary(),
                    p.dsn_form(),
                    match (simulator, events) {
                        (false, _) => "no simulator".to_owned(),
                        (true, None) => "simulator".to_owned(),
                        (true, Some(e)) => format!("simulator; trigger: {e}"),
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `crm`: the reference host as a program. Configured from the environment (see the `config` module);
//! `CRM_TEST_MODE=1 cargo run -p switchboard-crm` serves every integration on its simulator.

use switchboard_crm::{Config, serve};

#[tokio::main]
async fn main() -> std::process::ExitCode {
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

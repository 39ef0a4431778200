//! `status`: where a sent message is now, by the provider's id: `id\tstatus\traw[\tcode]` (with
//! `-o json`: `{"id","status","raw","code"}`). A group DSN is asked transport by transport: the message
//! is known to the one that sent it.

use std::process::ExitCode;

use switchboard::{ErrorKind, Messenger};

use crate::Fail;
use crate::config::Profile;
use crate::output::{Format, error_fields};

/// `status` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The DSN (else `SWITCHBOARD_DSN`, else the profile's).
    #[arg(long)]
    dsn: Option<String>,
    /// The provider's message id, as `send` printed it.
    #[arg(long)]
    id: String,
}

/// Runs `status`.
pub async fn run(args: Args, profile: Option<&str>, format: Format) -> Result<ExitCode, Fail> {
    let (dsn, _) = Profile::load(profile)?.dsn(args.dsn)?;
    let messenger = Messenger::from_dsns([dsn.as_str()])?;
    let id = args.id;
    let mut last = None;
    for name in messenger.transport_names() {
        let Some(t) = messenger.transport(name) else {
            continue;
        };
        match t.status(&id).await {
            Ok(r) => {
                match format {
                    Format::Text => {
                        let code = r.error_code.as_ref().map(|c| format!("\t{c}")).unwrap_or_default();
                        println!("{}\t{}\t{}{code}", r.provider_id, r.status, r.raw_status);
                    }
                    Format::Json => println!(
                        "{}",
                        serde_json::json!({
                            "id": r.provider_id,
                            "status": r.status.as_str(),
                            "raw": r.raw_status,
                            "code": r.error_code,
                        })
                    ),
                }
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Unsupported) => last = Some(e),
            Err(e) => {
                last = Some(e);
                break;
            }
        }
    }
    let e = last
        .unwrap_or_else(|| switchboard::Error::new(ErrorKind::NotFound, "no transport of this DSN looks messages up"));
    match format {
        Format::Text => println!("{id}\tfailed\t{e}"),
        Format::Json => {
            let mut m = error_fields(&e);
            m.insert("id".into(), id.into());
            m.insert("status".into(), "failed".into());
            println!("{}", serde_json::Value::from(m));
        }
    }
    Ok(ExitCode::from(1))
}

//! `normalize`: one phone number a line from stdin → its E.164 form, or `error: <reason>`, on the same
//! line (with `-o json`: `{"input","e164"}` or `{"input","error"}`). Bad lines never stop it.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use switchboard::PhoneNumber;

use crate::Fail;
use crate::config::Profile;
use crate::output::{Format, json_line};

/// `normalize` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The region of numbers written without a country code (ISO 3166 code: `AL`, `RU`).
    #[arg(long, value_name = "XX")]
    default_region: Option<String>,
}

/// Runs `normalize`.
pub fn run(args: Args, profile: &Profile, format: Format) -> Result<ExitCode, Fail> {
    let region = profile.region(args.default_region.as_deref())?;
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    for line in stdin.split(b'\n') {
        let line = line.map_err(|e| Fail(format!("cannot read stdin: {e}")))?;
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        let (input, answer) = match std::str::from_utf8(line) {
            Ok(text) => (
                text.to_owned(),
                PhoneNumber::parse(text, region).map_err(|e| e.to_string()),
            ),
            Err(_) => (
                String::from_utf8_lossy(line).into_owned(),
                Err("the line is not valid UTF-8".to_owned()),
            ),
        };
        let written = match format {
            Format::Text => match &answer {
                Ok(n) => writeln!(out, "{}", n.as_e164()),
                Err(e) => writeln!(out, "error: {e}"),
            },
            Format::Json => json_line(
                &mut out,
                &match &answer {
                    Ok(n) => serde_json::json!({ "input": input, "e164": n.as_e164() }),
                    Err(e) => serde_json::json!({ "input": input, "error": e }),
                },
            ),
        };
        // A closed stdout (a pipe into `head`) ends the work.
        if written.is_err() {
            break;
        }
    }
    let _ = out.flush();
    Ok(ExitCode::SUCCESS)
}

//! `switchboard`: the command-line face of the library.
//!
//! ```text
//! cargo run -q --example switchboard -- normalize [--default-region XX]   < numbers.txt
//! cargo run -q --example switchboard -- segments --json                    < texts.jsonl
//! cargo run -q --example switchboard -- segments "Привет, мир"
//! ```
//!
//! Exit status: 0 when the work was done (bad input lines are reported in place and do not stop it),
//! 2 on a usage or configuration error.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use switchboard::{PhoneNumber, Region, Segmentation};

const USAGE: &str = "\
usage: switchboard <command> [options]

commands:
  normalize [--default-region XX]  read one phone number a line from stdin, print its E.164 form
                                   or 'error: <reason>' on the same line
  segments --json                  read one JSON string a line from stdin, print one JSON object a line:
                                   {\"encoding\":\"GSM-7\"|\"UCS-2\",\"segments\":N,\"units\":N,\"per_segment\":N}
  segments TEXT                    print a readable summary of how TEXT splits into SMS parts
  help                             print this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(Usage(msg)) => {
            eprintln!("switchboard: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// A usage error: exit status 2.
struct Usage(String);

fn run(args: &[String]) -> Result<ExitCode, Usage> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(Usage("no command given".into()));
    };
    match cmd.as_str() {
        "normalize" => normalize(rest),
        "segments" => segments(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Usage(format!("unknown command '{other}'"))),
    }
}

/// Parses `--name value` / `--name=value` / `--flag` options; anything else is positional.
struct Opts {
    pairs: Vec<(String, Option<String>)>,
    positional: Vec<String>,
}

impl Opts {
    fn parse(args: &[String], takes_value: &[&str], flags: &[&str]) -> Result<Opts, Usage> {
        let mut pairs = Vec::new();
        let mut positional = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if a == "--" {
                positional.extend(it.by_ref().cloned());
                break;
            }
            let Some(name) = a.strip_prefix("--") else {
                positional.push(a.clone());
                continue;
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (name, None),
            };
            if takes_value.contains(&name) {
                let v = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| Usage(format!("--{name} needs a value")))?,
                };
                pairs.push((name.to_owned(), Some(v)));
            } else if flags.contains(&name) {
                pairs.push((name.to_owned(), None));
            } else {
                return Err(Usage(format!("unknown option --{name}")));
            }
        }
        Ok(Opts { pairs, positional })
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn flag(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }
}

fn normalize(args: &[String]) -> Result<ExitCode, Usage> {
    let opts = Opts::parse(args, &["default-region"], &[])?;
    if !opts.positional.is_empty() {
        return Err(Usage(
            "normalize reads numbers from stdin and takes no arguments".into(),
        ));
    }
    let region = match opts.value("default-region") {
        Some(r) => Some(Region::parse(r).map_err(|e| Usage(format!("--default-region: {e}")))?),
        None => None,
    };
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    for line in stdin.split(b'\n') {
        let Ok(line) = line else { break };
        // A line that is not UTF-8 is reported like any other bad number, not a reason to stop.
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches('\r');
        let answer = match PhoneNumber::parse(text, region) {
            Ok(n) => n.as_e164().to_owned(),
            Err(e) => format!("error: {e}"),
        };
        if writeln!(out, "{answer}").is_err() {
            break;
        }
    }
    let _ = out.flush();
    Ok(ExitCode::SUCCESS)
}

fn segments(args: &[String]) -> Result<ExitCode, Usage> {
    let opts = Opts::parse(args, &[], &["json"])?;
    if opts.flag("json") {
        if !opts.positional.is_empty() {
            return Err(Usage(
                "segments --json reads JSON strings from stdin and takes no text".into(),
            ));
        }
        let stdin = io::stdin().lock();
        let mut out = BufWriter::new(io::stdout().lock());
        for line in stdin.split(b'\n') {
            let Ok(line) = line else { break };
            let answer = match serde_json::from_slice::<String>(&line) {
                Ok(text) => {
                    let s = Segmentation::of(&text);
                    serde_json::json!({
                        "encoding": s.encoding.as_str(),
                        "segments": s.segments,
                        "units": s.units,
                        "per_segment": s.per_segment,
                    })
                }
                Err(e) => serde_json::json!({ "error": format!("the line is not a JSON string: {e}") }),
            };
            if writeln!(out, "{answer}").is_err() {
                break;
            }
        }
        let _ = out.flush();
        return Ok(ExitCode::SUCCESS);
    }
    if opts.positional.is_empty() {
        return Err(Usage(
            "segments needs a TEXT argument, or --json to read from stdin".into(),
        ));
    }
    let text = opts.positional.join(" ");
    let s = Segmentation::of(&text);
    println!("encoding:    {}", s.encoding);
    println!(
        "size:        {} {}",
        s.units,
        if s.encoding == switchboard::Encoding::Gsm7 {
            "septets"
        } else {
            "UTF-16 units"
        }
    );
    println!("segments:    {} (up to {} units each)", s.segments, s.per_segment);
    if let Ok(parts) = switchboard::segment::split(&text, s.encoding) {
        for (i, p) in parts.iter().enumerate() {
            println!("  part {}: {p:?}", i + 1);
        }
    }
    Ok(ExitCode::SUCCESS)
}

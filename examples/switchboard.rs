//! `switchboard`: the command-line face of the library.
//!
//! ```text
//! cargo run -q --example switchboard -- normalize [--default-region XX]   < numbers.txt
//! cargo run -q --example switchboard -- segments --json                    < texts.jsonl
//! cargo run -q --example switchboard -- segments "Привет, мир"
//! cargo run -q --example switchboard -- sim dinstar --port 8081
//! cargo run -q --example switchboard -- send --dsn 'dinstar://…' --text "Hi" --to +355694123456 --to 069 412 3457 --default-region AL
//! cargo run -q --example switchboard -- status --dsn 'dinstar://…' --id 1700000001
//! ```
//!
//! Exit status: 0 when the work was done (for `send`, every recipient accepted; bad input lines of
//! `normalize`/`segments` are reported in place and do not stop it), 1 when a send or lookup failed, 2 on
//! a usage or configuration error.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use switchboard::{ErrorKind, Message, Messenger, PhoneNumber, Recipient, Region, Segmentation};

const USAGE: &str = "\
usage: switchboard <command> [options]

commands:
  normalize [--default-region XX]  read one phone number a line from stdin, print its E.164 form
                                   or 'error: <reason>' on the same line
  segments --json                  read one JSON string a line from stdin, print one JSON object a line:
                                   {\"encoding\":\"GSM-7\"|\"UCS-2\",\"segments\":N,\"units\":N,\"per_segment\":N}
  segments TEXT                    print a readable summary of how TEXT splits into SMS parts
  send --dsn DSN --text TEXT (--to RECIPIENT ... | --to-file FILE) [--default-region XX]
                                   send TEXT to each recipient; prints one tab-separated line each,
                                   in input order: recipient, status, provider message id or error
                                   RECIPIENT is a phone number, name@domain (email), topic:NAME or
                                   token:TOKEN (push), chat:ID (Telegram); DSN may be failover(a b) or
                                   roundrobin(a b)
  status --dsn DSN --id ID         look a sent message up; prints id, status, provider's status
  sim NAME [--port P]              start a simulator on 127.0.0.1 and serve until killed; the first line
                                   printed is 'dsn: <DSN>'. NAME is one of: dinstar mitto mightycall
                                   smsru twilio fcm telegram telecmi yookassa stripe onec
  help                             print this text

exit status: 0 done, 1 a send or lookup failed, 2 usage or configuration error
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(Usage(msg)) => {
            eprintln!("switchboard: {msg}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Config(msg)) => {
            eprintln!("switchboard: {msg}");
            ExitCode::from(2)
        }
    }
}

/// Why the command could not run; both exit with status 2.
enum Fail {
    /// The command line is wrong: the usage text is shown.
    Usage(String),
    /// The configuration (a DSN) is wrong: only the error is shown.
    Config(String),
}
use Fail::{Config, Usage};

fn run(args: &[String]) -> Result<ExitCode, Fail> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err(Usage("no command given".into()));
    };
    match cmd.as_str() {
        "normalize" => normalize(rest),
        "segments" => segments(rest),
        "send" => runtime()?.block_on(send(rest)),
        "status" => runtime()?.block_on(status(rest)),
        "sim" => runtime()?.block_on(sim(rest)),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(Usage(format!("unknown command '{other}'"))),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Fail> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Usage(format!("could not start the async runtime: {e}")))
}

/// Parses `--name value` / `--name=value` / `--flag` options; anything else is positional.
struct Opts {
    pairs: Vec<(String, Option<String>)>,
    positional: Vec<String>,
}

impl Opts {
    fn parse(args: &[String], takes_value: &[&str], flags: &[&str]) -> Result<Opts, Fail> {
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

    fn values(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
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

fn normalize(args: &[String]) -> Result<ExitCode, Fail> {
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

fn segments(args: &[String]) -> Result<ExitCode, Fail> {
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

/// Reads one recipient as written on the command line (see the usage text).
fn recipient(raw: &str, region: Option<Region>) -> Result<Recipient, String> {
    let raw = raw.trim();
    if let Some(t) = raw.strip_prefix("topic:") {
        return Ok(Recipient::PushTopic(t.to_owned()));
    }
    if let Some(t) = raw.strip_prefix("token:") {
        return Ok(Recipient::PushToken(t.to_owned()));
    }
    if let Some(c) = raw.strip_prefix("chat:") {
        return Ok(Recipient::Chat(c.to_owned()));
    }
    if raw.contains('@') {
        return Recipient::email(raw).map_err(|e| e.message().to_owned());
    }
    PhoneNumber::parse(raw, region)
        .map(Recipient::Phone)
        .map_err(|e| e.to_string())
}

fn region_opt(opts: &Opts) -> Result<Option<Region>, Fail> {
    match opts.value("default-region") {
        Some(r) => Ok(Some(
            Region::parse(r).map_err(|e| Usage(format!("--default-region: {e}")))?,
        )),
        None => Ok(None),
    }
}

async fn send(args: &[String]) -> Result<ExitCode, Fail> {
    let opts = Opts::parse(args, &["dsn", "text", "to", "to-file", "default-region"], &[])?;
    if !opts.positional.is_empty() {
        return Err(Usage(format!("unexpected argument '{}'", opts.positional[0])));
    }
    let dsn = opts.value("dsn").ok_or_else(|| Usage("send needs --dsn".into()))?;
    let text = opts.value("text").ok_or_else(|| Usage("send needs --text".into()))?;
    let region = region_opt(&opts)?;
    let mut raw: Vec<String> = opts.values("to").into_iter().map(str::to_owned).collect();
    if let Some(file) = opts.value("to-file") {
        let content =
            std::fs::read_to_string(file).map_err(|e| Usage(format!("--to-file: cannot read '{file}': {e}")))?;
        raw.extend(
            content
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    if raw.is_empty() {
        return Err(Usage(
            "send needs at least one --to or a --to-file with recipients".into(),
        ));
    }
    let messenger = Messenger::from_dsns([dsn]).map_err(|e| Config(e.to_string()))?;

    // Parse every recipient first; the valid ones go out in one batch, so a bulk-capable provider gets
    // them in as few requests as it allows (128 per request for a Dinstar gateway).
    let parsed: Vec<Result<Recipient, String>> = raw.iter().map(|r| recipient(r, region)).collect();
    let messages: Vec<Message> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|to| Message::to(to.clone(), text))
        .collect();
    let mut results = messenger.send_batch(&messages).await.into_iter();

    let mut out = BufWriter::new(io::stdout().lock());
    let mut all_ok = true;
    for (input, p) in raw.iter().zip(&parsed) {
        let line = match p {
            Err(reason) => {
                all_ok = false;
                format!("{input}\tinvalid\t{reason}")
            }
            Ok(to) => {
                let shown = match to {
                    Recipient::Phone(n) => n.as_e164().to_owned(),
                    Recipient::Email(e) | Recipient::PushToken(e) | Recipient::PushTopic(e) | Recipient::Chat(e) => {
                        e.clone()
                    }
                    _ => input.clone(),
                };
                match results.next() {
                    Some(Ok(r)) => format!("{shown}\t{}\t{}", r.status, r.provider_ids.join(",")),
                    Some(Err(e)) => {
                        all_ok = false;
                        format!("{shown}\tfailed\t{e}")
                    }
                    None => {
                        all_ok = false;
                        format!("{shown}\tfailed\tno result")
                    }
                }
            }
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn status(args: &[String]) -> Result<ExitCode, Fail> {
    let opts = Opts::parse(args, &["dsn", "id"], &[])?;
    let dsn = opts.value("dsn").ok_or_else(|| Usage("status needs --dsn".into()))?;
    let id = opts.value("id").ok_or_else(|| Usage("status needs --id".into()))?;
    // A group is asked member by member: the message is known to the one that sent it.
    let members: Vec<&str> = match dsn.trim().strip_suffix(')') {
        Some(inner) => match inner.split_once('(') {
            Some(("failover" | "roundrobin", list)) => list.split_whitespace().collect(),
            _ => return Err(Usage("--dsn: only failover(…) and roundrobin(…) groups exist".into())),
        },
        None => vec![dsn],
    };
    let mut last = None;
    for m in members {
        let t = switchboard::transport_from_dsn(m).map_err(|e| Config(e.to_string()))?;
        match t.status(id).await {
            Ok(r) => {
                let code = r.error_code.map(|c| format!("\t{c}")).unwrap_or_default();
                println!("{}\t{}\t{}{code}", r.provider_id, r.status, r.raw_status);
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Unsupported) => last = Some(e),
            Err(e) => {
                println!("{id}\tfailed\t{e}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    let e = last.map(|e| e.to_string()).unwrap_or_else(|| "not found".into());
    println!("{id}\tfailed\t{e}");
    Ok(ExitCode::from(1))
}

async fn sim(args: &[String]) -> Result<ExitCode, Fail> {
    use switchboard::core::simulated::{SimOptions, Simulated};
    let opts = Opts::parse(args, &["port"], &[])?;
    let [name] = opts.positional.as_slice() else {
        return Err(Usage("sim needs exactly one simulator name".into()));
    };
    let port: u16 = match opts.value("port") {
        Some(p) => p
            .parse()
            .map_err(|_| Usage("--port must be a number from 0 to 65535".into()))?,
        None => 0,
    };
    let bind = |e: io::Error| Config(format!("cannot listen on 127.0.0.1:{port}: {e}"));
    let tick = Duration::from_secs(2);
    // Each arm keeps its simulator alive in `_keep` for as long as the process runs.
    let (dsn, uri, _keep): (String, String, Box<dyn std::any::Any>) = match name.as_str() {
        "dinstar" => {
            let s = switchboard::dinstar::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(bind)?;
            (s.dsn(), s.uri(), Box::new(s))
        }
        "mitto" => {
            let s = switchboard::mitto::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(|e| Config(e.message().to_owned()))?;
            s.advance_every(tick);
            (s.dsn(), s.uri(), Box::new(s))
        }
        "mightycall" => {
            let s = switchboard::mightycall::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(|e| Config(e.message().to_owned()))?;
            (s.dsn(), s.uri(), Box::new(s))
        }
        "smsru" => {
            let s = switchboard::smsru::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(bind)?;
            let ticker = s.advance_every(tick);
            (s.dsn(), s.uri(), Box::new((s, ticker)))
        }
        "twilio" => {
            let s = switchboard::twilio::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(bind)?;
            let ticker = s.advance_every(tick);
            (s.dsn(), s.uri(), Box::new((s, ticker)))
        }
        "fcm" => {
            let s = switchboard::fcm::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(|e| Config(e.to_string()))?;
            (s.dsn(), s.uri(), Box::new(s))
        }
        "telegram" => {
            let s = switchboard::telegram::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(|e| Config(e.to_string()))?;
            (s.dsn(), s.uri(), Box::new(s))
        }
        "telecmi" => {
            let s = switchboard::telecmi::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(|e| Config(e.message().to_owned()))?;
            (s.dsn(), s.uri(), Box::new(s))
        }
        "yookassa" => {
            use switchboard::core::simulated::{SimOptions, Simulated};
            let s = switchboard::yookassa::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(|e| Config(e.to_string()))?;
            (s.dsn(), s.uri(), Box::new(s))
        }
        "stripe" => {
            use switchboard::core::simulated::{SimOptions, Simulated};
            let s = switchboard::stripe::sim::Simulator::start_with(SimOptions::default().port(port))
                .await
                .map_err(|e| Config(e.to_string()))?;
            (s.dsn(), s.uri(), Box::new(s))
        }
        "onec" => {
            let s = switchboard::erp::sim::Simulator::start_on_port(port)
                .await
                .map_err(bind)?;
            (s.dsn(), s.uri(), Box::new(s))
        }
        other => return Err(Usage(format!("unknown simulator '{other}'"))),
    };
    println!("dsn: {dsn}");
    println!("url: {uri}");
    let _ = io::stdout().flush();
    eprintln!("switchboard: the {name} simulator is serving; stop it with Ctrl-C");
    let _ = tokio::signal::ctrl_c().await;
    Ok(ExitCode::SUCCESS)
}

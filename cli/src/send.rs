//! `send`: one text to each recipient, one line each in input order.
//!
//! Text lines are `recipient\tstatus\tids-or-error`: the status is the provider's (`accepted`, `queued`,
//! `sent`…), `duplicate` for a key an earlier run already sent (with the earlier ids), `invalid` for
//! an input that is no recipient, `failed` for a send that failed. `-o json` prints one object a line:
//! `recipient`, `status`, `ids` and `transport`, or `error`, `kind` and `dispatch`.
//!
//! Recipients are streamed: `--to-file` is read a line at a time and at most `--concurrency` sends are
//! in flight, so the memory kept does not grow with the file (only the lines finished out of order wait
//! for the one before them).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, Stream, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget};
use switchboard::store::Store;
use switchboard::{Error, ErrorKind, Message, MessageKey, Messenger, PhoneNumber, Receipt, Recipient, Region};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};

use crate::Fail;
use crate::config::Profile;
use crate::output::{Format, error_fields, invalid, json_line};

/// `send` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The DSN (else `SWITCHBOARD_DSN`, else the profile's); `failover(a b)` and `roundrobin(a b)`
    /// group several.
    #[arg(long)]
    dsn: Option<String>,
    /// The text to send.
    #[arg(long)]
    text: String,
    /// A recipient: a phone number, name@domain (email), topic:NAME or token:TOKEN (push), chat:ID
    /// (Telegram). Repeat it for several.
    #[arg(long = "to", value_name = "RECIPIENT")]
    to: Vec<String>,
    /// A file of recipients, one a line (`-` for stdin); blank lines are skipped.
    #[arg(long, value_name = "FILE")]
    to_file: Option<PathBuf>,
    /// The region of numbers written without a country code (else the profile's).
    #[arg(long, value_name = "XX")]
    default_region: Option<String>,
    /// Sends nothing: prints, per recipient, the route and transport a send would take, the encoding,
    /// the segments and the cost where the provider can tell it.
    #[arg(long)]
    dry_run: bool,
    /// Replaces curly quotes, dashes and the like by GSM-7 look-alikes when that makes an SMS GSM-7
    /// (fewer segments).
    #[arg(long)]
    smart_encoding: bool,
    /// How many sends are in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Hands the provider up to N recipients at once through its bulk API where it has one (a Dinstar
    /// gateway takes 128 numbers of one text per request); each batch counts as one of --concurrency.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    batch: u16,
    /// A store that makes each recipient's message go out once across runs and processes:
    /// `sqlite:PATH` or `postgres://…`. Needs --key.
    #[arg(long, value_name = "URL", requires = "key")]
    store: Option<String>,
    /// The idempotency key of this send: the message to recipient R has the key `KEY/R`, and a key
    /// already sent is answered `duplicate` with the earlier ids, not sent again. Needs --store.
    #[arg(long, value_name = "KEY", requires = "store")]
    key: Option<String>,
    /// How long, in seconds, to wait for a key another process is sending before giving up on it.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
}

/// One input line: a recipient as written, or why it could not be read.
type Input = Result<String, (String, String)>;

/// What became of one recipient.
enum Outcome {
    Invalid {
        input: String,
        error: Error,
    },
    Sent {
        shown: String,
        receipt: Box<Receipt>,
    },
    Failed {
        shown: String,
        error: Error,
    },
    Planned {
        shown: String,
        plan: serde_json::Map<String, serde_json::Value>,
        line: String,
    },
}

struct Job {
    messenger: Messenger,
    text: String,
    region: Option<Region>,
    smart: bool,
    key: Option<String>,
    wait: Duration,
    dry_run: bool,
}

/// Reads one recipient as written on the command line (see `--to`).
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

/// The recipient as printed: a number in E.164, anything else as it is.
fn shown(to: &Recipient) -> String {
    match to {
        Recipient::Phone(n) => n.as_e164().to_owned(),
        Recipient::Email(e) | Recipient::PushToken(e) | Recipient::PushTopic(e) | Recipient::Chat(e) => e.clone(),
        other => other.masked(),
    }
}

impl Job {
    /// The message for one input, or why there is none.
    fn prepare(&self, input: Input) -> Result<(String, Message), Outcome> {
        let raw = match input {
            Ok(r) => r,
            Err((input, reason)) => {
                return Err(Outcome::Invalid {
                    input,
                    error: invalid(reason),
                });
            }
        };
        let to = match recipient(&raw, self.region) {
            Ok(to) => to,
            Err(reason) => {
                return Err(Outcome::Invalid {
                    input: raw,
                    error: invalid(reason),
                });
            }
        };
        let shown = shown(&to);
        let mut message = Message::to(to, self.text.as_str());
        if self.smart {
            message = message.with_smart_encoding(true);
        }
        if let Some(k) = &self.key {
            match MessageKey::new(format!("{k}/{shown}")) {
                Ok(key) => message = message.with_key(key),
                Err(error) => return Err(Outcome::Failed { shown, error }),
            }
        }
        Ok((shown, message))
    }

    async fn handle(&self, input: Input) -> Outcome {
        match self.prepare(input) {
            Err(o) => o,
            Ok((shown, message)) if self.dry_run => self.plan(shown, &message).await,
            Ok((shown, message)) => self.send_waiting(shown, message).await,
        }
    }

    /// Sends one message; while another process holds its key, waits for that process to finish (up
    /// to --timeout), after which the claim answers its receipt (a duplicate) or lets this one send.
    async fn send_waiting(&self, shown: String, message: Message) -> Outcome {
        let deadline = Instant::now() + self.wait;
        loop {
            match self.messenger.send(message.clone()).await {
                Ok(receipt) => {
                    return Outcome::Sent {
                        shown,
                        receipt: Box::new(receipt),
                    };
                }
                Err(e) if is_held_elsewhere(&e) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Outcome::Failed { shown, error: e };
                    }
                    let pause = e
                        .retry_after()
                        .unwrap_or(Duration::from_millis(100))
                        .clamp(Duration::from_millis(20), Duration::from_millis(250))
                        .min(deadline - now);
                    tokio::time::sleep(pause).await;
                }
                Err(error) => return Outcome::Failed { shown, error },
            }
        }
    }

    /// A batch of inputs: the recipients that parse go to the provider in one `send_batch` (its bulk
    /// API); a key another process holds is then waited for one by one, as in [`Job::handle`].
    async fn handle_batch(&self, inputs: Vec<Input>) -> Vec<Outcome> {
        if self.dry_run || inputs.len() == 1 {
            let mut out = Vec::with_capacity(inputs.len());
            for i in inputs {
                out.push(self.handle(i).await);
            }
            return out;
        }
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(inputs.len());
        let mut pending: Vec<(usize, String, Message)> = Vec::new();
        for input in inputs {
            match self.prepare(input) {
                Ok((shown, message)) => pending.push((outcomes.len(), shown, message)),
                Err(o) => {
                    outcomes.push(Some(o));
                    continue;
                }
            }
            outcomes.push(None);
        }
        let messages: Vec<Message> = pending.iter().map(|(_, _, m)| m.clone()).collect();
        let results = self.messenger.send_batch(&messages).await;
        for ((i, shown, message), result) in pending.into_iter().zip(results) {
            outcomes[i] = Some(match result {
                Err(e) if is_held_elsewhere(&e) => self.send_waiting(shown, message).await,
                Ok(receipt) => Outcome::Sent {
                    shown,
                    receipt: Box::new(receipt),
                },
                Err(error) => Outcome::Failed { shown, error },
            });
        }
        outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| Outcome::Invalid {
                    input: String::new(),
                    error: invalid("no result"),
                })
            })
            .collect()
    }

    /// The dry run of one message: nothing reaches a send endpoint.
    async fn plan(&self, shown: String, message: &Message) -> Outcome {
        let route = match self.messenger.plan(message) {
            Ok(r) => r,
            Err(error) => return Outcome::Failed { shown, error },
        };
        let chosen = route.first().cloned().unwrap_or_default();
        let transport = self.messenger.transport(&chosen);
        let smart_on = transport.is_some() && self.smart;
        let out = message.smart_encoded(smart_on);
        let mut m = serde_json::Map::new();
        m.insert("route".into(), route.clone().into());
        m.insert("transport".into(), chosen.clone().into());
        let mut line = format!("{chosen} (route {})", route.join(","));
        if matches!(message.to, Recipient::Phone(_)) {
            let s = out.segmentation();
            let before = message.segmentation().segments;
            m.insert("encoding".into(), s.encoding.as_str().into());
            m.insert("segments".into(), s.segments.into());
            m.insert("segments_without_smart".into(), before.into());
            line += &format!("; {}, {} segment(s)", s.encoding, s.segments);
            if before != s.segments {
                line += &format!(" ({before} without smart encoding)");
            }
        }
        let cost = match &transport {
            Some(t) => t.estimate_cost(&out).await,
            None => Ok(None),
        };
        match cost {
            Ok(Some(p)) => {
                m.insert(
                    "cost".into(),
                    serde_json::json!({ "amount": p.amount(), "currency": p.currency() }),
                );
                line += &format!("; cost {} {}", p.amount(), p.currency());
            }
            Ok(None) => {
                m.insert("cost".into(), serde_json::Value::Null);
                line += "; cost unknown";
            }
            Err(e) => {
                m.insert("cost".into(), serde_json::Value::Null);
                m.insert("cost_error".into(), e.to_string().into());
                line += &format!("; cost unknown ({e})");
            }
        }
        Outcome::Planned { shown, plan: m, line }
    }
}

/// A key another process is sending: nothing was sent by this call, and waiting helps.
fn is_held_elsewhere(e: &Error) -> bool {
    e.kind() == ErrorKind::Conflict && e.dispatch() == switchboard::Dispatch::NotSent
}

/// Opens the `--store` URL and brings its tables up to date.
async fn open_store(url: &str) -> Result<Arc<dyn Store>, Fail> {
    if url.starts_with("sqlite:") {
        let s = switchboard::store::SqliteStore::connect(url).await?;
        s.migrate().await?;
        return Ok(Arc::new(s));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        {
            let s = switchboard::store::PostgresStore::connect(url).await?;
            s.migrate().await?;
            return Ok(Arc::new(s));
        }
        #[cfg(not(feature = "postgres"))]
        return Err(Fail("this build has no PostgreSQL store (feature `postgres`)".into()));
    }
    Err(Fail("--store takes sqlite:PATH or postgres://…".into()))
}

/// The recipients: every `--to`, then the lines of `--to-file`, read as they are needed.
fn inputs(to: Vec<String>, file: Option<Box<dyn AsyncBufRead + Unpin + Send>>) -> impl Stream<Item = Input> + Send {
    let lines = stream::unfold(file, |reader| async move {
        let mut reader = reader?;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) => return None,
                Ok(_) => {}
                // A read error ends the file; it is reported in place as the last line.
                Err(e) => {
                    return Some((
                        Err((String::new(), format!("cannot read the recipients file: {e}"))),
                        None,
                    ));
                }
            }
            let item = match std::str::from_utf8(&buf) {
                Ok(s) if s.trim().is_empty() => continue,
                Ok(s) => Ok(s.trim().to_owned()),
                Err(_) => Err((
                    String::from_utf8_lossy(&buf).trim().to_owned(),
                    "the line is not valid UTF-8".to_owned(),
                )),
            };
            return Some((item, Some(reader)));
        }
    });
    stream::iter(to.into_iter().map(Ok)).chain(lines)
}

#[derive(Default)]
struct Counts {
    accepted: usize,
    duplicate: usize,
    failed: usize,
    invalid: usize,
    planned: usize,
}

/// Runs `send`.
pub async fn run(args: Args, profile: Option<&str>, format: Format) -> Result<ExitCode, Fail> {
    let profile = Profile::load(profile)?;
    let (dsn, _) = profile.dsn(args.dsn)?;
    let region = profile.region(args.default_region.as_deref())?;
    if args.to.is_empty() && args.to_file.is_none() {
        return Err(Fail("send needs at least one --to or a --to-file".into()));
    }
    let file: Option<Box<dyn AsyncBufRead + Unpin + Send>> = match &args.to_file {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(Box::new(BufReader::new(tokio::io::stdin()))),
        Some(p) => {
            Some(Box::new(BufReader::new(tokio::fs::File::open(p).await.map_err(
                |e| Fail(format!("--to-file: cannot read '{}': {e}", p.display())),
            )?)))
        }
    };
    let mut builder = Messenger::builder_from_dsns([dsn.as_str()])?;
    if let Some(url) = &args.store {
        builder = builder.store(open_store(url).await?);
    }
    let job = Arc::new(Job {
        messenger: builder.build()?,
        text: args.text,
        region,
        smart: args.smart_encoding,
        key: args.key,
        wait: Duration::from_secs(args.timeout),
        dry_run: args.dry_run,
    });

    let progress = std::io::stderr().is_terminal().then(|| {
        let bar = if args.to_file.is_none() {
            ProgressBar::with_draw_target(Some(args.to.len() as u64), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        };
        bar.set_message("sending");
        bar
    });
    let started = Instant::now();
    let mut counts = Counts::default();
    let concurrency = usize::from(args.concurrency);
    let mut results: Pin<Box<dyn Stream<Item = Outcome> + Send>> = if args.batch == 1 {
        Box::pin(
            inputs(args.to, file)
                .map(|input| {
                    let job = job.clone();
                    async move { job.handle(input).await }
                })
                .buffered(concurrency),
        )
    } else {
        Box::pin(
            inputs(args.to, file)
                .chunks(usize::from(args.batch))
                .map(|batch| {
                    let job = job.clone();
                    async move { stream::iter(job.handle_batch(batch).await) }
                })
                .buffered(concurrency)
                .flatten(),
        )
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    while let Some(outcome) = results.next().await {
        if write(&mut out, format, &outcome, &mut counts).is_err() {
            break;
        }
        // Lines are written as they are known, so a reader of the pipe sees progress.
        if out.flush().is_err() {
            break;
        }
        if let Some(p) = &progress {
            p.inc(1);
        }
    }
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    if format == Format::Text {
        let c = &counts;
        let total = c.accepted + c.duplicate + c.failed + c.invalid + c.planned;
        let what = if job.dry_run {
            format!("{} planned", c.planned)
        } else {
            format!("{} accepted, {} duplicate", c.accepted, c.duplicate)
        };
        eprintln!(
            "switchboard: {total} recipient(s) in {:.2}s: {what}, {} failed, {} invalid",
            started.elapsed().as_secs_f64(),
            c.failed,
            c.invalid
        );
    }
    Ok(if counts.failed + counts.invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn write(out: &mut impl Write, format: Format, outcome: &Outcome, counts: &mut Counts) -> std::io::Result<()> {
    let (recipient, status, text, json) = match outcome {
        Outcome::Invalid { input, error } => {
            counts.invalid += 1;
            (
                input,
                "invalid".to_owned(),
                error.message().to_owned(),
                error_fields(error),
            )
        }
        Outcome::Failed { shown, error } => {
            counts.failed += 1;
            (shown, "failed".to_owned(), error.to_string(), error_fields(error))
        }
        Outcome::Sent { shown, receipt } => {
            let status = if receipt.replayed {
                counts.duplicate += 1;
                "duplicate".to_owned()
            } else {
                counts.accepted += 1;
                receipt.status.to_string()
            };
            let mut m = serde_json::Map::new();
            m.insert("ids".into(), receipt.provider_ids.clone().into());
            m.insert("transport".into(), receipt.transport.clone().into());
            (shown, status, receipt.provider_ids.join(","), m)
        }
        Outcome::Planned { shown, plan, line } => {
            counts.planned += 1;
            (shown, "planned".to_owned(), line.clone(), plan.clone())
        }
    };
    match format {
        Format::Text => writeln!(out, "{recipient}\t{status}\t{text}"),
        Format::Json => {
            let mut m = serde_json::Map::new();
            m.insert("recipient".into(), recipient.as_str().into());
            m.insert("status".into(), status.into());
            m.extend(json);
            json_line(out, &m.into())
        }
    }
}

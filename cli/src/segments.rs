//! `segments`: how a text splits into SMS parts. `segments --json` reads one JSON string a line from
//! stdin and prints one JSON object a line, `{"encoding","segments","units","per_segment"}`;
//! `segments TEXT` prints a readable summary (with `-o json`, the same object for TEXT).

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use switchboard::{Encoding, Segmentation};

use crate::Fail;
use crate::output::{Format, json_line};

/// `segments` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Read one JSON string a line from stdin and print one JSON object a line.
    #[arg(long, conflicts_with = "text")]
    json: bool,
    /// Show what GSM-7 smart encoding (curly quotes, dashes and the like replaced by look-alikes) would
    /// save.
    #[arg(long)]
    smart_encoding: bool,
    /// The text (several words are joined by spaces).
    text: Vec<String>,
}

fn object(s: &Segmentation) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("encoding".into(), s.encoding.as_str().into());
    m.insert("segments".into(), s.segments.into());
    m.insert("units".into(), s.units.into());
    m.insert("per_segment".into(), s.per_segment.into());
    m
}

/// The JSON object for one text; with smart encoding, the segmentation after it and what it saved.
fn describe(text: &str, smart: bool) -> serde_json::Value {
    if !smart {
        return object(&Segmentation::of(text)).into();
    }
    let s = switchboard::segment::smart::smart_gsm7(text);
    let mut m = object(&s.after);
    m.insert("segments_without_smart".into(), s.before.segments.into());
    m.insert("replaced".into(), s.replaced.into());
    m.into()
}

/// Runs `segments`.
pub fn run(args: Args, format: Format) -> Result<ExitCode, Fail> {
    if args.json || (args.text.is_empty() && format == Format::Json) {
        let stdin = io::stdin().lock();
        let mut out = BufWriter::new(io::stdout().lock());
        for line in stdin.split(b'\n') {
            let line = line.map_err(|e| Fail(format!("cannot read stdin: {e}")))?;
            let answer = match serde_json::from_slice::<String>(&line) {
                Ok(text) => describe(&text, args.smart_encoding),
                Err(e) => serde_json::json!({ "error": format!("the line is not a JSON string: {e}") }),
            };
            if json_line(&mut out, &answer).is_err() {
                break;
            }
        }
        let _ = out.flush();
        return Ok(ExitCode::SUCCESS);
    }
    if args.text.is_empty() {
        return Err(Fail(
            "segments needs a TEXT argument, or --json to read JSON strings from stdin".into(),
        ));
    }
    let text = args.text.join(" ");
    if format == Format::Json {
        println!("{}", describe(&text, args.smart_encoding));
        return Ok(ExitCode::SUCCESS);
    }
    let smart = args
        .smart_encoding
        .then(|| switchboard::segment::smart::smart_gsm7(&text));
    let (text, s) = match &smart {
        Some(sm) => (sm.text.as_ref(), sm.after),
        None => (text.as_str(), Segmentation::of(&text)),
    };
    println!("encoding:    {}", s.encoding);
    let unit = if s.encoding == Encoding::Gsm7 {
        "septets"
    } else {
        "UTF-16 units"
    };
    println!("size:        {} {unit}", s.units);
    println!("segments:    {} (up to {} units each)", s.segments, s.per_segment);
    if let Some(sm) = &smart {
        println!(
            "smart:       {} characters replaced, {} segments before",
            sm.replaced, sm.before.segments
        );
    }
    if let Ok(parts) = switchboard::segment::split(text, s.encoding) {
        for (i, p) in parts.iter().enumerate() {
            println!("  part {}: {p:?}", i + 1);
        }
    }
    Ok(ExitCode::SUCCESS)
}

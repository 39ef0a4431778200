//! Where a command's DSN and default region come from: the command line, then the environment
//! (`SWITCHBOARD_DSN`), then a profile of the configuration file:
//!
//! ```toml
//! # $SWITCHBOARD_CONFIG, else $XDG_CONFIG_HOME/switchboard/config.toml, else ~/.config/switchboard/config.toml
//! [profiles.default]
//! dsn = "smsru://API_ID@default?from=Acme"
//! default_region = "RU"
//!
//! [profiles.albania]
//! dsn = "failover(dinstar://admin:secret@10.0.0.5:8081 mitto://KEY@default?from=Acme)"
//! default_region = "AL"
//! ```
//!
//! The profile is `--profile NAME`, else `SWITCHBOARD_PROFILE`, else `default`. DSNs hold credentials,
//! so every DSN this program shows (errors, `config show`) goes through the library's redaction.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Deserialize;
use switchboard::{Dsn, Region};

use crate::Fail;
use crate::output::Format;

/// `config` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: Show,
}

#[derive(Debug, clap::Subcommand)]
enum Show {
    /// Prints the configuration file's path, the profile, and the DSN (redacted) and default region in
    /// effect, each with where it came from.
    Show,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    profiles: BTreeMap<String, Entry>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    dsn: Option<String>,
    default_region: Option<String>,
}

/// The profile in effect: its name, the file it came from, and what it holds.
#[derive(Debug, Default)]
pub struct Profile {
    name: String,
    path: Option<PathBuf>,
    entry: Entry,
    found: bool,
}

/// The configuration file's path: `$SWITCHBOARD_CONFIG`, `$XDG_CONFIG_HOME/switchboard/config.toml` or
/// `~/.config/switchboard/config.toml`.
fn config_path() -> Option<PathBuf> {
    let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(p) = non_empty("SWITCHBOARD_CONFIG") {
        return Some(PathBuf::from(p));
    }
    if let Some(x) = non_empty("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(x).join("switchboard").join("config.toml"));
    }
    non_empty("HOME").map(|h| PathBuf::from(h).join(".config").join("switchboard").join("config.toml"))
}

impl Profile {
    /// Loads the profile `flag` (else `SWITCHBOARD_PROFILE`, else `default`). A missing file or a
    /// missing `default` profile is no error (the command line and the environment may say enough); a
    /// profile asked for by name that is not there is.
    pub fn load(flag: Option<&str>) -> Result<Profile, Fail> {
        let env = std::env::var("SWITCHBOARD_PROFILE").ok().filter(|p| !p.is_empty());
        let named = flag.map(str::to_owned).or(env);
        let name = named.clone().unwrap_or_else(|| "default".to_owned());
        let path = config_path();
        let text = match &path {
            None => None,
            Some(p) => match std::fs::read(p) {
                Ok(bytes) => Some(
                    String::from_utf8(bytes)
                        .map_err(|_| Fail(format!("the configuration file {} is not UTF-8", p.display())))?,
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Fail(format!("cannot read the configuration file {}: {e}", p.display()))),
            },
        };
        let file: File = match (&text, &path) {
            (Some(t), Some(p)) => toml::from_str(t).map_err(|e| {
                // toml's Display quotes the offending line, which may be a DSN with its password: only
                // the message and the line number are shown.
                let line = e.span().map(|s| t[..s.start.min(t.len())].lines().count().max(1));
                Fail(format!(
                    "the configuration file {} is not valid{}: {}",
                    p.display(),
                    line.map(|l| format!(" at line {l}")).unwrap_or_default(),
                    e.message()
                ))
            })?,
            _ => File::default(),
        };
        let entry = file.profiles.get(&name).cloned();
        if entry.is_none() && named.is_some() {
            return Err(Fail(match &path {
                Some(p) => format!("no profile '{name}' in {}", p.display()),
                None => format!("no profile '{name}': no configuration file (set SWITCHBOARD_CONFIG or HOME)"),
            }));
        }
        Ok(Profile {
            name,
            path,
            found: entry.is_some(),
            entry: entry.unwrap_or_default(),
        })
    }

    /// The DSN: `--dsn`, else `SWITCHBOARD_DSN`, else the profile's, with where it came from.
    pub fn dsn(&self, flag: Option<String>) -> Result<(String, String), Fail> {
        if let Some(d) = flag {
            return Ok((d, "--dsn".into()));
        }
        if let Some(d) = std::env::var("SWITCHBOARD_DSN").ok().filter(|d| !d.trim().is_empty()) {
            return Ok((d, "SWITCHBOARD_DSN".into()));
        }
        match &self.entry.dsn {
            Some(d) => Ok((d.clone(), format!("profile '{}'", self.name))),
            None => Err(Fail(
                "no DSN: pass --dsn, set SWITCHBOARD_DSN, or put one in a profile of the configuration file \
                 (switchboard config show says where it is looked for)"
                    .into(),
            )),
        }
    }

    /// The default region for numbers without a country code: `--default-region`, else the profile's.
    pub fn region(&self, flag: Option<&str>) -> Result<Option<Region>, Fail> {
        let (raw, from) = match (flag, &self.entry.default_region) {
            (Some(r), _) => (r, "--default-region".to_owned()),
            (None, Some(r)) => (r.as_str(), format!("profile '{}': default_region", self.name)),
            (None, None) => return Ok(None),
        };
        Region::parse(raw).map(Some).map_err(|e| Fail(format!("{from}: {e}")))
    }
}

/// A DSN, or a `failover(…)` / `roundrobin(…)` group of them, as it may be shown: each DSN through the
/// library's redaction (passwords `***`, keys cut to a prefix, secret options masked). Anything that
/// does not parse is not shown at all.
pub fn redact(dsn: &str) -> String {
    let mut out = Vec::new();
    let mut in_group = false;
    for token in dsn.split_whitespace() {
        let (open, rest) = ["failover(", "roundrobin("]
            .iter()
            .find_map(|p| token.strip_prefix(p).map(|r| (*p, r)))
            .unwrap_or(("", token));
        in_group |= !open.is_empty();
        let (inner, close) = match rest.strip_suffix(')') {
            Some(i) if in_group => {
                in_group = false;
                (i, ")")
            }
            _ => (rest, ""),
        };
        let shown = if inner.is_empty() {
            String::new()
        } else {
            Dsn::parse(inner).map_or_else(|_| "<unreadable DSN>".to_owned(), |d| d.to_string())
        };
        out.push(format!("{open}{shown}{close}"));
    }
    out.join(" ")
}

/// `config show`.
pub fn run(args: Args, profile: Option<&str>, format: Format) -> Result<ExitCode, Fail> {
    let Show::Show = args.what;
    let p = Profile::load(profile)?;
    let path = p.path.as_ref().map(|p| p.display().to_string());
    let dsn = p.dsn(None).ok().map(|(d, from)| (redact(&d), from));
    let region = p.entry.default_region.clone();
    match format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "file": path,
                "profile": p.name,
                "profile_found": p.found,
                "dsn": dsn.as_ref().map(|d| &d.0),
                "dsn_from": dsn.as_ref().map(|d| &d.1),
                "default_region": region,
            })
        ),
        Format::Text => {
            println!("file\t{}", path.as_deref().unwrap_or("-"));
            println!("profile\t{}{}", p.name, if p.found { "" } else { " (not in the file)" });
            match &dsn {
                Some((d, from)) => println!("dsn\t{d}\t{from}"),
                None => println!("dsn\t-"),
            }
            println!("default_region\t{}", region.as_deref().unwrap_or("-"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn groups_and_single_dsns_lose_their_secrets() {
        let r = redact("failover(smsru://SECRETKEY@default?from=A twilio://AC1:hunter2@default?from=%2B1)");
        assert!(!r.contains("SECRETKEY") && !r.contains("hunter2"), "{r}");
        assert!(r.starts_with("failover(smsru://") && r.ends_with(')'), "{r}");
        let r = redact("dinstar://admin:hunter2@10.0.0.5:8081");
        assert_eq!(r, "dinstar://adm***:***@10.0.0.5:8081");
        assert!(!redact("::not a dsn hunter2").contains("hunter2"));
    }
}

#![no_main]
//! `Dsn::parse` and `Messenger::from_dsns` on arbitrary strings: never a panic, and never the
//! password in an error.
//!
//! Byte 0 chooses the mode. Raw mode feeds the rest as it is (and, when it parses with a password
//! that occurs once in the input, checks that no error shows it). Structured mode writes a DSN
//! whose password starts with a marker and is percent-encoded as the docs require, with fuzzed
//! scheme, user, host and tail, alone or in `failover(…)` / `roundrobin(…)` groups, and checks
//! that neither `Dsn`'s `Display`/`Debug` nor any error shows the marker.

use libfuzzer_sys::fuzz_target;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use switchboard::Messenger;
use switchboard_core::{Dsn, ExposeSecret};

const MARKER: &str = "Pw9Marker";
const SCHEMES: &[&str] = &[
    "dinstar",
    "mitto",
    "mightycall",
    "telecmi",
    "smsru",
    "twilio",
    "smtp",
    "smtps",
    "fcm",
    "telegram",
    "nosuch",
];

fn shown(e: &switchboard_core::Error) -> String {
    format!("{e} {e:?} {}", e.message())
}

fn raw(s: &str) {
    let parsed = Dsn::parse(s);
    let messenger = Messenger::from_dsns([s]);
    let _ = Messenger::from_dsns(s.split('\n'));
    let _ = switchboard::transport_from_dsn(s);
    let Ok(d) = parsed else { return };
    let _ = (
        d.to_string(),
        format!("{d:?}"),
        d.base_url(true),
        d.endpoint_or("https://api.example"),
    );
    let _ = (d.option_bool("tls", true), d.option_parse::<u32>("timeout"));
    let Some(p) = d.password().map(|p| p.expose_secret().to_owned()) else {
        return;
    };
    // Only passwords that cannot be mistaken for other text of the input or of a message.
    if p.len() < 6 || s.matches(p.as_str()).count() != 1 || !p.chars().any(|c| c.is_ascii_digit()) {
        return;
    }
    let disp = format!("{d} {d:?}");
    assert!(!disp.contains(&p), "Dsn shows its password: {disp}");
    if let Err(e) = messenger {
        assert!(
            !shown(&e).contains(&p),
            "from_dsns({s:?}) shows the password: {}",
            shown(&e)
        );
    }
}

fn clean(s: &str, banned: &[char]) -> String {
    s.chars()
        .filter(|c| !banned.contains(c) && !c.is_whitespace())
        .collect()
}

fn structured(sel: u8, s: &str) {
    let mut fields = s.split('\u{0}');
    let mut next = || fields.next().unwrap_or("");
    let scheme = match sel % 16 {
        i if usize::from(i) < SCHEMES.len() => SCHEMES[usize::from(i)].to_owned(),
        _ => clean(next(), &[':', '/', '@', '?', '(', ')']),
    };
    let user = utf8_percent_encode(next(), NON_ALPHANUMERIC).to_string();
    let password = format!("{MARKER}{}", utf8_percent_encode(next(), NON_ALPHANUMERIC));
    let host = clean(next(), &['@', '(', ')']);
    let tail = clean(next(), &['@', '(', ')']);
    let dsn = format!("{scheme}://{user}:{password}@{host}{tail}");
    let other = clean(next(), &['(', ')']);
    // The marker must come from the password only.
    if [&scheme, &user, &host, &tail, &other]
        .iter()
        .any(|f| f.contains(MARKER))
    {
        return;
    }
    let entries = match (sel >> 4) % 4 {
        0 => vec![dsn.clone()],
        1 => vec![format!("failover({other} {dsn})")],
        2 => vec![format!("roundrobin({dsn} {other})")],
        _ => vec![other.clone(), dsn.clone()],
    };
    match Dsn::parse(&dsn) {
        Ok(d) => {
            let disp = format!("{d} {d:?} {}", d.base_url(false));
            assert!(!disp.contains(MARKER), "{dsn:?} shows as {disp}");
            assert!(
                d.password().is_some_and(|p| p.expose_secret().starts_with(MARKER)),
                "{dsn:?}"
            );
        }
        Err(e) => assert!(!shown(&e).contains(MARKER), "Dsn::parse({dsn:?}): {}", shown(&e)),
    }
    if let Err(e) = Messenger::from_dsns(&entries) {
        assert!(!shown(&e).contains(MARKER), "from_dsns({entries:?}): {}", shown(&e));
    }
    if let Err(e) = switchboard::transport_from_dsn(&dsn) {
        assert!(
            !shown(&e).contains(MARKER),
            "transport_from_dsn({dsn:?}): {}",
            shown(&e)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let s = String::from_utf8_lossy(rest);
    if sel & 0x80 == 0 {
        raw(&s);
    } else {
        structured(sel & 0x7F, &s);
    }
});

//! `REGION<TAB>INPUT` lines on stdin, one E.164 number (or `invalid`) per line on stdout, through
//! whichever phone library the features enable; `compare FILE` (both features) for the comparison
//! described in Cargo.toml.

use std::io::BufRead;
#[cfg(all(feature = "rlibphonenumber", feature = "phonenumber"))]
use std::sync::Mutex;

/// The normalisers: parse with the default region, keep only valid numbers, E.164 and the number's
/// own region.
#[cfg(feature = "rlibphonenumber")]
fn rlib(region: &str, input: &str) -> Option<(String, String)> {
    use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat, Region};
    let region = if region.is_empty() {
        None
    } else {
        Some(Region::from_code(region).ok()?)
    };
    let n = PHONE_NUMBER_UTIL.parse(input, region).ok()?;
    if !PHONE_NUMBER_UTIL.is_valid_number(&n) {
        return None;
    }
    let own = PHONE_NUMBER_UTIL.get_region_for_number(&n)?;
    Some((
        PHONE_NUMBER_UTIL.format(&n, PhoneNumberFormat::E164).into_owned(),
        own.as_region_str().to_string(),
    ))
}

#[cfg(feature = "phonenumber")]
fn alt(region: &str, input: &str) -> Option<(String, String)> {
    let region = if region.is_empty() {
        None
    } else {
        Some(region.parse::<phonenumber::country::Id>().ok()?)
    };
    let n = phonenumber::parse(region, input).ok()?;
    if !phonenumber::is_valid(&n) {
        return None;
    }
    let own = n.country().id()?;
    Some((
        n.format().mode(phonenumber::Mode::E164).to_string(),
        own.as_ref().to_owned(),
    ))
}

fn normalise(region: &str, input: &str) -> Option<(String, String)> {
    #[cfg(feature = "rlibphonenumber")]
    return rlib(region, input);
    #[cfg(all(feature = "phonenumber", not(feature = "rlibphonenumber")))]
    return alt(region, input);
    #[cfg(not(any(feature = "rlibphonenumber", feature = "phonenumber")))]
    {
        let _ = (region, input);
        None
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("compare") {
        #[cfg(all(feature = "rlibphonenumber", feature = "phonenumber"))]
        return compare::run(args.get(2).expect("compare needs core/src/phone/forms_tests.rs"));
        #[cfg(not(all(feature = "rlibphonenumber", feature = "phonenumber")))]
        panic!("compare needs both features");
    }
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let (region, input) = line.split_once('\t').unwrap_or(("", &line));
        match normalise(region, input) {
            Some((e164, _)) => println!("{e164}"),
            None => println!("invalid"),
        }
    }
}

#[cfg(all(feature = "rlibphonenumber", feature = "phonenumber"))]
mod compare {
    use super::*;
    use std::hint::black_box;
    use std::time::Instant;

    /// Every `log` record, for counting the ones that show a number.
    struct Recorder(Mutex<Vec<String>>);

    impl log::Log for Recorder {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            if let Ok(mut v) = self.0.lock() {
                v.push(format!("{} {}: {}", record.level(), record.target(), record.args()));
            }
        }
        fn flush(&self) {}
    }

    static RECORDER: Recorder = Recorder(Mutex::new(Vec::new()));

    /// `("RU", "8 (912) 345-67-89", "+79123456789", "RU"),` lines of the ACCEPTED table.
    fn accepted(source: &str) -> Vec<[String; 4]> {
        let start = source.find("const ACCEPTED").expect("ACCEPTED table");
        let end = start + source[start..].find("\n];").expect("end of ACCEPTED");
        source[start..end]
            .lines()
            .filter_map(|l| {
                let l = l.trim().strip_prefix("(\"")?.strip_suffix("\"),")?;
                let f: Vec<String> = l.split("\", \"").map(str::to_owned).collect();
                <[String; 4]>::try_from(f).ok()
            })
            .collect()
    }

    const NATIONAL: &[(&str, &str)] = &[
        ("RU", "8 (912) 345-67-89"),
        ("GB", "020 8366 1177"),
        ("AL", "069 412 3456"),
        ("US", "(201) 555-0123"),
        ("DE", "030 12345678"),
        ("FR", "06 12 34 56 78"),
        ("IN", "081234 56789"),
        ("BR", "(11) 96123-4567"),
        ("KZ", "8 701 123 4567"),
        ("AU", "0412 345 678"),
    ];

    fn time(f: fn(&str, &str) -> Option<(String, String)>, inputs: &[(&str, &str)]) -> f64 {
        for &(r, i) in inputs {
            assert!(f(r, i).is_some(), "{r} {i}");
        }
        // Rounds over all inputs for at least two seconds (the first round warms any cache).
        let start = Instant::now();
        let mut rounds = 0;
        while rounds < 2 || start.elapsed().as_secs_f64() < 2.0 {
            for &(r, i) in inputs {
                black_box(f(black_box(r), black_box(i)));
            }
            rounds += 1;
        }
        start.elapsed().as_secs_f64() * 1e6 / (rounds * inputs.len()) as f64
    }

    pub fn run(path: &str) {
        let source = std::fs::read_to_string(path).expect("read the phone_forms table");
        let table = accepted(&source);
        assert!(table.len() > 50, "only {} rows parsed", table.len());
        log::set_logger(&RECORDER).expect("logger");
        log::set_max_level(log::LevelFilter::Trace);

        println!("{} accepted forms of core/src/phone/forms_tests.rs\n", table.len());
        println!("| library | agrees | disagrees | log records | records showing the number |");
        println!("|---|---:|---:|---:|---:|");
        let libs: [(&str, fn(&str, &str) -> Option<(String, String)>); 2] =
            [("rlibphonenumber", rlib), ("phonenumber", alt)];
        for (name, f) in libs {
            RECORDER.0.lock().unwrap().clear();
            let mut wrong = Vec::new();
            for [region, input, e164, own] in &table {
                let got = f(region, input);
                if got.as_ref() != Some(&(e164.clone(), own.clone())) {
                    wrong.push(format!("{region} {input:?}: got {got:?}, want {e164} {own}"));
                }
            }
            // The one REJECTED row: too long for Russia.
            if f("RU", "+7 (912) 345-67-89-00").is_some() {
                wrong.push("RU \"+7 (912) 345-67-89-00\" accepted".into());
            }
            let records = RECORDER.0.lock().unwrap().clone();
            let showing = records
                .iter()
                .filter(|r| table.iter().any(|[_, _, e164, _]| r.contains(&e164[e164.len() - 7..])))
                .count();
            println!(
                "| {name} | {} | {} | {} | {showing} |",
                table.len() + 1 - wrong.len(),
                wrong.len(),
                records.len()
            );
            for w in &wrong {
                eprintln!("{name}: {w}");
            }
            if let Some(example) = records
                .iter()
                .find(|r| table.iter().any(|[_, _, e, _]| r.contains(&e[e.len() - 7..])))
            {
                eprintln!("{name}, a record: {example}");
            }
        }
        log::set_max_level(log::LevelFilter::Off);
        println!("\n| library | national form + region, µs/number | already E.164, µs/number |");
        println!("|---|---:|---:|");
        let e164_inputs: Vec<(String, String)> = NATIONAL
            .iter()
            .map(|&(r, i)| (String::new(), rlib(r, i).expect("valid").0))
            .collect();
        let e164_refs: Vec<(&str, &str)> = e164_inputs.iter().map(|(r, i)| (r.as_str(), i.as_str())).collect();
        for (name, f) in libs {
            println!("| {name} | {:.2} | {:.2} |", time(f, NATIONAL), time(f, &e164_refs));
        }
    }
}

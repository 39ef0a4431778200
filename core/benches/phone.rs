//! `PhoneNumber::parse` against rlibphonenumber called directly (parse + is_valid_number +
//! format E.164), on national input with a region and on input that is already E.164.
//!
//! `cargo bench -p switchboard-core --bench phone -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat};
use switchboard_core::phone::{PhoneNumber, Region};

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

const E164: &[&str] = &[
    "+79123456789",
    "+442083661177",
    "+355694123456",
    "+12015550123",
    "+493012345678",
    "+33612345678",
    "+918123456789",
    "+5511961234567",
    "+77011234567",
    "+61412345678",
];

fn direct(input: &str, region: Option<rlibphonenumber::Region>) -> Option<String> {
    let number = PHONE_NUMBER_UTIL.parse(input, region).ok()?;
    if !PHONE_NUMBER_UTIL.is_valid_number(&number) {
        return None;
    }
    Some(PHONE_NUMBER_UTIL.format(&number, PhoneNumberFormat::E164).into_owned())
}

fn national(c: &mut Criterion) {
    let ours: Vec<(Option<Region>, &str)> = NATIONAL
        .iter()
        .map(|&(r, s)| (Some(Region::parse(r).unwrap()), s))
        .collect();
    let lib: Vec<(Option<rlibphonenumber::Region>, &str)> = NATIONAL
        .iter()
        .map(|&(r, s)| (Some(rlibphonenumber::Region::from_code(r).unwrap()), s))
        .collect();
    // Both sides must agree before their speed is compared.
    for (a, b) in ours.iter().zip(&lib) {
        let n = PhoneNumber::parse(a.1, a.0).unwrap();
        assert_eq!(Some(n.as_e164().to_owned()), direct(b.1, b.0));
    }

    let mut group = c.benchmark_group("phone/national");
    group.throughput(Throughput::Elements(NATIONAL.len() as u64));
    group.bench_function("PhoneNumber::parse", |b| {
        b.iter(|| {
            for &(region, input) in &ours {
                black_box(PhoneNumber::parse(black_box(input), region).unwrap());
            }
        })
    });
    group.bench_function("rlibphonenumber direct", |b| {
        b.iter(|| {
            for &(region, input) in &lib {
                black_box(direct(black_box(input), region).unwrap());
            }
        })
    });
    group.finish();
}

fn e164(c: &mut Criterion) {
    for &input in E164 {
        let n = PhoneNumber::parse(input, None).unwrap();
        assert_eq!(Some(n.as_e164().to_owned()), direct(input, None));
    }

    let mut group = c.benchmark_group("phone/e164");
    group.throughput(Throughput::Elements(E164.len() as u64));
    group.bench_function("PhoneNumber::parse", |b| {
        b.iter(|| {
            for &input in E164 {
                black_box(PhoneNumber::parse(black_box(input), None).unwrap());
            }
        })
    });
    group.bench_function("rlibphonenumber direct", |b| {
        b.iter(|| {
            for &input in E164 {
                black_box(direct(black_box(input), None).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, national, e164);
criterion_main!(benches);

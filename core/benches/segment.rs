//! SMS segmentation: `Segmentation::of` and `split` against the naive count many integrations use.
//!
//! Run: `cargo bench -p switchboard-core --bench segment -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use switchboard_core::segment::{Encoding, Segmentation, split};

/// The simplest alternative: count chars, pick 160/153 for ASCII and 70/67 otherwise, divide.
/// It gets extension characters, GSM accents, emoji and part boundaries wrong.
fn naive_segments(text: &str) -> usize {
    let n = text.chars().count();
    let (single, multi) = if text.is_ascii() { (160, 153) } else { (70, 67) };
    if n <= single { 1 } else { n.div_ceil(multi) }
}

fn texts() -> Vec<(&'static str, String)> {
    let short = "Your code is 482913. It expires in 10 minutes.".to_string();
    let gsm600 = "Dear customer, your order #48213 has been shipped and will arrive on Monday. \
                  Track it at example.com/t/48213 {ref: A-77}. Questions? Reply to this SMS. "
        .repeat(4)
        .chars()
        .take(600)
        .collect::<String>();
    let cyrillic = "Ваш заказ №48213 отправлен и будет доставлен в понедельник. Вопросы? \
                    Ответьте на это сообщение. Спасибо, что выбрали нас! "
        .repeat(2);
    let emoji = "Party tonight 🎉🎉 bring 🍕 and 🍺! 👨‍👩‍👧‍👦 welcome 👍🏽 🇦🇱 see you ❤️ ".repeat(5);
    vec![
        ("short_gsm", short),
        ("gsm_600", gsm600),
        ("cyrillic", cyrillic),
        ("emoji", emoji),
    ]
}

fn bench_of(c: &mut Criterion) {
    let mut group = c.benchmark_group("segment_of");
    for (name, text) in texts() {
        let chars = text.chars().count();
        group.bench_function(format!("{name}/{chars}ch/segmentation_of"), |b| {
            b.iter(|| Segmentation::of(black_box(&text)))
        });
        group.bench_function(format!("{name}/{chars}ch/naive_chars_count"), |b| {
            b.iter(|| naive_segments(black_box(&text)))
        });
    }
    group.finish();
}

fn bench_split(c: &mut Criterion) {
    let mut group = c.benchmark_group("segment_split");
    let gsm = "Dear customer, your order {48213} has shipped. ".repeat(40); // 1880 chars
    let ucs2 = "Ваш заказ отправлен 📦, спасибо! ".repeat(30); // 990 chars
    for (name, text, enc) in [("gsm_long", &gsm, Encoding::Gsm7), ("ucs2_long", &ucs2, Encoding::Ucs2)] {
        let chars = text.chars().count();
        group.bench_function(format!("{name}/{chars}ch/split"), |b| {
            b.iter(|| split(black_box(text), enc))
        });
        group.bench_function(format!("{name}/{chars}ch/naive_chunks"), |b| {
            // Naive pre-split: fixed-size char chunks (cuts escapes and graphemes).
            b.iter(|| {
                let per = if enc == Encoding::Gsm7 { 153 } else { 67 };
                let t = black_box(text.as_str());
                let mut parts = Vec::new();
                let mut start = 0;
                for (n, (i, _)) in t.char_indices().enumerate() {
                    if n > 0 && n % per == 0 {
                        parts.push(&t[start..i]);
                        start = i;
                    }
                }
                parts.push(&t[start..]);
                parts
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_of, bench_split);
criterion_main!(benches);

//! The quickstart: what switchboard does, on real-looking input, with no account and no network.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use switchboard::{Encoding, PhoneNumber, Region, Segmentation};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("switchboard quickstart\n");

    println!("1. Phone numbers, as people write them, become E.164 (and stay masked in logs):");
    let inputs = [
        ("069 412 3456", "AL"),
        ("+355 69 412 3456", "AL"),
        ("8 (912) 345-67-89", "RU"),
        ("810 44 20 8366 1177", "RU"),
        ("020 8366 1177", "GB"),
        ("(201) 555-0123", "US"),
        ("12345", "DE"),
        ("+0 123 456", "AL"),
    ];
    for (input, region) in inputs {
        let region = Region::parse(region)?;
        match PhoneNumber::parse(input, Some(region)) {
            Ok(n) => println!("   {input:<22} ({region}) -> {:<16} logged as {n}", n.as_e164()),
            Err(e) => println!("   {input:<22} ({region}) -> refused: {e}"),
        }
    }

    println!("\n2. SMS texts: encoding and parts, counted as the network counts them:");
    let texts = [
        "Your order #1042 has shipped.".to_owned(),
        "Porosia juaj u dërgua. Faleminderit!".to_owned(),
        "Ваш заказ доставлен. Спасибо, что выбрали нас!".to_owned(),
        "Price: 10€ {promo} [today only] ~ see you".to_owned(),
        "Reminder: ".to_owned() + &"a".repeat(151),
        "Thanks! 🎉".to_owned(),
    ];
    for t in &texts {
        let s = Segmentation::of(t);
        let shown: String = t.chars().take(40).collect();
        let unit = if s.encoding == Encoding::Gsm7 {
            "septets"
        } else {
            "UTF-16 units"
        };
        println!(
            "   {:<42} {} · {} {unit} · {} part(s) of up to {}",
            format!("{shown:?}"),
            s.encoding,
            s.units,
            s.segments,
            s.per_segment
        );
    }
    println!("\nDone: everything above ran locally.");
    Ok(())
}

//! Money: parsing and formatting edge cases, provider wire forms, no floats.

use crate::{Currency, IdempotencyKey, Money};
use switchboard_core::ErrorKind;

fn rub(s: &str) -> Result<Money, switchboard_core::Error> {
    Money::parse(s, Currency::RUB)
}

#[test]
fn exponents_of_the_named_currencies() {
    let cases = [
        ("JPY", 0),
        ("RUB", 2),
        ("USD", 2),
        ("EUR", 2),
        ("KWD", 3),
        ("BHD", 3),
        ("KRW", 0),
    ];
    for (code, exp) in cases {
        assert_eq!(Currency::from_code(code).unwrap().exponent(), exp, "{code}");
    }
    assert_eq!(Currency::from_code("rub").unwrap(), Currency::RUB);
    assert_eq!(Currency::from_code(" usd ").unwrap(), Currency::USD);
    assert_eq!(Currency::RUB.lowercase_code(), "rub");
}

#[test]
fn unknown_currencies_are_errors() {
    for bad in ["XXX", "", "RU", "RUBB", "₽", "abc", "123"] {
        let e = Currency::from_code(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
    }
    assert!(Money::parse_with_code("1.00", "ZZZ").is_err());
}

#[test]
fn parses_decimal_strings_exactly() {
    assert_eq!(rub("1000.00").unwrap().minor(), 100_000);
    assert_eq!(rub("1000").unwrap().minor(), 100_000);
    assert_eq!(rub("1000.5").unwrap().minor(), 100_050);
    assert_eq!(rub("0.01").unwrap().minor(), 1);
    assert_eq!(rub("0").unwrap().minor(), 0);
    assert_eq!(rub("007.10").unwrap().minor(), 710);
    assert_eq!(rub("-3.10").unwrap().minor(), -310);
    // The classic float trap: 0.1 + 0.2 is exactly 0.3 here.
    let sum = rub("0.1").unwrap().checked_add(rub("0.2").unwrap()).unwrap();
    assert_eq!(sum, rub("0.3").unwrap());
    assert_eq!(Money::parse("500", Currency::JPY).unwrap().minor(), 500);
    assert_eq!(Money::parse("1.25", Currency::KWD).unwrap().minor(), 1250);
    assert_eq!(Money::parse("1.005", Currency::KWD).unwrap().minor(), 1005);
}

#[test]
fn refuses_too_many_decimals_instead_of_rounding() {
    for bad in ["1.005", "0.001", "1.000"] {
        let e = rub(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        assert!(e.to_string().contains("decimal"), "{e}");
    }
    assert!(Money::parse("1.5", Currency::JPY).is_err());
    assert!(Money::parse("1.0", Currency::JPY).is_err());
    assert!(Money::parse("1.0001", Currency::KWD).is_err());
}

#[test]
fn refuses_malformed_text() {
    for bad in [
        "", ".", "-", "-.5", ".5", "1.", "1..0", "1.0.0", "+1", " 1", "1 ", "1,00", "1e3", "0x10", "NaN", "inf",
        "1_000", "١٠", "１", "--1", "1-", "1.-1",
    ] {
        assert_eq!(rub(bad).unwrap_err().kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
}

#[test]
fn overflow_is_an_error_never_a_wrap() {
    // i64::MAX minor units is 92233720368547758.07 RUB.
    assert_eq!(rub("92233720368547758.07").unwrap().minor(), i64::MAX);
    assert!(rub("92233720368547758.08").is_err());
    assert!(rub("92233720368547759").is_err());
    assert!(rub("99999999999999999999999999999").is_err());
    assert_eq!(
        Money::parse("9223372036854775807", Currency::JPY).unwrap().minor(),
        i64::MAX
    );
    assert!(Money::parse("9223372036854775808", Currency::JPY).is_err());
    // Padding the missing decimals can overflow too.
    assert!(rub("92233720368547758.1").is_err());
    let max = Money::from_minor(i64::MAX, Currency::RUB);
    assert!(max.checked_add(Money::from_minor(1, Currency::RUB)).is_err());
    assert!(
        Money::from_minor(i64::MIN, Currency::RUB)
            .checked_sub(Money::from_minor(1, Currency::RUB))
            .is_err()
    );
}

#[test]
fn formats_with_exactly_the_currencys_decimals() {
    assert_eq!(Money::from_minor(100_000, Currency::RUB).to_decimal_string(), "1000.00");
    assert_eq!(Money::from_minor(5, Currency::RUB).to_decimal_string(), "0.05");
    assert_eq!(Money::from_minor(0, Currency::USD).to_decimal_string(), "0.00");
    assert_eq!(Money::from_minor(-310, Currency::EUR).to_decimal_string(), "-3.10");
    assert_eq!(Money::from_minor(-5, Currency::EUR).to_decimal_string(), "-0.05");
    assert_eq!(Money::from_minor(500, Currency::JPY).to_decimal_string(), "500");
    assert_eq!(Money::from_minor(1250, Currency::KWD).to_decimal_string(), "1.250");
    assert_eq!(
        Money::from_minor(i64::MIN, Currency::RUB).to_decimal_string(),
        "-92233720368547758.08"
    );
    assert_eq!(Money::from_minor(100_050, Currency::RUB).to_string(), "1000.50 RUB");
}

#[test]
fn parse_and_format_round_trip_for_every_currency() {
    for c in Currency::all() {
        for minor in [0_i64, 1, 9, 10, 99, 100, 101, 123_456_789, -42, i64::MAX, i64::MIN + 1] {
            let m = Money::from_minor(minor, c);
            let back = Money::parse(&m.to_decimal_string(), c).unwrap();
            assert_eq!(back, m, "{c} {minor}");
        }
    }
}

#[test]
fn mixing_currencies_is_refused() {
    let a = Money::from_minor(100, Currency::RUB);
    let b = Money::from_minor(100, Currency::USD);
    assert_eq!(a.checked_add(b).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(a.partial_cmp(&b), None);
    assert!(Money::from_minor(1, Currency::RUB) < Money::from_minor(2, Currency::RUB));
}

#[test]
fn stripe_wire_amounts() {
    assert_eq!(
        Money::parse("20.00", Currency::USD)
            .unwrap()
            .to_stripe_amount()
            .unwrap(),
        2000
    );
    assert_eq!(
        Money::parse("500", Currency::JPY).unwrap().to_stripe_amount().unwrap(),
        500
    );
    // Three-decimal currencies must end in 0 at Stripe.
    assert_eq!(
        Money::parse("1.250", Currency::KWD)
            .unwrap()
            .to_stripe_amount()
            .unwrap(),
        1250
    );
    assert_eq!(
        Money::parse("1.255", Currency::KWD)
            .unwrap()
            .to_stripe_amount()
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    // ISK: ISO zero-decimal, Stripe two-decimal.
    let isk = Currency::from_code("ISK").unwrap();
    assert_eq!(Money::parse("5", isk).unwrap().to_stripe_amount().unwrap(), 500);
    assert_eq!(
        Money::from_stripe_amount(500, "isk").unwrap(),
        Money::parse("5", isk).unwrap()
    );
    assert!(Money::from_stripe_amount(510, "isk").is_err());
    // MGA: ISO two-decimal, Stripe zero-decimal.
    let mga = Currency::from_code("MGA").unwrap();
    assert_eq!(Money::parse("12", mga).unwrap().to_stripe_amount().unwrap(), 12);
    assert!(Money::parse("12.50", mga).unwrap().to_stripe_amount().is_err());
    assert_eq!(Money::from_stripe_amount(12, "mga").unwrap().minor(), 1200);
    assert_eq!(
        Money::from_stripe_amount(2000, "usd").unwrap(),
        Money::parse("20", Currency::USD).unwrap()
    );
    // What Stripe sent cannot be the caller's input: a Decode error, whose dispatch is Sent (an
    // InvalidInput would say "not sent" about a payment Stripe made).
    for e in [
        Money::from_stripe_amount(1, "zzz").unwrap_err(),
        Money::from_stripe_amount(1, "").unwrap_err(),
        Money::from_stripe_amount(i64::MAX, "mga").unwrap_err(),
        Money::from_stripe_amount(510, "isk").unwrap_err(),
    ] {
        assert_eq!(
            (e.kind(), e.dispatch()),
            (ErrorKind::Decode, switchboard_core::Dispatch::Sent),
            "{e}"
        );
    }
}

#[test]
fn serde_form_is_the_yookassa_pair() {
    let m = Money::parse("1000.5", Currency::RUB).unwrap();
    let v = serde_json::to_value(m).unwrap();
    assert_eq!(v, serde_json::json!({"value": "1000.50", "currency": "RUB"}));
    let back: Money = serde_json::from_value(v).unwrap();
    assert_eq!(back, m);
    assert!(serde_json::from_value::<Money>(serde_json::json!({"value": 1000.5, "currency": "RUB"})).is_err());
    assert!(serde_json::from_value::<Money>(serde_json::json!({"value": "1.001", "currency": "RUB"})).is_err());
}

#[test]
fn idempotency_keys_serialize_as_strings_and_validate() {
    let k = IdempotencyKey::new("order-72").unwrap();
    assert_eq!(serde_json::to_value(&k).unwrap(), serde_json::json!("order-72"));
    assert!(serde_json::from_value::<IdempotencyKey>(serde_json::json!("has space")).is_err());
}

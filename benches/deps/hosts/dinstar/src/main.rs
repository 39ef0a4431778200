//! Sends one SMS through whatever `SWITCHBOARD_DSN` names and prints the provider's message id.
//! Identical to the `full` host's program: only the features of `switchboard` differ.

use switchboard::{Message, Messenger, PhoneNumber, transport_from_dsn};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dsn = std::env::var("SWITCHBOARD_DSN")?;
    let to: PhoneNumber = std::env::var("SWITCHBOARD_TO")?.parse()?;
    let messenger = Messenger::builder()
        .transport("sms", transport_from_dsn(&dsn)?)
        .build()?;
    let receipt = messenger.send(Message::sms(to, "Your code is 482913")).await?;
    println!("{}", receipt.provider_id());
    Ok(())
}

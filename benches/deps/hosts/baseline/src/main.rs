//! The same job as the switchboard hosts, written by hand: one SMS as JSON over HTTPS POST with basic
//! auth, the JSON answer parsed into a struct. `SMS_URL`, `SMS_USER`, `SMS_PASS` and `SMS_TO` name the
//! endpoint, the credentials and the recipient.

use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct SendSms<'a> {
    to: &'a str,
    text: &'a str,
}

#[derive(Deserialize)]
struct Answer {
    id: String,
    status: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("SMS_URL")?;
    let to = std::env::var("SMS_TO")?;
    #[cfg(feature = "ring")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build()?;
    let answer: Answer = client
        .post(url)
        .basic_auth(std::env::var("SMS_USER")?, Some(std::env::var("SMS_PASS")?))
        .json(&SendSms {
            to: &to,
            text: "Your code is 482913",
        })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!("{} {}", answer.id, answer.status);
    Ok(())
}

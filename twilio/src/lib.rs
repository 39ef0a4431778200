//! # Twilio Programmable Messaging
//!
//! Send, fetch, list, cancel and redact messages through Twilio's 2010-04-01 REST API; verify and decode
//! its signed webhooks (status callbacks and incoming messages, [`TwilioWebhook`]); [`TwilioTransport`]
//! for the Messenger, [`register`] for the DSN registry, and a simulator (module `sim`, feature `sim`).
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use switchboard_core::simulated::Simulated;
//! use switchboard_core::{DeliveryStatus, Event, Message, PhoneNumber, Transport, WebhookRequest};
//! use switchboard_twilio::{SIGNATURE_HEADER, TwilioTransport, sim::Simulator, webhook};
//!
//! let sim = Simulator::start().await;
//! // In production: "twilio://AC…:AUTH_TOKEN@default?from=%2B1…&status_callback=https://…"
//! let twilio = TwilioTransport::from_dsn_str(&sim.dsn())?;
//!
//! let to: PhoneNumber = "+14155552671".parse()?;
//! let receipt = twilio.send(&Message::sms(to, "Your order has shipped")).await?;
//! assert_eq!(receipt.status, DeliveryStatus::Queued);
//!
//! for _ in 0..3 {
//!     sim.advance().await; // queued → sending → sent → delivered
//! }
//! assert_eq!(twilio.status(receipt.provider_id()).await?.status, DeliveryStatus::Delivered);
//!
//! // A status callback as the host's web framework hands it over: verified, then decoded.
//! let url = "https://shop.example/hooks/twilio";
//! let params = vec![
//!     ("MessageSid".to_owned(), receipt.provider_id().to_owned()),
//!     ("MessageStatus".to_owned(), "delivered".to_owned()),
//! ];
//! let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
//! let signed = webhook::signature(&sim.auth_token(), url, &params); // what Twilio computes
//! let request = WebhookRequest::post(url, body).with_header(SIGNATURE_HEADER, &signed);
//! match &twilio.handle_webhook(&request).await?.events[..] {
//!     [Event::Delivery(report)] => assert_eq!(report.status, DeliveryStatus::Delivered),
//!     other => panic!("unexpected {other:?}"),
//! }
//! let forged = WebhookRequest::post(url, "MessageSid=SM1&MessageStatus=delivered");
//! assert!(twilio.handle_webhook(&forged).await.is_err()); // unsigned: refused
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! ## What maps to what
//!
//! * Requests go through core's request pipeline ([`TwilioClient`]): HTTP Basic `AccountSid:AuthToken`
//!   ([`TwilioApi`]), form-encoded PascalCase fields ([`CreateMessage`]), `.json` answers
//!   ([`MessageResource`]). Errors `{code, message, more_info, status}` map through
//!   [`error::parse_error`]; 4xx are `NotSent` (no message was created), 429 / 20429 is `RateLimited`
//!   with `Retry-After`. A 2xx to a create that cannot be read, or that has no message SID, is
//!   `MaybeSent`: Twilio took the request.
//! * Create options follow Twilio's Messages API reference
//!   (<https://www.twilio.com/docs/messaging/api/message-resource>): the enumerated ones are typed
//!   ([`ContentRetention`], [`AddressRetention`], [`TrafficType`], [`RiskCheck`]), `FallbackFrom`
//!   needs a Messaging Service, `ValidityPeriod` is 1 to 36000 seconds. `MaxPrice` has had no effect
//!   since 2024-06-03 and is deprecated here. Lists filter by `To`, `From` and sent date
//!   (`DateSent`, `DateSent<`, `DateSent>`, [`ListMessages`]).
//! * A status lookup reports Twilio's `error_code` and `error_message`, the price Twilio charged
//!   (its `price` and `price_unit`, as a positive [`Price`](switchboard_core::Price)) and
//!   `num_segments`.
//! * All 13 statuses map to [`DeliveryStatus`](switchboard_core::DeliveryStatus) in
//!   [`MessageStatus::delivery_status`]; the raw word is always kept.
//! * Webhooks ([`TwilioWebhook`]): `X-Twilio-Signature` is checked exactly as Twilio's libraries do
//!   (full URL with its raw query, sorted parameters, HMAC-SHA1 with the auth token, base64; the URL
//!   with and without its port), including the JSON-body variant with `bodySHA256`. Twilio's published
//!   test vectors are in the tests. Handled webhooks are answered [`EMPTY_TWIML`] as `text/xml`.
//!
//! Nothing here logs or prints a whole phone number, the auth token or a message body.
#![deny(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
pub mod error;
pub mod model;
pub mod provider;
#[cfg(feature = "sim")]
pub mod sim;
pub mod transport;
pub mod webhook;

pub use api::TwilioApi;
pub use client::TwilioClient;
pub use config::{TwilioConfig, TwilioConfigBuilder};
pub use model::{
    AddressRetention, ContentRetention, CreateMessage, ListMessages, MessagePage, MessageResource, MessageStatus,
    RiskCheck, TrafficType,
};
pub use provider::{TwilioProvider, register};
pub use transport::TwilioTransport;
pub use webhook::{EMPTY_TWIML, SIGNATURE_HEADER, TwilioWebhook};

/// The DSN scheme and provider name: `twilio`.
pub const SCHEME: &str = "twilio";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

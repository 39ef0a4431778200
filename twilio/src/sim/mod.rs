//! A Twilio Messages simulator (feature `sim`), wire-compatible enough for Twilio's own helper
//! libraries pointed at it. It speaks the shared simulator vocabulary ([`Simulated`]) and starts from
//! the registry ([`StartSim`]).
//!
//! What it models, following Twilio's Messages API reference
//! (<https://www.twilio.com/docs/messaging/api/message-resource>):
//!
//! * `POST/GET /2010-04-01/Accounts/{AccountSid}/Messages.json` (create; list with `To`, `From`,
//!   `DateSent`, `DateSent<`, `DateSent>`, `PageSize` (1–1000), `Page` and `next_page_uri` paging),
//!   `GET/POST/DELETE …/Messages/{Sid}.json` (fetch, cancel a scheduled message with
//!   `Status=canceled`, redact with `Body=`, delete → 204), and `GET /2010-04-01/Accounts/{AccountSid}.json`.
//! * HTTP Basic auth `AccountSid:AuthToken` (401, code 20003, otherwise); form-encoded PascalCase
//!   parameters; JSON answers with the real field names (string `num_segments`/`num_media`/`price`,
//!   RFC 2822 dates, `error_message` beside `error_code`, `uri`, `subresource_uris`); create answers 201.
//! * Errors as `{code, message, more_info, status}`. A create is refused as Twilio refuses it, with
//!   Twilio's codes: the table is in the `create` module. An unsubscribed recipient
//!   ([`Simulator::unsubscribe`]) gets 21610, an unknown SID 20404. Any other error, such as 429 /
//!   20429 with `Retry-After`, on demand with [`Simulator::refuse_next`]; HTTP-level faults with
//!   [`Simulated::fail_next`].
//! * State: `queued` (or `accepted` with a Messaging Service, `scheduled` with `ScheduleType=fixed`),
//!   then `sending → sent → delivered`, or `undelivered`/`failed` with an `ErrorCode` for numbers given
//!   an [`Outcome`]. Every message moves one status on each [`Simulated::advance`], or on a timer
//!   ([`Simulator::advance_every`]). A message is priced ([`SIM_PRICE_PER_SEGMENT_MICROS`] a
//!   segment, USD) once it is sent.
//! * Every change after the initial status is pushed to the message's `StatusCallback` (or the
//!   account's, [`SimOptions::webhook_url`]) as a form POST signed with `X-Twilio-Signature`, and
//!   whether the host answered 2xx is recorded ([`Simulator::acknowledged`]).
//!   [`Simulator::receive_inbound`] pushes a signed incoming message to a URL, as Twilio does for a
//!   number's messaging webhook.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::http::HttpOptions;
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{Error, PhoneNumber, Recipient, Result, SecretString, WebhookRequest, async_trait};

use crate::SCHEME;

mod api;
mod auth;
mod create;
mod list;
mod push;
mod state;

pub use create::{INVALID_PARAMETER, MAX_MEDIA};
pub use state::{Outcome, SimError, SimMessage};

use state::{Shared, status_params};

/// The simulator's Account SID.
pub const SIM_ACCOUNT_SID: &str = "AC5e1a1e5e1a1e5e1a1e5e1a1e5e1a1e5e";
/// The simulator's auth token, which also signs the webhooks it pushes.
pub const SIM_AUTH_TOKEN: &str = "5e1a1e00000000000000000000c0ffee";
/// The number the simulated account owns (Twilio's own magic "valid From" test number).
pub const SIM_FROM: &str = "+15005550006";
/// The Messaging Service the simulated account has; its pool holds [`SIM_FROM`].
pub const SIM_MESSAGING_SERVICE_SID: &str = "MG5e1a1e5e1a1e5e1a1e5e1a1e5e1a1e5e";
/// The price of one segment in millionths of a dollar (Twilio shows prices negative, as strings).
pub const SIM_PRICE_PER_SEGMENT_MICROS: i64 = 7_900;

/// The number [`Simulated::recipient`] names, and the sender of the `"inbound"` trigger.
const SIM_RECIPIENT: &str = "+14155552671";

/// The Twilio simulator. See the [module docs](self).
pub struct Simulator {
    server: SimServer,
    shared: Arc<Shared>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts on a free loopback port, recording every request.
    pub async fn start() -> Simulator {
        let shared = Self::shared();
        let server = SimServer::start(Self::handler(&shared)).await;
        Simulator { server, shared }
    }

    /// Starts with `options`: on the given port (request recording off, for a simulator a person
    /// points a tool at), with the given URL as the account's status callback.
    pub async fn start_with(options: SimOptions) -> std::io::Result<Simulator> {
        let shared = Self::shared();
        let server = match options.port {
            Some(port) => SimServer::start_on_port(port, Self::handler(&shared)).await?,
            None => SimServer::start(Self::handler(&shared)).await,
        };
        shared.lock().status_callback = options.webhook_url;
        Ok(Simulator { server, shared })
    }

    fn shared() -> Arc<Shared> {
        let http = HttpOptions::default()
            .timeout(Duration::from_secs(5))
            .build_client()
            .unwrap_or_default();
        Arc::new(Shared::new(http))
    }

    fn handler(shared: &Arc<Shared>) -> switchboard_core::testkit::Handler {
        let shared = shared.clone();
        Arc::new(move |req: &Request| api::handle(&mut shared.lock(), req))
    }

    /// A DSN for `host:port` with this auth token and the account's number as sender.
    fn dsn_for(host_port: &str, auth_token: &str) -> String {
        let from = SIM_FROM.trim_start_matches('+');
        format!("twilio://{SIM_ACCOUNT_SID}:{auth_token}@{host_port}?from=%2B{from}")
    }

    fn host_port(&self) -> String {
        self.server.address().to_string()
    }

    /// Every request received (empty for a simulator started on a chosen port).
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    /// The Account SID.
    pub fn account_sid(&self) -> String {
        self.shared.lock().account_sid.clone()
    }

    /// The auth token, which also signs the webhooks the simulator pushes.
    pub fn auth_token(&self) -> SecretString {
        SecretString::from(self.shared.lock().auth_token.clone())
    }

    /// Gives the account another number it may send from.
    pub fn add_number(&self, number: &str) {
        self.shared.lock().numbers.push(number.to_owned());
    }

    /// Messages to `to` end this way.
    pub fn set_outcome(&self, to: &str, outcome: Outcome) {
        self.shared.lock().outcomes.insert(to.to_owned(), outcome);
    }

    /// The recipient replied STOP: creates to it fail with 21610.
    pub fn unsubscribe(&self, to: &str) {
        self.shared.lock().unsubscribed.insert(to.to_owned());
    }

    /// The next authenticated request is refused with this error, in Twilio's envelope (with its
    /// `Retry-After`).
    pub fn refuse_next(&self, error: SimError) {
        self.shared.lock().errors.push_back(error);
    }

    /// One message (sent or received), with everything the simulator knows about it.
    pub fn message(&self, sid: &str) -> Option<SimMessage> {
        self.shared.lock().message(sid).cloned()
    }

    /// For every webhook in [`Simulated::pushed`], in order: whether the host answered 2xx.
    pub fn acknowledged(&self) -> Vec<bool> {
        self.shared.lock().pushed.iter().map(|p| p.acknowledged).collect()
    }

    /// Advances every message every `period`, until the simulator is dropped. Needs a Tokio runtime.
    pub fn advance_every(&self, period: Duration) -> tokio::task::JoinHandle<()> {
        switchboard_core::testkit::every(Arc::downgrade(&self.shared), period, |shared: Arc<Shared>| async move {
            advance(&shared).await;
        })
    }

    /// Pushes a signed incoming SMS to `url`, as Twilio calls a number's messaging webhook, and keeps it
    /// as an inbound message. Returns the message SID and the host's HTTP status (`None` when the
    /// connection failed).
    pub async fn receive_inbound(&self, url: &str, from: &str, to: &str, body: &str) -> (String, Option<u16>) {
        let (sid, params) = self.shared.lock().receive(from, to, body);
        let (_, status) = push::push(&self.shared, (url.to_owned(), params)).await;
        (sid, status)
    }
}

/// Moves every message one status on and pushes the status callbacks.
async fn advance(shared: &Shared) {
    let pushes = shared.lock().step_all();
    push::push_all(shared, pushes).await;
}

#[async_trait]
impl Simulated for Simulator {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn uri(&self) -> String {
        self.server.uri()
    }

    /// `twilio://SID:TOKEN@127.0.0.1:PORT?from=%2B15005550006`: the auth token is also the webhook
    /// secret, since it signs the webhooks.
    fn dsn(&self) -> String {
        Self::dsn_for(&self.host_port(), SIM_AUTH_TOKEN)
    }

    fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every message the account sent, oldest first; the status is Twilio's word (`"delivered"`).
    fn sent(&self) -> Vec<SimRecord> {
        let st = self.shared.lock();
        st.messages
            .iter()
            .filter(|m| m.is_outbound())
            .map(|m| SimRecord::new(&m.sid, &m.to, &m.body, &m.status))
            .collect()
    }

    async fn advance(&self) {
        advance(&self.shared).await;
    }

    fn pushed(&self) -> Vec<WebhookRequest> {
        self.shared.lock().pushed.iter().map(|p| p.request.clone()).collect()
    }

    fn triggers(&self) -> &'static [&'static str] {
        &["delivered", "failed", "inbound"]
    }

    /// Pushes one signed webhook to `url`: a status callback `delivered`, or `failed` with error code
    /// 30008, about the newest message the account sent (or a SID it never gave out), without
    /// changing it; or, for `"inbound"`, an incoming SMS to the account's number, which the simulator
    /// keeps.
    async fn trigger(&self, event: &str, url: &str) -> Result<WebhookRequest> {
        let (status, error) = match event {
            "delivered" => ("delivered", None),
            "failed" => ("failed", Some(30008)),
            "inbound" => {
                let (_, params) = self
                    .shared
                    .lock()
                    .receive(SIM_RECIPIENT, SIM_FROM, "Hello from the simulator");
                return Ok(push::push(&self.shared, (url.to_owned(), params)).await.0);
            }
            other => {
                return Err(Error::unsupported(format!(
                    "the Twilio simulator cannot push a '{}' event; it knows: {}",
                    other.escape_debug(),
                    self.triggers().join(", ")
                )));
            }
        };
        let params = {
            let st = self.shared.lock();
            let mut m = match st.messages.iter().rev().find(|m| m.is_outbound()) {
                Some(m) => m.clone(),
                None => SimMessage::stand_in(SIM_FROM, SIM_RECIPIENT),
            };
            m.status = status.to_owned();
            status_params(&st.account_sid, &m, error)
        };
        Ok(push::push(&self.shared, (url.to_owned(), params)).await.0)
    }

    fn recipient(&self) -> Option<Recipient> {
        PhoneNumber::parse(SIM_RECIPIENT, None).ok().map(Recipient::Phone)
    }

    fn dsn_with_bad_credentials(&self) -> Option<String> {
        Some(Self::dsn_for(&self.host_port(), "00000000000000000000000000000bad"))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        let host_port = switchboard_core::simulated::host_port_of(base_url);
        Some(Self::dsn_for(host_port, SIM_AUTH_TOKEN))
    }
}

/// Starts Twilio simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "Twilio";
    type Error = std::io::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, std::io::Error> {
        Simulator::start_with(options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use state::State;

    #[test]
    fn the_simulated_sids_are_well_formed() {
        use crate::config::is_sid;
        assert!(is_sid(SIM_ACCOUNT_SID, "AC") && is_sid(SIM_MESSAGING_SERVICE_SID, "MG"));
    }

    #[test]
    fn price_format() {
        let st = State::new();
        let now = chrono::Utc::now();
        let m = SimMessage {
            sid: "SM1".into(),
            to: "+1".into(),
            from: None,
            body: String::new(),
            messaging_service_sid: None,
            status: "sent".into(),
            history: vec![],
            status_callback: None,
            error_code: None,
            direction: "outbound-api".into(),
            num_segments: 2,
            media: vec![],
            date_created: now,
            date_updated: now,
            date_sent: Some(now),
        };
        let v = api::resource(&st, &m);
        assert_eq!(v["price"], "-0.01580");
        assert_eq!(v["error_message"], serde_json::Value::Null);
    }
}

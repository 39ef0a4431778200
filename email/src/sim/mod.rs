//! The email simulator (feature `sim`): memory mode's [`Outbox`], under a name of its own.
//!
//! SMTP is not HTTP, and an SMTP relay does nothing after it took a message that a client could
//! observe (no status lookup, no callbacks; bounces come back later as mail). So the simulator is the
//! outbox a client in memory mode sends into: [`Simulated::dsn`] names a process-wide outbox
//! (`smtp://localhost?mode=memory&outbox=NAME&from=…`), every client built from that DSN — directly,
//! through the provider registry or a Messenger — sends into it, and [`Simulated::sent`] reads it.
//!
//! Queued [`Fault`]s are answered the way an SMTP server answers at the final dot of `DATA`, where a
//! relay takes or refuses a message (RFC 5321 §4.1.1.4):
//!
//! | fault | the client sees | the message |
//! |---|---|---|
//! | `Status(2xx)` | accepted | kept |
//! | `Status(4xx / 5xx)` | that reply: `NotSent`, 4xx temporary, 530/535 `Auth`, 552 `InvalidInput`, other 5xx `Rejected` | not kept |
//! | `RateLimited` | `451 4.7.0` (SMTP has no `Retry-After`) | not kept |
//! | `Delay(d)` | accepted after `d`; past the client's whole-send timeout, a `Timeout` that is `MaybeSent` | kept |
//! | `MalformedJson`, `TruncatedJson`, `WrongContentType`, `EmptyBody`, other statuses | a reply it cannot read: `Transport`, `MaybeSent` | kept |
//! | `AfterHandling(f)` | `f`'s answer | kept |
//!
//! It runs in the process that uses it: there is no port, so `switchboard sim` cannot serve it to
//! another program, and [`SimOptions::port`] is refused. Nothing is pushed and nothing moves after a
//! send, so [`Simulated::advance`] does nothing and [`Simulated::triggers`] is empty.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::{Fault, Faults};
use switchboard_core::{Dispatch, Error, ErrorKind, Recipient, Result, WebhookRequest};

use crate::SCHEME;
use crate::error::{self, Stage};
use crate::outbox::{Outbox, SentEmail};

/// The sender [`Simulated::dsn`] configures, for messages that name none.
pub const SIM_FROM: &str = "Switchboard Sim <sim@switchboard.example>";

/// The recipient the conformance suite writes to.
pub const SIM_RECIPIENT: &str = "someone@example.org";

/// The email simulator. See the [module docs](self).
#[derive(Debug)]
pub struct Simulator {
    name: String,
    outbox: Outbox,
}

impl Simulator {
    /// A simulator with an outbox of its own (a name no other simulator in the process has).
    pub async fn start() -> Simulator {
        static STARTED: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "switchboard-email-sim-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        Simulator {
            outbox: Outbox::named(&name),
            name,
        }
    }

    /// Like [`Simulator::start`]. The simulator has no port, so [`SimOptions::port`] is an
    /// `Unsupported` error; it pushes nothing, so [`SimOptions::webhook_url`] is not used.
    pub async fn start_with(options: SimOptions) -> Result<Simulator> {
        if options.port.is_some() {
            return Err(
                Error::unsupported("the email simulator is an in-process outbox and listens on no port")
                    .with_provider(SCHEME),
            );
        }
        Ok(Self::start().await)
    }

    /// The outbox, with every message as it would have gone on the wire.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}

/// Starts email simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "email";
    type Error = switchboard_core::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, switchboard_core::Error> {
        Simulator::start_with(options).await
    }
}

#[async_trait::async_trait]
impl Simulated for Simulator {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// Where messages go: `memory://` and the outbox's name (no network).
    fn uri(&self) -> String {
        format!("memory://{}", self.name)
    }

    /// `smtp://localhost?mode=memory&outbox=NAME&from=…`: a DSN whose clients send into this outbox.
    fn dsn(&self) -> String {
        // The name is letters, digits and '-'; the sender is SIM_FROM, percent-encoded.
        format!(
            "smtp://localhost?mode=memory&outbox={}&from=Switchboard%20Sim%20%3Csim%40switchboard.example%3E",
            self.name
        )
    }

    /// The fault queue: the next sends into the outbox take these instead (see the module docs).
    fn faults(&self) -> &Faults {
        self.outbox.faults()
    }

    /// One record per message kept: its `Message-ID`, its envelope recipients (Bcc included), the
    /// whole message as it would have gone on the wire (its parts are encoded), and `accepted`.
    fn sent(&self) -> Vec<SimRecord> {
        self.outbox
            .messages()
            .into_iter()
            .map(|m| SimRecord::new(m.message_id.clone(), m.envelope_to.join(", "), m.raw_text(), "accepted"))
            .collect()
    }

    /// Nothing happens to a message after a relay took it that a client could see.
    async fn advance(&self) {}

    /// SMTP pushes nothing.
    fn pushed(&self) -> Vec<WebhookRequest> {
        Vec::new()
    }

    fn recipient(&self) -> Option<Recipient> {
        Recipient::email(SIM_RECIPIENT).ok()
    }
}

/// What the outbox answers a send that met `fault` (see the module docs' table); `message` is kept
/// where the fault says the server took it.
pub(crate) async fn answer_fault(fault: Fault, outbox: &Outbox, message: SentEmail, timeout: Duration) -> Result<()> {
    match fault {
        Fault::Status(code) | Fault::StatusJson(code, _) if (200..300).contains(&code) => {
            outbox.push(message);
            Ok(())
        }
        Fault::Status(code) | Fault::StatusJson(code, _) if (400..600).contains(&code) => {
            Err(error::refusal(code, &format!("{code} simulated refusal"), Stage::Body))
        }
        Fault::RateLimited(_) => Err(error::refusal(
            451,
            "4.7.0 simulated rate limit: too many messages, try again later",
            Stage::Body,
        )),
        Fault::Delay(d) => {
            tokio::time::sleep(d.min(timeout)).await;
            outbox.push(message);
            if d >= timeout {
                return Err(error::timed_out(Stage::Body, timeout));
            }
            Ok(())
        }
        Fault::AfterHandling(inner) => match *inner {
            Fault::Delay(d) => Box::pin(answer_fault(Fault::Delay(d), outbox, message, timeout)).await,
            inner => {
                outbox.push(message.clone());
                // The message is kept whatever the answer says; a second copy is not.
                let scratch = Outbox::new(1);
                Box::pin(answer_fault(inner, &scratch, message, timeout)).await
            }
        },
        _ => {
            outbox.push(message);
            Err(Error::new(
                ErrorKind::Transport,
                "the SMTP server's reply to the message could not be read",
            )
            .with_dispatch(Dispatch::MaybeSent)
            .with_provider(SCHEME))
        }
    }
}

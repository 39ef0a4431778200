//! switchboard-fcm's integration tests, one binary: the FCM client and transport against the FCM
//! simulator (sends, tokens, errors and faults, the published contract), and through the provider
//! registry.

#[path = "fcm/contract.rs"]
mod contract;
#[path = "fcm/errors.rs"]
mod errors;
#[path = "fcm/registry.rs"]
mod registry;
#[path = "fcm/send.rs"]
mod send;
#[path = "fcm/tokens.rs"]
mod tokens;

use switchboard_core::simulated::Simulated;
use switchboard_core::{Message, Recipient};
use switchboard_fcm::FcmTransport;
use switchboard_fcm::sim::{SimMessage, Simulator};

/// A transport on the simulator, without retries.
pub fn transport(sim: &Simulator) -> FcmTransport {
    FcmTransport::new(sim.config()).unwrap()
}

/// A push to device `to`.
pub fn push(to: &str) -> Message {
    Message::push(Recipient::PushToken(to.to_owned()), "Order #72", "Paid").with_data("order_id", "72")
}

/// Every message the simulator accepted, whole, in order.
pub fn messages(sim: &Simulator) -> Vec<SimMessage> {
    sim.sent().iter().filter_map(|r| sim.message(&r.id)).collect()
}

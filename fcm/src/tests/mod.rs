//! switchboard-fcm's integration tests, one binary: the FCM client and transport against the FCM
//! simulator (sends, tokens, errors and faults, the published contract), and through the provider
//! registry.

mod contract;
mod errors;
mod registry;
mod send;
mod tokens;

use crate::FcmTransport;
use crate::sim::{SimMessage, Simulator};
use switchboard_core::simulated::Simulated;
use switchboard_core::{Message, Recipient};

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

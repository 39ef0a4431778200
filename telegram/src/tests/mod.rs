//! switchboard-telegram's integration tests, one binary: the bot client, transport, webhooks and
//! poller against the Bot API simulator, the published contract, and the provider registry with the
//! simulator driven through `Simulated`.

mod contract;
mod polling;
mod registry;
mod send;
mod webhooks;

use crate::TelegramClient;
use crate::sim::{SIM_TOKEN, Simulator};

/// A client on the simulator: no retries, no flood limits.
pub fn client(sim: &Simulator) -> TelegramClient {
    TelegramClient::new(sim.config()).unwrap()
}

/// Fails when the bot token's secret part shows in an error, its `Debug` or its chain.
pub fn assert_no_token(e: &switchboard_core::Error) {
    let secret_part = SIM_TOKEN.split(':').nth(1).unwrap();
    let shown = format!("{e} {e:?} {}", switchboard_core::error::display_chain(e));
    assert!(!shown.contains(secret_part), "the token leaked: {shown}");
}

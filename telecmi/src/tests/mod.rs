//! TeleCMI's integration tests, one binary: click-to-call behind the call policy, call records,
//! webhooks, the simulator's strictness, and registration.

mod click_to_call;
mod provider;
mod records;
mod strict;
mod webhooks;

//! The reference host: a CRM's whole integration layer on switchboard, as one axum service on SQLite.
//!
//! A CRM for a transport company texts customers, emails templates, takes payments, pushes to drivers'
//! phones, runs a Telegram bot for dispatchers, syncs with 1C, tracks drivers by GPS and exports its
//! data. Each of those is one module here, with its own tables and routes; each integration can run on
//! its provider's simulator ("test mode", see [`config`]).
//!
//! ```text
//! CRM_TEST_MODE=1 CRM_DATABASE=sqlite:/tmp/crm.db cargo run -p switchboard-crm
//! ```
//!
//! | module | what |
//! |---|---|
//! | [`config`] | environment variables, test mode |
//! | [`app`] | wiring: database, integrations, the Messenger, the outbox worker, routes |
//! | [`db`] | the SQLite file and each module's migrations |
//! | [`domain`] | users, companies, drivers, vehicles, applications |
//! | [`error`] | the JSON error every endpoint answers with |
//! | [`payments`] | payments and refunds (YooKassa, Stripe), their webhooks |
//! | [`onec`] | syncing records into 1C |
//! | [`gps`] | drivers' locations, rate limit, retention |
//! | [`export`] | CSV, XLSX, PDF and JSON exports |
//! | [`delivery`] | queued messages' rows following their outbox jobs; webhook plumbing |
//! | [`sms`] | SMS with delivery reports |
//! | [`email`] | email, templates, attachments |
//! | [`push`] | devices and push notifications |
//! | [`telegram`] | the dispatchers' bot: commands, chat linking, broadcasts |

#![deny(missing_docs)]

pub mod app;
pub mod config;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod email;
pub mod error;
pub mod export;
pub mod gps;
pub mod onec;
pub mod payments;
pub mod push;
pub mod sms;
pub mod telegram;

pub use app::{App, AppState, Running, serve, spawn};
pub use config::{Config, Env};

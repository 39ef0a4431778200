//! # 1C:Enterprise
//!
//! 1C:Enterprise for switchboard: the standard OData interface (`/odata/standard.odata`, OData v3),
//! HTTP services (`/hs/…`), idempotent sync of counterparties, contracts, items, prices, sales
//! documents and bank payments, delta sync, and a simulator of a small 1C base.
//!
//! ```
//! # #[cfg(feature = "sim")]
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use switchboard_core::simulated::Simulated;
//! use switchboard_onec::{Counterparty, MemorySyncLog, OneCClient, SyncAction, Syncer, sim::Simulator};
//!
//! let sim = Simulator::start().await;
//! // In production: "onec://odata.user:PASSWORD@erp.example.com/trade"
//! let client = OneCClient::from_dsn_str(&sim.dsn())?;
//! let log = Arc::new(MemorySyncLog::new());
//! let sync = Syncer::new(client, log.clone());
//!
//! let acme = Counterparty::company("ООО \"Рога и копыта\"", "7707083893", Some("770701001"));
//! let first = sync.upsert_counterparty("crm:company:42", &acme).await?;
//! assert_eq!(first.action, SyncAction::Created);
//!
//! // The same sync again finds it by INN/KPP and sends nothing.
//! let again = sync.upsert_counterparty("crm:company:42", &acme).await?;
//! assert_eq!((again.action, again.ref_key), (SyncAction::Unchanged, first.ref_key));
//! assert_eq!(sim.count("Catalog_Контрагенты"), 1);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sim"))]
//! # fn main() {}
//! ```
//!
//! * [`OneCClient`]: one method per OData operation — [`list`](OneCClient::list), [`stream`](OneCClient::stream)
//!   (`$top`/`$skip` paging as a `futures::Stream`), [`get`](OneCClient::get), [`count`](OneCClient::count),
//!   [`create`](OneCClient::create) (201), [`update`](OneCClient::update) (`PATCH`),
//!   [`mark_for_deletion`](OneCClient::mark_for_deletion), [`post_document`](OneCClient::post_document) /
//!   [`unpost_document`](OneCClient::unpost_document), [`metadata`](OneCClient::metadata), and
//!   [`http_service`](OneCClient::http_service) for `/hs/…`.
//! * Addressing: [`EntitySet`] (`Catalog_Контрагенты`, percent-encoded on the wire), [`EntityKey`]
//!   (`guid'…'` or register key fields), [`Query`], and [`filter`]: a typed `$filter` builder that
//!   escapes every value, so `O'Brien` is a value and never a piece of the query.
//! * [`Syncer`]: idempotent upserts by stable key (INN/KPP, article, number), posting, status pulls
//!   and delta sync ([`Delta`]), logging into the host's [`SyncLog`] ([`MemorySyncLog`] for tests).
//!   A create whose answer was lost is reconciled by a lookup, never repeated blind.
//! * Errors: 1C's `odata.error` becomes a core [`Error`](switchboard_core::Error) with 1C's code and
//!   text kept ([`error::parse_error`]); every error names `onec` and says whether the request may have
//!   gone out. A create is never repeated once it may have reached 1C (1C makes a new object for every
//!   `POST`).
//! * [`OneCConfig`] comes from `onec://USER:PASS@HOST[:PORT]/PUBLICATION[?tls=false…]` ([`config`]);
//!   every request goes through core's request pipeline ([`OneCApi`]: HTTP Basic as the infobase user,
//!   retries by the dispatch rules), and [`register`] adds 1C to a DSN registry as a service: the
//!   connection hands out the [`OneCClient`].
//! * Money and quantities are [`Decimal`]s, never floats; keys are [`Guid`]s.
//!
//! 1C is not a message transport, so this crate has no `Transport`; it does not receive webhooks
//! either (1C pushes nothing by itself; HTTP services are called, not calling).
#![deny(missing_docs)]

pub mod api;
pub mod client;
pub mod config;
pub mod decimal;
pub mod delta;
pub mod entity;
pub mod error;
pub mod filter;
pub mod guid;
pub mod hs;
pub mod model;
pub mod provider;
pub mod query;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sync;
pub mod synclog;

pub use api::{OneCApi, Surface};
pub use client::{OneCClient, Page, PostingMode};
pub use config::{OneCConfig, OneCConfigBuilder};
pub use decimal::Decimal;
pub use delta::{ChangeBatch, Delta, Marker, MarkerValue};
pub use entity::{EntityKey, EntitySet, Kind};
pub use error::{ODataError, ODataMessage};
pub use filter::{Filter, Literal, field};
pub use guid::Guid;
pub use hs::{HsRequest, HsResponse, HttpService};
pub use model::{
    BankPayment, Contract, Counterparty, DocumentRow, DocumentStatus, EnumValue, Item, ItemPrice, LineNumber,
    PaymentRow, PriceList, PriceRow, SalesDocument,
};
pub use provider::{OneCProvider, register};
pub use query::Query;
pub use sync::{PaymentDirection, Posting, SalesKind, SyncRecord, SyncSets, Synced, Syncer};
pub use synclog::{MemorySyncLog, SyncAction, SyncEntry, SyncFailure, SyncLog};

/// The DSN scheme and provider name: `onec` (a URL scheme cannot start with a digit).
pub const SCHEME: &str = "onec";

/// The crate's tests through its public API (against its simulator), in the crate's one test binary.
#[cfg(all(test, feature = "sim"))]
mod tests;

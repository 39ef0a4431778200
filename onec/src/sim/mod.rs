//! A simulator of a small 1C:Enterprise base (feature `sim`): the standard OData interface and HTTP
//! services of one publication, on loopback. It speaks the shared simulator vocabulary
//! ([`Simulated`]) and starts from the registry
//! ([`StartSim`]).
//!
//! What it models, following 1C's description of the standard OData interface ("Стандартный
//! интерфейс OData", 1C:Enterprise 8.3 documentation; <https://1cfresh.com/articles/data_odata>) and
//! OData v3 (<https://www.odata.org/documentation/odata-version-3-0/>):
//!
//! * `/<publication>/odata/standard.odata/…` with HTTP Basic auth (401 with a `Basic` challenge,
//!   module `auth`), Cyrillic, percent-encoded entity sets of a trade configuration (counterparties,
//!   contracts, items, price types, bank accounts, price lists, orders, invoices, sales, bank payments,
//!   the price register; module `schema`), GUID keys (`guid'…'`) and register keys (`Field=value,…`).
//! * JSON with `$format=json` or `Accept: application/json` (Atom otherwise), the service document and an
//!   EDMX `$metadata` generated from the schema (module `metadata`).
//! * `$filter` parsed properly (`eq ne gt ge lt le and or not`, `substringof`/`startswith`/`endswith`,
//!   `'…'` with doubled quotes, `guid'…'`, `datetime'…'`, numbers, booleans, `null`; module `expr`),
//!   string comparisons ignoring case as 1C's queries do; `$select`, `$expand` (one level, by `…_Key`
//!   references), `$orderby`, `$top`, `$skip`, `$inlinecount=allpages` (`odata.count` as a string, as
//!   OData v3 writes it), `/$count`, navigation links (`…@navigationLinkUrl`) (module `read`).
//! * Writes like 1C (module `write`): `POST` → 201 with the stored entity (`Ref_Key`, `Code`/`Number`,
//!   `DataVersion` filled), `PATCH` (a tabular section in the body replaces the section), `DELETE`,
//!   unknown properties and mistyped values refused, tabular-section rows only inside their document
//!   (error 13 on the row set), rows without `LineNumber` answered with the internal error `-1`, as a
//!   real base does.
//! * Posting: `…/Post?PostingModeOperational=…` and `…/Unpost`. Operational posting of a back-dated
//!   document fails, documents marked for deletion cannot be posted, posting can be refused per set (as
//!   missing rights do), and posting a price list writes the price register (unposting removes it).
//! * A clock (each write one second later by default) and change tracking: a field of a set that every
//!   write stamps, for delta sync (`ДатаИзменения` in many configurations).
//! * `/<publication>/hs/<root>/…`: HTTP services the test registers (module `hs`).
//! * Faults: core's [`Faults`] queue for any request ([`Simulated::fail_next`]), and [`WriteFault`]s for
//!   the next write (an answer lost after the write was applied, or before; the internal error).
//!
//! **The shared vocabulary**: [`Simulated::sent`] lists the entities created through the interface, in
//! order, with their state now; [`Simulated::advance`] moves the base's clock one step (nothing in a 1C
//! base changes by itself); 1C pushes no webhooks, so [`Simulated::pushed`] is always empty and there
//! is nothing to `trigger`.
//!
//! The error codes it answers are listed in one place, [`codes`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDateTime;
use serde_json::Value;
use switchboard_core::simulated::{SimOptions, SimRecord, Simulated, StartSim};
use switchboard_core::testkit::wiremock::Request;
use switchboard_core::testkit::{Faults, SimServer};
use switchboard_core::{Error, Result, WebhookRequest, async_trait};

use crate::SCHEME;
use crate::guid::Guid;

mod api;
mod auth;
pub mod codes;
mod expr;
mod hs;
mod metadata;
mod read;
mod schema;
mod state;
mod write;

pub use hs::{HsAnswer, HsCall, HsHandler};

use schema::Ty;
use state::State;

/// What happens to the next write (`POST`, `PATCH`, `DELETE`, posting) of the OData interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteFault {
    /// The write is applied, but its answer comes only after this long (past the client's timeout, the
    /// client cannot know it landed).
    ApplyThenDelay(Duration),
    /// The write is not applied, and the answer (the internal error) comes only after this long.
    DelayWithoutApplying(Duration),
    /// The write is not applied; 1C answers 500 with code `-1`.
    InternalError,
}

/// The simulated base's publication and infobase user ([`Simulator::start_with_base`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SimBase {
    /// The infobase user.
    pub user: String,
    /// Its password.
    pub password: String,
    /// The publication path (without slashes).
    pub publication: String,
}

impl SimBase {
    /// The default publication (`base`) for this infobase user and password.
    pub fn user(user: impl Into<String>, password: impl Into<String>) -> SimBase {
        SimBase {
            user: user.into(),
            password: password.into(),
            ..SimBase::default()
        }
    }

    /// Publishes the base under another path (without slashes).
    pub fn publication(mut self, publication: impl Into<String>) -> SimBase {
        self.publication = publication.into();
        self
    }
}

impl Default for SimBase {
    fn default() -> Self {
        SimBase {
            user: "odata.user".to_owned(),
            password: "sim-password".to_owned(),
            publication: "base".to_owned(),
        }
    }
}

/// A simulated 1C base. See the [module docs](self).
#[derive(Clone)]
pub struct Simulator {
    server: Arc<SimServer>,
    state: Arc<Mutex<State>>,
    opts: SimBase,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("uri", &self.server.uri())
            .field("publication", &self.opts.publication)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Starts on a free loopback port with the default user and publication, recording every request.
    pub async fn start() -> Simulator {
        Self::start_with_base(SimBase::default()).await
    }

    /// Starts on a free loopback port with this publication and infobase user.
    pub async fn start_with_base(base: SimBase) -> Simulator {
        let state = Arc::new(Mutex::new(State::new(base.clone())));
        let server = SimServer::start(api::handler(state.clone())).await;
        Self::finish(server, state, base)
    }

    /// Starts with `options`: on `127.0.0.1:PORT` when it names a port (request recording off, for a
    /// simulator a person points a tool at; `switchboard sim onec --port P`). 1C pushes nothing, so a
    /// webhook URL is refused.
    pub async fn start_with(options: SimOptions) -> Result<Simulator> {
        if options.webhook_url.is_some() {
            return Err(Error::unsupported(
                "1C pushes no webhooks, so its simulator takes no webhook URL",
            ));
        }
        let base = SimBase::default();
        let state = Arc::new(Mutex::new(State::new(base.clone())));
        let server = match options.port {
            Some(port) => SimServer::start_on_port(port, api::handler(state.clone()))
                .await
                .map_err(|e| {
                    Error::config(format!("the 1C simulator cannot listen on port {port}: {e}")).with_source(e)
                })?,
            None => SimServer::start(api::handler(state.clone())).await,
        };
        Ok(Self::finish(server, state, base))
    }

    fn finish(server: SimServer, state: Arc<Mutex<State>>, opts: SimBase) -> Simulator {
        if let Ok(mut st) = state.lock() {
            st.base_url = server.uri();
        }
        Simulator {
            server: Arc::new(server),
            state,
            opts,
        }
    }

    /// The publication's URL, `http://127.0.0.1:PORT/base`.
    pub fn base_url(&self) -> String {
        format!("{}/{}", self.server.uri(), self.opts.publication)
    }

    /// The OData root, `…/base/odata/standard.odata`.
    pub fn odata_url(&self) -> String {
        format!("{}/odata/standard.odata", self.base_url())
    }

    /// An `onec://` DSN for this simulator with other credentials (for authentication tests).
    pub fn dsn_with(&self, user: &str, password: &str) -> String {
        let addr = self.server.address();
        self.dsn_for(&format!("{}:{}", addr.ip(), addr.port()), user, password)
    }

    /// An `onec://` DSN for `host:port` with these credentials and the simulator's publication.
    fn dsn_for(&self, host_port: &str, user: &str, password: &str) -> String {
        let enc = |s: &str| crate::query::encode_value(s);
        format!(
            "onec://{}:{}@{host_port}/{}",
            enc(user),
            enc(password),
            self.opts.publication
        )
    }

    /// The infobase user the simulator accepts.
    pub fn user(&self) -> &str {
        &self.opts.user
    }

    /// Every request received so far.
    pub async fn requests(&self) -> Vec<Request> {
        self.server.requests().await
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        self.state.lock().ok().map(|mut st| f(&mut st))
    }

    /// Queues a fault for the next write of the OData interface.
    pub fn fault_next_write(&self, fault: WriteFault) {
        self.with(|st| st.write_faults.push_back(fault));
    }

    /// The seeded organisation (`Catalog_Организации`).
    pub fn organization(&self) -> Guid {
        self.with(|st| st.organization).unwrap_or_default()
    }

    /// The organisation's seeded bank account (`Catalog_БанковскиеСчета`).
    pub fn bank_account(&self) -> Guid {
        self.with(|st| st.bank_account).unwrap_or_default()
    }

    /// The seeded retail price type (`Catalog_ТипыЦенНоменклатуры`).
    pub fn price_type(&self) -> Guid {
        self.with(|st| st.price_type).unwrap_or_default()
    }

    /// The seeded currency, the rouble (`Catalog_Валюты`).
    pub fn currency(&self) -> Guid {
        self.with(|st| st.currency).unwrap_or_default()
    }

    /// Stores an entity as a 1C user would (defaults, code or number, the clock), without counting it
    /// as a write of the interface. An error names what 1C would refuse.
    pub fn seed(&self, set: &str, entity: Value) -> Result<Guid, String> {
        let Value::Object(body) = entity else {
            return Err("an entity is a JSON object".to_owned());
        };
        self.with(|st| {
            if st.sets.get(set).is_none_or(|s| s.read_only) {
                return Err(format!("{set} is not a writable set of the simulator"));
            }
            st.insert(set, body)
                .map_err(|_| format!("1C would refuse this {set} entity (unknown property or wrong type)"))
                .and_then(|rec| {
                    rec.get("Ref_Key")
                        .and_then(Value::as_str)
                        .and_then(|s| Guid::parse(s).ok())
                        .ok_or_else(|| "no Ref_Key".to_owned())
                })
        })
        .unwrap_or_else(|| Err("the simulator state is poisoned".to_owned()))
    }

    /// Every entity of a set, as stored.
    pub fn records(&self, set: &str) -> Vec<Value> {
        self.with(|st| {
            st.sets
                .get(set)
                .map(|s| s.records.iter().cloned().map(Value::Object).collect())
                .unwrap_or_default()
        })
        .unwrap_or_default()
    }

    /// One entity by `Ref_Key`.
    pub fn record(&self, set: &str, key: Guid) -> Option<Value> {
        let k = key.to_string();
        self.records(set)
            .into_iter()
            .find(|r| r.get("Ref_Key").and_then(Value::as_str) == Some(k.as_str()))
    }

    /// How many entities a set holds.
    pub fn count(&self, set: &str) -> usize {
        self.with(|st| st.sets.get(set).map_or(0, |s| s.records.len()))
            .unwrap_or(0)
    }

    /// Successful writes (creates, updates, deletions, posting) through the interface so far: a re-run
    /// of a sync that changes nothing leaves it as it was.
    pub fn writes(&self) -> usize {
        self.with(|st| st.writes).unwrap_or(0)
    }

    /// Successful writes that came with `1C_OData_DataLoadMode: true`.
    pub fn data_load_writes(&self) -> usize {
        self.with(|st| st.data_load_writes).unwrap_or(0)
    }

    /// Changes a field as a 1C user would (bumping `DataVersion` and the tracked change field).
    /// `false` when there is no such entity or field.
    pub fn set_field(&self, set: &str, key: Guid, field: &str, value: Value) -> bool {
        let k = key.to_string();
        self.with(|st| {
            let Some(s) = st.sets.get_mut(set) else {
                return false;
            };
            let Some(t) = s.field_type(field) else {
                return false;
            };
            let Some(v) = t.check(&value) else {
                return false;
            };
            let Some(i) = s
                .records
                .iter()
                .position(|r| r.get("Ref_Key").and_then(Value::as_str) == Some(k.as_str()))
            else {
                return false;
            };
            if let Some(r) = s.records.get_mut(i) {
                r.insert(field.to_owned(), v);
            }
            st.touch(set, i);
            true
        })
        .unwrap_or(false)
    }

    /// Adds a custom attribute to a set (a customer's configuration); existing entities get its empty
    /// value. `kind` is `"string"`, `"guid"`, `"number"`, `"bool"` or `"date"`.
    pub fn add_field(&self, set: &str, field: &str, kind: &str) -> bool {
        let t = match kind {
            "string" => Ty::Str,
            "guid" => Ty::Guid,
            "number" => Ty::Num,
            "bool" => Ty::Bool,
            "date" => Ty::Date,
            _ => return false,
        };
        self.with(|st| {
            let Some(s) = st.sets.get_mut(set) else {
                return false;
            };
            if s.field_type(field).is_none() {
                s.fields.push((field.to_owned(), t));
                for r in &mut s.records {
                    r.insert(field.to_owned(), t.default_value());
                }
            }
            true
        })
        .unwrap_or(false)
    }

    /// Makes every write of `set` stamp `field` with the clock (adding the field when the set lacks
    /// it), as configurations that support delta sync do.
    pub fn track_changes(&self, set: &str, field: &str) -> bool {
        if !self.add_field(set, field, "date") {
            return false;
        }
        self.with(|st| st.tracked.insert(set.to_owned(), field.to_owned()));
        true
    }

    /// The simulator's clock (the base's local time).
    pub fn now(&self) -> NaiveDateTime {
        self.with(|st| st.clock).unwrap_or_default()
    }

    /// Sets the clock.
    pub fn set_now(&self, t: NaiveDateTime) {
        self.with(|st| st.clock = t);
    }

    /// Moves the clock forward by `by` ([`Simulated::advance`] moves it by one clock step).
    pub fn advance_clock(&self, by: Duration) {
        self.with(|st| st.clock += chrono::Duration::from_std(by).unwrap_or_default());
    }

    /// How far each write moves the clock (one second by default; zero makes writes share a time).
    pub fn set_clock_step(&self, step: Duration) {
        self.with(|st| st.step = chrono::Duration::from_std(step).unwrap_or_default());
    }

    /// The clock as 1C writes it.
    pub fn now_string(&self) -> String {
        self.with(|st| st.now_string()).unwrap_or_default()
    }

    /// Makes posting documents of `set` fail with the internal error, as when the infobase user lacks
    /// the right to post.
    pub fn refuse_posting(&self, set: &str, refuse: bool) {
        self.with(|st| {
            if refuse {
                st.refuse_posting.insert(set.to_owned());
            } else {
                st.refuse_posting.remove(set);
            }
        });
    }

    /// Registers an HTTP service at `/hs/<root>/…`.
    pub fn http_service(&self, root: &str, handler: impl Fn(&HsCall) -> HsAnswer + Send + Sync + 'static) {
        let h: HsHandler = Arc::new(handler);
        self.with(|st| st.services.insert(root.to_owned(), h));
    }
}

#[async_trait]
impl Simulated for Simulator {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// The server's base URL, `http://127.0.0.1:PORT` (the publication is under it).
    fn uri(&self) -> String {
        self.server.uri()
    }

    /// `onec://odata.user:…@127.0.0.1:PORT/base`: valid credentials for this simulator.
    fn dsn(&self) -> String {
        self.dsn_with(&self.opts.user, &self.opts.password)
    }

    fn faults(&self) -> &Faults {
        self.server.faults()
    }

    /// Every entity created through the OData interface, in order: its `Ref_Key`, its set, its number
    /// (a document), code or description, and its state now (`written`, `posted`, `marked for
    /// deletion`, `deleted`). A create whose answer was lost is here too: 1C wrote it.
    fn sent(&self) -> Vec<SimRecord> {
        self.with(|st| st.sent()).unwrap_or_default()
    }

    /// Moves the base's clock one step (see [`Simulator::set_clock_step`]). Nothing else in a 1C base
    /// moves by itself: writes and posting finish within their request.
    async fn advance(&self) {
        self.with(|st| {
            st.tick();
        });
    }

    /// Always empty: 1C pushes nothing by itself.
    fn pushed(&self) -> Vec<WebhookRequest> {
        Vec::new()
    }

    /// [`Simulated::dsn`] with a password the simulator refuses (401).
    fn dsn_with_bad_credentials(&self) -> Option<String> {
        Some(self.dsn_with(&self.opts.user, "not-the-password"))
    }

    fn dsn_at(&self, base_url: &str) -> Option<String> {
        let host_port = switchboard_core::simulated::host_port_of(base_url);
        Some(self.dsn_for(host_port, &self.opts.user, &self.opts.password))
    }
}

/// Starts 1C simulators for the registry (`switchboard sim`, the conformance suite).
impl StartSim for Simulator {
    const NAME: &'static str = "1C";
    type Error = switchboard_core::Error;

    async fn start_sim(options: SimOptions) -> std::result::Result<Simulator, switchboard_core::Error> {
        Simulator::start_with(options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn seeded_base() {
        let st = State::new(SimBase::default());
        assert_eq!(st.sets["Catalog_Организации"].records.len(), 1);
        assert!(!st.organization.is_nil());
        assert!(!st.bank_account.is_nil());
        assert_ne!(st.organization, st.bank_account);
        assert_eq!(st.writes, 0);
    }
}

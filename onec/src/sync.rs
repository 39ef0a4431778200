//! Typed, idempotent sync of what CRM applications push into 1C, and pulling statuses back.
//!
//! [`Syncer::upsert`] (and the typed helpers around it) makes 1C hold a record, whatever happened
//! before:
//!
//! 1. **Find** the entity: by the `Ref_Key` the [`SyncLog`] remembers for this external id, else by the
//!    record's **stable key** ([`SyncRecord::stable_key`]: INN+KPP for a counterparty, article for an
//!    item, number for a document). Several live matches are an error, never a guess.
//! 2. **Compare** field by field (only the fields the record sets; numbers by value, GUIDs by value,
//!    tabular sections row by row). Equal: nothing is sent ([`SyncAction::Unchanged`]).
//! 3. **Update** only the fields that differ (`PATCH`), or **create** (`POST`) when nothing was found.
//! 4. For documents, **post** when asked and not posted yet (or changed).
//! 5. **Log** what was sent and the `Ref_Key` it became.
//!
//! Running the same sync twice therefore sends nothing the second time.
//!
//! ## A create whose answer was lost
//!
//! A create is not idempotent: if its answer is lost (a timeout, a dropped connection, a 5xx:
//! [`Dispatch::MaybeSent`]), 1C may or may not have created the
//! entity. The sync never repeats it blindly: it waits the retry policy's delay, looks the entity up by
//! its stable key, and only if 1C has none sends the create again ([`SyncAction::Recovered`] when the
//! lookup found it). A 1C server still busy with the first create when the lookup runs can defeat this;
//! the delay is there to make that unlikely, and a duplicate would show up as an ambiguity error on the
//! next run rather than pass silently.

use std::sync::Arc;

use chrono::Utc;
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use switchboard_core::{Dispatch, Error, ErrorKind, Result};

use crate::SCHEME;
use crate::client::{OneCClient, PostingMode};
use crate::decimal::Decimal;
use crate::delta::{ChangeBatch, Delta, Marker};
use crate::entity::EntitySet;
use crate::filter::{Filter, field};
use crate::guid::Guid;
use crate::model::{BankPayment, Contract, Counterparty, DocumentStatus, Item, ItemPrice, PriceList, SalesDocument};
use crate::query::Query;
use crate::synclog::{SyncAction, SyncEntry, SyncFailure, SyncLog};

/// How many entities a stable-key lookup reads; more than one live match is an ambiguity error.
const LOOKUP_LIMIT: u64 = 5;

/// How many `Ref_Key`s one status query asks for (`Ref_Key eq … or …`), keeping URLs short.
const STATUS_CHUNK: usize = 20;

/// Where each kind of record lives.
///
/// The defaults are the object names of the typical configurations (Бухгалтерия предприятия 3.0,
/// Управление торговлей 11, ERP 2); `ЗаказКлиента` exists in УТ/ERP, not in БП. Configurations differ,
/// so every name can be changed; this is the one place they are written.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SyncSets {
    /// Counterparties.
    pub counterparties: EntitySet,
    /// Contracts with counterparties.
    pub contracts: EntitySet,
    /// Items (goods and services).
    pub items: EntitySet,
    /// Price-setting documents.
    pub price_lists: EntitySet,
    /// The price register written by posting them.
    pub prices: EntitySet,
    /// Customer orders.
    pub orders: EntitySet,
    /// Invoices for payment.
    pub invoices: EntitySet,
    /// Sales of goods and services (shipments, acts).
    pub sales: EntitySet,
    /// Incoming bank payments.
    pub incoming_payments: EntitySet,
    /// Outgoing bank payments.
    pub outgoing_payments: EntitySet,
}

impl Default for SyncSets {
    fn default() -> Self {
        SyncSets {
            counterparties: EntitySet::catalog("Контрагенты"),
            contracts: EntitySet::catalog("ДоговорыКонтрагентов"),
            items: EntitySet::catalog("Номенклатура"),
            price_lists: EntitySet::document("УстановкаЦенНоменклатуры"),
            prices: EntitySet::information_register("ЦеныНоменклатуры"),
            orders: EntitySet::document("ЗаказКлиента"),
            invoices: EntitySet::document("СчетНаОплатуПокупателю"),
            sales: EntitySet::document("РеализацияТоваровУслуг"),
            incoming_payments: EntitySet::document("ПоступлениеНаРасчетныйСчет"),
            outgoing_payments: EntitySet::document("СписаниеСРасчетногоСчета"),
        }
    }
}

/// Which sales document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesKind {
    /// A customer order.
    Order,
    /// An invoice for payment.
    Invoice,
    /// A sale (shipment or act).
    Sale,
}

/// Which way money moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentDirection {
    /// Money came in (ПоступлениеНаРасчетныйСчет).
    Incoming,
    /// Money went out (СписаниеСРасчетногоСчета).
    Outgoing,
}

/// Whether an upserted document is posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Posting {
    /// Leave it as it is (a new document stays unposted).
    #[default]
    Leave,
    /// Post it when it is not posted yet, or re-post it when the sync changed it.
    Post(PostingMode),
}

impl Posting {
    /// Regular (non-operational) posting.
    pub fn post() -> Posting {
        Posting::Post(PostingMode::Regular)
    }
}

/// A record the sync can upsert: it knows how to find itself in 1C without a `Ref_Key`.
pub trait SyncRecord: Serialize + Send + Sync {
    /// The filter that finds this record's entity (INN+KPP, article, number…). An error (nothing sent)
    /// when the record lacks the fields its key needs, because creating without a key is how
    /// duplicates are made.
    fn stable_key(&self) -> Result<Filter>;
}

fn need(what: &str) -> Error {
    Error::invalid_input(format!(
        "{what}; without a stable key a repeated sync would create duplicates (use Syncer::upsert_keyed to \
         choose your own key)"
    ))
    .with_provider(SCHEME)
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// INN, plus KPP when given (a company's branches share the INN and differ by KPP).
impl SyncRecord for Counterparty {
    fn stable_key(&self) -> Result<Filter> {
        let inn = present(&self.inn).ok_or_else(|| need("a counterparty needs its INN"))?;
        let f = field("ИНН").eq(inn);
        Ok(match present(&self.kpp) {
            Some(kpp) => f.and(field("КПП").eq(kpp)),
            None => f,
        })
    }
}

/// The owner and the contract number (and date when given); without a number, the owner and the name.
impl SyncRecord for Contract {
    fn stable_key(&self) -> Result<Filter> {
        let owner = self
            .owner_key
            .non_nil()
            .ok_or_else(|| need("a contract needs its owner (the counterparty's Ref_Key)"))?;
        let f = field("Owner_Key").eq(owner);
        if let Some(n) = present(&self.number) {
            let f = f.and(field("Номер").eq(n));
            return Ok(match self.date {
                Some(d) => f.and(field("Дата").eq(d)),
                None => f,
            });
        }
        if self.description.trim().is_empty() {
            return Err(need("a contract needs a number or a name"));
        }
        Ok(f.and(field("Description").eq(self.description.as_str())))
    }
}

/// The article (SKU), or the code when there is no article.
impl SyncRecord for Item {
    fn stable_key(&self) -> Result<Filter> {
        if let Some(a) = present(&self.article) {
            return Ok(field("Артикул").eq(a));
        }
        present(&self.code)
            .map(|c| field("Code").eq(c))
            .ok_or_else(|| need("an item needs an article or a code"))
    }
}

/// The document number.
impl SyncRecord for PriceList {
    fn stable_key(&self) -> Result<Filter> {
        present(&self.number)
            .map(|n| field("Number").eq(n))
            .ok_or_else(|| need("a price list needs a number"))
    }
}

/// The number, within the organisation when one is set.
impl SyncRecord for SalesDocument {
    fn stable_key(&self) -> Result<Filter> {
        let n = present(&self.number).ok_or_else(|| need("a document needs a number (use the CRM's number)"))?;
        let f = field("Number").eq(n);
        Ok(match self.organization_key.and_then(Guid::non_nil) {
            Some(org) => f.and(field("Организация_Key").eq(org)),
            None => f,
        })
    }
}

/// The bank's payment-order number (and date, and payer when set); without it, 1C's own number.
impl SyncRecord for BankPayment {
    fn stable_key(&self) -> Result<Filter> {
        if let Some(n) = present(&self.incoming_number) {
            let mut f = field("НомерВходящегоДокумента").eq(n);
            if let Some(d) = self.incoming_date {
                f = f.and(field("ДатаВходящегоДокумента").eq(d));
            }
            if let Some(c) = self.counterparty_key.and_then(Guid::non_nil) {
                f = f.and(field("Контрагент_Key").eq(c));
            }
            return Ok(f);
        }
        let n = present(&self.number)
            .ok_or_else(|| need("a bank payment needs the bank's payment-order number or a document number"))?;
        let f = field("Number").eq(n);
        Ok(match self.organization_key.and_then(Guid::non_nil) {
            Some(org) => f.and(field("Организация_Key").eq(org)),
            None => f,
        })
    }
}

/// What an upsert did and what 1C holds now.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Synced {
    /// The entity's `Ref_Key`.
    pub ref_key: Guid,
    /// What the upsert did.
    pub action: SyncAction,
    /// Whether the document is posted (documents only).
    pub posted: Option<bool>,
    /// The entity as 1C answered it last.
    pub entity: Value,
}

/// Runs syncs against one infobase, logging into the host's [`SyncLog`].
#[derive(Clone)]
pub struct Syncer {
    client: OneCClient,
    log: Arc<dyn SyncLog>,
    sets: SyncSets,
}

impl std::fmt::Debug for Syncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syncer")
            .field("client", &self.client)
            .field("log", &self.log)
            .field("sets", &self.sets)
            .finish()
    }
}

impl Syncer {
    /// A syncer over `client`, logging into `log`, with the default [`SyncSets`].
    pub fn new(client: OneCClient, log: Arc<dyn SyncLog>) -> Syncer {
        Syncer {
            client,
            log,
            sets: SyncSets::default(),
        }
    }

    /// Uses other entity-set names.
    pub fn with_sets(mut self, sets: SyncSets) -> Syncer {
        self.sets = sets;
        self
    }

    /// The entity-set names in use.
    pub fn sets(&self) -> &SyncSets {
        &self.sets
    }

    /// The OData client.
    pub fn client(&self) -> &OneCClient {
        &self.client
    }

    /// Upserts a counterparty (by INN + KPP).
    pub async fn upsert_counterparty(&self, external_id: &str, c: &Counterparty) -> Result<Synced> {
        self.upsert(&self.sets.counterparties.clone(), external_id, c).await
    }

    /// Upserts a contract (by owner + number).
    pub async fn upsert_contract(&self, external_id: &str, c: &Contract) -> Result<Synced> {
        self.upsert(&self.sets.contracts.clone(), external_id, c).await
    }

    /// Upserts an item (by article, or code).
    pub async fn upsert_item(&self, external_id: &str, item: &Item) -> Result<Synced> {
        self.upsert(&self.sets.items.clone(), external_id, item).await
    }

    /// Upserts a price list and posts it, which writes the prices into the price register.
    pub async fn upsert_price_list(&self, external_id: &str, prices: &PriceList) -> Result<Synced> {
        let key = prices.stable_key();
        self.run(
            &self.sets.price_lists.clone(),
            external_id,
            prices,
            key,
            Posting::post(),
        )
        .await
    }

    /// The prices recorded for an item, oldest first.
    pub async fn prices(&self, item_key: Guid) -> Result<Vec<ItemPrice>> {
        let q = Query::new()
            .filter(field("Номенклатура_Key").eq(item_key))
            .order_by("Period");
        collect(self.client.stream(&self.sets.prices, q)).await
    }

    /// Upserts an order, invoice or sale with its rows (by number), posting it as asked.
    pub async fn upsert_sales_document(
        &self,
        kind: SalesKind,
        external_id: &str,
        doc: &SalesDocument,
        posting: Posting,
    ) -> Result<Synced> {
        let set = match kind {
            SalesKind::Order => self.sets.orders.clone(),
            SalesKind::Invoice => self.sets.invoices.clone(),
            SalesKind::Sale => self.sets.sales.clone(),
        };
        self.run(&set, external_id, doc, doc.stable_key(), posting).await
    }

    /// Upserts a bank payment (by the bank's payment-order number), posting it as asked.
    pub async fn upsert_payment(
        &self,
        direction: PaymentDirection,
        external_id: &str,
        payment: &BankPayment,
        posting: Posting,
    ) -> Result<Synced> {
        let set = match direction {
            PaymentDirection::Incoming => self.sets.incoming_payments.clone(),
            PaymentDirection::Outgoing => self.sets.outgoing_payments.clone(),
        };
        self.run(&set, external_id, payment, payment.stable_key(), posting)
            .await
    }

    /// Upserts any [`SyncRecord`] into `set`.
    pub async fn upsert<R: SyncRecord>(&self, set: &EntitySet, external_id: &str, record: &R) -> Result<Synced> {
        self.run(set, external_id, record, record.stable_key(), Posting::Leave)
            .await
    }

    /// Upserts any body into `set`, finding it by `key` (the fields of `key` should be in the body, or a
    /// created entity will not be found again).
    pub async fn upsert_keyed(
        &self,
        set: &EntitySet,
        external_id: &str,
        body: &impl Serialize,
        key: Filter,
        posting: Posting,
    ) -> Result<Synced> {
        self.run(set, external_id, body, Ok(key), posting).await
    }

    async fn run(
        &self,
        set: &EntitySet,
        external_id: &str,
        body: &impl Serialize,
        key: Result<Filter>,
        posting: Posting,
    ) -> Result<Synced> {
        let mut sent = None;
        let result = self.try_upsert(set, external_id, body, key, posting, &mut sent).await;
        let entry = SyncEntry {
            at: Utc::now(),
            entity_set: set.full_name(),
            external_id: external_id.to_owned(),
            action: result.as_ref().map_or(SyncAction::Failed, |s| s.action),
            ref_key: result.as_ref().ok().map(|s| s.ref_key),
            sent,
            posted: result.as_ref().ok().and_then(|s| s.posted),
            error: result.as_ref().err().map(SyncFailure::from),
        };
        match (self.log.record(entry).await, result) {
            (Ok(()), r) => r,
            (Err(log_err), Ok(_)) => Err(log_err.with_message(
                "1C holds the record, but the sync log could not record it; running the sync again is safe",
            )),
            (Err(log_err), Err(e)) => {
                tracing::warn!(error = %log_err, "the sync log could not record a failed sync");
                Err(e)
            }
        }
    }

    async fn try_upsert(
        &self,
        set: &EntitySet,
        external_id: &str,
        body: &impl Serialize,
        key: Result<Filter>,
        posting: Posting,
        sent: &mut Option<Value>,
    ) -> Result<Synced> {
        let key = key?;
        key.to_odata()?;
        let mut desired = match serde_json::to_value(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(Error::invalid_input("a record must serialise to a JSON object").with_provider(SCHEME)),
            Err(e) => {
                return Err(Error::invalid_input(format!("the record cannot be serialised: {e}")).with_provider(SCHEME));
            }
        };
        number_rows(&mut desired);

        let (entity, action) = match self.find_existing(set, external_id, &key).await? {
            Some(current) => {
                let changes = match &current {
                    Value::Object(cur) => changes(&desired, cur),
                    _ => desired.clone(),
                };
                if changes.is_empty() {
                    (current, SyncAction::Unchanged)
                } else {
                    let ref_key = ref_of(&current)?;
                    *sent = Some(Value::Object(changes.clone()));
                    let updated: Value = self.client.update(set, ref_key, &Value::Object(changes)).await?;
                    (updated, SyncAction::Updated)
                }
            }
            None => {
                *sent = Some(Value::Object(desired.clone()));
                self.create_or_recover(set, &Value::Object(desired), &key).await?
            }
        };
        let ref_key = ref_of(&entity)?;
        let mut posted = entity.get("Posted").and_then(Value::as_bool);
        if let Posting::Post(mode) = posting
            && (posted != Some(true) || action.wrote())
        {
            self.client.post_document(set, ref_key, mode).await?;
            posted = Some(true);
        }
        Ok(Synced {
            ref_key,
            action,
            posted,
            entity,
        })
    }

    async fn find_existing(&self, set: &EntitySet, external_id: &str, key: &Filter) -> Result<Option<Value>> {
        if let Some(known) = self.log.ref_key(&set.full_name(), external_id).await? {
            if let Some(v) = self.client.find::<Value>(set, known).await? {
                return Ok(Some(v));
            }
            tracing::debug!(set = %set, "the Ref_Key in the sync log no longer exists; looking up by stable key");
        }
        self.find_by_key(set, key).await
    }

    /// The entity `key` finds: the one live match, else a match marked for deletion (reused rather than
    /// duplicated; set `DeletionMark: false` in the record to restore it). Several live matches are a
    /// [`ErrorKind::Rejected`] error naming them.
    pub async fn find_by_key(&self, set: &EntitySet, key: &Filter) -> Result<Option<Value>> {
        let page = self
            .client
            .list::<Value>(set, &Query::new().filter(key.clone()).top(LOOKUP_LIMIT))
            .await?;
        let (live, deleted): (Vec<Value>, Vec<Value>) = page
            .items
            .into_iter()
            .partition(|v| v.get("DeletionMark").and_then(Value::as_bool) != Some(true));
        match live.len() {
            0 => Ok(deleted.into_iter().next()),
            1 => Ok(live.into_iter().next()),
            n => {
                let refs: Vec<String> = live
                    .iter()
                    .filter_map(|v| v.get("Ref_Key").and_then(Value::as_str).map(str::to_owned))
                    .collect();
                Err(Error::new(
                    ErrorKind::Rejected,
                    format!(
                        "{}{} entities of {set} match {key} ({}); merge the duplicates in 1C or sync with a \
                         narrower key",
                        n,
                        if n as u64 >= LOOKUP_LIMIT { "+" } else { "" },
                        refs.join(", ")
                    ),
                )
                .with_dispatch(Dispatch::NotSent)
                .with_provider(SCHEME))
            }
        }
    }

    /// Creates `body` in `set`, reconciling lost answers by looking `key` up before any new attempt
    /// (see the [module docs](self)). Returns the entity and [`SyncAction::Created`] or
    /// [`SyncAction::Recovered`].
    pub async fn create_or_recover(&self, set: &EntitySet, body: &Value, key: &Filter) -> Result<(Value, SyncAction)> {
        let policy = &self.client.config().retry;
        let delays = policy.delays();
        let mut attempt = 0usize;
        loop {
            // The client's pipeline has already repeated what 1C refused before acting (NotSent); what
            // is left either may have landed or is final.
            let err = match self.client.create::<Value>(set, body).await {
                Ok(v) => return Ok((v, SyncAction::Created)),
                Err(e) => e,
            };
            if err.dispatch() != Dispatch::MaybeSent || !err.is_retryable() {
                return Err(err);
            }
            let Some(delay) = delays.get(attempt).copied() else {
                return Err(err);
            };
            if err.retry_after().is_some_and(|a| a > policy.max_retry_after) {
                return Err(err);
            }
            attempt += 1;
            tokio::time::sleep(delay.max(err.retry_after().unwrap_or_default())).await;
            // The create may have landed: look before sending anything again.
            match self.find_by_key(set, key).await {
                Ok(Some(found)) => {
                    tracing::info!(set = %set, "a create whose answer was lost had landed; not repeating it");
                    return Ok((found, SyncAction::Recovered));
                }
                Ok(None) => {
                    tracing::debug!(set = %set, "a create whose answer was lost had not landed; trying again");
                }
                Err(lookup) => {
                    tracing::warn!(set = %set, error = %lookup, "could not check whether a create landed");
                    // The original error says what matters: the create may have landed.
                    return Err(err);
                }
            }
        }
    }

    /// The posting status of documents (`Number`, `Date`, `Posted`, `DeletionMark`, plus `fields`), for
    /// pulling statuses back. Unknown keys are simply absent from the answer.
    pub async fn document_statuses(
        &self,
        set: &EntitySet,
        refs: &[Guid],
        fields: &[&str],
    ) -> Result<Vec<DocumentStatus>> {
        let mut out = Vec::with_capacity(refs.len());
        for chunk in refs.chunks(STATUS_CHUNK) {
            let Some(filter) = Filter::any(chunk.iter().map(|g| field("Ref_Key").eq(*g))) else {
                continue;
            };
            let select = ["Ref_Key", "Number", "Date", "Posted", "DeletionMark"]
                .into_iter()
                .chain(fields.iter().copied());
            let q = Query::new().filter(filter).select(select);
            out.extend(collect::<DocumentStatus>(self.client.stream(set, q)).await?);
        }
        Ok(out)
    }

    /// What changed in a set since the last committed marker (or [`Delta::since`]), in order of the
    /// change field, at most [`Delta::max_items`] at a time. Nothing is stored until
    /// [`Syncer::commit`]: process the batch, then commit, so a crash re-delivers instead of losing.
    pub async fn pull_changes<T: DeserializeOwned>(&self, delta: &Delta) -> Result<ChangeBatch<T>> {
        let since = match delta.since_marker() {
            Some(m) => Some(m.clone()),
            None => match self.log.load_marker(delta.stream()).await? {
                Some(s) => Some(Marker::parse(&s)?),
                None => None,
            },
        };
        let q = delta.query(since.as_ref())?;
        let mut stream = self.client.stream::<Value>(delta.set(), q);
        let mut items = Vec::new();
        let mut next = since.clone();
        let mut complete = true;
        while let Some(v) = stream.next().await {
            let v = v?;
            let value = delta.value_of(&v, since.as_ref())?;
            let rk = v
                .get("Ref_Key")
                .and_then(Value::as_str)
                .and_then(|s| Guid::parse(s).ok());
            if let (Some(m), Some(rk)) = (&since, rk)
                && m.value == value
                && m.seen.contains(&rk)
            {
                continue; // delivered by an earlier batch
            }
            if items.len() >= delta.max_items_value() {
                complete = false;
                break;
            }
            match next.as_mut() {
                Some(n) if n.value == value => n.seen.extend(rk),
                _ => {
                    next = Some(Marker {
                        value,
                        seen: rk.into_iter().collect(),
                    })
                }
            }
            items.push(serde_json::from_value::<T>(v).map_err(|e| {
                Error::decode(format!("a changed entity does not have the expected shape: {e}")).with_provider(SCHEME)
            })?);
        }
        Ok(ChangeBatch::new(items, next, delta.stream().to_owned(), complete))
    }

    /// Stores a batch's marker, so the next [`Syncer::pull_changes`] starts after it.
    pub async fn commit<T>(&self, batch: &ChangeBatch<T>) -> Result<()> {
        match &batch.next {
            Some(m) => self.log.store_marker(batch.stream(), &m.to_string()).await,
            None => Ok(()),
        }
    }
}

async fn collect<T>(mut s: futures::stream::BoxStream<'static, Result<T>>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    while let Some(v) = s.next().await {
        out.push(v?);
    }
    Ok(out)
}

fn ref_of(v: &Value) -> Result<Guid> {
    v.get("Ref_Key")
        .and_then(Value::as_str)
        .and_then(|s| Guid::parse(s).ok())
        .ok_or_else(|| Error::decode("1C's answer has no Ref_Key").with_provider(SCHEME))
}

/// Gives every row of every tabular section a `LineNumber` (1, 2, …) when it has none: 1C answers a
/// row without one with an internal error (`-1`).
pub(crate) fn number_rows(body: &mut Map<String, Value>) {
    for v in body.values_mut() {
        if let Value::Array(rows) = v {
            for (i, row) in rows.iter_mut().enumerate() {
                if let Value::Object(r) = row
                    && !r.contains_key("LineNumber")
                {
                    r.insert("LineNumber".to_owned(), Value::String((i + 1).to_string()));
                }
            }
        }
    }
}

/// The fields of `desired` whose value differs from `current`.
pub(crate) fn changes(desired: &Map<String, Value>, current: &Map<String, Value>) -> Map<String, Value> {
    desired
        .iter()
        .filter(|(k, v)| !same(v, current.get(*k).unwrap_or(&Value::Null)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether a desired value is what 1C holds: numbers by value (`1.50` = `1.5`, `"1"` = `1` for line
/// numbers), GUIDs by value, rows in order comparing only the columns we set.
fn same(desired: &Value, current: &Value) -> bool {
    match (desired, current) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::String(a), Value::String(b)) => {
            a == b || matches!((Guid::parse(a), Guid::parse(b)), (Ok(x), Ok(y)) if x == y)
        }
        (Value::Number(_), Value::Number(_) | Value::String(_)) | (Value::String(_), Value::Number(_)) => {
            matches!((decimal_of(desired), decimal_of(current)), (Some(a), Some(b)) if a == b)
        }
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Value::Object(a), Value::Object(b)) => a.iter().all(|(k, v)| same(v, b.get(k).unwrap_or(&Value::Null))),
        _ => false,
    }
}

fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::parse(s).ok(),
        other => serde_json::from_value(other.clone()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn comparison_is_by_value() {
        let desired = obj(json!({
            "Description": "ООО Ромашка",
            "Контрагент_Key": "1FA1A135-D89B-11E6-8343-40167E2531C3",
            "СуммаДокумента": 1500.5,
            "Товары": [{"LineNumber": "1", "Цена": 10}]
        }));
        let current = obj(json!({
            "Description": "ООО Ромашка",
            "Контрагент_Key": "1fa1a135-d89b-11e6-8343-40167e2531c3",
            "СуммаДокумента": 1500.50,
            "Товары": [{"LineNumber": 1, "Цена": 10.0, "Ref_Key": "x"}],
            "DataVersion": "AAA"
        }));
        assert!(changes(&desired, &current).is_empty());
        let mut changed = current.clone();
        changed.insert("СуммаДокумента".into(), json!(1500.51));
        changed.insert(
            "Товары".into(),
            json!([{"LineNumber": 1, "Цена": 10}, {"LineNumber": 2}]),
        );
        let c = changes(&desired, &changed);
        assert_eq!(c.keys().collect::<Vec<_>>(), vec!["СуммаДокумента", "Товары"]);
        assert!(!same(&json!("1"), &json!(true)));
        assert!(!same(&json!({"a": 1}), &json!({})));
    }

    #[test]
    fn rows_get_numbers() {
        let mut body = obj(json!({"Товары": [{"Цена": 1}, {"LineNumber": "7"}, {"Цена": 2}], "Tags": ["a"]}));
        number_rows(&mut body);
        assert_eq!(
            body["Товары"],
            json!([{"Цена": 1, "LineNumber": "1"}, {"LineNumber": "7"}, {"Цена": 2, "LineNumber": "3"}])
        );
        assert_eq!(body["Tags"], json!(["a"]));
    }

    #[test]
    fn stable_keys() {
        let c = Counterparty::company("O'Brien Ltd", "7707083893", Some("770701001"));
        assert_eq!(
            c.stable_key().unwrap().to_odata().unwrap(),
            "ИНН eq '7707083893' and КПП eq '770701001'"
        );
        assert!(Counterparty::default().stable_key().is_err());
        let mut d = SalesDocument {
            number: Some("CRM-1".into()),
            ..Default::default()
        };
        assert_eq!(d.stable_key().unwrap().to_odata().unwrap(), "Number eq 'CRM-1'");
        d.number = Some("  ".into());
        assert_eq!(d.stable_key().unwrap_err().kind(), ErrorKind::InvalidInput);
        assert!(Contract::default().stable_key().is_err());
        assert!(Item::default().stable_key().is_err());
        assert!(BankPayment::default().stable_key().is_err());
    }
}

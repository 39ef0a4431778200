//! The [`Messenger`]: one send/status/webhook API over every configured transport.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::{Stream, StreamExt};
use switchboard_core::store::Lease;
use switchboard_core::transport::WebhookHandler;
use switchboard_core::{
    Error, ErrorKind, Event, IntoTransport, Journal, JournalEntry, JournalRecord, Message, MessageId, RateLimiter,
    Receipt, StatusReport, Store, Transport, WebhookRequest,
};
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::durable::DEFAULT_LEASE;
use crate::failover::{AllFailed, Attempt};
use crate::health::{Health, HealthPolicy};
use crate::route::{Route, Strategy};

/// A webhook the Messenger verified, decoded and journaled: its events, and what to answer the provider.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HandledWebhook {
    /// The events, in the order the provider sent them.
    pub events: Vec<TransportEvent>,
    /// What to answer (status, content type, body): send it as it is.
    pub answer: switchboard_core::WebhookAnswer,
}

/// An event pushed by a provider, with the name of the transport (or webhook source) it came through.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportEvent {
    /// The registered name it came through.
    pub transport: String,
    /// The event.
    pub event: Event,
}

pub(crate) struct Entry {
    pub(crate) transport: Arc<dyn Transport>,
    limiter: Option<Arc<dyn RateLimiter>>,
    in_flight: Option<Arc<Semaphore>>,
    /// GSM-7 smart encoding by default for SMS through this transport.
    smart_encoding: bool,
}

/// Sends messages through named transports by routes, with failover, round-robin, cool-downs, rate
/// and concurrency limits, and a journal. Cheap to share: wrap it in an `Arc`.
///
/// ```
/// # async fn demo(gsm: impl switchboard::Transport + 'static, cloud: impl switchboard::Transport + 'static)
/// # -> switchboard::Result<()> {
/// use std::sync::Arc;
/// use switchboard::{Message, Messenger, MemoryJournal, PhoneNumber, Route};
///
/// let journal = Arc::new(MemoryJournal::new());
/// let messenger = Messenger::builder()
///     .transport("gsm", gsm)
///     .transport("cloud", cloud)
///     .route(Route::country(355).via(["gsm", "cloud"])) // Albania: gateway first, cloud as failover
///     .route(Route::any_phone().via(["cloud"]))
///     .journal(journal.clone())
///     .build()?;
/// let to: PhoneNumber = "+355694123456".parse()?;
/// let receipt = messenger.send(Message::sms(to, "Porosia juaj u dërgua")).await?;
/// let status = messenger.status(&receipt).await?;
/// # let _ = status; Ok(()) }
/// ```
pub struct Messenger {
    pub(crate) transports: HashMap<String, Entry>,
    order: Vec<String>,
    webhooks: HashMap<String, Arc<dyn WebhookHandler>>,
    routes: Vec<Route>,
    rr: Vec<AtomicUsize>,
    journal: Option<Arc<dyn Journal>>,
    pub(crate) store: Option<Arc<dyn Store>>,
    pub(crate) lease: Duration,
    pub(crate) owner: String,
    health: Health,
    send_all_concurrency: usize,
}

impl fmt::Debug for Messenger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messenger")
            .field("transports", &self.order)
            .field("webhook_sources", &self.webhooks.keys().collect::<Vec<_>>())
            .field("routes", &self.routes)
            .field("journal", &self.journal.is_some())
            .finish()
    }
}

/// Builds a [`Messenger`].
#[derive(Default)]
pub struct MessengerBuilder {
    transports: Vec<(String, Arc<dyn Transport>)>,
    webhooks: Vec<(String, Arc<dyn WebhookHandler>)>,
    limiters: HashMap<String, Arc<dyn RateLimiter>>,
    concurrency: HashMap<String, usize>,
    smart: HashMap<String, bool>,
    routes: Vec<Route>,
    journal: Option<Arc<dyn Journal>>,
    store: Option<Arc<dyn Store>>,
    lease: Option<Duration>,
    owner: Option<String>,
    health: HealthPolicy,
    send_all_concurrency: Option<usize>,
}

impl fmt::Debug for MessengerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessengerBuilder")
            .field(
                "transports",
                &self.transports.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl MessengerBuilder {
    /// Registers a transport under a name routes refer to: a transport by value, or one already shared
    /// (`Arc<dyn Transport>`, as [`connect`](crate::connect) hands them out).
    pub fn transport(mut self, name: impl Into<String>, transport: impl IntoTransport) -> Self {
        self.transports.push((name.into(), transport.into_transport()));
        self
    }

    /// Registers a webhook source that is not a message transport (call events, payments).
    pub fn webhook_source(mut self, name: impl Into<String>, handler: Arc<dyn WebhookHandler>) -> Self {
        self.webhooks.push((name.into(), handler));
        self
    }

    /// Adds a route; routes are tried in the order added.
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Limits the rate of requests through one transport.
    pub fn rate_limit(mut self, transport: impl Into<String>, limiter: impl RateLimiter + 'static) -> Self {
        self.limiters.insert(transport.into(), Arc::new(limiter));
        self
    }

    /// Turns GSM-7 smart encoding on (or off) for SMS through one transport: curly quotes, dashes, the
    /// ellipsis and unusual spaces become their GSM-7 look-alikes when that makes a text GSM-7, so it
    /// costs fewer parts. A message's own setting ([`Message::with_smart_encoding`]) wins.
    pub fn smart_encoding(mut self, transport: impl Into<String>, on: bool) -> Self {
        self.smart.insert(transport.into(), on);
        self
    }

    /// Limits how many sends may be in flight through one transport at once.
    pub fn max_in_flight(mut self, transport: impl Into<String>, n: usize) -> Self {
        self.concurrency.insert(transport.into(), n.max(1));
        self
    }

    /// Where every attempt and outcome is recorded.
    pub fn journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The deployment's [`Store`]: with one, a message with a [`key`](Message::with_key) is claimed
    /// before it is sent, so the same key goes out at most once across retries, restarts and every
    /// process sharing the store (see [`Messenger::send`]). It is also the journal, unless
    /// [`MessengerBuilder::journal`] names another, and transports that keep shared state in it (Dinstar's
    /// `user_id` sequence) are handed it.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// How long a claimed key is held before other processes treat its sender as gone (default 5
    /// minutes). It must be longer than a whole send with its retries and failover takes; a sender
    /// that outlives it is not harmed, but others see its key as uncertain meanwhile.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self
    }

    /// This process's name in the store's diagnostics (default: host name, process id and a random
    /// suffix).
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// When failing transports are put in cool-down.
    pub fn health(mut self, policy: HealthPolicy) -> Self {
        self.health = policy;
        self
    }

    /// How many sends [`Messenger::send_all`] keeps in flight (default 16).
    pub fn send_all_concurrency(mut self, n: usize) -> Self {
        self.send_all_concurrency = Some(n.max(1));
        self
    }

    /// Checks the configuration and builds the Messenger: names must be unique, and every route must
    /// name registered transports.
    pub fn build(self) -> switchboard_core::Result<Messenger> {
        let mut transports = HashMap::new();
        let mut order = Vec::new();
        for (name, t) in self.transports {
            if name.is_empty() {
                return Err(Error::config("a transport name must not be empty"));
            }
            let entry = Entry {
                transport: t,
                limiter: self.limiters.get(&name).cloned(),
                in_flight: self.concurrency.get(&name).map(|n| Arc::new(Semaphore::new(*n))),
                smart_encoding: self.smart.get(&name).copied().unwrap_or(false),
            };
            if transports.insert(name.clone(), entry).is_some() {
                return Err(Error::config(format!("the transport name '{name}' is used twice")));
            }
            order.push(name);
        }
        for name in self
            .limiters
            .keys()
            .chain(self.concurrency.keys())
            .chain(self.smart.keys())
        {
            if !transports.contains_key(name) {
                return Err(Error::config(format!(
                    "a limit or setting names '{name}', which is not a registered transport"
                )));
            }
        }
        for r in &self.routes {
            if r.transports.is_empty() {
                return Err(Error::config("a route must name at least one transport"));
            }
            for n in &r.transports {
                if !transports.contains_key(n) {
                    return Err(Error::config(format!(
                        "a route names '{n}', which is not a registered transport"
                    )));
                }
            }
        }
        if let Some(store) = &self.store {
            for e in transports.values() {
                e.transport.use_store(store.clone());
            }
        }
        let journal = self
            .journal
            .or_else(|| self.store.clone().map(|s| s as Arc<dyn Journal>));
        let mut webhooks = HashMap::new();
        for (name, h) in self.webhooks {
            if transports.contains_key(&name) || webhooks.insert(name.clone(), h).is_some() {
                return Err(Error::config(format!("the webhook source name '{name}' is used twice")));
            }
        }
        Ok(Messenger {
            transports,
            order,
            webhooks,
            rr: self.routes.iter().map(|_| AtomicUsize::new(0)).collect(),
            routes: self.routes,
            journal,
            store: self.store,
            health: Health::new(self.health),
            send_all_concurrency: self.send_all_concurrency.unwrap_or(16),
            lease: self.lease.unwrap_or(DEFAULT_LEASE),
            owner: self.owner.unwrap_or_else(switchboard_core::store::default_owner),
        })
    }
}

impl Messenger {
    /// Starts building a Messenger.
    pub fn builder() -> MessengerBuilder {
        MessengerBuilder::default()
    }

    /// The registered transport names, in registration order.
    pub fn transport_names(&self) -> &[String] {
        &self.order
    }

    /// The transport registered as `name`, for what the Messenger does not do itself: a dry run's
    /// [`Transport::estimate_cost`] on the transport [`Messenger::plan`] chose, or a status lookup by a
    /// bare provider id (no [`Receipt`]).
    pub fn transport(&self, name: &str) -> Option<Arc<dyn Transport>> {
        self.transports.get(name).map(|e| e.transport.clone())
    }

    /// The transports a send of `message` would try now, in order — its route, with transports in
    /// cool-down last — without sending anything or advancing a round-robin. For dry runs, and for
    /// checking a configuration:
    ///
    /// ```
    /// # use switchboard::core::testkit::StubTransport;
    /// use switchboard::{Message, Messenger, Route};
    ///
    /// let messenger = Messenger::builder()
    ///     .transport("gsm", StubTransport::sms())
    ///     .transport("cloud", StubTransport::sms())
    ///     .route(Route::country(355).via(["gsm", "cloud"]))
    ///     .route(Route::any_phone().via(["cloud"]))
    ///     .build()?;
    /// let german = Message::sms("+4915123456789".try_into()?, "Hallo");
    /// assert_eq!(messenger.plan(&german)?, ["cloud"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn plan(&self, message: &Message) -> switchboard_core::Result<Vec<String>> {
        Ok(self.order_by_health(self.route_of(message, false)?))
    }

    /// The transports to try for a message, in order, advancing its route's round-robin.
    fn candidates(&self, message: &Message) -> switchboard_core::Result<Vec<String>> {
        self.route_of(message, true)
    }

    /// The transports of the route `message` takes. With no routes configured, every transport that
    /// supports the recipient, in registration order. `advance` moves a round-robin route on.
    fn route_of(&self, message: &Message, advance: bool) -> switchboard_core::Result<Vec<String>> {
        let supports = |n: &String| {
            self.transports
                .get(n)
                .is_some_and(|e| e.transport.supports(&message.to))
        };
        if self.routes.is_empty() {
            let all: Vec<String> = self.order.iter().filter(|n| supports(n)).cloned().collect();
            if all.is_empty() {
                return Err(Error::invalid_input(format!(
                    "no transport can reach a {} recipient",
                    message.to.kind()
                )));
            }
            return Ok(all);
        }
        for (i, route) in self.routes.iter().enumerate() {
            if !route.matches(&message.to) {
                continue;
            }
            let mut names: Vec<String> = route.transports.iter().filter(|n| supports(n)).cloned().collect();
            if names.is_empty() {
                continue;
            }
            if route.strategy == Strategy::RoundRobin {
                let turn = if advance {
                    self.rr[i].fetch_add(1, Ordering::Relaxed)
                } else {
                    self.rr[i].load(Ordering::Relaxed)
                };
                let start = turn % names.len();
                names.rotate_left(start);
            }
            return Ok(names);
        }
        Err(Error::invalid_input(format!(
            "no route matches this {} recipient",
            message.to.kind()
        )))
    }

    /// Puts transports in cool-down last, unless all are cooling (then they are tried anyway: better an
    /// attempt than a certain failure).
    fn order_by_health(&self, mut names: Vec<String>) -> Vec<String> {
        names.sort_by_key(|n| self.health.is_cooling(n));
        names
    }

    async fn journal(&self, message_id: Option<&MessageId>, record: JournalRecord) -> switchboard_core::Result<()> {
        match &self.journal {
            Some(j) => j.record(JournalEntry::new(message_id.cloned(), record)).await,
            None => Ok(()),
        }
    }

    /// Sends one message by its route. On failure the error says what happened on every transport tried
    /// (see [`AllFailed`]); failover moved on only where the previous transport certainly did not send.
    pub async fn send(&self, message: Message) -> switchboard_core::Result<Receipt> {
        self.send_ref(&message).await
    }

    /// Sends through one named transport, bypassing routes (no failover).
    pub async fn send_via(&self, transport: &str, message: Message) -> switchboard_core::Result<Receipt> {
        if !self.transports.contains_key(transport) {
            return Err(Error::invalid_input(format!(
                "no transport is registered as '{transport}'"
            )));
        }
        self.send_chain(&message, vec![transport.to_owned()]).await
    }

    async fn send_ref(&self, message: &Message) -> switchboard_core::Result<Receipt> {
        let names = self.candidates(message)?;
        self.send_chain(message, self.order_by_health(names)).await
    }

    /// Sends over `names` in order; a message with a key goes through the store first.
    async fn send_chain(&self, message: &Message, names: Vec<String>) -> switchboard_core::Result<Receipt> {
        match (&message.key, &self.store) {
            (None, _) => self.attempt_chain(message, names, None).await,
            (Some(_), None) => Err(crate::durable::no_store()),
            (Some(key), Some(store)) => self.send_keyed(message, key, store, names).await,
        }
    }

    pub(crate) async fn attempt_chain(
        &self,
        message: &Message,
        names: Vec<String>,
        lease: Option<&Lease>,
    ) -> switchboard_core::Result<Receipt> {
        let mut attempts: Vec<Attempt> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let Some(entry) = self.transports.get(name) else {
                continue;
            };
            let span = tracing::info_span!(
                "switchboard.send",
                "messaging.system" = entry.transport.provider(),
                "messaging.operation.type" = "send",
                "messaging.message.id" = tracing::field::Empty,
                "error.type" = tracing::field::Empty,
                message_id = %message.id,
                transport = %name,
                attempt = i + 1,
                to = %message.to.masked(),
                outcome = tracing::field::Empty,
            );
            let result = self
                .attempt_one(name, entry, message, i as u32 + 1, lease)
                .instrument(span.clone())
                .await;
            match result {
                Ok(receipt) => {
                    span.record("outcome", "accepted");
                    span.record("messaging.message.id", receipt.provider_id());
                    return Ok(receipt);
                }
                Err(err) => {
                    span.record("outcome", err.kind().as_str());
                    span.record("error.type", switchboard_core::telemetry::error_type(err.kind()));
                    let may_fail_over = err.may_fail_over();
                    if may_fail_over && i + 1 < names.len() {
                        switchboard_core::telemetry::record_failover(name);
                    }
                    attempts.push(Attempt {
                        transport: name.clone(),
                        error: err,
                    });
                    if !may_fail_over {
                        break;
                    }
                }
            }
        }
        Err(AllFailed::into_error(attempts))
    }

    async fn attempt_one(
        &self,
        name: &str,
        entry: &Entry,
        message: &Message,
        attempt: u32,
        lease: Option<&Lease>,
    ) -> switchboard_core::Result<Receipt> {
        if let Some(l) = &entry.limiter {
            l.acquire().await;
        }
        let _permit = match &entry.in_flight {
            Some(s) => Some(
                s.acquire()
                    .await
                    .map_err(|_| Error::new(ErrorKind::Unavailable, "the Messenger is closing"))?,
            ),
            None => None,
        };
        // Written before the send: if the journal cannot record, nothing goes out.
        self.journal(
            Some(&message.id),
            JournalRecord::Attempt {
                transport: name.to_owned(),
                attempt,
                to: message.to.clone(),
            },
        )
        .await
        .map_err(journal_refused)?;
        // Noted in the store last, right before the request leaves: a crash after this point leaves the
        // key uncertain (to reconcile), before it leaves the key free for another sender.
        let prepared;
        let message = match lease {
            None => message,
            Some(lease) => {
                prepared = self
                    .note_attempt(name, entry.transport.as_ref(), message, lease)
                    .await?;
                &prepared
            }
        };
        let started = std::time::Instant::now();
        let result = entry.transport.send(&message.smart_encoded(entry.smart_encoding)).await;
        self.finish_attempt(name, entry.transport.provider(), started.elapsed(), message, result)
            .await
    }

    /// Records an attempt's outcome in the health table and the journal, and names the receipt after the
    /// registered transport.
    async fn finish_attempt(
        &self,
        name: &str,
        provider: &str,
        took: std::time::Duration,
        message: &Message,
        result: switchboard_core::Result<Receipt>,
    ) -> switchboard_core::Result<Receipt> {
        switchboard_core::telemetry::record_send(name, provider, took, result.as_ref().map(|_| ()));
        match result {
            Ok(mut receipt) => {
                receipt.transport = name.to_owned();
                self.health.record_success(name);
                tracing::info!(provider_id = receipt.provider_id(), "accepted");
                let _ = self
                    .journal(
                        Some(&message.id),
                        JournalRecord::Accepted {
                            receipt: Box::new(receipt.clone()),
                        },
                    )
                    .await
                    .map_err(|e| tracing::error!(error = %e, "the journal lost an accepted-send record"));
                Ok(receipt)
            }
            Err(err) => {
                let err = if err.provider().is_none() {
                    err.with_provider(name.to_owned())
                } else {
                    err
                };
                if err.is_retryable() && self.health.record_failure(name) {
                    tracing::warn!(transport = name, "transport put in cool-down after repeated failures");
                }
                tracing::warn!(error = %err, dispatch = %err.dispatch(), "send failed");
                let _ = self
                    .journal(Some(&message.id), JournalRecord::failed(name, &err))
                    .await
                    .map_err(|e| tracing::error!(error = %e, "the journal lost a failed-send record"));
                Err(err)
            }
        }
    }

    /// Sends many messages, using each transport's bulk API where it has one (a Dinstar gateway takes
    /// 128 recipients of one text per request). Answers one result per message, in order. Messages that
    /// certainly were not sent fail over to the route's next transport, as in [`Messenger::send`].
    pub async fn send_batch(&self, messages: &[Message]) -> Vec<switchboard_core::Result<Receipt>> {
        let mut results: Vec<Option<switchboard_core::Result<Receipt>>> = (0..messages.len()).map(|_| None).collect();
        let mut attempts: Vec<Vec<Attempt>> = (0..messages.len()).map(|_| Vec::new()).collect();
        let mut leases: Vec<Option<Lease>> = (0..messages.len()).map(|_| None).collect();
        // Group by candidate chain, so one bulk call carries every message of the same route. Keyed
        // messages are claimed first; only those this call holds are sent.
        let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            match self.candidates(m) {
                Err(e) => results[i] = Some(Err(e)),
                Ok(names) => {
                    if let Some(key) = &m.key {
                        let Some(store) = &self.store else {
                            results[i] = Some(Err(crate::durable::no_store()));
                            continue;
                        };
                        match self.claim(m, key, store).await {
                            crate::durable::Claimed::Send(lease) => leases[i] = Some(lease),
                            crate::durable::Claimed::Done(r) => {
                                results[i] = Some(r);
                                continue;
                            }
                        }
                    }
                    let names = self.order_by_health(names);
                    match groups.iter_mut().find(|(n, _)| *n == names) {
                        Some((_, idx)) => idx.push(i),
                        None => groups.push((names, vec![i])),
                    }
                }
            }
        }
        for (names, mut pending) in groups {
            for (step, name) in names.iter().enumerate() {
                if pending.is_empty() {
                    break;
                }
                let Some(entry) = self.transports.get(name) else {
                    continue;
                };
                let mut ready = Vec::new();
                let mut batch: Vec<Message> = Vec::new();
                if let Some(l) = &entry.limiter {
                    l.acquire().await;
                }
                for &i in &pending {
                    let rec = JournalRecord::Attempt {
                        transport: name.clone(),
                        attempt: step as u32 + 1,
                        to: messages[i].to.clone(),
                    };
                    if let Err(e) = self.journal(Some(&messages[i].id), rec).await {
                        results[i] = Some(Err(journal_refused(e)));
                        continue;
                    }
                    let prepared = match &leases[i] {
                        None => Ok(messages[i].clone()),
                        Some(lease) => {
                            self.note_attempt(name, entry.transport.as_ref(), &messages[i], lease)
                                .await
                        }
                    };
                    match prepared {
                        Ok(m) => {
                            ready.push(i);
                            batch.push(m.smart_encoded(entry.smart_encoding).into_owned());
                        }
                        Err(e) => results[i] = Some(Err(e)),
                    }
                }
                if ready.is_empty() {
                    break;
                }
                let span = tracing::info_span!("switchboard.send_batch", transport = %name, messages = batch.len());
                let started = std::time::Instant::now();
                let mut out = entry.transport.send_many(&batch).instrument(span).await.into_iter();
                let took = started.elapsed();
                let mut next = Vec::new();
                for &i in &ready {
                    let r = out.next().unwrap_or_else(|| {
                        Err(Error::decode("the transport answered fewer results than messages")
                            .with_dispatch(switchboard_core::Dispatch::MaybeSent))
                    });
                    match self
                        .finish_attempt(name, entry.transport.provider(), took, &messages[i], r)
                        .await
                    {
                        Ok(r) => results[i] = Some(Ok(r)),
                        Err(e) => {
                            let again = e.may_fail_over();
                            if again && step + 1 < names.len() {
                                switchboard_core::telemetry::record_failover(name);
                            }
                            attempts[i].push(Attempt {
                                transport: name.clone(),
                                error: e,
                            });
                            if again && step + 1 < names.len() {
                                next.push(i);
                            }
                        }
                    }
                }
                pending = next;
            }
        }
        let results: Vec<switchboard_core::Result<Receipt>> = results
            .into_iter()
            .zip(attempts)
            .map(|(r, a)| match r {
                Some(r) => r,
                None => Err(AllFailed::into_error(a)),
            })
            .collect();
        if let Some(store) = &self.store {
            for (lease, result) in leases.iter().zip(&results) {
                if let Some(lease) = lease {
                    self.finish(store, lease, result).await;
                }
            }
        }
        results
    }

    /// Sends a stream of messages with at most the configured number in flight (see
    /// [`MessengerBuilder::send_all_concurrency`]), yielding each message's id and result in input
    /// order. Memory stays flat however long the stream is.
    pub fn send_all<'a, S>(
        &'a self,
        messages: S,
    ) -> impl Stream<Item = (MessageId, switchboard_core::Result<Receipt>)> + 'a
    where
        S: Stream<Item = Message> + 'a,
    {
        messages
            .map(move |m| async move {
                let id = m.id.clone();
                let r = self.send_ref(&m).await;
                (id, r)
            })
            .buffered(self.send_all_concurrency)
    }

    /// Looks up where a sent message is now, through the transport that sent it; the result is journaled.
    /// A message of several provider ids (one per part) is looked up part by part; see
    /// [`StatusReport::of_parts`].
    pub async fn status(&self, receipt: &Receipt) -> switchboard_core::Result<StatusReport> {
        let entry = self.transports.get(&receipt.transport).ok_or_else(|| {
            Error::invalid_input(format!(
                "the receipt names transport '{}', which is not registered",
                receipt.transport
            ))
        })?;
        // A message the provider took as several parts has an id per part: every part is looked up,
        // and the report stands for the part furthest from delivery, with each part's own inside.
        let mut parts = Vec::with_capacity(receipt.provider_ids.len());
        for id in &receipt.provider_ids {
            parts.push(entry.transport.status(id).await?);
        }
        let report = StatusReport::of_parts(parts)
            .ok_or_else(|| Error::invalid_input("the receipt carries no provider id to look up"))?;
        let _ = self
            .journal(
                Some(&receipt.message_id),
                JournalRecord::Status {
                    transport: receipt.transport.clone(),
                    report: report.clone(),
                },
            )
            .await;
        Ok(report)
    }

    /// Verifies and decodes a webhook that arrived for the named transport or webhook source, journals
    /// what it carried, and returns the events with what to answer the provider
    /// ([`HandledWebhook::answer`]: SMS.ru wants `100`, Twilio empty TwiML, most an empty `200`).
    ///
    /// An error means the request must not be acknowledged with a 2xx; answer
    /// [`WebhookAnswer::for_error`](switchboard_core::WebhookAnswer::for_error): `401` when verification
    /// failed (`Auth`), `400` for a malformed body (`InvalidInput`), `503` when the journal could not keep
    /// an event, so the provider delivers it again.
    pub async fn handle_webhook(
        &self,
        source: &str,
        request: &WebhookRequest,
    ) -> switchboard_core::Result<HandledWebhook> {
        let result = self.handle_webhook_inner(source, request).await;
        switchboard_core::telemetry::record_webhook(source, result.as_ref().map(|_| ()));
        result
    }

    async fn handle_webhook_inner(
        &self,
        source: &str,
        request: &WebhookRequest,
    ) -> switchboard_core::Result<HandledWebhook> {
        let handled = if let Some(e) = self.transports.get(source) {
            e.transport.handle_webhook(request).await?
        } else if let Some(h) = self.webhooks.get(source) {
            h.handle_webhook(request).await?
        } else {
            return Err(Error::invalid_input(format!(
                "no transport or webhook source is registered as '{source}'"
            )));
        };
        // A webhook the journal could not keep must not be acknowledged: the error makes the host
        // answer non-2xx, and the provider delivers it again.
        for ev in &handled.events {
            if let Some(rec) = JournalRecord::from_event(source, ev) {
                self.journal(None, rec).await.map_err(|e| {
                    e.with_message("the journal refused a webhook event; answer non-2xx so the provider retries")
                        .with_dispatch(switchboard_core::Dispatch::NotSent)
                })?;
            }
        }
        Ok(HandledWebhook {
            events: handled
                .events
                .into_iter()
                .map(|event| TransportEvent {
                    transport: source.to_owned(),
                    event,
                })
                .collect(),
            answer: handled.answer,
        })
    }
}

/// The error for a send stopped because the journal could not record its attempt: nothing went out.
fn journal_refused(e: Error) -> Error {
    e.with_message("the journal refused the attempt record; nothing was sent")
        .with_dispatch(switchboard_core::Dispatch::NotSent)
}

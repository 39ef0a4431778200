//! The Messenger's durable path: a message with an idempotency key is claimed in the [`Store`] before
//! anything is sent, its attempt is noted before each request leaves, and its outcome is recorded, so
//! the same key is sent at most once by every process sharing the store.
//!
//! What a claim can answer, and what the Messenger does with it:
//!
//! | the store says | the Messenger |
//! |---|---|
//! | acquired | sends, notes each attempt first, records the outcome |
//! | accepted earlier | answers the earlier receipt with `replayed = true`; sends nothing |
//! | in flight elsewhere | refuses with a `Conflict` error whose `retry_after` is the other lease's end |
//! | uncertain | asks the transport of the last attempt to reconcile it by its reference: landed → answers that receipt; not landed → sends again; cannot tell → `NeedsDecision` |
//! | failed earlier | refuses with the earlier refusal; sends nothing |

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use switchboard_core::store::{AttemptNote, Claim, ErrorRecord, Lease, MessageKey, Outcome, Resolution};
use switchboard_core::{Dispatch, Error, ErrorKind, Message, Receipt, Reconciled, Result, Store, Transport};

use crate::messenger::Messenger;

/// How long a claimed key is held by default.
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(300);

/// How often a finished outcome is offered to a store that failed to take it.
const FINISH_ATTEMPTS: u32 = 3;

/// What a claim came to: send under this lease, or here is the answer already.
pub(crate) enum Claimed {
    Send(Lease),
    Done(Result<Receipt>),
}

impl Messenger {
    /// Sends a keyed message over `names` through the store. See the [module docs](self).
    pub(crate) async fn send_keyed(
        &self,
        message: &Message,
        key: &MessageKey,
        store: &Arc<dyn Store>,
        names: Vec<String>,
    ) -> Result<Receipt> {
        let lease = match self.claim(message, key, store).await {
            Claimed::Send(lease) => lease,
            Claimed::Done(answer) => return answer,
        };
        let result = self.attempt_chain(message, names, Some(&lease)).await;
        self.finish(store, &lease, &result).await;
        result
    }

    /// Claims `key` for `message`, reconciling an uncertain earlier attempt where the transport can.
    pub(crate) async fn claim(&self, message: &Message, key: &MessageKey, store: &Arc<dyn Store>) -> Claimed {
        let fingerprint = message.fingerprint();
        // A second round happens only after a reconciliation proved the earlier attempt did not land.
        for _ in 0..2 {
            let claim = match store.claim(key, &fingerprint, &self.owner, self.lease).await {
                Ok(c) => c,
                Err(e) => return Claimed::Done(Err(store_refused(e, "claim the key"))),
            };
            let (error, attempt) = match claim {
                Claim::Acquired(lease) => return Claimed::Send(lease),
                Claim::Accepted(receipt) => return Claimed::Done(Ok(replayed(*receipt))),
                Claim::InFlight { owner, until } => return Claimed::Done(Err(in_flight(key, &owner, until))),
                Claim::Failed(rec) => return Claimed::Done(Err(failed_before(key, &rec))),
                Claim::Uncertain { error, attempt } => (error, attempt),
                _ => {
                    return Claimed::Done(Err(Error::new(
                        ErrorKind::Unsupported,
                        "the store answered a claim this version does not know",
                    )));
                }
            };
            match self.reconcile(message, attempt.as_ref()).await {
                Reconciled::Landed(receipt) => {
                    let resolved = store
                        .resolve(key, Resolution::Accepted(receipt.clone()))
                        .await
                        .map_err(|e| store_refused(e, "record the reconciled receipt"));
                    return Claimed::Done(resolved.map(|()| replayed(*receipt)));
                }
                Reconciled::NotLanded => {
                    let why = ErrorRecord::new(
                        ErrorKind::NotFound,
                        Dispatch::NotSent,
                        "a lookup at the provider proved the earlier attempt did not land",
                    );
                    if let Err(e) = store.resolve(key, Resolution::NotSent(why)).await {
                        return Claimed::Done(Err(store_refused(e, "release the key")));
                    }
                    tracing::info!(key = %key, "the earlier attempt did not land; sending again");
                }
                _ => return Claimed::Done(Err(needs_decision(key, &error, attempt.as_ref()))),
            }
        }
        Claimed::Done(Err(needs_decision(
            key,
            &ErrorRecord::new(
                ErrorKind::NeedsDecision,
                Dispatch::MaybeSent,
                "it stayed uncertain after a reconciliation",
            ),
            None,
        )))
    }

    /// Asks the transport of the last attempt whether it landed.
    async fn reconcile(&self, message: &Message, attempt: Option<&AttemptNote>) -> Reconciled {
        let Some(attempt) = attempt else {
            return Reconciled::CannotTell;
        };
        let (Some(reference), Some(entry)) = (&attempt.reference, self.transports.get(&attempt.transport)) else {
            return Reconciled::CannotTell;
        };
        match entry.transport.reconcile(message, reference).await {
            Ok(Reconciled::Landed(mut receipt)) => {
                receipt.transport = attempt.transport.clone();
                Reconciled::Landed(receipt)
            }
            Ok(other) => other,
            Err(e) => {
                tracing::warn!(transport = %attempt.transport, error = %e, "reconciliation failed; the key stays uncertain");
                Reconciled::CannotTell
            }
        }
    }

    /// Prepares a provider reference for the attempt over `name` and notes it in the store, right before
    /// the request leaves. A store that refuses stops the attempt: nothing is sent.
    pub(crate) async fn note_attempt(
        &self,
        name: &str,
        transport: &dyn Transport,
        message: &Message,
        lease: &Lease,
    ) -> Result<Message> {
        let Some(store) = &self.store else {
            return Err(no_store());
        };
        let reference = transport.prepare(message).await.map_err(|e| {
            let msg = format!("could not prepare the send: {}", e.message());
            e.with_message(msg).with_dispatch(Dispatch::NotSent)
        })?;
        store
            .note_attempt(lease, &AttemptNote::new(name, reference.clone()))
            .await
            .map_err(|e| store_refused(e, "note the attempt"))?;
        let mut prepared = message.clone();
        prepared.reference = reference;
        Ok(prepared)
    }

    /// Records how a claimed send ended. A store that cannot take it is asked again a few times; if it
    /// still cannot, the key shows uncertain to others once its lease ends (never wrongly free).
    pub(crate) async fn finish(&self, store: &Arc<dyn Store>, lease: &Lease, result: &Result<Receipt>) {
        let outcome = match result {
            Ok(r) => Outcome::Accepted(Box::new(r.clone())),
            Err(e) => Outcome::of_error(e),
        };
        for attempt in 1..=FINISH_ATTEMPTS {
            match store.finish(lease, outcome.clone()).await {
                Ok(()) => return,
                Err(e) if e.kind() == ErrorKind::Conflict => {
                    tracing::error!(key = %lease.key, error = %e, "the store no longer lets this sender finish its key");
                    return;
                }
                Err(e) => {
                    tracing::warn!(key = %lease.key, attempt, error = %e, "the store did not take the outcome");
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                }
            }
        }
        tracing::error!(key = %lease.key, "the outcome could not be recorded; the key will show uncertain once its lease ends");
    }
}

fn replayed(mut receipt: Receipt) -> Receipt {
    receipt.replayed = true;
    receipt
}

/// The error for a keyed message on a Messenger without a store.
pub(crate) fn no_store() -> Error {
    Error::config(
        "this message has an idempotency key but the Messenger has no store; add one with \
         MessengerBuilder::store (MemoryStore in one process, the SQLite or PostgreSQL store across several)",
    )
}

fn store_refused(e: Error, what: &str) -> Error {
    let msg = format!("the store could not {what}, so nothing was sent: {}", e.message());
    e.with_message(msg).with_dispatch(Dispatch::NotSent)
}

fn in_flight(key: &MessageKey, owner: &str, until: chrono::DateTime<Utc>) -> Error {
    let wait = (until - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Error::new(
        ErrorKind::Conflict,
        format!(
            "the key '{key}' is being sent by {owner} (its claim runs until {until}); nothing was sent by this call"
        ),
    )
    .with_dispatch(Dispatch::NotSent)
    .with_retry_after(wait)
}

fn failed_before(key: &MessageKey, rec: &ErrorRecord) -> Error {
    let mut e = Error::new(
        ErrorKind::Rejected,
        format!("the key '{key}' was refused for good by an earlier attempt ({rec}); nothing was sent by this call"),
    )
    .with_dispatch(Dispatch::NotSent);
    if let Some(p) = &rec.provider {
        e = e.with_provider(p.clone());
    }
    if let Some(c) = &rec.provider_code {
        e = e.with_provider_code(c);
    }
    e
}

fn needs_decision(key: &MessageKey, rec: &ErrorRecord, attempt: Option<&AttemptNote>) -> Error {
    let over = attempt.map_or(String::new(), |a| format!(" over '{}'", a.transport));
    Error::new(
        ErrorKind::NeedsDecision,
        format!(
            "the last attempt to send key '{key}'{over} may have gone out ({rec}) and the provider cannot be asked; \
             check its records, then resolve the key with Store::resolve"
        ),
    )
    .with_dispatch(Dispatch::MaybeSent)
}

//! [`DinstarTransport`]: a gateway as a core `Transport`.

use std::collections::HashMap;
use std::sync::Arc;

use switchboard_core::{Reconciled, Store};

use async_trait::async_trait;
use serde_json::json;
use switchboard_core::{
    Capabilities, CursorStore, DeliveryStatus, Dispatch, Dsn, Error, ErrorKind, Handled, Message, Receipt, Recipient,
    Result, StatusReport, Transport, WebhookAnswer, WebhookRequest,
};

use crate::SCHEME;
use crate::client::{BatchRecipient, DinstarClient, SmsBatch};
use crate::config::DinstarConfig;
use crate::inbound::IncomingPoller;
use crate::reconcile::Finding;
use crate::webhook::{DinstarWebhook, RecordKey};

/// A Dinstar gateway as a message transport.
///
/// * `send` is one recipient; `send_many` groups messages with the same text into `send_sms`
///   requests of up to 128 recipients, so 10 000 messages take 79 requests rather than 10 000.
/// * A request whose answer was lost is reconciled by `user_id` (see
///   [`DinstarClient::send_batch_reconciled`]): what landed is reported sent, what did not is sent
///   again, so a retry never duplicates an SMS.
/// * The receipt's provider id is the `user_id`, which `status` looks up.
/// * Durable sending: `prepare` hands out the `user_id` the send will use (from the store's sequence
///   once the Messenger handed over its store, see [`UserIds`](crate::UserIds)), `send` uses the
///   message's `reference`, and `reconcile` looks it up by id, number and part count within
///   [`DinstarConfig::reconcile_window`].
/// * `handle_webhook` verifies and decodes the gateway's pushes.
#[derive(Debug, Clone)]
pub struct DinstarTransport {
    client: DinstarClient,
    /// The pushes' verification and decoding, built once from the client's configuration.
    webhook: DinstarWebhook,
}

impl DinstarTransport {
    /// A transport over a new client for `config`.
    pub fn new(config: DinstarConfig) -> Result<Self> {
        Ok(Self::with_client(DinstarClient::new(config)?))
    }

    /// A transport from a DSN (`dinstar://USER:PASS@HOST:PORT?sn=SN…`, see [`DinstarConfig::from_dsn`]).
    pub fn from_dsn(dsn: &Dsn) -> Result<Self> {
        Self::new(DinstarConfig::from_dsn(dsn)?)
    }

    /// A transport from a DSN string (`dinstar://USER:PASS@HOST:PORT[?sn=SN…]`).
    pub fn from_dsn_str(dsn: &str) -> Result<Self> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }

    /// A transport over an existing client.
    pub fn with_client(client: DinstarClient) -> Self {
        let webhook = DinstarWebhook::from_config(client.config());
        DinstarTransport { client, webhook }
    }

    /// The client, for everything beyond sending (USSD, ports, CDR, polling).
    pub fn client(&self) -> &DinstarClient {
        &self.client
    }

    /// A poller for incoming SMS that keeps its mark in `store`.
    pub fn poller(&self, store: Arc<dyn CursorStore>) -> IncomingPoller {
        self.client.incoming(store)
    }

    /// The gateway's pushes: verified and decoded without looking anything up
    /// ([`DinstarWebhook::push`] for the typed records).
    pub fn webhook(&self) -> &DinstarWebhook {
        &self.webhook
    }

    fn receipt(message: &Message, user_id: u32, accepted: &crate::client::Accepted) -> Receipt {
        Receipt::new(SCHEME, message, user_id.to_string())
            .with_status(if accepted.reconciled {
                DeliveryStatus::Accepted
            } else {
                DeliveryStatus::Queued
            })
            .with_raw(json!({
                "user_id": user_id,
                "task_id": accepted.task_id,
                "sms_in_queue": accepted.sms_in_queue,
                "sn": accepted.sn,
                "reconciled": accepted.reconciled,
            }))
    }
}

/// The `user_id` a prepared reference stands for.
fn reference_id(reference: &str) -> Result<u32> {
    reference
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|id| (1..=crate::MAX_USER_ID).contains(id))
        .ok_or_else(|| {
            Error::invalid_input("a Dinstar reference is the numeric user_id a prepare handed out")
                .with_dispatch(Dispatch::NotSent)
                .with_provider(SCHEME)
        })
}

fn unsupported(r: &Recipient) -> Error {
    Error::unsupported(format!(
        "a Dinstar gateway sends SMS to phone numbers, not to a {}",
        r.kind()
    ))
    .with_provider(SCHEME)
}

#[async_trait]
impl Transport for DinstarTransport {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn capabilities(&self) -> Capabilities {
        let c = Capabilities::sms().with_status().with_inbound();
        if self.client.config().request_status_report {
            c.with_delivery_reports()
        } else {
            c
        }
    }

    async fn send(&self, message: &Message) -> Result<Receipt> {
        self.send_many(std::slice::from_ref(message))
            .await
            .pop()
            .unwrap_or_else(|| Err(Error::new(ErrorKind::Unavailable, "nothing was sent").with_provider(SCHEME)))
    }

    async fn send_many(&self, messages: &[Message]) -> Vec<Result<Receipt>> {
        let mut out: Vec<Option<Result<Receipt>>> = (0..messages.len()).map(|_| None).collect();
        // Group by text, keeping the order of first appearance; each group is one batch.
        let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, m) in messages.iter().enumerate() {
            if m.to.phone().is_none() {
                out[i] = Some(Err(unsupported(&m.to)));
                continue;
            }
            if let Some(Err(e)) = m.reference.as_deref().map(reference_id) {
                out[i] = Some(Err(e));
                continue;
            }
            let g = *index.entry(m.text.as_str()).or_insert_with(|| {
                groups.push((m.text.as_str(), Vec::new()));
                groups.len() - 1
            });
            if let Some((_, members)) = groups.get_mut(g) {
                members.push(i);
            }
        }
        let reconcile = self.client.config().reconcile;
        for (text, members) in groups {
            let mut batch = SmsBatch::new(text);
            for i in &members {
                let Some(m) = messages.get(*i) else { continue };
                if let Some(p) = m.to.phone() {
                    let mut r = BatchRecipient::new(p.clone());
                    // A prepared send goes out under the id noted in the store before it left.
                    if let Some(Ok(id)) = m.reference.as_deref().map(reference_id) {
                        r = r.with_user_id(id);
                    }
                    batch = batch.recipient(r);
                }
            }
            let result = if reconcile {
                self.client.send_batch_reconciled(&batch).await
            } else {
                self.client.send_batch(&batch).await
            };
            match result {
                Ok(outcome) => {
                    for (i, s) in members.iter().zip(outcome.submissions) {
                        let Some(m) = messages.get(*i) else { continue };
                        out[*i] = Some(s.outcome.map(|a| Self::receipt(m, s.user_id, &a)));
                    }
                }
                Err(e) => {
                    for i in &members {
                        out[*i] = Some(Err(e.replicate()));
                    }
                }
            }
        }
        out.into_iter()
            .map(|o| {
                o.unwrap_or_else(|| {
                    Err(Error::new(ErrorKind::Unavailable, "this message was not sent")
                        .with_dispatch(Dispatch::NotSent)
                        .with_provider(SCHEME))
                })
            })
            .collect()
    }

    async fn prepare(&self, message: &Message) -> Result<Option<String>> {
        if message.to.phone().is_none() {
            return Err(unsupported(&message.to));
        }
        let ids = self.client.user_ids().take(1).await?;
        Ok(ids.first().map(u32::to_string))
    }

    async fn reconcile(&self, message: &Message, reference: &str) -> Result<Reconciled> {
        let id = reference_id(reference)?;
        let Some(number) = message.to.phone() else {
            return Err(unsupported(&message.to));
        };
        let sought = self.client.sought(id, number, &message.text);
        let found = self.client.find(std::slice::from_ref(&sought)).await?;
        Ok(match found.get(&id) {
            Some(Finding::Landed(record)) => {
                let accepted = crate::client::Accepted {
                    task_id: None,
                    sms_in_queue: None,
                    sn: self.client.sn(),
                    reconciled: true,
                };
                let receipt = Self::receipt(message, id, &accepted);
                let raw = json!({"user_id": id, "reconciled": true, "result": record});
                Reconciled::Landed(Box::new(receipt.with_raw(raw)))
            }
            Some(Finding::Absent) => Reconciled::NotLanded,
            Some(Finding::Ambiguous(_)) | None => Reconciled::CannotTell,
        })
    }

    fn use_store(&self, store: Arc<dyn Store>) {
        self.client.user_ids().use_store(store);
    }

    async fn status(&self, provider_id: &str) -> Result<StatusReport> {
        let id: u32 = provider_id.trim().parse().map_err(|_| {
            Error::invalid_input("a Dinstar provider id is the numeric user_id of the SMS").with_provider(SCHEME)
        })?;
        self.client.status(id).await
    }

    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<Handled> {
        let push = self.webhook.push(request)?;
        let keys = push.unresolved_keys();
        let mut resolved: HashMap<RecordKey, u32> = HashMap::new();
        if self.client.config().resolve_push_ids && !keys.is_empty() {
            // Best effort: a failed lookup leaves the provider id empty, the event is still delivered.
            match self.client.resolve_user_ids(&keys).await {
                Ok(ids) => {
                    for (k, id) in keys.into_iter().zip(ids) {
                        if let Some(id) = id {
                            resolved.insert(k, id);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(target: "switchboard_dinstar", error = %e, "could not look up user ids of a push")
                }
            }
        }
        let events = self.webhook.events_of(&push, |k| resolved.get(k).copied())?;
        Ok(Handled::new(events, WebhookAnswer::ok()))
    }
}

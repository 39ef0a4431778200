//! Receiving SMS by polling, without losing any (see [`IncomingPoller`]).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::FixedOffset;
use switchboard_core::{CursorStore, Error, InboundMessage, Result};

use crate::SCHEME;
use crate::client::DinstarClient;
use crate::model::{IncomingFlag, IncomingSms, IncomingSmsQuery, Port, parse_gateway_time};

/// How many `(sn, id)` pairs the poller remembers for de-duplication.
const SEEN_CAPACITY: usize = 10_000;

/// The cursor key for a gateway: `dinstar:<sn>:incoming_sms_id`.
pub fn cursor_key(sn: &str) -> String {
    format!("{SCHEME}:{sn}:incoming_sms_id")
}

/// The provider id of an incoming SMS: `"<sn>:<incoming_sms_id>"`.
pub fn inbound_id(sn: &str, incoming_sms_id: u64) -> String {
    format!("{sn}:{incoming_sms_id}")
}

/// An incoming SMS as a core [`InboundMessage`]. `to` is the port it came in on (`"port:2"`).
pub fn to_inbound(sn: &str, sms: &IncomingSms, offset: FixedOffset) -> Result<InboundMessage> {
    let received_at = sms.timestamp.as_deref().and_then(|t| parse_gateway_time(t, offset));
    let mut m = InboundMessage::new(
        inbound_id(sn, sms.incoming_sms_id),
        sms.number.clone(),
        sms.text.clone(),
    )
    .with_raw(serde_json::to_value(sms).unwrap_or_default());
    if let Some(p) = sms.port {
        m = m.with_to(format!("port:{p}"));
    }
    if let Some(at) = received_at {
        m = m.with_received_at(at);
    }
    Ok(m)
}

/// One poll's worth of messages, not yet committed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IncomingBatch {
    /// The gateway's serial number.
    pub sn: String,
    /// New messages, oldest first, duplicates removed.
    pub messages: Vec<InboundMessage>,
    /// The records as the gateway sent them.
    pub records: Vec<IncomingSms>,
    /// The mark to store once the messages are safe.
    pub high_water: u64,
}

/// Polls a gateway's incoming SMS without losing any.
///
/// The gateway's default, `flag=unread`, **marks what it returns as read**: a poller that crashes
/// between the answer and storing the messages loses them, and the next poll does not return them
/// again. [`IncomingPoller`] polls with `flag=all` (which changes nothing on the gateway) from a
/// high-water mark (`incoming_sms_id`, returned messages have a greater id) kept in the host's
/// [`CursorStore`] under a key per gateway serial number, and de-duplicates on
/// `(sn, incoming_sms_id)`, which is also the [`InboundMessage::provider_id`] (`"SN:ID"`), the same
/// for a polled message and a pushed one.
///
/// [`IncomingPoller::poll`] stores the mark as soon as the messages are returned. A host that must
/// not lose a message even if it crashes while storing them uses [`IncomingPoller::fetch`], stores
/// the messages, then [`IncomingPoller::commit`]s: after a crash it gets them again (at least once).
#[derive(Debug, Clone)]
pub struct IncomingPoller {
    client: DinstarClient,
    store: Arc<dyn CursorStore>,
    ports: Vec<Port>,
    seen: Arc<Mutex<Seen>>,
}

#[derive(Debug, Default)]
struct Seen {
    set: HashSet<(String, u64)>,
    order: VecDeque<(String, u64)>,
}

impl Seen {
    /// Records a pair; `false` when it was already there.
    fn insert(&mut self, key: (String, u64)) -> bool {
        if !self.set.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        while self.order.len() > SEEN_CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

impl IncomingPoller {
    /// A poller over `client` that keeps its mark in `store`.
    pub fn new(client: DinstarClient, store: Arc<dyn CursorStore>) -> Self {
        IncomingPoller {
            client,
            store,
            ports: Vec::new(),
            seen: Arc::default(),
        }
    }

    /// Polls only these ports.
    pub fn with_ports(mut self, ports: impl IntoIterator<Item = Port>) -> Self {
        self.ports = ports.into_iter().collect();
        self
    }

    /// The gateway serial number the cursor is kept under: configured, learned, or asked for with
    /// one cheap request (`query_sms_in_queue`).
    async fn sn(&self) -> Result<String> {
        if let Some(sn) = self.client.sn() {
            return Ok(sn);
        }
        let q = self.client.query_sms_in_queue().await?;
        q.sn.or_else(|| self.client.sn()).ok_or_else(|| {
            Error::decode("the gateway did not tell its serial number; set sn in the configuration")
                .with_provider(SCHEME)
        })
    }

    /// The stored mark (0 when none).
    pub async fn high_water(&self) -> Result<u64> {
        let sn = self.sn().await?;
        self.load(&sn).await
    }

    async fn load(&self, sn: &str) -> Result<u64> {
        match self.store.load(&cursor_key(sn)).await? {
            None => Ok(0),
            Some(v) => v.trim().parse().map_err(|_| {
                Error::config(format!(
                    "the stored incoming-SMS cursor for {sn} is not a number; fix or delete it"
                ))
                .with_provider(SCHEME)
            }),
        }
    }

    /// Fetches the messages after the stored mark without moving it.
    pub async fn fetch(&self) -> Result<IncomingBatch> {
        let sn = self.sn().await?;
        let mark = self.load(&sn).await?;
        let answer = self
            .client
            .query_incoming_sms(&IncomingSmsQuery {
                incoming_sms_id: mark,
                flag: IncomingFlag::All,
                ports: self.ports.clone(),
            })
            .await?;
        let sn = answer.sn.clone().unwrap_or(sn);
        let mut records: Vec<IncomingSms> = answer
            .sms
            .into_iter()
            // A firmware that ignored the filter must not replay old messages.
            .filter(|s| s.incoming_sms_id > mark)
            .collect();
        records.sort_by_key(|s| s.incoming_sms_id);
        let high_water = records.last().map_or(mark, |s| s.incoming_sms_id);
        let mut messages = Vec::with_capacity(records.len());
        let mut kept = Vec::with_capacity(records.len());
        {
            let mut seen = self.seen.lock().map_err(|_| {
                Error::new(
                    switchboard_core::ErrorKind::Unavailable,
                    "the poller's state is poisoned",
                )
                .with_provider(SCHEME)
            })?;
            for r in records {
                if !seen.insert((sn.clone(), r.incoming_sms_id)) {
                    continue;
                }
                messages.push(to_inbound(&sn, &r, self.client.utc_offset())?);
                kept.push(r);
            }
        }
        Ok(IncomingBatch {
            sn,
            messages,
            records: kept,
            high_water,
        })
    }

    /// Stores the batch's mark (never moves it backwards).
    pub async fn commit(&self, batch: &IncomingBatch) -> Result<()> {
        let current = self.load(&batch.sn).await?;
        if batch.high_water > current {
            self.store
                .store(&cursor_key(&batch.sn), &batch.high_water.to_string())
                .await?;
        }
        Ok(())
    }

    /// Fetches new messages and stores the mark.
    pub async fn poll(&self) -> Result<Vec<InboundMessage>> {
        let batch = self.fetch().await?;
        self.commit(&batch).await?;
        Ok(batch.messages)
    }
}

impl DinstarClient {
    /// A poller for this gateway's incoming SMS, keeping its mark in `store`.
    pub fn incoming(&self, store: Arc<dyn CursorStore>) -> IncomingPoller {
        IncomingPoller::new(self.clone(), store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seen_is_bounded_and_dedupes() {
        let mut s = Seen::default();
        assert!(s.insert(("a".into(), 1)));
        assert!(!s.insert(("a".into(), 1)));
        assert!(s.insert(("b".into(), 1)));
        for i in 0..SEEN_CAPACITY as u64 + 5 {
            s.insert(("c".into(), i));
        }
        assert_eq!(s.set.len(), SEEN_CAPACITY);
        assert!(s.insert(("a".into(), 1)), "the oldest entries are forgotten");
    }

    #[test]
    fn inbound_conversion() {
        let sms: IncomingSms = serde_json::from_value(json!({"incoming_sms_id":7,"port":2,"number":"123456789",
            "smsc":"+8613800123456","timestamp":"2014-12-09 17:11:18","text":"This is a test"}))
        .unwrap();
        let m = to_inbound("SN-1", &sms, FixedOffset::east_opt(3600).unwrap()).unwrap();
        assert_eq!(m.provider_id, "SN-1:7");
        assert_eq!(m.from, "123456789");
        assert_eq!(m.to.as_deref(), Some("port:2"));
        assert_eq!(m.received_at.unwrap().to_rfc3339(), "2014-12-09T16:11:18+00:00");
        assert_eq!(m.raw["smsc"], "+8613800123456");
        assert_eq!(cursor_key("SN-1"), "dinstar:SN-1:incoming_sms_id");
    }
}

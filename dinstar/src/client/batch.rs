//! Batches: one text to many recipients in requests of at most 128, a `user_id` each, and the
//! reconciliation of requests whose answer was lost.

use std::collections::HashMap;
use std::fmt;

use switchboard_core::{Dispatch, Error, ErrorKind, PhoneNumber, Result, Segmentation};

use super::{DinstarClient, PARAM_PLACEHOLDER, check_ports, check_text, input};
use crate::SCHEME;
use crate::model::*;
use crate::reconcile::{self, Finding, Sought};

/// How often reconciliation re-sends what the gateway did not know before giving up.
const RECONCILE_ROUNDS: usize = 2;

/// One recipient of an [`SmsBatch`].
#[derive(Clone, PartialEq, Eq)]
pub struct BatchRecipient {
    /// The number.
    pub number: PhoneNumber,
    /// Values for the text's `#param#` placeholders, in order.
    pub params: Vec<String>,
    /// A `user_id` to use (a re-send keeps its first id); `None` takes a fresh one.
    pub user_id: Option<u32>,
}

impl BatchRecipient {
    /// A recipient with no parameters and a fresh id.
    pub fn new(number: PhoneNumber) -> Self {
        BatchRecipient {
            number,
            params: Vec::new(),
            user_id: None,
        }
    }

    /// Sets the template parameters.
    pub fn with_params<S: Into<String>>(mut self, params: impl IntoIterator<Item = S>) -> Self {
        self.params = params.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the `user_id`.
    pub fn with_user_id(mut self, user_id: u32) -> Self {
        self.user_id = Some(user_id);
        self
    }
}

impl fmt::Debug for BatchRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRecipient")
            .field("number", &self.number)
            .field("params", &self.params.len())
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// One text to many recipients, split into requests of at most 128 (the gateway's limit).
///
/// ```
/// use switchboard_core::PhoneNumber;
/// use switchboard_dinstar::{SmsBatch, SmsEncoding};
///
/// let batch = SmsBatch::new("Dear #param#, your order #param# is ready")
///     .to_with_params("+355694123456".parse::<PhoneNumber>()?, ["Ana", "A-17"])
///     .to_with_params("+355694123457".parse::<PhoneNumber>()?, ["Besa", "A-18"])
///     .ports([0, 1]);
/// assert_eq!(batch.recipients().len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct SmsBatch {
    text: String,
    recipients: Vec<BatchRecipient>,
    ports: Option<Vec<Port>>,
    encoding: Option<SmsEncoding>,
    request_status_report: Option<bool>,
}

impl SmsBatch {
    /// A batch of `text` (with `#param#` placeholders, if any) and no recipients yet.
    pub fn new(text: impl Into<String>) -> Self {
        SmsBatch {
            text: text.into(),
            recipients: Vec::new(),
            ports: None,
            encoding: None,
            request_status_report: None,
        }
    }

    /// Adds a recipient.
    pub fn to(mut self, number: PhoneNumber) -> Self {
        self.recipients.push(BatchRecipient::new(number));
        self
    }

    /// Adds recipients.
    pub fn to_all(mut self, numbers: impl IntoIterator<Item = PhoneNumber>) -> Self {
        self.recipients.extend(numbers.into_iter().map(BatchRecipient::new));
        self
    }

    /// Adds a recipient with template parameters.
    pub fn to_with_params<S: Into<String>>(mut self, number: PhoneNumber, params: impl IntoIterator<Item = S>) -> Self {
        self.recipients.push(BatchRecipient::new(number).with_params(params));
        self
    }

    /// Adds a fully specified recipient.
    pub fn recipient(mut self, r: BatchRecipient) -> Self {
        self.recipients.push(r);
        self
    }

    /// Sends from these ports (instead of the configured ones).
    pub fn ports(mut self, ports: impl IntoIterator<Item = Port>) -> Self {
        self.ports = Some(ports.into_iter().collect());
        self
    }

    /// Forces an encoding (instead of choosing by the text).
    pub fn encoding(mut self, encoding: SmsEncoding) -> Self {
        self.encoding = Some(encoding);
        self
    }

    /// Asks for delivery reports, or not (instead of the configured choice).
    pub fn request_status_report(mut self, on: bool) -> Self {
        self.request_status_report = Some(on);
        self
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The recipients.
    pub fn recipients(&self) -> &[BatchRecipient] {
        &self.recipients
    }
}

impl fmt::Debug for SmsBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsBatch")
            .field("text_bytes", &self.text.len())
            .field("recipients", &self.recipients.len())
            .field("ports", &self.ports)
            .field("encoding", &self.encoding)
            .field("request_status_report", &self.request_status_report)
            .finish()
    }
}

/// What the gateway said when it took a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accepted {
    /// The task id (for [`DinstarClient::stop_sms`]); `None` when the acceptance was established by
    /// reconciliation rather than by the answer.
    pub task_id: Option<u64>,
    /// Messages waiting in the gateway's queue.
    pub sms_in_queue: Option<u64>,
    /// The gateway's serial number.
    pub sn: Option<String>,
    /// `true` when the answer was lost and `query_sms_result` showed the gateway had it.
    pub reconciled: bool,
}

/// The outcome for one recipient of a batch.
#[derive(Debug)]
#[non_exhaustive]
pub struct Submission {
    /// The `user_id` it was sent with: the key of status lookups.
    pub user_id: u32,
    /// The recipient.
    pub number: PhoneNumber,
    /// Whether the gateway took it. An error's dispatch fact says whether it may have gone out
    /// anyway (`MaybeSent` is left only when reconciliation could not tell).
    pub outcome: Result<Accepted>,
}

/// The outcome of a batch: one [`Submission`] per recipient, in the batch's order.
#[derive(Debug)]
#[non_exhaustive]
pub struct BatchOutcome {
    /// Per recipient, in order.
    pub submissions: Vec<Submission>,
    /// `send_sms` requests made (first tries and re-sends).
    pub requests: usize,
}

impl BatchOutcome {
    /// Whether every recipient was accepted.
    pub fn all_accepted(&self) -> bool {
        self.submissions.iter().all(|s| s.outcome.is_ok())
    }

    /// The ids of the accepted recipients.
    pub fn accepted_ids(&self) -> Vec<u32> {
        self.submissions
            .iter()
            .filter(|s| s.outcome.is_ok())
            .map(|s| s.user_id)
            .collect()
    }
}

/// What [`DinstarClient::reconcile`] found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reconciliation {
    /// The gateway's records of the ids it knows.
    pub landed: Vec<SmsResult>,
    /// Ids the gateway does not know: they did not land, and sending them again cannot duplicate.
    pub missing: Vec<u32>,
}

/// A batch validated and ready to send: the encoding chosen, ids allocated.
struct Plan {
    text: String,
    encoding: SmsEncoding,
    ports: Option<Vec<Port>>,
    report: bool,
    items: Vec<(PhoneNumber, SmsParam)>,
}

impl Plan {
    /// What a lookup of item `i` looks for: its id, number and its text's part count.
    fn sought(&self, i: usize) -> Option<Sought> {
        let (_, p) = self.items.get(i)?;
        let text = fill(&self.text, &p.text_param);
        Some(Sought::new(p.user_id, p.number.clone(), &text, self.encoding))
    }
}

impl DinstarClient {
    /// Sends a batch: validates it, chooses the encoding, gives each recipient a unique `user_id`,
    /// and makes one `send_sms` request per 128 recipients (or the configured batch size).
    ///
    /// Nothing is sent when the batch is invalid (no recipients, empty text, text over 1500 bytes,
    /// wrong number of template parameters, a forced GSM-7 encoding the text does not fit): that is an
    /// `InvalidInput` error. Otherwise each recipient gets its own outcome; a request that failed in a
    /// way that may have reached the gateway is `MaybeSent` — [`DinstarClient::send_batch_reconciled`]
    /// resolves those.
    pub async fn send_batch(&self, batch: &SmsBatch) -> Result<BatchOutcome> {
        let plan = self.plan(batch).await?;
        let all: Vec<usize> = (0..plan.items.len()).collect();
        let mut outcomes: Vec<Option<Result<Accepted>>> = (0..plan.items.len()).map(|_| None).collect();
        let requests = self.send_planned(&plan, &all, &mut outcomes).await;
        Ok(finish(plan, outcomes, requests))
    }

    /// [`DinstarClient::send_batch`], then, for every request whose answer was lost (timeout,
    /// dropped connection, unreadable answer, error_code 500), a lookup by `user_id`: what the
    /// gateway has is reported accepted, what it does not have is sent again with the same ids.
    /// So a retry never duplicates an SMS. What stays uncertain (the lookup itself failed) is left
    /// `MaybeSent`.
    pub async fn send_batch_reconciled(&self, batch: &SmsBatch) -> Result<BatchOutcome> {
        let plan = self.plan(batch).await?;
        let all: Vec<usize> = (0..plan.items.len()).collect();
        let mut outcomes: Vec<Option<Result<Accepted>>> = (0..plan.items.len()).map(|_| None).collect();
        let mut requests = self.send_planned(&plan, &all, &mut outcomes).await;
        for round in 0..RECONCILE_ROUNDS {
            let uncertain: Vec<usize> = outcomes
                .iter()
                .enumerate()
                .filter(|(_, o)| matches!(o, Some(Err(e)) if e.dispatch() == Dispatch::MaybeSent))
                .map(|(i, _)| i)
                .collect();
            if uncertain.is_empty() {
                break;
            }
            let sought: Vec<Sought> = uncertain.iter().filter_map(|i| plan.sought(*i)).collect();
            let found = match self.find(&sought).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(target: "switchboard_dinstar", error = %e, "reconciliation lookup failed; sends stay uncertain");
                    break;
                }
            };
            let mut missing = Vec::new();
            for i in uncertain {
                let Some((_, p)) = plan.items.get(i) else { continue };
                match found.get(&p.user_id) {
                    Some(Finding::Landed(_)) => {
                        outcomes[i] = Some(Ok(Accepted {
                            task_id: None,
                            sms_in_queue: None,
                            sn: self.sn(),
                            reconciled: true,
                        }))
                    }
                    Some(Finding::Absent) => missing.push(i),
                    // Another text under this id and number: neither sent nor safe to send again.
                    Some(Finding::Ambiguous(_)) | None => {
                        if let Some(Some(Err(e))) = outcomes.get_mut(i) {
                            let msg = format!(
                                "{}; the gateway has an SMS to this number under the same user_id {} with another \
                                 part count, so whether this one went out cannot be told",
                                e.message(),
                                p.user_id
                            );
                            *e = e.replicate().with_message(msg);
                        }
                    }
                }
            }
            if missing.is_empty() {
                break;
            }
            tracing::info!(
                target: "switchboard_dinstar",
                round, count = missing.len(),
                "the gateway does not know these ids; sending them again"
            );
            requests += self.send_planned(&plan, &missing, &mut outcomes).await;
        }
        Ok(finish(plan, outcomes, requests))
    }

    /// Looks `user_ids` up with `query_sms_result` (32 per request): which ones the gateway has
    /// (they landed) and which it does not (sending them again cannot duplicate). Any record under an
    /// id counts, whatever its number: to reconcile one message, which also checks the number and the
    /// text's part count, use [`DinstarTransport::reconcile`](crate::DinstarTransport).
    ///
    /// An id the gateway does not know is looked up again until [`DinstarConfig::reconcile_window`](crate::DinstarConfig::reconcile_window) has
    /// passed: a gateway records a task when its queue gets to it, possibly seconds after the request.
    pub async fn reconcile(&self, user_ids: &[u32]) -> Result<Reconciliation> {
        let sought: Vec<Sought> = user_ids.iter().map(|id| Sought::by_id(*id)).collect();
        let found = self.find(&sought).await?;
        let mut landed: Vec<SmsResult> = Vec::new();
        let mut missing = Vec::new();
        for id in user_ids {
            match found.get(id) {
                Some(Finding::Landed(r) | Finding::Ambiguous(r)) => landed.push(r.clone()),
                _ => missing.push(*id),
            }
        }
        Ok(Reconciliation { landed, missing })
    }

    /// What the gateway has of these SMS, looked up until found or until the reconciliation window
    /// has passed (see [`crate::reconcile`]).
    pub(crate) async fn find(&self, sought: &[Sought]) -> Result<HashMap<u32, Finding>> {
        reconcile::find(sought, self.inner.config.reconcile_window, |ids| async move {
            self.sms_results(&ids).await
        })
        .await
    }

    /// How this client writes `number` for the gateway and which encoding it sends `text` in (as a
    /// send of that text alone would choose), for looking a message up.
    pub(crate) fn sought(&self, user_id: u32, number: &PhoneNumber, text: &str) -> Sought {
        let encoding = match self.inner.config.encoding {
            Some(e) => e,
            None => SmsEncoding::for_text(text),
        };
        Sought::new(user_id, self.inner.config.number_format.format(number), text, encoding)
    }

    async fn plan(&self, batch: &SmsBatch) -> Result<Plan> {
        if batch.recipients.is_empty() {
            return Err(input("the batch has no recipients"));
        }
        check_text(&batch.text)?;
        let placeholders = batch.text.matches(PARAM_PLACEHOLDER).count();
        let mut filled_texts = Vec::with_capacity(if placeholders > 0 { batch.recipients.len() } else { 0 });
        for r in &batch.recipients {
            if r.params.len() != placeholders {
                return Err(input(format!(
                    "the text has {placeholders} {PARAM_PLACEHOLDER} placeholder(s) but a recipient has {} parameter(s)",
                    r.params.len()
                )));
            }
            if placeholders > 0 {
                let filled = fill(&batch.text, &r.params);
                if filled.len() > MAX_TEXT_BYTES {
                    return Err(input(format!(
                        "a filled-in text is {} bytes; the gateway sends at most {MAX_TEXT_BYTES}",
                        filled.len()
                    )));
                }
                filled_texts.push(filled);
            }
        }
        let forced = batch.encoding.or(self.inner.config.encoding);
        let encoding = match forced {
            Some(SmsEncoding::Gsm7Bit) => {
                for t in std::iter::once(&batch.text).chain(filled_texts.iter()) {
                    Segmentation::with_encoding(t, switchboard_core::Encoding::Gsm7)
                        .map_err(|e| input(format!("the text cannot be sent as gsm-7bit ({e}); use unicode")))?;
                }
                SmsEncoding::Gsm7Bit
            }
            Some(SmsEncoding::Unicode) => SmsEncoding::Unicode,
            None => {
                let all_gsm = std::iter::once(&batch.text)
                    .chain(filled_texts.iter())
                    .all(|t| SmsEncoding::for_text(t) == SmsEncoding::Gsm7Bit);
                if all_gsm {
                    SmsEncoding::Gsm7Bit
                } else {
                    SmsEncoding::Unicode
                }
            }
        };
        let ports = batch.ports.clone().unwrap_or_else(|| self.inner.config.ports.clone());
        check_ports(&ports)?;
        let fresh = batch.recipients.iter().filter(|r| r.user_id.is_none()).count();
        let mut fresh = if fresh > 0 {
            self.inner.ids.take(fresh).await?.into_iter()
        } else {
            Vec::new().into_iter()
        };
        let format = &self.inner.config.number_format;
        let items = batch
            .recipients
            .iter()
            .map(|r| {
                let user_id = r
                    .user_id
                    .or_else(|| fresh.next())
                    .ok_or_else(|| Error::new(ErrorKind::Unavailable, "ran out of user_ids").with_provider(SCHEME))?;
                let number = format.format(&r.number);
                Ok((
                    r.number.clone(),
                    SmsParam {
                        number,
                        text_param: r.params.clone(),
                        user_id,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Plan {
            text: batch.text.clone(),
            encoding,
            ports: (!ports.is_empty()).then_some(ports),
            report: batch
                .request_status_report
                .unwrap_or(self.inner.config.request_status_report),
            items,
        })
    }

    /// Sends the planned items at `indices`, in requests of `max_batch`, recording each outcome.
    async fn send_planned(&self, plan: &Plan, indices: &[usize], outcomes: &mut [Option<Result<Accepted>>]) -> usize {
        let mut requests = 0;
        for chunk in indices.chunks(self.inner.config.max_batch.clamp(1, MAX_RECIPIENTS_PER_SEND)) {
            let request = SendSmsRequest {
                text: plan.text.clone(),
                param: chunk
                    .iter()
                    .filter_map(|i| plan.items.get(*i))
                    .map(|(_, p)| p.clone())
                    .collect(),
                port: plan.ports.clone(),
                encoding: Some(plan.encoding),
                request_status_report: Some(plan.report),
            };
            requests += 1;
            let result = self.send_sms(&request).await;
            for i in chunk {
                if let Some(slot) = outcomes.get_mut(*i) {
                    *slot = Some(match &result {
                        Ok(r) => Ok(Accepted {
                            task_id: r.task_id,
                            sms_in_queue: r.sms_in_queue,
                            sn: r.sn.clone(),
                            reconciled: false,
                        }),
                        Err(e) => Err(e.replicate()),
                    });
                }
            }
        }
        requests
    }
}

fn finish(plan: Plan, outcomes: Vec<Option<Result<Accepted>>>, requests: usize) -> BatchOutcome {
    let submissions = plan
        .items
        .into_iter()
        .zip(outcomes)
        .map(|((number, p), o)| Submission {
            user_id: p.user_id,
            number,
            outcome: o.unwrap_or_else(|| {
                Err(Error::new(ErrorKind::Unavailable, "this recipient was not sent")
                    .with_dispatch(Dispatch::NotSent)
                    .with_provider(SCHEME))
            }),
        })
        .collect();
    BatchOutcome { submissions, requests }
}

/// Replaces each `#param#` with the next parameter.
pub(crate) fn fill(text: &str, params: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + params.iter().map(String::len).sum::<usize>());
    let mut rest = text;
    let mut params = params.iter();
    while let Some(i) = rest.find(PARAM_PLACEHOLDER) {
        out.push_str(&rest[..i]);
        out.push_str(params.next().map(String::as_str).unwrap_or(PARAM_PLACEHOLDER));
        rest = &rest[i + PARAM_PLACEHOLDER.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_in_order() {
        assert_eq!(fill("#param# and #param#", &["a".into(), "b".into()]), "a and b");
        assert_eq!(fill("no params", &[]), "no params");
        assert_eq!(fill("#param##param#", &["x".into()]), "x#param#");
    }
}

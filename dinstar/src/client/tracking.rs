//! Tracking by `user_id`: result records (32 ids per query), refined by delivery reports, and the
//! ids of pushed records that carry none.

use std::collections::HashMap;

use serde_json::json;
use switchboard_core::{Error, ErrorKind, Recipient, Result, StatusReport};

use super::{DinstarClient, digits};
use crate::SCHEME;
use crate::model::*;

impl DinstarClient {
    /// The result records of these ids (`query_sms_result`, 32 ids per request).
    pub async fn sms_results(&self, user_ids: &[u32]) -> Result<Vec<SmsResult>> {
        let mut out = Vec::new();
        for chunk in user_ids.chunks(MAX_NUMBERS_PER_QUERY) {
            let q = SmsResultQuery {
                user_id: Some(chunk.to_vec()),
                ..SmsResultQuery::default()
            };
            out.extend(self.query_sms_result(&q).await?.result);
        }
        Ok(out)
    }

    /// The delivery reports for these numbers (`query_sms_deliver_status`, 32 per request).
    pub async fn delivery_reports(&self, numbers: &[String]) -> Result<Vec<DeliverStatus>> {
        let mut out = Vec::new();
        for chunk in numbers.chunks(MAX_NUMBERS_PER_QUERY) {
            let q = DeliverStatusQuery {
                number: Some(chunk.to_vec()),
                ..DeliverStatusQuery::default()
            };
            out.extend(self.query_sms_deliver_status(&q).await?.result);
        }
        Ok(out)
    }

    /// Where each of these SMS is: its result record, refined by its delivery report when the
    /// network took it (`SENT_OK`) and reports were asked for. Ids the gateway does not know are
    /// left out. The report's `provider_id` is the `user_id`.
    pub async fn track(&self, user_ids: &[u32]) -> Result<Vec<StatusReport>> {
        let mut latest: HashMap<u32, SmsResult> = HashMap::new();
        for r in self.sms_results(user_ids).await? {
            let Some(id) = r.user_id else { continue };
            if !user_ids.contains(&id) {
                continue;
            }
            match latest.get(&id) {
                Some(prev) if prev.time > r.time => {}
                _ => {
                    latest.insert(id, r);
                }
            }
        }
        let mut reports: HashMap<(Option<Port>, Option<u32>, String), DeliverStatus> = HashMap::new();
        if self.inner.config.request_status_report {
            let mut numbers: Vec<String> = latest
                .values()
                .filter(|r| r.status == SmsStatus::SentOk)
                .map(|r| r.number.clone())
                .collect();
            numbers.sort();
            numbers.dedup();
            if !numbers.is_empty() {
                for d in self.delivery_reports(&numbers).await? {
                    let key = (d.port, d.ref_id, digits(&d.number));
                    match reports.get(&key) {
                        Some(prev) if prev.time > d.time => {}
                        _ => {
                            reports.insert(key, d);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        for id in user_ids {
            let Some(r) = latest.remove(id) else { continue };
            let report = if r.status == SmsStatus::SentOk {
                reports.get(&(r.port, r.ref_id, digits(&r.number)))
            } else {
                None
            };
            out.push(self.status_report(*id, r, report.cloned()));
        }
        Ok(out)
    }

    /// Where one SMS is, by its `user_id` ([`DinstarClient::track`] for one). `NotFound` when the
    /// gateway has no record of it.
    pub async fn status(&self, user_id: u32) -> Result<StatusReport> {
        self.track(&[user_id]).await?.pop().ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("the gateway has no SMS with user_id {user_id}"),
            )
            .with_provider(SCHEME)
        })
    }

    pub(crate) fn status_report(&self, user_id: u32, result: SmsResult, report: Option<DeliverStatus>) -> StatusReport {
        let (status, raw_status, code, time) = match &report {
            Some(d) => (
                d.delivery_status(),
                format!("{}/status_code={}", result.status, d.status_code),
                (d.status_code != 0).then_some(d.status_code),
                d.time.clone(),
            ),
            None => (
                result.status.delivery_status(),
                result.status.to_string(),
                None,
                result.time.clone(),
            ),
        };
        let mut s = StatusReport::new(user_id.to_string(), status, raw_status);
        if let Some(c) = code {
            s = s.with_error_code(c);
        }
        if let Some(n) = self.inner.config.number_format.parse(&result.number) {
            s = s.with_recipient(Recipient::Phone(n));
        }
        if let Some(t) = time.as_deref().and_then(|t| parse_gateway_time(t, self.inner.offset)) {
            s = s.with_at(t);
        }
        s.with_raw(json!({ "result": result, "deliver_status": report }))
    }

    /// The ids of pushed records that carry none, looked up by number and matched on port and
    /// `ref_id` (best effort: `None` where no record matches).
    pub(crate) async fn resolve_user_ids(
        &self,
        keys: &[(Option<Port>, Option<u32>, String)],
    ) -> Result<Vec<Option<u32>>> {
        let mut numbers: Vec<String> = keys.iter().map(|k| k.2.clone()).filter(|n| !n.is_empty()).collect();
        numbers.sort();
        numbers.dedup();
        let mut by_key: HashMap<(Option<Port>, Option<u32>, String), SmsResult> = HashMap::new();
        for chunk in numbers.chunks(MAX_NUMBERS_PER_QUERY) {
            let q = SmsResultQuery {
                number: Some(chunk.to_vec()),
                ..SmsResultQuery::default()
            };
            for r in self.query_sms_result(&q).await?.result {
                let key = (r.port, r.ref_id, digits(&r.number));
                match by_key.get(&key) {
                    Some(prev) if prev.time > r.time => {}
                    _ => {
                        by_key.insert(key, r);
                    }
                }
            }
        }
        Ok(keys
            .iter()
            .map(|(p, r, n)| by_key.get(&(*p, *r, digits(n))).and_then(|x| x.user_id))
            .collect())
    }
}

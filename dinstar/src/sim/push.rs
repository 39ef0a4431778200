//! Pushes as the gateway makes them: a JSON `POST` with the top-level `sn` and one of eight payload
//! kinds, to the URL configured on the gateway (which carries the secret as `?token=`).

use serde_json::{Value, json};
use switchboard_core::{Dispatch, Error, ErrorKind, Result, WebhookRequest};

use super::{SIM_WEBHOOK_SECRET, Simulator};

/// The push parameter the secret goes in (what [`DinstarConfig`](crate::DinstarConfig) reads by default).
const TOKEN_PARAM: &str = "token";

/// `url` carrying the simulator's push secret (unless it carries a token already), as the gateway is
/// configured with it.
pub(super) fn with_token(url: &str) -> String {
    if WebhookRequest::get(url).query_param(TOKEN_PARAM).is_some() {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{TOKEN_PARAM}={SIM_WEBHOOK_SECRET}")
}

impl Simulator {
    /// Where pushes go (include the secret: `http://host/hook?token=…`).
    pub fn set_push_url(&self, url: impl Into<String>) {
        self.lock().push_url = Some(url.into());
    }

    pub(super) async fn push_if_configured(&self, body: Value) -> Result<Option<u16>> {
        let url = self.lock().push_url.clone();
        match url {
            None => Ok(None),
            Some(_) => self.push(body).await.map(Some),
        }
    }

    /// POSTs a JSON body to the push URL; returns the receiver's HTTP status.
    pub async fn push(&self, body: Value) -> Result<u16> {
        let url = self
            .lock()
            .push_url
            .clone()
            .ok_or_else(|| Error::config("the simulator has no push URL (set_push_url)"))?;
        let (_, status) = self.push_to(&url, &body).await;
        status.ok_or_else(|| {
            Error::new(ErrorKind::Transport, "the push URL could not be reached").with_dispatch(Dispatch::MaybeSent)
        })
    }

    /// POSTs `body` to `url` as the gateway pushes, records it in [`Simulated::pushed`], and answers
    /// the request made and the receiver's status (`None` when it could not be reached).
    pub(super) async fn push_to(&self, url: &str, body: &Value) -> (WebhookRequest, Option<u16>) {
        let text = body.to_string();
        let request = WebhookRequest::post(url, text.clone()).with_header("content-type", "application/json");
        let status = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        self.lock().pushed.push(request.clone());
        (request, status)
    }

    /// Pushes one example of each of the eight payload kinds (the manual's examples with this
    /// gateway's serial number), in the manual's order. Returns how many the receiver took (2xx).
    pub async fn push_all_kinds(&self) -> Result<usize> {
        let mut ok = 0;
        for body in self.sample_pushes() {
            if (200..300).contains(&self.push(body).await?) {
                ok += 1;
            }
        }
        Ok(ok)
    }

    /// The manual's example of each payload kind, with this gateway's `sn`.
    pub fn sample_pushes(&self) -> Vec<Value> {
        let sn = self.sn();
        vec![
            json!({"sn": sn, "sms": [{"incoming_sms_id": 1, "port": 1, "number": "6717", "smsc": "+8613800757511",
                "timestamp": "2016-07-12 15:46:18", "text": "test"}]}),
            json!({"sn": sn, "sms_result": [{"port": 1, "number": "10086", "time": "2016-07-12 01:46:02",
                "status": "DELIVERED", "count": 1, "succ_count": 1, "ref_id": 215, "imsi": "460004642148063"}]}),
            json!({"sn": sn, "sms_deliver_status": [{"port": 1, "number": "10086", "time": "2016-07-12 15:46:53",
                "ref_id": 215, "status_code": 0, "imsi": "460004642148063"}]}),
            json!({"sn": sn, "ussd": [{"port": 1, "text": "Thank you!"}]}),
            json!({"sn": sn, "register": [{"port": 8, "iccid": "89860040191844710023", "imsi": "460004642148063",
                "number": "13714637674", "status": "up", "sequence": 2, "slot": 2}]}),
            json!({"sn": sn, "cdr": [{"port": 2, "start_date": "2016-07-12 15:40:00", "answer_date": "2016-07-12 15:40:05",
                "duration": 42, "source_number": "10086", "destination_number": "800", "direction": "gsm->ip",
                "ip": "172.18.55.10", "codec": "G.711A", "hangup": "calling", "gsm_code": 16, "bcch": "37"}]}),
            json!({"sn": sn, "device": {"port_number": 32, "IP": "172.18.55.142", "MAC": "F8-A0-3D-48-E5-19",
                "status": "power_off"}}),
            json!({"sn": sn, "exception_info": {"port": 0, "type": "call_fail", "action": "reset"}}),
        ]
    }
}

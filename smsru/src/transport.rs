//! [`SmsRuTransport`]: SMS.ru as a switchboard [`Transport`].
//!
//! `send_many` packs messages into as few `sms/send` requests as SMS.ru allows: messages with the same
//! sender go together, up to [`MAX_RECIPIENTS_PER_REQUEST`] numbers a request, each number at most once
//! per request (SMS.ru keys its reply by number). A request whose messages share one text goes as
//! `to=N1,N2&msg=TEXT`; otherwise as `to[N1]=TEXT1&to[N2]=TEXT2`. Each message still gets its own
//! result: SMS.ru answers per number.
//!
//! A request that fails as a whole fails every message in it with the same facts (kind, dispatch): a
//! timeout leaves all of them `MaybeSent`, and none is repeated blindly.

use serde_json::json;
use switchboard_core::{
    Capabilities, DeliveryStatus, Dispatch, Dsn, Error, ErrorKind, Handled, Message, PhoneNumber, Price, Receipt,
    Result, StatusReport, Transport, Webhook, WebhookRequest, async_trait,
};

use crate::SCHEME;
use crate::client::SmsRuClient;
use crate::config::SmsRuConfig;
use crate::error::{delivery_status, refusal};
use crate::model::{MAX_RECIPIENTS_PER_REQUEST, SendRequest};
use crate::webhook::SmsRuWebhook;

/// SMS.ru as a message transport. Build it from an [`SmsRuConfig`] or a DSN
/// (`smsru://API_ID@default?from=NAME&webhook_secret=S`).
#[derive(Debug, Clone)]
pub struct SmsRuTransport {
    client: SmsRuClient,
    webhook: SmsRuWebhook,
}

/// Messages that go out in one `sms/send` request.
struct Batch<'a> {
    from: Option<&'a str>,
    /// (index in the caller's slice, number, message)
    items: Vec<(usize, &'a PhoneNumber, &'a Message)>,
}

impl Batch<'_> {
    fn request(&self) -> SendRequest {
        let first = self.items.first().map(|(_, _, m)| m.text.as_str()).unwrap_or_default();
        let same_text = self.items.iter().all(|(_, _, m)| m.text == first);
        let r = if same_text {
            SendRequest::to_many(self.items.iter().map(|(_, p, _)| (*p).clone()), first)
        } else {
            SendRequest::per_recipient(self.items.iter().map(|(_, p, m)| ((*p).clone(), m.text.clone())))
        };
        match self.from {
            Some(f) => r.from(f),
            None => r,
        }
    }
}

impl SmsRuTransport {
    /// A transport for this configuration.
    pub fn new(config: SmsRuConfig) -> Result<Self> {
        let webhook = SmsRuWebhook::from_config(&config);
        Ok(SmsRuTransport {
            client: SmsRuClient::new(config)?,
            webhook,
        })
    }

    /// A transport from an `smsru://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<Self> {
        Self::new(SmsRuConfig::from_dsn(dsn)?)
    }

    /// A transport from a DSN string.
    pub fn from_dsn_str(dsn: &str) -> Result<Self> {
        Self::from_dsn(&Dsn::parse(dsn)?)
    }

    /// The underlying API client, for the operations the `Transport` trait does not cover (cost,
    /// balance, callbacks).
    pub fn client(&self) -> &SmsRuClient {
        &self.client
    }

    /// The delivery callbacks' verification and decoding.
    pub fn webhook(&self) -> &SmsRuWebhook {
        &self.webhook
    }

    /// Groups messages into requests (see the [module docs](self)); messages that cannot go to SMS.ru
    /// at all get their error right away.
    fn plan<'a>(messages: &'a [Message], out: &mut [Option<Result<Receipt>>]) -> Vec<Batch<'a>> {
        let mut batches: Vec<Batch<'a>> = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let Some(phone) = m.to.phone() else {
                out[i] = Some(Err(Error::invalid_input(format!(
                    "SMS.ru sends to phone numbers, not to a {}",
                    m.to.kind()
                ))
                .with_provider(SCHEME)));
                continue;
            };
            if m.text.trim().is_empty() {
                out[i] = Some(Err(Error::invalid_input("the SMS text is empty").with_provider(SCHEME)));
                continue;
            }
            let from = m.from.as_deref();
            let open = batches.iter_mut().find(|b| {
                b.from == from
                    && b.items.len() < MAX_RECIPIENTS_PER_REQUEST
                    && !b.items.iter().any(|(_, p, _)| *p == phone)
            });
            match open {
                Some(b) => b.items.push((i, phone, m)),
                None => batches.push(Batch {
                    from,
                    items: vec![(i, phone, m)],
                }),
            }
        }
        batches
    }

    async fn send_batch(&self, batch: &Batch<'_>, out: &mut [Option<Result<Receipt>>]) {
        match self.client.send(&batch.request()).await {
            Err(e) => {
                for (i, _, _) in &batch.items {
                    out[*i] = Some(Err(e.replicate()));
                }
            }
            Ok(reply) => {
                for (i, phone, m) in &batch.items {
                    let result = match reply.result_for(phone) {
                        Some(r) if r.is_ok() => {
                            let id = r.sms_id.clone().unwrap_or_default();
                            let raw = json!({ "sms": r, "balance": reply.balance });
                            Ok(Receipt::new(SCHEME, m, id)
                                .with_status(delivery_status(r.status_code))
                                .with_raw(raw))
                        }
                        Some(r) => Err(r
                            .error()
                            .unwrap_or_else(|| refusal(r.status_code, r.status_text.as_deref(), "this number"))),
                        None => Err(Error::decode(
                            "SMS.ru accepted the request but its answer does not mention this number; check the \
                             message status before sending again",
                        )
                        .with_dispatch(Dispatch::MaybeSent)
                        .with_provider(SCHEME)),
                    };
                    out[*i] = Some(result);
                }
            }
        }
    }
}

#[async_trait]
impl Transport for SmsRuTransport {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::sms().with_status().with_delivery_reports()
    }

    async fn send(&self, message: &Message) -> Result<Receipt> {
        self.send_many(std::slice::from_ref(message))
            .await
            .pop()
            .unwrap_or_else(|| Err(Error::invalid_input("nothing to send").with_provider(SCHEME)))
    }

    async fn send_many(&self, messages: &[Message]) -> Vec<Result<Receipt>> {
        let mut out: Vec<Option<Result<Receipt>>> = (0..messages.len()).map(|_| None).collect();
        let batches = Self::plan(messages, &mut out);
        for b in &batches {
            self.send_batch(b, &mut out).await;
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::new(ErrorKind::Unavailable, "the message was not attempted")
                        .with_dispatch(Dispatch::NotSent)
                        .with_provider(SCHEME))
                })
            })
            .collect()
    }

    /// `sms/cost` for the message's number and text: nothing is sent or charged.
    async fn estimate_cost(&self, message: &Message) -> Result<Option<switchboard_core::Price>> {
        let Some(to) = message.to.phone() else {
            return Ok(None);
        };
        let mut request = SendRequest::single(to.clone(), message.text.clone());
        if let Some(from) = &message.from {
            request = request.from(from);
        }
        let reply = self.client.cost(&request).await?;
        let total = reply
            .total_cost
            .as_ref()
            .or_else(|| reply.cost_for(to).and_then(|c| c.cost.as_ref()));
        match total {
            // SMS.ru prices in roubles.
            Some(amount) => switchboard_core::Price::new(amount.as_str(), "RUB")
                .map(Some)
                .map_err(|e| e.with_provider(SCHEME)),
            None => Ok(None),
        }
    }

    async fn status(&self, provider_id: &str) -> Result<StatusReport> {
        let reply = self.client.status(&[provider_id]).await?;
        let entry = reply
            .sms
            .get(provider_id)
            .or_else(|| (reply.sms.len() == 1).then(|| reply.sms.values().next()).flatten())
            .filter(|s| s.is_found())
            .ok_or_else(|| {
                Error::new(ErrorKind::NotFound, "SMS.ru does not know this message id")
                    .with_dispatch(Dispatch::Sent)
                    .with_provider(SCHEME)
                    .with_provider_code(-1)
            })?;
        let status = entry.delivery_status();
        let mut report = StatusReport::new(provider_id, status, entry.status_code.to_string())
            .with_raw(serde_json::to_value(entry).unwrap_or_default());
        if status.is_failure() || status == DeliveryStatus::Unknown {
            report = report.with_error_code(entry.status_code);
            if let Some(text) = entry.status_text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                report = report.with_error_message(switchboard_core::secret::scrub_numbers(text));
            }
        }
        // SMS.ru's `cost` is in roubles (sms/status, https://sms.ru/api/status).
        if let Some(price) = entry.cost.as_ref().and_then(|c| Price::new(c.as_str(), "RUB").ok()) {
            report = report.with_price(price);
        }
        Ok(report)
    }

    async fn handle_webhook(&self, request: &WebhookRequest) -> Result<Handled> {
        self.webhook.handle(request).await
    }
}

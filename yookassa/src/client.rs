//! The YooKassa API v3 client: one method per operation, wire types in and out.
//!
//! Every POST carries an `Idempotence-Key`, and every call goes through the request pipeline as an
//! idempotent operation: GETs are reads, and a POST repeated with its key is answered with the first
//! result. That is exactly what YooKassa asks for when it answers HTTP 500 ("no definite answer"):
//! repeat with the same key. The key is made once per call, so every retry carries the same one.

use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::pipeline::Pipeline;
use switchboard_core::{Dsn, Error, Idempotence, Result};
use switchboard_payments::IdempotencyKey;
use switchboard_payments::gateway::check_id;
use switchboard_payments::outcome::{post_failed, post_unusable, read_but_unusable};

use crate::SCHEME;
use crate::api::YooKassaApi;
use crate::config::YooKassaConfig;
use crate::model::{CaptureRequest, CreatePaymentRequest, CreateRefundRequest, List, ListQuery, Payment, Refund};

/// The header YooKassa reads the idempotency key from.
pub const IDEMPOTENCE_KEY_HEADER: &str = "Idempotence-Key";

/// A YooKassa client for one shop. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct YooKassaClient {
    config: YooKassaConfig,
    pipeline: std::sync::Arc<Pipeline<YooKassaApi>>,
}

impl std::fmt::Debug for YooKassaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YooKassaClient")
            .field("shop_id", &self.config.shop_id)
            .field("endpoint", &switchboard_core::secret::redact_url(&self.config.endpoint))
            .finish_non_exhaustive()
    }
}

impl YooKassaClient {
    /// A client for this configuration.
    pub fn new(config: YooKassaConfig) -> Result<YooKassaClient> {
        config.validate()?;
        let pipeline = Pipeline::new(YooKassaApi::new(&config), &config.http_options(), config.retry.clone())?;
        Ok(YooKassaClient {
            config,
            pipeline: std::sync::Arc::new(pipeline),
        })
    }

    /// A client from a `yookassa://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<YooKassaClient> {
        YooKassaClient::new(YooKassaConfig::from_dsn(dsn)?)
    }

    /// The configuration.
    pub fn config(&self) -> &YooKassaConfig {
        &self.config
    }

    /// `POST /v3/payments`.
    pub async fn create_payment(&self, request: &CreatePaymentRequest, key: &IdempotencyKey) -> Result<Payment> {
        self.post("/v3/payments", request, key).await
    }

    /// `GET /v3/payments/{id}`.
    pub async fn get_payment(&self, payment_id: &str) -> Result<Payment> {
        let id = check_id("payment", payment_id)?;
        self.get(&format!("/v3/payments/{id}"), &[]).await
    }

    /// `GET /v3/payments` (one page).
    pub async fn list_payments(&self, query: &ListQuery) -> Result<List<Payment>> {
        self.get("/v3/payments", &query.pairs()).await
    }

    /// `POST /v3/payments/{id}/capture`: all of a held payment, or `request.amount` of it.
    pub async fn capture_payment(
        &self,
        payment_id: &str,
        request: &CaptureRequest,
        key: &IdempotencyKey,
    ) -> Result<Payment> {
        let id = check_id("payment", payment_id)?;
        self.post(&format!("/v3/payments/{id}/capture"), request, key).await
    }

    /// `POST /v3/payments/{id}/cancel` (only from `waiting_for_capture`).
    pub async fn cancel_payment(&self, payment_id: &str, key: &IdempotencyKey) -> Result<Payment> {
        let id = check_id("payment", payment_id)?;
        self.post(&format!("/v3/payments/{id}/cancel"), &serde_json::json!({}), key)
            .await
    }

    /// `POST /v3/refunds`.
    pub async fn create_refund(&self, request: &CreateRefundRequest, key: &IdempotencyKey) -> Result<Refund> {
        check_id("payment", &request.payment_id)?;
        self.post("/v3/refunds", request, key).await
    }

    /// `GET /v3/refunds/{id}`.
    pub async fn get_refund(&self, refund_id: &str) -> Result<Refund> {
        let id = check_id("refund", refund_id)?;
        self.get(&format!("/v3/refunds/{id}"), &[]).await
    }

    /// `GET /v3/refunds` (one page; filter with [`ListQuery::payment_id`]).
    pub async fn list_refunds(&self, query: &ListQuery) -> Result<List<Refund>> {
        self.get("/v3/refunds", &query.pairs()).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&'static str, String)]) -> Result<T> {
        let url = self.url(path);
        tracing::debug!(provider = SCHEME, method = "GET", path, "request");
        let reply = self
            .pipeline
            .reply(Idempotence::Idempotent, |http| {
                let rb = http.get(&url);
                if query.is_empty() { rb } else { rb.query(query) }
            })
            .await
            .inspect_err(|e| tracing::debug!(provider = SCHEME, path, error = %e, "request failed"))?;
        // YooKassa answered; an answer that does not decode changes nothing, so the error says so and
        // never "not sent".
        self.pipeline
            .decode(&reply)
            .map_err(|e| read_but_unusable(e, SCHEME, &format!("YooKassa's GET {path}")))
    }

    async fn post<T: DeserializeOwned, B: Serialize>(&self, path: &str, body: &B, key: &IdempotencyKey) -> Result<T> {
        let body = serde_json::to_vec(body)
            .map_err(|e| Error::invalid_input("the request could not be encoded as JSON").with_source(e))?;
        let url = self.url(path);
        tracing::debug!(provider = SCHEME, method = "POST", path, key = key.as_str(), "request");
        // Every attempt carries the same key, which makes a repeat answer the first result: the
        // whole call is idempotent.
        let reply = self
            .pipeline
            .reply(Idempotence::Idempotent, |http| {
                http.post(&url)
                    .header(IDEMPOTENCE_KEY_HEADER, key.as_str())
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await
            .map_err(|e| post_failed(e, "YooKassa", SCHEME, path, key))
            .inspect_err(|e| tracing::debug!(provider = SCHEME, path, error = %e, "request failed"))?;
        // YooKassa acted; an answer that does not decode changes nothing, so the error says so and
        // never "not sent".
        self.pipeline
            .decode(&reply)
            .map_err(|e| post_unusable(e, "YooKassa", SCHEME, path, &reply, key))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.endpoint)
    }
}

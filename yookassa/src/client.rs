//! The YooKassa API v3 client: one method per operation, wire types in and out.
//!
//! Every POST carries an `Idempotence-Key`, and every call runs under the configured
//! [`RetryPolicy`](switchboard_core::RetryPolicy) as an idempotent operation: GETs are reads, and a
//! POST repeated with its key is answered with the first result. That is exactly what YooKassa asks
//! for when it answers HTTP 500 ("no definite answer"): repeat with the same key.

use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::http::Reply;
use switchboard_core::{Dsn, Error, ExposeSecret, Idempotence, Result};

use super::SCHEME;
use super::config::Config;
use super::error::{from_reply, processing};
use super::model::{CaptureRequest, CreatePaymentRequest, CreateRefundRequest, List, ListQuery, Payment, Refund};
use crate::gateway::check_id;
use crate::idempotency::{IdempotencyKey, note_key};
use crate::outcome::{acted_but_unusable, answer_id, read_but_unusable};

/// The header YooKassa reads the idempotency key from.
pub const IDEMPOTENCE_KEY_HEADER: &str = "Idempotence-Key";

/// A YooKassa client for one shop. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct Client {
    config: Config,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("yookassa::Client")
            .field("shop_id", &self.config.shop_id)
            .field("endpoint", &self.config.endpoint)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for this configuration.
    pub fn new(config: Config) -> Result<Client> {
        config.validate()?;
        let http = config.http_options().build_client()?;
        Ok(Client { config, http })
    }

    /// A client from a `yookassa://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<Client> {
        Client::new(Config::from_dsn(dsn)?)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
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
        self.call(Method::GET, path, query, None, None).await
    }

    async fn post<T: DeserializeOwned, B: Serialize>(&self, path: &str, body: &B, key: &IdempotencyKey) -> Result<T> {
        let body = serde_json::to_vec(body)
            .map_err(|e| Error::invalid_input("the request could not be encoded as JSON").with_source(e))?;
        self.call(Method::POST, path, &[], Some(body), Some(key))
            .await
            .map_err(|e| note_key(e, key))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&'static str, String)],
        body: Option<Vec<u8>>,
        key: Option<&IdempotencyKey>,
    ) -> Result<T> {
        let url = format!("{}{path}", self.config.endpoint);
        let max_body = switchboard_core::http::DEFAULT_MAX_BODY;
        tracing::debug!(provider = SCHEME, %method, path, key = key.map(IdempotencyKey::as_str), "request");
        // Reads are safe to repeat; every POST carries its key, which makes the repeat answer the
        // first result. So the whole call is idempotent.
        let result = self
            .config
            .retry
            .run(Idempotence::Idempotent, || async {
                let mut rb = self
                    .http
                    .request(method.clone(), &url)
                    .basic_auth(&self.config.shop_id, Some(self.config.secret_key.expose_secret()))
                    .header(http::header::ACCEPT, "application/json");
                if !query.is_empty() {
                    rb = rb.query(query);
                }
                if let Some(k) = key {
                    rb = rb.header(IDEMPOTENCE_KEY_HEADER, k.as_str());
                }
                if let Some(b) = &body {
                    rb = rb
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(b.clone());
                }
                let reply = Reply::send(rb, max_body)
                    .await
                    .map_err(|e| too_large_after_acting(e.with_provider(SCHEME), &method, path, key))?;
                if !reply.is_success() {
                    return Err(from_reply(&reply));
                }
                if let Some(e) = processing(&reply) {
                    return Err(e);
                }
                // YooKassa acted (a POST) or answered (a GET); an answer that does not decode changes
                // neither, so the error says so and never "not sent". It is returned as the final
                // answer: repeating would get the same stored answer.
                reply.json::<T>().map_err(|e| {
                    let e = e.with_provider(SCHEME);
                    let done = format!("YooKassa carried out {method} {path} (HTTP {})", reply.status.as_u16());
                    match key {
                        Some(k) => acted_but_unusable(e, SCHEME, &done, answer_id(&reply).as_deref(), Some(k)),
                        None => read_but_unusable(e, SCHEME, &format!("YooKassa's {method} {path}")),
                    }
                })
            })
            .await;
        if let Err(e) = &result {
            tracing::debug!(provider = SCHEME, path, error = %e, "request failed");
        }
        result
    }
}

/// A 2xx answer to a POST that could not even be read (larger than the body cap): YooKassa acted, so
/// the error says so, as for an answer that does not decode.
fn too_large_after_acting(e: Error, method: &Method, path: &str, key: Option<&IdempotencyKey>) -> Error {
    match (key, e.http_status()) {
        (Some(k), Some(s)) if (200..300).contains(&s) && e.kind() == switchboard_core::ErrorKind::Decode => {
            let done = format!("YooKassa carried out {method} {path} (HTTP {s})");
            acted_but_unusable(e, SCHEME, &done, None, Some(k))
        }
        _ => e,
    }
}

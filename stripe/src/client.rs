//! The Stripe client: one method per operation, form-encoded requests, JSON answers.
//!
//! Every POST carries an `Idempotency-Key` and every call goes through the request pipeline as an
//! idempotent operation (Stripe answers a repeated key with the saved first answer); the key is made
//! once per call, so every retry carries the same one. When Stripe says `Stripe-Should-Retry: false` —
//! as it does for a 500 it has saved under the key, which a repeat would only replay — the error is
//! returned at once.
//!
//! Every request carries the configured `Stripe-Version` ([`DEFAULT_STRIPE_VERSION`] unless set), so
//! the shapes read here do not depend on the account's default version.
//!
//! [`DEFAULT_STRIPE_VERSION`]: crate::config::DEFAULT_STRIPE_VERSION

use std::sync::Arc;

use serde::de::DeserializeOwned;
use switchboard_core::http::Reply;
use switchboard_core::pipeline::Pipeline;
use switchboard_core::{Dsn, Error, Idempotence, Result};
use switchboard_payments::IdempotencyKey;
use switchboard_payments::gateway::check_id;
use switchboard_payments::outcome::{post_failed, post_unusable, read_but_unusable};

use crate::SCHEME;
use crate::api::StripeApi;
use crate::config::StripeConfig;
use crate::error::parse_error;
use crate::form::Form;
use crate::model::{
    Charge, CheckoutSession, CheckoutSessionCreate, Event, List, PaymentIntent, PaymentIntentCreate, Refund,
    RefundCreate,
};

/// The header Stripe reads the idempotency key from.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// A Stripe client for one account. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct StripeClient {
    config: StripeConfig,
    pipeline: Arc<Pipeline<StripeApi>>,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeClient")
            .field("endpoint", &switchboard_core::secret::redact_url(&self.config.endpoint))
            .finish_non_exhaustive()
    }
}

/// Query of `GET /v1/refunds`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundList {
    /// Refunds of this PaymentIntent only.
    pub payment_intent: Option<String>,
    /// Refunds of this charge only.
    pub charge: Option<String>,
    /// Page size (1–100).
    pub limit: Option<u32>,
    /// The last id of the previous page.
    pub starting_after: Option<String>,
}

impl RefundList {
    /// Refunds of one PaymentIntent.
    pub fn of_payment_intent(id: impl Into<String>) -> Self {
        RefundList {
            payment_intent: Some(id.into()),
            ..Self::default()
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(p) = &self.payment_intent {
            q.push(("payment_intent", p.clone()));
        }
        if let Some(c) = &self.charge {
            q.push(("charge", c.clone()));
        }
        if let Some(l) = self.limit {
            q.push(("limit", l.clamp(1, 100).to_string()));
        }
        if let Some(s) = &self.starting_after {
            q.push(("starting_after", s.clone()));
        }
        q
    }
}

impl StripeClient {
    /// A client for this configuration.
    pub fn new(config: StripeConfig) -> Result<StripeClient> {
        config.validate()?;
        let pipeline = Pipeline::new(StripeApi::new(&config), &config.http_options(), config.retry.clone())?;
        Ok(StripeClient {
            config,
            pipeline: Arc::new(pipeline),
        })
    }

    /// A client from a `stripe://` DSN.
    pub fn from_dsn(dsn: &Dsn) -> Result<StripeClient> {
        StripeClient::new(StripeConfig::from_dsn(dsn)?)
    }

    /// The configuration.
    pub fn config(&self) -> &StripeConfig {
        &self.config
    }

    /// `POST /v1/payment_intents`.
    pub async fn create_payment_intent(
        &self,
        params: &PaymentIntentCreate,
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent> {
        self.post("/v1/payment_intents", &params.to_form(), key).await
    }

    /// `GET /v1/payment_intents/{id}`, with `expand[]` fields.
    pub async fn retrieve_payment_intent(&self, id: &str, expand: &[&str]) -> Result<PaymentIntent> {
        let id = check_id("PaymentIntent", id)?;
        self.get(&format!("/v1/payment_intents/{id}"), &expand_pairs(expand))
            .await
    }

    /// `POST /v1/payment_intents/{id}/confirm`, optionally with a payment method.
    pub async fn confirm_payment_intent(
        &self,
        id: &str,
        payment_method: Option<&str>,
        expand: &[&str],
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent> {
        let id = check_id("PaymentIntent", id)?;
        let mut f = Form::new();
        f.push_opt("payment_method", payment_method);
        push_expand(&mut f, expand);
        self.post(&format!("/v1/payment_intents/{id}/confirm"), &f, key).await
    }

    /// `POST /v1/payment_intents/{id}/capture`: all that is capturable, or `amount_to_capture`.
    pub async fn capture_payment_intent(
        &self,
        id: &str,
        amount_to_capture: Option<i64>,
        expand: &[&str],
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent> {
        let id = check_id("PaymentIntent", id)?;
        let mut f = Form::new();
        f.push_opt("amount_to_capture", amount_to_capture);
        push_expand(&mut f, expand);
        self.post(&format!("/v1/payment_intents/{id}/capture"), &f, key).await
    }

    /// `POST /v1/payment_intents/{id}/cancel`.
    pub async fn cancel_payment_intent(
        &self,
        id: &str,
        cancellation_reason: Option<&str>,
        expand: &[&str],
        key: &IdempotencyKey,
    ) -> Result<PaymentIntent> {
        let id = check_id("PaymentIntent", id)?;
        let mut f = Form::new();
        f.push_opt("cancellation_reason", cancellation_reason);
        push_expand(&mut f, expand);
        self.post(&format!("/v1/payment_intents/{id}/cancel"), &f, key).await
    }

    /// `POST /v1/checkout/sessions`.
    pub async fn create_checkout_session(
        &self,
        params: &CheckoutSessionCreate,
        key: &IdempotencyKey,
    ) -> Result<CheckoutSession> {
        self.post("/v1/checkout/sessions", &params.to_form(), key).await
    }

    /// `GET /v1/checkout/sessions/{id}`, with `expand[]` fields (`payment_intent`,
    /// `payment_intent.latest_charge`).
    pub async fn retrieve_checkout_session(&self, id: &str, expand: &[&str]) -> Result<CheckoutSession> {
        let id = check_id("Checkout Session", id)?;
        self.get(&format!("/v1/checkout/sessions/{id}"), &expand_pairs(expand))
            .await
    }

    /// `POST /v1/checkout/sessions/{id}/expire` (only an open session).
    pub async fn expire_checkout_session(&self, id: &str, key: &IdempotencyKey) -> Result<CheckoutSession> {
        let id = check_id("Checkout Session", id)?;
        self.post(&format!("/v1/checkout/sessions/{id}/expire"), &Form::new(), key)
            .await
    }

    /// `GET /v1/charges/{id}`.
    pub async fn retrieve_charge(&self, id: &str) -> Result<Charge> {
        let id = check_id("charge", id)?;
        self.get(&format!("/v1/charges/{id}"), &[]).await
    }

    /// `POST /v1/refunds`.
    pub async fn create_refund(&self, params: &RefundCreate, key: &IdempotencyKey) -> Result<Refund> {
        self.post("/v1/refunds", &params.to_form(), key).await
    }

    /// `GET /v1/refunds/{id}`.
    pub async fn retrieve_refund(&self, id: &str) -> Result<Refund> {
        let id = check_id("refund", id)?;
        self.get(&format!("/v1/refunds/{id}"), &[]).await
    }

    /// `GET /v1/refunds` (one page, newest first).
    pub async fn list_refunds(&self, query: &RefundList) -> Result<List<Refund>> {
        self.get("/v1/refunds", &query.pairs()).await
    }

    /// `GET /v1/events/{id}` (to double-check an event out of band).
    pub async fn retrieve_event(&self, id: &str) -> Result<Event> {
        let id = check_id("event", id)?;
        self.get(&format!("/v1/events/{id}"), &[]).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&'static str, String)]) -> Result<T> {
        let url = self.url(path);
        tracing::debug!(provider = SCHEME, method = "GET", path, "request");
        let reply = self
            .send(|http| {
                let rb = http.get(&url);
                if query.is_empty() { rb } else { rb.query(query) }
            })
            .await
            .inspect_err(|e| tracing::debug!(provider = SCHEME, path, error = %e, "request failed"))?;
        // Stripe answered; an answer that does not decode changes nothing, so the error says so and
        // never "not sent".
        self.pipeline
            .decode(&reply)
            .map_err(|e| read_but_unusable(e, SCHEME, &format!("Stripe's GET {path}")))
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, form: &Form, key: &IdempotencyKey) -> Result<T> {
        let url = self.url(path);
        let body = form.encode();
        tracing::debug!(provider = SCHEME, method = "POST", path, key = key.as_str(), "request");
        let reply = self
            .send(|http| {
                http.post(&url)
                    .header(IDEMPOTENCY_KEY_HEADER, key.as_str())
                    .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body.clone())
            })
            .await
            .map_err(|e| post_failed(e, "Stripe", SCHEME, path, key))
            .inspect_err(|e| tracing::debug!(provider = SCHEME, path, error = %e, "request failed"))?;
        // Stripe acted; an answer that does not decode changes nothing, so the error says so and never
        // "not sent".
        self.pipeline
            .decode(&reply)
            .map_err(|e| post_unusable(e, "Stripe", SCHEME, path, &reply, key))
    }

    /// One call through the pipeline, as an idempotent operation (a read, or a POST whose every
    /// attempt carries the same key). An answer Stripe marked final (`Stripe-Should-Retry: false`)
    /// comes back from the pipeline unretried and is read here with the same
    /// [`parse_error`](crate::error::parse_error).
    async fn send<F>(&self, build: F) -> Result<Reply>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        let reply = self.pipeline.reply(Idempotence::Idempotent, build).await?;
        match parse_error(&reply) {
            Some(e) => Err(e),
            None => Ok(reply),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.endpoint)
    }
}

fn expand_pairs(expand: &[&str]) -> Vec<(&'static str, String)> {
    expand.iter().map(|e| ("expand[]", (*e).to_owned())).collect()
}

fn push_expand(f: &mut Form, expand: &[&str]) {
    for e in expand {
        f.push("expand[]", e);
    }
}

/// An `Error` for a Stripe object in a state the operation cannot take.
pub(crate) fn wrong_state(what: String) -> Error {
    Error::invalid_input(what).with_provider(SCHEME)
}

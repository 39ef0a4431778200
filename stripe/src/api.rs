//! What the request pipeline needs to know about Stripe: the secret key as a Bearer token and the
//! pinned `Stripe-Version` on every request, and [`error::parse_error`](crate::error::parse_error) for
//! what an answer means.

use std::fmt;

use switchboard_core::http::Reply;
use switchboard_core::pipeline::{Api, Authorized};
use switchboard_core::{Error, ExposeSecret, Result, SecretString};

use crate::SCHEME;
use crate::config::StripeConfig;
use crate::error::{parse_error, should_retry};

/// Stripe's side of the [`Pipeline`](switchboard_core::pipeline::Pipeline). `Debug` never shows the key.
#[derive(Clone)]
pub struct StripeApi {
    secret_key: SecretString,
    stripe_version: Option<String>,
}

impl fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeApi")
            .field("stripe_version", &self.stripe_version)
            .finish_non_exhaustive()
    }
}

impl StripeApi {
    /// The API side of a configuration.
    pub fn new(config: &StripeConfig) -> Self {
        StripeApi {
            secret_key: config.secret_key.clone(),
            stripe_version: config.stripe_version.clone(),
        }
    }
}

#[switchboard_core::async_trait]
impl Api for StripeApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        let mut request = request
            .bearer_auth(self.secret_key.expose_secret())
            .header(http::header::ACCEPT, "application/json");
        if let Some(v) = &self.stripe_version {
            request = request.header("Stripe-Version", v.as_str());
        }
        Ok(Authorized::new(request))
    }

    /// [`parse_error`], except for an answer Stripe marked `Stripe-Should-Retry: false`: that one is
    /// final, so the pipeline hands it back unretried and the client reads it with the same
    /// [`parse_error`] (a repeat would only replay what Stripe saved under the key).
    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        if should_retry(reply) == Some(false) {
            return None;
        }
        parse_error(reply)
    }
}

//! What core's request [`Pipeline`](switchboard_core::pipeline::Pipeline) needs from Dinstar: its
//! name, its HTTP Digest handshake (which drives each attempt's exchanges) and
//! how an answer is read as an error (`error::parse_error`). Retries, the body cap, tagging
//! and telemetry are the pipeline's, as for every provider.

use http::header::AUTHORIZATION;
use switchboard_core::http::{Reply, classify_reqwest_error};
use switchboard_core::pipeline::{Api, Authorized, Credential, Exchange};
use switchboard_core::{Error, Result};
use url::Url;

use crate::SCHEME;
use crate::digest::{self, DigestAuth};

/// Dinstar's side of the pipeline.
#[derive(Debug)]
pub struct DinstarApi {
    /// The Digest state shared by every request to the gateway.
    pub(crate) digest: DigestAuth,
    /// What fetches the Digest challenge before a POST: small, idempotent, changes nothing.
    probe: Url,
}

impl DinstarApi {
    pub(crate) fn new(digest: DigestAuth, probe: Url) -> Self {
        DinstarApi { digest, probe }
    }
}

#[switchboard_core::async_trait]
impl Api for DinstarApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    /// Not used on its own: the Digest answer depends on the challenge, so [`Api::exchange`] puts it on.
    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        Ok(Authorized::new(request))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        crate::error::parse_error(reply)
    }

    /// The Digest flow of one attempt: the cached challenge answered pre-emptively, or a challenge
    /// fetched first (by the request itself for a GET, by a small probe GET otherwise, so an SMS body is
    /// never sent without credentials), a stale nonce renewed from its 401, refused credentials or a
    /// ban (403) ending in a cool-down.
    async fn exchange(&self, exchange: &Exchange<'_>) -> Result<(Reply, Credential)> {
        // The request once, for what the Digest answer covers: method, path and query, body.
        let template = exchange.request().build().map_err(classify_reqwest_error)?;
        let url = template.url();
        let uri = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let body = template.body().and_then(|b| b.as_bytes());
        let reply = self
            .digest
            .send(template.method().as_str(), uri, body, |step| async move {
                let request = match step {
                    digest::Exchange::Probe => exchange.http().get(self.probe.clone()),
                    digest::Exchange::Plain => exchange.request(),
                    digest::Exchange::Answer(answer) => exchange.request().header(AUTHORIZATION, answer),
                };
                exchange.send(request).await
            })
            .await?;
        Ok((reply, Credential::default()))
    }
}

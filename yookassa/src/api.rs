//! What the request pipeline needs to know about YooKassa: HTTP Basic `shopId:secretKey` on every
//! request, and [`error::parse_error`](crate::error::parse_error) for what an answer means.

use std::fmt;

use switchboard_core::http::Reply;
use switchboard_core::pipeline::{Api, Authorized};
use switchboard_core::{Error, ExposeSecret, Result, SecretString};

use crate::SCHEME;
use crate::config::YooKassaConfig;

/// YooKassa's side of the [`Pipeline`](switchboard_core::pipeline::Pipeline). `Debug` never shows the
/// secret key.
#[derive(Clone)]
pub struct YooKassaApi {
    shop_id: String,
    secret_key: SecretString,
}

impl fmt::Debug for YooKassaApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YooKassaApi")
            .field("shop_id", &self.shop_id)
            .finish_non_exhaustive()
    }
}

impl YooKassaApi {
    /// The API side of a configuration.
    pub fn new(config: &YooKassaConfig) -> Self {
        YooKassaApi {
            shop_id: config.shop_id.clone(),
            secret_key: config.secret_key.clone(),
        }
    }
}

#[switchboard_core::async_trait]
impl Api for YooKassaApi {
    fn provider(&self) -> &'static str {
        SCHEME
    }

    async fn authorize(&self, request: reqwest::RequestBuilder) -> Result<Authorized> {
        Ok(Authorized::new(
            request
                .basic_auth(&self.shop_id, Some(self.secret_key.expose_secret()))
                .header(http::header::ACCEPT, "application/json"),
        ))
    }

    fn parse_error(&self, reply: &Reply) -> Option<Error> {
        crate::error::parse_error(reply)
    }
}
